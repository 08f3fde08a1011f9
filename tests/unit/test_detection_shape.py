"""Surge detector's seasonal shape: the quasi-Poisson weekly fit (an option) and holiday dips
left out of the profile (issue 11)."""

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


def harmonic_amplitude(quasi: bool) -> np.ndarray:
    """Per series, the summed amplitude of the fitted harmonics (all noise: the truth is 0)."""
    grid = _grids(flat_city(), daily=True)[0]
    csum, cvalid, _ = _cumulative(grid.values)
    model = _ShapeModel(grid, replace(SurgeConfig(), shape_quasi=quasi))
    fit = model.fit(csum, cvalid, DAYS - 1, None)
    assert fit is not None and fit.enough.all()
    pairs = fit.coef[:, 2:].reshape(2 * N, -1, 2)
    return np.sqrt((pairs**2).sum(axis=2)).sum(axis=1)


def test_detq001_over_dispersed_weeks_bend_the_harmonics_less() -> None:
    assert not SurgeConfig().shape_quasi  # an option, off by default (see SurgeConfig)
    poisson_weights, quasi = harmonic_amplitude(False), harmonic_amplitude(True)
    # Over-dispersed series: the harmonics followed the noise less (0.407 -> 0.347 summed
    # amplitude on the log scale, seed 12).
    assert poisson_weights[:N].mean() == pytest.approx(0.407, abs=0.005)
    assert quasi[:N].mean() == pytest.approx(0.347, abs=0.005)
    # Poisson series have dispersion about 1: their fit is the same either way.
    assert quasi[N:].mean() == pytest.approx(poisson_weights[N:].mean(), rel=0.01)


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


def profile_of(frame: pd.DataFrame, dip_days: int) -> tuple[np.ndarray, int]:
    grid = _grids(frame, daily=True)[0]
    csum, cvalid, _ = _cumulative(grid.values)
    model = _ShapeModel(grid, replace(SurgeConfig(), profile_dip_days=dip_days))
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
    # A six-week trough keeps its depth (-0.24 and -0.22 beyond what the harmonics carry),
    # and the catch-up Monday, a rise, is left as it was.
    trough = slice(155 - start, 168 - start)
    assert float(before[:, trough].mean()) == pytest.approx(-0.243, abs=0.01)
    assert float(after[:, trough].mean()) == pytest.approx(-0.222, abs=0.01)
    catch_up = slice(326 - start, 333 - start)
    np.testing.assert_array_equal(before[:, catch_up].max(axis=1), after[:, catch_up].max(axis=1))
