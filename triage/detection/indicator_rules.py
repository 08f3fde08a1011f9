"""Indicator signals: threshold breaches, sustained deterioration, seasonal anomalies, staleness."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from scipy import special

from triage.detection.common import _alert_row, _alerts_frame, _day_index, _fmt, _from_day, _to_day
from triage.detection.surge_stats import _bh_qvalues_by_group
from triage.indicators import CADENCE_DAYS, OVERDUE_PERIODS
from triage.vocabulary import PERCENT_UNITS


def indicator_series_key(indicator_id: object) -> str:
    """The ``series`` name of an indicator's alerts."""
    return f"indicator:{indicator_id}"


def detect_indicator_alerts(
    indicators: pd.DataFrame,
    observations: pd.DataFrame,
    as_of: dt.date | str,
    *,
    fdr: float = 0.05,
) -> pd.DataFrame:
    """All indicator signals as of a date: breaches, deterioration, seasonal anomalies, stale.

    In: see :func:`detect_threshold_breaches` and :func:`detect_stale_indicators`. Out:
    :data:`ALERT_COLUMNS` plus ``indicator_id``. The two statistical signals (trend and
    seasonal) are each held to Benjamini-Hochberg at ``fdr`` across indicators.
    """
    parts = [
        detect_threshold_breaches(indicators, observations, as_of),
        detect_deterioration(indicators, observations, as_of, fdr=fdr),
        detect_seasonal_anomalies(indicators, observations, as_of, fdr=fdr),
        detect_stale_indicators(indicators, observations, as_of),
    ]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _alerts_frame([], indicator=True)
    return pd.concat(parts, ignore_index=True)


def detect_threshold_breaches(
    indicators: pd.DataFrame, observations: pd.DataFrame, as_of: dt.date | str
) -> pd.DataFrame:
    """Indicators whose latest value is at or past their warning or critical threshold.

    In: ``indicators`` with ``indicator_id, name, direction`` (``up`` = higher is better,
    ``down`` = lower is better), ``warning_threshold, critical_threshold`` (either may be
    NaN) and optionally ``unit``; ``observations`` with ``indicator_id, period, value`` and
    optionally ``entered_at`` (see :func:`latest_observations`). Out: :data:`ALERT_COLUMNS`
    plus ``indicator_id``, kind ``threshold``, dated ``as_of``; ``expected`` is the threshold
    crossed and ``lower``/``upper`` bound the acceptable side of the warning threshold.
    """
    latest = latest_observations(observations, as_of)
    last = latest.sort_values("period").groupby("indicator_id").tail(1).set_index("indicator_id")
    when = _from_day(np.array([_to_day(as_of)]))[0]
    rows = []
    for ind in indicators.itertuples(index=False):
        if ind.indicator_id not in last.index:
            continue
        value = float(last.at[ind.indicator_id, "value"])
        period = pd.Timestamp(last.at[ind.indicator_id, "period"]).date()
        lower_is_better = ind.direction == "down"
        warn, crit = _num(ind.warning_threshold), _num(ind.critical_threshold)

        if _breaches(value, crit, lower_is_better):
            severity, limit = "critical", crit
        elif _breaches(value, warn, lower_is_better):
            severity, limit = "warning", warn
        else:
            continue
        assert limit is not None
        side = "above" if lower_is_better else "below"
        better = "lower" if lower_is_better else "higher"
        unit = _unit(ind)
        rows.append(
            _alert_row(
                indicator_series_key(ind.indicator_id),
                when,
                "threshold",
                f"threshold-{severity}",
                severity,
                expected=limit,
                observed=value,
                lower=warn if (warn is not None and not lower_is_better) else math.nan,
                upper=warn if (warn is not None and lower_is_better) else math.nan,
                message=(
                    f"{ind.name} is {_with_unit(value, unit)} for {period.isoformat()}, {side} its "
                    f"{severity} threshold of {_with_unit(limit, unit)} ({better} is better)."
                ),
                indicator_id=ind.indicator_id,
            )
        )
    return _alerts_frame(rows, indicator=True)


