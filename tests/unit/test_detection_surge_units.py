"""Surge detector: weighted Simes, window weights, and plain-English messages with units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from triage.detection import (
    SurgeConfig,
    _simes,
    _with_unit,
    detect_surges,
    detect_threshold_breaches,
    surge_message,
)

START = np.datetime64("2022-01-03")


def panel(counts: np.ndarray, names: list[str]) -> pd.DataFrame:
    n, days = counts.shape
    return pd.DataFrame(
        {
            "series": np.repeat(names, days),
            "date": np.tile(START + np.arange(days), n).astype("datetime64[s]"),
            "value": counts.reshape(-1).astype(float),
        }
    )


def test_detu001_weighted_simes_matches_hand_computation() -> None:
    p = np.array([[0.01], [0.04], [0.5]])
    # Equal weights: Simes' min(3 * 0.01 / 1, 3 * 0.04 / 2, 3 * 0.5 / 3) = 0.03.
    assert _simes(p)[0] == pytest.approx(0.03)
    # Weights 0.3/0.6/0.1: ratios p / w sorted = (0.0333, 0.0667, 5); min of r_(j) / j.
    weighted = _simes(p, np.array([0.3, 0.6, 0.1]))[0]
    assert weighted == pytest.approx(min(0.01 / 0.3, 0.04 / 0.6 / 2, 0.5 / 0.1 / 3))
    # Never above weighted Bonferroni, and unknown p-values count as 1.
    assert weighted <= min(0.01 / 0.3, 0.04 / 0.6, 0.5 / 0.1)
    assert _simes(np.array([[np.inf], [0.02]]), np.array([0.5, 0.5]))[0] == pytest.approx(0.04)


def test_detu002_weighted_simes_holds_its_level_independent_or_positively_dependent() -> None:
    rng = np.random.default_rng(3)
    weights = np.array([0.3, 0.6, 0.1])
    independent = _simes(rng.random((3, 200_000)), weights)
    shared = rng.normal(size=(1, 200_000))
    z = np.sqrt(0.6) * shared + np.sqrt(0.4) * rng.normal(size=(3, 200_000))
    dependent = _simes(special.ndtr(-z), weights)
    for level in (0.01, 0.05, 0.2):
        assert abs(np.mean(independent <= level) - level) < 0.1 * level
        assert np.mean(dependent <= level) <= 1.02 * level


def test_detu003_config_refuses_mismatched_weights() -> None:
    with pytest.raises(ValueError, match="one positive weight per window"):
        SurgeConfig(windows_days=(7, 28), window_weights=(1.0,))
    with pytest.raises(ValueError, match="one positive weight per window"):
        SurgeConfig(windows_days=(7, 28), window_weights=(1.0, 0.0))
    with pytest.raises(ValueError, match="different lengths"):
        SurgeConfig(windows_days=(7, 7, 28), window_weights=(1.0, 1.0, 1.0))


def test_detu004_report_series_say_reports_and_a_daily_rate() -> None:
    rng = np.random.default_rng(4)
    rate = np.full((30, 900), 2.0)
    rate[0, 800:] = 9.0
    names = ["reports:7:all"] + [f"other{i:02d}" for i in range(29)]
    alerts = detect_surges(panel(rng.poisson(rate), names), labels={"reports:7:all": "Potholes"})
    mine = alerts[alerts["series"] == "reports:7:all"]
    assert len(mine) > 0
    first = mine.iloc[0]
    observed, window = int(first["observed"]), int(first["window_days"])
    assert first["message"].startswith(f"Potholes: {observed:,} reports in the {window} days to ")
    assert f"({observed / window:.1f} a day)" in first["message"] or observed / window >= 10
    assert " count" not in first["message"]


def test_detu005_units_given_per_series_and_none_for_unknown_series() -> None:
    text = surge_message("Calls", 46, 20, 29, 7, "2026-03-05", 0.15, "calls")
    assert text.startswith("Calls: 46 calls in the 7 days to 2026-03-05 (6.6 a day), against")
    assert "2.3 times the usual level" in text
    assert surge_message("x", 1, 0.2, 1, 1, "2026-03-05", 0.15, "reports").startswith(
        "x: 1 report in the day to 2026-03-05, against"
    )
    plain = surge_message("s1", 46, 20, 29, 28, "2026-03-05", 0.15)
    assert plain.startswith("s1: 46 in the 28 days to 2026-03-05 (1.6 a day)")


def test_detu009_large_ratios_in_round_words_and_none_against_almost_nothing() -> None:
    """The early-warnings page read "658.6 times the usual level" and "against almost none
    usually, 1120.0 times the usual level" (a ratio to the detector's floor of expectation)."""
    from triage.detection import _surge_messages
    from triage.detection.surge_messages import plain_message

    storm = surge_message("Icy sidewalks", 461, 0.7, 6.8, 7, "2026-12-06", 0.15, "reports")
    assert storm.endswith("(up to 6.8 would be ordinary), about 660 times the usual level.")
    plow = surge_message("Street not plowed", 336, 0.3, 2, 3, "2026-12-06", 0.15, "reports")
    assert plow.endswith("against almost none usually, far above usual.")
    assert "1,200 times" in surge_message("x", 2469, 2, 5, 7, "2026-12-06", 0.15, "reports")
    assert "9.5 times the usual level" in surge_message("x", 19, 2, 5, 7, "2026-12-06", 0.15)
    # The bulk path says the same.
    bulk = _surge_messages(
        np.array(["Icy sidewalks", "Street not plowed"], dtype=object),
        np.array([461.0, 336.0]),
        np.array([0.7, 0.3]),
        np.array([6.8, 2.0]),
        np.array([7, 3]),
        np.array(["2026-12-06", "2026-12-06"], dtype=object),
        0.15,
        np.array(["reports", "reports"], dtype=object),
    )
    assert bulk == [storm, plow]
    # Messages stored by earlier versions read the same way.
    stored = storm.replace("about 660 times", "658.6 times")
    assert plain_message(stored) == storm
    stored_plow = plow.replace("far above usual", "1120.0 times the usual level")
    assert plain_message(stored_plow) == plow
    assert plain_message("a, 2.3 times the usual level.") == "a, 2.3 times the usual level."


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (46, "count", "46"),
        (12.5, "%", "12.5%"),
        (180_000, "USD", "$180,000"),
        (94, "days", "94 days"),
        (1, "days", "1 day"),
        (6.5, "rate", "6.5"),
        (7.4, "mph", "7.4 mph"),
        (9, "lane-miles", "9 lane-miles"),
    ],
)
def test_detu006_values_read_in_plain_english(value, unit, text) -> None:
    assert _with_unit(value, unit) == text


