"""Surges in report counts: the configuration, the calendar grids and the per-date tests.

Pure functions over pandas DataFrames (no Dash, Flask or database); each states its columns."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from triage.detection.common import (
    EPOCH,
    _day_index,
    _empty_alerts,
    _factorize,
    _first_rows,
    _Grid,
    _periods_from_sorted,
    _to_day,
)
from triage.detection.shape import _Fit, _ShapeModel
from triage.detection.surge_config import SurgeConfig
from triage.detection.surge_messages import _surge_frame
from triage.detection.surge_stats import (
    _bh_qvalues_by_group,
    _level_scaled_phi,
    _moderate,
    _quasi_binomial_upper,
    _simes,
    _trimmed_chi2_mean,
    _trimmed_dispersion,
)


def infer_periods(series: pd.DataFrame) -> pd.Series:
    """Days between a series' periods: 7 when every gap is whole weeks (3+ rows), else 1.

    In: ``series, date``. Out: a Series indexed by series name. Sparse daily counts (days with
    no reports absent) stay daily; only consistently weekly dates make a weekly series.
    """
    days = _day_index(series["date"])
    frame = pd.DataFrame({"series": series["series"].to_numpy(), "day": days})
    frame = frame.drop_duplicates().sort_values(["series", "day"])
    gaps = frame.groupby("series", sort=False, observed=True)["day"].diff()
    weekly = (gaps.isna() | (gaps % 7 == 0)).groupby(frame["series"], observed=True).all()
    rows = frame.groupby("series", observed=True).size()
    return pd.Series(np.where(weekly & (rows >= 3), 7, 1), index=weekly.index, name="period")


def detect_surges(
    series: pd.DataFrame,
    config: SurgeConfig | None = None,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    labels: Mapping[str, str] | None = None,
    workers: int | None = None,
    units: Mapping[str, str] | None = None,
    daily: bool = False,
) -> pd.DataFrame:
    """Days on which a count series surges above what its own history predicts.

    In: ``series`` (name), ``date`` (day), ``value`` (count >= 0; NaN = unknown). A series is
    daily unless all its dates are whole weeks apart (see :func:`infer_periods`); ``daily=True``
    says every series is daily (report counts are: a sparse category whose few report days
    happen to fall on one weekday must not be read as a weekly series). Between a
    series' first row and the latest date of the input, an absent date counts as zero (report
    counts are stored sparsely); a NaN value is unknown and its days are left out of sums.

    Out: :data:`ALERT_COLUMNS` (kind ``surge``), one row per alerted series and date within
    ``[start, end]``; ``expected``/``lower``/``upper``/``observed`` are totals over the
    ``window_days`` that gave the smallest p-value.

    Method (:func:`surge_method`): for each date d and window w (3, 7 and 28 days) the total X
    over (d-w, d] is compared with the total S over the days before that window starts: for
    the 7- and 28-day windows of a series with a seasonal shape, up to 364 of them where its
    history reaches (``config.long_baseline_days``), else 84 (at least 84 needed); for the
    3-day window the same weekdays of the 12 weeks before (``config.baseline_days``). A Poisson
    log-linear model (trend, six annual harmonics, and a profile of the same days in the
    previous one or two years for sharp recurring peaks, shrunk by its own noise; the slope's
    and harmonics' prior estimated across series, ``config.shape_prior_empirical``), refitted every
    56 days on up to two years of weekly totals before the dates it serves, with outlying
    weeks left out so past surges do not become "normal", gives the expected ratio of the two
    totals; the level itself comes from S, so slow drifts and level shifts are absorbed.
    Conditional on X + S, X is binomial under the null: this accounts exactly for the noise in
    the baseline and stays valid for tiny counts. Over-dispersion enters as a quasi-likelihood
    factor phi, the trimmed mean of the test's own squared standardized residuals over the
    previous year (each computed with the model in force on its date, so out of sample),
    shrunk towards what series of similar size show (empirical Bayes, limma-style) and
    carried by a t reference for its remaining uncertainty; on busy series phi's excess over 1
    grows with the window's expected total against its mean over that year (a
    negative-binomial-like variance: the shape's misfit at a seasonal peak is multiplicative;
    ``config.level_dispersion_count``). A 28-day excess counts only while
    the latest week still holds at least half its share of it, and a 3-day excess only while
    the week holds at least half of it (reports caught up after a holiday or an outage fill a
    few days, not the week); and a window of a week or less counts only while its week's
    excess, less any deficit of the week before (where that week expected at least
    ``config.catch_up_min_expected`` reports), still holds half of its own: the 7-day window
    that holds the caught-up reports but not the dip. A window never alerts with fewer than
    ``config.min_observed`` reports or less than ``config.min_excess`` above expectation, and
    an expectation is at least ``config.min_expected_per_day`` a day (a near-empty baseline
    is read as that level), so one or two reports never alert (optionally,
    ``config.short_min_ratio``, the 3-day window only at that many times its expectation or
    more). A series begins at its first non-zero count: zeros before it (a database that
    zero-fills from its own first day, a renamed category) are not history. All tests are
    one-sided (only rises alert).

    Multiplicity: within a series, the windows' p-values are combined by the weighted Simes
    test (Genovese, Roeder and Wasserman, 2006; ``config.window_weights``, most weight on the
    week), valid for the positively dependent nested windows; across series, BH at
    ``config.fdr`` runs over every series tested on each date (counting at least
    ``config.min_family`` tests, absent ones as p = 1), so the expected share of false alerts
    among a date's alerts is at most ``fdr``, however many series there are.

    Why no CUSUM: for a linear ramp, the best statistic (matched filter, which a CUSUM can at
    most equal) weights each day by its excess; on days 7 to 13 of a ramp, when ramps get
    caught, it beats the plain 7-day total by only 6-10% in signal-to-noise (independent
    days), so a sequential component would add a fourth test to the multiplicity budget for
    little gain. The 3-day window buys speed on sharp steps; the 7-day window carries ramps;
    the 28-day window, small lasting excesses.
    Everything for date d uses data up to d only: alerts never change when later data arrive.
    """
    cfg = config or SurgeConfig()
    lo = None if start is None else _to_day(start)
    hi = None if end is None else _to_day(end)
    parts: list[dict[str, np.ndarray]] = []
    tested: list[pd.Series] = []
    for grid in _grids(series, daily=daily):
        found, counts = _grid_tests(grid, cfg, lo, hi, workers or min(os.cpu_count() or 1, 4))
        parts.append(found)
        tested.append(counts)
    if not parts:
        return _empty_alerts()
    found = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    per_day = pd.concat(tested).groupby(level=0).sum() if tested else pd.Series(dtype=int)
    # With few series, per-date BH would let a lone test through at p near the FDR level,
    # every day; counting absent tests as p = 1 up to ``min_family`` keeps it valid and
    # bounds that (for 12 series, a lone alert needs p <= fdr / 100).
    m = np.maximum(per_day.reindex(found["day"]).to_numpy(), cfg.min_family)
    qvalues = _bh_qvalues_by_group(found["p"], found["day"], m)
    keep = qvalues <= cfg.fdr
    found = {key: value[keep] for key, value in found.items()}
    qvalues = qvalues[keep]
    return _surge_frame(found, qvalues, cfg, labels, units)


def _grids(series: pd.DataFrame, *, daily: bool = False) -> list[_Grid]:
    missing = {"series", "date", "value"} - set(series.columns)
    if missing:
        raise ValueError(f"series frame lacks columns: {', '.join(sorted(missing))}")
    if series.empty:
        return []
    names, codes = _factorize(series["series"])
    days = _day_index(series["date"])
    values = pd.to_numeric(series["value"], errors="raise").to_numpy(dtype=float)
    if np.any(values < 0):
        raise ValueError("counts must be >= 0")
    # Input already ordered by series then date (the usual case) skips a costly sort.
    step_code, step_day = np.diff(codes), np.diff(days)
    if not np.all((step_code > 0) | ((step_code == 0) & (step_day >= 0))):
        order = np.lexsort((days, codes))
        codes, days, values = codes[order], days[order], values[order]
        step_code, step_day = np.diff(codes), np.diff(days)
    if np.any((step_code == 0) & (step_day == 0)):
        raise ValueError("each series may have only one value per date")
    periods = (
        np.ones(len(names), dtype=int) if daily else _periods_from_sorted(codes, days, len(names))
    )
    phase = np.where(periods == 7, days[_first_rows(codes, len(names))] % 7, 0)
    last_day = int(days.max())
    grids: list[_Grid] = []
    for period, ph in sorted({(int(p), int(f)) for p, f in zip(periods, phase, strict=True)}):
        members = np.flatnonzero((periods == period) & (phase == ph))
        rows = np.isin(codes, members)
        local = np.full(len(names), -1)
        local[members] = np.arange(len(members))
        sc, sd, sv = local[codes[rows]], days[rows], values[rows]
        day0 = int(sd.min())
        day0 -= (day0 - ph) % period
        t = (sd - day0) // period
        n_t = (last_day - day0) // period + 1
        grid_values = np.zeros((len(members), n_t))
        first = np.full(len(members), n_t)
        # A series begins at its first report: zeros before it (a database that zero-fills
        # from its own first day) would read as a quiet history, and a new or renamed
        # category as a surge from nothing.
        counted = ~(sv <= 0)
        np.minimum.at(first, sc[counted], t[counted])
        grid_values[sc, t] = sv
        grid_values[np.arange(n_t)[None, :] < first[:, None]] = np.nan
        grids.append(_Grid(period, day0, names[members], grid_values))
    return grids


_CHUNK = 512


@dataclass(frozen=True)
class _Plan:
    """The detector's lengths in grid periods, and the refit blocks of one grid."""

    windows: tuple[int, ...]
    weights: tuple[float, ...]  # each window's share of the error rate (sum 1)
    week: int
    longest: int
    gap: int  # periods from the start of the baseline's end to the test date
    base: int  # short windows' baseline, and the least baseline a test needs
    long_base: int  # windows of a week or more: baseline where history reaches (>= base)
    calib: int
    min_calib: int
    blocks: tuple[tuple[int, int], ...]  # (first, last) test position; the fit uses < first

    @classmethod
    def build(cls, grid: _Grid, cfg: SurgeConfig, lo: int | None, hi: int | None) -> _Plan:
        p = grid.period
        # Windows shorter than a period (a 3-day window on weekly data) cannot be formed.
        kept = sorted(
            (w // p, v)
            for w, v in zip(cfg.windows_days, cfg.window_weights, strict=True)
            if w % p == 0
        )
        windows = tuple(w for w, _ in kept)
        total = sum(v for _, v in kept)
        weights = tuple(v / total for _, v in kept)
        longest, base = max(windows), cfg.baseline_days // p
        long_base = max(cfg.long_baseline_days // p, base)
        refit = max(cfg.refit_days // p, 1)
        n_t = grid.values.shape[1]
        gap = longest + cfg.guard_days // p
        earliest = gap + base - 1
        absolute0 = (grid.day0 - (EPOCH - dt.date(1970, 1, 1)).days) // p
        blocks = []
        for block in range((absolute0 + earliest) // refit, (absolute0 + n_t - 1) // refit + 1):
            first = max(block * refit - absolute0, earliest)
            last = min((block + 1) * refit - absolute0, n_t) - 1
            if first > last:
                continue
            if hi is not None and grid.day(first) > hi:
                break
            # Blocks before ``lo`` still run: their residuals calibrate the later ones.
            blocks.append((first, last))
        return cls(
            windows,
            weights,
            max(7 // p, 1),
            longest,
            gap,
            base,
            long_base,
            cfg.calibration_days // p,
            max(cfg.min_calibration_days // p, 8),
            tuple(blocks),
        )


def _grid_tests(
    grid: _Grid, cfg: SurgeConfig, lo: int | None, hi: int | None, workers: int
) -> tuple[dict[str, np.ndarray], pd.Series]:
    """Candidate rejections (p <= fdr) and the number of series tested per day, for one grid.

    Blocks of dates run in time order; within a block, chunks of series run in parallel
    threads (numpy releases the GIL), and the dispersion prior is shared by all series.
    """
    plan = _Plan.build(grid, cfg, lo, hi)
    n = grid.values.shape[0]
    shape_model = _ShapeModel(grid, cfg)
    chunks = [
        _Chunk(grid, slice(i, min(i + _CHUNK, n)), plan, cfg, shape_model)
        for i in range(0, n, _CHUNK)
    ]
    found: list[dict[str, np.ndarray]] = []
    tested: list[pd.Series] = []
    bounds = np.cumsum([0] + [c.n for c in chunks])
    with _single_threaded_blas(), ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        run = pool.map if workers > 1 and len(chunks) > 1 else map
        for b in range(len(plan.blocks)):
            parts = list(run(lambda chunk, b=b: chunk.calibrate(b), chunks))
            stacked = (np.concatenate(x, axis=1) for x in zip(*parts, strict=True))
            phi, dof = _moderate(*stacked, cfg)
            results = run(
                lambda c, a, z, b=b, phi=phi, dof=dof: c.test(b, phi[:, a:z], dof[:, a:z], lo, hi),
                chunks,
                bounds[:-1],
                bounds[1:],
            )
            for piece, counts in results:
                found.append(piece)
                tested.append(counts)
    keys = ("observed", "expected", "lower", "upper", "window", "p", "series", "day")
    if not found:
        return {k: np.array([], dtype=object if k == "series" else float) for k in keys}, (
            pd.Series(dtype=np.int64)
        )
    merged = {k: np.concatenate([f[k] for f in found]) for k in keys}
    counts = pd.concat(tested)
    return merged, counts.groupby(level=0).sum()


class _Chunk:
    """Some series of a grid, with the running state the detector keeps for them."""

    def __init__(
        self, grid: _Grid, rows: slice, plan: _Plan, cfg: SurgeConfig, shape_model: _ShapeModel
    ) -> None:
        self.grid, self.plan, self.cfg, self.shape_model = grid, plan, cfg, shape_model
        self.names = grid.names[rows]
        self.csum, self.cvalid, self.valid = _cumulative(grid.values[rows])
        self.n, n_t = self.valid.shape
        n_w = len(plan.windows)
        self.r2 = np.full((n_w, self.n, n_t), np.nan)
        self.size = np.full((n_w, self.n, n_t), np.nan)
        self.seasonal = np.zeros(self.n, dtype=bool)
        # Each window's mean expected total over the calibration year (level-scaled phi).
        self.calib_size = np.full((len(plan.windows), self.n), np.nan)
        self.fit: _Fit | None = None
        self.long = np.zeros(self.n, dtype=bool)  # see calibrate
        self.trim_constant = _trimmed_chi2_mean(cfg.trim)
        self.block_stats: list[dict[str, np.ndarray]] = []
        # Excess of the week before each tested 7-day window (catch-up rule), or None.
        self.prev_week_excess: np.ndarray | None = None
        # Cells whose normal-approximation z is below this cannot reach the FDR level even
        # unadjusted; skipping their exact tails keeps the incomplete-beta calls few (a
        # skipped p-value is 1, which can only raise the combined p-value: still valid).
        self.z_floor = float(special.ndtri(1.0 - cfg.fdr)) - 0.5

    def calibrate(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Refit the shape for block b; each window's phi, its dof and log size, (windows, n).

        Calibration residuals are out of sample: each date's residual is computed once, with
        the model that was in force for that date (a true forecast, trend extrapolation
        included). When a series first gets a seasonal model its earlier flat-model residuals
        would overstate phi for a year, so they are recomputed then by cross-fitting (four
        folds, each refitted without the weeks its residuals use).
        """
        plan, cfg = self.plan, self.cfg
        first, last = plan.blocks[b]
        fit_end = first - 1
        calib_first = max(fit_end - plan.calib + 1, plan.gap + plan.base - 1)
        previous = self.fit.coef if self.fit is not None else None
        self.fit = fit = self.shape_model.fit(self.csum, self.cvalid, fit_end, previous)
        # Series with a seasonal shape compare their longer windows with up to a year.
        self.long = fit.enough.copy() if fit is not None else np.zeros(self.n, dtype=bool)
        newly = (fit.enough & ~self.seasonal) if fit is not None else np.zeros(self.n, bool)
        if fit is not None and newly.any() and calib_first <= fit_end:
            sub = np.flatnonzero(newly)
            dates = np.arange(calib_first, fit_end + 1)
            for fold in np.array_split(dates, max(len(dates) // plan.longest, 1)):
                span0 = max(int(fold[0]) - plan.gap - plan.long_base + 1, 0)
                held = self.shape_model.held_out(
                    fit, int(fold[0]) - plan.longest + 1, int(fold[-1]), sub
                )
                log_shape = self.shape_model.log_shape(fit, held, sub, span0, int(fold[-1]))
                r2, size, _ = self._residuals(sub, log_shape, span0, fold)
                self.r2[:, sub[:, None], fold[None, :]] = r2
                self.size[:, sub[:, None], fold[None, :]] = size
        self.seasonal |= newly
        window = slice(calib_first, fit_end + 1)
        n_w = len(plan.windows)
        phi_out = np.full((n_w, self.n), np.nan)
        dof_out = np.full((n_w, self.n), np.nan)
        size_out = np.full((n_w, self.n), np.nan)
        for i, w in enumerate(plan.windows):
            phi, n_ok = _trimmed_dispersion(self.r2[i][:, window], cfg.trim, self.trim_constant)
            enough = n_ok >= plan.min_calib
            phi_out[i] = np.where(enough, phi, np.nan)
            dof_out[i] = np.where(enough, cfg.dof_per_window * n_ok / w, np.nan)
            sizes = self.size[i][:, window]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_size = np.nansum(sizes, axis=1) / np.sum(np.isfinite(sizes), axis=1)
            size_out[i] = np.where(enough, np.log(mean_size + 0.5), np.nan)
            self.calib_size[i] = np.where(enough, mean_size, np.nan)
        everyone = np.arange(self.n)
        block_t = np.arange(first, last + 1)
        span0 = max(first - plan.gap - plan.long_base + 1, 0)
        log_shape = self.shape_model.log_shape(fit, None, everyone, span0, last)
        # The block's own statistics are its dates' future calibration residuals and, once
        # the shared dispersion prior is known, its tests: computed once, used twice.
        r2, size, self.block_stats = self._residuals(everyone, log_shape, span0, block_t)
        if cfg.catch_up_share > 0 and plan.week in plan.windows:
            # The week before each tested week: a deficit there (a holiday, an intake
            # outage) explains an excess caught up afterwards (SurgeConfig.catch_up_share).
            cshape = _shape_cumsum(log_shape, self.valid[:, span0 : last + 1])
            prev = _window_stats(
                self.csum,
                self.cvalid,
                cshape,
                span0,
                plan,
                plan.week,
                cfg,
                block_t - plan.week,
                self.long,
            )
            seen = prev["ok"] & (prev["expected"] >= cfg.catch_up_min_expected)
            self.prev_week_excess = np.where(seen, prev["x"] - prev["expected"], 0.0)
        self.r2[:, :, first : last + 1] = r2
        self.size[:, :, first : last + 1] = size
        return phi_out, dof_out, size_out

    def _residuals(
        self, rows: np.ndarray, log_shape: np.ndarray, span0: int, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[dict[str, np.ndarray]]]:
        """Squared standardized residuals and expected totals, (windows, rows, dates)."""
        last = int(t[-1])
        cshape = _shape_cumsum(log_shape, self.valid[rows, span0 : last + 1])
        n_w = len(self.plan.windows)
        r2 = np.full((n_w, len(rows), len(t)), np.nan)
        size = np.full((n_w, len(rows), len(t)), np.nan)
        csum, cvalid = self.csum[rows], self.cvalid[rows]
        stats = []
        for i, w in enumerate(self.plan.windows):
            st = _window_stats(
                csum, cvalid, cshape, span0, self.plan, w, self.cfg, t, self.long[rows]
            )
            r2[i] = np.where(st["ok"], st["r2"], np.nan)
            size[i] = np.where(st["ok"], st["expected"], np.nan)
            stats.append(st)
        return r2, size, stats

    def test(
        self, b: int, phi: np.ndarray, dof: np.ndarray, lo: int | None, hi: int | None
    ) -> tuple[dict[str, np.ndarray], pd.Series]:
        """Candidates (combined p <= fdr) for block b's dates and the tested count per day."""
        plan, cfg, grid = self.plan, self.cfg, self.grid
        first, last = plan.blocks[b]
        test_t = np.arange(first, last + 1)
        days = grid.day(test_t)
        keep = np.ones(len(test_t), dtype=bool)
        if lo is not None:
            keep &= days >= lo
        if hi is not None:
            keep &= days <= hi
        test_t = test_t[keep]
        if len(test_t) == 0:
            return _no_candidates(), pd.Series(dtype=np.int64)
        n = self.n
        best_p = np.full((n, len(test_t)), np.inf)
        window_p = []
        best: dict[str, np.ndarray] = {}
        any_tested = np.zeros((n, len(test_t)), dtype=bool)
        for i, w in enumerate(plan.windows):
            st = {key: value[:, keep] for key, value in self.block_stats[i].items()}
            phi_w = np.maximum(phi[i], 1.0)[:, None]
            if cfg.level_dispersion_count > 0:
                # phi grows with the level (see SurgeConfig.level_dispersion_count).
                phi_w = _level_scaled_phi(
                    phi_w, st["expected"], self.calib_size[i], cfg.level_dispersion_count
                )
            usable = st["ok"] & np.isfinite(phi_w)
            any_tested |= usable
            pval = _quasi_binomial_upper(
                st["x"], st["s"], st["p0"], phi_w, dof[i][:, None], usable, self.z_floor
            )
            if w > plan.week and cfg.ongoing_only:
                # A long window still holds a surge that has ended; only an excess that goes
                # on in the latest week counts (p = 1 otherwise, still a valid p-value).
                # "Goes on": the latest week holds at least ``ongoing_share`` of its part of
                # the long window's excess, so a spike three weeks ago plus a week a little
                # above usual does not keep the 28 days alerting.
                latest = self.block_stats[plan.windows.index(plan.week)]
                week_excess = latest["x"][:, keep] - latest["expected"][:, keep]
                share = cfg.ongoing_share * plan.week / w * (st["x"] - st["expected"])
                ended = (week_excess <= 0) | (week_excess < share)
                pval = np.where(ended & usable, 1.0, pval)
            if w < plan.week and plan.week in plan.windows and cfg.short_in_week > 0:
                # Catch-up after a holiday or an outage: the short window is high but the
                # week, which holds the missing days too, is not (p = 1: still valid).
                wk = self.block_stats[plan.windows.index(plan.week)]
                week_excess = wk["x"][:, keep] - wk["expected"][:, keep]
                caught_up = week_excess < cfg.short_in_week * (st["x"] - st["expected"])
                pval = np.where(caught_up & usable, 1.0, pval)
            if w <= plan.week and self.prev_week_excess is not None:
                # Catch-up after a deficit in the week before (a holiday, an outage): the
                # window's week plus that deficit holds under ``catch_up_share`` of the
                # window's excess (p = 1: still valid).
                wk = self.block_stats[plan.windows.index(plan.week)]
                week_excess = wk["x"][:, keep] - wk["expected"][:, keep]
                deficit = np.minimum(self.prev_week_excess[:, keep], 0.0)
                caught_up = week_excess + deficit < cfg.catch_up_share * (st["x"] - st["expected"])
                pval = np.where(caught_up & usable, 1.0, pval)
            # A handful of reports is never a surge, however quiet the series was.
            few = (st["x"] < cfg.min_observed) | (st["x"] - st["expected"] < cfg.min_excess)
            if w < plan.week and cfg.short_min_ratio > 0:
                few |= st["x"] < cfg.short_min_ratio * st["expected"]
            pval = np.where(few & usable, 1.0, pval)
            window_p.append(pval)
            better = pval < best_p
            best_p = np.where(better, pval, best_p)
            sd = np.sqrt(phi_w * st["expected"] * (1.0 + st["ratio"]))
            candidate = {
                "observed": st["x"],
                "expected": st["expected"],
                "lower": np.maximum(st["expected"] - cfg.band_z * sd, 0.0),
                "upper": st["expected"] + cfg.band_z * sd,
                "window": np.full(st["x"].shape, w * grid.period, dtype=float),
            }
            for key, value in candidate.items():
                best[key] = np.where(better, value, best.get(key, value))
        stacked = np.stack(window_p)
        weights = np.array(plan.weights)
        if cfg.simes:
            combined = _simes(stacked, weights)
        else:
            combined = np.minimum(
                np.min(np.where(np.isfinite(stacked), stacked, 1.0) / weights[:, None, None], 0),
                1.0,
            )
        combined[~any_tested] = np.inf
        r, c = np.nonzero(combined <= cfg.fdr)
        piece = {key: value[r, c] for key, value in best.items()}
        piece["p"] = combined[r, c]
        piece["day"] = grid.day(test_t[c])
        piece["series"] = self.names[r]
        return piece, pd.Series(any_tested.sum(axis=0), index=grid.day(test_t))


def _no_candidates() -> dict[str, np.ndarray]:
    out = {
        key: np.array([], dtype=float)
        for key in ("observed", "expected", "lower", "upper", "window", "p")
    }
    out["series"] = np.array([], dtype=object)
    out["day"] = np.array([], dtype=np.int64)
    return out


def _cumulative(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    valid = ~np.isnan(values)
    n, n_t = values.shape
    csum = np.zeros((n, n_t + 1))
    np.cumsum(np.nan_to_num(values), axis=1, out=csum[:, 1:])
    cvalid = np.zeros((n, n_t + 1))
    np.cumsum(valid, axis=1, out=cvalid[:, 1:])
    return csum, cvalid, valid


def _shape_cumsum(log_shape: np.ndarray, valid: np.ndarray) -> np.ndarray:
    shape = np.exp(np.clip(log_shape, -30.0, 30.0)) * valid
    out = np.zeros((shape.shape[0], shape.shape[1] + 1))
    np.cumsum(shape, axis=1, out=out[:, 1:])
    return out


def _window_stats(
    csum: np.ndarray,
    cvalid: np.ndarray,
    cshape: np.ndarray,
    span0: int,
    plan: _Plan,
    w: int,
    cfg: SurgeConfig,
    t: np.ndarray,
    long: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Window and baseline totals at positions t for window length w (periods).

    ``long`` (per row): the series has a seasonal shape, so its windows of a week or more may
    compare with up to ``plan.long_base`` of history (else ``plan.base``).
    """
    t = np.asarray(t, dtype=np.int64)
    x = csum[:, t + 1] - csum[:, t + 1 - w]
    vx = cvalid[:, t + 1] - cvalid[:, t + 1 - w]
    et = cshape[:, t + 1 - span0] - cshape[:, t + 1 - w - span0]
    gap = plan.gap
    if cfg.baseline_per_window:
        gap = max(w, plan.week) + cfg.guard_days // (7 // plan.week)
    if w % plan.week == 0:
        # The baseline covers [b_end - base, b_end): on series with a seasonal shape (``long``)
        # up to ``plan.long_base`` back, from the grid's first position at the earliest; a
        # long baseline spans seasons, which only a fitted shape carries across. At least
        # ``plan.base`` of it must be history (``vs`` counts valid days: days before a
        # series' first report are not history).
        b_end = t - gap + 1
        reach = np.where(long, plan.long_base, plan.base) if long is not None else plan.base
        b_start = np.maximum(b_end[None, :] - np.reshape(reach, (-1, 1)), 0)
        b_start = np.broadcast_to(b_start, x.shape)
        s = csum[:, b_end] - np.take_along_axis(csum, b_start, axis=1)
        vs = cvalid[:, b_end] - np.take_along_axis(cvalid, b_start, axis=1)
        eb = cshape[:, b_end - span0] - np.take_along_axis(cshape, b_start - span0, axis=1)
        base_len = plan.base
    else:
        # A window shorter than a week is compared with the same weekdays of the baseline
        # weeks, so weekday effects still cancel without being estimated.
        s = np.zeros_like(x)
        vs = np.zeros_like(x)
        eb = np.zeros_like(x)
        first_copy = -(-gap // plan.week)
        copies = range(first_copy, first_copy + plan.base // plan.week)
        for m in copies:
            end = t + 1 - m * plan.week
            s += csum[:, end] - csum[:, end - w]
            vs += cvalid[:, end] - cvalid[:, end - w]
            eb += cshape[:, end - span0] - cshape[:, end - w - span0]
        base_len = w * len(copies)
    ok = (vx >= cfg.min_valid_fraction * w) & (vs >= cfg.min_valid_fraction * base_len)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = et / eb
        p0 = et / (et + eb)
        # A baseline below the minimum expected level reads as that level (conservative:
        # the test then treats the quiet history as if it had held that many reports).
        floor = cfg.min_expected_per_day * w * (7 // plan.week)
        s = np.where(np.isfinite(ratio) & (s * ratio < floor), floor / ratio, s)
        expected = s * ratio
        var = (x + s) * ratio  # Var(X - ratio * S | X + S) under Poisson, up to phi
        r2 = np.where(var > 0, (x - expected) ** 2 / var, 0.0)
    ok &= np.isfinite(ratio) & (eb > 0)
    return {"x": x, "s": s, "p0": p0, "ratio": ratio, "expected": expected, "r2": r2, "ok": ok}


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Small matrix products run 20x slower with OpenBLAS threads; we parallelise by chunks."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
