"""The daily ``housekeeping`` job on a real database (SQLite and PostgreSQL): old sign-in
attempts, ended sessions and old job runs go, live sessions and each job's last runs stay, the
audit log is untouched but for the one row that counts what went.

Ages are set far from any plausible clock (2001 and 2201), so no test reads the wall clock."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from db.accounts import prune_sign_in_records
from db.jobs import prune_job_runs
from db.models import AuditLog, JobRun, LoginAttempt, UserSession
from db.session import Database
from tests.db.factories import make_world
from triage import jobs
from triage.schedule import SCHEDULED_JOBS

NOW = dt.datetime(2026, 6, 15, 12, 0)
LONG_AGO = dt.datetime(2001, 1, 1)
FAR_AHEAD = dt.datetime(2201, 1, 1)


def _session_row(user_id: int, token: str, expires: dt.datetime, revoked: dt.datetime | None):
    return UserSession(
        token_hash=token.ljust(64, "0"),
        user_id=user_id,
        session_epoch=0,
        created_at=expires - dt.timedelta(hours=12),
        expires_at=expires,
        revoked_at=revoked,
    )


def _seed_sign_ins(database: Database) -> int:
    with database.session(write=True) as s:
        world = make_world(s)
        user_id = world.chief.user_id
        assert user_id is not None
        s.add_all(
            [
                LoginAttempt(username="chief", remote_addr="10.0.0.1", at=at, success=ok)
                for at, ok in [
                    (NOW - dt.timedelta(days=400), False),
                    (NOW - dt.timedelta(days=91), True),
                    (NOW - dt.timedelta(days=89), False),
                    (NOW - dt.timedelta(minutes=5), False),
                ]
            ]
        )
        s.add_all(
            [
                # live: expires tomorrow, never revoked
                _session_row(user_id, "a", NOW + dt.timedelta(days=1), None),
                # signed out 31 days ago
                _session_row(user_id, "b", NOW + dt.timedelta(days=1), NOW - dt.timedelta(31)),
                # signed out yesterday: kept for a month
                _session_row(user_id, "c", NOW + dt.timedelta(days=1), NOW - dt.timedelta(1)),
                # expired 40 days ago
                _session_row(user_id, "d", NOW - dt.timedelta(days=40), None),
            ]
        )
    return user_id


def test_hk001_sign_in_records_older_than_their_retention_go(database: Database) -> None:
    _seed_sign_ins(database)
    with database.session(write=True) as s:
        pruned = prune_sign_in_records(s, NOW)
    assert pruned == {"login_attempts": 2, "sessions": 2}
    with database.session() as s:
        ages = sorted((NOW - at).days for at in s.scalars(select(LoginAttempt.at)))
        tokens = sorted(t[0] for t in s.scalars(select(UserSession.token_hash)))
    assert ages == [0, 89]
    assert tokens == ["a", "c"]
    with database.session(write=True) as s:  # a second run the same day changes nothing
        assert prune_sign_in_records(s, NOW) == {"login_attempts": 0, "sessions": 0}


def test_hk002_job_runs_old_ones_go_each_job_keeps_its_last(database: Database) -> None:
    with database.session(write=True) as s:
        # A daily job with 30 runs 200-229 days old, a monthly one with 3 runs a year old,
        # one recent run, and an old run still marked running (a crashed scheduler's).
        for day in range(30):
            started = NOW - dt.timedelta(days=200 + day)
            s.add(JobRun(job_id="daily", started_at=started, outcome="success"))
        for month in range(3):
            started = NOW - dt.timedelta(days=365 + 30 * month)
            s.add(JobRun(job_id="monthly", started_at=started, outcome="success"))
        s.add(JobRun(job_id="daily", started_at=NOW - dt.timedelta(days=1), outcome="error"))
        s.add(JobRun(job_id="stuck", started_at=LONG_AGO, outcome="running"))
    with database.session(write=True) as s:
        deleted = prune_job_runs(s, NOW, days=180, keep_per_job=20)
    assert deleted == 11  # the daily job's 31 runs less its 20 newest
    with database.session() as s:
        left = dict(s.execute(select(JobRun.job_id, func.count()).group_by(JobRun.job_id)).all())
        oldest_daily = s.scalar(select(func.min(JobRun.started_at)).where(JobRun.job_id == "daily"))
    assert left == {"daily": 20, "monthly": 3, "stuck": 1}
    assert oldest_daily == NOW - dt.timedelta(days=200 + 18)  # the 19 newest old runs + 1 recent


def test_hk003_the_scheduled_job_prunes_records_and_audits_once(database: Database) -> None:
    assert "housekeeping" in [job.job_id for job in SCHEDULED_JOBS]
    with database.session(write=True) as s:
        world = make_world(s)
        user_id = world.chief.user_id
        assert user_id is not None
        s.add(LoginAttempt(username="x", remote_addr="10.0.0.9", at=LONG_AGO, success=False))
        s.add(LoginAttempt(username="x", remote_addr="10.0.0.9", at=FAR_AHEAD, success=False))
        s.add(_session_row(user_id, "e", LONG_AGO, None))
        s.add(_session_row(user_id, "f", FAR_AHEAD, None))
        s.add(JobRun(job_id="old", started_at=LONG_AGO, outcome="success"))
        audit_before = s.scalar(select(func.count()).select_from(AuditLog))
    run_id = jobs.housekeeping(database_url=database.url)
    with database.session() as s:
        run = s.get(JobRun, run_id)
        assert run is not None
        assert (run.outcome, run.rows) == ("success", 2)  # the old job run is its job's last
        assert run.detail == {"login_attempts": 1, "sessions": 1, "job_runs": 0}
        audits = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        assert [a.username for a in audits] == [a.username for a in audits[:audit_before]] + [
            "housekeeping"
        ]
        assert audits[-1].after == {"login_attempts": 1, "sessions": 1, "job_runs": 0}
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 1
        assert [t[0] for t in s.scalars(select(UserSession.token_hash))] == ["f"]
    again = jobs.housekeeping(database_url=database.url)
    with database.session() as s:
        run = s.get(JobRun, again)
        assert run is not None and run.rows == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audit_before + 1