def test_detu007_threshold_message_has_no_count_unit() -> None:
    indicators = pd.DataFrame(
        {
            "indicator_id": [1, 2],
            "name": ["Shootings with injury", "Pothole damage claims paid"],
            "direction": ["down", "down"],
            "warning_threshold": [40.0, 100_000.0],
            "critical_threshold": [np.nan, np.nan],
            "unit": ["count", "USD"],
            "cadence": ["weekly", "quarterly"],
        }
    )
    observations = pd.DataFrame(
        {"indicator_id": [1, 2], "period": ["2026-11-16", "2026-07-01"], "value": [46.0, 180_000]}
    )
    alerts = detect_threshold_breaches(indicators, observations, "2026-11-23")
    messages = dict(zip(alerts["indicator_id"], alerts["message"], strict=True))
    assert messages[1].startswith("Shootings with injury is 46 for 2026-11-16, above its warning")
    assert "threshold of 40 (lower is better)" in messages[1]
    assert "is $180,000 for 2026-07-01" in messages[2] and "of $100,000" in messages[2]


def test_detu008_bulk_messages_read_exactly_like_single_ones() -> None:
    from triage.detection import _surge_messages

    rows = [
        ("Potholes", 46.0, 19.6, 28.9, 7, "2026-03-05", "reports"),
        ("s1", 1.0, 0.2, 1.3, 1, "2026-03-06", "reports"),
        ("s2", 1234.0, 800.25, 950.5, 28, "2026-03-07", ""),
        ("s3", 3.0, 0.0, 0.0, 3, "2026-03-08", "calls"),
    ]
    columns = list(zip(*rows, strict=True))
    bulk = _surge_messages(
        np.array(columns[0], dtype=object),
        np.array(columns[1]),
        np.array(columns[2]),
        np.array(columns[3]),
        np.array(columns[4]),
        np.array(columns[5], dtype=object),
        0.15,
        np.array(columns[6], dtype=object),
    )
    single = [surge_message(a, b, c, d, e, f, 0.15, g) for a, b, c, d, e, f, g in rows]
    assert bulk == single
    assert "far above usual" in bulk[3] and "1,234 in the 28 days" in bulk[2]


