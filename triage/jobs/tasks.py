"""The scheduled jobs: what ``triage.jobs.scheduler`` runs on its triggers (and ``triage jobs
run NAME`` runs once, now). Each records its run (``run_recorded``), returns the run's id and
is idempotent: running it twice for the same week or day leaves the same state.

Every job takes ``job_id`` (the scheduler passes it) and, for a run from the command line,
``database_url`` and ``today``; both default to the settings' database and the city's today.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from sqlalchemy import select

from db.accounts import prune_sign_in_records
from db.alerts.overdue import flag_overdue as flag_overdue_alerts
from db.alerts.overdue import overdue_by_department
from db.audit import write_audit
from db.city_settings import adopt_stored_city
from db.jobs import data_stamp, last_success_detail, prune_job_runs
from db.models import DataSource, utcnow
from db.ranking import rank_week
from db.session import Database
from triage.ingest.errors import IngestError
from triage.jobs.alerts import refresh_alerts
from triage.jobs.ingest import run_source
from triage.jobs.scheduler import run_recorded
from triage.security import Principal
from triage.settings import Settings

Work = Callable[[Database, dt.date, Settings], dict[str, object]]


def _run(job_id: str, database_url: str | None, today: dt.date | None, work: Work) -> int:
    """Run ``work(database, day, settings)`` as a recorded job: the stored city's settings,
    ``today`` or the city's today, the given database or the settings' one."""
    settings = adopt_stored_city(Settings.from_env())
    day = today or settings.today()
    return run_recorded(
        database_url or settings.database_url,
        job_id,
        lambda database: work(database, day, settings),
    )


def weekly_snapshot(
    job_id: str = "weekly-snapshot",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled: store this ISO week's ranking (Mondays 06:00 in the city's time zone)."""

    def body(database: Database, day: dt.date, settings: Settings) -> dict[str, object]:
        ranking = rank_week(database, None, day)
        return {"rows": len(ranking.scores), "week": ranking.week}

    return _run(job_id, database_url, today, body)


def due_sources(database: Database, now: dt.datetime) -> list[str]:
    """Active sources with a poll interval whose last attempt is at least that old."""
    with database.session() as session:
        rows = session.execute(
            select(DataSource.name, DataSource.poll_minutes, DataSource.last_attempt_at).where(
                DataSource.active.is_(True), DataSource.poll_minutes.is_not(None)
            )
        ).all()
    return [
        name
        for name, minutes, last in rows
        if last is None or now - last >= dt.timedelta(minutes=int(minutes))
    ]


def poll_sources(
    job_id: str = "poll-sources",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled: run every data source that is due; one failing source never stops the rest.

    A failure keeps the source's last good data, records the error on the source and raises a
    stale-source alert (``triage.jobs.ingest``); here it is counted in the run's detail.
    """

    def body(database: Database, day: dt.date, settings: Settings) -> dict[str, object]:
        rows, done, failed = 0, [], {}
        for name in due_sources(database, utcnow()):
            try:
                summary = run_source(
                    database,
                    name,
                    city_tz=settings.timezone,
                    today=day,
                    api_key=os.environ.get("TRIAGE_OPEN311_API_KEY"),
                )
            except IngestError as exc:
                failed[name] = str(exc)
                continue
            rows += summary.read
            done.append(name)
        outcome = "success" if done or not failed else "error"
        return {"rows": rows, "outcome": outcome, "sources": done, "failed": failed}

    return _run(job_id, database_url, today, body)


def detect_alerts(
    job_id: str = "detect-alerts",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled: refresh the early-warning alerts for today (daily, after the night's data)."""

    def body(database: Database, day: dt.date, settings: Settings) -> dict[str, object]:
        return dict(refresh_alerts(database, day))

    return _run(job_id, database_url, today, body)


def flag_overdue(
    job_id: str = "flag-overdue",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled daily: flag overdue indicators (``triage.indicators.is_overdue``).

    Raises or refreshes one stale alert per overdue indicator and resolves those updated
    since (``db.alerts.overdue.flag_overdue``), in one transaction; idempotent within a day. The run
    records ``rows`` = overdue indicators and, in its detail, the alerts inserted, refreshed
    and resolved and a summary per department.
    """

    def body(database: Database, day: dt.date, settings: Settings) -> dict[str, object]:
        with database.session(write=True) as session:
            overdue, flags = flag_overdue_alerts(session, day)
        return {
            "rows": len(overdue),
            "day": day.isoformat(),
            **flags.as_dict(),
            "departments": overdue_by_department(overdue),
        }

    return _run(job_id, database_url, today, body)


def refresh_after_data(
    job_id: str = "refresh-after-data",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled every 15 minutes: when new data has arrived, refresh alerts and this week.

    New data is a report ingested or changed, or an indicator value recorded, since the last
    successful run (``db.jobs.data_stamp``, kept in the run's detail). Then today's alerts are
    detected again (:func:`refresh_alerts`) and this ISO week's ranking is scored again and
    stored (:func:`db.ranking.rank_week`): past weeks stay as they were stored, so movement
    "since last week" keeps its meaning while the current week follows the data. With nothing
    new the run is recorded as skipped and nothing is computed.
    """

    def body(database: Database, day: dt.date, settings: Settings) -> dict[str, object]:
        with database.session() as session:
            stamp = data_stamp(session)
            seen = last_success_detail(session, job_id).get("data")
        if seen == stamp:
            return {"outcome": "skipped", "reason": "no new data", "data": stamp}
        alerts = refresh_alerts(database, day)
        ranking = rank_week(database, None, day)
        return {
            "rows": len(ranking.scores),
            "data": stamp,
            "week": ranking.week,
            "alerts": alerts,
        }

    return _run(job_id, database_url, today, body)


def housekeeping(
    job_id: str = "housekeeping",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Scheduled daily 03:15: delete the records that grow with use and serve no one once old
    (``triage.vocabulary``'s retention limits): sign-in attempts, ended browser sessions, old
    job runs (each job keeps its last ones). The audit log is never pruned; what went is
    counted in the run's detail and in one audit row. ``today`` is unused: ages are measured
    from the stored UTC times, against the clock.
    """

    def body(database: Database, _day: dt.date, _settings: Settings) -> dict[str, object]:
        now = utcnow()
        with database.session(write=True) as session:
            pruned = prune_sign_in_records(session, now)
            pruned["job_runs"] = prune_job_runs(session, now)
            if any(pruned.values()):
                write_audit(
                    session,
                    Principal.system("housekeeping"),
                    "prune",
                    "records",
                    after=dict(pruned),
                )
        return {"rows": sum(pruned.values()), **pruned}

    return _run(job_id, database_url, today, body)
