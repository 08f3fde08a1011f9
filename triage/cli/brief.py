"""``triage brief [--week W] --format json|text|pdf [--output FILE]``: the weekly brief.

``register(commands, bench)`` adds the command to the main parser. The JSON has a top-level
``attention`` list (kind, title, reason and, where there is one, problem_id); the text is the
attention list as a mayor reads it; the PDF is the brief the priorities page downloads. The
current week is ranked and stored first when it is not yet (as the priorities page does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from db.brief import brief_data
from db.ranking import rank_week
from db.scores import has_snapshot
from triage.attention import AttentionList, attention_text
from triage.brief import BriefData, weekly_brief_pdf
from triage.cli.common import (
    COMMAND_HELP,
    CommandError,
    ensure_current,
    open_database,
    settings_from,
)
from triage.validation import ValidationError
from triage.weeks import iso_week, week_start


def _week(raw: str | None, today: dt.date) -> str:
    if raw is None:
        return iso_week(today)
    text = raw.strip().upper()
    try:
        week_start(text)
    except (ValidationError, ValueError):
        raise CommandError(f"{raw!r} is not an ISO week like 2026-W47.") from None
    return text


def brief_json(data: BriefData) -> dict[str, Any]:
    """The brief as JSON-ready data: the week, the ``attention`` list, the groups, the short
    list with movement and decisions, and the counts of what changed."""
    attention = data.attention.as_dict() if data.attention is not None else {}
    return {
        "city": data.city,
        "week": data.week,
        "week_start": data.week_start.isoformat(),
        "week_end": data.week_end.isoformat(),
        "as_of": data.as_of.isoformat(),
        "previous_week": data.previous_week,
        "attention": attention.get("attention", []),
        "elsewhere": attention.get("elsewhere", []),
        "priorities": [
            {
                "rank": p.rank,
                "title": p.title,
                "movement": p.movement,
                "rank_change": p.rank_change,
                "open_warnings": p.active_alerts,
                "overdue_indicators": p.overdue_indicators,
                "decision": p.decision or None,
                "decision_note": p.decision_note or None,
            }
            for p in data.priorities
        ],
        "new_warnings": len(data.new_alerts),
        "decisions_due": len(data.decisions_due),
        "late_indicators": data.overdue_count,
    }


def brief_text(data: BriefData) -> str:
    """The attention list and the short list as plain text."""
    attention = data.attention or AttentionList(data.week, data.week_start, data.week_end)
    lines = [f"{data.city}: weekly brief {data.week}", "", attention_text(attention), ""]
    lines.append(f"Top {len(data.priorities)} priorities:")
    for p in data.priorities:
        decided = f" - decision: {p.decision}" if p.decision else " - no decision yet"
        lines.append(f"  {p.rank:>2}. {p.title}{decided}")
    return "\n".join(lines) + "\n"


def cmd_brief(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    ensure_current(settings)
    today = settings.today()
    week = _week(args.week, today)
    if args.format == "pdf" and not args.output:
        raise CommandError("A PDF needs --output FILE.")
    database = open_database(settings)
    try:
        with database.session() as session:
            stored = has_snapshot(session, week)
        if not stored:
            if week != iso_week(today):
                raise CommandError(f"No ranking is stored for {week}.")
            rank_week(database, week, today)
        generated = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with database.session() as session:
            data = brief_data(
                session, week, today=today, city_name=settings.city_name, generated_at=generated
            )
    finally:
        database.dispose()
    if args.format == "pdf":
        Path(args.output).write_bytes(weekly_brief_pdf(data))
        print(f"Wrote the weekly brief for {week} to {args.output}.")
        return 0
    text = (
        json.dumps(brief_json(data), indent=2, ensure_ascii=False) + "\n"
        if args.format == "json"
        else brief_text(data)
    )
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add ``brief`` to ``commands`` (nothing to ``bench``)."""
    brief = commands.add_parser(
        "brief",
        help=COMMAND_HELP["brief"],
        description=(
            "Print or write the weekly brief of an ISO week (default: this week): the "
            "attention list first, then the short list. PDF needs --output."
        ),
    )
    brief.add_argument("--week", metavar="YYYY-Www", help="ISO week (default: this week)")
    brief.add_argument("--format", choices=("json", "text", "pdf"), default="text")
    brief.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    brief.set_defaults(func=cmd_brief)
