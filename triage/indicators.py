"""Indicator rules shared by every screen and job: which side of target, and when overdue."""

from __future__ import annotations

import datetime as dt
import math

# An indicator is overdue when its latest period is older than two of its cadence periods:
# one period for the data to happen, one more for it to be reported.
CADENCE_DAYS: dict[str, int] = {"weekly": 7, "monthly": 31, "quarterly": 92, "annual": 366}
OVERDUE_PERIODS = 2


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_off_target(value: object, target: object, direction: object) -> bool:
    """True when a value is on the wrong side of its target (``direction`` says which is better)."""
    if _missing(value) or _missing(target):
        return False
    if direction == "down":
        return float(value) > float(target)  # type: ignore[arg-type]
    return float(value) < float(target)  # type: ignore[arg-type]


def due_by(latest_period: dt.date | None, cadence: str) -> dt.date | None:
    """The last day an indicator whose newest value is for ``latest_period`` counts as current."""
    if latest_period is None:
        return None
    return latest_period + dt.timedelta(days=OVERDUE_PERIODS * CADENCE_DAYS.get(cadence, 31))


def is_overdue(latest_period: dt.date | None, cadence: str, today: dt.date) -> bool:
    """Overdue: never reported, or the latest period is older than the cadence allows."""
    deadline = due_by(latest_period, cadence)
    return deadline is None or today > deadline


# Months per period for the calendar cadences; weekly periods start on Monday.
PERIOD_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
DIRECTION_TEXT: dict[str, str] = {"up": "Higher is better", "down": "Lower is better"}
CADENCE_TEXT: dict[str, str] = {
    "weekly": "Every week",
    "monthly": "Every month",
    "quarterly": "Every quarter",
    "annual": "Every year",
}


def direction_text(direction: object) -> str:
    """``"up"`` → ``"Higher is better"``, ``"down"`` → ``"Lower is better"`` (else "Higher")."""
    return DIRECTION_TEXT.get(str(direction), DIRECTION_TEXT["up"])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_start(day: dt.date, cadence: str) -> dt.date:
    """The first day of the period holding ``day``: Monday, the 1st of the month or quarter,
    or 1 January (an unknown cadence counts as monthly)."""
    if cadence == "weekly":
        return day - dt.timedelta(days=day.weekday())
    months = PERIOD_MONTHS.get(cadence, 1)
    month = (day.month - 1) // months * months + 1
    return dt.date(day.year, month, 1)


def next_period(start: dt.date, cadence: str) -> dt.date:
    """The first day of the period after the one starting on ``start``."""
    if cadence == "weekly":
        return period_start(start, cadence) + dt.timedelta(days=7)
    return _add_months(period_start(start, cadence), PERIOD_MONTHS.get(cadence, 1))


def previous_period(start: dt.date, cadence: str) -> dt.date:
    """The first day of the period before the one starting on ``start``."""
    if cadence == "weekly":
        return period_start(start, cadence) - dt.timedelta(days=7)
    return _add_months(period_start(start, cadence), -PERIOD_MONTHS.get(cadence, 1))


def period_due(latest_period: dt.date | None, cadence: str, today: dt.date) -> dt.date:
    """The period a department should report next, named by its first day.

    The one after the latest period on record, but never later than the period ``today``
    falls in; for an indicator never reported, the last complete period. Monthly with a
    latest value for 2026-09-01 on 2026-11-18 → 2026-10-01.
    """
    current = period_start(today, cadence)
    if latest_period is None:
        return previous_period(current, cadence)
    return min(next_period(latest_period, cadence), current)


def period_to_fill(latest_period: dt.date | None, cadence: str, today: dt.date) -> dt.date | None:
    """The period the update form starts on: the period due, or None when the indicator is up
    to date (the period due is then the latest one, already filled; the next one has not begun).

    Monthly with a latest value for 2026-10-01 on 2026-11-18 → 2026-11-01; with one for
    2026-11-01 → None (a correction of November is typed on purpose, never offered).
    """
    due = period_due(latest_period, cadence, today)
    if latest_period is not None and latest_period >= due:
        return None
    return due


def status_from_value(
    value: object,
    target: object,
    direction: object,
    critical_threshold: object = None,
    warning_threshold: object = None,
) -> str | None:
    """The status the numbers give, respecting which way is better; None without a target.

    On target (or better) → ``on_track``; past the critical threshold → ``off_track``;
    in between → ``at_risk``. Without a critical threshold the warning threshold marks
    off track, and with neither any miss of the target is ``off_track``.
    """
    if _missing(value) or _missing(target):
        return None
    if not is_off_target(value, target, direction):
        return "on_track"
    line = critical_threshold if not _missing(critical_threshold) else warning_threshold
    if _missing(line):
        return "off_track"
    return "off_track" if is_off_target(value, line, direction) else "at_risk"
