"""Crash safety: ``kill -9`` a real ``triage ingest csv`` process 20 times mid-run, then finish,
on SQLite and on PostgreSQL; nothing is lost or duplicated, the aggregates add up, runs resume."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, func, select, text

from db import migrate
from db.ingest import report_counts_consistent
from db.models import Base, CitizenReport
from db.session import Database, normalise_url
from triage.settings import REPO_ROOT

KILLS = 20
ROWS = 6000
CHUNK = 20
CITY_TZ = "America/New_York"
HEADER = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Complaint Type",
    "Status",
    "Resolution Action Updated Date",
    "Community Board",
    "Latitude",
    "Longitude",
]


def _cli_module() -> str:
    """The command line's module, which has ``ingest`` (checked here)."""
    from triage import cli

    parser = cli.build_parser()
    assert any("ingest" in (getattr(a, "choices", None) or ()) for a in parser._actions)
    return "triage.cli"


def _export(path: Path) -> tuple[dict[str, tuple[str, str]], int]:
    """Rows with repeats (later versions of earlier keys) and a few bad rows.

    Returns the newest (category, update time) per valid key and the number of bad rows.
    """
    rng = random.Random(5)
    newest: dict[str, tuple[str, str]] = {}
    bad = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(ROWS):
            key = str(100_000 + (rng.randrange(i) if i > 100 and rng.random() < 0.1 else i))
            day = 1 + i * 27 // ROWS
            created = (
                f"02/{day:02d}/2024 {1 + i % 12:02d}:{i % 60:02d}:00 {'AM' if i % 2 else 'PM'}"
            )
            updated = f"03/{1 + i * 27 // ROWS:02d}/2024 0{1 + i % 9}:00:00 AM"
            category = rng.choice(["Noise", "Rodents", "Graffiti", "Heat"])
            if rng.random() < 0.01:
                created, bad = "not a date", bad + 1
            elif key not in newest or updated > newest[key][1]:
                newest[key] = (category, updated)
            lat, lon = (f"{rng.uniform(40.70, 40.87):.6f}", f"{rng.uniform(-74.02, -73.93):.6f}")
            writer.writerow([key, created, "", category, "Open", updated, "", lat, lon])
    return newest, bad


CURSOR_QUERY = "SELECT cursor FROM data_sources WHERE name = 'crash'"


def _sqlite_cursor(db_file: Path) -> Callable[[], str | None]:
    def cursor() -> str | None:
        try:
            connection = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
            try:
                row = connection.execute(CURSOR_QUERY).fetchone()
            finally:
                connection.close()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    return cursor


def test_crash001_twenty_kill_9_then_finish_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    db_file = tmp_path / "crash.sqlite3"
    url = f"sqlite:///{db_file}"
    migrate.upgrade(url)
    _kill_and_finish(url, _sqlite_cursor(db_file), tmp_path)


def _empty(url: str) -> None:
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    finally:
        database.dispose()


@pytest.fixture
def pg_crash_url(pg_url: str) -> Iterator[str]:
    """The session's PostgreSQL database, migrated and empty before and after the test."""
    migrate.upgrade(pg_url)
    _empty(pg_url)
    try:
        yield pg_url
    finally:
        _empty(pg_url)


@pytest.mark.postgres
def test_crash002_twenty_kill_9_on_postgresql(pg_crash_url: str, tmp_path: Path) -> None:
    """The same on PostgreSQL: a killed client's transaction is rolled back by the server."""
    engine = create_engine(normalise_url(pg_crash_url), isolation_level="AUTOCOMMIT")
    watcher: list[Connection] = []

    def cursor() -> str | None:
        try:
            if not watcher:
                watcher.append(engine.connect())
            row = watcher[0].execute(text(CURSOR_QUERY)).first()
        except Exception:  # the server is busy or restarting: "no committed batch yet"
            watcher.clear()
            return None
        return row[0] if row else None

    try:
        _kill_and_finish(pg_crash_url, cursor, tmp_path)
    finally:
        for connection in watcher:
            connection.close()
        engine.dispose()


def _kill_and_finish(url: str, cursor: Callable[[], str | None], tmp_path: Path) -> None:
    """Kill the ingest 20 times, each time after it committed a batch, then let it finish."""
    export = tmp_path / "export.csv"
    newest, bad = _export(export)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TRIAGE_TIMEZONE"] = CITY_TZ
    command = [
        sys.executable,
        "-m",
        _cli_module(),
        "--db",
        url,
        "ingest",
        "csv",
        str(export),
        "--layout",
        "nyc",
        "--source",
        "crash",
        "--chunk-rows",
        str(CHUNK),
        "--no-progress",
        "--rejects",
        str(tmp_path / "rejects.csv"),
        "--json",
    ]
    rng = random.Random(9)
    kills = 0
    started = time.monotonic()
    stored_before = 0
    while kills < KILLS:
        assert time.monotonic() - started < 480, "the kill loop hangs"
        before = cursor()
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # Wait until this run has committed a batch, then kill at a random moment after it.
        deadline = time.monotonic() + 30
        while cursor() == before and process.poll() is None:
            assert time.monotonic() < deadline, "the ingest never committed a batch"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.25))
        if process.poll() is not None:
            process.communicate()
            pytest.fail("the file was fully ingested before 20 kills: make it bigger")
        process.send_signal(signal.SIGKILL)
        process.communicate()
        kills += 1
        database = Database(url)
        with database.session() as session:
            stored = session.scalar(select(func.count()).select_from(CitizenReport)) or 0
            distinct = session.scalar(
                select(func.count(func.distinct(CitizenReport.service_request_id)))
            )
        database.dispose()
        assert stored == distinct, "a kill left a duplicate"
        assert stored >= stored_before, "a kill lost committed rows"
        stored_before = stored
    finish = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert finish.returncode == 0, finish.stderr
    summary = json.loads(finish.stdout.strip().splitlines()[-1])
    assert summary["skipped"] > 0, "the last run resumed from its cursor"
    assert summary["cursor"].endswith(f":{ROWS}:done")
    database = Database(url)
    with database.session() as session:
        rows = session.execute(
            select(
                CitizenReport.service_request_id,
                CitizenReport.raw_category,
                CitizenReport.updated_at,
            )
        ).all()
        consistent = report_counts_consistent(session, CITY_TZ)
    database.dispose()
    stored = {srid: category for srid, category, _ in rows}
    lost = set(newest) - set(stored)
    duplicated = len(rows) - len(stored)
    assert (len(lost), duplicated) == (0, 0)
    wrong = [k for k, (category, _) in newest.items() if stored[k] != category]
    assert wrong == [], "each report holds its newest version"
    assert consistent.empty, consistent.head().to_string()
    with (tmp_path / "rejects.csv").open() as handle:
        rejected_rows = {int(r["row"]) for r in csv.DictReader(handle)}
    assert len(rejected_rows) == bad, "every bad row is in the rejects file (perhaps twice)"
    print(
        f"{url.split(':', 1)[0]}: kills={kills} lost={len(lost)} duplicated={duplicated} "
        f"stored={len(stored)} bad={bad} seconds={time.monotonic() - started:.1f}"
    )
