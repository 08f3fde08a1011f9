"""``triage ingest open311|csv|indicators`` and ``triage bench ingest``: arguments and reports.

The runs themselves are in ``triage.jobs.ingest`` (the scheduler's poll job runs them too).
``register(commands, bench)`` adds the commands to the sub-parser collections of the main
parser; each command prints what was added, updated, unchanged and rejected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from db.catalog import stored_city
from db.indicators import indicator_catalogue
from db.session import Database
from triage.cli.bench_ingest import run_bench
from triage.cli.common import (
    COMMAND_HELP,
    CommandError,
    Progress,
    current_database,
    progress_bar,
    settings_from,
)
from triage.ingest import IngestError, IngestSummary, RejectsFile
from triage.ingest.indicators import DEFAULT_MAX_ROWS, IndicatorContext, read_indicator_file
from triage.ingest.open311_client import DEFAULT_RETRIES, DEFAULT_TIMEOUT, Open311Client
from triage.ingest.portal_csv import infer_layout, load_layout
from triage.jobs.ingest import (
    ingest_indicator_file,
    ingest_open311,
    ingest_portal_export,
    read_open311_services,
    resolve_open311_source,
)
from triage.settings import Settings

API_KEY_ENV = "TRIAGE_OPEN311_API_KEY"


def _rejects_path(args: argparse.Namespace, source: str) -> Path:
    if args.rejects:
        return Path(args.rejects)
    slug = re.sub(r"[^0-9A-Za-z._-]+", "-", source).strip("-") or "ingest"
    return Path.cwd() / f"{slug}.rejects.csv"


def _progress(args: argparse.Namespace) -> Progress | None:
    if args.no_progress or args.json:
        return None
    return progress_bar()


def _report(
    summary: IngestSummary, rejects: Path | None, as_json: bool, notes: list[str] | None = None
) -> int:
    """Print the run's figures and ``notes`` (values converted on the way in); 1 when nothing
    could be read, else 0."""
    nothing = summary.read == 0 if summary.kind != "open311" else False
    nothing = nothing or (summary.read > 0 and summary.accepted == 0 and summary.skipped == 0)
    if as_json:
        figures = {**summary.as_dict(), "rejects_file": str(rejects) if rejects else None}
        if notes:
            figures["notes"] = notes
        print(json.dumps(figures))
        return 1 if nothing else 0
    head = f"{summary.source} ({summary.kind}): {summary.read:,} records read"
    print(f"{head} in {summary.seconds:.1f}s")
    print(f"  added      {summary.added:>10,}")
    print(f"  updated    {summary.updated:>10,}")
    print(f"  unchanged  {summary.unchanged:>10,}")
    print(f"  rejected   {summary.rejected:>10,}")
    if summary.skipped:
        print(f"  skipped    {summary.skipped:>10,}  (committed by an interrupted earlier run)")
    for reason, count in summary.reasons.most_common(10):
        print(f"    {count:>8,}  {reason}")
        examples = list(dict.fromkeys(s.value for s in summary.samples if s.reason == reason))
        if any(examples):
            print(f"              e.g. {', '.join(repr(v) for v in examples[:3])}")
    if summary.rejected and rejects is not None:
        print(f"  rejected rows and reasons: {rejects}")
    placed = summary.placed
    if any(placed.values()):
        print(
            f"  districts: {placed.get('point', 0):,} placed by their point, "
            f"{placed.get('named', 0):,} by the district the source names, "
            f"{placed.get('outside', 0):,} outside every district (OUTSIDE), "
            f"{placed.get('unlocated', 0):,} without a point or district (UNLOCATED)"
        )
    if summary.new_categories:
        shown = ", ".join(summary.new_categories[:8])
        more = (
            f" and {len(summary.new_categories) - 8} more"
            if len(summary.new_categories) > 8
            else ""
        )
        print(f"  new categories to map to problems: {shown}{more}")
    for note in notes or ():
        print(f"  warning: {note}")
    if nothing:
        print("triage: nothing could be read from this input.", file=sys.stderr)
    return 1 if nothing else 0


def _failed(exc: Exception, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": str(exc)}))
    print(f"triage: {exc}", file=sys.stderr)
    return 1


def _parse_time(text: str | None, flag: str) -> dt.datetime | None:
    """An ISO date or date-time; zoned values are converted to naive UTC."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{flag} {text!r} is not an ISO date or date-time.") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def cmd_ingest_open311(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        client = Open311Client(
            args.url,
            fmt=args.format,
            jurisdiction_id=args.jurisdiction_id,
            api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
            timeout=args.timeout,
            retries=args.retries,
            page_limit=args.page_limit,
        )
    except IngestError as exc:
        raise CommandError(str(exc)) from None
    start = _parse_time(args.since, "--since")
    end = _parse_time(args.until, "--until")
    if end is not None and start is None:
        raise CommandError("--until needs --since (a backfill window).")
    if args.max_requests < 1:
        raise CommandError("--max-requests must be at least 1.")
    database = current_database(settings)
    rejects: Any = None
    try:
        source = args.source or resolve_open311_source(database, client)
        rejects = RejectsFile(_rejects_path(args, source), source)
        # The city's zone is the source's declared zone unless --timezone says otherwise.
        if args.services:
            summary = read_open311_services(
                database, client, source=source, source_tz=args.timezone, city_tz=settings.timezone
            )
        else:
            summary = ingest_open311(
                database,
                client,
                source=source,
                city_tz=settings.timezone,
                source_tz=args.timezone,
                start=start,
                end=end,
                window=dt.timedelta(hours=args.window_hours),
                max_requests=args.max_requests,
                progress=_progress(args),
                on_reject=rejects,
            )
    except IngestError as exc:
        return _failed(exc, args.json)
    finally:
        database.dispose()
    if args.services:
        return _report_open311_notes(summary, args.json, services_only=True)
    code = _report(summary, rejects.path if rejects.written else None, args.json)
    _report_open311_notes(summary, args.json)
    return code


def _report_open311_notes(
    summary: IngestSummary, as_json: bool, services_only: bool = False
) -> int:
    """What only an Open311 run has to say: requests made, records dropped, notes."""
    if as_json:
        if services_only:
            print(json.dumps(summary.as_dict()))
        return 0
    if services_only:
        print(f"{summary.source} (open311): service list read in {summary.seconds:.1f}s")
    else:
        capped = "  (the cap: the run stopped there)" if summary.capped else ""
        print(f"  requests   {summary.requests:>10,}{capped}")
        if summary.dropped:
            print(f"  dropped    {summary.dropped:>10,}  (cut off or malformed in the answers)")
    for note in summary.notes:
        print(f"  note: {note}")
    if services_only and summary.new_categories:
        print(f"  new categories to map to problems: {len(summary.new_categories)}")
    return 0


def cmd_ingest_csv(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"There is no file {path}.")
    if args.infer_layout:
        try:
            print(infer_layout(path, settings.timezone), end="")
        except IngestError as exc:
            return _failed(exc, False)
        return 0
    if not args.layout:
        raise CommandError(
            "Name the export's layout with --layout nyc|chicago|sf|boston|FILE.toml, "
            "or propose one with --infer-layout."
        )
    try:
        layout = load_layout(args.layout)
    except IngestError as exc:
        raise CommandError(str(exc)) from None
    database = current_database(settings)
    source = (args.source or layout.source or layout.name)[:64]
    rejects = RejectsFile(_rejects_path(args, source), source)
    try:
        summary = ingest_portal_export(
            database,
            path,
            layout,
            source=source,
            city_tz=settings.timezone,
            chunk_rows=args.chunk_rows,
            max_rows=args.max_rows,
            progress=_progress(args),
            on_reject=rejects,
        )
    except IngestError as exc:
        return _failed(exc, args.json)
    finally:
        database.dispose()
    return _report(summary, rejects.path if rejects.written else None, args.json)


def _indicator_context(
    database: Database, settings: Settings, layout: str | None
) -> IndicatorContext:
    """The city's indicators and fiscal year start (a city pack's, else the setting's)."""
    with database.session() as session:
        catalogue = indicator_catalogue(session)
        city = stored_city(session) or {}
    start = int(city.get("fiscal_year_start") or settings.fiscal_year_start)
    return IndicatorContext(layout=layout, fiscal_year_start=start, catalogue=catalogue)


def cmd_ingest_indicators(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"There is no file {path}.")
    database = current_database(settings)
    source = (args.source or f"indicators:{path.stem}")[:64]
    rejects = RejectsFile(_rejects_path(args, source), source)
    try:
        context = _indicator_context(database, settings, args.layout)
        # Read once more only to learn what was converted; the import reads the file itself.
        preview, _rejected = read_indicator_file(
            path, layout=context, max_rows=args.max_rows or DEFAULT_MAX_ROWS
        )
        summary = ingest_indicator_file(
            database,
            path,
            layout=context,
            source=source,
            max_rows=args.max_rows,
            on_reject=rejects,
            today=settings.today(),
        )
    except IngestError as exc:
        return _failed(exc, args.json)
    finally:
        database.dispose()
    notes = list(preview.attrs.get("notes", []))
    return _report(summary, rejects.path if rejects.written else None, args.json, notes)


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    return run_bench(args)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="data source name (the unique key's first half)")
    parser.add_argument("--rejects", metavar="FILE", help="CSV of rejected rows (appended)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def register(commands: Any, bench: Any) -> None:
    """Add ``ingest`` (open311, csv, indicators) to ``commands`` and ``ingest`` to ``bench``."""
    ingest = commands.add_parser("ingest", help=COMMAND_HELP["ingest"])
    sources = ingest.add_subparsers(dest="ingest_command", required=True, metavar="SOURCE")

    o311 = sources.add_parser("open311", help="poll or backfill an Open311 GeoReport v2 endpoint")
    o311.add_argument("url", help="endpoint base URL, e.g. https://city.example/open311/v2")
    o311.add_argument("--format", choices=("json", "xml"), default="json")
    o311.add_argument("--jurisdiction-id")
    o311.add_argument("--api-key", help=f"API key (better: set ${API_KEY_ENV})")
    o311.add_argument("--since", help="backfill requests made from this ISO date (UTC)")
    o311.add_argument("--until", help="end of the backfill (default: now)")
    o311.add_argument("--window-hours", type=float, default=24.0, help="date window (24)")
    o311.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a request may take in all, connecting to last byte ({DEFAULT_TIMEOUT:g}); "
        "kept with the source for the scheduled poll",
    )
    o311.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        help=f"retries on 5xx/timeouts ({DEFAULT_RETRIES}); kept with the source like --timeout",
    )
    o311.add_argument("--page-limit", type=int, default=1000, help="server's result cap (1000)")
    o311.add_argument(
        "--timezone",
        "--source-tz",
        dest="timezone",
        metavar="ZONE",
        help="the source's zone for times given without one, e.g. America/Chicago "
        "(kept with the source; default: its declared zone, else the city's TRIAGE_TIMEZONE)",
    )
    o311.add_argument(
        "--services",
        action="store_true",
        help="read the service list (services.json|xml) into report categories and stop",
    )
    o311.add_argument(
        "--max-requests",
        type=int,
        default=200,
        help="most HTTP requests in one run (200); the next run goes on from the cursor",
    )
    _common(o311)
    o311.set_defaults(func=cmd_ingest_open311)

    portal = sources.add_parser("csv", help="a portal export (CSV or Socrata JSON array)")
    portal.add_argument("file")
    portal.add_argument(
        "--layout",
        metavar="nyc|chicago|sf|boston|FILE.toml",
        help="column layout of the export (file format: docs/layouts.md)",
    )
    portal.add_argument(
        "--infer-layout",
        action="store_true",
        help="print a proposed layout TOML from the header and first rows; writes nothing",
    )
    portal.add_argument("--chunk-rows", type=int, default=50_000, help="rows per transaction")
    portal.add_argument("--max-rows", type=int, help="refuse files with more records")
    _common(portal)
    portal.set_defaults(func=cmd_ingest_csv)

    indicators = sources.add_parser("indicators", help="an indicator file (CSV or XLSX)")
    indicators.add_argument("file")
    indicators.add_argument(
        "--layout", metavar="generic|cityscore|FILE.toml", help="columns (default: detected)"
    )
    indicators.add_argument("--max-rows", type=int, help="refuse files with more rows (100,000)")
    _common(indicators)
    indicators.set_defaults(func=cmd_ingest_indicators)

    bench_ingest = bench.add_parser(
        "ingest", help="reports/s and peak memory of a generated export vs the raw floor"
    )
    bench_ingest.add_argument("--rows", type=int, default=3_000_000)
    bench_ingest.add_argument(
        "--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql"
    )
    bench_ingest.add_argument(
        "--pg-url",
        help="PostgreSQL server for scratch databases "
        "(default: $TRIAGE_BENCH_PG_URL, else postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    bench_ingest.add_argument("--workdir", help="where the generated export is kept")
    bench_ingest.add_argument("--seed", type=int, default=7)
    bench_ingest.add_argument("--chunk-rows", type=int, default=50_000)
    bench_ingest.add_argument(
        "--no-flat-check",
        action="store_true",
        help="skip the run on a tenth of the rows that shows memory is flat in file size",
    )
    bench_ingest.add_argument(
        "--json", action="store_true", help="figures as JSON on the last line"
    )
    bench_ingest.set_defaults(func=cmd_bench_ingest)
