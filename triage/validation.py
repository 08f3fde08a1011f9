"""Validation rules for what people type or upload: pure functions, user-facing messages."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
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
    *,
    references: Sequence[object] = (),
) -> ObservationInput:
    """Check one indicator update against the rules a department head is told about.

    The period may not lie in the future nor before 1990; percentages lie in 0..100; a value
    in a unit that cannot be negative (``impossible_reason``; ``references`` are the
    indicator's target and thresholds) is not negative; status, when given, is on_track,
    at_risk or off_track; notes are at most 2,000 characters.
    """
    clean_period = parse_period(period)
    if clean_period > today:
        raise ValidationError(f"Period {clean_period.isoformat()} is in the future.")
    if clean_period < EARLIEST_PERIOD:
        raise ValidationError(f"Period {clean_period.isoformat()} is before 1990.")
    clean_value = parse_value(value)
    if unit.strip().lower() in PERCENT_UNITS and not 0 <= clean_value <= 100:
        raise ValidationError(f"A percentage must lie between 0 and 100, not {clean_value:g}.")
    impossible = impossible_reason(clean_value, unit, references)
    if impossible:
        raise ValidationError(impossible)
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


def _usable(history: Sequence[float | None]) -> list[float]:
    """The last ``PLAUSIBLE_HISTORY`` finite values of ``history`` (oldest first)."""
    recent = [float(v) for v in history if v is not None and math.isfinite(float(v))]
    return recent[-PLAUSIBLE_HISTORY:]


def implausible_reason(value: float, history: list[float]) -> str | None:
    """Why ``value`` looks implausible against ``history`` (oldest first), or None.

    Only the last ``PLAUSIBLE_HISTORY`` finite values count, and at least
    ``PLAUSIBLE_MIN_HISTORY`` are needed. ``implausible_reason(17, [60_338, ...])`` says
    that 17 is less than 1/5 of the usual value.
    """
    recent = _usable(history)
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


# What the indicator itself says about the size of its values, for the values its history
# cannot judge yet (the sign rule applies always):
# - Refused outright (``impossible_reason``): a negative value when the unit is, word for word,
#   one of NON_NEGATIVE_UNITS (counts, durations, shares, rates, distances, weights, volumes)
#   and none of the indicator's target and thresholds is negative. A percentage outside
#   0..100 was already refused by ``validate_observation``. A unit that only contains such a
#   word ("change in days", "net count") is not refused: it may be a difference.
# - Asked about (``indicator_doubt``), through the same confirmation as the history check:
#   a negative value when the target and thresholds that are set are all zero or more (money,
#   unknown units); and, with fewer than PLAUSIBLE_MIN_HISTORY values on record, a value more
#   than SCALE_RATIO times the largest of the target and thresholds (a unit slip, extra zeros,
#   a pasted cell), or, when higher is better, a value above zero but below 1/SMALL_RATIO of
#   the smallest positive one (a fraction typed for a percentage: 0.82 against thresholds of
#   70%; a figure in thousands). Zero is not asked about: "none this period" is a real result.
#   When lower is better a small value is the goal and is never asked about. Both ratios are
#   10, twice as loose as the history's PLAUSIBLE_RATIO because a target is a weaker anchor
#   than past values; a needless question costs one more click, and only until the indicator
#   has PLAUSIBLE_MIN_HISTORY values, when the history check takes over the scale.
NON_NEGATIVE_UNITS = frozenset(
    {
        *PERCENT_UNITS,
        "count",
        "counts",
        "number",
        "people",
        "persons",
        "residents",
        "households",
        "cases",
        "seconds",
        "minutes",
        "hours",
        "days",
        "weeks",
        "months",
        "years",
        "rate",
        "ratio",
        "miles",
        "lane-miles",
        "km",
        "kilometres",
        "kilometers",
        "mph",
        "km/h",
        "tons",
        "tonnes",
        "gallons",
        "litres",
        "liters",
    }
)
SCALE_RATIO = 10.0
SMALL_RATIO = 10.0


def _references(references: Sequence[object]) -> list[float]:
    """The target and thresholds that are set (finite numbers), in the order given."""
    numbers = []
    for reference in references:
        if reference is None or isinstance(reference, bool):
            continue
        try:
            number = float(reference)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            numbers.append(number)
    return numbers


def with_unit(number: float, unit: str) -> str:
    """``12`` and ``"days"`` → ``"12 days"``; ``85`` and ``"%"`` → ``"85%"``."""
    text = unit.strip()
    if text == "%":
        return f"{_figure(number)}%"
    return f"{_figure(number)} {text}" if text else _figure(number)


def impossible_reason(value: float, unit: str, references: Sequence[object] = ()) -> str | None:
    """Why ``value`` cannot be a value of this unit, or None (see the rule above).

    ``impossible_reason(-3, "days", [5, 7, 10])`` → ``"A value in days cannot be negative; -3
    is not possible."``
    """
    if value >= 0 or unit.strip().lower() not in NON_NEGATIVE_UNITS:
        return None
    if any(number < 0 for number in _references(references)):
        return None
    return f"A value in {unit.strip()} cannot be negative; {_figure(value)} is not possible."


def indicator_doubt(
    value: float,
    *,
    unit: str,
    direction: str,
    references: Sequence[object],
    history: Sequence[float | None] = (),
) -> str | None:
    """Why ``value`` looks implausible against what the indicator says (its unit, which way is
    better, its target and thresholds), or None; see the rule above. ``history`` only decides
    whether the scale is still judged here (fewer than ``PLAUSIBLE_MIN_HISTORY`` values).

    ``indicator_doubt(1e9, unit="days", direction="down", references=[5, 7, 10])`` says that
    1,000,000,000 days is more than 10 times the largest of its target and thresholds.
    """
    numbers = _references(references)
    shown = with_unit(value, unit)
    if value < 0 and numbers and all(number >= 0 for number in numbers):
        return f"{shown} is below zero, while its target and thresholds are all zero or more."
    if len(_usable(history)) >= PLAUSIBLE_MIN_HISTORY:
        return None
    positive = [number for number in numbers if number > 0]
    if not positive:
        return None
    largest, smallest = max(positive), min(positive)
    lacking = "there are not enough past values yet to compare it with"
    if value > SCALE_RATIO * largest:
        return (
            f"{shown} is more than {SCALE_RATIO:g} times the largest of its target and "
            f"thresholds ({with_unit(largest, unit)}), and {lacking}."
        )
    if direction == "up" and 0 < value < smallest / SMALL_RATIO:
        return (
            f"{shown} is less than 1/{SMALL_RATIO:g} of the smallest of its target and "
            f"thresholds ({with_unit(smallest, unit)}), and {lacking}."
        )
    return None


def value_doubt(
    value: float,
    history: Sequence[float | None],
    *,
    unit: str,
    direction: str,
    references: Sequence[object],
) -> str | None:
    """The one plausibility question for a new value, form and upload alike: against the
    indicator's history (``implausible_reason``) when it has enough values, and against what
    the indicator itself says (``indicator_doubt``)."""
    return implausible_reason(value, list(_usable(history))) or indicator_doubt(
        value, unit=unit, direction=direction, references=references, history=history
    )


def replaced_sentence(
    previous: float,
    unit: str,
    period: dt.date,
    by: str | None,
    on: dt.date | None,
    *,
    done: bool,
) -> str:
    """The value a save replaces, in plain words: before (``done=False``) it asks, after it
    tells. ``replaced_sentence(12, "days", date(2025, 2, 1), "Ana Ruiz", date(2026, 12, 7),
    done=False)`` → ``"This replaces 12 days recorded for 2025-02-01 by Ana Ruiz on
    2026-12-07."``"""
    who = f" by {by}" if by else ""
    when = f" on {on.isoformat()}" if on else ""
    recorded = f"{with_unit(previous, unit)} recorded for {period.isoformat()}{who}{when}"
    if done:
        return f"It replaced {recorded}; both stay in the indicator's history."
    return f"This replaces {recorded}."