def test_seasonal_with_no_observations_yet_finds_nothing() -> None:
    """An indicator with no values up to the date (a new city) gives no seasonal alert."""
    import datetime as dt

    import pandas as pd

    from triage.detection import detect_seasonal_anomalies

    indicators = pd.DataFrame(
        {
            "indicator_id": [1],
            "name": ["Potholes filled"],
            "unit": ["%"],
            "direction": ["up"],
            "cadence": ["weekly"],
            "warning_threshold": [None],
            "critical_threshold": [None],
            "created_at": [pd.Timestamp("2026-01-01")],
        }
    )
    observations = pd.DataFrame(
        {
            "indicator_id": pd.Series([1], dtype="int64"),
            "period": [dt.date(2026, 7, 1)],  # after as_of: not seen
            "value": [50.0],
            "entered_at": [pd.Timestamp("2026-07-02")],
        }
    )
    found = detect_seasonal_anomalies(indicators, observations, dt.date(2026, 6, 15))
    assert len(found) == 0
    assert "indicator_id" in found.columns


def quiet_city(rng: np.random.Generator, days: int, n: int = 30) -> np.ndarray:
    """Counts of ``n`` ordinary categories (1-30 a day) for the detector's family."""
    levels = np.exp(rng.uniform(np.log(1.0), np.log(30.0), n))
    return rng.poisson(levels[:, None] * np.ones((n, days))).astype(float)


def test_detu009_one_or_two_reports_in_a_quiet_category_never_alert() -> None:
    rng = np.random.default_rng(9)
    days = 900
    rare = np.zeros(days)
    rare[[40, 300, 520]] = 1.0  # a report now and then
    rare[800] = 2.0  # two reports on one day after months of nothing
    rare[860:862] = 1.0  # and one on each of two days
    rare[890] = 3.0  # three on one day: under three above the floor of expectation
    counts = np.vstack([rare, quiet_city(rng, days)])
    names = ["rare"] + [f"c{i:02d}" for i in range(30)]
    alerts = detect_surges(panel(counts, names), daily=True)
    assert (alerts["series"] == "rare").sum() == 0


def test_detu010_a_real_surge_in_a_quiet_category_reads_against_a_floor() -> None:
    rng = np.random.default_rng(10)
    days = 900
    rare = np.zeros(days)
    rare[[40, 300, 520]] = 1.0
    rare[850:857] = 4.0  # 28 reports in a week after months of nothing
    counts = np.vstack([rare, quiet_city(rng, days)])
    names = ["rare"] + [f"c{i:02d}" for i in range(30)]
    mine = detect_surges(panel(counts, names), daily=True).query("series == 'rare'")
    assert len(mine) > 0 and mine["date"].min() <= pd.Timestamp(START + 853)
    floor = SurgeConfig().min_expected_per_day * mine["window_days"]
    # Expectations are never below the floor, so no "400,000 times the usual level".
    assert (mine["expected"] >= floor - 1e-9).all()
    assert (mine["observed"] / mine["expected"] <= 28 / (0.1 * 3) + 1e-9).all()


def test_detu011_leading_zeros_do_not_turn_a_new_category_into_a_surge() -> None:
    rng = np.random.default_rng(11)
    days = 1000
    renamed = np.zeros(days)
    renamed[500:] = rng.poisson(8.0, days - 500)  # a renamed category, zero-filled before
    counts = np.vstack([renamed, quiet_city(rng, days)])
    names = ["renamed"] + [f"c{i:02d}" for i in range(30)]
    alerts = detect_surges(panel(counts, names), daily=True)
    assert (alerts["series"] == "renamed").sum() == 0
    # Given from its first report on, it is the same series: the same (no) alerts.
    sparse = panel(counts, names)
    sparse = sparse[(sparse["series"] != "renamed") | (sparse["date"] >= pd.Timestamp(START + 500))]
    pd.testing.assert_frame_equal(detect_surges(sparse, daily=True), alerts)


def test_detu012_reports_caught_up_after_a_holiday_do_not_alert() -> None:
    rng = np.random.default_rng(12)
    days = 1100
    rate = np.full((31, days), 60.0)
    rate[1:] = np.exp(rng.uniform(np.log(1.0), np.log(30.0), 30))[:, None]
    holidays = np.arange(100, days, 61)  # a holiday every two months, weekdays varying
    for day in holidays:
        rate[0, day + 1] += 0.9 * rate[0, day]  # nine tenths caught up the next day
        rate[0, day] *= 0.1
    spike = 1000
    rate[0, spike] += 55.0  # the same extra reports without a missing day before them
    names = ["office"] + [f"c{i:02d}" for i in range(30)]
    alerts = detect_surges(panel(rng.poisson(rate), names), daily=True)
    mine = day_of(alerts[alerts["series"] == "office"])
    catch_ups = holidays[holidays > 400] + 1
    assert not np.isin(mine, np.r_[catch_ups, catch_ups + 1]).any()
    assert spike in mine or spike + 1 in mine


def day_of(frame: pd.DataFrame) -> np.ndarray:
    return (frame["date"].to_numpy().astype("datetime64[D]") - START).astype(int)


