"""The weekly brief: a PDF of the week's priorities, what changed, decisions and gaps (fpdf2).

``weekly_brief_pdf(BriefData) -> bytes`` is pure: plain data in, PDF bytes out. It embeds
DejaVu Sans when the system has it (Debian's fonts-dejavu-core) and otherwise falls back to a
core PDF font, with text reduced safely to Latin-1. Text is never read as markup.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

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
SECTOR_WORDS = {
    "elected_political": "political/elected",
    "government_agency": "government agencies",
    "philanthropic": "philanthropy",
    "corporate_civic": "corporate/civic",
    "community": "community groups",
    "nonprofit_social_enterprise": "nonprofits/social enterprise",
    "labour": "labour",
    "faith": "faith groups",
    "media": "media",
}
DECISION_WORDS = {
    "focus": "Focus",
    "delegate": "Delegate",
    "convene": "Convene others",
    "monitor": "Monitor",
    "drop": "Drop",
}
# At most this many names are listed in one line of the brief ("and 4 more").
LIST_LIMIT = 6

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
    """Everything the brief prints; ``db.queries_priorities.brief_data`` assembles it."""

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
        self.set_y(-12)
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
        if self.pdf.get_y() > self.pdf.h - 50:
            self.pdf.add_page()
        self.pdf.ln(3)
        self.font(14, bold=True, colour=ACCENT)
        self.pdf.cell(0, 8, self.pdf.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        y = self.pdf.get_y()
        self.pdf.set_draw_color(*RULE)
        self.pdf.set_line_width(0.3)
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(2.5)

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


def _priority_block(w: _Writer, item: BriefPriority, compared: bool) -> None:
    if w.pdf.get_y() > w.pdf.h - 45:
        w.pdf.add_page()
    w.paragraph(f"{item.rank}.  {item.title}", 11.5, bold=True, gap=0.4)
    facts = [
        f"Priority {item.priority:.2f} (range {item.priority_low:.2f} to {item.priority_high:.2f})",
        f"importance {item.importance:.2f}",
        f"tractability {item.tractability:.2f}",
        f"neglectedness {item.neglectedness:.2f}",
    ]
    moved = movement_text(item.movement, item.rank_change) if compared else ""
    if moved:
        facts.append(moved)
    if item.active_alerts:
        facts.append(_plural(item.active_alerts, "active alert"))
    if item.overdue_indicators:
        facts.append(f"{_plural(item.overdue_indicators, 'indicator')} overdue")
    w.paragraph(" · ".join(facts), 9, colour=MUTED, indent=6, gap=0.6)
    w.paragraph(item.explanation, 10, indent=6, gap=0.6)
    if item.decision:
        w.paragraph(
            "Decision this week: " + decision_text(item.decision, item.decision_note),
            9.5,
            bold=True,
            indent=6,
            gap=0.6,
        )
    else:
        w.paragraph("No decision recorded this week.", 9.5, colour=MUTED, indent=6, gap=0.6)
    if item.last_decision:
        w.paragraph(
            f"Last decision ({item.last_decision_week}): " + decision_text(item.last_decision, ""),
            9,
            colour=MUTED,
            indent=6,
            gap=0.6,
        )
    w.pdf.ln(2)


def _alert_line(alert: BriefAlert) -> str:
    severity = alert.severity.capitalize()
    if alert.previous_severity:
        severity = f"{alert.previous_severity.capitalize()} -> {alert.severity}"
    where = f" ({_listing(alert.problems, 3)})" if alert.problems else ""
    return f"{severity}: {alert.message}{where}"


def _changes(w: _Writer, data: BriefData) -> None:
    w.heading("What changed this week")
    w.subheading(f"New alerts ({len(data.new_alerts)})")
    if data.new_alerts:
        for alert in data.new_alerts:
            w.bullet(_alert_line(alert))
    else:
        w.none("No new alerts this week.")
    w.subheading(f"Escalated alerts ({len(data.escalated_alerts)})")
    if data.escalated_alerts:
        for alert in data.escalated_alerts:
            w.bullet(_alert_line(alert))
    else:
        w.none("No alert became more severe this week.")
    if data.previous_week:
        w.subheading(f"Big movers ({len(data.movers)})")
        if data.movers:
            for rank, title, change in data.movers:
                direction = "up" if change > 0 else "down"
                w.bullet(f"{title}: now #{rank}, {direction} {abs(change)} places")
        else:
            w.none("No problem moved three places or more.")
        w.subheading(f"New on the list ({len(data.new_problems)})")
        if data.new_problems:
            for rank, title in data.new_problems:
                w.bullet(f"{title}: #{rank}")
        else:
            w.none(f"Every problem was already ranked in {data.previous_week}.")
    else:
        w.none("No earlier week is stored, so movement cannot be measured yet.")
    w.subheading(f"Overdue indicators ({data.overdue_count})")
    if data.overdue_count:
        departments = len(data.stale_owners)
        w.paragraph(
            f"{_plural(data.overdue_count, 'indicator')} in "
            f"{_plural(departments, 'department')} are overdue; see the owners below.",
            10,
        )
    else:
        w.none("Every indicator is up to date.")
    w.subheading(f"Decisions due ({len(data.decisions_due)})")
    if data.decisions_due:
        w.paragraph(
            "Top problems without a decision this week: "
            + "; ".join(f"#{rank} {title}" for rank, title in data.decisions_due)
            + ".",
            10,
        )
    else:
        w.none("Every problem of the short list has a decision this week.")


def _decisions(w: _Writer, data: BriefData) -> None:
    w.heading("Decisions taken")
    if not data.decisions:
        w.none("No decisions recorded for this week yet.")
        return
    for decision in data.decisions:
        word = DECISION_WORDS.get(decision.decision, decision.decision.capitalize())
        by = f" (by {decision.author})" if decision.author else ""
        note = f" - {decision.note}" if decision.note else ""
        w.bullet(f"{decision.problem}: {word}{by}{note}")
        if decision.superseded:
            w.paragraph(
                f"Replaces {_plural(decision.superseded, 'earlier decision')} this week.",
                9,
                colour=MUTED,
                indent=6,
                gap=0.6,
            )


def _owners(w: _Writer, data: BriefData) -> None:
    w.heading("Stale indicator owners")
    if not data.stale_owners:
        w.none("No indicator is overdue.")
        return
    for owner in data.stale_owners:
        heads = _listing(owner.heads, 3) if owner.heads else "no department head on record"
        w.bullet(
            f"{owner.department} ({heads}): {owner.overdue} overdue: {_listing(owner.indicators)}"
        )


def _gaps(w: _Writer, data: BriefData) -> None:
    w.heading("Actor gaps around the top priorities")
    if not data.actor_gaps:
        w.none("No problems ranked.")
        return
    for gap in data.actor_gaps:
        w.subheading(gap.problem)
        if gap.note:
            w.none(gap.note)
        if gap.uncovered_factors:
            w.bullet("Nobody is working on: " + _listing(gap.uncovered_factors, 4) + ".")
        elif not gap.note:
            w.bullet("Every mapped cause has someone working on it.")
        if gap.missing_sectors:
            words = [SECTOR_WORDS.get(s, s.replace("_", " ")) for s in gap.missing_sectors]
            w.bullet("Sectors not engaged: " + ", ".join(words) + ".")
        else:
            w.bullet("All six core sectors are engaged.")


def _fonts(pdf: _BriefPDF, font_dir: Path | None) -> None:
    files = {style: (font_dir / name) for style, name in DEJAVU_FILES.items()} if font_dir else {}
    if files and all(path.is_file() for path in files.values()):
        for style, path in files.items():
            pdf.add_font("DejaVu", style, str(path))
        pdf.brief_family, pdf.brief_unicode = "DejaVu", True
    else:
        pdf.brief_family, pdf.brief_unicode = CORE_FONT, False


def weekly_brief_pdf(data: BriefData, *, font_dir: Path | None = DEJAVU_DIR) -> bytes:
    """The weekly brief as PDF bytes: title, top priorities with their explanations, what
    changed, decisions taken, stale indicator owners and actor gaps.

    ``font_dir`` holds DejaVuSans.ttf and DejaVuSans-Bold.ttf to embed (full Unicode); without
    them (or with None) the core Helvetica font is used and text is reduced to Latin-1.
    """
    pdf = _BriefPDF(orientation="P", unit="mm", format="A4")
    _fonts(pdf, font_dir)
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(auto=True, margin=18)
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

    w.heading(f"Top {len(data.priorities)} priorities" if data.priorities else "Priorities")
    if not data.priorities:
        w.none("No ranking is stored for this week.")
    else:
        w.paragraph(
            "Priority combines importance (size of the gap, people affected, trend, residents' "
            "concern, equity) and tractability (reach, actors, ideas, authority, political "
            "capital), lifted where causes are neglected. Ranges show the uncertainty.",
            9,
            colour=MUTED,
            gap=2,
        )
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
