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
