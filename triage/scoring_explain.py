"""Scoring's explanations: three plain sentences per problem from its components.

``triage.scoring.score_problems`` calls :func:`_explain` with one row of
``problem_components`` as a dict; nothing here reads a frame or a database.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from triage.vocabulary import PERCENT_UNITS

CADENCE_WORD: dict[str, str] = {
    "weekly": "weeks",
    "monthly": "months",
    "quarterly": "quarters",
    "annual": "years",
}
# Explanations mention a streak from three periods, a trend from 0.15 of the full gap per
# year, and equity from 0.1 above city need.
MENTION_STREAK = 3
MENTION_WORSENING = 0.15
MENTION_EQUITY = 0.1
PLAIN_UNITS = frozenset({"", "count", "number", "ratio", "rate", "index", "score"})


def _fmt_number(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _money(value: float) -> str:
    if abs(value) >= 1e6:
        return f"${value / 1e6:.1f}M"
    if abs(value) >= 1e3:
        return f"${value / 1e3:.0f}k"
    return f"${value:,.0f}"


def _with_unit(value: float, unit: str) -> str:
    unit = (unit or "").strip()
    if unit in PERCENT_UNITS:
        return f"{_fmt_number(value)}%"
    if unit.upper() == "USD":
        return _money(value)
    if unit.lower() in PLAIN_UNITS:
        return _fmt_number(value)
    return f"{_fmt_number(value)} {unit}"


def _difference(value: float, unit: str) -> str:
    """A difference between two values: percentages differ by points."""
    if (unit or "").strip() in PERCENT_UNITS:
        return f"{_fmt_number(value)} points"
    return _with_unit(value, unit)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _gap_sentence(c: dict[str, Any]) -> str:
    """What is wrong: the indicator furthest off target, its trend, and how many others are."""
    n = int(c["indicators"])
    if n == 0:
        return "No indicators are linked yet, so its gap is assumed typical and confidence is low."
    if c["indicators_with_data"] == 0:
        return (
            f"Its {_count(n, 'indicator')} {'have' if n > 1 else 'has'} no values yet, "
            "so its gap is assumed typical and confidence is low."
        )
    stale = ""
    if c["stale"]:
        stale = f"; {c['stale']} of {n} indicators {'is' if c['stale'] == 1 else 'are'} overdue"
    if c["gap_missing"]:
        return f"Its indicators have no targets yet, so its gap is assumed typical{stale}."
    worst_gap = c.get("worst_gap")
    if worst_gap is None or pd.isna(worst_gap) or worst_gap <= 0:
        return f"Its {_count(n, 'indicator')} {'are' if n > 1 else 'is'} on target{stale}."
    name = str(c["worst_name"])
    target, value = c["worst_target"], c["worst_latest_value"]
    if target is None or pd.isna(target) or value is None or pd.isna(value):
        status = str(c.get("worst_status") or "off_track").replace("_", " ")
        text = f"{name} is reported {status} by its department"
    else:
        unit = str(c["worst_unit"] or "")
        side = "above" if c["worst_direction"] == "down" else "below"
        text = (
            f"{name} is {_difference(abs(float(value) - float(target)), unit)} {side} target "
            f"({_with_unit(float(value), unit)} against {_with_unit(float(target), unit)})"
        )
    streak = 0 if pd.isna(c["worst_streak"]) else int(c["worst_streak"])
    if streak >= MENTION_STREAK:
        word = CADENCE_WORD.get(str(c["worst_cadence"]), "periods")
        text += f" and has worsened {streak} {word} running"
    elif not pd.isna(c.get("worst_worsening")) and c["worst_worsening"] >= MENTION_WORSENING:
        text += " and is trending worse"
    others = int(c["off_target"]) - 1
    if others > 0:
        text += f"; {others} more of its {n} indicators {'is' if others == 1 else 'are'} off target"
    return text + stale + "."


def _people_sentence(c: dict[str, Any]) -> str:
    """Whom it touches and what residents report, raw and adjusted for reporting habits."""
    if c["people_missing"]:
        where = "Where it falls is unknown (no district populations)"
    elif isinstance(c["district_names"], str) and c["district_names"] and c["people"] < 0.999:
        names = c["district_names"].split(", ")
        listed = ", ".join(names[:3]) + (" and others" if len(names) > 3 else "")
        where = f"It affects {c['people']:.0%} of residents ({listed})"
    else:
        where = "It affects the whole city"
    if not pd.isna(c["city_need"]) and c["equity"] >= c["city_need"] + MENTION_EQUITY:
        where += ", mostly in high-need districts"
    if not c["has_categories"]:
        return where + "; no 311 category is linked, so citizen concern is assumed typical."
    # Rounded as the snapshot's facts store them, so this sentence, the reports tab and the
    # priorities chart print the same whole number (203.47 is stored 203.5, shown 204).
    raw = round(float(c["reports_raw"] or 0.0), 1)
    if raw <= 0:
        return where + "; residents filed no 311 reports about it in the last 90 days."
    adjusted = round(float(c["reports_adjusted"] or 0.0), 1)
    text = f"{where}; residents filed {raw:,.0f} reports in 90 days ({adjusted:,.0f} adjusted)"
    if isinstance(c["top_district"], str) and not pd.isna(c["top_ratio"]):
        text += (
            f", and reports adjusted for under-reporting in {c['top_district']}"
            f" are {c['top_ratio']:.1f}x raw"
        )
    return text + "."


def _reach_sentence(c: dict[str, Any]) -> str:
    """Can the city act: reach of the causal map, who is engaged, what nobody works on."""
    parts: list[str] = []
    if c["factors"] == 0:
        parts.append("no backward map yet, so its reach is assumed typical")
    else:
        parts.append(f"{c['reach']:.0%} of its causal map is within city reach")
    if c["engagements"] == 0:
        parts.append("no actors are engaged yet")
    else:
        sectors = int(c["sectors_engaged"])
        funding = float(c["committed_funding"] or 0.0)
        money = f"{_money(funding)} committed" if funding > 0 else "no money committed"
        parts.append(
            f"{_count(sectors, 'sector')} {'is' if sectors == 1 else 'are'} engaged with {money}"
        )
    if c["factors"] and c["uncovered_factors"]:
        one = c["uncovered_factors"] == 1
        parts.append(
            f"{c['uncovered_factors']} of {c['factors']} causal factors "
            f"{'has' if one else 'have'} nobody working on {'it' if one else 'them'}"
        )
    text = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    if c["has_cycle"]:
        text += " (its map has a loop, so its links were ignored)"
    return text[0].upper() + text[1:] + "."


def _explain(c: dict[str, Any]) -> str:
    """Three sentences: what is wrong, whom it touches and what residents say, can we act."""
    return " ".join((_gap_sentence(c), _people_sentence(c), _reach_sentence(c)))
