"""What the priorities and early-warning pages show, as plain data.

``db`` queries fill these shapes and ``layouts`` present them, so a layout never needs the
database layer, even for a type hint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class WeekPriorities:
    """One week's stored ranking with everything the page shows beside it.

    ``ranking`` has ``db.pages.priorities.RANKING_COLUMNS``, by rank; ``alerts`` the new and
    escalated alerts (``week_alerts``); ``overdue`` the overdue indicators
    (``overdue_indicators``); ``owners`` those grouped by department (``stale_owners``).
    ``previous_week`` is the stored week movement is measured against (None when there is
    none). ``on_alert`` the problems at least one open alert concerns, as every page counts
    them (``db.alerts.episodes.problems_on_alert``).
    """

    week: str
    as_of: dt.date
    previous_week: str | None
    computed_at: dt.datetime | None
    ranking: pd.DataFrame
    alerts: pd.DataFrame
    overdue: pd.DataFrame
    owners: pd.DataFrame
    on_alert: frozenset[int] = frozenset()

    @property
    def compared(self) -> bool:
        """True when there is an earlier stored week to measure movement against."""
        return self.previous_week is not None


@dataclass(frozen=True)
class WeekChanges:
    """What changed this week, derived from a :class:`WeekPriorities` (no database needed).

    ``movers``, ``new_problems`` and ``decisions_due`` are slices of the ranking frame;
    ``movers`` only when an earlier week is stored (otherwise everything would be "new").
    """

    new_alerts: pd.DataFrame
    escalated_alerts: pd.DataFrame
    movers: pd.DataFrame
    new_problems: pd.DataFrame
    overdue_count: int
    owners: pd.DataFrame
    decisions_due: pd.DataFrame


@dataclass(frozen=True)
class AlertEvidence:
    """What the evidence chart of one alert shows.

    ``series``: date, observed, expected, lower, upper (NaN where unknown), alerted (bool).
    ``measure`` names the plotted quantity (e.g. "reports in the 28 days to each day"), and
    ``lines`` are reference levels (label, value) such as an indicator's thresholds.
    """

    alert: dict[str, Any]
    series: pd.DataFrame
    measure: str
    unit: str
    start: dt.date
    end: dt.date
    band: str  # "recomputed" (surge band per day), "stored" (at the alert only) or "none"
    lines: tuple[tuple[str, float], ...] = field(default_factory=tuple)
