"""``triage city import|export|districts``: a city pack in and out, and where reports landed.

``register(commands, bench)`` adds the group to the main parser. ``import`` prints added,
updated, unchanged and rejected per file, every reject with its file, line and reason, and the
re-placement of stored reports when the boundaries changed; ``--dry-run`` rolls it all back.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from db.catalog import (
    ImportReport,
    district_report_counts,
    export_pack,
    import_pack,
    place_reports,
)
from triage.citypack import CITY_FILE, CitySpec, PackError, read_pack, write_pack
from triage.cli.common import COMMAND_HELP, CommandError, current_database, settings_from
from triage.security import Principal


class _DryRun(Exception):
    """Raised inside the transaction so that a dry run rolls back everything it did."""


def cmd_city_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        pack = read_pack(Path(args.directory))
    except PackError as exc:
        raise CommandError(str(exc)) from None
    # The pack being imported names the city's zone, unless TRIAGE_TIMEZONE pins another.
    settings = settings.adopt_city({"timezone": pack.city.timezone})
    database = current_database(settings)
    result: dict[str, Any] = {}
    try:
        with database.session(write=True) as session:
            report = import_pack(
                session, Principal.system("city-import"), pack, city_tz=settings.timezone
            )
            result["report"] = report
            result["districts"] = district_report_counts(session)
            if args.dry_run:
                raise _DryRun
    except _DryRun:
        pass
    finally:
        database.dispose()
    report = result["report"]
    if args.json:
        print(json.dumps(_as_dict(report, args.dry_run)))
    else:
        _print_import(args.directory, pack.city.name, pack.city.timezone, report, args.dry_run)
        if report.placement is not None and report.placement.checked:
            _print_districts(result["districts"])
    if pack.city.timezone != settings.timezone:
        print(
            f"triage: warning: city.toml's time zone is {pack.city.timezone} but reports are "
            f"counted in {settings.timezone}; set TRIAGE_TIMEZONE={pack.city.timezone}.",
            file=sys.stderr,
        )
    return 1 if report.rejects else 0


def _as_dict(report: ImportReport, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "files": {name: vars(counts) for name, counts in report.files.items()},
        "rejects": [{"file": r.file, "line": r.line, "reason": r.reason} for r in report.rejects],
        "notes": report.notes,
        "placement": vars(report.placement) if report.placement else None,
    }


def _print_import(
    directory: str, name: str, timezone: str, report: ImportReport, dry_run: bool
) -> None:
    suffix = " - dry run: nothing was written" if dry_run else ""
    print(f"City pack {directory} ({name}, {timezone}){suffix}")
    print(f"  {'file':<18} {'added':>7} {'updated':>8} {'unchanged':>10} {'rejected':>9}")
    for file, counts in report.files.items():
        print(
            f"  {file:<18} {counts.added:>7,} {counts.updated:>8,} {counts.unchanged:>10,} "
            f"{counts.rejected:>9,}"
        )
    for note in report.notes:
        print(f"  note: {note}")
    if report.rejects:
        print(f"Rejected ({len(report.rejects)}): file, line, reason")
        for reject in report.rejects:
            print(f"  {reject}")
    if report.placement is not None and not report.placement.checked:
        print("Boundaries changed; no stored report has a point to re-place yet.")
    elif report.placement is not None:
        placement = report.placement
        print(
            f"Boundaries changed: {placement.checked:,} stored reports with a point re-placed, "
            f"{placement.moved:,} moved, {placement.outside:,} outside every district."
        )
    elif not report.changed and not report.rejects:
        print("Nothing changed: the database already holds this pack.")


def _print_districts(frame: pd.DataFrame) -> None:
    placed = frame[~frame["code"].isin(("UNLOCATED", "OUTSIDE"))]
    total = int(frame["reports"].sum())
    print(f"Reports per district ({total:,} in all):")
    for row in placed.itertuples(index=False):
        if row.reports:
            print(f"  {row.code:<10} {row.name[:40]:<40} {row.reports:>9,}")
    empty = int((placed["reports"] == 0).sum())
    if empty:
        print(f"  ({empty} districts without reports)")
    for code, label in (("OUTSIDE", "outside every district"), ("UNLOCATED", "without a point")):
        count = int(frame.loc[frame["code"] == code, "reports"].sum())
        print(f"  {code:<10} {label:<40} {count:>9,}")


def cmd_city_districts(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    database = current_database(settings)
    try:
        with database.session(write=args.place) as session:
            if args.place:
                placement = place_reports(
                    session, Principal.system("city-districts"), settings.timezone
                )
                print(
                    f"Re-placed {placement.checked:,} reports with a point: "
                    f"{placement.moved:,} moved, {placement.outside:,} outside every district."
                )
            frame = district_report_counts(session)
    finally:
        database.dispose()
    if args.json:
        print(frame.drop(columns="population").to_json(orient="records"))
    else:
        _print_districts(frame)
    return 0


def cmd_city_export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    target = Path(args.directory)
    if (target / CITY_FILE).exists() and not args.force:
        raise CommandError(f"{target} already holds a {CITY_FILE}; use --force to overwrite.")
    database = current_database(settings)
    try:
        with database.session() as session:
            pack = export_pack(
                session, default_city=CitySpec(settings.city_name, settings.timezone)
            )
    finally:
        database.dispose()
    written = write_pack(target, pack)
    print(
        f"Wrote {pack.city.name} to {target}: {len(pack.districts)} districts, "
        f"{len(pack.departments)} departments, {len(pack.indicators)} indicators, "
        f"{len(pack.problems)} problems, {len(pack.actors)} actors, "
        f"{len(pack.categories)} categories with a department ({', '.join(written)})."
    )
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``city`` (import, export, districts) to ``commands``; nothing to ``bench``."""
    del bench
    city = commands.add_parser("city", help=COMMAND_HELP["city"]).add_subparsers(
        dest="city_command", required=True, metavar="ACTION"
    )

    load = city.add_parser(
        "import",
        help="import a city pack folder (idempotent; exit 1 when rows were rejected)",
    )
    load.add_argument("directory", metavar="DIR")
    load.add_argument(
        "--dry-run", action="store_true", help="report what would change; write nothing"
    )
    load.add_argument("--json", action="store_true", help="print the figures as JSON")
    load.set_defaults(func=cmd_city_import)

    dump = city.add_parser("export", help="write the stored catalogue as a city pack folder")
    dump.add_argument("directory", metavar="DIR")
    dump.add_argument("--force", action="store_true", help="overwrite a pack already there")
    dump.set_defaults(func=cmd_city_export)

    districts = city.add_parser(
        "districts", help="reports per district, outside every district and without a point"
    )
    districts.add_argument(
        "--place", action="store_true", help="first re-place stored reports by their points"
    )
    districts.add_argument("--json", action="store_true", help="print the table as JSON")
    districts.set_defaults(func=cmd_city_districts)
