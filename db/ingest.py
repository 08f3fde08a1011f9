"""Ingest writes: reports upserted on (source, service_request_id), aggregates kept in step.

Nothing here commits: a batch's reports, daily-count changes and cursor land together or not
at all, and an older ``updated_at`` never overwrites a newer one (the upsert's ``WHERE``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, column, func, or_, select, table, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.indicators import recent_histories
from db.models import (
    Alert,
    CategoryProblem,
    CitizenReport,
    DataSource,
    Department,
    District,
    Indicator,
    IndicatorStatusUpdate,
    Observation,
    ReportCategory,
    ReportDailyCount,
    utcnow,
)
from triage.ingest.errors import IngestError, Rejection
from triage.ingest.geo import DistrictLocator
from triage.security import (
    Capability,
    PermissionDenied,
    Principal,
    require,
    require_department,
)
from triage.validation import (
    PLAUSIBLE_HISTORY,
    ValidationError,
    validate_observation,
    value_doubt,
)

UNLOCATED_DISTRICT_CODE = "UNLOCATED"
UNLOCATED_DISTRICT_NAME = "Location unknown"
OUTSIDE_DISTRICT_CODE = "OUTSIDE"
OUTSIDE_DISTRICT_NAME = "Outside every district"
SENTINEL_DISTRICT_NAMES = {
    UNLOCATED_DISTRICT_CODE: UNLOCATED_DISTRICT_NAME,
    OUTSIDE_DISTRICT_CODE: OUTSIDE_DISTRICT_NAME,
}
SENTINEL_DISTRICT_CODES = tuple(SENTINEL_DISTRICT_NAMES)
UNCATEGORISED_CODE = "uncategorised"
SOURCE_FAILED_PREFIX = "source-failed:"
STORAGE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime text, read back by the ORM
LOOKUP_BATCH = 5000
# A run remembers the ids it wrote to a source that was empty when it began, up to this many
# (about 100 MB of strings); past it, every id is looked up again.
NEW_SOURCE_ID_LIMIT = 1_000_000
ID_SEPARATOR = "\x1f"  # the unit separator: joins the ids of one PostgreSQL lookup
SQLITE_CACHE_KIB = -65536
WRITE_COLUMNS = (
    "source",
    "service_request_id",
    "category_id",
    "raw_category",
    "description",
    "status",
    "requested_at",
    "updated_at",
    "closed_at",
    "lat",
    "lon",
    "address",
    "district_id",
    "ingested_at",
)
STAGE_TABLE = "triage_ingest_stage"
STAGE_DDL = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} (
    source VARCHAR(64), service_request_id VARCHAR(128), category_id INTEGER,
    raw_category VARCHAR(200), description TEXT, status VARCHAR(32),
    requested_at TIMESTAMP, updated_at TIMESTAMP, closed_at TIMESTAMP,
    lat DOUBLE PRECISION, lon DOUBLE PRECISION, address VARCHAR(255), district_id INTEGER,
    ingested_at TIMESTAMP
) ON COMMIT DELETE ROWS
"""
# SQLite's staging table: untyped columns keep each value exactly as bound (no affinity).
SQLITE_STAGE_DDL = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ({', '.join(WRITE_COLUMNS)})"
)
SQLITE_STAGE_INSERT = (
    f"INSERT INTO {STAGE_TABLE} ({', '.join(WRITE_COLUMNS)}) "  # noqa: S608 - constants
    f"VALUES ({', '.join('?' * len(WRITE_COLUMNS))})"
)
COUNT_STAGE = "triage_ingest_count_stage"
COUNT_STAGE_DDL = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {COUNT_STAGE} (
    day DATE, category_id INTEGER, district_id INTEGER, count INTEGER
) ON COMMIT DELETE ROWS
"""


@dataclass
class UpsertCounts:
    """What one batch (or a whole run) did to the stored rows."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass(frozen=True)
