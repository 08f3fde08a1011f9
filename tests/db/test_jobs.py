"""Job bookkeeping on SQLite and PostgreSQL: run records and the single-scheduler lease."""

from __future__ import annotations

import datetime as dt

from db.jobs import acquire_lease, recent_runs, release_lease, run_counts
from db.session import Database
from triage.jobs.scheduler import run_recorded

T0 = dt.datetime(2026, 11, 23, 6, 0)


def _take(database: Database, holder: str, now: dt.datetime) -> bool:
    with database.session(write=True) as s:
        return acquire_lease(s, "scheduler", holder, 60, now=now)


def test_job001_lease_is_exclusive_until_it_expires(database: Database) -> None:
    assert _take(database, "a", T0)
    assert not _take(database, "b", T0 + dt.timedelta(seconds=30))
    assert _take(database, "a", T0 + dt.timedelta(seconds=45))  # renewal pushes expiry
    assert not _take(database, "b", T0 + dt.timedelta(seconds=100))
    assert _take(database, "b", T0 + dt.timedelta(seconds=106))  # a stopped renewing
    assert not _take(database, "a", T0 + dt.timedelta(seconds=107))
    with database.session(write=True) as s:
        release_lease(s, "scheduler", "a")  # not a's to release: nothing happens
    assert not _take(database, "a", T0 + dt.timedelta(seconds=108))
    with database.session(write=True) as s:
        release_lease(s, "scheduler", "b")
    assert _take(database, "a", T0 + dt.timedelta(seconds=109))


def test_job002_runs_are_recorded_with_outcome_rows_and_error(database: Database) -> None:
    run_recorded(database.url, "good-job", lambda db: {"rows": 7, "note": "fine"})
    run_recorded(database.url, "skip-job", lambda db: {"outcome": "skipped"})

    def broken(db: Database) -> dict[str, object]:
        raise RuntimeError("feed answered 500")

    run_recorded(database.url, "bad-job", broken)
    with database.session() as s:
        runs = recent_runs(s).sort_values("id")
        assert run_counts(s) == {"good-job": 1, "skip-job": 1, "bad-job": 1}
    assert runs["outcome"].tolist() == ["success", "skipped", "error"]
    assert runs["rows"].tolist() == [7, 0, 0]
    assert runs["error"].iloc[2].startswith("RuntimeError: feed answered 500")
    assert runs["finished_at"].notna().all()
