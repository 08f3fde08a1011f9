"""Severity from impact, one truth on every view, plain words by role, and the data-health
figure: a 600-report surge nobody covers is Critical, a late monthly figure never is; the
alerts page, the brief and the attention list read the same stored severity, recomputed on
each detector run; the detector's internals only in the analysts' details."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import flask
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import alerts as alerts_cb
from callbacks import priorities as priorities_cb
from db.alerts.feed import PAGE_SIZE
from db.alerts.overdue import overdue_indicators
from db.alerts.store import open_alert_episodes, recalibrate_severities
from db.attention import open_episodes, week_attention
from db.brief import brief_data
from db.models import Alert, AuditLog, Indicator
from db.pages.data_health import data_health
from layouts import alerts as page
from layouts import ids
from layouts.data_health import data_health_section
from tests.clock import TODAY
from tests.webutil import WebEnv, find_ids, texts
from triage.attention import (
    AlertEpisode,
    calibrated_severities,
    episode_impact,
    impact_severity,
)
from triage.detection.surge_messages import analyst_details, plain_message, sureness
from triage.security import Role
from triage.weeks import iso_week

WEEK = iso_week(TODAY)
JARGON = ("false discovery", "FDR", "surge-", "p-value", "q-value", "Method")


def _snow(**overrides: object) -> AlertEpisode:
    values: dict[str, object] = {
        "alert_id": 1,
        "kind": "surge",
        "severity": "warning",
        "state": "new",
        "first_seen": dt.date(2026, 12, 1),
        "last_seen": dt.date(2026, 12, 5),
        "data_date": dt.date(2026, 12, 5),
        "subject": "Street not plowed",
        "observed": 615.0,
        "expected": 1.6,
        "window_days": 7,
        "category_id": 40,
        "method": "surge-7d",
    }
    values.update(overrides)
    return AlertEpisode(**values)  # type: ignore[arg-type]


def _threshold(**overrides: object) -> AlertEpisode:
    values: dict[str, object] = {
        "alert_id": 2,
        "kind": "threshold",
        "severity": "critical",
        "state": "new",
        "first_seen": dt.date(2026, 12, 2),
        "last_seen": dt.date(2026, 12, 2),
        "data_date": dt.date(2026, 11, 30),
        "subject": "Homicides",
        "observed": 9.0,
        "expected": 6.0,
        "indicator_id": 7,
        "method": "threshold-critical",
    }
    values.update(overrides)
    return AlertEpisode(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the rule


def test_sev001_big_uncovered_surge_is_critical_and_a_late_monthly_figure_is_not() -> None:
    assert impact_severity(_snow()) == "critical"
    assert impact_severity(_threshold()) == "critical"  # fresh, far past, nobody on it
    june = _threshold(data_date=dt.date(2026, 6, 30))  # the same value, about June
    assert impact_severity(june) == "warning"
    assert episode_impact(_snow()) > episode_impact(june)
    stale = _threshold(kind="stale", method="cadence", observed=400.0, expected=45.0)
    assert impact_severity(stale) == "warning"  # late data: never above Warning
    small = _snow(observed=9.0, expected=4.0, district="Millbrook")
    assert impact_severity(small) == "info"


def test_sev002_handled_persistence_and_breadth_weigh_in() -> None:
    fresh = _threshold()
    assert impact_severity(fresh) == "critical"
    linked = dataclasses.replace(fresh, state="linked", problem_ids=(3,))
    assert impact_severity(linked) == "warning"  # somebody already has it
    one = _snow(observed=120.0, expected=10.0, district="North", category_id=9)
    alone = calibrated_severities([one])[1]
    spread = calibrated_severities(
        [one, *(dataclasses.replace(one, alert_id=10 + n, district=f"D{n}") for n in range(3))]
    )
    assert (alone, spread[1]) == ("warning", "critical")


def test_sev003_the_rule_reads_the_detectors_level_not_the_stored_severity() -> None:
    """Recomputing from what was stored gives the same answer: no drift run after run."""
    for episode in (_snow(), _threshold(), _threshold(data_date=dt.date(2026, 6, 30))):
        first = impact_severity(episode)
        again = impact_severity(dataclasses.replace(episode, severity=first))
        assert again == first
        for label in ("info", "warning", "critical"):
            assert impact_severity(dataclasses.replace(episode, severity=label)) == first


# ---------------------------------------------------------------- plain words


OLD = (
    "Potholes reports citywide: 46 reports in the 7 days to 2026-03-05 (6.6 a day), against "
    "about 0 expected (usual range up to 0), far above usual; unlikely to be chance (false "
    "discovery rate 15%)."
)


def test_sev004_stored_messages_of_earlier_versions_read_plain() -> None:
    assert plain_message(OLD) == (
        "Potholes reports citywide: 46 reports in the 7 days to 2026-03-05 (6.6 a day), "
        "against almost none usually, far above usual."
    )
    older = OLD.replace(
        "about 0 expected (usual range up to 0)", "about 20 expected (usual range up to 29)"
    )
    assert "against about 20 usually (up to 29 would be ordinary)" in plain_message(older)
    assert plain_message("Homicides is 9 for 2026-06-01.") == "Homicides is 9 for 2026-06-01."
    alert = {"kind": "surge", "method": "surge-7d", "observed": 46.0, "expected": 2.0}
    assert sureness(alert) == "Very sure: far more than chance alone would bring."
    details = dict(analyst_details(alert, 0.15))
    assert details["Method"] == "surge-7d"
    assert details["False discovery rate"] == "15% across the series tested each day"


# ---------------------------------------------------------------- the stored city


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("severity"))
    with web.app.server.test_request_context():
        priorities_cb.week_choice({"week": None}, principal=web.principal("mayor"))
    yield web
    web.dispose()


@pytest.fixture
def env(city: WebEnv) -> Iterator[WebEnv]:
    with city.app.server.test_request_context():
        flask.g.triage_principal = city.principal("mayor")
        yield city


def _stored(env: WebEnv) -> dict[int, str]:
    with env.database.session() as session:
        rows = session.execute(
            select(Alert.id, Alert.severity).where(Alert.state.in_(("new", "acknowledged")))
        ).all()
    return {int(i): str(s) for i, s in rows}


def test_sev005_one_severity_on_the_alerts_page_the_brief_and_the_attention_list(
    env: WebEnv,
) -> None:
    with env.database.session() as session:
        episodes = open_episodes(session)  # as the attention list reads them
        rule = calibrated_severities(episodes)
        stored = {e.alert_id: e.severity for e in episodes}
        brief = brief_data(
            session, WEEK, today=TODAY, city_name="Riverton", generated_at=dt.datetime(2026, 11, 18)
        )
        attention = week_attention(session, WEEK, today=TODAY)
        messages = dict(session.execute(select(Alert.message, Alert.severity)).all())
    assert episodes and stored == rule  # the stored severity is the impact rule's
    assert set(stored.values()) <= {"info", "warning", "critical"}
    # The alerts page lists the stored severity, filter by filter.
    for severity in ("critical", "warning", "info"):
        body = alerts_cb.alerts_feed(
            severity,
            None,
            None,
            None,
            None,
            "open",
            None,
            None,
            0,
            0,
            principal=env.principal("mayor"),
        )
        listed = body[2]
        assert all(stored[i] == severity for i in listed)
        assert len(listed) == min(sum(1 for s in stored.values() if s == severity), PAGE_SIZE)
    # The brief prints the same severity for the same alert.
    for alert in (*brief.new_alerts, *brief.escalated_alerts):
        assert alert.severity in {"info", "warning", "critical"}
        assert plain_message(messages_by_plain(messages, alert.message)) == alert.message
    # Late data is never on the mayor's list, whatever its severity.
    late = {e.alert_id for e in episodes if e.kind == "stale"}
    assert not late & {i.alert_id for i in attention.items}
    assert all(stored[i] == "warning" for i in late)


def messages_by_plain(messages: dict[str, str], text: str) -> str:
    """The stored message the brief's plain text came from."""
    return next(m for m in messages if plain_message(m) == text)


