"""Units of work shared by the scheduler and the command line: ranking a week, flagging overdue.

Each job is idempotent: running it twice for the same week or day leaves the same state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
        ranking = rank_week(database, None, settings.today())
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
                    today=settings.today(),
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


HISTORY_DAYS = 3 * 366  # two years of seasonal history plus the baseline windows


def _detector_inputs(
    database: Database, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Daily counts (from the aggregate, never raw reports), indicators and observations.

    Hundreds of thousands of rows at a city's scale, so they are read straight from the
    driver (``db.scoring_inputs.read_frame``); days, periods and times come as datetime64.
    """
    from sqlalchemy import select

    from db.models import Indicator, Observation, ReportDailyCount
    from db.scoring_inputs import read_frame

    since = as_of - dt.timedelta(days=HISTORY_DAYS)
    with database.session() as session:
        counts = read_frame(
            session,
            select(
                ReportDailyCount.day,
                ReportDailyCount.category_id,
                ReportDailyCount.district_id,
                ReportDailyCount.count,
            ).where(ReportDailyCount.day >= since, ReportDailyCount.day <= as_of),
            ["day", "category_id", "district_id", "count"],
            dates=["day"],
        )
        indicators = read_frame(
            session,
            select(
                Indicator.id,
                Indicator.name,
                Indicator.unit,
                Indicator.direction,
                Indicator.cadence,
                Indicator.warning_threshold,
                Indicator.critical_threshold,
                Indicator.created_at,
            ).order_by(Indicator.id),
            [
                "indicator_id",
                "name",
                "unit",
                "direction",
                "cadence",
                "warning_threshold",
                "critical_threshold",
                "created_at",
            ],
            dates=["created_at"],
        )
        observations = read_frame(
            session,
            select(
                Observation.indicator_id,
                Observation.period,
                Observation.value,
                Observation.entered_at,
            ).where(Observation.period <= as_of),
            ["indicator_id", "period", "value", "entered_at"],
            dates=["period", "entered_at"],
        )
    return counts, indicators, observations


def _series_labels(database: Database, ids: pd.DataFrame) -> dict[str, str]:
    """Readable names for report series: "Illegal dumping reports in Millbrook" or "citywide"."""
    from sqlalchemy import select

    from db.models import District, ReportCategory

    with database.session() as session:
        categories = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
        districts = dict(session.execute(select(District.id, District.name)).all())
    labels = {}
    for key, category, district in zip(
        ids["series"], ids["category_id"], ids["district_id"], strict=True
    ):
        where = "citywide" if pd.isna(district) else f"in {districts.get(int(district), district)}"
        labels[key] = f"{categories.get(int(category), category)} reports {where}"
    return labels


def detect_all_alerts(
    database: Database,
    as_of: dt.date,
    inputs: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    *,
    lookback_days: int = 7,
) -> tuple[pd.DataFrame, dict[str, dict[str, int | None]]]:
    """Every detector over ``inputs`` (``_detector_inputs``) for the last ``lookback_days``.

    Out: the alerts (:data:`triage.detection.ALERT_COLUMNS`) and, per series key, the ids it
    concerns (indicator, or category and district) for ``store_alerts``.
    """
    from triage.detection import (
        ALERT_COLUMNS,
        detect_indicator_alerts,
        detect_surges,
        indicator_series_key,
        report_count_series,
    )

    counts, indicators, observations = inputs
    parts: list[pd.DataFrame] = []
    links: dict[str, dict[str, int | None]] = {}
    if not counts.empty:
        series = report_count_series(counts)
        start = as_of - dt.timedelta(days=lookback_days - 1)
        ids = series.drop_duplicates("series")
        labels = _series_labels(database, ids)
        parts.append(
            detect_surges(
                series[["series", "date", "value"]],
                start=start,
                end=as_of,
                labels=labels,
                daily=True,
            )
        )
        for key, category, district in zip(
            ids["series"], ids["category_id"], ids["district_id"], strict=True
        ):
            links[key] = {
                "category_id": int(category),
                "district_id": None if pd.isna(district) else int(district),
            }
    if not indicators.empty:
        found = detect_indicator_alerts(indicators, observations, as_of)
        parts.append(found)
        for indicator_id in indicators["indicator_id"]:
            links[indicator_series_key(indicator_id)] = {"indicator_id": int(indicator_id)}
    parts = [p[list(ALERT_COLUMNS)] for p in parts if not p.empty]
    alerts = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=ALERT_COLUMNS)
    return alerts, links


