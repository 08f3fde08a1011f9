"""The scheduled jobs as data: name, the function it runs, what it does and when.

Pure: ``triage.jobs.scheduler`` builds the triggers from it and the admin page lists it.
Times are in the city's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass

from triage.vocabulary import (
    ENDED_SESSION_RETENTION_DAYS,
    JOB_RUN_RETENTION_DAYS,
    JOB_RUNS_KEPT_PER_JOB,
    LOGIN_ATTEMPT_RETENTION_DAYS,
)

DAY_NAMES = {"mon": "Mondays", "tue": "Tuesdays", "wed": "Wednesdays", "thu": "Thursdays"}
DAY_NAMES |= {"fri": "Fridays", "sat": "Saturdays", "sun": "Sundays"}


@dataclass(frozen=True)
class ScheduledJob:
    """A job: ``func`` is a ``module:function`` reference (the job store persists it); it runs
    every ``every_minutes`` or, when that is None, at ``hour``:``minute`` on ``day_of_week``
    (``None`` = every day)."""

    job_id: str
    func: str
    description: str
    every_minutes: int | None = None
    hour: int = 0
    minute: int = 0
    day_of_week: str | None = None

    @property
    def when(self) -> str:
        """The timing in words: "every 15 minutes", "daily 05:30", "Mondays 06:00"."""
        if self.every_minutes is not None:
            unit = "minute" if self.every_minutes == 1 else f"{self.every_minutes} minutes"
            return f"every {unit}"
        day = DAY_NAMES.get(self.day_of_week or "", "daily")
        return f"{day} {self.hour:02d}:{self.minute:02d}"


SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    ScheduledJob(
        "poll-sources",
        "triage.jobs:poll_sources",
        "Poll every data source whose interval has elapsed (Open311 feeds, watched files).",
        every_minutes=1,
    ),
    ScheduledJob(
        "detect-alerts",
        "triage.jobs:detect_alerts",
        "Early warning: surges in reports, indicator breaches, trends and stale indicators.",
        hour=5,
        minute=30,
    ),
    ScheduledJob(
        "flag-overdue",
        "triage.jobs:flag_overdue",
        "Flag overdue indicators: raise or refresh their stale alerts, resolve the updated "
        "ones (daily 07:00).",
        hour=7,
    ),
    ScheduledJob(
        "refresh-after-data",
        "triage.jobs:refresh_after_data",
        "After new reports or indicator values: detect today's alerts again and re-score "
        "this week (every 15 minutes; skipped when nothing new arrived).",
        every_minutes=15,
    ),
    ScheduledJob(
        "housekeeping",
        "triage.jobs:housekeeping",
        f"Delete sign-in attempts older than {LOGIN_ATTEMPT_RETENTION_DAYS} days, sessions "
        f"ended over {ENDED_SESSION_RETENTION_DAYS} days ago and job runs older than "
        f"{JOB_RUN_RETENTION_DAYS} days (each job keeps its last {JOB_RUNS_KEPT_PER_JOB}); "
        "the audit log is kept (daily 03:15).",
        hour=3,
        minute=15,
    ),
    ScheduledJob(
        "weekly-snapshot",
        "triage.jobs:weekly_snapshot",
        "Score every problem and store this ISO week's snapshot (Mondays 06:00).",
        hour=6,
        day_of_week="mon",
    ),
)
