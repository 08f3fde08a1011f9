"""The statistics behind the surge tests: p-values, dispersion, combination and BH."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import special

from triage.detection.common import _factorize
from triage.detection.surge_config import SurgeConfig

_SKEW_CAP = 0.5  # most extra skewness the skew adjustment adds (see _quasi_binomial_upper)


def _level_scaled_phi(
    phi: np.ndarray, expected: np.ndarray, calib_size: np.ndarray, count: float
) -> np.ndarray:
    """phi (series, 1) scaled for each date's expected total (series, dates).

    The excess of phi over 1 grows in proportion to the expected total over its mean in the
    calibration year (only upwards, at most 4x), by a share size / (size + count) of that
    growth: multiplicative misfit matters on busy series only.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = expected / calib_size[:, None]
    rel = np.clip(np.nan_to_num(rel, nan=1.0), 1.0, 4.0)
    size = np.nan_to_num(calib_size)[:, None]
    gate = size / (size + count)
    return 1.0 + (phi - 1.0) * (1.0 + gate * (rel - 1.0))


def _simes(pvalues: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted Simes combination over the first axis (Genovese, Roeder and Wasserman, 2006).

    With weights w_i summing to 1, sort the ratios r_i = p_i / w_i; the combined p-value is
    the minimum over j of r_(j) / j. Equal weights give Simes' k p_(j) / j. Valid when the
    tests are independent or positively dependent, as nested windows of one series are, and
    never larger than weighted Bonferroni's min p_i / w_i.
    """
    k = pvalues.shape[0]
    p = np.where(np.isfinite(pvalues), pvalues, 1.0)
    if weights is None:
        weights = np.full(k, 1.0 / k)
    w = (weights / weights.sum()).reshape((k,) + (1,) * (p.ndim - 1))
    ratios = np.sort(p / w, axis=0)
    rank = np.arange(1, k + 1).reshape((k,) + (1,) * (p.ndim - 1))
    return np.minimum(np.min(ratios / rank, axis=0), 1.0)


def _moderate(
    phi_hat: np.ndarray, dof: np.ndarray, size: np.ndarray, cfg: SurgeConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes moderation of each series' dispersion (as limma does for variances).

    A year of one series' residuals pins phi down only to within 20-40 %, and an
    underestimate turns into false alerts at the small p-values that survive BH. Across
    series on the same block, log phi is modelled as a quadratic in the log expected count
    plus scatter; the scatter beyond what chi-square sampling explains gives prior degrees
    of freedom d0, each phi is shrunk to (d0 * prior + dof * own) / (d0 + dof), and p-values
    use a t reference with d0 + dof degrees of freedom (Smyth, 2004). With fewer than
    ``cfg.moderation_min_series`` series the own estimate stands, still with its t reference.
    """
    phi = phi_hat.copy()
    total = dof.copy()
    for i in range(phi_hat.shape[0]):
        ph, d, x = phi_hat[i], dof[i], size[i]
        ok = np.isfinite(ph) & np.isfinite(d) & np.isfinite(x) & (ph > 0) & (d >= 2)
        if ok.sum() < cfg.moderation_min_series:
            continue
        e = np.log(ph[ok]) - special.digamma(d[ok] / 2) + np.log(d[ok] / 2)
        design = np.stack([np.ones(ok.sum()), x[ok], x[ok] ** 2], axis=1)
        coef = np.linalg.lstsq(design, e, rcond=None)[0]
        resid = e - design @ coef
        spread = float(np.mean(resid**2)) * len(e) / max(len(e) - 3, 1)
        prior_var = spread - float(np.mean(special.polygamma(1, d[ok] / 2)))
        d0 = 2.0 * _trigamma_inverse(prior_var) if prior_var > 0 else np.inf
        d0 = min(d0, cfg.max_prior_dof)
        inside = np.clip(x, x[ok].min(), x[ok].max())  # a quadratic must not extrapolate
        trend = coef[0] + coef[1] * inside + coef[2] * inside**2
        log_prior = trend + special.digamma(d0 / 2) - np.log(d0 / 2)
        prior = np.exp(log_prior)
        moderated = (d0 * prior + np.nan_to_num(d) * np.nan_to_num(ph)) / (d0 + np.nan_to_num(d))
        has = np.isfinite(ph) & np.isfinite(x)
        phi[i] = np.where(has, moderated, np.nan)
        total[i] = np.where(has, d0 + np.nan_to_num(d), np.nan)
    return phi, total


def _trigamma_inverse(value: float) -> float:
    """y with trigamma(y) = value (Smyth's Newton iteration)."""
    if value > 1e7:
        return 1.0 / math.sqrt(value)
    if value < 1e-6:
        return 1.0 / value
    y = 0.5 + 1.0 / value
    for _ in range(50):
        tri = float(special.polygamma(1, y))
        step = tri * (1 - tri / value) / float(special.polygamma(2, y))
        y += step
        if -step / y < 1e-8:
            break
    return y


def _trimmed_chi2_mean(trim: float) -> float:
    """E[Z^2 | Z^2 below its (1 - trim) quantile] for a standard normal Z (consistency factor)."""
    cut = 2.0 * special.gammaincinv(0.5, 1.0 - trim)
    return float(special.gammainc(1.5, cut / 2.0) / (1.0 - trim))


def _trimmed_dispersion(
    resid2: np.ndarray, trim: float, constant: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row trimmed mean of squared residuals (NaN = absent), rescaled to estimate phi.

    Trimming the largest residuals keeps a surge from last season from inflating phi for a
    whole year.
    """
    n_rows, width = resid2.shape
    finite = np.isfinite(resid2)
    n_ok = finite.sum(axis=1)
    keep = np.floor((1.0 - trim) * n_ok).astype(np.int64)
    phi = np.full(n_rows, np.nan)
    full = n_ok == width
    if full.any() and width:
        # Complete rows share one cut: a partition instead of a sort.
        k = int(keep[full][0])
        if k > 0:
            part = np.partition(resid2[full], k - 1, axis=1)[:, :k]
            phi[full] = part.sum(axis=1) / k / constant
    rest = ~full & (keep > 0)
    if rest.any():
        ordered = np.sort(resid2[rest], axis=1)
        csum = np.zeros((ordered.shape[0], width + 1))
        np.cumsum(np.nan_to_num(ordered), axis=1, out=csum[:, 1:])
        phi[rest] = csum[np.arange(ordered.shape[0]), keep[rest]] / keep[rest] / constant
    return phi, n_ok


def _quasi_binomial_upper(
    x: np.ndarray,
    s: np.ndarray,
    p0: np.ndarray,
    phi: np.ndarray,
    dof: np.ndarray,
    usable: np.ndarray,
    z_floor: float = 0.0,
) -> np.ndarray:
    """Upper-tail p-value of X given X + S = n, for over-dispersed counts.

    Start from P(X >= x) under Binomial(n, p0) with counts scaled down by phi (exact for
    Poisson counts, phi = 1). Over-dispersion from a mixing distribution (negative binomial)
    also skews the conditional law to the right: it is beta-binomial, with the variance the
    quasi model gives it but about twice the skewness. That extra skewness is added by a
    monotone Wilson-Hilferty step on the normal score (:func:`_skew_adjusted`; a
    Cornish-Fisher step capped every p-value near 0.001), and the result is read against a
    t reference with ``dof`` degrees of freedom (the uncertainty of phi). Cells whose normal
    score is below ``z_floor`` get 1 without the exact computation (they cannot reach the FDR
    level).
    """
    out = np.ones(x.shape)
    phi = np.broadcast_to(phi, x.shape)
    dof = np.broadcast_to(dof, x.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = x + s
        z = (x - total * p0) / np.sqrt(phi * total * p0 * (1.0 - p0))
        upper = usable & (z > z_floor) & (x > 0)
    f, n, q = phi[upper], (x[upper] + s[upper]), p0[upper]
    xs = x[upper] / f
    tail = special.betainc(xs, n / f - xs + 1.0, q)
    score = -special.ndtri(np.clip(tail, 1e-300, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        quasi_skew = (1.0 - 2.0 * q) / np.sqrt(n / f * q * (1.0 - q))
        size = np.where(f > 1.0, (n - f) / (f - 1.0), np.inf)  # alpha + beta of the BB law
        bb_skew = (
            (1.0 - 2.0 * q)
            * (size + 2.0 * n)
            * np.sqrt(1.0 + size)
            / ((size + 2.0) * np.sqrt(n * q * (1.0 - q) * (size + n)))
        )
    extra = np.clip(np.where(np.isfinite(bb_skew), bb_skew - quasi_skew, 0.0), 0.0, _SKEW_CAP)
    score = _skew_adjusted(score, extra)
    d = dof[upper]
    tail = np.where(
        np.isfinite(d), special.stdtr(np.nan_to_num(d, nan=1.0), -score), special.ndtr(-score)
    )
    out[upper] = tail
    out[~usable] = np.inf
    return out


def _skew_adjusted(score: np.ndarray, skew: np.ndarray) -> np.ndarray:
    """A normal score made conservative for ``skew`` extra right skewness (monotone).

    Wilson-Hilferty: read the score as a standardized gamma variable of that skewness and
    map it to the normal scale, z = (6/g)((1 + g t / 2)^(1/3) - 1) + g/6 (t >= 1). It agrees
    with the Cornish-Fisher step t - g/6 (t^2 - 1) near the usual thresholds but, unlike it,
    keeps rising: Cornish-Fisher peaks at t = 3/g and then falls, so with g = 0.5 no excess,
    however large, gave a p-value below 0.001 (a storm of 11 reports against 1.5 expected
    could not pass BH among a hundred series).
    """
    g = np.maximum(skew, 1e-9)
    with np.errstate(invalid="ignore"):
        wh = 6.0 / g * (np.cbrt(1.0 + g * score / 2.0) - 1.0) + g / 6.0
        at_one = 6.0 / g * (np.cbrt(1.0 + g / 2.0) - 1.0) + g / 6.0
    # Below t = 1 the correction is zero, as in the Cornish-Fisher step; above, the shift
    # is continuous at t = 1.
    return np.where((score > 1.0) & (skew > 0), wh - at_one + 1.0, score)


def _bh_qvalues_by_group(p: np.ndarray, group: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values within each group, given each group's test count.

    ``p`` may hold only the candidates (p <= the FDR level): an adjusted value at or below the
    level is still exact, since the minimum that defines it is reached at a candidate.
    """
    if len(p) == 0:
        return np.array([], dtype=float)
    order = np.lexsort((p, group))
    p_sorted, g_sorted, m_sorted = p[order], group[order], m[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_sorted)) + 1]
    rank = np.arange(len(p)) - np.repeat(starts, np.diff(np.r_[starts, len(p)])) + 1
    raw = p_sorted * m_sorted / rank
    adjusted = np.empty_like(raw)
    bounds = np.r_[starts, len(p)]
    for a, b in itertools.pairwise(bounds):
        adjusted[a:b] = np.minimum.accumulate(raw[a:b][::-1])[::-1]
    out = np.empty_like(adjusted)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def benjamini_hochberg(
    pvalues: pd.DataFrame, fdr: float, *, tests: pd.Series | None = None
) -> pd.DataFrame:
    """Benjamini-Hochberg within each ``group``: adds ``q_value`` and ``reject``.

    In: ``group``, ``p_value`` (one row per test; NaN = not tested). ``tests`` optionally gives
    the number of tests per group when only candidate rows are passed in. Out: the same rows
    with ``q_value`` (BH-adjusted p) and ``reject`` (q_value <= fdr). BH controls the expected
    share of false alerts among alerts at ``fdr`` for independent or positively dependent tests.
    """
    frame = pvalues.copy()
    ok = frame["p_value"].notna().to_numpy()
    groups, codes = _factorize(frame["group"])
    counts = (
        np.bincount(codes[ok], minlength=len(groups))
        if tests is None
        else tests.reindex(groups).fillna(0).to_numpy()
    )
    q = np.full(len(frame), np.nan)
    q[ok] = _bh_qvalues_by_group(
        frame["p_value"].to_numpy(dtype=float)[ok], codes[ok], counts[codes[ok]].astype(float)
    )
    frame["q_value"] = q
    frame["reject"] = frame["q_value"] <= fdr
    return frame