class SourceState:
    """A data source as one transaction found it: its cursor, endpoint and settings."""

    id: int
    name: str
    kind: str
    cursor: str | None
    url: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceCounts:
    """What reading a service list did to the report categories."""

    services: int = 0
    added: int = 0
    unchanged: int = 0
    groups: int = 0
    new_codes: tuple[str, ...] = ()


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def ensure_source(
    session: Session,
    name: str,
    kind: str,
    *,
    url: str = "",
    config: Mapping[str, Any] | None = None,
) -> SourceState:
    """The data source called ``name`` (created on first use), locked for this transaction.

    An existing source keeps its URL and settings; a blank URL or a missing ``config`` key is
    filled in from the arguments. The row lock (``FOR UPDATE`` on PostgreSQL; SQLite writers
    already hold the database) serialises two ingests of the same source, so their cursor and
    counts cannot interleave. Raises ``IngestError`` when the name belongs to a source of
    another kind.
    """
    name = name.strip()[:64]
    if not name:
        raise IngestError("A data source needs a name.")
    row = session.scalars(
        select(DataSource).where(DataSource.name == name).with_for_update()
    ).first()
    if row is None:
        insert = pg_insert if not _is_sqlite(session) else sqlite_insert
        session.execute(
            insert(DataSource)
            .values(name=name, kind=kind, url=url[:500], config=dict(config or {}))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        row = session.scalars(
            select(DataSource).where(DataSource.name == name).with_for_update()
        ).one()
        write_audit(
            session,
            Principal.system("ingest"),
            "create",
            "data_source",
            row.id,
            after={"name": name, "kind": kind, "url": url[:500]},
        )
    if row.kind != kind:
        raise IngestError(f"The source {name!r} is a {row.kind} source, not {kind}.")
    missing = {k: v for k, v in (config or {}).items() if k not in (row.config or {})}
    if (url and not row.url) or missing:
        # A source first met by a failure (recorded without its endpoint) gets it now.
        before = {"url": row.url, **{k: None for k in missing}}
        row.url = row.url or url[:500]
        row.config = {**(row.config or {}), **missing}
        write_audit(
            session,
            Principal.system("ingest"),
            "update",
            "data_source",
            row.id,
            before=before,
            after={"url": row.url, **missing},
        )
    return SourceState(row.id, row.name, row.kind, row.cursor, row.url, dict(row.config or {}))


def find_source(session: Session, name: str) -> SourceState | None:
    """The data source called ``name``, or ``None`` (nothing is created or locked)."""
    row = session.scalars(select(DataSource).where(DataSource.name == name.strip()[:64])).first()
    if row is None:
        return None
    return SourceState(row.id, row.name, row.kind, row.cursor, row.url, dict(row.config or {}))


def update_source_config(session: Session, source_id: int, changes: Mapping[str, Any]) -> bool:
    """Merge ``changes`` into a source's ``config``; audited, and only when a value changes.

    Returns whether anything changed.
    """
    row = session.get(DataSource, source_id)
    if row is None:
        raise IngestError(f"There is no data source with id {source_id}.")
    before = dict(row.config or {})
    after = {**before, **changes}
    if after == before:
        return False
    row.config = after
    write_audit(
        session,
        Principal.system("ingest"),
        "update",
        "data_source",
        source_id,
        before={k: before.get(k) for k in changes},
        after=dict(changes),
    )
    return True


def record_services(session: Session, services: pd.DataFrame) -> ServiceCounts:
    """Create a report category for each service of an Open311 service list (idempotent).

    ``services`` has ``triage.ingest.open311.SERVICE_COLUMNS``. A service's category is the
    one its requests land in: code ``category_code(service_name or service_code)``, named
    as the service. Existing categories are left as they are (a city may have renamed one).
    The groups are returned per category code by ``service_groups``; the caller keeps them
    with the source (report categories have no group column).
    """
    if services.empty:
        return ServiceCounts()
    names = [
        (str(name).strip() or str(code).strip())[:200]
        for name, code in zip(services["service_name"], services["service_code"], strict=True)
    ]
    wanted = {category_code(name): name for name in names}
    existing = set(
        session.scalars(
            select(ReportCategory.code).where(ReportCategory.code.in_(list(wanted)))
        ).all()
    )
    new = {code: name for code, name in wanted.items() if code not in existing}
    if new:
        insert = sqlite_insert if _is_sqlite(session) else pg_insert
        session.execute(
            insert(ReportCategory)
            .values([{"code": code, "name": name} for code, name in new.items()])
            .on_conflict_do_nothing(index_elements=["code"])
        )
        write_audit(
            session,
            Principal.system("ingest"),
            "create",
            "report_category",
            "",
            after={"codes": sorted(new)[:200], "count": len(new)},
        )
    groups = {g for g in services["group"].astype(str).str.strip() if g}
    return ServiceCounts(
        services=len(services),
        added=len(new),
        unchanged=len(wanted) - len(new),
        groups=len(groups),
        new_codes=tuple(sorted(new)),
    )


def service_groups(services: pd.DataFrame) -> dict[str, str]:
    """Category code -> the service's group (``group`` column), for services that have one."""
    out: dict[str, str] = {}
    for name, code, group in zip(
        services["service_name"], services["service_code"], services["group"], strict=True
    ):
        label = str(group).strip()
        if label:
            out[category_code((str(name).strip() or str(code).strip())[:200])] = label[:200]
    return out


def save_cursor(session: Session, source_id: int, cursor: str | None) -> None:
    """Store how far the source has been read; call it in the transaction of those rows."""
    session.execute(update(DataSource).where(DataSource.id == source_id).values(cursor=cursor))


def category_code(raw: str) -> str:
    """A stable category code from a source's raw category name (64 characters at most)."""
    folded = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^0-9a-z]+", "-", folded.lower()).strip("-")
    if not slug:
        if not raw.strip():
            return UNCATEGORISED_CODE
        slug = "category"
        return f"{slug}-{hashlib.sha256(raw.encode('utf-8', 'replace')).hexdigest()[:12]}"
    if len(slug) > 64:
        digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
        slug = f"{slug[:55].rstrip('-')}-{digest}"
    return slug


@dataclass
class CategoryCache:
    """Raw category name -> category id, creating categories the first time a name appears.

    Nothing is dropped: a raw name nobody has mapped to a problem still gets a category, and
    ``unmapped_categories`` lists it for an analyst. ``created`` holds the new codes,
    ``created_names`` their names as the source wrote them.
    """

    by_code: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    created_names: list[str] = field(default_factory=list)  # as the source wrote them

    def ids(self, session: Session, raw: pd.Series) -> np.ndarray:
        names = pd.unique(raw.to_numpy())
        code_of = {name: category_code(name) for name in names}
        missing = {c: n for n, c in code_of.items() if c not in self.by_code}
        if missing:
            existing = dict(
                session.execute(
                    select(ReportCategory.code, ReportCategory.id).where(
                        ReportCategory.code.in_(list(missing))
                    )
                ).all()
            )
            new = {c: n for c, n in missing.items() if c not in existing}
            if new:
                insert = sqlite_insert if _is_sqlite(session) else pg_insert
                session.execute(
                    insert(ReportCategory)
                    .values(
                        [{"code": c, "name": (n or "Uncategorised")[:200]} for c, n in new.items()]
                    )
                    .on_conflict_do_nothing(index_elements=["code"])
                )
                existing = dict(
                    session.execute(
                        select(ReportCategory.code, ReportCategory.id).where(
                            ReportCategory.code.in_(list(missing))
                        )
                    ).all()
                )
                self.created.extend(sorted(new))
                self.created_names.extend(str(new[c] or "Uncategorised") for c in sorted(new))
            self.by_code.update(existing)
        lookup = {name: self.by_code[code] for name, code in code_of.items()}
        return raw.map(lookup).to_numpy(dtype=np.int64)


def _district_key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().upper())


