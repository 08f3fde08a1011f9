"""The early-warning use case: read the detector's inputs, run every detector, store alerts.

``refresh_alerts`` is what the daily job, the refresh after new data and the demo's history
run; ``triage bench score`` times its parts (``detector_inputs``, ``detect_all_alerts``,
``store_alerts``) one by one.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from db.alerts.store import apply_alert_changes, existing_alerts
from db.models import District, Indicator, Observation, ReportCategory, ReportDailyCount
from db.scores import read_frame
from db.session import Database
from triage.detection import (
    ALERT_COLUMNS,
    detect_indicator_alerts,
    detect_surges,
    indicator_series_key,
    plan_alert_changes,
    report_count_series,
)
from triage.detection.categories import detect_new_categories, merge_renamed_categories

HISTORY_DAYS = 3 * 366  # two years of seasonal history plus the baseline windows
NEW_CATEGORY_DAYS = 28  # a category first reported this recently is new (detect_new_categories)


def detector_inputs(
    database: Database, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Daily counts (from the aggregate, never raw reports), indicators and observations.

    Hundreds of thousands of rows at a city's scale, so they are read straight from the
    driver (``db.scores.read_frame``); days, periods and times come as datetime64.
    A renamed category's counts are read as its successor's (``ReportCategory.continues_id``,
    ``merge_renamed_categories``): one series, so the rename is no surge and the successor
    has the predecessor's history to be tested against.
    """
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
        continues = dict(
            session.execute(
                select(ReportCategory.id, ReportCategory.continues_id).where(
                    ReportCategory.continues_id.is_not(None)
                )
            ).all()
        )
        counts = merge_renamed_categories(counts, continues)
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
            )
            .where(Indicator.archived_at.is_(None))  # archived: no new values, no alerts
            .order_by(Indicator.id),
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
            ).where(
                Observation.period <= as_of,
                Observation.indicator_id.in_(
                    select(Indicator.id).where(Indicator.archived_at.is_(None))
                ),
            ),
            ["indicator_id", "period", "value", "entered_at"],
            dates=["period", "entered_at"],
        )
    return counts, indicators, observations


def _series_labels(database: Database, ids: pd.DataFrame) -> dict[str, str]:
    """Readable names for report series: "Illegal dumping reports in Millbrook" or "citywide"."""
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
    """Every detector over ``inputs`` (``detector_inputs``) for the last ``lookback_days``.

    Out: the alerts (:data:`triage.detection.ALERT_COLUMNS`) and, per series key, the ids it
    concerns (indicator, or category and district) for ``store_alerts``.
    """
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
        parts.append(_new_categories(series, as_of, labels))
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


def _new_categories(series: pd.DataFrame, as_of: dt.date, labels: dict[str, str]) -> pd.DataFrame:
    """New and fast-rising young categories (citywide series), which the surge detector cannot
    test yet (it needs months of history): a new service name in an export reaches the
    attention list. Categories as old as the data itself are not new: a city's first export
    (or the first weeks of its data) would otherwise make every category "new"; a renamed
    category continuing its predecessor (``merge_renamed_categories``) is not new either.
    """
    citywide = series[series["district_id"].isna()]
    if citywide.empty:
        return citywide
    first = citywide.groupby("series", observed=True)["date"].min()
    since_start = first - citywide["date"].min()
    new = first.index[since_start >= pd.Timedelta(days=NEW_CATEGORY_DAYS)]
    found = citywide[citywide["series"].isin(new)][["series", "date", "value"]]
    if found.empty:
        return found
    return detect_new_categories(found, as_of, new_days=NEW_CATEGORY_DAYS, labels=labels)


def store_alerts(
    database: Database,
    alerts: pd.DataFrame,
    links: dict[str, dict[str, int | None]],
    as_of: dt.date,
) -> dict[str, int]:
    """De-duplicate ``alerts`` against the stored ones and apply the changes, in one transaction.

    Returns ``rows`` (alerts found), ``inserted``, ``updated``, ``resolved``.
    """
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
    inputs = detector_inputs(database, as_of)
    alerts, links = detect_all_alerts(database, as_of, inputs, lookback_days=lookback_days)
    return store_alerts(database, alerts, links, as_of)
