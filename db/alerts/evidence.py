"""The evidence behind one alert: the series around it and the band the detector expected."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import fields, replace
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.alerts.feed import alert_row
from db.frames import as_date, as_number, query_frame, to_date

# The filter choices: one home in ``db.lookups``, kept here under the names the page uses.
from db.models import (
    Indicator,
    Observation,
    ReportDailyCount,
)
from triage.detection import SurgeConfig, detect_surges, latest_observations
from triage.indicators import CADENCE_DAYS
from triage.page_data import AlertEvidence

WINDOW_BEFORE_DAYS = 84  # the evidence chart starts 12 weeks before the first detection
MAX_CHART_DAYS = 2 * 366
HISTORY_DAYS = 3 * 366  # as ``triage.jobs.alerts.HISTORY_DAYS``: what the daily detection reads

# A false-discovery level just under 1 makes the detector return its figures for every tested
# day (only days with nothing reported in the window, p = 1, are left out).
BAND_FDR = 1.0 - 1e-9


def window_days(method: Any) -> int | None:
    """The window of a surge method (``surge-28d`` → 28), or None."""
    match = re.fullmatch(r"surge-(\d+)d", str(method or ""))
    return int(match.group(1)) if match else None


def _span(alert: dict[str, Any], today: dt.date, before: int) -> tuple[dt.date, dt.date]:
    first, last = to_date(alert["first_detected"]), to_date(alert["last_detected"])
    start = first - dt.timedelta(days=before)
    end = max(min(today, start + dt.timedelta(days=MAX_CHART_DAYS)), last)
    return start, end


def report_daily_series(
    session: Session, category_id: int, district_id: int | None, since: dt.date, until: dt.date
) -> pd.DataFrame:
    """Daily report counts of one category (one district, or citywide), every day present.

    Columns: date (datetime64), value (count; absent days are zero), from ``since`` to
    ``until`` inclusive, from the ``report_daily_counts`` aggregate.
    """
    where = [
        ReportDailyCount.category_id == category_id,
        ReportDailyCount.day >= since,
        ReportDailyCount.day <= until,
    ]
    if district_id is not None:
        where.append(ReportDailyCount.district_id == district_id)
    frame = query_frame(
        session,
        select(ReportDailyCount.day, func.sum(ReportDailyCount.count))
        .where(*where)
        .group_by(ReportDailyCount.day),
        ["date", "value"],
    )
    days = pd.date_range(since, until, freq="D")
    if frame.empty:
        return pd.DataFrame({"date": days, "value": 0.0})
    values = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date")["value"]
    values = values.astype(float).reindex(days, fill_value=0.0)
    return pd.DataFrame({"date": days, "value": values.to_numpy()})


def surge_band(
    daily: pd.DataFrame,
    window: int,
    start: dt.date,
    end: dt.date,
    config: SurgeConfig | None = None,
    *,
    counting_since: dt.date | None = None,
) -> pd.DataFrame:
    """The surge detector's expected total and usual range for every day of ``[start, end]``.

    ``counting_since`` is the first day the daily run counted for any series (its input's
    first day). The run's grid starts there, and a series that began later is unknown, not
    zero, until its first report; giving it here puts this series on the same grid, so that a
    young series' refit and calibration blocks fall where the daily run's did.

    In: ``daily`` (date, value), one series with its history (zero days may be present or
    absent). Out: date, expected, lower, upper for the ``window``-day total ending each day
    (empty for a window that is not whole weeks). The detector is run on this series
    alone with the same windows and baseline as the daily run: ``expected`` is exactly what
    it tested against, while the range uses this series' own over-dispersion (the daily run
    also borrows strength from the other series), so it can differ a little.
    """
    cfg = config or SurgeConfig()
    longest = max(cfg.windows_days)
    if window not in cfg.windows_days or window % 7:
        # A window shorter than a week is only tested beside a weekly one; its band cannot
        # be computed on its own.
        return pd.DataFrame(columns=["date", "expected", "lower", "upper"])
    changes: dict[str, Any] = {
        "fdr": BAND_FDR,
        "windows_days": (window,),
        "ongoing_only": False,
        # Each window's baseline ends where that window starts (``baseline_per_window``);
        # otherwise every baseline ends where the daily run's longest window starts.
        "guard_days": cfg.guard_days
        if cfg.baseline_per_window
        else cfg.guard_days + longest - window,
        "min_family": 1,
    }
    known = {f.name for f in fields(cfg)}
    if "window_weights" in known:
        changes["window_weights"] = (1.0,)
    # The band is drawn on every day, including those with too few reports to alert; the
    # minimum expected level stays, since it is part of the expectation the run stored.
    if "min_observed" in known:
        changes.update(min_observed=-math.inf, min_excess=-math.inf)
    # Nor is a day left out because the week before it fell short (the catch-up rule decides
    # what alerts, not what was expected).
    if "catch_up_share" in known:
        changes["catch_up_share"] = 0.0
    band_cfg = replace(cfg, **changes)
    # Like the daily run, the series starts at its first report (earlier zeros would read as
    # a quiet history); a zero on ``end`` carries it to the last day shown.
    counted = daily[daily["value"] > 0]
    if counted.empty:
        return pd.DataFrame(columns=["date", "expected", "lower", "upper"])
    tail = pd.DataFrame({"date": [pd.Timestamp(end)], "value": [0.0]})
    if counted["date"].max() < pd.Timestamp(end):
        counted = pd.concat([counted, tail], ignore_index=True)
    first = counted["date"].min()
    if counting_since is not None and pd.Timestamp(counting_since) < first:
        unknown = pd.date_range(pd.Timestamp(counting_since), first - pd.Timedelta(days=1))
        counted = pd.concat(
            [pd.DataFrame({"date": unknown, "value": math.nan}), counted], ignore_index=True
        )
    series = counted.assign(series="band")[["series", "date", "value"]]
    found = detect_surges(series, band_cfg, start=start, end=end, workers=1, daily=True)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(found["date"]),
            "expected": found["expected"].astype(float),
            "lower": found["lower"].astype(float),
            "upper": found["upper"].astype(float),
        }
    )


def _num(value: Any) -> float:
    """:func:`db.frames.as_number`, with NaN for missing (the evidence charts plot gaps)."""
    number = as_number(value)
    return math.nan if number is None else number


def _counting_since(session: Session, as_of: dt.date) -> dt.date | None:
    """The first day the daily run as of ``as_of`` counted (``triage.jobs.alerts``' inputs)."""
    day = session.scalar(
        select(func.min(ReportDailyCount.day)).where(
            ReportDailyCount.day >= as_of - dt.timedelta(days=HISTORY_DAYS)
        )
    )
    return as_date(day)


def _report_evidence(session: Session, alert: dict[str, Any], today: dt.date) -> AlertEvidence:
    first, last = to_date(alert["first_detected"]), to_date(alert["last_detected"])
    # Today's counts are still arriving: the chart ends on the latest day counted.
    latest = session.scalar(select(func.max(ReportDailyCount.day)))
    start, end = _span(alert, min(today, to_date(latest)) if latest else today, WINDOW_BEFORE_DAYS)
    window = window_days(alert["method"])
    if window is None:
        window = 14 if alert["method"] == "fast_rising" else 7
    category_id = int(alert["category_id"])
    district = None if pd.isna(alert["district_id"]) else int(alert["district_id"])
    since = min(last - dt.timedelta(days=HISTORY_DAYS), start - dt.timedelta(days=window))
    daily = report_daily_series(session, category_id, district, since, end)
    totals = daily.set_index("date")["value"].rolling(window, min_periods=window).sum()
    shown = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame({"date": shown, "observed": totals.reindex(shown).to_numpy()})
    band = "none"
    found = (
        surge_band(daily, window, start, end, counting_since=_counting_since(session, end))
        if alert["kind"] == "surge" and window_days(alert["method"]) is not None
        else pd.DataFrame()
    )
    if not found.empty:
        frame = frame.merge(found, on="date", how="left")
        band = "recomputed"
    else:
        frame = frame.assign(expected=math.nan, lower=math.nan, upper=math.nan)
        at_last = frame["date"] == pd.Timestamp(last)
        frame.loc[at_last, "expected"] = _num(alert["expected"])
        if alert["kind"] == "surge":
            frame.loc[at_last, "lower"] = _num(alert["lower"])
            frame.loc[at_last, "upper"] = _num(alert["upper"])
        band = "stored"
    days = frame["date"].dt.date
    frame["alerted"] = (days >= first) & (days <= last)
    return AlertEvidence(
        alert=alert,
        series=frame[["date", "observed", "expected", "lower", "upper", "alerted"]],
        measure=f"reports in the {window} days to each day",
        unit="reports",
        start=start,
        end=end,
        band=band,
    )


def _indicator_evidence(session: Session, alert: dict[str, Any], today: dt.date) -> AlertEvidence:
    indicator = session.get(Indicator, int(alert["indicator_id"]))
    assert indicator is not None
    cadence = CADENCE_DAYS.get(indicator.cadence, 31)
    before = min(max(WINDOW_BEFORE_DAYS, 12 * cadence), MAX_CHART_DAYS)
    start, end = _span(alert, today, before)
    last = to_date(alert["last_detected"])
    observations = query_frame(
        session,
        select(
            Observation.indicator_id, Observation.period, Observation.value, Observation.entered_at
        ).where(
            Observation.indicator_id == indicator.id,
            Observation.period >= start,
            Observation.period <= end,
        ),
        ["indicator_id", "period", "value", "entered_at"],
    )
    known = latest_observations(observations, end).sort_values("period")
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(known["period"]),
            "observed": known["value"].astype(float),
        }
    ).reset_index(drop=True)
    frame = frame.assign(expected=math.nan, lower=math.nan, upper=math.nan, alerted=False)
    # The value that raised the alert is the latest one known on its last detection day.
    raised = frame.index[frame["date"] <= pd.Timestamp(last)]
    if len(raised) and alert["kind"] != "stale":
        at = raised[-1]
        frame.loc[at, "alerted"] = True
        if alert["kind"] in ("trend", "seasonal"):
            frame.loc[at, ["expected", "lower", "upper"]] = [
                _num(alert["expected"]),
                _num(alert["lower"]),
                _num(alert["upper"]),
            ]
    lines = tuple(
        (label, float(value))
        for label, value in (
            ("Target", indicator.target),
            ("Warning threshold", indicator.warning_threshold),
            ("Critical threshold", indicator.critical_threshold),
        )
        if value is not None and math.isfinite(float(value))
    )
    return AlertEvidence(
        alert=alert,
        series=frame[["date", "observed", "expected", "lower", "upper", "alerted"]],
        measure=indicator.name,
        unit=indicator.unit or "",
        start=start,
        end=end,
        band="stored" if alert["kind"] in ("trend", "seasonal") else "none",
        lines=lines,
    )


def alert_evidence(session: Session, alert_id: int, today: dt.date) -> AlertEvidence | None:
    """The series behind one alert, from 12 weeks (or 12 periods) before its first detection
    to ``today`` (at most two years), with what the detector expected; None if no such alert.

    Report alerts plot the window totals the detector tests; indicator alerts the values.
    """
    alert = alert_row(session, alert_id)
    if alert is None:
        return None
    if not pd.isna(alert["indicator_id"]):
        return _indicator_evidence(session, alert, today)
    if not pd.isna(alert["category_id"]):
        return _report_evidence(session, alert, today)
    start, end = _span(alert, today, WINDOW_BEFORE_DAYS)
    return AlertEvidence(
        alert=alert,
        series=pd.DataFrame(columns=["date", "observed", "expected", "lower", "upper", "alerted"]),
        measure="",
        unit="",
        start=start,
        end=end,
        band="none",
    )
