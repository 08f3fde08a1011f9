"""What every command group shares: the error that ends a command, settings, database, progress.

Defined once here so that the command modules import it from below and never from each other
(``triage.cli`` imports the command modules to build its parser).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TextIO

from sqlalchemy.engine import make_url

from db import migrate
from db.city_settings import adopt_stored_city
from db.session import Database
from triage.settings import Settings

# Every top-level command with its one-line help, in the order ``triage --help`` lists them
# (``triage.cli`` lists them without importing the modules of the commands not asked for).
COMMAND_HELP = {
    "init": "create or upgrade the database schema",
    "demo": "seed the demo city (deterministic for a seed)",
    "serve": "run the web app",
    "scheduler": "run the job scheduler (exactly one per deployment; a lease enforces it)",
    "jobs": "list the scheduled jobs, or run one now",
    "bench": "benchmarks that print figures (--json: one JSON object on the last line)",
    "brief": "the weekly brief: what needs the mayor, and the short list",
    "ingest": "bring 311 reports and indicator files in",
    "detect": "find surges in count series from a CSV file",
    "city": "load or write a city pack (districts, departments, indicators, problems)",
    "rank": "score every problem for an ISO week and print it",
    "user": "manage users",
}


class CommandError(Exception):
    """A command could not do what was asked; the message is printed, exit status 2."""


Progress = Callable[[str, float], None]


def settings_from(args: argparse.Namespace, **overrides: object) -> Settings:
    """The settings from the environment, with ``--db`` (when given) as the database, and the
    city's name, time zone and fiscal year from its stored pack where the environment is silent
    (so `triage ingest` reads a Chicago export's local times in Chicago's zone)."""
    return adopt_stored_city(Settings.from_env(database_url=args.db, **overrides))


def open_database(settings: Settings) -> Database:
    """The settings' database, as it is (for commands that create or upgrade the schema)."""
    return Database(settings.database_url)


def ensure_current(settings: Settings) -> None:
    """``CommandError`` unless the settings' database has the current schema."""
    if not migrate.is_current(settings.database_url):
        raise CommandError("The database is not at the current schema; run `triage init` first.")


def current_database(settings: Settings) -> Database:
    """The settings' database; ``CommandError`` unless its schema is the current one."""
    ensure_current(settings)
    return Database(settings.database_url)


def display_url(settings: Settings) -> str:
    """The database URL with any password hidden, for messages."""
    return make_url(settings.database_url).render_as_string(hide_password=True)


def progress_bar(stream: TextIO = sys.stderr) -> Progress:
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
