"""Job bookkeeping: run records for the administration page and the single-scheduler lease."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.frames import query_frame
from db.models import AppSetting, CitizenReport, JobRun, Observation, utcnow
from triage.vocabulary import JOB_RUN_RETENTION_DAYS, JOB_RUNS_KEPT_PER_JOB

LEASE_PREFIX = "lease:"


def start_run(session: Session, job_id: str, now: dt.datetime | None = None) -> int:
    """Record that ``job_id`` started; returns the run id."""
    run = JobRun(job_id=job_id, started_at=now or utcnow(), outcome="running")
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    outcome: str,
    *,
    rows: int = 0,
    detail: dict[str, Any] | None = None,
    error: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Close a run with its outcome (success, error or skipped), row count and any error."""
    run = session.get(JobRun, run_id)
    if run is None:
        raise LookupError(f"No job run {run_id}")
    run.finished_at = now or utcnow()
    run.outcome = outcome
    run.rows = rows
    run.detail = detail
    run.error = error[:4000]


def recent_runs(session: Session, limit: int = 50) -> pd.DataFrame:
    """Newest runs first: columns id, job_id, started_at, finished_at, outcome, rows, error."""
    rows = session.execute(
        select(
            JobRun.id,
            JobRun.job_id,
            JobRun.started_at,
            JobRun.finished_at,
            JobRun.outcome,
            JobRun.rows,
            JobRun.error,
        )
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    ).all()
    columns = ["id", "job_id", "started_at", "finished_at", "outcome", "rows", "error"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def last_success_detail(session: Session, job_id: str) -> dict[str, Any]:
    """The detail of ``job_id``'s newest successful run ({} when it never succeeded)."""
    detail = session.scalar(
        select(JobRun.detail)
        .where(JobRun.job_id == job_id, JobRun.outcome == "success")
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    )
    return dict(detail or {})


def data_stamp(session: Session) -> dict[str, str]:
    """What new data would change: the newest report ingestion and the newest observation.

    Both are index probes. Report ingestion stamps ``ingested_at`` on every row it adds or
    changes; observations are append-only, so their largest id moves with every new value.
    """
    newest_report = session.scalar(select(func.max(CitizenReport.ingested_at)))
    newest_observation = session.scalar(select(func.max(Observation.id)))
    return {
        "reports_ingested_at": newest_report.isoformat() if newest_report else "",
        "observation_id": str(newest_observation or 0),
    }


def run_counts(session: Session) -> dict[str, int]:
    """Number of recorded runs per job id."""
    rows = session.execute(select(JobRun.job_id, func.count()).group_by(JobRun.job_id)).all()
    return {job_id: int(count) for job_id, count in rows}


def acquire_lease(
    session: Session, name: str, holder: str, ttl_seconds: int, now: dt.datetime | None = None
) -> bool:
    """Take or renew the named lease for ``holder``; False while another holder's is unexpired.

    The caller's transaction must be a writer (``BEGIN IMMEDIATE`` on SQLite; the row is
    locked ``FOR UPDATE`` on PostgreSQL) so two processes cannot both take it.
    """
    now = now or utcnow()
    key = LEASE_PREFIX + name
    expires = (now + dt.timedelta(seconds=ttl_seconds)).isoformat()
    row = session.scalars(select(AppSetting).where(AppSetting.key == key).with_for_update()).first()
    if row is None:
        try:
            with session.begin_nested():
                session.add(AppSetting(key=key, value={"holder": holder, "expires": expires}))
        except IntegrityError:
            return False
        return True
    current = row.value or {}
    current_expiry = dt.datetime.fromisoformat(current.get("expires", "1970-01-01T00:00:00"))
    if current.get("holder") != holder and current_expiry > now:
        return False
    row.value = {"holder": holder, "expires": expires}
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up at once (on a clean shutdown) if ``holder`` has it."""
    row = session.get(AppSetting, LEASE_PREFIX + name)
    if row is not None and (row.value or {}).get("holder") == holder:
        session.delete(row)


def prune_job_runs(
    session: Session,
    now: dt.datetime,
    *,
    days: int = JOB_RUN_RETENTION_DAYS,
    keep_per_job: int = JOB_RUNS_KEPT_PER_JOB,
) -> int:
    """Delete finished job runs older than ``days``, keeping each job's ``keep_per_job``
    newest runs whatever their age (a monthly job still shows its history); a run still
    marked running is never deleted. Returns the number of runs deleted."""
    newest = (
        select(
            JobRun.id,
            func.row_number()
            .over(partition_by=JobRun.job_id, order_by=(JobRun.started_at.desc(), JobRun.id.desc()))
            .label("position"),
        )
    ).subquery()
    kept = select(newest.c.id).where(newest.c.position <= keep_per_job)
    done = session.execute(
        delete(JobRun).where(
            JobRun.started_at < now - dt.timedelta(days=days),
            JobRun.outcome != "running",
            JobRun.id.not_in(kept),
        )
    )
    return done.rowcount or 0


def last_job_runs(session: Session) -> pd.DataFrame:
    """The latest run of every job that ever ran, with its run count and last success.

    Columns: job_id, runs, started_at, finished_at, outcome, rows, error (of the latest run),
    last_success_at (finish of the latest successful run, or None); ordered by job_id.
    """
    summary = (
        select(
            JobRun.job_id.label("job_id"),
            func.count().label("runs"),
            func.max(JobRun.started_at).label("latest"),
        )
        .group_by(JobRun.job_id)
        .subquery()
    )
    success = (
        select(JobRun.job_id.label("job_id"), func.max(JobRun.finished_at).label("at"))
        .where(JobRun.outcome == "success")
        .group_by(JobRun.job_id)
        .subquery()
    )
    frame = query_frame(
        session,
        select(
            JobRun.job_id,
            summary.c.runs,
            JobRun.started_at,
            JobRun.finished_at,
            JobRun.outcome,
            JobRun.rows,
            JobRun.error,
            success.c.at,
            JobRun.id,
        )
        .join(
            summary,
            and_(summary.c.job_id == JobRun.job_id, summary.c.latest == JobRun.started_at),
        )
        .outerjoin(success, success.c.job_id == JobRun.job_id)
        .order_by(JobRun.job_id, JobRun.id.desc()),
        [
            "job_id",
            "runs",
            "started_at",
            "finished_at",
            "outcome",
            "rows",
            "error",
            "last_success_at",
            "id",
        ],
    )
    # Two runs started in the same instant: keep the newer row.
    frame = frame.drop_duplicates("job_id", keep="first")
    return frame.drop(columns="id").reset_index(drop=True)
