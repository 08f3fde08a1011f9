"""Ingest benchmark: a generated NYC-layout portal export through ``ingest_portal_export``,
side by side with the raw floor (sqlite3 ``executemany`` in one transaction; PostgreSQL ``COPY``)
of the same rows into the same table, each measured in its own process for rate and peak memory.

Each phase process (``python -m triage.cli.bench_ingest PHASE ...``) imports only what its
phase runs, inside the phase's function, so that the floor's peak memory is the floor's own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from triage.bench.memory import peak_rss_mb, reset_peak_rss
from triage.settings import REPO_ROOT

NYC_HEADER = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Agency",
    "Agency Name",
    "Complaint Type",
    "Descriptor",
    "Location Type",
    "Incident Zip",
    "Incident Address",
    "Street Name",
    "Cross Street 1",
    "Cross Street 2",
    "Intersection Street 1",
    "Intersection Street 2",
    "Address Type",
    "City",
    "Landmark",
    "Facility Type",
    "Status",
    "Due Date",
    "Resolution Description",
    "Resolution Action Updated Date",
    "Community Board",
    "BBL",
    "Borough",
    "X Coordinate (State Plane)",
    "Y Coordinate (State Plane)",
    "Open Data Channel Type",
    "Park Facility Name",
    "Park Borough",
    "Vehicle Type",
    "Taxi Company Borough",
    "Taxi Pick Up Location",
    "Bridge Highway Name",
    "Bridge Highway Direction",
    "Road Ramp",
    "Bridge Highway Segment",
    "Latitude",
    "Longitude",
    "Location",
]
GENERATE_BLOCK = 100_000
CITY_TZ = "America/New_York"
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
FLOOR_BATCH = 50_000


def generate_export(path: Path, rows: int, seed: int = 7) -> Path:
    """Write an NYC-layout 311 export of ``rows`` records (41 columns, like the portal's).

    Locations: 60% inside Manhattan (the demo city's districts), 30% elsewhere, 10% missing;
    200 complaint types (a few common, many rare); 85% closed; unique keys, as in a portal
    export.
    """
    rng = np.random.default_rng(seed)
    types = np.array([f"Complaint type {i:03d}" for i in range(200)], dtype=object)
    statuses = np.array(["Closed", "Open", "In Progress", "Assigned", "Pending"], dtype=object)
    boards = np.array(
        [f"{i:02d} MANHATTAN" for i in range(1, 13)] + ["0 Unspecified"], dtype=object
    )
    streets = np.array([f"{i} STREET" for i in range(1, 220)], dtype=object)
    base = np.datetime64("2023-01-01T00:00:00")
    tmp = path.with_suffix(".partial")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(NYC_HEADER) + "\n")
        for start in range(0, rows, GENERATE_BLOCK):
            n = min(GENERATE_BLOCK, rows - start)
            keys = np.arange(50_000_000 + start, 50_000_000 + start + n)
            created = base + rng.integers(0, 3 * 365 * 86400, n).astype("timedelta64[s]")
            closed = created + rng.integers(600, 30 * 86400, n).astype("timedelta64[s]")
            updated = closed + rng.integers(0, 3 * 86400, n).astype("timedelta64[s]")
            is_closed = rng.random(n) < 0.85
            where = rng.random(n)
            lat = np.where(where < 0.6, rng.uniform(40.70, 40.87, n), rng.uniform(40.5, 40.9, n))
            lon = np.where(
                where < 0.6, rng.uniform(-74.02, -73.93, n), rng.uniform(-74.2, -73.7, n)
            )
            fmt = "%m/%d/%Y %I:%M:%S %p"
            created_text = pd.Series(created).dt.strftime(fmt)
            closed_text = pd.Series(closed).dt.strftime(fmt).where(is_closed, "")
            updated_text = pd.Series(updated).dt.strftime(fmt).where(is_closed, "")
            lat_text = pd.Series(lat.round(8).astype(str)).where(where < 0.9, "")
            lon_text = pd.Series(lon.round(8).astype(str)).where(where < 0.9, "")
            street = streets[rng.integers(0, len(streets), n)]
            frame = pd.DataFrame(
                {
                    "Unique Key": keys,
                    "Created Date": created_text,
                    "Closed Date": closed_text,
                    "Agency": "DSNY",
                    "Agency Name": "Department of Sanitation",
                    "Complaint Type": types[rng.zipf(1.6, n) % len(types)],
                    "Descriptor": "Generated descriptor",
                    "Location Type": "Street",
                    "Incident Zip": rng.integers(10001, 10040, n),
                    "Incident Address": pd.Series(rng.integers(1, 999, n)).astype(str)
                    + " "
                    + street,
                    "Street Name": street,
                    "Cross Street 1": "",
                    "Cross Street 2": "",
                    "Intersection Street 1": "",
                    "Intersection Street 2": "",
                    "Address Type": "ADDRESS",
                    "City": "NEW YORK",
                    "Landmark": "",
                    "Facility Type": "N/A",
                    "Status": np.where(is_closed, "Closed", statuses[rng.integers(1, 5, n)]),
                    "Due Date": "",
                    "Resolution Description": "The Department of Sanitation resolved this.",
                    "Resolution Action Updated Date": updated_text,
                    "Community Board": boards[rng.integers(0, len(boards), n)],
                    "BBL": "",
                    "Borough": "MANHATTAN",
                    "X Coordinate (State Plane)": "",
                    "Y Coordinate (State Plane)": "",
                    "Open Data Channel Type": "ONLINE",
                    "Park Facility Name": "Unspecified",
                    "Park Borough": "MANHATTAN",
                    "Vehicle Type": "",
                    "Taxi Company Borough": "",
                    "Taxi Pick Up Location": "",
                    "Bridge Highway Name": "",
                    "Bridge Highway Direction": "",
                    "Road Ramp": "",
                    "Bridge Highway Segment": "",
                    "Latitude": lat_text,
                    "Longitude": lon_text,
                    "Location": ("(" + lat_text + ", " + lon_text + ")").where(where < 0.9, ""),
                }
            )
            frame.to_csv(handle, header=False, index=False)
    tmp.replace(path)
    return path


def _floor_rows(path: Path) -> Any:
    """The mapped fields of each record, as the file has them: no parsing, no checks."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        at = {name: i for i, name in enumerate(header)}
        picks = [
            at[c]
            for c in (
                "Unique Key",
                "Complaint Type",
                "Descriptor",
                "Status",
                "Created Date",
                "Resolution Action Updated Date",
                "Closed Date",
                "Latitude",
                "Longitude",
                "Incident Address",
            )
        ]
        for row in reader:
            srid, cat, desc, status, created, updated, closed, lat, lon, address = (
                row[i] for i in picks
            )
            yield (
                "bench",
                srid,
                cat,
                desc,
                status,
                created,
                updated or None,
                closed or None,
                lat or None,
                lon or None,
                address,
                "2026-01-01 00:00:00.000000",
            )


FLOOR_COLUMNS = (
    "source, service_request_id, raw_category, description, status, requested_at, "
    "updated_at, closed_at, lat, lon, address, ingested_at"
)


def _phase_floor_sqlite(url: str, path: Path) -> dict[str, Any]:
    import sqlite3

    from sqlalchemy.engine import make_url

    from db.ingest import SQLITE_CACHE_KIB

    connection = sqlite3.connect(make_url(url).database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    # The same page cache as the ingest's connection, so the comparison is of the work alone.
    connection.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    started, cpu = time.monotonic(), time.process_time()
    connection.execute("BEGIN")
    connection.executemany(
        f"INSERT INTO citizen_reports ({FLOOR_COLUMNS}) "  # noqa: S608 - constant columns
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _floor_rows(path),
    )
    connection.execute("COMMIT")
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    connection.close()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_rss_mb()}


def _phase_floor_postgresql(url: str, path: Path) -> dict[str, Any]:
    import psycopg

    connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    started, cpu = time.monotonic(), time.process_time()
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY citizen_reports ({FLOOR_COLUMNS}) FROM STDIN") as copy,
    ):
        for row in _floor_rows(path):
            copy.write_row(row)
    connection.commit()
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    connection.close()
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_rss_mb()}


