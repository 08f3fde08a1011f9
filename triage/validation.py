"""Validation rules for what people type or upload: pure functions, user-facing messages."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from triage.vocabulary import INDICATOR_STATUSES, NOTE_LIMIT, PERCENT_UNITS

EARLIEST_PERIOD = dt.date(1990, 1, 1)
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class ValidationError(ValueError):
    """Input was rejected; ``str(error)`` is a sentence to show the person who typed it."""


@dataclass(frozen=True)
class ObservationInput:
    period: dt.date
    value: float
    status: str | None
    note: str


def parse_period(raw: object) -> dt.date:
    """A period as a date: accepts a date, a datetime or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw or "").strip()
    if not text:
        raise ValidationError("The period is required.")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"Period {text!r} is not a date (use YYYY-MM-DD).") from None


def parse_value(raw: object) -> float:
    """A finite number; accepts numbers or text like ``1,234.5`` (never a decimal comma)."""
    if isinstance(raw, bool):
        raise ValidationError("Value must be a number.")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw or "").strip()
        if not text:
            raise ValidationError("The value is required.")
        if "," in text:
            if not THOUSANDS.match(text):
                raise ValidationError(
                    f"Value {text!r} is ambiguous: use a dot for decimals (10.5), "
                    "commas only between thousands (1,234.5)."
                )
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise ValidationError(f"Value {text!r} is not a number.") from None
    if not math.isfinite(value) or abs(value) > 1e12:
        raise ValidationError("Value must be a finite number below a trillion in size.")
    return value


def validate_observation(
    unit: str,
    period: object,
    value: object,
    status: str | None,
    note: str | None,
    today: dt.date,
) -> ObservationInput:
    """Check one indicator update against the rules a department head is told about.

    The period may not lie in the future nor before 1990; percentages lie in 0..100;
    status, when given, is on_track, at_risk or off_track; notes are at most 2,000 characters.
    """
    clean_period = parse_period(period)
    if clean_period > today:
        raise ValidationError(f"Period {clean_period.isoformat()} is in the future.")
    if clean_period < EARLIEST_PERIOD:
        raise ValidationError(f"Period {clean_period.isoformat()} is before 1990.")
    clean_value = parse_value(value)
    if unit.strip().lower() in PERCENT_UNITS and not 0 <= clean_value <= 100:
        raise ValidationError(f"A percentage must lie between 0 and 100, not {clean_value:g}.")
    clean_status = (status or "").strip() or None
    if clean_status is not None and clean_status not in INDICATOR_STATUSES:
        raise ValidationError("Status must be on track, at risk or off track.")
    return ObservationInput(clean_period, clean_value, clean_status, check_note(note))


def plain_text(value: object, label: str, *, limit: int, required: bool = False) -> str:
    """Typed text as plain text: control characters other than newline and tab removed
    (PostgreSQL cannot store NUL), stripped, required when asked, at most ``limit`` characters.

    ``label`` starts the message, e.g. ``plain_text("", "The title", limit=200, required=True)``
    raises ``ValidationError("The title is required.")``.
    """
    text = "".join(
        ch for ch in str(value or "") if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)
    ).strip()
    if required and not text:
        raise ValidationError(f"{label} is required.")
    if len(text) > limit:
        raise ValidationError(f"{label} is {len(text):,} characters long; at most {limit:,} fit.")
    return text


def check_note(value: object) -> str:
    """A decision's or an alert's note: :func:`plain_text` of at most ``NOTE_LIMIT`` characters."""
    return plain_text(value, "The note", limit=NOTE_LIMIT)


def record_id(raw: object, what: str) -> int:
    """A record id sent by a client (a number or a select's text): a positive whole number.

    ``what`` names the choice in the message, e.g. ``record_id("", "a category")`` raises
    ``ValidationError("Choose a category.")``.
    """
    text = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
    if not text.isdigit() or len(text) > 12 or int(text) <= 0:
        raise ValidationError(f"Choose {what}.")
    return int(text)


# Plausibility of a new value against the indicator's recent history (asks, never refuses):
# more than PLAUSIBLE_RATIO times, or less than 1/PLAUSIBLE_RATIO of, the median of the last
# PLAUSIBLE_HISTORY values; or a robust z (0.6745 · distance / MAD) beyond PLAUSIBLE_ROBUST_Z
# when the value is also more than PLAUSIBLE_SHARE of the median away from it (so that a
# series that barely moves does not ask about every small change).
PLAUSIBLE_RATIO = 5.0
PLAUSIBLE_ROBUST_Z = 6.0
PLAUSIBLE_SHARE = 0.25
PLAUSIBLE_HISTORY = 12
PLAUSIBLE_MIN_HISTORY = 3


def _figure(number: float) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else f"{number:,.4g}"


def implausible_reason(value: float, history: list[float]) -> str | None:
    """Why ``value`` looks implausible against ``history`` (oldest first), or None.

    Only the last ``PLAUSIBLE_HISTORY`` finite values count, and at least
    ``PLAUSIBLE_MIN_HISTORY`` are needed. ``implausible_reason(17, [60_338, ...])`` says
    that 17 is less than 1/5 of the usual value.
    """
    recent = [float(v) for v in history if v is not None and math.isfinite(float(v))]
    recent = recent[-PLAUSIBLE_HISTORY:]
    if len(recent) < PLAUSIBLE_MIN_HISTORY:
        return None
    ordered = sorted(recent)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    usual = f"the usual value (median {_figure(median)} over the last {len(recent)} periods)"
    if median > 0 and value > PLAUSIBLE_RATIO * median:
        return f"{_figure(value)} is more than {PLAUSIBLE_RATIO:g} times {usual}."
    if median > 0 and value < median / PLAUSIBLE_RATIO:
        return f"{_figure(value)} is less than 1/{PLAUSIBLE_RATIO:g} of {usual}."
    deviations = sorted(abs(v - median) for v in recent)
    mad = (
        deviations[middle]
        if len(deviations) % 2
        else (deviations[middle - 1] + deviations[middle]) / 2
    )
    distance = abs(value - median)
    if mad > 0 and distance > PLAUSIBLE_SHARE * abs(median):
        robust_z = 0.6745 * distance / mad
        if robust_z > PLAUSIBLE_ROBUST_Z:
            side = "above" if value > median else "below"
            return f"{_figure(value)} is far {side} {usual} and its usual spread."
    return None
