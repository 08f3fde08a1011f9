"""The seeded demo city a benchmark measures: seeded once into a cached SQLite file (or a
given database), migrated, with its past weeks and alerts stored as ``triage demo`` does.

``triage bench score`` and ``triage bench browser`` use it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from db import migrate
from db.models import AuditLog, Problem, User
from db.scores import latest_snapshot_week
from db.session import Database, normalise_url
from triage.cli.bench_common import BenchError
from triage.jobs.demo_history import store_demo_history
from triage.weeks import iso_week


@dataclass(frozen=True)
class Prepared:
    """The seeded database a run measures, and what preparing it cost."""

    url: str
    shown: str
    backend: str
    seed: int
    scale: str
    today: dt.date
    seeded: bool
    seed_seconds: float | None
    history_seconds: float | None
    database_bytes: int | None
    counts: dict[str, int]


def cache_path(cache_dir: Path, scale: str, seed: int) -> Path:
    """The cached SQLite file of a scale and seed, e.g. ``instance/bench-large-7.sqlite3``."""
    return cache_dir / f"bench-{scale}-{seed}.sqlite3"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _seed_record(database: Database) -> dict[str, Any] | None:
    """What the last completed demo seed recorded (seed, scale, today, counts), if any.

    ``seed_demo_city`` writes this audit row last, so its presence means the seed finished.
    """
    with database.session() as session:
        after = session.scalar(
            select(AuditLog.after)
            .where(AuditLog.entity == "demo_city", AuditLog.action == "seed")
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
    return dict(after) if after else None


def _holds_data(database: Database) -> bool:
    with database.session() as session:
        return any(session.scalar(select(func.count()).select_from(m)) for m in (Problem, User))


def _has_history(database: Database, today: dt.date) -> bool:
    """Whether past weeks were ranked (``store_demo_history`` ran after the seed)."""
    with database.session() as session:
        return latest_snapshot_week(session, before=iso_week(today)) is not None


def _database_bytes(database: Database) -> int | None:
    if database.sqlite:
        path = Path(database.engine.url.database or "")
        sizes = [Path(f"{path}{s}") for s in ("", "-wal")]
        return sum(p.stat().st_size for p in sizes if p.exists()) or None
    with database.session() as session:
        return int(session.scalar(text("SELECT pg_database_size(current_database())")) or 0)


def _matches(record: dict[str, Any] | None, seed: int, scale: str) -> bool:
    return bool(record) and record.get("seed") == seed and record.get("scale") == scale


def prepare(
    url: str | None,
    *,
    seed: int,
    scale: str,
    cache_dir: Path,
    today: dt.date,
    reseed: bool = False,
    log: Callable[[str], None] = lambda _: None,
    progress: Callable[[str, float], None] | None = None,
) -> Prepared:
    """The demo city of ``scale`` and ``seed`` in ``url`` (default: the cached SQLite file).

    The cached file is re-used when it holds a completed seed of the same scale and seed,
    after its schema is brought to the current migration (as a deployed database would be;
    a file that cannot be upgraded is seeded again); otherwise it is seeded. A given database
    is migrated, then seeded only when it is empty (or ``reseed`` and it holds a demo city): a
    database with other data is refused. Seeding stores the demo's past weeks and alerts too
    (``store_demo_history``), as ``triage demo`` does, so the measured runs meet the state a
    running city is in.
    """
    # The seeding code (and the demo catalogue) is loaded only when a city is seeded, never
    # in the measured stage processes.
    from db.seed import seed_demo_city

    owned = url is None
    path = cache_path(cache_dir, scale, seed)
    if owned:
        url = f"sqlite:///{path}"
        if path.exists() and reseed:
            log(f"removing {path} (--reseed)")
            _remove_sqlite(path)
    url = normalise_url(url)
    if (not owned or path.exists()) and not migrate.is_current(url):
        # A deployed city's database is upgraded, not rebuilt: so is the cached one.
        log("upgrading the schema to the current migration (not counted)")
        try:
            migrate.upgrade(url)
        except Exception as exc:
            if not owned:
                raise BenchError(f"Cannot upgrade the database's schema: {exc}") from None
            log(f"the upgrade failed ({type(exc).__name__}); seeding a new file instead")
            _remove_sqlite(path)
    migrate.upgrade(url)
    database = Database(url)
    if owned and not _matches(_seed_record(database), seed, scale) and _holds_data(database):
        # An interrupted seed: the audit row that ends a seed is missing.
        log(f"{path} holds an unfinished seed; seeding it again")
        database.dispose()
        _remove_sqlite(path)
        migrate.upgrade(url)
        database = Database(url)
    try:
        record = _seed_record(database)
        seeded = not _matches(record, seed, scale) or (reseed and not owned)
        seed_seconds = history_seconds = None
        if seeded:
            replace = False
            if _holds_data(database):
                if owned or record is None or not reseed:
                    raise BenchError(
                        "The database already holds data that is not the "
                        f"{scale} demo city of seed {seed}; give an empty database"
                        + (", or --reseed to replace the demo city it holds." if record else ".")
                    )
                replace = True
            log(f"seeding the {scale} demo city (seed {seed}); not counted in the figures")
            started = time.perf_counter()
            summary = seed_demo_city(
                database, seed=seed, scale=scale, today=today, replace=replace, progress=progress
            )
            seed_seconds = time.perf_counter() - started
            log(f"seeded in {seed_seconds:.1f}s")
            record = _seed_record(database)
            assert record is not None and summary.today.isoformat() == record["today"]
        if seeded or not _has_history(database, dt.date.fromisoformat(record["today"])):
            log("storing the past weekly rankings and alerts (store_demo_history)")
            started = time.perf_counter()
            store_demo_history(database, dt.date.fromisoformat(record["today"]))
            history_seconds = time.perf_counter() - started
            log(f"history stored in {history_seconds:.1f}s")
        if database.sqlite:
            with database.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return Prepared(
            url=url,
            shown=database.engine.url.render_as_string(hide_password=True),
            backend="sqlite" if database.sqlite else database.engine.dialect.name,
            seed=seed,
            scale=scale,
            today=dt.date.fromisoformat(record["today"]),
            seeded=seeded,
            seed_seconds=None if seed_seconds is None else round(seed_seconds, 1),
            history_seconds=None if history_seconds is None else round(history_seconds, 1),
            database_bytes=_database_bytes(database),
            counts={k: int(v) for k, v in (record.get("counts") or {}).items()},
        )
    finally:
        database.dispose()