def detect_deterioration(
    indicators: pd.DataFrame,
    observations: pd.DataFrame,
    as_of: dt.date | str,
    *,
    points: int = 8,
    min_points: int = 5,
    min_change: float = 0.05,
    fdr: float = 0.05,
) -> pd.DataFrame:
    """Indicators getting steadily worse over their last ``points`` values (Mann-Kendall).

    In: as :func:`detect_threshold_breaches`. Out: :data:`ALERT_COLUMNS` plus
    ``indicator_id``, kind ``trend``. A one-sided Mann-Kendall test in the bad direction
    (rank-based, so robust to outliers and to the indicator's scale), Benjamini-Hochberg at
    ``fdr`` across indicators, and a practical floor: the latest value must be worse than the
    window's median by ``min_change`` of that median's size. Critical when every step of the
    window went the wrong way. ``expected`` is the window's median, ``observed`` the latest.
    """
    latest = latest_observations(observations, as_of)
    when = _from_day(np.array([_to_day(as_of)]))[0]
    by_id = {k: g.sort_values("period") for k, g in latest.groupby("indicator_id")}
    tests = []
    for ind in indicators.itertuples(index=False):
        hist = by_id.get(ind.indicator_id)
        if hist is None or len(hist) < min_points:
            continue
        values = hist["value"].to_numpy(float)[-points:]
        sign = 1.0 if ind.direction == "down" else -1.0
        n = len(values)
        diffs = np.sign(values[None, :] - values[:, None])[np.triu_indices(n, 1)]
        s_bad = sign * float(diffs.sum())
        if s_bad <= 0:
            continue
        var = n * (n - 1) * (2 * n + 5) / 18.0
        p = float(special.ndtr(-(s_bad - 1.0) / math.sqrt(var)))
        median = float(np.median(values))
        worse = sign * (values[-1] - median)
        if worse < min_change * max(abs(median), 1e-9):
            continue
        tests.append((ind, p, median, float(values[-1]), n, s_bad == n * (n - 1) / 2))
    rows = []
    if tests:
        p = np.array([t[1] for t in tests])
        q = _bh_qvalues_by_group(p, np.zeros(len(p), dtype=np.int64), np.full(len(p), len(p)))
        for (ind, pv, median, last, n, monotone), qv in zip(tests, q, strict=True):
            if qv > fdr:
                continue
            unit = _unit(ind)
            way = "risen" if ind.direction == "down" else "fallen"
            rows.append(
                _alert_row(
                    indicator_series_key(ind.indicator_id),
                    when,
                    "trend",
                    "mann-kendall",
                    "critical" if monotone else "warning",
                    expected=median,
                    observed=last,
                    p_value=pv,
                    q_value=float(qv),
                    message=(
                        f"{ind.name} has {way} steadily over its last {n} values, to "
                        f"{_with_unit(last, unit)} against a median of {_with_unit(median, unit)} "
                        f"(sustained deterioration)."
                    ),
                    indicator_id=ind.indicator_id,
                )
            )
    return _alerts_frame(rows, indicator=True)


