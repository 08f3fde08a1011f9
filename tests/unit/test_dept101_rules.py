"""My department's pure rules: the period due (and the period the form starts on), the status the
numbers give, which way is better, when a new value is implausible against the indicator's
history or, without enough of it, against its unit, target and thresholds, and which values are
impossible."""

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
    period_to_fill,
    status_from_value,
)
from triage.validation import (
    ValidationError,
    implausible_reason,
    impossible_reason,
    indicator_doubt,
    replaced_sentence,
    validate_observation,
    value_doubt,
)

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


# ---------- Plausibility against what the indicator itself says (no history yet) ----------

HEAT_REFERENCES = [5.0, 7.0, 10.0]  # HPD-HEAT-DAYS: target 5, warning 7, critical 10 days
RIDER_REFERENCES = [62_000.0, 58_000.0, 50_000.0]


def heat(value: float, history: list[float] | None = None) -> str | None:
    """The doubt about a value of HPD-HEAT-DAYS (days, lower is better)."""
    return indicator_doubt(
        value, unit="days", direction="down", references=HEAT_REFERENCES, history=history or []
    )


def riders(value: float, direction: str = "up") -> str | None:
    return indicator_doubt(value, unit="riders", direction=direction, references=RIDER_REFERENCES)


def test_dept101_negative_days_are_refused_outright() -> None:
    assert (
        impossible_reason(-3, "days", HEAT_REFERENCES)
        == "A value in days cannot be negative; -3 is not possible."
    )
    with pytest.raises(ValidationError, match="A value in days cannot be negative; -3 is not"):
        validate_observation(
            "days", "2025-02-01", "-3", None, "", D(2025, 2, 20), references=HEAT_REFERENCES
        )
    # Not refused: zero, a money unit, a unit that may be a difference, a negative target.
    assert impossible_reason(0, "days", HEAT_REFERENCES) is None
    assert impossible_reason(-3, "USD", [100.0]) is None
    assert impossible_reason(-3, "change in days", [0.0]) is None
    assert impossible_reason(-3, "days", [-2.0, 0.0, 1.0]) is None


def test_dept101_a_billion_days_asks_without_history() -> None:
    assert heat(1e9) == (
        "1,000,000,000 days is more than 10 times the largest of its target and thresholds "
        "(10 days), and there are not enough past values yet to compare it with."
    )
    assert heat(101) is not None
    for ordinary in (0.0, 0.01, 6.5, 30.0, 100.0):  # lower is better: small never asks
        assert heat(ordinary) is None


def test_dept101_a_tiny_value_asks_only_when_higher_is_better() -> None:
    assert riders(0.5) == (
        "0.5 riders is less than 1/10 of the smallest of its target and thresholds "
        "(50,000 riders), and there are not enough past values yet to compare it with."
    )
    assert riders(0) is None  # "none this period" is a real result
    assert riders(4_999) is not None and riders(5_001) is None
    assert riders(0.5, direction="down") is None


def test_dept101_negative_money_asks_when_targets_are_positive() -> None:
    assert (
        indicator_doubt(-250, unit="USD", direction="up", references=[341_000.0, None])
        == "-250 USD is below zero, while its target and thresholds are all zero or more."
    )
    assert indicator_doubt(-250, unit="USD", direction="up", references=[None]) is None
    assert indicator_doubt(-250, unit="USD", direction="up", references=[-10.0, 5.0]) is None


def test_dept101_history_takes_over_the_scale_but_not_the_sign() -> None:
    history = [6.0, 7.0, 6.5]
    assert heat(1e9, history) is None  # three values: the history judges the scale
    assert heat(1e9, history[:2]) is not None
    flat_zero = [0.0] * 12
    assert indicator_doubt(-1, unit="USD", direction="up", references=[100.0], history=flat_zero)

    # value_doubt: the history's sentence when it has enough values, else the indicator's.
    def doubt(value: float, past: list[float]) -> str | None:
        return value_doubt(value, past, unit="days", direction="down", references=HEAT_REFERENCES)

    assert str(doubt(1e9, history)).startswith("1,000,000,000 is more than 5 times the usual")
    assert str(doubt(1e9, [])).startswith("1,000,000,000 days is more than 10 times")
    assert doubt(6.5, []) is None


def test_dept101_replaced_value_in_plain_words() -> None:
    args = (12.0, "days", D(2025, 2, 1), "Ana Ruiz", D(2026, 12, 7))
    assert (
        replaced_sentence(*args, done=False)
        == "This replaces 12 days recorded for 2025-02-01 by Ana Ruiz on 2026-12-07."
    )
    assert replaced_sentence(*args, done=True) == (
        "It replaced 12 days recorded for 2025-02-01 by Ana Ruiz on 2026-12-07; "
        "both stay in the indicator's history."
    )
    assert (
        replaced_sentence(85.5, "%", D(2025, 2, 1), None, None, done=False)
        == "This replaces 85.5% recorded for 2025-02-01."
    )


@pytest.mark.parametrize(
    ("latest", "cadence", "start"),
    [
        (D(2026, 9, 1), "monthly", D(2026, 10, 1)),  # behind: the period due
        (D(2026, 10, 1), "monthly", D(2026, 11, 1)),  # the current month is due
        (D(2026, 11, 1), "monthly", None),  # up to date: never the month just filled
        (None, "monthly", D(2026, 10, 1)),
        (D(2026, 11, 16), "weekly", None),
        (D(2026, 7, 1), "quarterly", D(2026, 10, 1)),
        (D(2026, 10, 1), "quarterly", None),
    ],
)
def test_dept101_period_to_fill(latest: dt.date | None, cadence: str, start: dt.date) -> None:
    assert period_to_fill(latest, cadence, D(2026, 11, 18)) == start
