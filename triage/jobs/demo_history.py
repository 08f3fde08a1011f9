"""Give a freshly seeded demo city a past: stored weekly rankings and the detector's alerts.

A real deployment accumulates these as its scheduled jobs run week after week; a demo city is
born today, so without this its priorities page would have no "since last week" and its early
warnings page would be empty. Both are produced by the same jobs the scheduler runs
(:func:`db.ranking.rank_week`, :func:`triage.jobs.alerts.refresh_alerts`), as of past dates, using
only the data up to each date, so the history is exactly what the jobs would have stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.ranking import rank_week
from db.session import Database
from triage.jobs.alerts import refresh_alerts
from triage.weeks import iso_week

DEFAULT_WEEKS = 8
DEFAULT_ALERT_DAYS = 28


@dataclass(frozen=True)
class DemoHistory:
    """What was stored: the ranked weeks (oldest first) and the alert counts."""

    weeks: tuple[str, ...]
    alerts: dict[str, int]


def past_weeks(today: dt.date, count: int) -> list[str]:
    """The ``count`` ISO weeks before the week of ``today``, oldest first."""
    if count < 0:
        raise ValueError("count must be zero or more")
    return [iso_week(today - dt.timedelta(weeks=back)) for back in range(count, 0, -1)]


def store_demo_history(
    database: Database,
    today: dt.date,
    *,
    weeks: int = DEFAULT_WEEKS,
    alert_days: int = DEFAULT_ALERT_DAYS,
) -> DemoHistory:
    """Rank the ``weeks`` weeks before today's, then run detection over the last ``alert_days``.

    Idempotent: a week's snapshot is replaced when ranked again, and alerts are de-duplicated
    against the stored ones. This week is left for the priorities page (or the Monday job) to
    rank, as it would be in a running city.
    """
    ranked = [rank_week(database, week, today).week for week in past_weeks(today, weeks)]
    alerts = refresh_alerts(database, today, lookback_days=alert_days) if alert_days else {}
    return DemoHistory(tuple(ranked), dict(alerts))