def store_alerts(
    database: Database,
    alerts: pd.DataFrame,
    links: dict[str, dict[str, int | None]],
    as_of: dt.date,
) -> dict[str, int]:
    """De-duplicate ``alerts`` against the stored ones and apply the changes, in one transaction.

    Returns ``rows`` (alerts found), ``inserted``, ``updated``, ``resolved``.
    """
    from db.alerts import apply_alert_changes, existing_alerts
    from triage.detection import plan_alert_changes

    with database.session(write=True) as session:
        changes = plan_alert_changes(existing_alerts(session), alerts, as_of)
        result = apply_alert_changes(session, changes, links)
    return {"rows": len(alerts), **result}


def refresh_alerts(database: Database, as_of: dt.date, *, lookback_days: int = 7) -> dict[str, int]:
    """Run every detector for the last ``lookback_days`` up to ``as_of`` and store the alerts.

    Idempotent: episodes are keyed and de-duplicated against stored alerts, so a second run for
    the same day inserts nothing; alerts quiet for 28 days are resolved. Reads only aggregates
    (``report_daily_counts``) and indicator observations, never raw citizen reports.
    """
    inputs = _detector_inputs(database, as_of)
    alerts, links = detect_all_alerts(database, as_of, inputs, lookback_days=lookback_days)
    return store_alerts(database, alerts, links, as_of)


def detect_alerts(job_id: str = "detect-alerts") -> None:
    """Scheduled: refresh the early-warning alerts for today (daily, after the night's data)."""
    settings = Settings.from_env()

    def body(database: Database) -> dict[str, object]:
        return dict(refresh_alerts(database, settings.today()))

    run_recorded(settings.database_url, job_id, body)


def flag_overdue(
    job_id: str = "flag-overdue",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> None:
    """Scheduled daily: flag overdue indicators (``triage.indicators.is_overdue``).

    Raises or refreshes one stale alert per overdue indicator and resolves those updated
    since (``db.overdue.flag_overdue``), in one transaction; idempotent within a day. The run
    records ``rows`` = overdue indicators and, in its detail, the alerts inserted, refreshed
    and resolved and a summary per department. ``database_url`` and ``today`` default to the
    settings' database and the city's today.
    """
    from db.overdue import flag_overdue as flag_overdue_alerts
    from db.overdue import overdue_by_department

    settings = Settings.from_env()
    day = today or settings.today()

    def body(database: Database) -> dict[str, object]:
        with database.session(write=True) as session:
            overdue, flags = flag_overdue_alerts(session, day)
        return {
            "rows": len(overdue),
            "day": day.isoformat(),
            **flags.as_dict(),
            "departments": overdue_by_department(overdue),
        }

    run_recorded(database_url or settings.database_url, job_id, body)


def refresh_after_data(
    job_id: str = "refresh-after-data",
    *,
    database_url: str | None = None,
    today: dt.date | None = None,
) -> None:
    """Scheduled every 15 minutes: when new data has arrived, refresh alerts and this week.

    New data is a report ingested or changed, or an indicator value recorded, since the last
    successful run (``db.jobs.data_stamp``, kept in the run's detail). Then today's alerts are
    detected again (:func:`refresh_alerts`) and this ISO week's ranking is scored again and
    stored (:func:`rank_week`): past weeks stay as they were stored, so movement "since last
    week" keeps its meaning while the current week follows the data. With nothing new the run
    is recorded as skipped and nothing is computed.
    """
    from db.jobs import data_stamp, last_success_detail

    settings = Settings.from_env()
    day = today or settings.today()

    def body(database: Database) -> dict[str, object]:
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

    run_recorded(database_url or settings.database_url, job_id, body)
