"""The one scheduler: APScheduler 3 with a persistent job store, guarded by a database lease.

Web workers never schedule. ``triage scheduler`` (or ``triage serve --scheduler`` in a
single-process deployment) holds a lease row; a second scheduler process waits until the
lease expires, so each job runs once per tick however many processes are started.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from db.jobs import acquire_lease, finish_run, release_lease, start_run
from db.session import Database
from triage.schedule import SCHEDULED_JOBS, ScheduledJob
from triage.settings import Settings

log = logging.getLogger("triage.scheduler")

LEASE_NAME = "scheduler"
LEASE_TTL_SECONDS = 60
RENEW_EVERY_SECONDS = 15
MISFIRE_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: ``func`` is a textual reference so the job store can persist it."""

    job_id: str
    func: str
    description: str
    trigger: Callable[[Settings], Any]


def _trigger(job: ScheduledJob) -> Callable[[Settings], Any]:
    """The job's APScheduler trigger in the city's time zone."""
    if job.every_minutes is not None:
        minutes = job.every_minutes
        return lambda s: IntervalTrigger(minutes=minutes, timezone=s.timezone)
    return lambda s: CronTrigger(
        day_of_week=job.day_of_week, hour=job.hour, minute=job.minute, timezone=s.timezone
    )


def job_specs() -> list[JobSpec]:
    """Every job the scheduler runs (``triage.schedule.SCHEDULED_JOBS``), with its trigger."""
    return [JobSpec(job.job_id, job.func, job.description, _trigger(job)) for job in SCHEDULED_JOBS]


def run_recorded(database_url: str, job_id: str, body: Callable[[Database], dict[str, Any]]) -> int:
    """Run ``body`` with a JobRun row around it; failures are recorded, never raised.

    Returns the run's id (its row has the outcome, the rows and the detail or the error).
    """
    database = Database(database_url)
    try:
        with database.session(write=True) as session:
            run_id = start_run(session, job_id)
        try:
            detail = body(database) or {}
        except Exception as exc:
            log.exception("job %s failed", job_id)
            with database.session(write=True) as session:
                finish_run(
                    session,
                    run_id,
                    "error",
                    error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
                )
            return run_id
        with database.session(write=True) as session:
            finish_run(
                session,
                run_id,
                str(detail.pop("outcome", "success")),
                rows=int(detail.pop("rows", 0)),
                detail=detail,
            )
        return run_id
    finally:
        database.dispose()


def build_scheduler(settings: Settings, database: Database) -> BackgroundScheduler:
    """A scheduler with the persistent job store and every job registered (not started).

    ``TRIAGE_JOB_INTERVAL_SECONDS`` replaces every trigger with a short interval; the tests
    use it to watch several ticks in seconds.
    """
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=database.engine)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=settings.timezone,
    )
    override = os.environ.get("TRIAGE_JOB_INTERVAL_SECONDS")
    for spec in job_specs():
        trigger = IntervalTrigger(seconds=float(override)) if override else spec.trigger(settings)
        scheduler.add_job(
            spec.func,
            trigger=trigger,
            id=spec.job_id,
            name=spec.description,
            kwargs={"job_id": spec.job_id},
            replace_existing=True,
        )
    return scheduler


class SchedulerProcess:
    """Holds the lease and runs the scheduler while it does; stops it if the lease is lost."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database(settings.database_url)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()

    def _renew(self) -> bool:
        with self.database.session(write=True) as session:
            return acquire_lease(session, LEASE_NAME, self.holder, LEASE_TTL_SECONDS)

    def _start_scheduler(self) -> BackgroundScheduler | None:
        """Create the job store's table in a write transaction, then start; None on failure.

        APScheduler creates its table itself on start, outside our write transactions: on
        SQLite that read-then-write can fail at once with "database is locked" when another
        process (a standby scheduler renewing its claim) wrote in between. Creating the table
        first under ``BEGIN IMMEDIATE`` waits for the lock instead. Any failure to start is
        logged and retried at the next renewal rather than ending the scheduler thread.
        """
        scheduler = None
        try:
            table = SQLAlchemyJobStore(engine=self.database.engine).jobs_t
            with self.database.session(write=True) as session:
                table.create(session.connection(), checkfirst=True)
            scheduler = build_scheduler(self.settings, self.database)
            scheduler.start()
        except Exception:
            log.exception("scheduler %s could not start; retrying", self.holder)
            if scheduler is not None and scheduler.running:
                scheduler.shutdown(wait=False)
            return None
        log.info("scheduler %s holds the lease and is running", self.holder)
        return scheduler

    def run(self) -> None:
        """Block until ``stop()``: take the lease, schedule, renew; yield it on shutdown."""
        waiting_said = False
        try:
            while not self._stop.is_set():
                has_lease = self._renew()
                if has_lease and self.scheduler is None:
                    self.scheduler = self._start_scheduler()
                elif not has_lease and self.scheduler is not None:
                    log.warning("scheduler %s lost its lease; pausing", self.holder)
                    self.scheduler.shutdown(wait=False)
                    self.scheduler = None
                elif not has_lease and not waiting_said:
                    log.info("another scheduler holds the lease; %s is standing by", self.holder)
                    waiting_said = True
                self._stop.wait(RENEW_EVERY_SECONDS)
        finally:
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=True)
                self.scheduler = None
            with self.database.session(write=True) as session:
                release_lease(session, LEASE_NAME, self.holder)
            self.database.dispose()

    def stop(self) -> None:
        self._stop.set()

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="triage-scheduler", daemon=True)
        thread.start()
        return thread


def wait_forever(process: SchedulerProcess) -> None:
    """Run in the foreground until SIGINT/SIGTERM."""

    def _stop(_signum: int, _frame: object) -> None:
        process.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = process.start_in_thread()
    while thread.is_alive():
        time.sleep(0.5)
