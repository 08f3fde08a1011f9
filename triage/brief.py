"""The weekly brief: a PDF that leads with what needs the mayor this week (the attention list),
then the short list, what changed, decisions, stale owners and actor gaps (fpdf2).

``weekly_brief_pdf(BriefData) -> bytes`` is pure: plain data in, PDF bytes out. It fits on two
A4 pages for a demo-sized city: long lists are cut with "and N more" and point to the app. It
embeds DejaVu Sans when the system has it (Debian's fonts-dejavu-core) and otherwise falls back
to a core PDF font, with text reduced safely to Latin-1. Text is never read as markup.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from triage.attention import AttentionList
from triage.vocabulary import DECISION_WORDS, SECTOR_WORDS

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
CORE_FONT = "Helvetica"
# Characters a core font cannot show, with their closest Latin-1 spelling.
LATIN1_REPLACEMENTS = {
    "—": "-",
    "–": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "…": "...",
    "•": "-",
    "×": "x",
    "≥": ">=",
    "≤": "<=",
    "→": "->",
    "▲": "^",
    "▼": "v",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ħ": "H",
    "ħ": "h",
    "ı": "i",
    "Œ": "OE",
    "œ": "oe",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
}
# At most this many names are listed in one line of the brief ("and 4 more").
LIST_LIMIT = 6
# At most this many alerts, departments and actor gaps are printed; the app has the rest.
ALERTS_LISTED = 3
OWNERS_LISTED = 3
GAPS_LISTED = 3
DECISIONS_LISTED = 3

INK = (27, 36, 48)
MUTED = (79, 91, 107)
ACCENT = (29, 79, 145)
RULE = (213, 219, 227)


@dataclass(frozen=True)
class BriefPriority:
    """One problem of the short list, as printed."""

    rank: int
    title: str
    priority: float
    priority_low: float
    priority_high: float
    importance: float
    tractability: float
    neglectedness: float
    movement: str  # up, down, same, new; "" when no earlier week is stored
    rank_change: int | None
    explanation: str
    active_alerts: int = 0
    overdue_indicators: int = 0
    decision: str = ""
    decision_note: str = ""
    last_decision: str = ""
    last_decision_week: str = ""


@dataclass(frozen=True)
class BriefAlert:
    severity: str
    message: str
    problems: tuple[str, ...] = ()
    previous_severity: str = ""
    first_detected: dt.date | None = None


@dataclass(frozen=True)
class BriefDecision:
    problem: str
    decision: str
    note: str
    author: str
    recorded_at: dt.datetime | None = None
    superseded: int = 0  # earlier decisions on the problem this week that this one replaced


@dataclass(frozen=True)
class StaleOwner:
    """A department with overdue indicators, and its head(s)."""

    department: str
    heads: tuple[str, ...]
    overdue: int
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class ActorGap:
    """Who is missing around one top problem: factors nobody works on, sectors not engaged."""

    problem: str
    uncovered_factors: tuple[str, ...]
    missing_sectors: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class BriefData:
    """Everything the brief prints; ``db.brief.brief_data`` assembles it."""

    city: str
    week: str
    week_start: dt.date
    week_end: dt.date
    as_of: dt.date
    previous_week: str | None
    generated_at: dt.datetime
    problems_ranked: int
    priorities: tuple[BriefPriority, ...]
    new_alerts: tuple[BriefAlert, ...] = ()
    escalated_alerts: tuple[BriefAlert, ...] = ()
    movers: tuple[tuple[int, str, int], ...] = ()  # rank, title, rank change (+ = up)
    new_problems: tuple[tuple[int, str], ...] = ()  # rank, title
    overdue_count: int = 0
    decisions_due: tuple[tuple[int, str], ...] = ()  # rank, title
    decisions: tuple[BriefDecision, ...] = ()
    stale_owners: tuple[StaleOwner, ...] = ()
    actor_gaps: tuple[ActorGap, ...] = field(default_factory=tuple)
    attention: AttentionList | None = None


def latin1_text(value: object) -> str:
    """Text a core PDF font can print: common punctuation spelt out, accents kept where
    Latin-1 has them, other letters reduced to their base letter, anything else "?"."""
    out = []
    for ch in plain_text(value):
        ch = LATIN1_REPLACEMENTS.get(ch, ch)
        try:
            ch.encode("latin-1")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def plain_text(value: object) -> str:
    """Stored text without control characters (newlines and tabs become spaces)."""
    text = "" if value is None else str(value)
    return "".join(
        " " if ch in "\n\r\t" else ch
        for ch in text
        if ch in "\n\r\t" or unicodedata.category(ch)[0] != "C"
    )


def movement_text(movement: str, change: int | None) -> str:
    """``up 2 places``, ``down 1 place``, ``new on the list``, ``no change``; "" without history."""
    if movement == "new":
        return "new on the list"
    if movement in {"up", "down"} and change:
        places = abs(int(change))
        return f"{movement} {places} place{'s' if places != 1 else ''}"
    if movement == "same":
        return "no change"
    return ""


def decision_text(decision: str, note: str) -> str:
    word = DECISION_WORDS.get(decision, decision.capitalize())
    return f"{word} - {note}" if note else word


def _listing(names: Sequence[str], limit: int = LIST_LIMIT) -> str:
    shown = [str(n) for n in names[:limit]]
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


class _BriefPDF(FPDF):
    """A4 portrait with a footer naming the brief and the page."""

    footer_text = ""
    brief_family = CORE_FONT
    brief_unicode = False

    def clean(self, value: object) -> str:
        """Text this PDF's font can print."""
        return plain_text(value) if self.brief_unicode else latin1_text(value)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.brief_family, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.clean(f"{self.footer_text} · page {self.page_no()} of {{nb}}"))


