"""``triage rank``: score every problem for an ISO week, store it and print it."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pandas as pd

from db.ranking import rank_week
from triage.cli.common import COMMAND_HELP, CommandError, open_database, settings_from
from triage.export import safe_csv
from triage.scoring import ranking_table, week_end

MOVEMENT_MARKS = {"up": "▲", "down": "▼", "same": "=", "new": "new"}


def cmd_rank(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.week:
        try:
            week_end(args.week)
        except ValueError:
            raise CommandError(f"--week {args.week!r} is not an ISO week like 2026-W47.") from None
    database = open_database(settings)
    try:
        ranking = rank_week(database, args.week, settings.today(), save=not args.dry_run)
    finally:
        database.dispose()
    table = ranking_table(ranking.scores, ranking.moves)
    if args.format == "csv":
        sys.stdout.write(safe_csv(table))
    elif args.format == "json":
        payload = {
            "week": ranking.week,
            "as_of": ranking.as_of.isoformat(),
            "compared_with": ranking.previous_week,
            "problems": json.loads(table.to_json(orient="records")),
        }
        print(json.dumps(payload, indent=2))
    else:
        _print_ranking(ranking.week, ranking.previous_week, table, args.top)
    return 0


def _print_ranking(week: str, previous: str | None, table: pd.DataFrame, top: int | None) -> None:
    compared = f"movement against {previous}" if previous else "no earlier week stored"
    print(f"Priorities for {week} ({compared})")
    header = (
        f"{'rank':>4}  {'move':>5}  {'priority':>17}  "
        f"{'imp':>4} {'tract':>5} {'negl':>4} {'conf':>4}  problem"
    )
    print(header)
    print("-" * len(header))
    rows = table if top is None else table.head(top)
    for row in rows.itertuples(index=False):
        move = MOVEMENT_MARKS.get(getattr(row, "movement", ""), "")
        change = getattr(row, "rank_change", None)
        if move in {"▲", "▼"} and change is not None:
            move = f"{move}{abs(int(change))}"
        band = f"{row.priority:.2f} [{row.priority_low:.2f}-{row.priority_high:.2f}]"
        print(
            f"{row.rank:>4}  {move:>5}  {band:>17}  {row.importance:4.2f} {row.tractability:5.2f}"
            f" {row.neglectedness:4.2f} {row.confidence:4.2f}  {row.title}"
        )


def register(commands: Any, bench: Any) -> None:
    """Add ``rank`` to ``commands`` (nothing to ``bench``)."""
    del bench
    rank = commands.add_parser("rank", help=COMMAND_HELP["rank"])
    rank.add_argument("--week", metavar="YYYY-Www", help="ISO week (default: this week)")
    rank.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rank.add_argument("--top", type=int, help="print only the first N (table format)")
    rank.add_argument("--dry-run", action="store_true", help="do not store the week's snapshot")
    rank.set_defaults(func=cmd_rank)
