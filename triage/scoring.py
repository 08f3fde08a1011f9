"""Scoring: importance, tractability, neglectedness and priority of every problem, with reasons.

Pure functions over pandas frames (each states its columns in and out); ``db.scores``
loads the frames and stores the weekly snapshots. Every number is explainable in a sentence.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from triage.backward_map import EVIDENCE_VALUE, map_metrics

# An indicator is overdue when its latest period is older than two of its cadence periods
# (one for the data to happen, one to report it): the same rule as ``triage.indicators.is_overdue``.
from triage.indicators import CADENCE_DAYS, OVERDUE_PERIODS
from triage.scoring_explain import _explain
from triage.validation import ValidationError

# The week helpers live in ``triage.weeks``; callers may keep importing them from here.
from triage.weeks import iso_week as iso_week
from triage.weeks import previous_week as previous_week
from triage.weeks import week_end as week_end
from triage.weeks import week_start as week_start

# Freshness falls from 1 to 0 over this many further periods once an indicator is overdue.
STALE_FADE_PERIODS = 2
# The trend is the least-squares slope of the latest observations: a quarter of weekly data,
# a year of monthly data. Fewer than three points make no trend.
TREND_POINTS = 12
MIN_TREND_POINTS = 3
# An indicator with six points (half the trend window) has enough history to be trusted.
FULL_HISTORY_POINTS = 6
# The smallest full-gap distance, so that a threshold set a hair from target stays finite.
MIN_SCALE = 1e-9
# Indicators weighing at least half a problem's heaviest are its core indicators.
CORE_WEIGHT_SHARE = 0.5
# When an indicator has no numeric target, the department's own status stands in for the gap.
STATUS_GAP: dict[str, float] = {"on_track": 0.0, "at_risk": 0.4, "off_track": 0.8}
# Half-width of a component's range when its data quality is zero; missing data spans [0, 1].
UNCERTAINTY_BAND = 0.3

# Citizen concern counts the last 90 days; reporting habits are learnt from the last year.
CONCERN_WINDOW_DAYS = 90
PROPENSITY_WINDOW_DAYS = 365
# Assumption: in a district of need 1 the conditions residents report occur twice as often per
# resident as in a district of need 0. Reports alone cannot separate need from the habit of
# reporting, so this is stated rather than estimated.
NEED_ELASTICITY = 1.0
# Shrinkage: as if each district had filed 50 more reports at exactly the expected rate.
PROPENSITY_PRIOR_REPORTS = 50.0
# No district is adjusted by more than four times either way.
PROPENSITY_BOUNDS = (0.25, 4.0)
# Concern is 1 at the adjusted report rate of the busiest tenth of problems (log scale).
CONCERN_REFERENCE_QUANTILE = 0.9
# Thirty reports in the window make the concern reading fully trusted.
FULL_REPORTS = 30
# Explanations mention an under-reporting adjustment from 1.2x raw (the other thresholds of
# the explanations are in ``triage.scoring_explain``).
MENTION_ADJUSTMENT = 1.2

# Actors from six sectors (the method's core six) give full sector coverage.
FULL_SECTORS = 6
# Funding on a log scale: $10k or less scores 0, $10M or more scores 1.
FUNDING_FLOOR_USD = 1e4
FUNDING_FULL_USD = 1e7
STAGE_VALUE: dict[str, float] = {
    "idea": 0.2,
    "pilot": 0.5,
    "evaluating": 0.7,
    "scaling": 1.0,
    "retired": 0.0,
}
ORIGIN_VALUE: dict[str, float] = {
    "tested_elsewhere": 1.0,
    "reclaimed": 0.8,
    "home_grown": 0.7,
    "wholly_new": 0.5,
}
# No single idea is a sure thing: even a proven, scaling one counts as an 80% chance.
MAX_IDEA_CHANCE = 0.8
# A fully crowded problem keeps half its priority: the office's attention still counts there.
NEGLECT_FLOOR = 0.5
# Scores are floored before the geometric mean so that zero stays comparable (no log(0)).
SCORE_FLOOR = 1e-3
# Confidence: how much of the score rests on fresh indicators, enough reports and a mapped cause.
CONFIDENCE_WEIGHTS = {"indicators": 0.5, "reports": 0.25, "map": 0.25}
# A missing component is assumed typical: the median over problems that have it, else this.
MISSING_DEFAULT = 0.5

IMPORTANCE_PARTS = ("gap", "worsening", "people", "concern", "equity")
TRACTABILITY_PARTS = ("reach", "capacity", "pipeline", "authority", "political_capital")
NEGLECT_PARTS = ("uncovered", "sectors_absent", "funding_gap")
# Components measured from data that can be missing (the rest are recorded facts, or zero
# when nothing is recorded: no actors engaged is a fact, not a gap in the data).
IMPUTABLE = ("gap", "worsening", "people", "concern", "equity", "reach", "uncovered")

WORST_COLUMNS = (
    "name",
    "unit",
    "direction",
    "cadence",
    "target",
    "latest_value",
    "gap",
    "worsening",
    "streak",
    "status",
)
CONCERN_COLUMNS = (
    "reports_raw",
    "reports_adjusted",
    "raw_per_1k",
    "adjusted_per_1k",
    "concern",
    "concern_raw",
    "top_district",
    "top_ratio",
)
MAP_COLUMNS = (
    "factors",
    "uncovered_factors",
    "sectors_engaged",
    "committed_funding",
    "engagements",
    "competing_engagements",
    "has_cycle",
)
EXACT_PARTS = (
    "people",
    "equity",
    "capacity",
    "pipeline",
    "authority",
    "political_capital",
    "sectors_absent",
)

COLUMNS: dict[str, list[str]] = {
    "problems": ["id", "title", "status", "political_capital", "authority"],
    "problem_districts": ["problem_id", "district_id"],
    "districts": ["id", "name", "population", "need_index"],
    "indicators": [
        "id",
        "name",
        "unit",
        "direction",
        "cadence",
        "target",
        "warning_threshold",
        "critical_threshold",
    ],
    "problem_indicators": ["problem_id", "indicator_id", "weight"],
    "observations": ["indicator_id", "period", "value"],
    "status_updates": ["indicator_id", "status", "created_at"],
    "report_counts": ["day", "category_id", "district_id", "count"],
    "category_problems": ["category_id", "problem_id", "weight"],
    "factors": ["id", "problem_id", "title", "reach", "evidence", "weight", "indicator_id"],
    "factor_links": ["factor_id", "parent_id"],
    "actors": ["id", "name", "sector"],
    "engagements": [
        "id",
        "actor_id",
        "problem_id",
        "factor_id",
        "role",
        "stance",
        "committed_funding",
    ],
    "innovations": ["id", "problem_id", "title", "origin", "kind", "stage", "evidence"],
}


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _ensure(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    if frame is None:
        return _empty(columns)
    missing = [c for c in columns if c not in frame.columns]
    return frame.assign(**{c: pd.NA for c in missing}) if missing else frame


@dataclass(frozen=True)
class ScoringInputs:
    """Everything the scoring reads, one DataFrame per table (columns in :data:`COLUMNS`).

    ``observations`` may carry ``entered_at``: of several rows for one period the latest
    entry wins (without it, the last row). ``report_counts`` comes from the daily aggregate
    (day × category × district), never raw reports; only sums over the windows ending on
    ``as_of`` are read, so the loader may pre-sum days into one row per window. Problems
    listed in ``problems`` are the ones ranked (the loader leaves resolved problems out).
    Missing frames are empty.
    """

    problems: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["problems"]))
    problem_districts: pd.DataFrame = field(
        default_factory=lambda: _empty(COLUMNS["problem_districts"])
    )
    districts: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["districts"]))
    indicators: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["indicators"]))
    problem_indicators: pd.DataFrame = field(
        default_factory=lambda: _empty(COLUMNS["problem_indicators"])
    )
    observations: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["observations"]))
    status_updates: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["status_updates"]))
    report_counts: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["report_counts"]))
    category_problems: pd.DataFrame = field(
        default_factory=lambda: _empty(COLUMNS["category_problems"])
    )
    factors: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["factors"]))
    factor_links: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["factor_links"]))
    actors: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["actors"]))
    engagements: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["engagements"]))
    innovations: pd.DataFrame = field(default_factory=lambda: _empty(COLUMNS["innovations"]))

    def __post_init__(self) -> None:
        for name, columns in COLUMNS.items():
            object.__setattr__(self, name, _ensure(getattr(self, name), columns))


@dataclass(frozen=True)
class ScoringWeights:
    """Weights the chief of staff may change; stored in ``app_settings`` under :data:`KEY`.

    The first three are the exponents of the weighted geometric mean that makes priority;
    the others weigh the components inside each score (a weighted arithmetic mean). Only
    ratios matter within a group; every weight is >= 0 and importance and tractability must
    stay above zero so that a problem has to be both important and tractable to rank high.
    """

    KEY = "scoring_weights"
    VERSION = 1

    importance: float = 1.0
    tractability: float = 1.0
    neglectedness: float = 0.5
    gap: float = 0.35
    worsening: float = 0.15
    people: float = 0.15
    concern: float = 0.20
    equity: float = 0.15
    reach: float = 0.30
    capacity: float = 0.25
    pipeline: float = 0.15
    authority: float = 0.15
    political_capital: float = 0.15
    uncovered: float = 0.50
    sectors_absent: float = 0.25
    funding_gap: float = 0.25

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"Weight '{f.name}' must be a number.")
            if not math.isfinite(value) or value < 0 or value > 100:
                raise ValidationError(f"Weight '{f.name}' must be between 0 and 100.")
            object.__setattr__(self, f.name, float(value))
        if self.importance <= 0 or self.tractability <= 0:
            raise ValidationError(
                "The importance and tractability weights must be above zero: "
                "a problem must be both important and tractable to rank high."
            )
        for group, parts in (
            ("importance", IMPORTANCE_PARTS),
            ("tractability", TRACTABILITY_PARTS),
            ("neglectedness", NEGLECT_PARTS),
        ):
            if sum(getattr(self, p) for p in parts) <= 0:
                raise ValidationError(f"At least one {group} component needs a weight above 0.")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"version": 1, "importance": 1.0, ...}``."""
        return {"version": self.VERSION, **{name: getattr(self, name) for name in self.names()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ScoringWeights:
        """Weights from stored JSON; absent keys take defaults, unknown keys are refused."""
        if not data:
            return cls()
        data = dict(data)
        version = data.pop("version", cls.VERSION)
        if version != cls.VERSION:
            raise ValidationError(f"Unknown scoring weights version {version!r}.")
        unknown = sorted(set(data) - set(cls.names()))
        if unknown:
            raise ValidationError(f"Unknown scoring weights: {', '.join(unknown)}.")
        return cls(**data)

    def group(self, parts: tuple[str, ...]) -> dict[str, float]:
        return {p: getattr(self, p) for p in parts}


# ---------------------------------------------------------------- indicators


def _scale(direction: np.ndarray, target: np.ndarray, warning: np.ndarray, critical: np.ndarray):
    """The distance that counts as a full gap: target to critical threshold when it lies on the
    bad side, else twice target to warning, else half the target, else one unit."""
    sign = np.where(direction == "down", -1.0, 1.0)
    with np.errstate(invalid="ignore"):
        crit = sign * (target - critical)
        warn = sign * (target - warning)
        half = 0.5 * np.abs(target)
    scale = np.where(crit > 0, crit, np.where(warn > 0, 2 * warn, np.where(half > 0, half, 1.0)))
    # A vanishing distance would turn any shortfall into an infinite ratio.
    return sign, np.maximum(scale, MIN_SCALE)


def indicator_gaps(
    indicators: pd.DataFrame,
    observations: pd.DataFrame,
    as_of: dt.date,
    status_updates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each indicator's gap to target, its trend and how far its data can be trusted.

    In: ``indicators`` (id, name, unit, direction "up"/"down" = which way is better, cadence,
    target, warning_threshold, critical_threshold); ``observations`` (indicator_id, period,
    value, optional entered_at; later periods than ``as_of`` are ignored, and of several rows
    for a period the latest entry wins); ``status_updates`` (indicator_id, status, created_at).

    Out, one row per indicator: indicator_id, name, unit, direction, cadence, target,
    latest_period (Timestamp or NaT), latest_value, points (observations in the trend
    window), attainment, shortfall, scale, gap, gap_source, slope_per_year, worsening,
    streak, days_since, overdue, freshness, quality, gap_low, gap_high, worsening_low,
    worsening_high.

    - attainment: the CityScore ratio (actual/target, or target/actual when lower is
      better), capped to [0, 1.5]; shown, not scored, since one runaway ratio must not swing
      a problem.
    - gap in [0, 1]: shortfall from target as a share of the distance from target to the
      critical threshold (1 = at or past critical); without a critical threshold the full
      distance is twice the warning distance, else half the target. Being better than target
      scores 0: over-performance never hides another indicator's shortfall. Without a target
      the latest status stands in (on track 0, at risk 0.4, off track 0.8).
    - worsening in [0, 1]: how much of that full distance the trend would add in a year, only
      in the bad direction; streak: how many periods in a row it got worse.
    - freshness: 1 while not overdue, falling to 0 two periods later; quality = freshness ×
      history (points / 6, at most 1) × source (target 1, status 0.5, none 0).
    - gap_low/gap_high: gap ± 0.3 × (1 − quality), or [0, 1] when unknown; same for worsening.
    """
    ind = _ensure(indicators, COLUMNS["indicators"]).drop_duplicates("id")
    ind = ind.assign(id=ind["id"].astype("int64")).set_index("id").sort_index()
    as_of_ts = pd.Timestamp(as_of)
    obs = _ensure(observations, COLUMNS["observations"])
    keep = ["indicator_id", "period", "value"] + (["entered_at"] if "entered_at" in obs else [])
    obs = obs[keep].assign(
        period=pd.to_datetime(obs["period"]),
        value=pd.to_numeric(obs["value"], errors="coerce"),
    )
    obs = obs[(obs["period"] <= as_of_ts) & obs["value"].notna() & obs["indicator_id"].notna()]
    obs = obs.assign(indicator_id=obs["indicator_id"].astype("int64"))
    obs = obs.sort_values(keep[:2] + keep[3:], kind="stable")
    ids = obs["indicator_id"].to_numpy()
    periods = obs["period"].to_numpy()
    last_of_period = np.ones(len(obs), dtype=bool)
    last_of_period[:-1] = ~((ids[:-1] == ids[1:]) & (periods[:-1] == periods[1:]))
    obs = obs[last_of_period]
    from_end = obs.groupby("indicator_id").cumcount(ascending=False).to_numpy()
    tail = obs[from_end < TREND_POINTS].assign(from_end=from_end[from_end < TREND_POINTS])

    latest = tail[tail["from_end"] == 0].set_index("indicator_id")
    direction = ind["direction"].astype(object).fillna("up").to_numpy()
    target = pd.to_numeric(ind["target"], errors="coerce").to_numpy(dtype=float)
    sign, scale = _scale(
        direction,
        target,
        pd.to_numeric(ind["warning_threshold"], errors="coerce").to_numpy(dtype=float),
        pd.to_numeric(ind["critical_threshold"], errors="coerce").to_numpy(dtype=float),
    )
    sign_by_id = pd.Series(sign, index=ind.index)

    tail_sign = tail["indicator_id"].map(sign_by_id).fillna(1.0).to_numpy()
    last_period = tail.groupby("indicator_id")["period"].transform("max")
    x = (tail["period"] - last_period).dt.days.to_numpy(float)
    y = tail["value"].to_numpy(float)
    step = tail.groupby("indicator_id")["value"].diff().to_numpy(float)
    worse_step = np.nan_to_num(-tail_sign * step, nan=0.0) > 0
    sums = (
        pd.DataFrame(
            {
                "indicator_id": tail["indicator_id"].to_numpy(),
                "n": 1.0,
                "x": x,
                "y": y,
                "xx": x * x,
                "xy": x * y,
                "calm": np.where(worse_step, np.inf, tail["from_end"].to_numpy(float)),
            }
        )
        .groupby("indicator_id")
        .agg(
            n=("n", "sum"),
            x=("x", "sum"),
            y=("y", "sum"),
            xx=("xx", "sum"),
            xy=("xy", "sum"),
            calm=("calm", "min"),
        )
        .reindex(ind.index)
    )
    n = sums["n"].fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = n * sums["xx"].to_numpy() - sums["x"].to_numpy() ** 2
        slope_per_day = (
            n * sums["xy"].to_numpy() - sums["x"].to_numpy() * sums["y"].to_numpy()
        ) / denom
    slope_per_day = np.where((n >= MIN_TREND_POINTS) & (denom > 0), slope_per_day, np.nan)
    # The first point of the window has no step before it, so a streak is at most n - 1.
    streak = np.where(n > 0, np.minimum(sums["calm"].fillna(0).to_numpy(), np.maximum(n - 1, 0)), 0)

    latest = latest.reindex(ind.index)
    value = latest["value"].to_numpy(float)
    latest_period = latest["period"]
    with np.errstate(invalid="ignore", divide="ignore"):
        shortfall = sign * (target - value)
        attainment = np.where(sign > 0, value / target, target / value)
    attainment = np.where(
        np.isfinite(attainment) & (target != 0), np.clip(attainment, 0.0, 1.5), np.nan
    )
    gap = np.clip(shortfall / scale, 0.0, 1.0)

    statuses = _latest_status(status_updates).reindex(ind.index)
    status_gap = statuses.map(STATUS_GAP).to_numpy(dtype=float)
    has_target = ~np.isnan(target) & ~np.isnan(value)
    from_status = ~has_target & ~np.isnan(status_gap)
    gap = np.where(has_target, gap, np.where(from_status, status_gap, np.nan))
    gap_source = np.where(has_target, "target", np.where(from_status, "status", "none"))
    source_quality = np.where(has_target, 1.0, np.where(from_status, 0.5, 0.0))

    with np.errstate(over="ignore", invalid="ignore"):
        yearly = -sign * slope_per_day * 365.0 / scale
    worsening = np.where(has_target, np.clip(yearly, 0.0, 1.0), np.nan)
    cadence = ind["cadence"].astype(object).fillna("monthly")
    cadence_days = cadence.map(CADENCE_DAYS).fillna(31).to_numpy(float)
    days_since = (as_of_ts - latest_period).dt.days.to_numpy(float)
    late = np.maximum(0.0, days_since - OVERDUE_PERIODS * cadence_days)
    freshness = np.where(
        np.isnan(days_since), 0.0, np.clip(1 - late / (STALE_FADE_PERIODS * cadence_days), 0, 1)
    )
    overdue = np.isnan(days_since) | (days_since > OVERDUE_PERIODS * cadence_days)
    quality = freshness * np.minimum(1.0, n / FULL_HISTORY_POINTS) * source_quality
    band = UNCERTAINTY_BAND * (1 - quality)

    def low_high(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        known = ~np.isnan(values)
        low = np.where(known, np.clip(values - band, 0, 1), 0.0)
        high = np.where(known, np.clip(values + band, 0, 1), 1.0)
        return low, high

    gap_low, gap_high = low_high(gap)
    worsening_low, worsening_high = low_high(worsening)
    return pd.DataFrame(
        {
            "indicator_id": ind.index.to_numpy(),
            "name": ind["name"].astype(object).fillna("").to_numpy(),
            "unit": ind["unit"].astype(object).fillna("").to_numpy(),
            "direction": direction,
            "cadence": cadence.to_numpy(),
            "target": target,
            "latest_period": latest_period.to_numpy(),
            "latest_value": value,
            "points": n.astype("int64"),
            "attainment": attainment,
            "shortfall": shortfall,
            "scale": scale,
            "gap": gap,
            "gap_source": gap_source,
            "status": statuses.to_numpy(dtype=object),
            "slope_per_year": slope_per_day * 365.0,
            "worsening": worsening,
            "streak": streak.astype("int64"),
            "days_since": days_since,
            "overdue": overdue,
            "freshness": freshness,
            "quality": quality,
            "gap_low": gap_low,
            "gap_high": gap_high,
            "worsening_low": worsening_low,
            "worsening_high": worsening_high,
        }
    )


def _latest_status(status_updates: pd.DataFrame | None) -> pd.Series:
    """The latest status per indicator id (by created_at, then row order)."""
    s = _ensure(status_updates, COLUMNS["status_updates"]).dropna(subset=["indicator_id"])
    if s.empty:
        return pd.Series(dtype=object)
    s = s.assign(indicator_id=s["indicator_id"].astype("int64"), _row=np.arange(len(s)))
    s = s.sort_values(["indicator_id", "created_at", "_row"], kind="stable")
    return s.groupby("indicator_id")["status"].last()


def problem_gaps(problem_indicators: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """Indicator gaps rolled up to problems, weighted by the problem-indicator weight.

    In: ``problem_indicators`` (problem_id, indicator_id, weight), ``gaps`` from
    :func:`indicator_gaps`. Out, index problem_id: indicators, indicators_with_data,
    off_target, stale, gap and worsening (weighted means over indicators with a gap; NaN
    when none), gap_low/gap_high and worsening_low/worsening_high (weighted means over all
    linked indicators, unknown ones spanning [0, 1]), indicator_quality (weighted mean
    quality, 0 for unknown), worst_indicator_id (the largest weight × gap among core
    indicators, those weighing at least half the problem's heaviest; lowest id on ties).
    """
    links = _ensure(problem_indicators, COLUMNS["problem_indicators"]).dropna(
        subset=["problem_id", "indicator_id"]
    )
    links = links.assign(
        problem_id=links["problem_id"].astype("int64"),
        indicator_id=links["indicator_id"].astype("int64"),
        weight=pd.to_numeric(links["weight"], errors="coerce").fillna(1.0).clip(lower=0.0),
    )
    m = links.merge(gaps, on="indicator_id", how="inner")
    known = m["gap"].notna()
    w = m["weight"]
    wk = w.where(known, 0.0)
    worse_known = m["worsening"].notna()
    ww = w.where(worse_known, 0.0)
    frame = pd.DataFrame(
        {
            "problem_id": m["problem_id"],
            "one": 1,
            "has_data": m["latest_value"].notna(),
            "off": m["gap"].fillna(0) > 0,
            "stale": m["overdue"].astype(bool),
            "w": w,
            "wk": wk,
            "ww": ww,
            "wgap": wk * m["gap"].fillna(0),
            "wworse": ww * m["worsening"].fillna(0),
            "wgap_low": w * m["gap_low"],
            "wgap_high": w * m["gap_high"],
            "wworse_low": w * m["worsening_low"],
            "wworse_high": w * m["worsening_high"],
            "wquality": w * m["quality"],
        }
    )
    g = frame.groupby("problem_id").sum()
    total = g["w"].where(g["w"] > 0)
    out = pd.DataFrame(
        {
            "indicators": g["one"].astype("int64"),
            "indicators_with_data": g["has_data"].astype("int64"),
            "off_target": g["off"].astype("int64"),
            "stale": g["stale"].astype("int64"),
            "gap": g["wgap"] / g["wk"].where(g["wk"] > 0),
            "worsening": g["wworse"] / g["ww"].where(g["ww"] > 0),
            "gap_low": (g["wgap_low"] / total).fillna(0.0),
            "gap_high": (g["wgap_high"] / total).fillna(1.0),
            "worsening_low": (g["wworse_low"] / total).fillna(0.0),
            "worsening_high": (g["wworse_high"] / total).fillna(1.0),
            "indicator_quality": (g["wquality"] / total).fillna(0.0),
        }
    )
    # The headline indicator is the largest contributor to the gap among the problem's core
    # indicators (weight at least half its heaviest), so a minor side-indicator far off target
    # does not speak for the whole problem; others are named only if no core one is off.
    heaviest = w.groupby(m["problem_id"]).transform("max")
    worst = m.assign(
        score=w * m["gap"].fillna(-1.0),
        core_off=(w >= CORE_WEIGHT_SHARE * heaviest) & (m["gap"].fillna(0) > 0),
    )
    worst = worst.sort_values(
        ["problem_id", "core_off", "score", "indicator_id"], ascending=[True, False, False, True]
    )
    out["worst_indicator_id"] = worst.groupby("problem_id")["indicator_id"].first()
    return out


# ---------------------------------------------------------------- citizen reports


def _districts(districts: pd.DataFrame | None) -> pd.DataFrame:
    """Districts indexed by id with clean population, need and name (idempotent)."""
    if districts is not None and "id" not in districts.columns and districts.index.name == "id":
        return districts
    d = _ensure(districts, COLUMNS["districts"]).dropna(subset=["id"])
    d = d.assign(
        id=d["id"].astype("int64"),
        population=pd.to_numeric(d["population"], errors="coerce").fillna(0.0).clip(lower=0.0),
        need_index=pd.to_numeric(d["need_index"], errors="coerce").clip(0.0, 1.0),
        name=d["name"].astype(object).fillna("").astype(str),
    )
    return d.drop_duplicates("id").set_index("id").sort_index()


def _city_need(d: pd.DataFrame) -> float:
    """Population-weighted mean need of the districts that have one (0.5 when none do)."""
    known = d["need_index"].notna() & (d["population"] > 0)
    if not known.any():
        return MISSING_DEFAULT
    return float(np.average(d.loc[known, "need_index"], weights=d.loc[known, "population"]))


def _window(report_counts: pd.DataFrame, as_of: dt.date, days: int) -> pd.DataFrame:
    """Report counts per (category_id, district_id) over the ``days`` ending on ``as_of``."""
    r = _ensure(report_counts, COLUMNS["report_counts"]).dropna(
        subset=["category_id", "district_id"]
    )
    day = pd.to_datetime(r["day"])
    end = pd.Timestamp(as_of)
    r = r[(day <= end) & (day > end - pd.Timedelta(days=days))]
    return (
        pd.DataFrame(
            {
                "category_id": r["category_id"].astype("int64"),
                "district_id": r["district_id"].astype("int64"),
                "count": pd.to_numeric(r["count"], errors="coerce").fillna(0.0).astype(float),
            }
        )
        .groupby(["category_id", "district_id"], as_index=False)["count"]
        .sum()
    )


def reporting_propensity(
    report_counts: pd.DataFrame,
    districts: pd.DataFrame,
    as_of: dt.date,
    *,
    window_days: int = PROPENSITY_WINDOW_DAYS,
    need_elasticity: float = NEED_ELASTICITY,
    prior_reports: float = PROPENSITY_PRIOR_REPORTS,
    bounds: tuple[float, float] = PROPENSITY_BOUNDS,
) -> pd.DataFrame:
    """How readily each district's residents report to 311, relative to what it should file.

    In: ``report_counts`` (day, category_id, district_id, count), ``districts`` (id, name,
    population, need_index 0..1). Out, one row per district: district_id, name, population,
    need_index, observed (reports in the window), expected, propensity, adjustment.

    Expected reports share out the city's total in proportion to population × (1 +
    need_elasticity × need): conditions are assumed to occur more often where need is higher,
    so a needy district filing few reports is under-reporting, not fine. propensity =
    (observed + prior) / (expected + prior), a gamma-Poisson shrinkage toward 1 that keeps
    small districts from swinging, then bounded to [0.25, 4]. All categories count, so a
    problem truly concentrated in one district stays concentrated after adjustment.
    adjustment = 1 / propensity: "Eastside files 0.48 of the reports its population and
    need predict, so its reports count 2.1x".
    """
    d = _districts(districts)
    if d.empty:
        return pd.DataFrame(
            columns=[
                "district_id",
                "name",
                "population",
                "need_index",
                "observed",
                "expected",
                "propensity",
                "adjustment",
            ]
        )
    counts = _window(report_counts, as_of, window_days).groupby("district_id")["count"].sum()
    observed = counts.reindex(d.index).fillna(0.0)
    need = d["need_index"].fillna(_city_need(d))
    exposure = d["population"] * (1.0 + need_elasticity * need)
    total_exposure = float(exposure.sum())
    share = exposure / total_exposure if total_exposure > 0 else exposure * 0.0
    expected = share * float(observed.sum())
    propensity = ((observed + prior_reports) / (expected + prior_reports)).clip(*bounds)
    # A district nobody lives in has no reporting habit to learn.
    propensity = propensity.where(d["population"] > 0, 1.0)
    return pd.DataFrame(
        {
            "district_id": d.index.to_numpy(),
            "name": d["name"].to_numpy(),
            "population": d["population"].to_numpy(),
            "need_index": d["need_index"].to_numpy(),
            "observed": observed.to_numpy(),
            "expected": expected.to_numpy(),
            "propensity": propensity.to_numpy(),
            "adjustment": (1.0 / propensity).to_numpy(),
        }
    )


def _problem_district_scope(
    problem_ids: pd.Index, problem_districts: pd.DataFrame, district_ids: pd.Index
) -> pd.DataFrame:
    """(problem_id, district_id) pairs a problem covers; no districts listed means city-wide."""
    pd_links = _ensure(problem_districts, COLUMNS["problem_districts"]).dropna()
    pd_links = pd.DataFrame(
        {
            "problem_id": pd_links["problem_id"].astype("int64"),
            "district_id": pd_links["district_id"].astype("int64"),
        }
    )
    pd_links = pd_links[
        pd_links["problem_id"].isin(problem_ids) & pd_links["district_id"].isin(district_ids)
    ]
    scoped = set(pd_links["problem_id"])
    citywide = [p for p in problem_ids if p not in scoped]
    everywhere = pd.MultiIndex.from_product(
        [citywide, district_ids], names=["problem_id", "district_id"]
    ).to_frame(index=False)
    return pd.concat([pd_links, everywhere], ignore_index=True).astype("int64")


def citizen_concern(
    report_counts: pd.DataFrame,
    category_problems: pd.DataFrame,
    problem_districts: pd.DataFrame,
    districts: pd.DataFrame,
    propensity: pd.DataFrame,
    as_of: dt.date,
    problem_ids: list[int],
    *,
    window_days: int = CONCERN_WINDOW_DAYS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Citizen concern per problem, raw and adjusted for reporting habits, and where it comes from.

    In: ``report_counts`` (day, category_id, district_id, count), ``category_problems``
    (category_id, problem_id, weight), ``problem_districts`` (problem_id, district_id; none
    = city-wide), ``districts`` (id, name, population, need_index), ``propensity`` from
    :func:`reporting_propensity`. Only reports from a problem's own districts count.

    Returns ``(per_problem, by_district)``. ``by_district``: problem_id, district_id,
    district, raw, adjusted, ratio (adjusted / raw), for every district in scope with
    reports. ``per_problem`` (index problem_id): has_categories, population (residents in
    scope), reports_raw, reports_adjusted, raw_per_1k, adjusted_per_1k (per 1,000 residents
    over the window), concern_raw and concern in [0, 1] (log-scaled against the adjusted
    rate of the busiest tenth of problems, on the same yardstick so they compare; by report
    counts when no district in scope has a population), and
    top_district, top_ratio (the district, scaled up at least 1.2x, whose adjustment adds
    the most reports; NaN when none).
    """
    index = pd.Index(sorted({int(p) for p in problem_ids}), name="problem_id", dtype="int64")
    d = _districts(districts)
    links = _ensure(category_problems, COLUMNS["category_problems"]).dropna(
        subset=["category_id", "problem_id"]
    )
    links = pd.DataFrame(
        {
            "category_id": links["category_id"].astype("int64"),
            "problem_id": links["problem_id"].astype("int64"),
            "weight": pd.to_numeric(links["weight"], errors="coerce").fillna(1.0).clip(lower=0),
        }
    )
    links = links[links["problem_id"].isin(index)]
    scope = _problem_district_scope(index, problem_districts, d.index)
    scope = scope.assign(population=scope["district_id"].map(d["population"]).fillna(0.0))
    population = scope.groupby("problem_id")["population"].sum().reindex(index).fillna(0.0)

    counts = _window(report_counts, as_of, window_days)
    rows = links.merge(counts, on="category_id").merge(
        scope[["problem_id", "district_id"]], on=["problem_id", "district_id"]
    )
    adjustment = (
        pd.Series(
            propensity["adjustment"].to_numpy(float),
            index=propensity["district_id"].astype("int64"),
        )
        if len(propensity)
        else pd.Series(dtype=float)
    )
    rows = rows.assign(raw=rows["weight"] * rows["count"])
    rows = rows.assign(adjusted=rows["raw"] * rows["district_id"].map(adjustment).fillna(1.0))
    by_district = rows.groupby(["problem_id", "district_id"], as_index=False)[
        ["raw", "adjusted"]
    ].sum()
    by_district = by_district[by_district["raw"] > 0]
    by_district = by_district.assign(
        district=by_district["district_id"].map(d["name"]).fillna(""),
        ratio=by_district["adjusted"] / by_district["raw"],
    )[["problem_id", "district_id", "district", "raw", "adjusted", "ratio"]]

    totals = by_district.groupby("problem_id")[["raw", "adjusted"]].sum().reindex(index)
    totals = totals.fillna(0.0)
    has_categories = pd.Series(index.isin(links["problem_id"]), index=index)
    per_1k = 1000.0 / population.where(population > 0)
    raw_rate = (totals["raw"] * per_1k).fillna(0.0)
    adjusted_rate = (totals["adjusted"] * per_1k).fillna(0.0)
    # The yardstick is reports per resident. A city whose pack gives no district populations
    # has no residents to divide by: its problems are compared by their report counts
    # instead, so concern still tells a 90-report problem from a 10-report one.
    per_resident = bool((population > 0).any())
    raw_yardstick = raw_rate if per_resident else totals["raw"]
    adjusted_yardstick = adjusted_rate if per_resident else totals["adjusted"]
    positive = adjusted_yardstick[(adjusted_yardstick > 0) & has_categories]
    reference = float(positive.quantile(CONCERN_REFERENCE_QUANTILE)) if len(positive) else 0.0

    def score(rate: pd.Series) -> pd.Series:
        if reference <= 0:
            return rate * 0.0
        return (np.log1p(rate) / np.log1p(reference)).clip(0.0, 1.0)

    # Name the district whose adjustment adds the most reports to this problem, among those
    # scaled up enough to mention and with enough reports for the ratio to mean something.
    named = by_district[(by_district["raw"] >= 5) & (by_district["ratio"] >= MENTION_ADJUSTMENT)]
    named = named.assign(uplift=named["adjusted"] - named["raw"]).sort_values(
        ["problem_id", "uplift", "district_id"], ascending=[True, False, True]
    )
    top = named.groupby("problem_id").first()
    per_problem = pd.DataFrame(
        {
            "has_categories": has_categories,
            "population": population,
            "reports_raw": totals["raw"],
            "reports_adjusted": totals["adjusted"],
            "raw_per_1k": raw_rate,
            "adjusted_per_1k": adjusted_rate,
            "concern_raw": score(raw_yardstick).where(has_categories),
            "concern": score(adjusted_yardstick).where(has_categories),
            "top_district": top["district"].reindex(index),
            "top_ratio": top["ratio"].reindex(index),
        },
        index=index,
    )
    return per_problem, by_district.reset_index(drop=True)


def equity(
    by_district: pd.DataFrame,
    problem_districts: pd.DataFrame,
    districts: pd.DataFrame,
    problem_ids: list[int],
) -> pd.Series:
    """How much a problem's burden falls on high-need districts, in [0, 1] (index problem_id).

    The mean need index of the districts in scope, weighted by adjusted reports when the
    problem has any, else by population: "its burden sits in districts of average need 0.72
    (city 0.45)". Districts without a need index count at the city's mean need. NaN when no
    district is known at all.
    """
    index = pd.Index(sorted({int(p) for p in problem_ids}), name="problem_id", dtype="int64")
    d = _districts(districts)
    if d.empty:
        return pd.Series(np.nan, index=index)
    need = d["need_index"].fillna(_city_need(d))
    scope = _problem_district_scope(index, problem_districts, d.index)
    scope = scope.assign(
        weight=scope["district_id"].map(d["population"]).fillna(0.0),
        need=scope["district_id"].map(need),
    )
    pop_weighted = (scope["weight"] * scope["need"]).groupby(scope["problem_id"]).sum() / scope[
        "weight"
    ].groupby(scope["problem_id"]).sum().replace(0.0, np.nan)
    b = by_district.assign(need=by_district["district_id"].map(need))
    report_weighted = (b["adjusted"] * b["need"]).groupby(b["problem_id"]).sum() / b[
        "adjusted"
    ].groupby(b["problem_id"]).sum().replace(0.0, np.nan)
    result = report_weighted.reindex(index).fillna(pop_weighted.reindex(index))
    return result.fillna(_city_need(d)).clip(0.0, 1.0)


# ---------------------------------------------------------------- tractability inputs


def funding_score(funding: pd.Series | np.ndarray | float) -> np.ndarray:
    """Committed funding on a log scale: $10k or less is 0, $10M or more is 1."""
    value = np.asarray(funding, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.maximum(value, FUNDING_FLOOR_USD))
    span = math.log10(FUNDING_FULL_USD) - math.log10(FUNDING_FLOOR_USD)
    return np.clip((logs - math.log10(FUNDING_FLOOR_USD)) / span, 0.0, 1.0)


def innovation_pipeline(innovations: pd.DataFrame, problem_ids: list[int]) -> pd.DataFrame:
    """The innovation pipeline per problem, weighted by stage, evidence and origin.

    In: ``innovations`` (id, problem_id, title, origin, stage, evidence). Each idea's chance
    is stage (idea 0.2, pilot 0.5, evaluating 0.7, scaling 1, retired 0) × evidence (strong
    1 .. anecdotal 0.25) × origin (tested elsewhere 1, reclaimed 0.8, home-grown 0.7, wholly
    new 0.5), at most 0.8; the pipeline is the chance that at least one works,
    1 − Π(1 − chance), so more ideas never lower it and it stays below 1. Out (index
    problem_id): pipeline, live (ideas not retired), best_title, best_origin, best_stage.
    """
    index = pd.Index(sorted({int(p) for p in problem_ids}), name="problem_id", dtype="int64")
    inn = _ensure(innovations, COLUMNS["innovations"]).dropna(subset=["problem_id"])
    inn = inn.assign(problem_id=inn["problem_id"].astype("int64"))
    chance = (
        inn["stage"].map(STAGE_VALUE).fillna(0.0)
        * inn["evidence"].map(EVIDENCE_VALUE).fillna(0.5)
        * inn["origin"].map(ORIGIN_VALUE).fillna(0.5)
    ).clip(0.0, MAX_IDEA_CHANCE)
    inn = inn.assign(
        chance=chance.astype(float),
        log_miss=np.log1p(-chance.astype(float)),
        live=inn["stage"].ne("retired"),
    )
    g = inn.groupby("problem_id").agg(log_miss=("log_miss", "sum"), live=("live", "sum"))
    best = inn.sort_values(["problem_id", "chance", "id"], ascending=[True, False, True])
    best = best[best["chance"] > 0].groupby("problem_id").first()
    return pd.DataFrame(
        {
            "pipeline": (1.0 - np.exp(g["log_miss"])).reindex(index).fillna(0.0),
            "live": g["live"].reindex(index).fillna(0).astype("int64"),
            "best_title": best["title"].reindex(index),
            "best_origin": best["origin"].reindex(index),
            "best_stage": best["stage"].reindex(index),
        },
        index=index,
    )


def actor_capacity(metrics: pd.DataFrame) -> pd.Series:
    """Engaged actors' capacity in [0, 1] from :func:`triage.backward_map.map_metrics` columns.

    0.4 × sector coverage (sectors engaged / 6, at most 1) + 0.4 × committed funding (log
    scale, $10k → 0, $10M → 1) + 0.2 × alignment (share of engagements not competing; 0
    when nobody is engaged). Competing actors add neither sectors nor funding.
    """
    sectors = np.minimum(1.0, metrics["sectors_engaged"].to_numpy(float) / FULL_SECTORS)
    funding = funding_score(metrics["committed_funding"].to_numpy(float))
    n = metrics["engagements"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        alignment = np.where(n > 0, 1.0 - metrics["competing_engagements"].to_numpy(float) / n, 0)
    return pd.Series(0.4 * sectors + 0.4 * funding + 0.2 * alignment, index=metrics.index)


# ---------------------------------------------------------------- combining


def problem_components(inputs: ScoringInputs, as_of: dt.date) -> pd.DataFrame:
    """Every component of every problem's scores, before the weights are applied.

    Out, index problem_id (sorted): title; for each component c in importance (gap,
    worsening, people, concern, equity), tractability (reach, capacity, pipeline, authority,
    political_capital) and neglectedness (uncovered, sectors_absent): c, c_low, c_high and
    c_missing (bool; a missing c is set to the median of the problems that have it and its
    range spans [0, 1]); funding_score (the log-scaled committed funding the funding gap is
    measured with); confidence and its parts indicator_quality, report_quality, map_quality;
    and the facts the explanations quote. Weights do not enter: :func:`combine` applies them.
    """
    problems = _ensure(inputs.problems, COLUMNS["problems"]).dropna(subset=["id"])
    problems = problems.assign(id=problems["id"].astype("int64")).drop_duplicates("id")
    problems = problems.set_index("id").sort_index()
    index = pd.Index(problems.index, name="problem_id")
    ids = [int(i) for i in index]
    # Columns are gathered as aligned arrays and framed once: on small cities the cost of
    # scoring is pandas' per-operation overhead, not the data.
    out: dict[str, Any] = {"title": problems["title"].astype(object).fillna("").astype(str)}

    def put(name: str, values: Any) -> None:
        if isinstance(values, pd.Series):
            values = values.reindex(index)
        out[name] = np.asarray(values)

    gaps = indicator_gaps(inputs.indicators, inputs.observations, as_of, inputs.status_updates)
    pg = problem_gaps(inputs.problem_indicators, gaps).reindex(index)
    for c in ("indicators", "indicators_with_data", "off_target", "stale"):
        put(c, pg[c].fillna(0).astype("int64"))
    for c in ("gap", "gap_low", "gap_high", "worsening", "worsening_low", "worsening_high"):
        put(c, pg[c].astype(float))
    put("indicator_quality", pg["indicator_quality"].fillna(0.0))
    worst_ids = pg["worst_indicator_id"].dropna().astype("int64")
    worst = gaps.set_index("indicator_id").reindex(worst_ids.to_numpy())
    for column in WORST_COLUMNS:
        put(f"worst_{column}", pd.Series(worst[column].to_numpy(), index=worst_ids.index))

    districts = _districts(inputs.districts)
    propensity = reporting_propensity(inputs.report_counts, districts, as_of)
    concern, by_district = citizen_concern(
        inputs.report_counts,
        inputs.category_problems,
        inputs.problem_districts,
        districts,
        propensity,
        as_of,
        ids,
    )
    city_population = float(districts["population"].sum()) if len(districts) else 0.0
    population = concern["population"].to_numpy(float)
    put("population", population)
    put("people", population / city_population if city_population > 0 else np.nan + population)
    scope = _ensure(inputs.problem_districts, COLUMNS["problem_districts"]).dropna()
    names = pd.DataFrame(
        {
            "problem_id": scope["problem_id"].astype("int64"),
            "name": scope["district_id"].astype("int64").map(districts["name"]),
        }
    ).dropna()
    put(
        "district_names",
        names.sort_values(["problem_id", "name"]).groupby("problem_id")["name"].agg(", ".join),
    )
    for c in CONCERN_COLUMNS:
        put(c, concern[c])
    has_categories = concern["has_categories"].to_numpy(bool)
    put("has_categories", has_categories)
    report_quality = np.where(
        has_categories, np.minimum(1.0, concern["reports_raw"].to_numpy(float) / FULL_REPORTS), 0.0
    )
    put("report_quality", report_quality)
    put("equity", equity(by_district, inputs.problem_districts, districts, ids))
    put("city_need", np.full(len(index), _city_need(districts) if len(districts) else np.nan))

    metrics = map_metrics(
        inputs.factors, inputs.factor_links, inputs.engagements, inputs.actors, ids
    )
    for c in MAP_COLUMNS:
        put(c, metrics[c])
    evidence_quality = metrics["evidence_quality"].to_numpy(float)
    put("reach", metrics["reach_share"].astype(float))
    put("uncovered", metrics["uncovered_share"].astype(float))
    put("map_quality", evidence_quality * np.where(metrics["has_cycle"], 0.5, 1.0))
    put("capacity", actor_capacity(metrics))
    put("sectors_absent", 1.0 - np.minimum(1.0, metrics["sectors_engaged"] / FULL_SECTORS))
    put("funding_score", funding_score(metrics["committed_funding"]))
    pipeline = innovation_pipeline(inputs.innovations, ids)
    for c in ("pipeline", "best_title", "best_origin", "best_stage"):
        put(c, pipeline[c])
    put("innovations_live", pipeline["live"])
    for c in ("authority", "political_capital"):
        put(c, pd.to_numeric(problems[c], errors="coerce").fillna(2).clip(0, 5) / 5.0)

    # Ranges of measured components: ± band × (1 − quality); recorded facts are exact.
    for column, quality in (
        ("concern", report_quality),
        ("reach", evidence_quality),
        ("uncovered", evidence_quality),
    ):
        band = UNCERTAINTY_BAND * (1.0 - quality)
        out[f"{column}_low"] = np.clip(out[column] - band, 0.0, 1.0)
        out[f"{column}_high"] = np.clip(out[column] + band, 0.0, 1.0)
    for c in EXACT_PARTS:
        out[f"{c}_low"] = out[c]
        out[f"{c}_high"] = out[c]

    for c in IMPUTABLE:
        values = np.asarray(out[c], dtype=float)
        missing = np.isnan(values)
        typical = float(np.median(values[~missing])) if (~missing).any() else MISSING_DEFAULT
        out[f"{c}_missing"] = missing
        out[c] = np.where(missing, typical, values)
        out[f"{c}_low"] = np.where(missing, 0.0, np.nan_to_num(out[f"{c}_low"], nan=0.0))
        out[f"{c}_high"] = np.where(missing, 1.0, np.nan_to_num(out[f"{c}_high"], nan=1.0))

    out["confidence"] = np.clip(
        CONFIDENCE_WEIGHTS["indicators"] * out["indicator_quality"]
        + CONFIDENCE_WEIGHTS["reports"] * out["report_quality"]
        + CONFIDENCE_WEIGHTS["map"] * out["map_quality"],
        0.0,
        1.0,
    )
    return pd.DataFrame(out, index=index)


def _weighted_mean(parts: dict[str, np.ndarray], weights: dict[str, np.ndarray]) -> np.ndarray:
    """Σ w·c / Σ w with components shaped (problems, 1) and weights shaped (runs,)."""
    total = sum(weights.values())
    return sum(parts[k][:, None] * weights[k][None, :] for k in weights) / total[None, :]


def _combine_arrays(
    comp: pd.DataFrame, w: dict[str, np.ndarray], suffix: str = ""
) -> dict[str, np.ndarray]:
    """Scores for each problem (rows) under each set of weights (columns)."""

    def col(name: str) -> np.ndarray:
        return comp[f"{name}{suffix}"].to_numpy(float)

    imp = _weighted_mean({k: col(k) for k in IMPORTANCE_PARTS}, {k: w[k] for k in IMPORTANCE_PARTS})
    tra = _weighted_mean(
        {k: col(k) for k in TRACTABILITY_PARTS}, {k: w[k] for k in TRACTABILITY_PARTS}
    )
    funded = comp["funding_score"].to_numpy(float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        funding_gap = np.where(imp > 0.01, np.clip(1.0 - funded / imp, 0.0, 1.0), 0.0)
    neg_w = w["uncovered"] + w["sectors_absent"] + w["funding_gap"]
    neg = (
        col("uncovered")[:, None] * w["uncovered"][None, :]
        + col("sectors_absent")[:, None] * w["sectors_absent"][None, :]
        + funding_gap * w["funding_gap"][None, :]
    ) / neg_w[None, :]
    exponent = w["importance"] + w["tractability"] + w["neglectedness"]
    log_priority = (
        w["importance"][None, :] * np.log(np.maximum(imp, SCORE_FLOOR))
        + w["tractability"][None, :] * np.log(np.maximum(tra, SCORE_FLOOR))
        + w["neglectedness"][None, :] * np.log(NEGLECT_FLOOR + (1 - NEGLECT_FLOOR) * neg)
    ) / exponent[None, :]
    return {
        "importance": imp,
        "tractability": tra,
        "neglectedness": neg,
        "funding_gap": funding_gap,
        "priority": np.exp(log_priority),
    }


def _weight_arrays(weights: ScoringWeights) -> dict[str, np.ndarray]:
    return {name: np.array([getattr(weights, name)]) for name in ScoringWeights.names()}


def combine(components: pd.DataFrame, weights: ScoringWeights) -> pd.DataFrame:
    """Apply the weights to :func:`problem_components`; rank with ties going to the lower id.

    Importance, tractability and neglectedness are weighted means of their components, so
    each stays in [0, 1]. funding_gap = 1 − funding score / importance (0 when importance is
    negligible): money committed short of what the problem's importance calls for. Priority
    is the weighted geometric mean of importance, tractability and a neglectedness factor
    (0.5 + 0.5 × neglectedness): if either importance or tractability is near zero, so is
    priority. Low and high ends evaluate the same formulas at every component's low and high
    end; every formula rises with its components, so the point always lies inside.

    Out, index problem_id: importance, tractability, neglectedness, funding_gap, priority,
    each with _low and _high, and rank (1 = highest priority).
    """
    w = _weight_arrays(weights)
    result = pd.DataFrame(index=components.index)
    for suffix in ("", "_low", "_high"):
        scores = _combine_arrays(components, w, suffix)
        for name, values in scores.items():
            result[f"{name}{suffix}"] = values[:, 0]
    result["rank"] = _ranks(result["priority"].to_numpy(), components.index.to_numpy())
    return result


def importance(components: pd.DataFrame, weights: ScoringWeights | None = None) -> pd.DataFrame:
    """Importance with its range per problem: the weighted mean of gap, worsening, people
    affected, adjusted citizen concern and equity (columns importance, _low, _high)."""
    scores = combine(components, weights or ScoringWeights())
    return scores[["importance", "importance_low", "importance_high"]]


def tractability(components: pd.DataFrame, weights: ScoringWeights | None = None) -> pd.DataFrame:
    """Tractability with its range per problem: the weighted mean of reach, actor capacity,
    innovation pipeline, authority and political capital (columns tractability, _low, _high)."""
    scores = combine(components, weights or ScoringWeights())
    return scores[["tractability", "tractability_low", "tractability_high"]]


def neglectedness(components: pd.DataFrame, weights: ScoringWeights | None = None) -> pd.DataFrame:
    """Neglectedness with its range per problem: the weighted mean of the uncovered share of
    the causal map, absent sectors and the funding gap (columns neglectedness, _low, _high,
    funding_gap)."""
    scores = combine(components, weights or ScoringWeights())
    return scores[["neglectedness", "neglectedness_low", "neglectedness_high", "funding_gap"]]


def _ranks(priority: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """1-based ranks by priority, highest first; ties go to the lower problem id.

    Priorities equal to 12 decimals are ties, so that the order in which rows arrive (and
    with it the last bits of a floating-point sum) never decides a rank.
    """
    order = np.lexsort((ids, -np.round(priority, 12)))
    ranks = np.empty(len(ids), dtype="int64")
    ranks[order] = np.arange(1, len(ids) + 1)
    return ranks


def score_problems(
    inputs: ScoringInputs,
    weights: ScoringWeights | None = None,
    as_of: dt.date | None = None,
    *,
    components: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score and rank every problem in ``inputs.problems`` as of a date (required: the city's
    today, never the machine's clock, so that a result can be reproduced).
    ``components`` (from :func:`problem_components` on the same inputs and date) saves
    computing them again when the caller also needs them, e.g. for the sensitivity.

    Out, one row per problem ordered by rank: problem_id, title, rank, priority,
    priority_low, priority_high, importance, tractability, neglectedness (each in [0, 1],
    with _low/_high), confidence in [0, 1], components (a JSON-ready dict: the parts of
    each score with their ranges, the facts behind them, which were missing and the weights
    applied) and explanation (three plain sentences). Empty problems get typical values,
    wide ranges, confidence 0 and an explanation that says which data is missing.
    """
    if as_of is None:
        raise ValueError("score_problems needs as_of, the city's today (Settings.today()).")
    weights = weights or ScoringWeights()
    comp = components if components is not None else problem_components(inputs, as_of)
    scores = combine(comp, weights)
    frame = pd.DataFrame({"problem_id": comp.index.to_numpy(), "title": comp["title"].to_numpy()})
    for column in (
        "rank",
        "priority",
        "priority_low",
        "priority_high",
        "importance",
        "importance_low",
        "importance_high",
        "tractability",
        "tractability_low",
        "tractability_high",
        "neglectedness",
        "neglectedness_low",
        "neglectedness_high",
    ):
        frame[column] = scores[column].to_numpy()
    frame["confidence"] = comp["confidence"].to_numpy()
    records = comp.to_dict("index")
    score_records = scores.to_dict("index")
    applied = weights.to_dict()
    frame["components"] = [
        _components_dict(records[p], score_records[p], applied) for p in comp.index
    ]
    frame["explanation"] = [_explain(records[p]) for p in comp.index]
    return frame.sort_values("rank", kind="stable").reset_index(drop=True)


def _num(value: Any, digits: int = 4) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return round(float(value), digits)


def _components_dict(
    c: dict[str, Any], s: dict[str, Any], weights: dict[str, Any]
) -> dict[str, Any]:
    """The JSON stored with a snapshot: every part, its range, the facts it rests on, and
    the weights that were applied (so a stored week can be explained later)."""

    def group(parts: tuple[str, ...]) -> dict[str, Any]:
        return {
            p: {"value": _num(c[p]), "low": _num(c[f"{p}_low"]), "high": _num(c[f"{p}_high"])}
            for p in parts
        }

    neglect = group(("uncovered", "sectors_absent"))
    neglect["funding_gap"] = {
        "value": _num(s["funding_gap"]),
        "low": _num(s["funding_gap_low"]),
        "high": _num(s["funding_gap_high"]),
    }
    return {
        "importance": group(IMPORTANCE_PARTS),
        "tractability": group(TRACTABILITY_PARTS),
        "neglectedness": neglect,
        "confidence": {
            "indicators": _num(c["indicator_quality"]),
            "reports": _num(c["report_quality"]),
            "map": _num(c["map_quality"]),
        },
        "missing": [p for p in IMPUTABLE if c.get(f"{p}_missing")],
        "weights": weights,
        "facts": {
            "indicators": int(c["indicators"]),
            "indicators_with_data": int(c["indicators_with_data"]),
            "indicators_off_target": int(c["off_target"]),
            "indicators_overdue": int(c["stale"]),
            "worst_indicator": c["worst_name"] if isinstance(c["worst_name"], str) else None,
            "reports_raw": _num(c["reports_raw"], 1),
            "reports_adjusted": _num(c["reports_adjusted"], 1),
            "concern_raw": _num(c["concern_raw"]),
            "most_adjusted_district": c["top_district"]
            if isinstance(c["top_district"], str)
            else None,
            "most_adjusted_ratio": _num(c["top_ratio"], 2),
            "population": _num(c["population"], 0),
            "factors": int(c["factors"]),
            "uncovered_factors": int(c["uncovered_factors"]),
            "sectors_engaged": int(c["sectors_engaged"]),
            "committed_funding": _num(c["committed_funding"], 0),
            "innovations_live": int(c["innovations_live"]),
            "map_has_cycle": bool(c["has_cycle"]),
        },
    }


# ---------------------------------------------------------------- sensitivity and movement


def ranking_sensitivity(
    inputs: ScoringInputs,
    weights: ScoringWeights,
    as_of: dt.date,
    *,
    runs: int = 500,
    spread: float = 0.25,
    top_n: int = 10,
    seed: int = 0,
    components: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How stable the ranking is when every weight moves by up to ± ``spread`` at random.

    Each of ``runs`` draws multiplies each weight by an independent uniform factor in
    [1 − spread, 1 + spread] and re-ranks (seeded, so reproducible). Out, one row per
    problem by base rank: problem_id, title, rank, top_n_share (share of draws in which the
    problem is in the top ``top_n``: "in the top 10 in 94% of draws"), rank_low and
    rank_high (5th and 95th percentile rank), rank_median.
    """
    if not 0.0 <= spread < 1.0:
        raise ValidationError("The spread of the weights must be at least 0 and below 1.")
    comp = components if components is not None else problem_components(inputs, as_of)
    columns = ["problem_id", "title", "rank", "top_n_share", "rank_low", "rank_median", "rank_high"]
    if comp.empty:
        return pd.DataFrame(columns=columns)
    rng = np.random.default_rng(seed)
    base = _weight_arrays(weights)
    perturbed = {
        name: value[0] * rng.uniform(1 - spread, 1 + spread, size=runs)
        for name, value in base.items()
    }
    priority = _combine_arrays(comp, perturbed)["priority"]
    ids = comp.index.to_numpy()
    ranks = np.empty_like(priority, dtype="int64")
    for run in range(runs):
        ranks[:, run] = _ranks(priority[:, run], ids)
    base_rank = _ranks(_combine_arrays(comp, base)["priority"][:, 0], ids)
    frame = pd.DataFrame(
        {
            "problem_id": ids,
            "title": comp["title"].to_numpy(),
            "rank": base_rank,
            "top_n_share": (ranks <= top_n).mean(axis=1),
            "rank_low": np.percentile(ranks, 5, axis=1, method="nearest").astype("int64"),
            "rank_median": np.median(ranks, axis=1),
            "rank_high": np.percentile(ranks, 95, axis=1, method="nearest").astype("int64"),
        }
    )
    return frame.sort_values("rank").reset_index(drop=True)[columns]


def top_n_stability(sensitivity: pd.DataFrame, top_n: int = 10) -> float:
    """Expected share of today's top ``top_n`` still in the top ``top_n`` when weights move."""
    top = sensitivity[sensitivity["rank"] <= top_n]
    return float(top["top_n_share"].mean()) if len(top) else 1.0


def movement(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Movement since last week, per current problem.

    In: two frames with problem_id and rank (``score_problems`` or a stored snapshot).
    Out: problem_id, rank, previous_rank (NA if new), rank_change (positive = moved up the
    list) and movement ("up", "down", "same", "new"), in the order of ``current``.
    """
    now = current[["problem_id", "rank"]].astype({"problem_id": "int64", "rank": "int64"})
    before = (
        previous[["problem_id", "rank"]].astype({"problem_id": "int64", "rank": "int64"})
        if previous is not None and len(previous)
        else pd.DataFrame(
            {"problem_id": pd.Series(dtype="int64"), "rank": pd.Series(dtype="int64")}
        )
    )
    before_rank = pd.Series(before["rank"].to_numpy(), index=before["problem_id"].to_numpy())
    previous_rank = now["problem_id"].map(before_rank).astype("Int64")
    change = (previous_rank - now["rank"]).astype("Int64")
    kind = np.select(
        [
            previous_rank.isna().to_numpy(),
            (change > 0).fillna(False).to_numpy(),
            (change < 0).fillna(False).to_numpy(),
        ],
        ["new", "up", "down"],
        default="same",
    )
    return pd.DataFrame(
        {
            "problem_id": now["problem_id"].to_numpy(),
            "rank": now["rank"].to_numpy(),
            "previous_rank": pd.array(previous_rank, dtype="Int64"),
            "rank_change": pd.array(change, dtype="Int64"),
            "movement": kind,
        }
    )


def ranking_table(scores: pd.DataFrame, moves: pd.DataFrame | None = None) -> pd.DataFrame:
    """A flat table for printing or CSV: one column per component (``importance.gap`` ...).

    In: ``score_problems`` output (or a stored snapshot with the same columns) and optionally
    :func:`movement`. Out: rank, problem_id, title, priority, priority_low, priority_high,
    importance, tractability, neglectedness, confidence, [movement, rank_change], the
    component values, explanation.
    """
    base = scores[
        [
            "rank",
            "problem_id",
            "title",
            "priority",
            "priority_low",
            "priority_high",
            "importance",
            "tractability",
            "neglectedness",
            "confidence",
        ]
    ].reset_index(drop=True)
    if moves is not None:
        m = moves.set_index("problem_id")
        base["movement"] = base["problem_id"].map(m["movement"]).to_numpy()
        base["rank_change"] = base["problem_id"].map(m["rank_change"]).astype("Int64").to_numpy()
    flat: dict[str, list[Any]] = {}
    for components in scores["components"]:
        for group in ("importance", "tractability", "neglectedness"):
            for part, values in (components or {}).get(group, {}).items():
                flat.setdefault(f"{group}.{part}", []).append(values.get("value"))
    for name, values in flat.items():
        if len(values) == len(base):
            base[name] = values
    base["explanation"] = scores["explanation"].to_numpy()
    return base


__all__ = [
    "COLUMNS",
    "ScoringInputs",
    "ScoringWeights",
    "actor_capacity",
    "citizen_concern",
    "combine",
    "equity",
    "funding_score",
    "importance",
    "indicator_gaps",
    "innovation_pipeline",
    "iso_week",
    "movement",
    "neglectedness",
    "previous_week",
    "problem_components",
    "problem_gaps",
    "ranking_sensitivity",
    "ranking_table",
    "reporting_propensity",
    "score_problems",
    "top_n_stability",
    "tractability",
    "week_end",
    "week_start",
]
