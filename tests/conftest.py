"""Shared fixtures: databases on SQLite and, when one answers, on a throwaway PostgreSQL database.

``TRIAGE_TEST_DATABASE_URL`` names a PostgreSQL server to use (default: 127.0.0.1:5432/test when
it answers). With ``TRIAGE_REQUIRE_POSTGRES=1`` (set by CI) a missing server fails the run
instead of skipping the PostgreSQL tests.
"""

from __future__ import annotations

import os
import select
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import migrate
from db.models import Base
from db.session import Database, normalise_url
from tests.clock import TODAY


def _sleep_by_select(seconds: float) -> None:
    """``time.sleep`` without ``clock_nanosleep``: a select() with no descriptors, for faketime."""
    select.select([], [], [], seconds)


# CI's second pass runs under libfaketime with the monotonic clock left real (faking it hangs
# threading's timed waits). libfaketime 0.9.10 then fails every time.sleep with EINVAL (Python
# sleeps with clock_nanosleep to an absolute monotonic deadline), among them the polling of
# subprocess's wait(timeout): tests that wait for a child failed at random. select() takes a
# relative timeout, and libfaketime leaves it working.
if "faketime" in os.environ.get("LD_PRELOAD", "") and os.environ.get(
    "FAKETIME_DONT_FAKE_MONOTONIC"
):
    time.sleep = _sleep_by_select

# Jobs and commands read Settings.from_env(): pin their today too (and a child process's).
os.environ["TRIAGE_TODAY"] = TODAY.isoformat()

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
_pg_status: dict[str, str] = {}


def _admin_url() -> str:
    return normalise_url(os.environ.get("TRIAGE_TEST_DATABASE_URL") or DEFAULT_PG_URL)


def _postgres_unavailable_reason() -> str | None:
    if "reason" in _pg_status:
        return _pg_status["reason"] or None
    url = _admin_url()
    reason = ""
    if make_url(url).get_backend_name() != "postgresql":
        reason = f"TRIAGE_TEST_DATABASE_URL is not a PostgreSQL URL ({make_url(url).drivername})"
    else:
        try:
            engine = create_engine(url, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # any connection failure means "not available"
            reason = f"no PostgreSQL at {make_url(url).render_as_string()}: {type(exc).__name__}"
    _pg_status["reason"] = reason
    return reason or None


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session, dropped at the end."""
    reason = _postgres_unavailable_reason()
    if reason:
        if os.environ.get("TRIAGE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here (TRIAGE_REQUIRE_POSTGRES=1) but {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    scope="session",
)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database URL for each backend (schema built by Alembic, once per session)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'triage.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
def database(backend_url: str) -> Iterator[Database]:
    """A ``Database`` on an empty, migrated schema; every table is emptied after the test."""
    db = Database(backend_url)
    try:
        yield db
    finally:
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
        db.dispose()


def pytest_report_header(config: pytest.Config) -> str:
    reason = _postgres_unavailable_reason()
    return "postgresql: " + (f"SKIPPED ({reason})" if reason else _admin_url())


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    reason = _pg_status.get("reason")
    if reason:
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL tests were SKIPPED: {reason}. "
            "Set TRIAGE_TEST_DATABASE_URL to run them.",
            yellow=True,
            bold=True,
        )