class _Writer:
    """Small layout helpers over the PDF: headings, paragraphs and bullet lines.

    Lines are wrapped here, word by word with cached word widths, and printed one ``cell``
    each: fpdf2's own ``multi_cell`` measures every prefix of a line and is many times slower.
    """

    def __init__(self, pdf: _BriefPDF) -> None:
        self.pdf = pdf
        self._widths: dict[tuple[str, str, float, str], float] = {}

    def font(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font(self.pdf.brief_family, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def width(self, text: str) -> float:
        key = (self.pdf.font_family, self.pdf.font_style, self.pdf.font_size_pt, text)
        if key not in self._widths:
            self._widths[key] = self.pdf.get_string_width(text)
        return self._widths[key]

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy word wrap to ``width`` mm; a word longer than a line is cut by characters."""
        lines: list[str] = []
        line = ""
        space = self.width(" ")
        used = 0.0
        for word in text.split():
            size = self.width(word)
            if size > width:
                if line:
                    lines.append(line)
                    line, used = "", 0.0
                piece = ""
                for ch in word:
                    if piece and self.pdf.get_string_width(piece + ch) > width:
                        lines.append(piece)
                        piece = ""
                    piece += ch
                line, used = piece, self.pdf.get_string_width(piece)
                continue
            if line and used + space + size > width:
                lines.append(line)
                line, used = word, size
            elif line:
                line, used = f"{line} {word}", used + space + size
            else:
                line, used = word, size
        if line:
            lines.append(line)
        return lines

    def lines(self, text: str, size: float, indent: float, marker: str = "") -> None:
        height = size * 0.5
        width = self.pdf.epw - indent
        for number, line in enumerate(self.wrap(text, width)):
            if marker:
                self.pdf.set_x(self.pdf.l_margin + indent - 4)
                self.pdf.cell(4, height, marker if number == 0 else "")
            self.pdf.set_x(self.pdf.l_margin + indent)
            self.pdf.cell(width, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(
        self,
        value: object,
        size: float = 10,
        *,
        bold: bool = False,
        colour: tuple[int, int, int] = INK,
        indent: float = 0,
        gap: float = 1.2,
    ) -> None:
        text = self.pdf.clean(value)
        if not text.strip():
            return
        self.font(size, bold, colour)
        self.lines(text, size, indent)
        self.pdf.ln(gap)

    def heading(self, value: str) -> None:
        if self.pdf.get_y() > self.pdf.h - 40:
            self.pdf.add_page()
        self.pdf.ln(2.5)
        self.font(13, bold=True, colour=ACCENT)
        self.pdf.cell(0, 7, self.pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = self.pdf.get_y()
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.3)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(2)

    def subheading(self, value: str) -> None:
        if self.pdf.get_y() > self.pdf.h - 35:
            self.pdf.add_page()
        self.paragraph(value, 11, bold=True, gap=0.6)

    def bullet(self, value: object, size: float = 10, colour: tuple[int, int, int] = INK) -> None:
        text = self.pdf.clean(value)
        if not text.strip():
            return
        self.font(size, colour=colour)
        self.lines(text, size, indent=6, marker="-")
        self.pdf.ln(0.8)

    def none(self, value: str) -> None:
        self.paragraph(value, 10, colour=MUTED)


# A link of the app said on paper: the page's title (as the app's menu names it), not a path.
PAPER_PAGE_NAMES = {
    "/": "Weekly priorities",
    "/problems": "Problems",
    "/alerts": "Early warnings",
    "/reports": "Citizen reports",
    "/actors": "Actors and funding",
    "/department": "My department",
}


def paper_page(link: str) -> str:
    """Where a link leads, in words: "Early warnings", "the problem's page"."""
    path = link.split("?", 1)[0] or "/"
    if path.startswith("/problems/"):
        return "the problem's page"
    return PAPER_PAGE_NAMES.get(path, "the app")


def _attention(w: _Writer, data: BriefData) -> None:
    """The attention list first: what needs the mayor, why, and where everything else is."""
    w.heading("What needs the mayor this week")
    attention = data.attention
    if attention is None or not attention.items:
        w.none("Nothing needs the mayor's attention this week beyond the short list below.")
    else:
        for number, item in enumerate(attention.items, start=1):
            if w.pdf.get_y() > w.pdf.h - 30:
                w.pdf.add_page()
            w.paragraph(f"{number}.  {item.title}", 11, bold=True, gap=0.3)
            w.paragraph(item.reason, 9.5, indent=6, gap=0.3)
            labels = [a.label for a in item.actions]
            if labels:
                w.paragraph(
                    f"In the app ({paper_page(item.link)}): {', '.join(labels)}.",
                    8.5,
                    colour=MUTED,
                    indent=6,
                    gap=0.3,
                )
            w.pdf.ln(1)
    if attention is not None and attention.groups:
        w.paragraph(
            "Everything else, one click away: "
            + "; ".join(f"{g.label}: {g.count:,} ({paper_page(g.link)})" for g in attention.groups)
            + ".",
            9,
            colour=MUTED,
            gap=1.5,
        )


def _priority_block(w: _Writer, item: BriefPriority, compared: bool) -> None:
    """One problem of the short list in two lines: rank and title, then what changed about it
    and the decision in force."""
    if w.pdf.get_y() > w.pdf.h - 25:
        w.pdf.add_page()
    facts = []
    moved = movement_text(item.movement, item.rank_change) if compared else ""
    if moved:
        facts.append(moved.capitalize())
    if item.active_alerts:
        facts.append(_plural(item.active_alerts, "open warning"))
    if item.overdue_indicators:
        facts.append(f"{_plural(item.overdue_indicators, 'indicator')} overdue")
    w.paragraph(f"{item.rank}.  {item.title}", 10, bold=True, gap=0.2)
    if item.decision:
        facts.append("Decision this week: " + decision_text(item.decision, item.decision_note))
    else:
        decided = "No decision recorded this week"
        if item.last_decision:
            decided += (
                f" (last: {decision_text(item.last_decision, '')}, {item.last_decision_week})"
            )
        facts.append(decided)
    line = " · ".join(facts)
    w.paragraph(line if line.endswith(".") else line + ".", 9, colour=MUTED, indent=6, gap=0.2)
    w.pdf.ln(0.8)


def _alert_line(alert: BriefAlert) -> str:
    severity = alert.severity.capitalize()
    if alert.previous_severity:
        severity = f"{alert.previous_severity.capitalize()} -> {alert.severity}"
    where = f" ({_listing(alert.problems, 3)})" if alert.problems else ""
    return f"{severity}: {alert.message}{where}"


def _alert_bullets(w: _Writer, alerts: Sequence[BriefAlert], none: str) -> None:
    if not alerts:
        w.none(none)
        return
    for alert in alerts[:ALERTS_LISTED]:
        w.bullet(_alert_line(alert), 9)
    if len(alerts) > ALERTS_LISTED:
        w.none(f"and {len(alerts) - ALERTS_LISTED} more on the Early warnings page.")


def _changes(w: _Writer, data: BriefData) -> None:
    w.heading("What changed this week")
    w.subheading(f"New early warnings ({len(data.new_alerts)})")
    _alert_bullets(w, data.new_alerts, "No new early warnings this week.")
    if data.escalated_alerts:
        w.subheading(f"More severe than before ({len(data.escalated_alerts)})")
        _alert_bullets(w, data.escalated_alerts, "")
    if data.previous_week:
        moves = [
            f"{title} now #{rank}, {'up' if change > 0 else 'down'} {abs(change)} places"
            for rank, title, change in data.movers
        ] + [f"{title} new at #{rank}" for rank, title in data.new_problems]
        if moves:
            w.paragraph("Movement: " + "; ".join(moves) + ".", 10)
        else:
            w.none(
                f"No problem moved three places or more since {data.previous_week}, "
                "and none is new on the list."
            )
    else:
        w.none("No earlier week is stored, so movement cannot be measured yet.")
    if data.decisions_due:
        ranks = ", ".join(f"#{rank}" for rank, _ in data.decisions_due)
        w.paragraph(
            f"Decisions due on {_plural(len(data.decisions_due), 'problem')} of the short list "
            f"({ranks}).",
            10,
        )
    else:
        w.none("Every problem of the short list has a decision this week.")


def _decisions(w: _Writer, data: BriefData) -> None:
    w.heading("Decisions taken")
    if not data.decisions:
        w.none("No decisions recorded for this week yet.")
        return
    listed = {p.title for p in data.priorities}
    others = [d for d in data.decisions if d.problem not in listed]
    shown = len(data.decisions) - len(others)
    if shown:
        w.none(
            f"{_plural(shown, 'decision')} on the short list, shown above"
            + ("; the others:" if others else ".")
        )
    for decision in others[:DECISIONS_LISTED]:
        word = DECISION_WORDS.get(decision.decision, decision.decision.capitalize())
        by = f" (by {decision.author})" if decision.author else ""
        note = f" - {decision.note}" if decision.note else ""
        replaced = (
            f" Replaces {_plural(decision.superseded, 'earlier decision')} this week."
            if decision.superseded
            else ""
        )
        w.bullet(f"{decision.problem}: {word}{by}{note}.{replaced}", 9.5)
    if len(others) > DECISIONS_LISTED:
        w.none(f"and {len(others) - DECISIONS_LISTED} more on the priorities page.")


def _owners(w: _Writer, data: BriefData) -> None:
    w.heading("Late indicator data, by department")
    if not data.stale_owners:
        w.none("No indicator is overdue.")
        return
    w.paragraph(
        f"{_plural(data.overdue_count, 'indicator')} in "
        f"{_plural(len(data.stale_owners), 'department')} are overdue; their heads are asked "
        "to update them (a matter for the departments, not for the list above).",
        9,
        colour=MUTED,
    )
    for owner in data.stale_owners[:OWNERS_LISTED]:
        heads = _listing(owner.heads, 3) if owner.heads else "no department head on record"
        w.bullet(
            f"{owner.department} ({heads}): {owner.overdue} overdue: "
            f"{_listing(owner.indicators, 3)}",
            9,
        )
    if len(data.stale_owners) > OWNERS_LISTED:
        w.none(f"and {len(data.stale_owners) - OWNERS_LISTED} more departments.")


def _gaps(w: _Writer, data: BriefData) -> None:
    w.heading("Who is missing around the top priorities")
    if not data.actor_gaps:
        w.none("No problems ranked.")
        return
    for gap in data.actor_gaps[:GAPS_LISTED]:
        parts = []
        if gap.note:
            parts.append(gap.note)
        if gap.uncovered_factors:
            parts.append("Nobody is working on: " + _listing(gap.uncovered_factors, 3) + ".")
        elif not gap.note:
            parts.append("Every mapped cause has someone working on it.")
        if gap.missing_sectors:
            words = [SECTOR_WORDS.get(s, s.replace("_", " ")) for s in gap.missing_sectors]
            parts.append("Sectors not engaged: " + ", ".join(words) + ".")
        else:
            parts.append("All six core sectors are engaged.")
        w.bullet(f"{gap.problem}: " + " ".join(parts), 9)
    if len(data.actor_gaps) > GAPS_LISTED:
        w.none(f"and {len(data.actor_gaps) - GAPS_LISTED} more on each problem's page.")


def _fonts(pdf: _BriefPDF, font_dir: Path | None) -> None:
    files = {style: (font_dir / name) for style, name in DEJAVU_FILES.items()} if font_dir else {}
    if files and all(path.is_file() for path in files.values()):
        for style, path in files.items():
            pdf.add_font("DejaVu", style, str(path))
        pdf.brief_family, pdf.brief_unicode = "DejaVu", True
    else:
        pdf.brief_family, pdf.brief_unicode = CORE_FONT, False


def weekly_brief_pdf(data: BriefData, *, font_dir: Path | None = DEJAVU_DIR) -> bytes:
    """The weekly brief as PDF bytes: title and week, the attention list, the short list with
    movement and decisions, what changed, decisions taken, late data by department, actor gaps.

    ``font_dir`` holds DejaVuSans.ttf and DejaVuSans-Bold.ttf to embed (full Unicode); without
    them (or with None) the core Helvetica font is used and text is reduced to Latin-1.
    """
    pdf = _BriefPDF(orientation="P", unit="mm", format="A4")
    _fonts(pdf, font_dir)
    pdf.set_margins(18, 13, 18)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.footer_text = f"{data.city} Triage · weekly brief {data.week}"
    pdf.set_title(pdf.clean(f"Weekly brief {data.week} - {data.city}"))
    pdf.set_author(pdf.clean(f"{data.city} Triage"))
    pdf.set_creation_date(data.generated_at.replace(tzinfo=data.generated_at.tzinfo or dt.UTC))
    pdf.add_page()
    w = _Writer(pdf)

    w.paragraph(f"{data.city.upper()} · MAYOR'S OFFICE", 9, bold=True, colour=MUTED, gap=0.5)
    w.paragraph(f"Weekly brief: priorities for {data.week}", 20, bold=True, gap=1)
    compared = (
        f"movement against {data.previous_week}"
        if data.previous_week
        else "no earlier week stored to compare with"
    )
    w.paragraph(
        f"Week of {_day(data.week_start)} to {_day(data.week_end)}; ranked as of "
        f"{_day(data.as_of)}; {_plural(data.problems_ranked, 'problem')} ranked; {compared}. "
        f"Generated {data.generated_at:%Y-%m-%d %H:%M} UTC.",
        9.5,
        colour=MUTED,
        gap=2,
    )

    _attention(w, data)
    w.heading(f"Top {len(data.priorities)} priorities" if data.priorities else "Priorities")
    if not data.priorities:
        w.none("No ranking is stored for this week.")
    else:
        for item in data.priorities:
            _priority_block(w, item, data.previous_week is not None)
    _changes(w, data)
    _decisions(w, data)
    _owners(w, data)
    _gaps(w, data)
    return bytes(pdf.output())


__all__ = [
    "ActorGap",
    "BriefAlert",
    "BriefData",
    "BriefDecision",
    "BriefPriority",
    "StaleOwner",
    "latin1_text",
    "movement_text",
    "plain_text",
    "weekly_brief_pdf",
]
