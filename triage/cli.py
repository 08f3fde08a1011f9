"""The ``triage`` command line: schema, demo city, users and the web server."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from triage.settings import Settings, SettingsError

if TYPE_CHECKING:
    from db.session import Database


class CommandError(Exception):
    """A command could not do what was asked; the message is printed, exit status 2."""


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    return Settings.from_env(database_url=args.db, **overrides)


def _database(settings: Settings) -> Database:
    from db.session import Database

    return Database(settings.database_url)


def _progress(stream=sys.stderr) -> Callable[[str, float], None]:
    """A one-line progress bar on a terminal, plain lines otherwise."""
    last = {"stage": "", "shown": -1.0}
    started = time.monotonic()

    def report(stage: str, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        if stage == last["stage"] and fraction - last["shown"] < 0.02 and fraction < 1.0:
            return
        last["stage"], last["shown"] = stage, fraction
        elapsed = time.monotonic() - started
        bar = "#" * int(fraction * 30)
        line = f"{stage:<28} [{bar:<30}] {fraction:4.0%}  {elapsed:6.1f}s"
        if stream.isatty():
            stream.write("\r" + line + ("\n" if fraction >= 1.0 else ""))
        elif fraction >= 1.0 or fraction == 0.0:
            stream.write(line + "\n")
        stream.flush()

    return report


def cmd_init(args: argparse.Namespace) -> int:
    from db import migrate

    settings = _settings(args)
    migrate.upgrade(settings.database_url)
    print(f"Schema is at revision {migrate.head_revision()} in {_display_url(settings)}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from db import migrate
    from db.seed import DemoCityExists, seed_demo_city
    from triage.demo_history import store_demo_history

    settings = _settings(args)
    migrate.upgrade(settings.database_url)
    database = _database(settings)
    started = time.monotonic()
    try:
        summary = seed_demo_city(
            database,
            seed=args.seed,
            scale=args.scale,
            today=settings.today(),
            replace=args.replace,
            progress=_progress(),
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
    from db import migrate

    settings = _settings(args)
    try:
        settings = settings.validated()
    except SettingsError as exc:
        raise CommandError(str(exc)) from None
    if not migrate.is_current(settings.database_url):
        raise CommandError(
            f"The database {_display_url(settings)} is not at the current schema; "
            "run `triage init` (or `triage demo`) first."
        )
    from waitress import serve

    import app as composition_root

    dash_app = composition_root.create_app(settings)
    if args.scheduler:
        from triage.scheduler import SchedulerProcess

        SchedulerProcess(settings).start_in_thread()
        print("Scheduler running in this process (single-process mode).")
    print(f"Triage for {settings.city_name} on http://{args.host}:{args.port} (Ctrl+C stops)")
    serve(dash_app.server, host=args.host, port=args.port, threads=args.threads, ident="triage")
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    import logging

    from db import migrate
    from triage.scheduler import SchedulerProcess, job_specs, wait_forever

    settings = _settings(args)
    if not migrate.is_current(settings.database_url):
        raise CommandError("The database is not at the current schema; run `triage init` first.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    print(f"Scheduler for {_display_url(settings)} ({settings.timezone}); jobs:", flush=True)
    for spec in job_specs():
        print(f"  {spec.job_id:<18} {spec.description}", flush=True)
    wait_forever(SchedulerProcess(settings))
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    import json

    from triage.export import safe_csv
    from triage.jobs import rank_week
    from triage.scoring import ranking_table, week_end

    settings = _settings(args)
    if args.week:
        try:
            week_end(args.week)
        except ValueError:
            raise CommandError(f"--week {args.week!r} is not an ISO week like 2026-W47.") from None
    database = _database(settings)
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


MOVEMENT_MARKS = {"up": "▲", "down": "▼", "same": "=", "new": "new"}


def _print_ranking(week: str, previous: str | None, table, top: int | None) -> None:
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


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new user's password and whether it was generated (and so must be printed)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if args.generate_password:
        return secrets.token_urlsafe(18), True
    if not sys.stdin.isatty():
        raise CommandError(
            "No terminal to ask for a password: use --password-stdin or --generate-password."
        )
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandError("The two passwords differ; nothing was changed.")
    return first, False


def cmd_user_add(args: argparse.Namespace) -> int:
    from db.accounts import AccountError, create_user
    from triage.security import Principal

    password, generated = _read_password(args)
    database = _database(_settings(args))
    try:
        with database.session(write=True) as session:
            user_id = create_user(
                session,
                Principal.system("cli"),
                args.name,
                args.role,
                password,
                display_name=args.display_name,
                department_code=args.department,
            )
    except AccountError as exc:
        raise CommandError(f"{exc} Nothing was changed.") from None
    finally:
        database.dispose()
    print(f"Created user {args.name.lower()!r} (id {user_id}, role {args.role}).")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from db.accounts import AccountError, find_user_id, set_user_active
    from triage.security import Principal

    database = _database(_settings(args))
    try:
        with database.session(write=True) as session:
            set_user_active(
                session, Principal.system("cli"), find_user_id(session, args.name), active
            )
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    finally:
        database.dispose()
    state = "enabled" if active else "disabled; their open sessions have ended"
    print(f"User {args.name.lower()!r} is {state}.")
    return 0


def cmd_user_set_password(args: argparse.Namespace) -> int:
    from db.accounts import AccountError, find_user_id, set_password
    from triage.security import Principal

    password, generated = _read_password(args)
    database = _database(_settings(args))
    try:
        with database.session(write=True) as session:
            set_password(
                session, Principal.system("cli"), find_user_id(session, args.name), password
            )
    except AccountError as exc:
        raise CommandError(f"{exc} Nothing was changed.") from None
    finally:
        database.dispose()
    print(f"Set a new password for {args.name.lower()!r}; their open sessions have ended.")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_user_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_user_list(args: argparse.Namespace) -> int:
    from db.accounts import list_users

    database = _database(_settings(args))
    try:
        with database.session() as session:
            users = list_users(session)
    finally:
        database.dispose()
    if users.empty:
        print("No users yet: add one with `triage user add NAME --role ROLE`.")
        return 0
    for row in users.itertuples():
        state = "active" if row.active else "disabled"
        dept = row.department_code or "-"
        print(f"{row.username:<20} {row.role:<16} {dept:<6} {state}")
    return 0


def _display_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def _command_registrars() -> list[Callable[[Any, Any], None]]:
    """Command groups that live beside their subject (ingestion, detection, UI benchmark)."""
    from triage import brief_cli, city_cli, detect_cli, ingest_cli
    from triage.bench import load, scoring, ui

    return [
        brief_cli.register,
        ingest_cli.register,
        detect_cli.register,
        city_cli.register,
        ui.register,
        scoring.register,
        load.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    from triage.security import Role

    parser = argparse.ArgumentParser(
        prog="triage", description="Triage: weekly priorities for a city's public problems."
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $TRIAGE_DATABASE_URL, else instance/triage.sqlite3)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or upgrade the database schema")
    init.set_defaults(func=cmd_init)

    demo = commands.add_parser("demo", help="seed the demo city (deterministic for a seed)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--scale", choices=("small", "city", "large"), default="city")
    demo.add_argument("--replace", action="store_true", help="delete existing data first")
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8050)
    serve.add_argument("--threads", type=int, default=8)
    serve.add_argument(
        "--scheduler",
        action="store_true",
        help="also run the job scheduler in this process (single-process deployments only)",
    )
    serve.set_defaults(func=cmd_serve)

    scheduler = commands.add_parser(
        "scheduler", help="run the job scheduler (exactly one per deployment; a lease enforces it)"
    )
    scheduler.set_defaults(func=cmd_scheduler)

    bench = commands.add_parser(
        "bench", help="benchmarks that print figures (--json: one JSON object on the last line)"
    ).add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    for register in _command_registrars():
        register(commands, bench)

    rank = commands.add_parser("rank", help="score every problem for an ISO week and print it")
    rank.add_argument("--week", metavar="YYYY-Www", help="ISO week (default: this week)")
    rank.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rank.add_argument("--top", type=int, help="print only the first N (table format)")
    rank.add_argument("--dry-run", action="store_true", help="do not store the week's snapshot")
    rank.set_defaults(func=cmd_rank)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--department", metavar="CODE", help="department code (department heads)")
    add.add_argument("--display-name")
    source = add.add_mutually_exclusive_group()
    source.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    source.add_argument(
        "--generate-password", action="store_true", help="generate a password and print it once"
    )
    add.set_defaults(func=cmd_user_add)
    reset = user.add_parser(
        "set-password", help="give a user a new password (ends all of their sessions)"
    )
    reset.add_argument("name")
    given = reset.add_mutually_exclusive_group()
    given.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    given.add_argument(
        "--generate-password", action="store_true", help="generate one and print it once"
    )
    reset.set_defaults(func=cmd_user_set_password)
    for name, func, text in (
        ("disable", cmd_user_disable, "disable a user (ends their sessions)"),
        ("enable", cmd_user_enable, "enable a disabled user"),
    ):
        sub = user.add_parser(name, help=text)
        sub.add_argument("name")
        sub.set_defaults(func=func)
    user.add_parser("list", help="list users").set_defaults(func=cmd_user_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