def _year_ago(codes: np.ndarray, days: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """Per row (sorted by code, then day): the row of the same code nearest to 365 days
    before, within ``tolerance`` days and earlier in the series; -1 when none. On equal
    distance the earlier row wins (as ``min`` over [previous - 1, previous] did)."""
    span = int(days.max() - days.min()) + 400 if len(days) else 1
    key = codes.astype(np.int64) * (2 * span) + (days - (days.min() if len(days) else 0))
    target = key - 365
    previous = np.searchsorted(key, target)
    n = len(key)
    rows = np.arange(n)
    best = np.full(n, -1)
    best_gap = np.full(n, np.iinfo(np.int64).max)
    for j in (previous - 1, previous):  # the order decides ties
        inside = (j >= 0) & (j < rows)
        jj = np.where(inside, j, 0)
        same = inside & (codes[jj] == codes)
        gap = np.abs(days[jj] - (days - 365))
        ok = same & (gap <= tolerance) & (gap < best_gap)
        best = np.where(ok, jj, best)
        best_gap = np.where(ok, gap, best_gap)
    return best


def detect_seasonal_anomalies(
    indicators: pd.DataFrame,
    observations: pd.DataFrame,
    as_of: dt.date | str,
    *,
    min_history: int = 8,
    z: float = 1.96,
    fdr: float = 0.05,
) -> pd.DataFrame:
    """Indicators whose latest value is unusually bad for the time of year.

    In: as :func:`detect_threshold_breaches` (weekly, monthly and quarterly cadences; annual
    values have no season). Out: :data:`ALERT_COLUMNS` plus ``indicator_id``, kind
    ``seasonal``. The year-over-year change of the latest value is compared with the
    indicator's own past year-over-year changes (median and MAD, so one odd year does not
    set the scale): differencing by a year removes the seasonal pattern, and the median
    change carries the trend. A one-sided normal p-value in the bad direction goes through
    Benjamini-Hochberg at ``fdr`` across indicators; ``min_history`` past changes are needed.
    ``expected`` is last year's value plus the typical change, with a ``z`` band.
    """
    latest = latest_observations(observations, as_of)
    when = _from_day(np.array([_to_day(as_of)]))[0]
    latest = latest.sort_values(["indicator_id", "period"], kind="stable")
    ids = latest["indicator_id"].to_numpy()
    codes, uniques = pd.factorize(ids, sort=False)
    days = _day_index(latest["period"])
    values = latest["value"].to_numpy(float)
    cadence_of = dict(
        zip(indicators["indicator_id"], indicators["cadence"].astype(str), strict=False)
    )
    cadence_days = np.array([CADENCE_DAYS.get(cadence_of.get(u, ""), 0) for u in uniques])
    tolerance = np.maximum(cadence_days // 2, 3)[codes] if len(codes) else np.array([], int)
    match = _year_ago(codes, days, tolerance)
    changes = np.where(match >= 0, values - values[np.maximum(match, 0)], np.nan)
    if len(codes):
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        ends = np.r_[starts[1:], len(codes)]
    else:  # no observations up to as_of: nothing to compare
        starts = ends = np.array([], int)
    span_of = {uniques[codes[s]]: (s, e) for s, e in zip(starts, ends, strict=True)}
    tests = []
    for ind in indicators.itertuples(index=False):
        bounds = span_of.get(ind.indicator_id)
        cadence = CADENCE_DAYS.get(str(ind.cadence))
        if bounds is None or cadence is None or ind.cadence == "annual":
            continue
        start, end = bounds
        if match[end - 1] < 0:
            continue
        series = changes[start:end]
        past = series[:-1][np.isfinite(series[:-1])]
        if len(past) < min_history:
            continue
        centre = float(np.median(past))
        scale = 1.4826 * float(np.median(np.abs(past - centre)))
        if scale <= 0:
            continue
        sign = 1.0 if ind.direction == "down" else -1.0
        score = sign * (series[-1] - centre) / scale
        if score <= 0:
            continue
        expected = values[match[end - 1]] + centre
        tests.append((ind, float(special.ndtr(-score)), expected, values[end - 1], scale))
    rows = []
    if tests:
        p = np.array([t[1] for t in tests])
        q = _bh_qvalues_by_group(p, np.zeros(len(p), dtype=np.int64), np.full(len(p), len(p)))
        for (ind, pv, expected, value, scale), qv in zip(tests, q, strict=True):
            if qv > fdr:
                continue
            unit = _unit(ind)
            rows.append(
                _alert_row(
                    indicator_series_key(ind.indicator_id),
                    when,
                    "seasonal",
                    "year-over-year",
                    "warning",
                    expected=expected,
                    observed=value,
                    lower=expected - z * scale,
                    upper=expected + z * scale,
                    p_value=pv,
                    q_value=float(qv),
                    message=(
                        f"{ind.name} is {_with_unit(value, unit)}, worse than usual for the "
                        f"time of year: about {_with_unit(expected, unit)} was expected from last "
                        "year and the usual year-over-year change."
                    ),
                    indicator_id=ind.indicator_id,
                )
            )
    return _alerts_frame(rows, indicator=True)


def detect_stale_indicators(
    indicators: pd.DataFrame, observations: pd.DataFrame, as_of: dt.date | str
) -> pd.DataFrame:
    """Indicators not updated within their cadence (plus a reporting grace period).

    In: ``indicators`` with ``indicator_id, name, cadence`` and optionally ``created_at``;
    ``observations`` as :func:`latest_observations`. Out: :data:`ALERT_COLUMNS` plus
    ``indicator_id``, kind ``stale``: ``observed`` is the age in days of the latest period,
    ``expected`` the allowed age (the shared rule of ``triage.indicators``). Critical once
    two more periods have been missed. An indicator never reported is stale once it is older
    than the allowed age (or at once, without ``created_at``).
    """
    day = _to_day(as_of)
    latest = latest_observations(observations, as_of)
    last = latest.groupby("indicator_id")["period"].max()
    when = _from_day(np.array([day]))[0]
    rows = []
    for ind in indicators.itertuples(index=False):
        cadence = CADENCE_DAYS.get(str(ind.cadence))
        if cadence is None:
            continue
        allowed = OVERDUE_PERIODS * cadence
        if ind.indicator_id in last.index:
            period = pd.Timestamp(last[ind.indicator_id]).date()
            age = day - _to_day(period)
            if age <= allowed:
                continue
            what = f"its latest value is for {period.isoformat()}, {age} days ago"
        else:
            created = getattr(ind, "created_at", None)
            age = day - _to_day(created) if created is not None and not pd.isna(created) else None
            if age is not None and age <= allowed:
                continue
            what = "it has never been reported"
        severity = "critical" if age is not None and age > allowed + 2 * cadence else "warning"
        rows.append(
            _alert_row(
                indicator_series_key(ind.indicator_id),
                when,
                "stale",
                "cadence",
                severity,
                expected=float(allowed),
                observed=float(age) if age is not None else math.nan,
                message=(
                    f"{ind.name} is overdue: {what}, and a {ind.cadence} indicator should be "
                    f"updated within {allowed} days."
                ),
                indicator_id=ind.indicator_id,
            )
        )
    return _alerts_frame(rows, indicator=True)


def latest_observations(observations: pd.DataFrame, as_of: dt.date | str) -> pd.DataFrame:
    """Observations known on ``as_of``: period <= as_of, and the latest entry per period.

    In: ``indicator_id, period, value`` and optionally ``entered_at`` (then rows entered
    after the end of ``as_of`` are not yet known, and corrections replace earlier entries).
    Out: ``indicator_id, period, value``, one row per indicator and period.
    """
    frame = observations.copy()
    frame["period"] = pd.to_datetime(frame["period"])
    end = pd.Timestamp(_from_day(np.array([_to_day(as_of)]))[0])
    frame = frame[frame["period"] <= end]
    if "entered_at" in frame.columns:
        entered = pd.to_datetime(frame["entered_at"])
        frame = frame[entered < end + pd.Timedelta(days=1)]
        frame = frame.sort_values("entered_at", kind="stable")
    frame = frame.drop_duplicates(["indicator_id", "period"], keep="last")
    return frame[["indicator_id", "period", "value"]].reset_index(drop=True)


def _breaches(value: float, limit: float | None, lower_is_better: bool) -> bool:
    """At or past the limit on the bad side (reaching a threshold counts as crossing it)."""
    if limit is None:
        return False
    return value >= limit if lower_is_better else value <= limit


def _num(value: object) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


def _unit(ind: object) -> str:
    unit = getattr(ind, "unit", "") or ""
    return unit.strip() if isinstance(unit, str) else ""


# Units that say nothing a reader needs after the number ("46", not "46 count").
_PLAIN_UNITS = frozenset({"", "count", "counts", "number", "ratio", "rate", "index", "score"})


def _with_unit(value: float, unit: str) -> str:
    """A value in plain English with its unit: "12.5%", "$180,000", "46", "3 days", "1 day"."""
    unit = (unit or "").strip()
    if not math.isfinite(value):
        return "n/a"
    if unit.lower() in PERCENT_UNITS:
        return f"{_fmt(value)}%"
    if unit.upper() in ("USD", "$"):
        return f"-${_fmt(-value)}" if value < 0 else f"${_fmt(value)}"
    if unit.lower() in _PLAIN_UNITS:
        return _fmt(value)
    if abs(value) == 1 and unit.endswith("s") and not unit.endswith("ss"):
        unit = unit[:-1]
    return f"{_fmt(value)} {unit}"
