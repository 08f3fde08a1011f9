"""My department's pure rules: the period due, the status the numbers give, which way is better,
and when a new value is implausible against the indicator's history."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from triage.indicators import (
    direction_text,
    is_overdue,
    next_period,
    period_due,
    period_start,
    status_from_value,
)
from triage.validation import implausible_reason

D = dt.date


@pytest.mark.parametrize(
    ("day", "cadence", "start"),
    [
        (D(2026, 11, 18), "weekly", D(2026, 11, 16)),  # a Wednesday → its Monday
        (D(2026, 11, 18), "monthly", D(2026, 11, 1)),
        (D(2026, 11, 18), "quarterly", D(2026, 10, 1)),
        (D(2026, 2, 28), "quarterly", D(2026, 1, 1)),
        (D(2026, 11, 18), "annual", D(2026, 1, 1)),
        (D(2026, 11, 18), "fortnightly", D(2026, 11, 1)),  # unknown → monthly
    ],
)
def test_dept101_period_start(day: dt.date, cadence: str, start: dt.date) -> None:
    assert period_start(day, cadence) == start


def test_dept101_next_period_crosses_years() -> None:
    assert next_period(D(2026, 12, 1), "monthly") == D(2027, 1, 1)
    assert next_period(D(2026, 10, 1), "quarterly") == D(2027, 1, 1)
    assert next_period(D(2026, 12, 28), "weekly") == D(2027, 1, 4)
    assert next_period(D(2025, 1, 1), "annual") == D(2026, 1, 1)


@pytest.mark.parametrize(
    ("latest", "cadence", "due"),
    [
        (D(2026, 9, 1), "monthly", D(2026, 10, 1)),  # the next one owed, not today
        (D(2026, 10, 1), "monthly", D(2026, 11, 1)),
        (D(2026, 11, 1), "monthly", D(2026, 11, 1)),  # never past the current period
        (None, "monthly", D(2026, 10, 1)),  # never reported: the last complete month
        (D(2026, 11, 9), "weekly", D(2026, 11, 16)),
        (D(2026, 4, 1), "quarterly", D(2026, 7, 1)),
        (None, "annual", D(2025, 1, 1)),
    ],
)
def test_dept101_period_due(latest: dt.date | None, cadence: str, due: dt.date) -> None:
    assert period_due(latest, cadence, D(2026, 11, 18)) == due


def test_dept101_period_due_is_never_in_the_future() -> None:
    today = D(2026, 11, 18)
    for cadence in ("weekly", "monthly", "quarterly", "annual"):
        for latest in (None, D(2020, 1, 1), today, D(2026, 11, 16)):
            assert period_due(latest, cadence, today) <= today


def test_dept101_saving_an_old_period_can_leave_the_indicator_overdue() -> None:
    today = D(2026, 11, 18)
    assert is_overdue(D(2026, 8, 1), "monthly", today)
    assert is_overdue(D(2026, 9, 1), "monthly", today)  # the due period saved, still behind
    assert not is_overdue(D(2026, 10, 1), "monthly", today)


@pytest.mark.parametrize(
    ("value", "target", "direction", "critical", "warning", "status"),
    [
        (29, 25.2, "down", None, None, "off_track"),  # the example: not "on track"
        (29, 25.2, "down", 32, 28, "at_risk"),
        (33, 25.2, "down", 32, 28, "off_track"),
        (25.2, 25.2, "down", 32, 28, "on_track"),
        (20, 25.2, "down", 32, 28, "on_track"),
        (32.2, 41.8, "up", 28.5, 34.2, "at_risk"),
        (27, 41.8, "up", 28.5, 34.2, "off_track"),
        (45, 41.8, "up", 28.5, 34.2, "on_track"),
        (30, 41.8, "up", None, 34.2, "off_track"),  # the warning line when no critical one
        (5, None, "up", None, None, None),
        (math.nan, 10, "up", None, None, None),
    ],
)
def test_dept101_status_from_value(
    value: float,
    target: float | None,
    direction: str,
    critical: float | None,
    warning: float | None,
    status: str | None,
) -> None:
    assert status_from_value(value, target, direction, critical, warning) == status


def test_dept101_direction_in_plain_words() -> None:
    assert direction_text("up") == "Higher is better"
    assert direction_text("down") == "Lower is better"


BUS_RIDERS = [58_912, 59_406, 61_020, 60_338, 59_877, 60_990, 61_240, 60_338]


def test_dept101_bus_riders_17_asks() -> None:
    reason = implausible_reason(17, BUS_RIDERS)
    assert reason is not None
    assert reason.startswith("17 is less than 1/5 of the usual value (median 60,338")


@pytest.mark.parametrize("value", [1_000_000, 350_000])
def test_dept101_far_too_large_asks(value: float) -> None:
    reason = implausible_reason(value, BUS_RIDERS)
    assert reason is not None and "more than 5 times" in reason


def test_dept101_a_third_of_usual_asks_by_robust_z() -> None:
    reason = implausible_reason(20_000, BUS_RIDERS)
    assert reason is not None and "far below" in reason


@pytest.mark.parametrize("value", [55_000, 60_338, 66_000, 70_000])
def test_dept101_ordinary_values_pass(value: float) -> None:
    assert implausible_reason(value, BUS_RIDERS) is None


def test_dept101_flat_series_do_not_ask_about_small_moves() -> None:
    # A percentage that barely moves: 93 is many MADs away but only 2% off; it must not nag.
    assert implausible_reason(93, [95.0, 95.2, 94.8, 95.1, 95.0]) is None


def test_dept101_short_or_missing_history_never_asks() -> None:
    assert implausible_reason(17, []) is None
    assert implausible_reason(17, [60_338, 60_000]) is None
    assert implausible_reason(17, [math.nan, math.nan, math.nan, 60_338]) is None


def test_dept101_only_the_last_twelve_values_count() -> None:
    history = [5.0] * 30 + [100.0] * 12  # the level moved long ago
    assert implausible_reason(100, history) is None
    assert implausible_reason(5, history) is not None