def _phase_ingest(url: str, path: Path, chunk_rows: int) -> dict[str, Any]:
    from db.session import Database
    from triage.ingest.portal_csv import load_layout
    from triage.jobs.ingest import ingest_portal_export

    database = Database(url)
    started, cpu = time.monotonic(), time.process_time()
    summary = ingest_portal_export(
        database,
        path,
        load_layout("nyc"),
        source="bench",
        city_tz=CITY_TZ,
        chunk_rows=chunk_rows,
    )
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    with database.session() as session:
        from sqlalchemy import func, select

        from db.models import CitizenReport, ReportDailyCount

        stored = session.scalar(select(func.count()).select_from(CitizenReport))
        counted = session.scalar(select(func.coalesce(func.sum(ReportDailyCount.count), 0)))
    database.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mb": peak_rss_mb(),
        "summary": summary.as_dict(),
        "stored": int(stored or 0),
        "aggregated": int(counted or 0),
    }


def _prepare(url: str) -> None:
    """Migrate a scratch database and give it the demo city's districts (for locating)."""
    from db import migrate
    from db.models import District
    from db.session import Database

    migrate.upgrade(url)
    collection = json.loads((REPO_ROOT / "packs" / "riverton" / "districts.geojson").read_text())
    database = Database(url)
    with database.session(write=True) as session:
        for feature in collection["features"]:
            p = feature["properties"]
            session.add(
                District(code=p["code"], name=p["name"], population=1, geometry=feature["geometry"])
            )
    database.dispose()