@dataclass
class DistrictResolver:
    """District per report: the point inside the city's boundaries first, else a district column.

    A point inside a boundary decides. A point outside every boundary goes to the "Outside
    every district" row unless the source names a district that has no boundary; a report
    without a point goes to the district its source names, else to "Location unknown". So the
    daily counts (whose district is part of the key) still add up to every report, and nothing
    is placed in a district it is not in. ``placed`` counts reports per way of placing.
    """

    by_key: dict[str, int]
    locator: DistrictLocator | None
    unlocated_id: int
    outside_id: int = -1
    bounded: frozenset[int] = frozenset()  # districts with a boundary
    placed: dict[str, int] = field(
        default_factory=lambda: {"point": 0, "named": 0, "outside": 0, "unlocated": 0}
    )

    def resolve(self, frame: pd.DataFrame) -> np.ndarray:
        """District ids for a report frame (columns ``district``, ``lat``, ``lon``)."""
        named = {
            value: self.by_key.get(_district_key(value), np.nan)
            for value in pd.unique(frame["district"].to_numpy())
        }
        by_name = frame["district"].map(named).to_numpy(dtype=float, copy=True)
        ids = np.full(len(frame), np.nan)
        has_point = np.zeros(len(frame), dtype=bool)
        if self.locator is not None:
            lon = frame["lon"].to_numpy(dtype=float)
            lat = frame["lat"].to_numpy(dtype=float)
            has_point = np.isfinite(lon) & np.isfinite(lat)
            found = self.locator.locate(lon, lat)
            ids[found >= 0] = found[found >= 0]
        by_point = ~np.isnan(ids)
        unbounded_name = ~np.isnan(by_name) & ~np.isin(by_name, list(self.bounded))
        use_name = ~by_point & ~np.isnan(by_name) & (~has_point | unbounded_name)
        ids[use_name] = by_name[use_name]
        outside = np.isnan(ids) & has_point & (self.outside_id >= 0)
        ids[outside] = self.outside_id
        unlocated = np.isnan(ids)
        ids[unlocated] = self.unlocated_id
        for key, mask in (
            ("point", by_point),
            ("named", use_name),
            ("outside", outside),
            ("unlocated", unlocated),
        ):
            self.placed[key] += int(mask.sum())
        return ids.astype(np.int64)


def ensure_sentinel_districts(session: Session) -> dict[str, int]:
    """Create the "Location unknown" and "Outside every district" rows; their ids by code."""
    insert = sqlite_insert if _is_sqlite(session) else pg_insert
    for code, name in SENTINEL_DISTRICT_NAMES.items():
        session.execute(
            insert(District).values(code=code, name=name, population=0).on_conflict_do_nothing()
        )
    rows = session.execute(
        select(District.code, District.name, District.id).where(
            District.code.in_(SENTINEL_DISTRICT_CODES)
        )
    ).all()
    names = SENTINEL_DISTRICT_NAMES
    found = {code: district_id for code, name, district_id in rows if names[code] == name}
    for code, name in SENTINEL_DISTRICT_NAMES.items():
        if code not in found:
            raise IngestError(
                f"The district code {code} or name {name!r} is taken by another district."
            )
    return found


def load_districts(session: Session) -> DistrictResolver:
    """Build the resolver from the districts table, creating the two sentinel rows."""
    sentinels = ensure_sentinel_districts(session)
    rows = session.execute(
        select(District.id, District.code, District.name, District.geometry).order_by(District.id)
    ).all()
    by_key: dict[str, int] = {}
    ids: list[int] = []
    geometries: list[Any] = []
    for district_id, code, name, geometry in rows:
        if code in SENTINEL_DISTRICT_CODES:
            continue
        by_key.setdefault(_district_key(name), district_id)
        by_key[_district_key(code)] = district_id
        if geometry:
            ids.append(district_id)
            geometries.append(geometry)
    locator = DistrictLocator(ids, geometries) if ids else None
    return DistrictResolver(
        by_key,
        locator,
        sentinels[UNLOCATED_DISTRICT_CODE],
        sentinels[OUTSIDE_DISTRICT_CODE],
        frozenset(ids),
    )


def local_days(times: pd.Series, city_tz: str) -> pd.Series:
    """Naive-UTC times to the city's local calendar day, as ``YYYY-MM-DD`` text."""
    local = times.dt.tz_localize("UTC").dt.tz_convert(city_tz).dt.tz_localize(None)
    return pd.Series(
        np.datetime_as_string(local.to_numpy().astype("datetime64[D]"), unit="D"),
        index=times.index,
    )


def _times(series: pd.Series) -> list[str | None]:
    text = series.dt.strftime(STORAGE_TIME)
    return text.astype(object).where(series.notna(), None).tolist()


def _floats(series: pd.Series) -> list[float | None]:
    return series.astype(object).where(series.notna(), None).tolist()


@dataclass
class NewSourceIds:
    """The request ids one run has written to a source that held no reports when the run
    began (``source_is_empty``). An id not among them cannot be stored yet, so it needs no
    lookup: a city's first import of a large export skips the existence query for nearly
    every row. Past ``limit`` ids the memory is dropped and every id is looked up again.

    Another process writing the same source meanwhile cannot go unnoticed: a row it stored
    fails the unique key on the COPY, and the batch rolls back whole.
    """

    limit: int = NEW_SOURCE_ID_LIMIT
    ids: set[str] | None = field(default_factory=set)

    def maybe_stored(self, ids: list[str]) -> list[str]:
        """The ids among ``ids`` that may be stored (all of them once the memory is gone)."""
        if self.ids is None:
            return ids
        return [i for i in ids if i in self.ids]

    def wrote(self, ids: list[str]) -> None:
        if self.ids is None:
            return
        self.ids.update(ids)
        if len(self.ids) > self.limit:
            self.ids = None


def source_is_empty(session: Session, source: str) -> bool:
    """Whether ``source`` has no stored report (a first import)."""
    return (
        session.scalar(select(CitizenReport.id).where(CitizenReport.source == source).limit(1))
        is None
    )


