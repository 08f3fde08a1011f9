"""Independent generators of daily report counts with planted problems, for ``bench detect``.

Each generator stresses the surge detector differently (baselines, seasonality, dispersion,
holidays, zero inflation, renames and level shifts); all plant the same kinds of problems.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
from scipy import signal

START = dt.date(2022, 1, 3)  # a Monday, so 7-day blocks from the start are calendar weeks
EVAL_START = 364  # first scored day: every detector has had a year of history
EVENT_DAYS = 56  # a planted step or ramp lasts eight weeks, then the series returns to normal
DETECTION_DAYS = 28  # "detected" = any alert in [start, start + 28 days)
# Seeds: the detector was tuned on TUNING_SEEDS only; the bench reports HELD_OUT_SEEDS.
TUNING_SEEDS = (1, 2)
HELD_OUT_SEEDS = (101, 102)


@dataclass(frozen=True)
class Generated:
    """Counts as a (series, day) matrix, the planted events and each series' traits.

    ``counts`` is NaN where a series does not exist yet (a renamed category's successor);
    ``events`` has ``row, kind, start, end`` (days; ``end`` exclusive: the last day the
    problem adds reports, plus one) and ``size_sd, relative, low_count``; ``begins`` is each
    series' first day (0 unless it started later).
    """

    counts: np.ndarray
    names: np.ndarray
    start: dt.date
    events: pd.DataFrame
    traits: pd.DataFrame
    begins: np.ndarray | None = None
    sparse: bool = False  # give only days with reports, as a database stores them

    def long(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """``series, date, value`` in long form (optionally for some series only).

        Days before a series exists are left out; with ``sparse``, so are days without
        reports (the detector reads absent days after a series' first row as zero).
        """
        idx = np.arange(len(self.names)) if rows is None else np.asarray(rows)
        counts = self.counts[idx]
        n_days = counts.shape[1]
        codes = np.repeat(np.arange(len(idx)), n_days)
        dates = np.tile(np.datetime64(self.start, "D") + np.arange(n_days), len(idx))
        values = counts.reshape(-1)
        keep = ~np.isnan(values)
        if self.sparse:
            keep &= values > 0
            # The last day is always given, so every series reaches the end of the data.
            last = np.zeros(counts.shape, dtype=bool)
            last[:, -1] = ~np.isnan(counts[:, -1])
            keep |= last.reshape(-1)
        return pd.DataFrame(
            {
                "series": pd.Categorical.from_codes(codes[keep], categories=self.names[idx]),
                "date": dates[keep].astype("datetime64[s]"),
                "value": values[keep],
            }
        )


@dataclass(frozen=True)
class GeneratorSpec:
    """One generator: a name, what it varies, and the function that makes the series."""

    name: str
    description: str
    make: Callable[[int, float, int], Generated]


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def _day_of_year(n_days: int) -> np.ndarray:
    return (np.arange(n_days) + START.timetuple().tm_yday - 1) % 365.25


def _weekday_factors(rng: np.random.Generator, n: int, weekend: tuple[float, float]) -> np.ndarray:
    """(n, 7) weekday factors, mean 1; Saturday and Sunday scaled by ``weekend``."""
    weekday = np.exp(rng.normal(0.0, 0.1, (n, 7)))
    weekday[:, 5:] *= rng.uniform(*weekend, (n, 1))
    return weekday / weekday.mean(axis=1, keepdims=True)


def _season(
    rng: np.random.Generator,
    n: int,
    n_days: int,
    amplitude: float,
    bump_share: float,
    bump_height: tuple[float, float],
) -> np.ndarray:
    """log seasonal factor (n, days): two harmonics plus, in some series, a sharp yearly peak."""
    angle = 2 * np.pi * _day_of_year(n_days) / 365.25
    a1, a2 = rng.uniform(0, amplitude, n), rng.uniform(0, amplitude * 0.4, n)
    f1, f2 = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
    season = a1[:, None] * np.cos(angle[None] - f1[:, None])
    season += a2[:, None] * np.cos(2 * angle[None] - f2[:, None])
    bumpy = rng.random(n) < bump_share
    centre, width = rng.uniform(0, 365.25, n), rng.uniform(7, 21, n)
    height = np.where(bumpy, rng.uniform(*bump_height, n), 0.0)
    distance = np.abs(_day_of_year(n_days)[None] - centre[:, None])
    distance = np.minimum(distance, 365.25 - distance)
    return season + height[:, None] * np.exp(-0.5 * (distance / width[:, None]) ** 2)


_RHO = 0.9


def _wander(rng: np.random.Generator, n: int, n_days: int, sd_max: float) -> np.ndarray:
    """A slowly wandering log level (AR(1), rho 0.9, stationary sd up to ``sd_max``)."""
    ar_sd = rng.uniform(0.0, sd_max, n)
    shocks = rng.normal(0.0, 1.0, (n, n_days)) * (ar_sd * np.sqrt(1 - _RHO**2))[:, None]
    return signal.lfilter([1.0], [1.0, -_RHO], shocks, axis=1)


@dataclass(frozen=True)
class _Base:
    """Expected daily counts before noise, and the noise that goes with them."""

    mean: np.ndarray  # (n, days): expected count with seasonality and trend, no wander
    wander: np.ndarray  # (n, days): log AR(1) wander
    nb_size: np.ndarray  # (n,): negative-binomial size of the day-to-day noise
    level: np.ndarray  # (n,)
    zero_share: np.ndarray  # (n,): structural zeros (zero inflation), 0 for none
    wander_sd: np.ndarray  # (n,): stationary sd of the log wander


def _base(
    rng: np.random.Generator,
    n: int,
    n_days: int,
    *,
    levels: tuple[float, float] = (0.2, 200.0),
    weekend: tuple[float, float] = (0.3, 1.0),
    amplitude: float = 0.5,
    bump_share: float = 0.2,
    bump_height: tuple[float, float] = (0.3, 0.8),
    slope: float = 0.2,
    wander_sd: float = 0.1,
    nb_size: tuple[float, float] = (3.0, 100.0),
) -> _Base:
    t = np.arange(n_days)
    level = _log_uniform(rng, *levels, n)
    weekday = _weekday_factors(rng, n, weekend)
    season = _season(rng, n, n_days, amplitude, bump_share, bump_height)
    trend = rng.uniform(-slope, slope, n)[:, None] * t[None] / 365.25
    mean = level[:, None] * weekday[:, (t + START.weekday()) % 7] * np.exp(season + trend)
    wander = _wander(rng, n, n_days, wander_sd)
    return _Base(
        mean, wander, _log_uniform(rng, *nb_size, n), level, np.zeros(n), wander.std(axis=1)
    )


def _day_variance(base: _Base, mean: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Variance of a day's count around ``mean`` (rows of ``base``): NB, with zero inflation."""
    k = base.nb_size[rows][:, None]
    pi = base.zero_share[rows][:, None]
    inner = mean / (1.0 - pi)  # the mean of the non-zero part
    return (1.0 - pi) * (inner + inner**2 / k) + pi * (1.0 - pi) * inner**2


EVENT_KINDS = ("step", "ramp", "spike", "burst")
# Sizes in multiples of the series' own weekly standard deviation just before the start
# (the convention of Noufaily et al., 2013): as hard to see on a quiet series as a busy one.
EVENT_SIZES = {"step": (3.0, 8.0), "ramp": (4.0, 10.0), "spike": (5.0, 12.0), "burst": (5.0, 12.0)}
SPIKE_DAYS = {"spike": 1, "burst": 3}


def _plant(
    rng: np.random.Generator,
    base: _Base,
    rate: np.ndarray,
    candidates: np.ndarray,
    event_share: float,
    kinds: tuple[str, ...] = EVENT_KINDS,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Plant one problem in ``event_share`` of ``candidates``: the events and the extra rate.

    The extra reports come on top of ``rate`` (not subject to its structural zeros).

    Steps and linear ramps (full size after 7-28 days) last :data:`EVENT_DAYS`; spikes add
    their whole excess on one day, bursts over three. Sizes: :data:`EVENT_SIZES`, as the
    total excess of a step's or ramp's full week, or of the whole spike; the weekly standard
    deviation includes the wandering level's.
    """
    n_days = rate.shape[1]
    extra = np.zeros(rate.shape)
    rows = candidates[rng.random(len(candidates)) < event_share]
    kind = np.asarray(kinds)[rng.integers(0, len(kinds), len(rows))]
    first = EVAL_START + DETECTION_DAYS
    start = rng.integers(first, max(n_days - EVENT_DAYS, first + 1), len(rows))
    ramp = rng.integers(7, 29, len(rows))
    size_sd = np.array([rng.uniform(*EVENT_SIZES[k]) for k in kind])
    before = start[:, None] - 1 - np.arange(28)[None]
    mean = base.mean[rows[:, None], before]
    week_mean = mean.sum(axis=1) / 4.0
    lags = np.abs(np.arange(7)[:, None] - np.arange(7)[None])
    week_var = (
        _day_variance(base, mean, rows).sum(axis=1) / 4.0
        + week_mean**2 * base.wander_sd[rows] ** 2 * (_RHO**lags).mean()
    )
    excess = size_sd * np.sqrt(week_var)
    relative = excess / week_mean
    ends = np.empty(len(rows), dtype=np.int64)
    k = np.arange(EVENT_DAYS)
    for i, row in enumerate(rows):
        s = int(start[i])
        if kind[i] in SPIKE_DAYS:
            days = SPIKE_DAYS[kind[i]]
            span = slice(s, min(s + days, n_days))
            # The excess spread over the spike's days in proportion to their usual level.
            share = rate[row, span] / rate[row, span].sum()
            extra[row, span] += excess[i] * share
            ends[i] = span.stop
            continue
        shape = np.ones(EVENT_DAYS) if kind[i] == "step" else np.minimum((k + 1) / ramp[i], 1.0)
        end = min(s + EVENT_DAYS, n_days)
        extra[row, s:end] += rate[row, s:end] * relative[i] * shape[: end - s]
        ends[i] = end
    events = pd.DataFrame(
        {
            "row": rows,
            "kind": kind,
            "start": start,
            "end": ends,
            "ramp_days": np.where(kind == "ramp", ramp, 0),
            "size_sd": size_sd,
            "relative": relative,
            "low_count": base.level[rows] < 3.0,
        }
    )
    return events, extra


def _noisy(
    rng: np.random.Generator, base: _Base, rate: np.ndarray, extra: np.ndarray | None = None
) -> np.ndarray:
    """Counts from a rate: wander, negative-binomial noise and structural zeros.

    ``extra`` (planted problems) shares the wander but not the zeros nor the day-to-day
    mixing noise: a problem sized at k standard deviations adds about that many reports (with
    negative-binomial size 0.7, the mixing alone would leave a fifth of one-day spikes below
    a fifth of their size).
    """
    k = base.nb_size[:, None]
    pi = base.zero_share[:, None]
    noise = np.exp(base.wander) * rng.gamma(k, 1.0 / k, rate.shape)
    counts = rng.poisson(rate * noise / (1.0 - pi)).astype(float)
    counts[rng.random(rate.shape) < np.broadcast_to(pi, rate.shape)] = 0.0
    if extra is not None:
        counts += rng.poisson(extra * np.exp(base.wander))
    return counts


def _finish(
    base: _Base,
    counts: np.ndarray,
    events: pd.DataFrame,
    *,
    begins: np.ndarray | None = None,
    names: np.ndarray | None = None,
    sparse: bool = True,
) -> Generated:
    n = counts.shape[0]
    if names is None:
        names = np.array([f"s{i:05d}" for i in range(n)], dtype=object)
    traits = pd.DataFrame(
        {
            "level": base.level,
            "low_count": base.level < 3.0,
            "nb_size": base.nb_size,
            "zero_share": base.zero_share,
        }
    )
    return Generated(counts, names, START, events, traits, begins, sparse)


def generate(
    n_series: int,
    years: float,
    seed: int,
    *,
    event_share: float = 0.5,
    step_sd: tuple[float, float] = (3.0, 8.0),
    ramp_sd: tuple[float, float] = (4.0, 10.0),
    ramp_days: tuple[int, int] = (7, 28),
) -> Generated:
    """Daily report counts for ``n_series`` category x district series over ``years`` years.

    Each series: a level (half low-count, 0.2-3 a day; half high-count, 3-100 a day); weekday
    factors (weekends 0.3-1 times weekdays); annual seasonality of up to +-50 % with a second
    harmonic, and in a fifth of the series a sharp yearly peak (e.g. leaf season) of +35-120 %
    over 2-6 weeks that smooth harmonics cannot follow; a trend of up to +-20 % a year; a
    slowly wandering level (AR(1), up to 10 %); and negative-binomial day-to-day noise (size
    3-100, so small counts can be very over-dispersed).

    Planted problems (``event_share`` of series, one each, starting uniformly after the first
    year plus 4 weeks and lasting :data:`EVENT_DAYS`): half steps and half linear ramps that
    reach full size after ``ramp_days``. Sizes are multiples of the series' own weekly standard
    deviation at the start (the convention of Noufaily et al., 2013), so a problem is as hard
    to see on a quiet series as on a busy one: steps ``step_sd``, ramps ``ramp_sd``.
    """
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    t = np.arange(n_days)
    low = rng.random(n) < 0.5
    level = np.where(low, _log_uniform(rng, 0.2, 3.0, n), _log_uniform(rng, 3.0, 100.0, n))
    weekday = np.exp(rng.normal(0.0, 0.1, (n, 7)))
    weekday[:, 5:] *= rng.uniform(0.3, 1.0, (n, 1))
    weekday /= weekday.mean(axis=1, keepdims=True)
    day_of_year = (t + START.timetuple().tm_yday - 1) % 365.25
    angle = 2 * np.pi * day_of_year / 365.25
    a1, a2 = rng.uniform(0, 0.5, n), rng.uniform(0, 0.2, n)
    f1, f2 = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
    season = a1[:, None] * np.cos(angle[None] - f1[:, None])
    season += a2[:, None] * np.cos(2 * angle[None] - f2[:, None])
    bumpy = rng.random(n) < 0.2
    centre, width = rng.uniform(0, 365.25, n), rng.uniform(7, 21, n)
    height = np.where(bumpy, rng.uniform(0.3, 0.8, n), 0.0)
    distance = np.abs(day_of_year[None] - centre[:, None])
    distance = np.minimum(distance, 365.25 - distance)
    season += height[:, None] * np.exp(-0.5 * (distance / width[:, None]) ** 2)
    slope = rng.uniform(-0.2, 0.2, n)
    ar_sd, rho = rng.uniform(0.0, 0.1, n), 0.9
    shocks = rng.normal(0.0, 1.0, (n, n_days)) * (ar_sd * np.sqrt(1 - rho**2))[:, None]
    wander = signal.lfilter([1.0], [1.0, -rho], shocks, axis=1)
    nb_size = _log_uniform(rng, 3.0, 100.0, n)
    mean = (
        level[:, None]
        * weekday[:, (t + START.weekday()) % 7]
        * np.exp(season + slope[:, None] * t[None] / 365.25)
    )
    rate = mean * np.exp(wander) * rng.gamma(nb_size[:, None], 1.0 / nb_size[:, None], (n, n_days))

    rows = np.flatnonzero(rng.random(n) < event_share)
    kind = np.where(rng.random(len(rows)) < 0.5, "step", "ramp")
    first = EVAL_START + DETECTION_DAYS
    start = rng.integers(first, max(n_days - EVENT_DAYS, first + 1), len(rows))
    ramp = rng.integers(ramp_days[0], ramp_days[1] + 1, len(rows))
    size_sd = np.where(
        kind == "step", rng.uniform(*step_sd, len(rows)), rng.uniform(*ramp_sd, len(rows))
    )
    week_mean = mean[rows[:, None], start[:, None] - 1 - np.arange(7)[None]].sum(axis=1)
    lags = np.abs(np.arange(7)[:, None] - np.arange(7)[None])
    week_var = (
        week_mean
        + week_mean**2 / (7 * nb_size[rows])
        + week_mean**2 * ar_sd[rows] ** 2 * (rho**lags).mean()
    )
    relative = size_sd * np.sqrt(week_var) / week_mean
    k = np.arange(EVENT_DAYS)
    for i, row in enumerate(rows):
        shape = np.ones(EVENT_DAYS) if kind[i] == "step" else np.minimum((k + 1) / ramp[i], 1.0)
        end = min(start[i] + EVENT_DAYS, n_days)
        rate[row, start[i] : end] *= 1.0 + relative[i] * shape[: end - start[i]]
    counts = rng.poisson(rate).astype(np.int64)
    names = np.array([f"s{i:05d}" for i in range(n)], dtype=object)
    events = pd.DataFrame(
        {
            "row": rows,
            "kind": kind,
            "start": start,
            "end": np.minimum(start + EVENT_DAYS, n_days),
            "ramp_days": np.where(kind == "ramp", ramp, 0),
            "size_sd": size_sd,
            "relative": relative,
            "low_count": low[rows],
        }
    )
    traits = pd.DataFrame(
        {"level": level, "low_count": low, "bump": bumpy, "ar_sd": ar_sd, "nb_size": nb_size}
    )
    return Generated(counts, names, START, events, traits)


# --------------------------------------------------------------------------------------------
# The generators
# --------------------------------------------------------------------------------------------


def reference(n_series: int, years: float, seed: int) -> Generated:
    """The bench's original generator: half low-count (0.2-3 a day), half 3-100 a day.

    Weekends 0.3-1 times weekdays, annual seasonality up to +-50 % (a sharp yearly peak in a
    fifth of the series), trends up to +-20 % a year, a wandering level (AR(1), up to 10 %),
    negative-binomial noise (size 3-100); steps (3-8 sd) and ramps (4-10 sd).
    """
    return generate(n_series, years, seed)


def seasonal(n_series: int, years: float, seed: int) -> Generated:
    """Levels 0.2-200 a day, strong weekday and yearly patterns, steep trends.

    Weekends 0.05-0.5 times weekdays (offices closed), yearly amplitude up to +-90 % with a
    sharp peak (leaf season, summer) in 40 % of series, trends up to +-35 % a year.
    """
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    base = _base(
        rng,
        n,
        n_days,
        weekend=(0.05, 0.5),
        amplitude=0.9,
        bump_share=0.4,
        bump_height=(0.5, 1.2),
        slope=0.35,
        nb_size=(5.0, 100.0),
    )
    rate = base.mean.copy()
    events, extra = _plant(rng, base, rate, np.arange(n), 0.5)
    return _finish(base, _noisy(rng, base, rate, extra), events)


def overdispersed(n_series: int, years: float, seed: int) -> Generated:
    """Heavy over-dispersion: negative-binomial size 0.7-8 and a level wandering up to 25 %."""
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    base = _base(rng, n, n_days, nb_size=(0.7, 8.0), wander_sd=0.25)
    rate = base.mean.copy()
    events, extra = _plant(rng, base, rate, np.arange(n), 0.5)
    return _finish(base, _noisy(rng, base, rate, extra), events)


def _holidays(n_days: int) -> np.ndarray:
    """Positions of US-style public holidays (fixed dates and nth weekdays) in the range."""
    days = pd.date_range(START, periods=n_days, freq="D")
    frame = pd.DataFrame({"m": days.month, "d": days.day, "w": days.day_of_week})
    nth = (frame["d"] - 1) // 7 + 1
    last = (frame["d"] + 7) > days.days_in_month
    fixed = (
        ((frame["m"] == 1) & (frame["d"] == 1))
        | ((frame["m"] == 7) & (frame["d"] == 4))
        | ((frame["m"] == 11) & (frame["d"] == 11))
        | ((frame["m"] == 12) & frame["d"].isin([24, 25, 31]))
        | ((frame["m"] == 6) & (frame["d"] == 19))
    )
    mondays = (frame["w"] == 0) & (
        ((frame["m"] == 1) & (nth == 3))
        | ((frame["m"] == 2) & (nth == 3))
        | ((frame["m"] == 5) & last)
        | ((frame["m"] == 9) & (nth == 1))
        | ((frame["m"] == 10) & (nth == 2))
    )
    thanksgiving = (frame["m"] == 11) & (frame["w"].isin([3])) & (nth == 4)
    friday_after = (frame["m"] == 11) & (frame["w"] == 4) & ((frame["d"] - 1 - 1) // 7 + 1 == 4)
    return np.flatnonzero((fixed | mondays | thanksgiving | friday_after).to_numpy())


def holidays(n_series: int, years: float, seed: int) -> Generated:
    """Public holidays with 5-50 % of the usual reports and the rest caught up afterwards.

    On each holiday (New Year, MLK, Presidents, Memorial, Juneteenth, July 4, Labor,
    Columbus, Veterans, Thanksgiving and the day after, Christmas Eve and Day, New Year's Eve)
    a series gets 5-50 % of its usual reports; 30-100 % of the missing ones arrive on the next
    weekday. A quarter of the series also have one-off intake outages (2-6 days at 0-30 %)
    with the backlog entered in one or two days afterwards.
    """
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    base = _base(rng, n, n_days)
    rate = base.mean.copy()
    events, extra = _plant(rng, base, rate, np.arange(n), 0.5)
    keep = rng.uniform(0.05, 0.5, n)
    catch_up = rng.uniform(0.3, 1.0, n)
    weekday = (np.arange(n_days) + START.weekday()) % 7
    closed = np.zeros(n_days, dtype=bool)
    closed[_holidays(n_days)] = True
    for day in np.flatnonzero(closed):
        missing = rate[:, day] * (1.0 - keep)
        rate[:, day] *= keep
        after = day + 1
        while after < n_days and (closed[after] or weekday[after] >= 5):
            after += 1
        if after < n_days:
            rate[:, after] += missing * catch_up
    outage = np.flatnonzero(rng.random(n) < 0.25)
    for row in outage:
        s = int(rng.integers(60, n_days - 10))
        length = int(rng.integers(2, 7))
        left = rng.uniform(0.0, 0.3)
        missing = rate[row, s : s + length].sum() * (1.0 - left)
        rate[row, s : s + length] *= left
        spread = int(rng.integers(1, 3))
        rate[row, s + length : s + length + spread] += missing / spread
    return _finish(base, _noisy(rng, base, rate, extra), events)


def zero_inflated(n_series: int, years: float, seed: int) -> Generated:
    """Low counts (0.2-5 a day) with 20-70 % structural zeros and over-dispersion.

    A day's count is zero with probability pi (no one on intake, batch entry) and otherwise
    negative binomial with mean m / (1 - pi), so the mean stays m and the variance grows.
    """
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    base = _base(rng, n, n_days, levels=(0.2, 5.0), nb_size=(1.0, 30.0))
    base = replace(base, zero_share=rng.uniform(0.2, 0.7, n))
    rate = base.mean.copy()
    events, extra = _plant(rng, base, rate, np.arange(n), 0.5)
    return _finish(base, _noisy(rng, base, rate, extra), events)


def renames_and_shifts(n_series: int, years: float, seed: int) -> Generated:
    """Category renames and level shifts that are not problems; zero-filled like a database.

    A fifth of the categories are renamed once (the old series stops; a new one carries on
    from the next day at 0.8-1.25 times the level, with a fortnight in which reports go to
    both). A fifth shift level for good: down to 40-85 %, or (a third of them) up by half to
    one weekly standard deviation. Every series is given with explicit zeros from the first
    day of the data (a successor's zeros before its first report included), so a detector
    must not read a new category's start as a surge from nothing. Problems are planted in
    half of the other series.
    """
    rng = np.random.default_rng(seed)
    n, n_days = n_series, round(365 * years)
    base = _base(rng, n, n_days)
    rate = base.mean.copy()
    role = rng.random(n)
    renamed = np.flatnonzero(role < 0.2)
    shifted = np.flatnonzero((role >= 0.2) & (role < 0.4))
    others = np.flatnonzero(role >= 0.4)
    events, extra = _plant(rng, base, rate, others, 0.5 / 0.6)
    for row in shifted:
        s = int(rng.integers(120, n_days - 28))
        if rng.random() < 2 / 3:
            rate[row, s:] *= rng.uniform(0.4, 0.85)
        else:
            week = base.mean[row, s - 28 : s]
            sd = np.sqrt(_day_variance(base, week[None], np.array([row])).sum() / 4.0)
            rate[row, s:] *= 1.0 + rng.uniform(0.5, 1.0) * sd / (week.sum() / 4.0)
    successor_rate = np.zeros((len(renamed), n_days))
    when = rng.integers(90, n_days - 28, len(renamed))
    factor = rng.uniform(0.8, 1.25, len(renamed))
    for i, row in enumerate(renamed):
        s = int(when[i])
        overlap = np.clip((np.arange(n_days) - s + 14) / 14.0, 0.0, 1.0)
        successor_rate[i] = rate[row] * overlap * factor[i]
        rate[row] *= 1.0 - overlap
    counts = _noisy(rng, base, rate, extra)
    successor = _Base(*(getattr(base, f.name)[renamed] for f in fields(_Base)))
    new_counts = _noisy(rng, successor, successor_rate)
    names = np.array(
        [f"s{i:05d}" for i in range(n)] + [f"s{r:05d}-renamed" for r in renamed], dtype=object
    )
    all_counts = np.vstack([counts, new_counts])
    # Zero-filled from the data's first day: leading zeros are explicit (dense rows).
    traits_base = _Base(
        *(
            np.concatenate([getattr(base, f.name), getattr(successor, f.name)])
            for f in fields(_Base)
        )
    )
    return _finish(traits_base, all_counts, events, names=names, sparse=False)


GENERATORS: tuple[GeneratorSpec, ...] = tuple(
    GeneratorSpec(f.__name__, (f.__doc__ or "").strip().splitlines()[0], f)
    for f in (reference, seasonal, overdispersed, holidays, zero_inflated, renames_and_shifts)
)


def generator(name: str) -> GeneratorSpec:
    """The generator called ``name`` (see :data:`GENERATORS`)."""
    for spec in GENERATORS:
        if spec.name == name:
            return spec
    raise KeyError(f"no generator {name!r}; known: {', '.join(g.name for g in GENERATORS)}")
