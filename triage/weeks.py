"""ISO weeks, the office's unit of decision: ``2026-W47`` runs from Monday to Sunday."""

from __future__ import annotations

import datetime as dt
import re

from triage.validation import ValidationError

WEEK_PATTERN = re.compile(r"^\d{4}-W\d{2}$")


def iso_week(day: dt.date) -> str:
    """The ISO week of a date, e.g. ``2026-W47`` (weeks start on Monday)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> dt.date:
    """The Monday of an ISO week like ``2026-W47``; raises ValidationError on a bad week."""
    try:
        year_text, week_text = week.strip().upper().split("-W")
        return dt.date.fromisocalendar(int(year_text), int(week_text), 1)
    except (ValueError, AttributeError):
        raise ValidationError(f"Week {week!r} is not an ISO week like 2026-W47.") from None


def week_end(week: str) -> dt.date:
    """The Sunday of an ISO week: the as-of date of that week's snapshot."""
    return week_start(week) + dt.timedelta(days=6)


def previous_week(week: str) -> str:
    """The ISO week before ``week``."""
    return iso_week(week_start(week) - dt.timedelta(days=7))


def parse_week(raw: object) -> str | None:
    """An ISO week like ``2026-W47`` from user input (a query string may give a list), or None
    when it is not one."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    text = str(raw or "").strip().upper()[:10]
    if not WEEK_PATTERN.match(text):
        return None
    try:
        week_start(text)
    except ValidationError:
        return None
    return text


def is_week_before(earlier: str, week: str) -> bool:
    """Whether ``earlier`` is the ISO week just before ``week`` (False when ``week`` is not one)."""
    try:
        return earlier == previous_week(week)
    except ValidationError:
        return False
