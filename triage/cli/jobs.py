"""``triage scheduler`` and ``triage jobs list|run``: the scheduled jobs, on their triggers or now.

``jobs run NAME`` runs one job once, in this process, through the same entry point and run
record as the scheduler (a ``job_runs`` row with its outcome, rows and detail), whether or not
a scheduler is running: the jobs are idempotent.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from db.models import JobRun
from triage.cli.common import (
    COMMAND_HELP,
    CommandError,
    current_database,
    display_url,
    ensure_current,
    settings_from,
)
from triage.jobs.scheduler import JobSpec, SchedulerProcess, job_specs, wait_forever
from triage.schedule import SCHEDULED_JOBS


def cmd_scheduler(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ensure_current(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"Scheduler for {display_url(settings)} ({settings.timezone}); jobs:", flush=True)
    for spec in job_specs():
        print(f"  {spec.job_id:<18} {spec.description}", flush=True)
    wait_forever(SchedulerProcess(settings))
    return 0


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Every scheduled job: its name, when it runs (city time) and what it does."""
    del args
    for job in SCHEDULED_JOBS:
        print(f"{job.job_id:<20} {job.when:<18} {job.description}")
    return 0


def job_entry_point(spec: JobSpec) -> Callable[..., int]:
    """The function a job's textual reference (``module:function``) names, as the scheduler's
    job store resolves it."""
    module, _, name = spec.func.partition(":")
    return getattr(importlib.import_module(module), name)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """Run one job now; exit 0 on success (or a skipped run), 1 when the run failed."""
    specs = {spec.job_id: spec for spec in job_specs()}
    spec = specs.get(args.name)
    if spec is None:
        raise CommandError(
            f"There is no job {args.name!r}; the jobs are: {', '.join(specs)} "
            "(`triage jobs list` says when each runs)."
        )
    settings = settings_from(args)
    database = current_database(settings)
    try:
        started = time.monotonic()
        run_id = job_entry_point(spec)(
            job_id=spec.job_id, database_url=settings.database_url, today=settings.today()
        )
        seconds = time.monotonic() - started
        with database.session() as session:
            run = session.get(JobRun, run_id)
            if run is None:  # pragma: no cover - run_recorded always leaves the row
                raise CommandError(f"The run of {spec.job_id} left no record.")
            outcome, rows, detail, error = run.outcome, run.rows, run.detail, run.error
    finally:
        database.dispose()
    print(f"{spec.job_id}: {outcome}, {rows:,} rows in {seconds:.1f}s (run {run_id})")
    if detail:
        print(f"  detail: {json.dumps(detail, sort_keys=True, default=str)}")
    if outcome == "error":
        print(f"  error: {error.strip().splitlines()[0] if error.strip() else 'unknown'}")
        return 1
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``scheduler`` and ``jobs`` (list, run) to ``commands`` (nothing to ``bench``)."""
    del bench
    scheduler = commands.add_parser("scheduler", help=COMMAND_HELP["scheduler"])
    scheduler.set_defaults(func=cmd_scheduler)

    jobs = commands.add_parser("jobs", help=COMMAND_HELP["jobs"]).add_subparsers(
        dest="jobs_command", required=True, metavar="ACTION"
    )
    jobs.add_parser("list", help="the jobs, when each runs and what it does").set_defaults(
        func=cmd_jobs_list
    )
    run = jobs.add_parser(
        "run", help="run one job once, now, recording its run as the scheduler does"
    )
    run.add_argument("name", metavar="NAME", help="the job's name (see `triage jobs list`)")
    run.set_defaults(func=cmd_jobs_run)
