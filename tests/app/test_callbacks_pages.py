"""Page callbacks called directly (no browser, no HTTP) on a copy of the demo city."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dash
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from callbacks import admin_users, department, home, policy, problem
from db.frames import count_rows
from db.models import PROBLEM_STATUSES, Observation, Problem, User
from tests.clock import TODAY
from tests.webutil import WebEnv, find_ids, texts
from triage.security import PermissionDenied


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


def _first_problem(env: WebEnv) -> tuple[int, str, str]:
    with env.database.session() as session:
        row = session.execute(
            select(Problem.id, Problem.title, Problem.status).order_by(Problem.id)
        ).first()
        assert row is not None
        return row[0], row[1], row[2]


def test_cbhome001_overview_has_kpis_and_every_filter_choice(env: WebEnv) -> None:
    cards, areas, statuses = home.home_overview(None, principal=env.principal("mayor"))
    text = texts(cards)
    assert "Problems" in text and "Indicators overdue" in text and "Reports, last 7 days" in text
    assert areas[0] == {"label": "All policy areas", "value": "all"}
    assert len(areas) > 2
    assert [o["value"] for o in statuses] == ["all", *PROBLEM_STATUSES]


def test_cbhome002_table_links_every_problem(env: WebEnv) -> None:
    table = home.problems_table("all", "all", principal=env.principal("analyst"))
    with env.database.session() as session:
        total = count_rows(session, Problem)
    assert f"{total} problem" in texts(table)
    assert str(table).count("/problems/") == total


def test_cbhome003_filters_apply_and_unknown_values_are_ignored(env: WebEnv) -> None:
    _problem_id, title, status = _first_problem(env)
    filtered = home.problems_table("all", status, principal=env.principal("mayor"))
    assert title in texts(filtered)
    with env.database.session() as session:
        other = session.scalar(
            select(Problem.title).where(Problem.status != status).order_by(Problem.id)
        )
    if other is not None:
        assert other not in texts(filtered)
    everything = home.problems_table("<script>", "drop table", principal=env.principal("mayor"))
    assert texts(everything) == texts(home.problems_table("", "", principal=env.principal("mayor")))


def test_cbprob001_problem_page_shows_its_sections(env: WebEnv) -> None:
    problem_id, title, _ = _first_problem(env)
    chief = env.principal("chief")
    header, sections_hidden, version, *_editors = problem.problem_header(
        problem_id, 0, 0, 0, 0, principal=chief
    )
    assert title in texts(header) and sections_hidden is False and isinstance(version, int)
    for tab, heading in (
        ("indicators", "Indicators"),
        ("map", "Causal factors"),
        ("actors", "Actors"),
        ("innovations", "Innovations"),
        ("history", "Decisions"),
    ):
        panels = problem.section_panels(tab, problem_id, principal=chief)
        filled = [p for p in panels if p is not dash.no_update]
        assert len(filled) == 1 and heading in texts(filled[0]), tab
    indicators = problem.section_panels("indicators", problem_id, principal=chief)
    graph_ids = [i for i in find_ids(indicators) if isinstance(i, dict)]
    assert graph_ids, "each indicator has a chart"


@pytest.mark.parametrize("bad_id", [999_999, "abc", None, "-1", "1.5"])
def test_cbprob002_unknown_problem_is_not_found(env: WebEnv, bad_id: object) -> None:
    header, sections_hidden, *_rest = problem.problem_header(
        bad_id, 0, 0, 0, 0, principal=env.principal("mayor")
    )
    assert "Problem not found" in texts(header) and sections_hidden is True


def _history(env: WebEnv, indicator_id: int) -> list[float]:
    from db.indicators import recent_values

    with env.database.session() as session:
        return recent_values(session, indicator_id)


def test_cbdept001_head_sees_only_her_department(env: WebEnv) -> None:
    head = env.principal(env.head_username())
    options, value, disabled, latest = department.department_choices(None, principal=head)
    assert disabled is True
    assert latest == TODAY.isoformat()  # the city's today, pinned for the tests
    assert [o["value"] for o in options] == [str(head.department_id)]
    assert value == str(head.department_id)
    other = next(d for d in env.department_ids() if d != head.department_id)
    _table, indicator_options, _recent = department.department_view(str(other), 0, principal=head)
    own_ids = {str(i) for i in env.indicator_ids(department_id=head.department_id, own=True)}
    assert {o["value"] for o in indicator_options} == own_ids


def test_cbdept002_chief_chooses_any_department(env: WebEnv) -> None:
    chief = env.principal("chief")
    options, value, disabled, *_period = department.department_choices(None, principal=chief)
    assert disabled is False
    assert len(options) == len(env.department_ids())
    assert value == options[0]["value"]


def test_cbdept003_every_rejection_is_explained(env: WebEnv) -> None:
    head = env.principal(env.head_username())
    feedback, saved, *_ = department.record_value(
        1, None, "", "lots", "maybe", "", 0, principal=head
    )
    text = texts(feedback)
    assert "not saved" in text
    assert "Choose the indicator" in text
    assert "period is required" in text
    assert "'lots' is not a number" in text
    assert "Status must be" in text
    assert saved is not None and not isinstance(saved, int)  # no_update


def test_cbdept004_future_period_is_refused_by_the_write(env: WebEnv) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    own = env.indicator_ids(department_id=head.department_id, own=True)[0]
    future = (TODAY + dt.timedelta(days=30)).isoformat()
    feedback, *_ = department.record_value(1, str(own), future, "3", "", "", 0, principal=head)
    assert "in the future" in texts(feedback)


def test_cbdept005_saving_records_and_refreshes(env: WebEnv) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    own = env.indicator_ids(department_id=head.department_id, own=True)[0]
    with env.database.session() as session:
        before = count_rows(session, Observation)
    period = TODAY.isoformat()
    history = _history(env, own)
    typical = f"{history[-1]:.1f}"  # the latest value: plausible against the history
    feedback, saved, value, note, pending = department.record_value(
        1, str(own), period, typical, "on_track", "<b>fine</b>", 3, principal=head
    )
    assert "Saved" in texts(feedback)
    assert (saved, value, note, pending) == (4, "", "", None)
    with env.database.session() as session:
        assert count_rows(session, Observation) == before + 1
    _table, _options, recent = department.department_view(None, saved, principal=head)
    assert typical in texts(recent)


def test_cbdept006_head_writing_elsewhere_raises_permission_denied(env: WebEnv) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    with pytest.raises(PermissionDenied):
        department.record_value(1, str(foreign), "2024-01-01", "3", "", "", 0, principal=head)


def test_cbdept007_no_click_no_update(env: WebEnv) -> None:
    with pytest.raises(PreventUpdate):
        department.record_value(0, "1", "", "", "", "", 0, principal=env.principal("chief"))


def test_cbadmin001_table_lists_users_with_buttons(env: WebEnv) -> None:
    admin = env.principal("admin")
    table = admin_users.users_table(0, principal=admin)
    with env.database.session() as session:
        total = count_rows(session, User)
    buttons = [i for i in find_ids(table) if isinstance(i, dict)]
    assert len(buttons) == total - 1  # nobody gets a button for their own account
    assert all(b["type"] == "admin-users-toggle-button" for b in buttons)


def test_cbadmin002_disable_and_enable(env: WebEnv) -> None:
    admin = env.principal("admin")
    analyst = env.principal("analyst")
    button = {"type": "admin-users-toggle-button", "index": analyst.user_id, "action": "disable"}
    message, changed = admin_users.toggle_user(
        [1], 5, principal=admin, triggered_id=button, triggered_value=1
    )
    assert "now disabled" in texts(message)
    assert changed == 6
    with env.database.session() as session:
        assert session.get(User, analyst.user_id).active is False
    button["action"] = "enable"
    message, _ = admin_users.toggle_user(
        [1], 6, principal=admin, triggered_id=button, triggered_value=1
    )
    assert "now enabled" in texts(message)


def test_cbadmin003_cannot_disable_yourself_and_ignores_non_clicks(env: WebEnv) -> None:
    admin = env.principal("admin")
    self_button = {"type": "admin-users-toggle-button", "index": admin.user_id, "action": "disable"}
    message, _ = admin_users.toggle_user(
        [1], 0, principal=admin, triggered_id=self_button, triggered_value=1
    )
    assert "cannot disable your own account" in texts(message)
    with pytest.raises(PreventUpdate):
        admin_users.toggle_user(
            [0], 0, principal=admin, triggered_id=self_button, triggered_value=0
        )


def test_cbpolicy001_wrapped_callbacks_check_the_role(env: WebEnv) -> None:
    wrapped = policy.secured(policy.Capability.MANAGE_USERS, admin_users.users_table)
    with pytest.raises(PermissionDenied):
        wrapped(0)  # nobody signed in
    import flask

    flask.g.triage_principal = env.principal("mayor")
    with pytest.raises(PermissionDenied):
        wrapped(0)
    flask.g.triage_principal = env.principal("admin")
    assert "Users of Triage" in str(wrapped(0))