def _existing(connection: Connection, source: str, ids: list[str], sqlite_db: bool) -> pd.DataFrame:
    """Stored version, day inputs and cells of the reports among ``ids``."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), LOOKUP_BATCH):
        part = ids[start : start + LOOKUP_BATCH]
        if sqlite_db:
            marks = ", ".join("?" * len(part))  # placeholders only: the ids are parameters
            result = connection.exec_driver_sql(
                "SELECT service_request_id, requested_at, updated_at, category_id, district_id "  # noqa: S608
                f"FROM citizen_reports WHERE source = ? AND service_request_id IN ({marks})",
                (source, *part),
            )
        elif not any(ID_SEPARATOR in i for i in part):
            # One joined text is sent and split by the server: dumping a Python list of
            # thousands of strings as an array costs more than the lookup itself.
            result = connection.exec_driver_sql(
                "SELECT service_request_id, requested_at, updated_at, category_id, district_id "
                "FROM citizen_reports WHERE source = %s "
                "AND service_request_id = ANY(string_to_array(%s, chr(31)))",
                (source, ID_SEPARATOR.join(part)),
            )
        else:
            result = connection.exec_driver_sql(
                "SELECT service_request_id, requested_at, updated_at, category_id, district_id "
                "FROM citizen_reports WHERE source = %s AND service_request_id = ANY(%s)",
                (source, part),
            )
        rows.extend(tuple(r) for r in result)
    frame = pd.DataFrame(
        rows,
        columns=[
            "service_request_id",
            "old_requested",
            "old_updated",
            "old_category",
            "old_district",
        ],
    )
    for name in ("old_requested", "old_updated"):
        frame[name] = pd.to_datetime(frame[name], format="ISO8601", errors="coerce").astype(
            "datetime64[us]"
        )
    return frame


def _upsert_statement(sqlite_db: bool) -> str:
    """The guarded upsert, from the staging table into ``citizen_reports`` (both dialects).

    ``WHERE true`` keeps SQLite from reading ``ON CONFLICT`` as a join constraint.
    """
    target = CitizenReport.__table__
    stage = table(STAGE_TABLE, *[column(c) for c in WRITE_COLUMNS])
    insert = sqlite_insert if sqlite_db else pg_insert
    stmt = insert(target).from_select(list(WRITE_COLUMNS), select(*stage.c).where(true()))
    stmt = stmt.on_conflict_do_update(
        index_elements=[target.c.source, target.c.service_request_id],
        set_={c: stmt.excluded[c] for c in WRITE_COLUMNS[2:]},
        where=or_(target.c.updated_at.is_(None), stmt.excluded.updated_at > target.c.updated_at),
    )
    dialect = sqlite.dialect() if sqlite_db else postgresql.psycopg.dialect()
    return stmt.compile(dialect=dialect).string


_STATEMENTS: dict[bool, str] = {}


def _write_rows(
    connection: Connection,
    inserts: list[tuple[Any, ...]],
    updates: list[tuple[Any, ...]],
    sqlite_db: bool,
) -> None:
    """Write new rows and newer versions of stored rows (``WRITE_COLUMNS`` tuples)."""
    if sqlite_db not in _STATEMENTS:
        _STATEMENTS[sqlite_db] = _upsert_statement(sqlite_db)
    statement = _STATEMENTS[sqlite_db]
    if sqlite_db:
        if inserts or updates:
            # A larger page cache (64 MiB, a constant) keeps the indexes' hot pages in memory.
            connection.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
            # Rows go to an unindexed temporary table, then one guarded INSERT ... SELECT ...
            # ON CONFLICT DO UPDATE moves them. The same upsert run once per row (executemany)
            # costs 2-3 times the CPU with foreign keys on: SQLite opens a statement journal
            # for every execution.
            connection.exec_driver_sql(SQLITE_STAGE_DDL)
            connection.exec_driver_sql(SQLITE_STAGE_INSERT, inserts + updates)
            connection.exec_driver_sql(statement)
            connection.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608 - a constant
        return
    # PostgreSQL: rows the batch found absent go in by COPY (the source's row lock keeps other
    # ingests of this source out, and a row that appeared anyway fails the unique key and the
    # whole batch rolls back); newer versions go through a temporary table and the guarded
    # INSERT ... ON CONFLICT DO UPDATE ... WHERE, the same statement as on SQLite.
    if inserts:
        _copy(connection, f"citizen_reports ({', '.join(WRITE_COLUMNS)})", inserts)
    if updates:
        connection.exec_driver_sql(STAGE_DDL)
        _copy(connection, f"{STAGE_TABLE} ({', '.join(WRITE_COLUMNS)})", updates)
        connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608 - a constant


def _copy(connection: Connection, target: str, rows: list[tuple[Any, ...]]) -> None:
    """COPY rows into a (temporary) PostgreSQL table on the session's own connection."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _apply_counts(connection: Connection, deltas: pd.DataFrame, sqlite_db: bool) -> None:
    """Add ``count`` deltas to daily cells (``day`` text, ``category_id``, ``district_id``)."""
    if deltas.empty:
        return
    keys = ["day", "category_id", "district_id"]
    grouped = deltas.groupby(keys, sort=True, as_index=False)["count"].sum()
    grouped = grouped[grouped["count"] != 0]
    if grouped.empty:
        return
    rows = list(
        zip(
            grouped["day"].tolist(),
            grouped["category_id"].astype("int64").tolist(),
            grouped["district_id"].astype("int64").tolist(),
            grouped["count"].astype("int64").tolist(),
            strict=True,
        )
    )
    if sqlite_db:
        connection.exec_driver_sql(
            "INSERT INTO report_daily_counts (day, category_id, district_id, count) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (day, category_id, district_id) "
            "DO UPDATE SET count = report_daily_counts.count + excluded.count",
            rows,
        )
    else:
        connection.exec_driver_sql(COUNT_STAGE_DDL)
        _copy(connection, f"{COUNT_STAGE} (day, category_id, district_id, count)", rows)
        connection.exec_driver_sql(
            "INSERT INTO report_daily_counts (day, category_id, district_id, count) "  # noqa: S608
            f"SELECT day, category_id, district_id, count FROM {COUNT_STAGE} "
            "ON CONFLICT (day, category_id, district_id) "
            "DO UPDATE SET count = report_daily_counts.count + excluded.count"
        )
        connection.exec_driver_sql(f"DELETE FROM {COUNT_STAGE}")  # noqa: S608 - a constant
    emptied = [r[:3] for r in rows if r[3] < 0]
    if emptied:
        mark = "?" if sqlite_db else "%s"
        connection.exec_driver_sql(
            "DELETE FROM report_daily_counts WHERE day = "  # noqa: S608 - placeholders only
            f"{mark} AND category_id = {mark} AND district_id = {mark} AND count <= 0",
            emptied,
        )