def test_sev006_recomputed_on_every_run_and_when_an_alert_is_handled(env: WebEnv) -> None:
    with env.database.session(write=True) as session:
        first = next(e for e in open_alert_episodes(session) if e.kind != "stale")
        session.execute(
            Alert.__table__.update().where(Alert.id == first.alert_id).values(severity="info")
        )
        wanted = calibrated_severities(open_alert_episodes(session))[first.alert_id]
        assert recalibrate_severities(session) >= (wanted != "info")
        audits = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "recalibrate")
        )
        assert audits >= 1
    assert _stored(env)[first.alert_id] == wanted


# ---------------------------------------------------------------- by role


def test_sev007_mayor_and_chief_read_plain_words_analysts_get_the_details(env: WebEnv) -> None:
    with env.database.session() as session:
        surge = session.scalar(
            select(Alert.id).where(Alert.kind == "surge", Alert.state == "new").limit(1)
        )
    for username, role in (
        ("mayor", Role.MAYOR),
        ("chief", Role.CHIEF_OF_STAFF),
        ("analyst", Role.ANALYST),
    ):
        principal = env.principal(username)
        assert principal.role == role
        detail, current = alerts_cb.alerts_detail(surge, [surge], 0, 0, principal=principal)
        words = texts(detail.parts)
        assert current == surge and "How sure" in words and "Seen" in words
        feed = texts(
            alerts_cb.alerts_feed(
                None, None, None, None, None, "open", surge, None, 0, 0, principal=principal
            )[1]
        )
        for jargon in JARGON:
            assert jargon not in feed, (username, jargon)
        if role == Role.ANALYST:
            assert "Details for analysts" in words and "Method surge-" in words
            assert "False discovery rate" in words
        else:
            assert "Details for analysts" not in words
            for jargon in JARGON:
                assert jargon not in words, (username, jargon)


