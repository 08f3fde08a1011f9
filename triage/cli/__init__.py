"""The ``triage`` command line: one module per command group, the parser and ``main`` here.

Each command module imports what it needs at its top and has ``register(commands, bench)``,
which adds its commands to the top-level sub-parsers and its benchmarks (if any) to ``triage
bench``; the helpers they share live in ``triage.cli.common``. ``main`` imports only the
modules of the command asked for (``triage --help`` lists every command from
``COMMAND_HELP`` without importing them). ``python -m triage.cli`` runs ``main`` through
``__main__``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence
from types import ModuleType

from triage.cli.common import COMMAND_HELP, CommandError

__all__ = ["COMMAND_HELP", "CommandError", "build_parser", "main"]

# The modules (in triage.cli) that register each top-level command; ``bench`` gathers the
# benchmarks that several of them register.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "init": ("core",),
    "demo": ("core",),
    "serve": ("core",),
    "scheduler": ("jobs",),
    "jobs": ("jobs",),
    "bench": ("ingest", "detect", "bench_ui", "bench_score", "bench_load", "bench_browser"),
    "brief": ("brief",),
    "ingest": ("ingest",),
    "detect": ("detect",),
    "city": ("city",),
    "rank": ("rank",),
    "user": ("users",),
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"triage.cli.{name}")


def build_parser(commands_wanted: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``triage`` parser; the commands in ``commands_wanted`` (default: all) are complete,
    the others are listed by name and help only, so their modules are not imported."""
    parser = argparse.ArgumentParser(
        prog="triage", description="Triage: weekly priorities for a city's public problems."
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $TRIAGE_DATABASE_URL, else instance/triage.sqlite3)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = COMMAND_MODULES if commands_wanted is None else commands_wanted
    modules = {m for command in wanted for m in COMMAND_MODULES.get(command, ())}
    registered: set[str] = set()
    bench = None
    for command, help_text in COMMAND_HELP.items():
        if command == "bench":
            bench = commands.add_parser(command, help=help_text).add_subparsers(
                dest="bench_command", required=True, metavar="BENCHMARK"
            )
        for name in COMMAND_MODULES[command]:
            if name in modules and name not in registered:
                _module(name).register(commands, bench)
                registered.add(name)
        if command not in commands.choices:
            commands.add_parser(command, help=help_text)
    return parser


def _command_asked(argv: Sequence[str]) -> str | None:
    """The top-level command in ``argv`` (None for ``--help`` or none at all)."""
    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--db")
    first.add_argument("command", nargs="?")
    try:
        known, _ = first.parse_known_args(argv)
    except SystemExit:  # e.g. ``--db`` without its URL: the full parser says what is wrong
        return None
    return known.command


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_asked(argv)
    parser = build_parser((command,) if command else ())
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