def upsert_reports(
    session: Session,
    source: str,
    frame: pd.DataFrame,
    *,
    categories: CategoryCache,
    districts: DistrictResolver,
    city_tz: str,
    now: dt.datetime | None = None,
    new_source: NewSourceIds | None = None,
) -> UpsertCounts:
    """Insert new reports, update those whose ``updated_at`` is newer, leave the rest.

    ``new_source``: on a first import, what this run already wrote (ids it has not written
    are new, no lookup needed; see ``NewSourceIds``).

    ``frame`` follows ``triage.ingest.records.REPORT_COLUMNS`` (naive-UTC times, ``updated_at``
    never NaT). Within the frame the newest copy of a request wins; the others count as
    unchanged. The daily counts move with the rows: +1 in the new (day, category, district)
    cell, -1 in the old one when an update moves a report. Days are local to ``city_tz``.
    """
    counts = UpsertCounts()
    if frame.empty:
        return counts
    sqlite_db = _is_sqlite(session)
    connection = session.connection()
    total = len(frame)
    # Newest copy wins; among copies with the same time the first in the input does, as it
    # would had they come in separate batches (an equal version never overwrites).
    frame = frame.sort_values("updated_at", kind="stable", ascending=False).drop_duplicates(
        "service_request_id", keep="first"
    )
    counts.unchanged += total - len(frame)
    frame = frame.reset_index(drop=True)
    frame["category_id"] = categories.ids(session, frame["raw_category"])
    frame["district_id"] = districts.resolve(frame)
    frame["day"] = local_days(frame["requested_at"], city_tz)

    ids = frame["service_request_id"].tolist()
    lookup = ids if new_source is None else new_source.maybe_stored(ids)
    old = _existing(connection, source, lookup, sqlite_db)
    if len(old):
        frame = frame.merge(old, on="service_request_id", how="left")
        exists = (
            frame["old_requested"].notna()
            | frame["old_updated"].notna()
            | frame["old_category"].notna()
        )
        newer = exists & (
            frame["old_updated"].isna() | (frame["updated_at"] > frame["old_updated"])
        )
        write = ~exists | newer
    else:
        exists = pd.Series(False, index=frame.index)
        newer = exists
        write = ~exists
    counts.added += int((~exists).sum())
    counts.updated += int(newer.sum())
    counts.unchanged += int((exists & ~newer).sum())

    rows = frame[write.to_numpy()]
    if len(rows):
        stamp = (now or utcnow()).strftime(STORAGE_TIME)
        n = len(rows)
        values = list(
            zip(
                [source] * n,
                rows["service_request_id"].tolist(),
                rows["category_id"].tolist(),
                rows["raw_category"].tolist(),
                rows["description"].tolist(),
                rows["status"].tolist(),
                _times(rows["requested_at"]),
                _times(rows["updated_at"]),
                _times(rows["closed_at"]),
                _floats(rows["lat"]),
                _floats(rows["lon"]),
                rows["address"].tolist(),
                rows["district_id"].tolist(),
                [stamp] * n,
                strict=True,
            )
        )
        fresh = (~exists[write]).tolist()
        _write_rows(
            connection,
            [v for v, new in zip(values, fresh, strict=True) if new],
            [v for v, new in zip(values, fresh, strict=True) if not new],
            sqlite_db,
        )
        if new_source is not None:
            new_source.wrote(rows["service_request_id"].tolist())

    plus = pd.DataFrame(
        {
            "day": rows["day"],
            "category_id": rows["category_id"],
            "district_id": rows["district_id"],
            "count": 1,
        }
    )
    moved = frame[newer.to_numpy()]
    moved = (
        moved[moved["old_category"].notna() & moved["old_requested"].notna()]
        if len(moved)
        else moved
    )
    if len(moved):
        old_district = moved["old_district"].fillna(districts.unlocated_id)
        minus = pd.DataFrame(
            {
                "day": local_days(moved["old_requested"], city_tz),
                "category_id": moved["old_category"].astype("int64"),
                "district_id": old_district.astype("int64"),
                "count": -1,
            }
        )
        plus = pd.concat([plus, minus], ignore_index=True)
    _apply_counts(connection, plus, sqlite_db)
    return counts


def unmapped_categories(session: Session) -> pd.DataFrame:
    """Categories no problem is mapped to, busiest first, for an analyst to map.

    Columns: id, code, name, reports (all-time count from the daily aggregates).
    """
    totals = (
        select(ReportDailyCount.category_id, func.sum(ReportDailyCount.count).label("reports"))
        .group_by(ReportDailyCount.category_id)
        .subquery()
    )
    mapped = select(CategoryProblem.category_id)
    rows = session.execute(
        select(
            ReportCategory.id,
            ReportCategory.code,
            ReportCategory.name,
            func.coalesce(totals.c.reports, 0),
        )
        .outerjoin(totals, totals.c.category_id == ReportCategory.id)
        .where(ReportCategory.id.not_in(mapped))
        .order_by(func.coalesce(totals.c.reports, 0).desc(), ReportCategory.code)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["id", "code", "name", "reports"])
    return frame.astype({"id": "int64", "reports": "int64"})