def test_detu013_skew_adjustment_is_monotone_and_never_caps_the_evidence() -> None:
    from triage.detection import _skew_adjusted

    scores = np.linspace(0.0, 12.0, 241)
    skew = np.full_like(scores, 0.5)
    adjusted = _skew_adjusted(scores, skew)
    assert (np.diff(adjusted) > 0).all()  # a larger excess is always stronger evidence
    assert (adjusted <= scores + 1e-12).all()  # and never stronger than without the skew
    # Near the usual thresholds it agrees with the Cornish-Fisher step it replaces ...
    at = np.array([2.0])
    cornish_fisher = at - 0.5 / 6 * (at**2 - 1)
    assert _skew_adjusted(at, np.array([0.5]))[0] == pytest.approx(cornish_fisher[0], abs=0.1)
    # ... but a very large excess keeps rising (Cornish-Fisher gave at most 3.08 here).
    assert adjusted[-1] > 5.5
    assert _skew_adjusted(np.array([3.0]), np.array([0.0]))[0] == 3.0


def test_detu014_dispersion_grows_with_the_level_on_busy_series_only() -> None:
    from triage.detection import _level_scaled_phi

    phi = np.array([[3.0], [3.0], [1.0]])
    calib = np.array([1000.0, 2.0, 1000.0])  # mean expected totals over the calibration year
    expected = np.array([[500.0, 1000.0, 2000.0, 8000.0], [1.0, 2.0, 4.0, 16.0], [2000.0] * 4])
    out = _level_scaled_phi(phi, expected, calib, 30.0)
    busy, quiet, poisson = out
    # Never below the calibrated phi, and growing with the expected level (at most 4x) ...
    assert busy[0] == pytest.approx(3.0) and busy[1] == pytest.approx(3.0)
    assert busy[2] == pytest.approx(1.0 + 2.0 * (1.0 + 1000 / 1030 * 1.0))
    assert busy[3] == pytest.approx(1.0 + 2.0 * (1.0 + 1000 / 1030 * 3.0))
    # ... on busy series; a quiet series (2 reports per window) barely moves.
    assert quiet[3] < 3.0 * 1.2
    assert (poisson == 1.0).all()  # no over-dispersion, nothing to scale


def test_detu015_long_windows_reach_a_year_back_and_the_short_one_84_days() -> None:
    from triage.detection.surges import _cumulative, _grids, _Plan, _shape_cumsum, _window_stats

    # One series of one report a day that begins on day 100 of 600 (zeros before its first
    # report are not history).
    counts = np.ones((1, 600))
    counts[0, :100] = 0.0
    grid = _grids(panel(counts, ["s"]), daily=True)[0]
    cfg = SurgeConfig()
    assert (cfg.baseline_days, cfg.long_baseline_days) == (84, 364)
    plan = _Plan.build(grid, cfg, None, None)
    assert (plan.base, plan.long_base) == (84, 364)
    # The first test still comes after 28 + 84 days of the grid: a new series is not made to
    # wait a year.
    assert plan.blocks[0][0] == 28 + 84 - 1
    csum, cvalid, valid = _cumulative(grid.values)
    cshape = _shape_cumsum(np.zeros(valid.shape), valid)

    def baseline(w: int, t: int, seasonal: bool = True) -> tuple[float, bool, float]:
        long = np.array([seasonal])
        st = _window_stats(csum, cvalid, cshape, 0, plan, w, cfg, np.array([t]), long)
        return float(st["s"][0, 0]), bool(st["ok"][0, 0]), round(float(st["expected"][0, 0]), 9)

    # Late in the data the 7- and 28-day windows of a series with a seasonal shape compare
    # with the 364 days before them, the
    # 3-day window with its same weekdays over 84 days (12 weeks x 3 days), and a flat series
    # is expected to hold exactly its window.
    assert baseline(28, 599) == (364.0, True, 28.0)
    assert baseline(7, 599) == (364.0, True, 7.0)
    assert baseline(3, 599) == (36.0, True, 3.0)
    # Earlier, a long window's baseline is what the series has: days 100-272 for the 28 days
    # to day 300; and 83 days (100-182) are enough for a test, at least 70 % of 84.
    assert baseline(28, 300) == (173.0, True, 28.0)
    assert baseline(28, 210) == (83.0, True, 28.0)
    assert baseline(28, 185)[1] is False  # 58 days of history: not yet
    # A series without a seasonal shape (under a year of history) keeps 84 days: a year's
    # baseline would span seasons that only a fitted shape carries across.
    assert baseline(28, 599, seasonal=False) == (84.0, True, 28.0)
    assert baseline(7, 599, seasonal=False) == (84.0, True, 7.0)
    with pytest.raises(ValueError, match="long_baseline_days"):
        SurgeConfig(long_baseline_days=28)
