"""Units of work shared by the scheduler and the command line: ranking a week, flagging overdue.

Each job is idempotent: running it twice for the same week or day leaves the same state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from db.scoring_inputs import (
    latest_snapshot_week,
    load_scoring_inputs,
    load_snapshot,
    load_weights,
    save_snapshot,
)
from db.session import Database
from triage.scheduler import run_recorded
from triage.scoring import iso_week, movement, score_problems, week_end
from triage.settings import Settings


@dataclass(frozen=True)
class WeekRanking:
    week: str
    as_of: dt.date
    scores: pd.DataFrame
    moves: pd.DataFrame
    previous_week: str | None


def city_today(settings: Settings) -> dt.date:
    """Today's date in the city's time zone."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def rank_week(
    database: Database, week: str | None, today: dt.date, *, save: bool = True
) -> WeekRanking:
    """Score every problem as of the end of ``week`` (or today, if sooner) and compare.

    With ``save`` the week's snapshot is replaced in the same transaction, so re-running a week
    is idempotent and movement since the previous stored week is exact.
    """
    week = week or iso_week(today)
    as_of = min(week_end(week), today)
    with database.session(write=save) as session:
        inputs = load_scoring_inputs(session, as_of)
        scores = score_problems(inputs, load_weights(session), as_of)
        if save:
            save_snapshot(session, week, scores)
        previous = latest_snapshot_week(session, before=week)
        before = load_snapshot(session, previous) if previous else None
    return WeekRanking(week, as_of, scores, movement(scores, before), previous)


def weekly_snapshot(job_id: str = "weekly-snapshot") -> None:
    """Scheduled: store this ISO week's ranking (Mondays 06:00 in the city's time zone)."""
    settings = Settings.from_env()

    def body(database: Database) -> dict[str, object]:
        ranking = rank_week(database, None, city_today(settings))
        return {"rows": len(ranking.scores), "week": ranking.week}

    run_recorded(settings.database_url, job_id, body)


def due_sources(database: Database, now: dt.datetime) -> list[str]:
    """Active sources with a poll interval whose last attempt is at least that old."""
    from sqlalchemy import select

    from db.models import DataSource

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


def poll_sources(job_id: str = "poll-sources") -> None:
    """Scheduled: run every data source that is due; one failing source never stops the rest.

    A failure keeps the source's last good data, records the error on the source and raises a
    stale-source alert (``triage.ingest``); here it is counted in the run's detail.
    """
    import os

    from db.models import utcnow
    from triage.ingest import run_source
    from triage.ingest.errors import IngestError

    settings = Settings.from_env()

    def body(database: Database) -> dict[str, object]:
        rows, done, failed = 0, [], {}
        for name in due_sources(database, utcnow()):
            try:
                summary = run_source(
                    database,
                    name,
                    city_tz=settings.timezone,
                    api_key=os.environ.get("TRIAGE_OPEN311_API_KEY"),
                )
            except IngestError as exc:
                failed[name] = str(exc)
                continue
            rows += summary.read
            done.append(name)
        outcome = "success" if done or not failed else "error"
        return {"rows": rows, "outcome": outcome, "sources": done, "failed": failed}

    run_recorded(settings.database_url, job_id, body)
