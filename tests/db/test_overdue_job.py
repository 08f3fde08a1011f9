"""The daily ``flag-overdue`` job on a real database (SQLite and PostgreSQL): overdue indicators
get one stale alert each, a second run the same day changes nothing, updated ones are resolved,
and the run is recorded with a summary per department."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select

from db.alerts.overdue import flag_overdue, overdue_indicators
from db.ingest import record_source_failure
from db.models import Alert, AuditLog, Indicator, JobRun, Observation
from db.session import Database
from tests.db.factories import World, make_world
from triage import jobs
from triage.jobs.alerts import refresh_alerts
from triage.jobs.scheduler import job_specs
from triage.settings import Settings

TODAY = dt.date(2026, 6, 15)


def _observe(database: Database, indicator_id: int, period: dt.date, value: float = 50) -> None:
    entered = dt.datetime.combine(period + dt.timedelta(days=1), dt.time(9))
    with database.session(write=True) as s:
        s.add(
            Observation(indicator_id=indicator_id, period=period, value=value, entered_at=entered)
        )


def _world(database: Database) -> tuple[World, int]:
    """Parks: PRK-01 monthly, reported 40 days ago (current: 62 days allowed) and PRK-02
    weekly, never reported (overdue). Works: PW-01 weekly, reported 20 days ago (overdue)."""
    with database.session(write=True) as s:
        world = make_world(s)
        never = Indicator(
            code="PRK-02",
            name="Park benches repaired",
            unit="count",
            direction="up",
            cadence="weekly",
            department_id=world.parks_id,
        )
        s.add(never)
        s.flush()
        never_id = never.id
    _observe(database, world.parks_indicator_id, TODAY - dt.timedelta(days=40))
    _observe(database, world.works_indicator_id, TODAY - dt.timedelta(days=20))
    return world, never_id


def _stale(database: Database) -> list[tuple[int | None, str, str, dt.date, dt.date]]:
    """(indicator_id, state, severity, first_detected, last_detected) of indicator stale alerts."""
    with database.session() as s:
        rows = s.execute(
            select(
                Alert.indicator_id,
                Alert.state,
                Alert.severity,
                Alert.first_detected,
                Alert.last_detected,
            )
            .where(Alert.kind == "stale", Alert.series_key.like("indicator:%"))
            .order_by(Alert.indicator_id, Alert.id)
        ).all()
    return [tuple(r) for r in rows]


def _audits(database: Database) -> int:
    with database.session() as s:
        return s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "flag_overdue")
        )


def test_ovd001_job_flags_overdue_indicators_and_records_the_run(database: Database) -> None:
    world, never_id = _world(database)
    with database.session() as s:
        overdue = overdue_indicators(s, TODAY)
    assert list(overdue["code"]) == ["PRK-02", "PW-01"]  # by department code, then code
    assert overdue.set_index("code").loc["PW-01", "due_by"] == TODAY - dt.timedelta(days=6)
    assert overdue.set_index("code").loc["PRK-02", "latest_period"] is None

    jobs.flag_overdue(database_url=database.url, today=TODAY)

    assert _stale(database) == sorted(
        [
            (world.works_indicator_id, "new", "warning", TODAY, TODAY),
            (never_id, "new", "warning", TODAY, TODAY),
        ]
    )
    with database.session() as s:
        message = s.scalar(
            select(Alert.message).where(Alert.indicator_id == world.works_indicator_id)
        )
        run = s.scalars(select(JobRun).where(JobRun.job_id == "flag-overdue")).one()
    assert "Potholes filled within 48 hours is overdue" in message
    assert "20 days ago" in message and "within 14 days" in message
    assert run.outcome == "success" and run.rows == 2
    assert run.detail["inserted"] == 2 and run.detail["resolved"] == 0
    assert run.detail["day"] == TODAY.isoformat()
    assert run.detail["departments"] == {
        "PRK": {"department": "Parks & Recreation", "overdue": 1, "indicators": ["PRK-02"]},
        "PW": {"department": "Public Works", "overdue": 1, "indicators": ["PW-01"]},
    }
    assert _audits(database) == 1


def test_ovd002_second_run_the_same_day_changes_nothing_next_day_refreshes(
    database: Database,
) -> None:
    world, _never = _world(database)
    with database.session(write=True) as s:
        _, first = flag_overdue(s, TODAY)
    assert first.as_dict() == {"inserted": 2, "refreshed": 0, "resolved": 0}
    before = _stale(database)
    with database.session(write=True) as s:
        overdue, second = flag_overdue(s, TODAY)
    assert len(overdue) == 2
    assert second.as_dict() == {"inserted": 0, "refreshed": 0, "resolved": 0}
    assert _stale(database) == before
    assert _audits(database) == 1  # a run that changed nothing leaves no audit row

    later = TODAY + dt.timedelta(days=1)
    with database.session(write=True) as s:
        _, third = flag_overdue(s, later)
    assert third.as_dict() == {"inserted": 0, "refreshed": 2, "resolved": 0}
    assert [(r[0], r[1], r[3], r[4]) for r in _stale(database)] == [
        (r[0], "new", TODAY, later) for r in before
    ]
    # Long overdue: two more weekly periods missed make it critical, still the same alert.
    much_later = TODAY + dt.timedelta(days=20)
    with database.session(write=True) as s:
        flag_overdue(s, much_later)
    works = [r for r in _stale(database) if r[0] == world.works_indicator_id]
    assert works == [(world.works_indicator_id, "new", "critical", TODAY, much_later)]


def test_ovd003_updated_indicator_is_resolved_and_a_later_lapse_opens_a_new_alert(
    database: Database,
) -> None:
    world, never_id = _world(database)
    with database.session(write=True) as s:
        flag_overdue(s, TODAY)
    _observe(database, world.works_indicator_id, TODAY - dt.timedelta(days=2))
    with database.session(write=True) as s:
        overdue, flags = flag_overdue(s, TODAY)
    assert list(overdue["code"]) == ["PRK-02"]
    assert flags.as_dict() == {"inserted": 0, "refreshed": 0, "resolved": 1}
    states = {r[0]: r[1] for r in _stale(database)}
    assert states == {world.works_indicator_id: "resolved", never_id: "new"}
    with database.session() as s:
        reason = s.scalar(
            select(Alert.state_reason).where(Alert.indicator_id == world.works_indicator_id)
        )
    assert "no longer overdue" in reason
    with database.session(write=True) as s:
        assert flag_overdue(s, TODAY)[1].as_dict() == {"inserted": 0, "refreshed": 0, "resolved": 0}

    lapse = TODAY + dt.timedelta(days=20)
    with database.session(write=True) as s:
        _, flags = flag_overdue(s, lapse)
    assert flags.inserted == 1  # the resolved alert stays closed; a new episode opens
    works = [r for r in _stale(database) if r[0] == world.works_indicator_id]
    assert [(r[1], r[3]) for r in works] == [("resolved", TODAY), ("new", lapse)]


def test_ovd004_office_states_are_kept(database: Database) -> None:
    world, never_id = _world(database)
    with database.session(write=True) as s:
        flag_overdue(s, TODAY)
        s.execute(
            Alert.__table__.update()
            .where(Alert.indicator_id == world.works_indicator_id)
            .values(state="acknowledged")
        )
        s.execute(
            Alert.__table__.update()
            .where(Alert.indicator_id == never_id)
            .values(state="dismissed", state_reason="Benches are counted yearly now.")
        )
    with database.session(write=True) as s:
        _, flags = flag_overdue(s, TODAY + dt.timedelta(days=1))
    assert flags.as_dict() == {"inserted": 0, "refreshed": 2, "resolved": 0}
    assert {r[0]: r[1] for r in _stale(database)} == {
        world.works_indicator_id: "acknowledged",
        never_id: "dismissed",
    }
    # A dismissal silences its episode only: seen again after a gap, a new alert opens.
    with database.session(write=True) as s:
        _, flags = flag_overdue(s, TODAY + dt.timedelta(days=12))
    assert flags.inserted == 1
    never = [r[1] for r in _stale(database) if r[0] == never_id]
    assert never == ["dismissed", "new"]


def test_ovd005_agrees_with_detect_alerts_and_leaves_source_alerts_alone(
    database: Database,
) -> None:
    world, _never = _world(database)
    with database.session(write=True) as s:
        source_alert = record_source_failure(s, "city311", "open311", "timed out")
    with database.session(write=True) as s:
        flag_overdue(s, TODAY)
    flagged = _stale(database)
    result = refresh_alerts(database, TODAY)
    assert result["updated"] >= 1  # the detector continues the job's stale alert ...
    assert _stale(database) == flagged  # ... and opens no second one
    with database.session(write=True) as s:
        assert flag_overdue(s, TODAY)[1].inserted == 0  # nor does the job after the detector
    _observe(database, world.works_indicator_id, TODAY - dt.timedelta(days=1))
    with database.session(write=True) as s:
        flag_overdue(s, TODAY)
    with database.session() as s:
        assert s.get(Alert, source_alert).state == "new"
        assert (
            s.scalar(select(Alert.state).where(Alert.indicator_id == world.works_indicator_id))
            == "resolved"
        )


def test_ovd006_job_is_scheduled_daily_at_seven_city_time(database: Database) -> None:
    specs = {spec.job_id: spec for spec in job_specs()}
    assert {"poll-sources", "detect-alerts", "flag-overdue", "weekly-snapshot"} <= set(specs)
    spec = specs["flag-overdue"]
    assert spec.func == "triage.jobs:flag_overdue"
    settings = Settings.from_env({}, database_url=database.url, timezone="America/Chicago")
    trigger = spec.trigger(settings)
    assert isinstance(trigger, CronTrigger)
    after = dt.datetime(2026, 6, 15, 7, 30, tzinfo=trigger.timezone)
    fire = trigger.get_next_fire_time(None, after)
    assert (fire.date(), fire.hour, fire.minute) == (dt.date(2026, 6, 16), 7, 0)
    assert str(fire.tzinfo) == "America/Chicago"
    module, name = spec.func.split(":")
    assert getattr(__import__(module, fromlist=[name]), name) is jobs.flag_overdue
