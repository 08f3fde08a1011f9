"""Early-warnings writes and queries on SQLite and PostgreSQL: actions on an alert, a new
problem opened from one, the feed's filters, and the evidence series on the demo city."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from db.alerts.actions import act_on_alert, open_problem_from_alert
from db.alerts.evidence import alert_evidence, surge_band, window_days
from db.alerts.feed import AlertFilters, alert_feed, alert_row
from db.alerts.store import active_alerts
from db.models import (
    Alert,
    AuditLog,
    CategoryProblem,
    Department,
    District,
    Problem,
    ProblemIndicator,
    ReportCategory,
)
from db.session import Database
from tests.clock import TODAY
from tests.db.factories import World, make_world
from tests.webutil import fresh_database
from triage.jobs.alerts import refresh_alerts
from triage.security import PermissionDenied, Principal, Role
from triage.validation import ValidationError

DAY = dt.date(2026, 11, 16)
ANALYST = Principal(None, "analyst", Role.ANALYST)
ADMIN = Principal(None, "admin", Role.ADMIN)
MAYOR = Principal(None, "mayor", Role.MAYOR)


def _alert(**values: object) -> Alert:
    defaults: dict[str, object] = {
        "kind": "threshold",
        "method": "threshold-warning",
        "severity": "warning",
        "series_key": "indicator:x",
        "first_detected": DAY,
        "last_detected": DAY,
        "message": "Something moved",
        "state": "new",
    }
    defaults.update(values)
    defaults.setdefault("dedupe_key", f"{defaults['kind']}|{defaults['series_key']}|{DAY}")
    return Alert(**defaults)


def _setup(database: Database) -> tuple[World, dict[str, int]]:
    """Parks and Works, two districts, two categories (one without a department, mapped to a
    problem led by Works), and five alerts across them."""
    with database.session(write=True) as session:
        world = make_world(session)
        north = District(code="N", name="North", population=1000)
        south = District(code="S", name="South", population=1000)
        litter = ReportCategory(code="litter", name="Litter", department_id=world.parks_id)
        noise = ReportCategory(code="noise", name="Noise")
        session.add_all([north, south, litter, noise])
        session.flush()
        works_problem = Problem(
            title="Night noise", policy_area="public_works", lead_department_id=world.works_id
        )
        session.add(works_problem)
        session.flush()
        session.add(CategoryProblem(category_id=noise.id, problem_id=works_problem.id))
        alerts = {
            "parks_indicator": _alert(
                indicator_id=world.parks_indicator_id,
                series_key=f"indicator:{world.parks_indicator_id}",
                severity="critical",
            ),
            "works_indicator": _alert(
                indicator_id=world.works_indicator_id,
                series_key=f"indicator:{world.works_indicator_id}",
                kind="trend",
            ),
            "litter_north": _alert(
                kind="surge",
                method="surge-7d",
                category_id=litter.id,
                district_id=north.id,
                series_key=f"reports:{litter.id}:{north.id}",
            ),
            "noise_city": _alert(
                kind="surge",
                method="surge-28d",
                category_id=noise.id,
                series_key=f"reports:{noise.id}:all",
                message="Noise <script>alert(1)</script> reports doubled",
            ),
            "dismissed": _alert(
                kind="stale",
                method="cadence",
                indicator_id=world.parks_indicator_id,
                series_key=f"indicator:{world.parks_indicator_id}:old",
                state="dismissed",
                state_reason="Known gap",
            ),
        }
        session.add_all(alerts.values())
        session.flush()
        keys = {name: alert.id for name, alert in alerts.items()}
        keys.update(
            north=north.id,
            litter=litter.id,
            noise=noise.id,
            works_problem=works_problem.id,
        )
    return world, keys


def _audits(database: Database, entity: str, entity_id: object) -> list[AuditLog]:
    with database.session() as session:
        rows = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.id)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_dbal001_actions_change_state_and_audit(database: Database) -> None:
    world, keys = _setup(database)
    alert_id = keys["litter_north"]
    with database.session(write=True) as session:
        assert act_on_alert(session, ANALYST, alert_id, "acknowledge") == ("acknowledged")
    with database.session(write=True) as session:
        assert (
            act_on_alert(session, MAYOR, str(alert_id), "link", problem_id=str(world.problem_id))
            == "linked"
        )
    with database.session() as session:
        stored = session.get(Alert, alert_id)
        assert (stored.state, stored.problem_id) == ("linked", world.problem_id)
    with database.session(write=True) as session:
        act_on_alert(session, ANALYST, alert_id, "dismiss", reason="  Duplicate\x00 ")
    with database.session(write=True) as session:
        act_on_alert(session, ANALYST, alert_id, "reopen")
    with database.session() as session:
        stored = session.get(Alert, alert_id)
        assert (stored.state, stored.state_reason) == ("new", "")
    actions = [(a.action, a.username) for a in _audits(database, "alert", alert_id)]
    assert actions == [
        ("acknowledged", "analyst"),
        ("linked", "mayor"),
        ("dismissed", "analyst"),
        ("new", "analyst"),
    ]
    dismissed = _audits(database, "alert", alert_id)[2]
    assert dismissed.after == {"state": "dismissed", "state_reason": "Duplicate"}


@pytest.mark.parametrize(
    ("actor", "action", "values", "error"),
    [
        (ANALYST, "dismiss", {"reason": "   "}, ValidationError),
        (ANALYST, "link", {"problem_id": None}, ValidationError),
        (ANALYST, "link", {"problem_id": "999999"}, ValidationError),
        (ANALYST, "explode", {}, ValidationError),
        (ANALYST, "dismiss", {"reason": "x" * 2001}, ValidationError),
        (ADMIN, "acknowledge", {}, PermissionDenied),
        (
            Principal(None, "head", Role.DEPARTMENT_HEAD, 1),
            "dismiss",
            {"reason": "no"},
            PermissionDenied,
        ),
    ],
)
def test_dbal002_refused_actions_change_nothing(
    database: Database, actor: Principal, action: str, values: dict, error: type
) -> None:
    _, keys = _setup(database)
    alert_id = keys["parks_indicator"]
    with pytest.raises(error), database.session(write=True) as session:
        act_on_alert(session, actor, alert_id, action, **values)
    with database.session() as session:
        stored = session.get(Alert, alert_id)
        assert (stored.state, stored.state_reason, stored.problem_id) == ("new", "", None)
    assert _audits(database, "alert", alert_id) == []


def test_dbal003_bad_alert_ids_are_refused(database: Database) -> None:
    _setup(database)
    for raw in (None, "", "abc", "-3", True, "0", "1" * 13):
        with pytest.raises(ValidationError), database.session(write=True) as session:
            act_on_alert(session, ANALYST, raw, "acknowledge")
    with pytest.raises(ValidationError, match="no alert"), database.session(write=True) as s:
        act_on_alert(s, ANALYST, 987654, "acknowledge")


def test_dbal004_open_problem_from_alert_creates_and_links_in_one_go(database: Database) -> None:
    world, keys = _setup(database)
    with database.session(write=True) as session:
        problem_id = open_problem_from_alert(
            session,
            world.chief,
            keys["litter_north"],
            title="  Litter in the North  ",
            policy_area="parks",
        )
    with database.session() as session:
        problem = session.get(Problem, problem_id)
        assert problem.title == "Litter in the North"
        assert problem.status == "emerging"
        assert problem.policy_area == "parks"
        assert problem.description == "Something moved"
        assert problem.lead_department_id == world.parks_id  # the category's department
        assert [d.id for d in problem.districts] == [keys["north"]]
        alert = session.get(Alert, keys["litter_north"])
        assert (alert.state, alert.problem_id) == ("linked", problem_id)
    created = _audits(database, "problem", problem_id)
    assert [a.action for a in created] == ["create"]
    assert created[0].after["from_alert"] == keys["litter_north"]
    assert created[0].username == "chief"
    assert [a.action for a in _audits(database, "alert", keys["litter_north"])] == ["linked"]

    with database.session(write=True) as session:
        second = open_problem_from_alert(
            session, world.chief, keys["works_indicator"], title="Slow potholes", policy_area="x"
        )
    with database.session() as session:
        assert session.get(Problem, second).lead_department_id == world.works_id
        measured = session.scalars(
            select(ProblemIndicator.indicator_id).where(ProblemIndicator.problem_id == second)
        ).all()
        assert measured == [world.works_indicator_id]


@pytest.mark.parametrize(
    ("who", "alert", "values", "error"),
    [
        ("analyst", "litter_north", {"title": "T", "policy_area": "p"}, PermissionDenied),
        ("admin", "litter_north", {"title": "T", "policy_area": "p"}, PermissionDenied),
        ("chief", "litter_north", {"title": "   ", "policy_area": "p"}, ValidationError),
        ("chief", "litter_north", {"title": "T", "policy_area": ""}, ValidationError),
        ("chief", "litter_north", {"title": "T" * 201, "policy_area": "p"}, ValidationError),
        ("chief", "dismissed", {"title": "T", "policy_area": "p"}, ValidationError),
    ],
)
def test_dbal005_refused_new_problem_leaves_no_trace(
    database: Database, who: str, alert: str, values: dict, error: type
) -> None:
    world, keys = _setup(database)
    actor = {"analyst": ANALYST, "admin": ADMIN, "chief": world.chief}[who]
    with database.session() as session:
        before = session.scalar(select(func.count()).select_from(Problem))
        state = session.get(Alert, keys[alert]).state
    with pytest.raises(error), database.session(write=True) as session:
        open_problem_from_alert(session, actor, keys[alert], **values)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Problem)) == before
        assert session.get(Alert, keys[alert]).state == state
        assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


def _feed_ids(database: Database, **filters: object) -> list[int]:
    with database.session() as session:
        feed, total = alert_feed(session, AlertFilters(**filters))
    assert total == len(feed)
    return [int(i) for i in feed["id"]]


def test_dbal006_feed_filters_and_department_rule(database: Database) -> None:
    world, k = _setup(database)
    open_ids = _feed_ids(database)
    # Critical first, then by last detection and id (newest first).
    assert open_ids[0] == k["parks_indicator"]
    assert set(open_ids) == {
        k["parks_indicator"],
        k["works_indicator"],
        k["litter_north"],
        k["noise_city"],
    }
    assert set(_feed_ids(database, department_id=world.parks_id)) == {
        k["parks_indicator"],
        k["litter_north"],
    }
    # Noise has no department: it belongs to the lead department of the problem it maps to.
    assert set(_feed_ids(database, department_id=world.works_id)) == {
        k["works_indicator"],
        k["noise_city"],
    }
    assert _feed_ids(database, district_id=k["north"]) == [k["litter_north"]]
    assert _feed_ids(database, category_id=k["noise"]) == [k["noise_city"]]
    assert _feed_ids(database, severity="critical") == [k["parks_indicator"]]
    assert _feed_ids(database, states=("dismissed",)) == [k["dismissed"]]
    assert len(_feed_ids(database, states=None)) == 5
    assert _feed_ids(database, problem_id=k["works_problem"]) == [k["noise_city"]]
    with database.session() as session:
        feed, _ = alert_feed(session, AlertFilters(category_id=k["noise"]))
        row = feed.iloc[0]
        assert row["departments"] == ["Public Works"]
        assert row["message"] == "Noise <script>alert(1)</script> reports doubled"
        assert pd.isna(row["district"]) and row["category"] == "Noise"
        parks = session.get(Department, world.parks_id)
        assert alert_row(session, k["dismissed"])["departments"] == [parks.name]
        assert alert_row(session, 10**9) is None


def test_dbal007_filters_reject_unknown_values() -> None:
    with pytest.raises(ValueError):
        AlertFilters(severity="catastrophic")
    with pytest.raises(ValueError):
        AlertFilters(states=("open",))


@pytest.fixture
def city(tmp_path: Path) -> Iterator[Database]:
    database = fresh_database(tmp_path)
    refresh_alerts(database, TODAY)
    yield database
    database.dispose()


def test_dbal008_surge_evidence_reproduces_the_detector(city: Database) -> None:
    today = TODAY
    with city.session() as session:
        alerts = active_alerts(session)
    windows = alerts["method"].map(window_days)
    surges = alerts[(alerts["kind"] == "surge") & windows.notna() & (windows % 7 == 0)]
    assert len(surges) >= 1  # how many depends on the date the demo city is seeded for
    long_bands = 0
    for row in surges.itertuples(index=False):
        with city.session() as session:
            evidence = alert_evidence(session, int(row.id), today)
        assert evidence is not None and evidence.band == "recomputed"
        window = window_days(row.method)
        assert evidence.measure == f"reports in the {window} days to each day"
        series = evidence.series.set_index("date")
        last = pd.Timestamp(row.last_detected)
        assert evidence.start == row.first_detected - dt.timedelta(days=84)
        # The recomputed expectation and the window total are what the detector stored.
        assert series.at[last, "observed"] == pytest.approx(row.observed)
        assert series.at[last, "expected"] == pytest.approx(row.expected, rel=1e-9)
        assert series.at[last, "lower"] <= row.expected <= series.at[last, "upper"]
        alerted = series.index[series["alerted"]]
        assert alerted.min() == pd.Timestamp(row.first_detected) and alerted.max() == last
        # Every alerted day has its band (a sparse series is not tested on every day).
        assert series.loc[series["alerted"], "expected"].notna().all()
        long_bands += int(series["expected"].notna().sum() > 28)
    # A category that began reporting a few days ago has a short band; older ones a long one.
    assert long_bands >= 1


def test_dbal009_indicator_evidence_marks_the_value_that_alerted(city: Database) -> None:
    today = TODAY
    with city.session() as session:
        alerts = active_alerts(session)
        for kind in ("threshold", "trend"):
            row = alerts[alerts["kind"] == kind].iloc[0]
            evidence = alert_evidence(session, int(row["id"]), today)
            assert evidence is not None
            flagged = evidence.series[evidence.series["alerted"]]
            assert len(flagged) == 1
            assert flagged["observed"].item() == pytest.approx(row["observed"])
            labels = [label for label, _ in evidence.lines]
            assert labels, "the indicator's thresholds are reference lines"
            if kind == "trend":
                assert flagged["expected"].item() == pytest.approx(row["expected"])
        assert alert_evidence(session, 10**9, today) is None


def test_dbal010_problem_deep_link_matches_the_priorities_count(city: Database) -> None:
    """``/alerts?problem=<id>`` lists exactly the alerts the weekly priorities count for it."""
    from db.alerts.episodes import active_alert_counts

    with city.session() as session:
        counts = active_alert_counts(session)
        assert len(counts) > 0
        for problem_id, count in counts.items():
            feed, total = alert_feed(session, AlertFilters(problem_id=int(problem_id)))
            assert total == len(feed) == int(count), problem_id


def test_dbal011_surge_band_only_for_whole_week_windows() -> None:
    days = pd.date_range("2025-01-01", "2026-06-30", freq="D")
    daily = pd.DataFrame({"date": days, "value": [5.0 + (i % 7 == 0) for i in range(len(days))]})
    start, end = dt.date(2026, 5, 1), dt.date(2026, 6, 30)
    assert surge_band(daily, 3, start, end).empty
    assert surge_band(daily, 5, start, end).empty
    band = surge_band(daily, 7, start, end)
    assert band["date"].min() >= pd.Timestamp(start) and band["date"].max() == pd.Timestamp(end)
    assert len(band) == (end - start).days + 1
    assert ((band["lower"] <= band["expected"]) & (band["expected"] <= band["upper"])).all()
    assert band["expected"].between(30, 45).all()  # about 36 reports a week


def test_dbal012_an_empty_feed_says_why(database: Database) -> None:
    """New York after the README's first steps had no alert at all, and the page said "No
    alerts match these filters", a wrong reason: it now tells a city whose checks never ran,
    one where they found nothing, one whose alerts are all closed, and a narrowed filter."""
    from db.alerts.feed import empty_feed_reason
    from db.jobs import finish_run, start_run

    with database.session(write=True) as session:
        world = make_world(session)
    with database.session() as session:
        assert empty_feed_reason(session, AlertFilters()) == "never_checked"
        assert empty_feed_reason(session, AlertFilters(severity="critical")) == "filters"
    with database.session(write=True) as session:
        run = start_run(session, "detect-alerts")
        finish_run(session, run, "success", rows=0)
    with database.session() as session:
        assert empty_feed_reason(session, AlertFilters()) == "nothing_found"
    with database.session(write=True) as session:
        session.add(
            _alert(
                indicator_id=world.parks_indicator_id,
                series_key=f"indicator:{world.parks_indicator_id}",
                state="dismissed",
                state_reason="Known gap",
            )
        )
    with database.session() as session:
        assert empty_feed_reason(session, AlertFilters()) == "none_open"
        assert empty_feed_reason(session, AlertFilters(states=("resolved",))) == "filters"
        assert empty_feed_reason(session, AlertFilters(problem_id=999)) == "filters"
