"""``triage init|demo|serve``: the schema, the demo city and the web server."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from db import migrate
from db.seed import DemoCityExists, seed_demo_city
from triage.cli.common import (
    COMMAND_HELP,
    CommandError,
    display_url,
    open_database,
    progress_bar,
    settings_from,
)
from triage.jobs.demo_history import store_demo_history
from triage.jobs.scheduler import SchedulerProcess
from triage.settings import SettingsError


def cmd_init(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    migrate.upgrade(settings.database_url)
    print(f"Schema is at revision {migrate.head_revision()} in {display_url(settings)}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    migrate.upgrade(settings.database_url)
    database = open_database(settings)
    started = time.monotonic()
    try:
        summary = seed_demo_city(
            database,
            seed=args.seed,
            scale=args.scale,
            today=settings.today(),
            replace=args.replace,
            progress=progress_bar(),
        )
        seeded = time.monotonic() - started
        print("Storing past weekly rankings and running the early-warning detector...")
        history = store_demo_history(database, summary.today)
    except DemoCityExists as exc:
        raise CommandError(f"{exc} Run again with --replace to start over.") from None
    finally:
        database.dispose()
    elapsed = time.monotonic() - started
    print(f"Seeded the demo city ({args.scale}, seed {args.seed}) in {seeded:.1f}s:")
    for table, count in summary.counts.items():
        print(f"  {table:<28} {count:>10,}")
    print(
        f"History: rankings for {history.weeks[0]} to {history.weeks[-1]}, "
        f"{history.alerts.get('inserted', 0)} open alerts ({elapsed:.1f}s in all)."
    )
    _print_sign_ins(summary.sign_ins)
    return 0


def _print_sign_ins(sign_ins: Sequence[tuple[str, str, str]]) -> None:
    print("\nDemo sign-ins (username / password / role):")
    for username, password, role in sign_ins:
        print(f"  {username:<14} {password:<28} {role}")


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        settings = settings.validated()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    if not migrate.is_current(settings.database_url):
        raise CommandError(
            f"The database {display_url(settings)} is not at the current schema; "
            "run `triage init` (or `triage demo`) first."
        )
    # The web stack (Dash, Plotly, the pages) is imported only by the command that serves it.
    from waitress import serve

    import app as composition_root

    dash_app = composition_root.create_app(settings)
    if args.scheduler:
        SchedulerProcess(settings).start_in_thread()
        print("Scheduler running in this process (single-process mode).")
    print(f"Triage for {settings.city_name} on http://{args.host}:{args.port} (Ctrl+C stops)")
    serve(dash_app.server, host=args.host, port=args.port, threads=args.threads, ident="triage")
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``init``, ``demo`` and ``serve`` to ``commands`` (nothing to ``bench``)."""
    del bench
    init = commands.add_parser("init", help=COMMAND_HELP["init"])
    init.set_defaults(func=cmd_init)

    demo = commands.add_parser("demo", help=COMMAND_HELP["demo"])
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--scale", choices=("small", "city", "large"), default="city")
    demo.add_argument("--replace", action="store_true", help="delete existing data first")
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help=COMMAND_HELP["serve"])
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument(
        "--scheduler",
        action="store_true",
        help="also run the job scheduler in this process (single-process deployments only)",
    )
    serve.set_defaults(func=cmd_serve)
