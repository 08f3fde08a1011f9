"""Plain words for the mayor: scores as bands, and the glossary every page links to.

Scores in Triage run from 0 to 1. A mayor reads "High" faster than "0.64", and two problems at
0.62 and 0.58 are not told apart by their data anyway (their ranges overlap), so the pages lead
with the band and keep the number for the hover, the tables and the analyst's details.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# A score at or above the first cut is High, at or above the second Medium, else Low. The cuts
# split the 0-1 scale in thirds around its middle: 0.5 is what a problem gets when every part of
# it is typical of the city's problems.
HIGH_FROM = 0.6
MEDIUM_FROM = 0.4
BANDS = ("High", "Medium", "Low")


def score_band(value: float | None) -> str | None:
    """``High``, ``Medium`` or ``Low`` for a 0-1 score; None when there is no score."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    if number >= HIGH_FROM:
        return "High"
    if number >= MEDIUM_FROM:
        return "Medium"
    return "Low"


def score_number(value: float | None) -> str:
    """The score with two decimals, or an em dash when there is none."""
    band = score_band(value)
    return "—" if band is None else f"{float(value):.2f}"  # type: ignore[arg-type]


def band_hint(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """The words behind a band, for its hover and for screen readers:
    ``0.64 on a scale of 0 to 1 (likely between 0.58 and 0.70)``."""
    if score_band(value) is None:
        return "Not scored: no data yet"
    text = f"{score_number(value)} on a scale of 0 to 1"
    if score_band(low) is not None and score_band(high) is not None:
        text += f" (likely between {score_number(low)} and {score_number(high)})"
    return text


@dataclass(frozen=True)
class Term:
    """One glossary entry: the word as pages show it, and what it means in plain words."""

    term: str
    meaning: str
    anchor: str


def _term(term: str, meaning: str) -> Term:
    anchor = "".join(ch if ch.isalnum() else "-" for ch in term.lower()).strip("-")
    return Term(term, meaning, anchor)


GLOSSARY_SECTIONS: tuple[tuple[str, tuple[Term, ...]], ...] = (
    (
        "The weekly ranking",
        (
            _term(
                "Priority",
                "How strongly a problem calls for the office's attention this week. It combines "
                "importance, tractability and neglectedness, so a problem ranks high only when "
                "it matters, the city can act on it, and others are not already on it.",
            ),
            _term(
                "High, Medium, Low",
                f"Scores run from 0 to 1. High is {HIGH_FROM:.1f} or more, Medium from "
                f"{MEDIUM_FROM:.1f} up to {HIGH_FROM:.1f}, Low below {MEDIUM_FROM:.1f}. "
                "The number is in the tables, in the band's hover on a computer, and read out "
                "by screen readers.",
            ),
            _term(
                "Importance",
                "How much harm the problem does: how many residents it touches, how badly, how "
                "fast it is growing, and whether it falls hardest on districts with most need.",
            ),
            _term(
                "Tractability",
                "How far the city can change it: its authority over the causes, the capacity "
                "and money in reach, and ideas that have worked elsewhere.",
            ),
            _term(
                "Neglectedness",
                "How little others are already doing. A problem that many partners already work "
                "on gains less from the office's attention than one nobody owns.",
            ),
            _term(
                "Confidence",
                "How much of the data behind a score is measured rather than assumed. Low "
                "confidence means the score could move once the missing figures arrive.",
            ),
            _term(
                "Range",
                "Where a score is likely to lie given gaps and noise in its data. Two problems "
                "whose ranges overlap are not told apart by the data.",
            ),
            _term(
                "Movement",
                "How many places a problem rose or fell since last week's ranking.",
            ),
        ),
    ),
    (
        "Early warnings",
        (
            _term(
                "Early warning",
                "A figure that has moved outside its usual range, or a target that is being "
                "missed. It is a signal to look, not a verdict.",
            ),
            _term(
                "Surge",
                "Many more 311 reports in a category than usual for the season and day of the "
                "week, in the last days.",
            ),
            _term(
                "Usual range",
                "The values a figure takes on ordinary days, learned from its own history. "
                "A surge is a count well above it.",
            ),
            _term(
                "Severity",
                "Critical needs attention this week; Warning should be looked at; Info is "
                "worth knowing. Severity grows with the size of the departure, the people "
                "affected and how long it lasts.",
            ),
            _term(
                "Off target",
                "An indicator whose latest value is on the wrong side of the target the "
                "department set. It stays one standing item until the value comes back.",
            ),
            _term(
                "Overdue",
                "An indicator whose department has not reported the latest period yet. That is "
                "a matter for the department; it does not change the ranking by itself.",
            ),
        ),
    ),
    (
        "Citizen reports and causes",
        (
            _term(
                "311 report",
                "A service request a resident filed with the city: by phone, app or web.",
            ),
            _term(
                "Adjusted reports",
                "Report counts weighted up in districts that tend to report less than their "
                "need, so that quiet districts are not mistaken for well-served ones.",
            ),
            _term(
                "Backward map",
                "The chain from a problem back to its causes, and to the organisations that "
                "stand astride each cause and could change it.",
            ),
            _term(
                "Actor",
                "An organisation that can act on a cause: a city agency, an elected office, a "
                "funder, a business group, a community or faith group, a union, a nonprofit, "
                "the media.",
            ),
            _term(
                "Leverage point",
                "A cause on the backward map where acting would move the problem most: much of "
                "the problem runs through it, the city can reach it, and partners are willing "
                "to act on it. The map draws it with a double border.",
            ),
            _term(
                "Core six sectors",
                "The six kinds of actor the method asks about first around every problem: "
                "elected officials, city agencies, philanthropy, business and civic groups, "
                "community groups, and nonprofits and social enterprises. Labour, faith and "
                "media complete the nine.",
            ),
            _term(
                "Missing sector",
                "A kind of actor with a stake in a cause that nobody from that sector is "
                "engaged on yet: often the cheapest next call.",
            ),
            _term(
                "Decision",
                "What the office chose to do about a problem this week: focus on it, delegate "
                "it to a department, convene others, monitor it, or drop it for now. Each "
                "decision is kept with the week it was made.",
            ),
        ),
    ),
)


def glossary_terms() -> tuple[Term, ...]:
    """Every glossary entry, in page order."""
    return tuple(term for _section, terms in GLOSSARY_SECTIONS for term in terms)