def weekly_report_counts(session: Session, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Weekly counts per category x district from the daily aggregates (no raw scan).

    Columns: week_start (the Monday, a date), category_id, district_id, count; days from
    ``start`` to ``end`` inclusive.
    """
    rows = session.execute(
        select(
            ReportDailyCount.day,
            ReportDailyCount.category_id,
            ReportDailyCount.district_id,
            ReportDailyCount.count,
        ).where(ReportDailyCount.day >= start, ReportDailyCount.day <= end)
    ).all()
    columns = ["week_start", "category_id", "district_id", "count"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["day", *columns[1:]])
    frame["week_start"] = [d - dt.timedelta(days=d.weekday()) for d in frame["day"]]
    out = frame.groupby(columns[:3], as_index=False)["count"].sum()
    return out[columns]


def record_source_success(session: Session, source_id: int, now: dt.datetime | None = None) -> None:
    """Mark a completed run: attempt and success times, no error; close its failure alert."""
    now = now or utcnow()
    source = session.get(DataSource, source_id)
    if source is None:
        return
    source.last_attempt_at = now
    source.last_success_at = now
    source.last_error = ""
    alert = session.scalars(
        select(Alert).where(Alert.dedupe_key == SOURCE_FAILED_PREFIX + source.name)
    ).first()
    if alert is not None and alert.state in {"new", "acknowledged"}:
        before = {"state": alert.state}
        alert.state = "resolved"
        alert.state_reason = "The source answered again."
        write_audit(
            session,
            Principal.system("ingest"),
            "update",
            "alert",
            alert.id,
            before=before,
            after={"state": "resolved"},
        )


def record_source_failure(
    session: Session,
    name: str,
    kind: str,
    error: str,
    now: dt.datetime | None = None,
) -> int:
    """Note a failed run (its stored data stays as it was) and raise or refresh an alert.

    Returns the alert id. The alert is keyed per source, so repeated failures update one
    alert rather than piling up new ones.
    """
    now = now or utcnow()
    state = ensure_source(session, name, kind)
    source = session.get(DataSource, state.id)
    assert source is not None
    source.last_attempt_at = now
    source.last_error = error[:4000]
    last_good = (
        source.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if source.last_success_at else "never"
    )
    message = (
        f"Data source {name} failed: {error[:500]} Its last good data is kept "
        f"(last success: {last_good})."
    )
    key = SOURCE_FAILED_PREFIX + name
    alert = session.scalars(select(Alert).where(Alert.dedupe_key == key)).first()
    today = now.date()
    if alert is None:
        alert = Alert(
            dedupe_key=key,
            kind="stale",
            method="source_failure",
            severity="warning",
            series_key=f"source:{name}",
            first_detected=today,
            last_detected=today,
            message=message,
        )
        session.add(alert)
        session.flush()
        write_audit(
            session,
            Principal.system("ingest"),
            "create",
            "alert",
            alert.id,
            after={"dedupe_key": key, "message": message},
        )
    else:
        alert.last_detected = today
        alert.message = message
        if alert.state in {"resolved", "dismissed"}:
            alert.state = "new"
            alert.state_reason = ""
    return alert.id


def source_freshness(session: Session, now: dt.datetime | None = None) -> pd.DataFrame:
    """How stale each data source is, for the dashboard.

    Columns: name, kind, last_success_at, last_attempt_at, age_hours (since the last success;
    NaN when never), poll_minutes, failing (bool: the last attempt failed), stale (bool: never
    succeeded, or older than twice its poll interval, or a day when it has none), last_error.
    """
    now = now or utcnow()
    rows = session.execute(
        select(
            DataSource.name,
            DataSource.kind,
            DataSource.last_success_at,
            DataSource.last_attempt_at,
            DataSource.poll_minutes,
            DataSource.last_error,
        ).order_by(DataSource.name)
    ).all()
    records = []
    for name, kind, success, attempt, poll, error in rows:
        age = (now - success).total_seconds() / 3600 if success else float("nan")
        limit_hours = 2 * poll / 60 if poll else 24.0
        records.append(
            {
                "name": name,
                "kind": kind,
                "last_success_at": success,
                "last_attempt_at": attempt,
                "age_hours": age,
                "poll_minutes": poll,
                "failing": bool(error),
                "stale": success is None or age > limit_hours,
                "last_error": error or "",
            }
        )
    columns = [
        "name",
        "kind",
        "last_success_at",
        "last_attempt_at",
        "age_hours",
        "poll_minutes",
        "failing",
        "stale",
        "last_error",
    ]
    return pd.DataFrame(records, columns=columns)


def _rejection_field(message: str) -> str:
    lowered = message.lower()
    for key, field_name in (
        ("period", "period"),
        ("percentage", "value"),
        ("value", "value"),
        ("status", "status"),
        ("note", "note"),
    ):
        if key in lowered:
            return field_name
    return ""


OBSERVATION_ACTIONS = ("added", "updated", "unchanged")
PERIODS_LOOKED_UP = 2000  # more distinct periods than this: read the whole history


@dataclass(frozen=True)
class PlannedObservation:
    """One valid indicator row of a file and what recording it would do.

    ``action`` is ``added`` (no value yet for that period), ``updated`` (a correction: the
    value, status or note differs from what is stored) or ``unchanged``; ``previous`` is the
    value stored for the period before this row (None when added).
    """

    row: int
    indicator_id: int
    indicator_code: str
    indicator_name: str
    unit: str
    period: dt.date
    value: float
    status: str | None
    note: str
    action: str
    previous: float | None = None


@dataclass
class _StoredState:
    """What is stored for the indicators of a file, kept current while rows are planned."""

    values: dict[tuple[int, dt.date], float] = field(default_factory=dict)
    newest: dict[int, dt.date] = field(default_factory=dict)
    status: dict[int, tuple[str, str]] = field(default_factory=dict)
    seen: dict[int, set[tuple[str, str]]] = field(default_factory=dict)

    def note(self, indicator_id: int, period: dt.date, value: float) -> None:
        self.values[(indicator_id, period)] = value
        if period > self.newest.get(indicator_id, dt.date.min):
            self.newest[indicator_id] = period

    def note_status(self, indicator_id: int, pair: tuple[str, str]) -> None:
        self.status[indicator_id] = pair
        self.seen.setdefault(indicator_id, set()).add(pair)

    def status_stored(self, indicator_id: int, period: dt.date, pair: tuple[str, str]) -> bool:
        """The row's status and note are already recorded: they are the indicator's current
        ones, or (for a period older than its newest value) were recorded before."""
        if self.status.get(indicator_id) == pair:
            return True
        older = period < self.newest.get(indicator_id, dt.date.min)
        return older and pair in self.seen.get(indicator_id, set())


def _stored_state(session: Session, indicator_ids: set[int], periods: set[dt.date]) -> _StoredState:
    """Stored values of the file's periods, each indicator's newest period, and statuses."""
    state = _StoredState()
    if not indicator_ids:
        return state
    for indicator_id, newest in session.execute(
        select(Observation.indicator_id, func.max(Observation.period))
        .where(Observation.indicator_id.in_(indicator_ids))
        .group_by(Observation.indicator_id)
    ):
        state.newest[indicator_id] = newest
    where = [Observation.indicator_id.in_(indicator_ids)]
    if len(periods) <= PERIODS_LOOKED_UP:
        where.append(Observation.period.in_(periods))
    for indicator_id, period, value in session.execute(
        select(Observation.indicator_id, Observation.period, Observation.value)
        .where(*where)
        .order_by(Observation.id)
    ):
        state.values[(indicator_id, period)] = value
    for indicator_id, status, note in session.execute(
        select(
            IndicatorStatusUpdate.indicator_id,
            IndicatorStatusUpdate.status,
            IndicatorStatusUpdate.note,
        )
        .where(IndicatorStatusUpdate.indicator_id.in_(indicator_ids))
        .order_by(IndicatorStatusUpdate.id)
    ):
        state.note_status(indicator_id, (status, note))
    return state


def _upload_doubt(
    item: PlannedObservation,
    history: dict[dt.date, float],
    judged: tuple[str, tuple[float | None, ...]],
) -> str | None:
    """Why an uploaded value would need the form's confirmation (``value_doubt`` against the
    indicator's last periods, stored and earlier in the file), as a rejection's reason."""
    direction, references = judged
    values = [history[period] for period in sorted(history)][-PLAUSIBLE_HISTORY:]
    doubt = value_doubt(
        item.value, values, unit=item.unit, direction=direction, references=references
    )
    if doubt is None:
        return None
    return (
        f"{doubt} A file cannot confirm a value that looks wrong: correct it, or enter it "
        "on the form, which asks you to confirm it"
    )


def plan_observations(
    session: Session,
    actor: Principal,
    frame: pd.DataFrame,
    *,
    today: dt.date,
    department_id: int | None = None,
    plausibility: bool = False,
) -> tuple[list[PlannedObservation], list[Rejection]]:
    """What recording ``frame`` would do, row by row, without writing anything.

    ``frame`` follows ``triage.ingest.indicators.OBSERVATION_COLUMNS``; ``indicator`` matches
    an indicator's code or name (case-insensitive). A row is rejected when it names no
    indicator, when its indicator belongs to a department other than ``department_id`` (when
    given), when the actor may not write that indicator (a department head: only her own
    department), or when the department-head form would refuse it.

    With ``plausibility`` (a person's upload: the department page), a row is also rejected when
    the form would ask for a confirmation because its value looks implausible
    (``triage.validation.value_doubt``, judged against the indicator's last periods, stored or
    earlier in the file): a file has no confirmation step, so the row is rejected with the
    form's sentence and the other rows stay valid; a row that only repeats the stored value is
    never asked about. Without it (the scheduled and command-line imports of a registered
    source) a surprising value is recorded: a real surge in a city's own data is what the
    detectors are there to see, and no one is at hand to confirm it.

    The valid rows come back in the order they are to be recorded: by period, and in file
    order within a period (a later row for the same indicator and period corrects an earlier
    one), so that the status of an indicator's newest period is recorded last and a file
    imported twice changes nothing. A row whose value equals the stored value for its period
    is unchanged when it gives no status or note, or when its status and note are already
    stored (see ``_StoredState.status_stored``).
    """
    rejections: list[Rejection] = []
    if frame.empty:
        return [], rejections
    indicators = session.execute(
        select(
            Indicator.id,
            Indicator.code,
            Indicator.name,
            Indicator.unit,
            Indicator.department_id,
            Department.name,
            Indicator.direction,
            Indicator.target,
            Indicator.warning_threshold,
            Indicator.critical_threshold,
        ).join(Department, Department.id == Indicator.department_id)
    ).all()
    by_id = {row[0]: row[:6] for row in indicators}
    judged: dict[int, tuple[str, tuple[float | None, ...]]] = {
        row[0]: (row[6], tuple(row[7:])) for row in indicators
    }
    archived = set(session.scalars(select(Indicator.id).where(Indicator.archived_at.is_not(None))))
    by_key: dict[str, int] = {}
    for ident, _code, name, *_rest in indicators:
        by_key.setdefault(name.strip().lower(), ident)
    for ident, code, *_rest in indicators:
        by_key[code.strip().lower()] = ident
    scope_name = next((row[5] for row in indicators if row[4] == department_id), None)
    keys = frame["indicator"].astype(str).str.strip().str.lower().tolist()
    may_write: dict[int, str] = {}  # owning department id -> "" or the refusal
    valid: list[PlannedObservation] = []
    for record, key in zip(frame.itertuples(index=False), keys, strict=True):
        row = int(record.row)
        if key not in by_key:
            rejections.append(
                Rejection(
                    row,
                    "indicator",
                    "no indicator has this code or name",
                    str(record.indicator)[:200],
                )
            )
            continue
        indicator_id, code, name, unit, owner, owner_name = by_id[by_key[key]]
        if owner not in may_write:
            try:
                require(actor, Capability.UPDATE_INDICATORS)
                require_department(actor, owner)
                may_write[owner] = ""
            except PermissionDenied as exc:
                may_write[owner] = str(exc)
        if may_write[owner]:
            rejections.append(
                Rejection(row, "indicator", may_write[owner], str(record.indicator)[:200])
            )
            continue
        if indicator_id in archived:
            reason = f"{code} is archived: it takes no new values"
            rejections.append(Rejection(row, "indicator", reason, str(record.indicator)[:200]))
            continue
        if department_id is not None and owner != department_id:
            chosen = f" ({scope_name})" if scope_name else ""
            rejections.append(
                Rejection(
                    row,
                    "indicator",
                    f"{code} belongs to {owner_name}, not to the department of this upload{chosen}",
                    str(record.indicator)[:200],
                )
            )
            continue
        status = str(record.status or "").strip() or None
        try:
            clean = validate_observation(
                unit,
                record.period,
                record.value,
                status,
                record.note,
                today,
                references=judged[indicator_id][1],
            )
        except ValidationError as exc:
            field_name = _rejection_field(str(exc))
            written = {"period": record.period, "status": record.status, "note": record.note}
            raw = written.get(field_name, record.value)
            rejections.append(Rejection(row, field_name, str(exc), str(raw)[:200]))
            continue
        valid.append(
            PlannedObservation(
                row,
                indicator_id,
                code,
                name,
                unit,
                clean.period,
                clean.value,
                clean.status,
                clean.note,
                "unchanged",
            )
        )
    written = {item.indicator_id for item in valid}
    state = _stored_state(session, written, {item.period for item in valid})
    histories = recent_histories(session, written, limit=PLAUSIBLE_HISTORY) if plausibility else {}
    planned: list[PlannedObservation] = []
    for item in sorted(valid, key=lambda p: p.period):
        previous = state.values.get((item.indicator_id, item.period))
        pair = (item.status or "on_track", item.note)
        status_same = (item.status is None and not item.note) or state.status_stored(
            item.indicator_id, item.period, pair
        )
        history = histories.setdefault(item.indicator_id, {})
        if previous is not None and previous == item.value and status_same:
            action = "unchanged"
        else:
            if plausibility and previous != item.value:  # a new value: the form's question
                doubt = _upload_doubt(item, history, judged[item.indicator_id])
                if doubt:
                    rejections.append(Rejection(item.row, "value", doubt, f"{item.value:g}"))
                    continue
                history[item.period] = item.value
            action = "added" if previous is None else "updated"
            state.note(item.indicator_id, item.period, item.value)
            if item.status is not None or item.note:
                state.note_status(item.indicator_id, pair)
        planned.append(replace(item, action=action, previous=previous))
    rejections.sort(key=lambda rejection: rejection.row)
    return planned, rejections


def count_planned(planned: list[PlannedObservation]) -> UpsertCounts:
    """How many planned rows would be added, updated (corrections) and left unchanged."""
    counts = UpsertCounts()
    for item in planned:
        setattr(counts, item.action, getattr(counts, item.action) + 1)
    return counts


def record_planned(session: Session, actor: Principal, planned: list[PlannedObservation]) -> int:
    """Write the planned rows that change something, each with its audit row.

    The rows come from ``plan_observations`` (validated, scope-checked, for this ``actor``);
    each is written as ``db.indicators.record_observation`` writes one value (an observation, a
    status update when a status or note is given, an audit row), but in a few multi-row
    statements rather than a flush per row. Returns how many were written.
    """
    changing = [item for item in planned if item.action != "unchanged"]
    if not changing:
        return 0
    require(actor, Capability.UPDATE_INDICATORS)
    observations = Observation.__table__
    new_ids = session.scalars(
        observations.insert().returning(observations.c.id, sort_by_parameter_order=True),
        [
            {
                "indicator_id": item.indicator_id,
                "period": item.period,
                "value": item.value,
                "entered_by_id": actor.user_id,
            }
            for item in changing
        ],
    ).all()
    statuses = [
        {
            "indicator_id": item.indicator_id,
            "status": item.status or "on_track",
            "note": item.note,
            "author_id": actor.user_id,
        }
        for item in changing
        if item.status is not None or item.note
    ]
    if statuses:
        session.execute(IndicatorStatusUpdate.__table__.insert(), statuses)
    for item, observation_id in zip(changing, new_ids, strict=True):
        after: dict[str, object] = {
            "indicator_id": item.indicator_id,
            "period": item.period,
            "value": item.value,
        }
        if item.status is not None or item.note:
            after.update(status=item.status, note=item.note)
        write_audit(session, actor, "create", "observation", observation_id, after=after)
    session.flush()
    return len(changing)


def import_observations(
    session: Session,
    actor: Principal,
    frame: pd.DataFrame,
    *,
    today: dt.date,
    department_id: int | None = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    plausibility: bool = False,
) -> tuple[UpsertCounts, list[Rejection]]:
    """Record indicator rows through the department-head form's rules, row by row.

    ``frame`` follows ``triage.ingest.indicators.OBSERVATION_COLUMNS``; ``indicator`` matches
    an indicator's code or name (case-insensitive). A row whose value (and status and note)
    equal what is stored for that indicator and period is unchanged, so a file imported twice
    changes nothing; a different value is a correction appended to the history (updated); a
    period with no value yet is added. Rows the form would refuse, and rows the actor may not
    write, come back as rejections (see ``plan_observations``, which also explains
    ``department_id``); the other rows are recorded, each with its audit row.

    ``dry_run`` writes nothing and returns what recording would do. With ``all_or_nothing``
    a single rejection means nothing is written and the counts are all zero. ``plausibility``
    also rejects the rows the form would ask about (see ``plan_observations``).
    """
    planned, rejections = plan_observations(
        session,
        actor,
        frame,
        today=today,
        department_id=department_id,
        plausibility=plausibility,
    )
    counts = count_planned(planned)
    if dry_run:
        return counts, rejections
    if all_or_nothing and rejections:
        return UpsertCounts(), rejections
    record_planned(session, actor, planned)
    return counts, rejections


def report_counts_consistent(session: Session, city_tz: str) -> pd.DataFrame:
    """Cells where the daily counts and a GROUP BY over raw reports disagree (for checks).

    Columns: day, category_id, district_id, stored, actual. Empty when consistent. Scans the
    raw reports: for tests and the ``triage bench`` checks, never for pages.
    """
    raw = session.execute(
        select(
            CitizenReport.requested_at, CitizenReport.category_id, CitizenReport.district_id
        ).where(CitizenReport.category_id.is_not(None))
    ).all()
    unlocated = session.scalar(select(District.id).where(District.code == UNLOCATED_DISTRICT_CODE))
    frame = pd.DataFrame(
        [tuple(r) for r in raw], columns=["requested_at", "category_id", "district_id"]
    )
    if len(frame):
        frame["requested_at"] = pd.to_datetime(frame["requested_at"]).astype("datetime64[us]")
        frame["day"] = local_days(frame["requested_at"], city_tz)
        frame["district_id"] = frame["district_id"].fillna(unlocated if unlocated else -1)
        actual = frame.groupby(["day", "category_id", "district_id"]).size().rename("actual")
    else:
        actual = pd.Series(dtype="int64", name="actual")
    stored_rows = session.execute(
        select(
            ReportDailyCount.day,
            ReportDailyCount.category_id,
            ReportDailyCount.district_id,
            ReportDailyCount.count,
        )
    ).all()
    stored = pd.DataFrame(
        [(d.isoformat(), int(c), int(t), int(n)) for d, c, t, n in stored_rows],
        columns=["day", "category_id", "district_id", "stored"],
    ).set_index(["day", "category_id", "district_id"])["stored"]
    actual.index = (
        actual.index.set_levels(
            [
                actual.index.levels[0],
                actual.index.levels[1].astype("int64"),
                actual.index.levels[2].astype("int64"),
            ]
        )
        if len(actual)
        else actual.index
    )
    joined = pd.concat([stored, actual], axis=1).fillna(0).astype("int64")
    diff = joined[joined["stored"] != joined["actual"]].reset_index()
    diff.columns = ["day", "category_id", "district_id", "stored", "actual"]
    return diff


__all__ = [
    "CategoryCache",
    "DistrictResolver",
    "PlannedObservation",
    "ServiceCounts",
    "SourceState",
    "UpsertCounts",
    "category_code",
    "count_planned",
    "ensure_sentinel_districts",
    "ensure_source",
    "find_source",
    "import_observations",
    "load_districts",
    "plan_observations",
    "record_planned",
    "record_services",
    "record_source_failure",
    "record_source_success",
    "save_cursor",
    "service_groups",
    "source_freshness",
    "unmapped_categories",
    "update_source_config",
    "upsert_reports",
    "weekly_report_counts",
]