def _run_phase(phase: str, url: str, path: Path, chunk_rows: int) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "triage.cli.bench_ingest", phase, url, str(path), str(chunk_rows)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench phase {phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scratch_sqlite(workdir: Path) -> tuple[str, Any]:
    path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"

    def drop() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return f"sqlite:///{path}", drop


def _scratch_postgresql(admin_url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from db.session import normalise_url

    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"triage_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    )

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def bench_backend(
    backend: str, path: Path, rows: int, workdir: Path, pg_admin: str, chunk_rows: int
) -> dict[str, Any]:
    """Floor and ingest figures for one backend, each on a fresh database."""
    figures: dict[str, Any] = {"rows": rows}
    for phase in ("floor", "ingest"):
        url, drop = (
            _scratch_sqlite(workdir) if backend == "sqlite" else _scratch_postgresql(pg_admin)
        )
        try:
            _prepare(url)
            result = _run_phase(
                f"{phase}-{backend}" if phase == "floor" else "ingest", url, path, chunk_rows
            )
        finally:
            drop()
        rate = rows / result["seconds"] if result["seconds"] else float("inf")
        figures[f"{phase}_rate"] = round(rate)
        figures[f"{phase}_seconds"] = round(result["seconds"], 2)
        # This process's CPU (every thread); PostgreSQL's own work is in its server processes.
        figures[f"{phase}_cpu_seconds"] = round(result["cpu_seconds"], 2)
        figures[f"{phase}_peak_mb"] = round(result["peak_mb"], 1)
        if phase == "ingest":
            figures["stored"] = result["stored"]
            figures["aggregated"] = result["aggregated"]
            figures["rejected"] = result["summary"]["rejected"]
    figures["ratio"] = round(figures["ingest_rate"] / max(1, figures["floor_rate"]), 3)
    figures["cpu_ratio"] = round(
        figures["floor_cpu_seconds"] / max(0.001, figures["ingest_cpu_seconds"]), 3
    )
    figures["load_average"] = round(os.getloadavg()[0], 2)
    return figures


def run_bench(args: argparse.Namespace) -> int:
    """``triage bench ingest``: print the table (and, with ``--json``, one JSON line)."""
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "triage-bench")
    workdir.mkdir(parents=True, exist_ok=True)
    pg_admin = args.pg_url or os.environ.get("TRIAGE_BENCH_PG_URL") or DEFAULT_PG_ADMIN
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    sizes = [args.rows] if args.no_flat_check else [args.rows, max(1, args.rows // 10)]
    result: dict[str, Any] = {"bench": "ingest", "rows": args.rows, "layout": "nyc"}
    for rows in sizes:
        path = workdir / f"nyc-export-{rows}-{args.seed}.csv"
        if not path.exists():
            started = time.monotonic()
            if not args.json:
                print(f"Generating a {rows:,}-row export in {path} ...", flush=True)
            generate_export(path, rows, args.seed)
            if not args.json:
                print(f"  {path.stat().st_size / 1e6:,.0f} MB in {time.monotonic() - started:.0f}s")
        for backend in backends:
            figures = bench_backend(backend, path, rows, workdir, pg_admin, args.chunk_rows)
            key = backend if rows == args.rows else f"{backend}_small"
            result[key] = figures
            if not args.json:
                print(
                    f"{backend:<11} {rows:>10,} rows  floor {figures['floor_rate']:>9,}/s "
                    f"({figures['floor_peak_mb']:,.0f} MB)  ingest {figures['ingest_rate']:>9,}/s "
                    f"({figures['ingest_peak_mb']:,.0f} MB)  ratio {figures['ratio']:.2f}  "
                    f"CPU s floor {figures['floor_cpu_seconds']:,.1f} "
                    f"ingest {figures['ingest_cpu_seconds']:,.1f}  "
                    f"load {figures['load_average']:.1f}",
                    flush=True,
                )
    for backend in backends:
        if backend in result and f"{backend}_small" in result:
            big, small = result[backend], result[f"{backend}_small"]
            result[backend]["memory_growth"] = round(
                big["ingest_peak_mb"] / max(1.0, small["ingest_peak_mb"]), 2
            )
    if args.json:
        print(json.dumps(result))
    return 0


def _phase_main(argv: list[str]) -> int:
    reset_peak_rss()
    phase, url, path, chunk_rows = argv[0], argv[1], Path(argv[2]), int(argv[3])
    if phase == "floor-sqlite":
        out = _phase_floor_sqlite(url, path)
    elif phase == "floor-postgresql":
        out = _phase_floor_postgresql(url, path)
    elif phase == "ingest":
        out = _phase_ingest(url, path, chunk_rows)
    else:
        raise SystemExit(f"unknown phase {phase}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_phase_main(sys.argv[1:]))
