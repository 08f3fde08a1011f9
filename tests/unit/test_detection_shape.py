"""Surge detector's seasonal shape: the empirical-Bayes prior (the default), the quasi-Poisson
weekly fit with a fixed prior (an option) and holiday dips left out of the profile (issue 11)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from triage.detection import SurgeConfig
from triage.detection.shape import _ShapeModel
from triage.detection.surges import _cumulative, _grids

START = np.datetime64("2022-01-03")  # a Monday
DAYS, N = 728, 30


def flat_city() -> pd.DataFrame:
    """Two years of 30 over-dispersed sparse series (1 a day: half the days none, the others
    gamma-mixed) and 30 Poisson series (1 a day). No seasonality at all in either."""
    rng = np.random.default_rng(12)
    mixed = rng.poisson(2.0 * rng.gamma(1.0, 1.0, (N, DAYS))) * (rng.random((N, DAYS)) < 0.5)
    plain = rng.poisson(1.0, (N, DAYS))
    counts = np.vstack([mixed, plain]).astype(float)
    return pd.DataFrame(
        {
            "series": np.repeat([f"s{i:02d}" for i in range(2 * N)], DAYS),
            "date": np.tile(START + np.arange(DAYS), 2 * N).astype("datetime64[s]"),
            "value": counts.reshape(-1),
        }
    )


def harmonic_amplitude(
    quasi: bool, *, empirical: bool = False, frame: pd.DataFrame | None = None
) -> np.ndarray:
    """Per series, the summed amplitude of the fitted harmonics (on ``flat_city``, all noise)."""
    grid = _grids(flat_city() if frame is None else frame, daily=True)[0]
    csum, cvalid, _ = _cumulative(grid.values)
    config = replace(SurgeConfig(), shape_quasi=quasi, shape_prior_empirical=empirical)
    model = _ShapeModel(grid, config)
    fit = model.fit(csum, cvalid, DAYS - 1, None)
    assert fit is not None and fit.enough.all()
    pairs = fit.coef[:, 2:].reshape(len(fit.coef), -1, 2)
    return np.sqrt((pairs**2).sum(axis=2)).sum(axis=1)


def test_detq001_over_dispersed_weeks_bend_the_harmonics_less() -> None:
    # An option with the fixed prior, off by default (the empirical prior weighs weeks so).
    assert not SurgeConfig().shape_quasi
    poisson_weights, quasi = harmonic_amplitude(False), harmonic_amplitude(True)
    # Over-dispersed series: the harmonics followed the noise less (0.407 -> 0.347 summed
    # amplitude on the log scale, seed 12).
    assert poisson_weights[:N].mean() == pytest.approx(0.407, abs=0.005)
    assert quasi[:N].mean() == pytest.approx(0.347, abs=0.005)
    # Poisson series have dispersion about 1: their fit is the same either way.
    assert quasi[N:].mean() == pytest.approx(poisson_weights[N:].mean(), rel=0.01)


def test_detq003_the_empirical_prior_keeps_a_city_without_seasons_flat() -> None:
    assert SurgeConfig().shape_prior_empirical  # the default
    fixed, empirical = harmonic_amplitude(False), harmonic_amplitude(False, empirical=True)
    # None of the 60 series has a season: with the fixed prior (sd 0.2) their harmonics
    # followed the noise (0.41 and 0.20 summed amplitude, over-dispersed and Poisson); with a
    # prior estimated across the city they stay near 0 (six harmonics summed), so no week is
    # expected 20-40 % high or low for a season that is not there.
    assert fixed[:N].mean() == pytest.approx(0.407, abs=0.005)
    assert fixed[N:].mean() == pytest.approx(0.202, abs=0.005)
    assert empirical[:N].mean() == pytest.approx(0.030, abs=0.005)
    assert empirical[N:].mean() == pytest.approx(0.049, abs=0.005)
    # Ten series are too few to estimate a prior from (moderation_min_series, 20): the fixed
    # prior stands, to the last digit.
    city = flat_city()
    few = city[city["series"].isin([f"s{i:02d}" for i in range(10)])]
    np.testing.assert_array_equal(
        harmonic_amplitude(False, empirical=True, frame=few), harmonic_amplitude(False, frame=few)
    )


def seasonal_city() -> pd.DataFrame:
    """30 over-dispersed series of 20 a day whose level swings +-40 % over the year (one
    harmonic, each its own phase), for two years."""
    rng = np.random.default_rng(14)
    day = np.arange(DAYS) + 2  # 2022-01-03 is day 2 of the year
    phase = rng.uniform(0, 2 * np.pi, (N, 1))
    rate = 20.0 * np.exp(0.4 * np.cos(2 * np.pi * day[None] / 365.25 - phase))
    counts = rng.poisson(rate * rng.gamma(2.0, 0.5, (N, DAYS))).astype(float)
    return pd.DataFrame(
        {
            "series": np.repeat([f"s{i:02d}" for i in range(N)], DAYS),
            "date": np.tile(START + np.arange(DAYS), N).astype("datetime64[s]"),
            "value": counts.reshape(-1),
        }
    )


def test_detq004_and_a_seasonal_city_keeps_its_seasons() -> None:
    grid = _grids(seasonal_city(), daily=True)[0]
    csum, cvalid, _ = _cumulative(grid.values)

    def amplitudes(empirical: bool) -> np.ndarray:
        config = replace(SurgeConfig(), shape_prior_empirical=empirical)
        fit = _ShapeModel(grid, config).fit(csum, cvalid, DAYS - 1, None)
        assert fit is not None and fit.enough.all()
        pairs = fit.coef[:, 2:].reshape(len(fit.coef), -1, 2)
        return np.sqrt((pairs**2).sum(axis=2)).mean(axis=0)

    fixed, empirical = amplitudes(False), amplitudes(True)
    # Truth: 0.4 on the first harmonic, 0 on the others. The prior estimated across these
    # series is wide on the first and narrow on the others: the season is kept whole (0.394)
    # and the noise the fixed prior let through the second and third (0.05 each) mostly goes.
    # The fixed prior holds the fourth to sixth at 0; the empirical one lets them move as
    # little as the series show (0.01).
    np.testing.assert_allclose(fixed, [0.399, 0.056, 0.052, 0.0, 0.0, 0.0], atol=0.005)
    np.testing.assert_allclose(empirical, [0.394, 0.013, 0.013, 0.011, 0.011, 0.010], atol=0.005)


def office_with_a_holiday() -> pd.DataFrame:
    """20 series of 60 a day for 420 days: a Thursday-Friday holiday at 10 % (days 325-326,
    2022-11-24/25) whose missing reports come in at 90 % on the Monday after (day 329), and a
    six-week seasonal trough at half the level (days 140-181)."""
    rng = np.random.default_rng(13)
    rate = np.full((20, 420), 60.0)
    rate[:, 325:327] *= 0.1
    rate[:, 329] += 0.9 * 2 * 0.9 * 60.0
    rate[:, 140:182] *= 0.5
    return pd.DataFrame(
        {
            "series": np.repeat([f"s{i:02d}" for i in range(20)], 420),
            "date": np.tile(START + np.arange(420), 20).astype("datetime64[s]"),
            "value": rng.poisson(rate).astype(float).reshape(-1),
        }
    )


def profile_of(
    frame: pd.DataFrame, dip_days: int, *, empirical: bool = False
) -> tuple[np.ndarray, int]:
    grid = _grids(frame, daily=True)[0]
    csum, cvalid, _ = _cumulative(grid.values)
    config = replace(SurgeConfig(), profile_dip_days=dip_days, shape_prior_empirical=empirical)
    model = _ShapeModel(grid, config)
    fit = model.fit(csum, cvalid, 419, None)
    assert fit is not None
    return fit.profile, fit.profile_start


def test_detq002_a_holiday_dip_does_not_come_back_next_year_but_a_trough_does() -> None:
    assert SurgeConfig().profile_dip_days == 11
    frame = office_with_a_holiday()
    before, start = profile_of(frame, 0)
    after, start_after = profile_of(frame, 11)
    assert start == start_after

    def mean_min(profile: np.ndarray, a: int, b: int) -> float:
        return float(profile[:, a - start : b - start].min(axis=1).mean())

    # Last year's holiday: -0.51 on the log scale over five days, -0.18 over eleven (the
    # dip and the catch-up mostly cancel), so next year's ordinary days around that date
    # are not expected 40 % low.
    assert mean_min(before, 322, 330) == pytest.approx(-0.506, abs=0.01)
    assert mean_min(after, 322, 330) == pytest.approx(-0.182, abs=0.01)
    # A six-week trough keeps its depth (-0.23 and -0.21 beyond what three harmonics carry),
    # and the catch-up Monday, a rise, is left as it was. (Fixed prior: the profile beyond
    # three harmonics; with the empirical prior six harmonics carry the trough, below.)
    trough = slice(155 - start, 168 - start)
    assert float(before[:, trough].mean()) == pytest.approx(-0.234, abs=0.01)
    assert float(after[:, trough].mean()) == pytest.approx(-0.213, abs=0.01)
    catch_up = slice(326 - start, 333 - start)
    np.testing.assert_array_equal(before[:, catch_up].max(axis=1), after[:, catch_up].max(axis=1))
    # The default (empirical prior, six harmonics): the holiday dip -0.52 -> -0.20; the six
    # harmonics carry nearly all of the trough (what is left beyond them: -0.022 -> -0.006).
    before, start = profile_of(frame, 0, empirical=True)
    after, _ = profile_of(frame, 11, empirical=True)
    trough = slice(155 - start, 168 - start)
    assert mean_min(before, 322, 330) == pytest.approx(-0.517, abs=0.01)
    assert mean_min(after, 322, 330) == pytest.approx(-0.198, abs=0.01)
    assert float(before[:, trough].mean()) == pytest.approx(-0.022, abs=0.005)
    assert float(after[:, trough].mean()) == pytest.approx(-0.006, abs=0.005)
