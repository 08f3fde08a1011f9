"""The settings a process runs with, completed by the city pack its database holds."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from db.catalog import stored_city
from db.session import Database
from triage.settings import Settings


def adopt_stored_city(settings: Settings, database: Database | None = None) -> Settings:
    """``settings`` with the stored city's name, time zone and fiscal year wherever the
    environment left them unset (``Settings.adopt_city``). A database without a schema yet, or
    without a city, leaves them as they are."""
    own = database is None
    if own and _missing_sqlite_file(settings.database_url):
        return settings  # nothing stored yet, and reading must not create the file
    database = database or Database(settings.database_url)
    try:
        with database.session() as session:
            stored = stored_city(session)
    except SQLAlchemyError:
        stored = None
    finally:
        if own:
            database.dispose()
    return settings.adopt_city(stored)


def _missing_sqlite_file(url: str) -> bool:
    """A SQLite URL whose file does not exist (in-memory databases count as present)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()
