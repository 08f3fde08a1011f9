"""Layouts and presenters without a database: gating, navigation, inert text, figures, IDs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

import layouts
from layouts import admin_users, components, department, figures, home, ids, problem, problem_map
from layouts.shell import ShellContext, shell_layout
from tests.webutil import find_ids, texts
from triage.backward_map import backward_map
from triage.security import Role

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
LAYOUT_DIRS = [Path(layouts.__file__).parent, Path(layouts.__file__).parent.parent / "callbacks"]


def test_web001_every_id_is_kebab_case_page_thing_kind() -> None:
    constants = {k: v for k, v in vars(ids).items() if k.isupper() and isinstance(v, str)}
    assert constants
    for name, value in constants.items():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+){2,}", value), (name, value)
    assert len(set(constants.values())) == len(constants), "duplicate IDs"


def test_web002_no_html_rendering_of_text_anywhere() -> None:
    for folder in LAYOUT_DIRS:
        for path in folder.glob("*.py"):
            source = path.read_text()
            for forbidden in ("dangerously_allow_html", "DangerouslySetInnerHTML", "srcDoc"):
                assert forbidden not in source, (path, forbidden)


def test_web003_nav_follows_capabilities() -> None:
    labels = {role: [item.label for item in layouts.nav_items(role)] for role in Role}
    city = ["Actors", "Reports"]
    assert labels[Role.MAYOR] == ["Priorities", "Problems", "Early warnings", *city]
    assert labels[Role.ANALYST] == ["Priorities", "Problems", "Early warnings", *city]
    assert labels[Role.DEPARTMENT_HEAD] == [
        "Priorities",
        "Problems",
        "Early warnings",
        "My department",
        *city,
    ]
    assert labels[Role.CHIEF_OF_STAFF][-1] == "Administration"
    assert labels[Role.ADMIN] == [
        "Priorities",
        "Problems",
        "Early warnings",
        "My department",
        *city,
        "Administration",
    ]
    assert layouts.nav_items(None) == []


def test_web004_gated_layout_denies_roles_without_the_capability() -> None:
    spec = next(s for s in layouts.PAGES if s.module == "admin")
    denied = layouts.gated_layout(spec, lambda: Role.DEPARTMENT_HEAD)()
    assert "You don't have access to this page" in texts(denied)
    allowed = layouts.gated_layout(spec, lambda: Role.ADMIN)()
    assert ids.ADMIN_USERS_TABLE_DIV in find_ids(allowed)
    chief = layouts.gated_layout(spec, lambda: Role.CHIEF_OF_STAFF)(tab="users")
    assert ids.ADMIN_USERS_TABLE_DIV not in find_ids(chief)  # the Users tab is admins' only
    validation = layouts.gated_layout(spec, lambda: None)()
    assert ids.ADMIN_USERS_TABLE_DIV in find_ids(validation)


def test_web005_validation_layout_holds_every_page_skeleton() -> None:
    found = find_ids(layouts.validation_layout(shell_layout(ShellContext("Riverton"))))
    for component_id in (
        ids.HOME_TABLE_DIV,
        ids.PROBLEM_BODY_DIV,
        ids.DEPARTMENT_SAVE_BUTTON,
        ids.ADMIN_USERS_TABLE_DIV,
        ids.SHELL_LOGOUT_FORM,
    ):
        assert component_id in found


def test_web006_shell_has_landmarks_skip_link_and_signout_form() -> None:
    shell = shell_layout(
        ShellContext(
            "Riverton", "Maya Mayor", "Mayor", "tok123", (("Problems", "/"), ("Users", "/x"))
        )
    )
    text = texts(shell)
    assert "Skip to main content" in text and "Riverton" in text and "Maya Mayor" in text
    rendered = str(shell)
    for tag in ("Header(", "Nav(", "Main("):
        assert tag in rendered
    assert "action='/logout'" in rendered and "method='POST'" in rendered
    assert "value='tok123'" in rendered


def test_web007_home_layout_takes_filters_from_query_string() -> None:
    skeleton = home.layout(area="transport", status=["focus", "x"])
    rendered = str(skeleton)
    assert "value='transport'" in rendered and "value='focus'" in rendered


def test_web008_problem_layout_rejects_malformed_ids() -> None:
    assert "Problem not found" in texts(problem.layout(problem_id="12abc"))
    assert "Problem not found" in texts(problem.layout(problem_id="none"))
    assert ids.PROBLEM_BODY_DIV in find_ids(problem.layout(problem_id="12"))
    assert problem.parse_problem_id("007") == 7
    assert problem.parse_problem_id("0") is None


def test_web009_presenters_keep_user_text_as_text() -> None:
    frame = pd.DataFrame(
        [
            {
                "id": 1,
                "title": XSS,
                "policy_area": XSS,
                "status": "focus",
                "lead_department": XSS,
                "indicator_count": 2,
                "off_target_count": 1,
                "reports_30d": 10,
            }
        ]
    )
    table = home.problems_table(frame, filtered=False)
    assert XSS in texts(table)  # present verbatim as a text child, which React escapes
    users = pd.DataFrame(
        [
            {
                "id": 2,
                "username": "u",
                "display_name": XSS,
                "role": "analyst",
                "department_code": None,
                "department_name": None,
                "active": True,
                "last_login_at": None,
            }
        ]
    )
    assert XSS in texts(admin_users.users_table(users, {"analyst": "Analyst"}, 1))


def test_web010_figure_escapes_plotly_markup() -> None:
    history = pd.DataFrame({"period": [dt.date(2025, 1, 1), dt.date(2025, 2, 1)], "value": [1, 2]})
    figure = figures.indicator_history_figure(
        history, name="<b>bold</b> <a href='x'>", unit="<br>%", target=1.5
    )
    assert "<b>" not in figure.layout.title.text and "&lt;b&gt;" in figure.layout.title.text
    assert "<br>" not in figure.layout.yaxis.title.text
    assert "<br>" not in figure.data[0].hovertemplate.replace("<extra></extra>", "")
    empty = figures.indicator_history_figure(
        pd.DataFrame(columns=["period", "value"]), name="x", unit="%"
    )
    assert empty.layout.annotations[0].text == "No observations yet"


def test_web011_backward_map_lists_factors_and_flags_missing_actors() -> None:
    factors = pd.DataFrame(
        [
            {"id": 1, "problem_id": 9, "title": "Root cause", "reach": "controls",
             "evidence": "strong", "weight": 0.8, "indicator_id": None},
            {"id": 2, "problem_id": 9, "title": "Deeper cause", "reach": "outside",
             "evidence": "weak", "weight": 0.4, "indicator_id": None},
        ]
    )  # fmt: skip
    links = pd.DataFrame({"factor_id": [2], "parent_id": [1]})
    engagements = pd.DataFrame(
        [
            {"id": 1, "actor_id": 5, "problem_id": 9, "factor_id": 1, "role": "delivering",
             "stance": "complementary", "committed_funding": 0.0},
        ]
    )  # fmt: skip
    actors = pd.DataFrame([{"id": 5, "name": "Block club", "sector": "community"}])
    bmap = backward_map(9, factors, links, engagements, actors, title="A problem")
    text = texts(problem_map.map_section(bmap, "The backward map has a loop."))
    assert "Block club" in text and "No actor" in text and "Outside the city's reach" in text
    assert "Deeper cause" in text and "The map needs fixing" in text


def test_web012_department_presenters() -> None:
    message = department.rejected_message(["A.", "B."])
    assert "A." in texts(message) and message.role == "alert"
    assert components.format_number(82.5, "%") == "82.5%"
    assert components.format_number(1234, "reports") == "1,234 reports"
    assert components.format_number(None) == "—"
    assert components.humanize("off_track") == "Off track"


@pytest.mark.parametrize("spec", layouts.PAGES, ids=lambda s: s.module)
def test_web013_every_page_layout_builds_without_arguments(spec: layouts.PageSpec) -> None:
    assert find_ids(spec.layout())