# ---------------------------------------------------------------- data health


def test_sev008_data_health_counts_late_indicators_by_department_for_the_chief(
    env: WebEnv,
) -> None:
    with env.database.session() as session:
        health = data_health(session, TODAY)
        overdue = overdue_indicators(session, TODAY)
        indicators = session.scalar(
            select(func.count()).select_from(Indicator).where(Indicator.archived_at.is_(None))
        )
        attention = week_attention(session, WEEK, today=TODAY)
    assert health.late_total == len(overdue) and health.indicators == indicators
    by_department = overdue.groupby("department_code").size().to_dict()
    assert {d.code: d.late for d in health.late} == by_department
    assert health.reports > 0 and 0 <= health.unlocated + health.outside <= health.reports
    # The same count the attention list puts one click away for the departments.
    groups = {g.key: g.count for g in attention.groups}
    assert groups.get("late_data", 0) == health.late_total
    assert all(i.kind != "stale" for i in attention.items)

    chief = alerts_cb.alerts_data_health(1, principal=env.principal("chief"))
    words = texts(chief)
    assert "Data health" in words and f"{health.late_total:,} of {indicators:,}" in words
    assert f"{health.late[0].name} {health.late[0].late}" in words
    assert f"/alerts?department={health.late[0].code}&state=open" in _hrefs(chief)
    with pytest.raises(PreventUpdate):
        alerts_cb.alerts_data_health(1, principal=env.principal("mayor"))
    assert ids.ALERTS_HEALTH_DIV in find_ids(page.layout(viewer_role=Role.CHIEF_OF_STAFF))
    assert ids.ALERTS_HEALTH_DIV not in find_ids(page.layout(viewer_role=Role.MAYOR))
    empty = type(health)(late=(), indicators=4, reports=0, unlocated=0, outside=0)
    assert "Every one of the 4 indicators is current." in texts(data_health_section(empty))
    placed = type(health)(late=(), indicators=4, reports=200, unlocated=6, outside=4)
    assert (
        "Of 200 reports in the last 90 days, 10 (5%) could not be placed in a district: "
        "6 without a usable address, 4 outside the city."
    ) in texts(data_health_section(placed))


def _hrefs(component: object) -> list[str]:
    found: list[str] = []
    href = getattr(component, "href", None)
    if isinstance(href, str):
        found.append(href)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found += _hrefs(child)
    return found
