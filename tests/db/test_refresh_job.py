"""The ``refresh-after-data`` job on a real database (SQLite and PostgreSQL): it re-detects and
re-scores only when reports or indicator values arrived since its last successful run."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from db.models import JobRun, Observation, ScoreSnapshot
from db.session import Database
from tests.db.factories import make_world
from triage import jobs
from triage.jobs.scheduler import job_specs
from triage.scoring import iso_week
from triage.settings import Settings

TODAY = dt.date(2026, 6, 15)


def _runs(database: Database) -> list[tuple[str, int, dict]]:
    with database.session() as s:
        rows = s.execute(
            select(JobRun.outcome, JobRun.rows, JobRun.detail)
            .where(JobRun.job_id == "refresh-after-data")
            .order_by(JobRun.id)
        ).all()
    return [(outcome, rows, detail or {}) for outcome, rows, detail in rows]


def _snapshots(database: Database) -> int:
    with database.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(ScoreSnapshot)
            .where(ScoreSnapshot.week == iso_week(TODAY))
        )


def test_refresh001_runs_on_new_data_and_skips_otherwise(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)

    jobs.refresh_after_data(database_url=database.url, today=TODAY)
    first = _runs(database)
    assert [(outcome, rows) for outcome, rows, _ in first] == [("success", 1)]
    assert first[0][2]["week"] == iso_week(TODAY)
    assert _snapshots(database) == 1  # this week's ranking was stored

    jobs.refresh_after_data(database_url=database.url, today=TODAY)
    second = _runs(database)[-1]
    assert second[0] == "skipped" and second[2]["reason"] == "no new data"

    with database.session(write=True) as s:
        s.add(
            Observation(
                indicator_id=world.works_indicator_id,
                period=TODAY - dt.timedelta(days=1),
                value=61,
                entered_at=dt.datetime(2026, 6, 15, 9),
            )
        )
    jobs.refresh_after_data(database_url=database.url, today=TODAY)
    third = _runs(database)[-1]
    assert third[0] == "success" and third[2]["data"] != first[0][2]["data"]
    assert _snapshots(database) == 1  # the week is replaced, not duplicated


def test_refresh002_is_scheduled_every_fifteen_minutes(database: Database) -> None:
    spec = next(s for s in job_specs() if s.job_id == "refresh-after-data")
    assert spec.func == "triage.jobs:refresh_after_data"
    trigger = spec.trigger(Settings.from_env({}, database_url=database.url))
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval == dt.timedelta(minutes=15)
