"""Seed the demo city into a database: Core bulk inserts in a few transactions, at any scale.

The catalogue goes in through the city-pack import (``db.catalog.import_pack``), as a real
city's does; the rest of ``triage.demo.DemoCity`` (sign-ins, history, reports) is written in
bulk with its natural keys resolved to ids, and ``report_daily_counts`` is filled alongside.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.catalog import import_pack
from db.ingest import SENTINEL_DISTRICT_CODES
from db.models import (
    Actor,
    AppSetting,
    Base,
    CategoryProblem,
    CausalFactor,
    CitizenReport,
    Decision,
    Department,
    District,
    Engagement,
    FactorLink,
    Indicator,
    IndicatorStatusUpdate,
    Innovation,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportCategory,
    ReportDailyCount,
    User,
)
from db.session import Database
from triage.demo import REPORT_SOURCE, DemoCity, build_demo_city
from triage.security import ROLE_LABELS, Principal, Role, hash_password

SEEDER = Principal.system("demo-seed")

Progress = Callable[[str, float], None]

INSERT_BATCH_ROWS = 50_000  # dicts alive at once: bounds memory at every scale
TRANSACTION_ROWS = 1_000_000  # reports per transaction, so a large seed commits as it goes
_AGGREGATE_KEYS = ["day", "category_code", "district_code"]


class DemoCityExists(RuntimeError):
    """The database already holds data, so seeding would mix the demo city into it."""


@dataclass(frozen=True)
class SeedSummary:
    """What ``seed_demo_city`` wrote: rows per table (in insert order) and the demo sign-ins."""

    seed: int
    scale: str
    today: dt.date
    counts: dict[str, int]
    sign_ins: tuple[tuple[str, str, str], ...]  # (username, password, role label)
    seconds: float


def seed_demo_city(
    database: Database,
    *,
    seed: int = 7,
    scale: str = "city",
    today: dt.date,
    replace: bool = False,
    progress: Progress | None = None,
) -> SeedSummary:
    """Build the demo city and write it; refuse a database with data unless ``replace``.

    With ``replace=True`` every row of every table is deleted first, in the same transaction
    as the reference data. Reports (and their daily aggregate) are written in later
    transactions of up to ``TRANSACTION_ROWS`` rows, the audit row last.
    """
    started = time.monotonic()
    report = progress or _no_progress
    if not replace:
        with database.session() as session:
            _refuse_if_occupied(session)
    city = build_demo_city(seed=seed, scale=scale, today=today, progress=report)
    report("Hashing demo passwords", 0.0)
    hashes = _hash_passwords(city)
    report("Hashing demo passwords", 1.0)

    counts: dict[str, int] = {}
    report("Writing reference data", 0.0)
    with database.session(write=True) as session:
        if replace:
            _delete_everything(session, database.sqlite)
        else:
            _refuse_if_occupied(session)
        ids = _write_reference(session, city, hashes, counts)
    report("Writing reference data", 1.0)

    _write_observations(database, city, ids, counts, report)
    _write_reports(database, city, ids, counts, report)

    with database.session(write=True) as session:
        write_audit(
            session,
            SEEDER,
            "seed",
            "demo_city",
            entity_id=city.name,
            after={
                "seed": seed,
                "scale": scale,
                "today": city.today,
                "replace": replace,
                "catalogue": "imported as a city pack (db.catalog.import_pack)",
                "counts": counts,
                "planted": {
                    "surge": f"{city.planted.surge_category} in {city.planted.surge_district}",
                    "indicator": city.planted.indicator_code,
                },
            },
        )
    counts["audit_log"] = 1
    return SeedSummary(
        seed=seed,
        scale=scale,
        today=city.today,
        counts=counts,
        sign_ins=tuple(
            (u.username, u.password, _role_label(u.role, u.department_code)) for u in city.users
        ),
        seconds=time.monotonic() - started,
    )


def _no_progress(_stage: str, _fraction: float) -> None:
    return None


def _role_label(role: str, department_code: str | None) -> str:
    label = ROLE_LABELS[Role(role)]
    return f"{label} ({department_code})" if department_code else label


def _hash_passwords(city: DemoCity) -> dict[str, str]:
    # scrypt releases the GIL, so threads overlap the 14 deliberately slow hashes.
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashed = pool.map(hash_password, [u.password for u in city.users])
        return dict(zip([u.username for u in city.users], hashed, strict=True))


# --------------------------------------------------------------------------------------------
# Guarding and clearing
# --------------------------------------------------------------------------------------------

_GUARDED = (
    (Problem, "problem"),
    (Department, "department"),
    (District, "district"),
    (Indicator, "indicator"),
    (ReportCategory, "report category"),
    (CitizenReport, "citizen report"),
    (User, "user"),
)


def _refuse_if_occupied(session: Session) -> None:
    """Raise ``DemoCityExists`` naming what the database already holds."""
    held = []
    for model, noun in _GUARDED:
        n = session.scalar(select(func.count()).select_from(model)) or 0
        if n:
            plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
            held.append(f"{n:,} {noun if n == 1 else plural}")
    if held:
        raise DemoCityExists(
            f"The database already holds data ({', '.join(held)}); the demo city is only "
            "seeded into an empty database unless replace is requested."
        )


def _delete_everything(session: Session, sqlite: bool) -> None:
    """Delete every row of every table, children before parents."""
    tables = list(reversed(Base.metadata.sorted_tables))
    if sqlite:
        for table in tables:
            session.execute(table.delete())
        return
    names = ", ".join(f'"{t.name}"' for t in tables)
    session.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY"))


# --------------------------------------------------------------------------------------------
# Reference data: everything but observations and reports
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ids:
    departments: dict[str, int]
    districts: dict[str, int]
    users: dict[str, int]
    indicators: dict[str, int]
    categories: dict[str, int]


def _insert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> int:
    for start in range(0, len(rows), INSERT_BATCH_ROWS):
        session.execute(insert(model), list(rows[start : start + INSERT_BATCH_ROWS]))
    return len(rows)


def _insert_ids(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert and return the new ids in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(statement, list(rows)).scalars())


def _insert_keyed(
    session: Session, model: Any, keys: Sequence[str], rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert and map each row's natural key (``keys``, in row order) to its new id."""
    return dict(zip(keys, _insert_ids(session, model, rows), strict=True))


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def _write_reference(
    session: Session, city: DemoCity, hashes: dict[str, str], counts: dict[str, int]
) -> _Ids:
    """Import the catalogue as a city pack, then write what only a running city has.

    The pack import (``db.catalog.import_pack``, the one ``triage city import`` runs) writes
    districts, departments, categories, indicators, problems and their links, actors, policy
    areas, factors, innovations and engagements; its one audit row is the seed's own. Then
    come the sign-ins, owners, dates and link weights, status updates and decisions.
    """
    report = import_pack(session, SEEDER, city.as_pack(), city_tz=city.timezone, audit=False)
    if report.rejects:
        shown = "; ".join(str(r) for r in report.rejects[:5])
        raise RuntimeError(f"the demo catalogue did not import cleanly: {shown}")
    dept_ids = _ids_by(session, Department.code, Department.id)
    district_ids = {
        code: i
        for code, i in _ids_by(session, District.code, District.id).items()
        if code not in SENTINEL_DISTRICT_CODES
    }
    indicator_ids = _ids_by(session, Indicator.code, Indicator.id)
    category_ids = _ids_by(session, ReportCategory.code, ReportCategory.id)
    problem_ids = _ids_by(session, Problem.code, Problem.id)

    user_rows = [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "department_id": dept_ids[u.department_code] if u.department_code else None,
            "password_hash": hashes[u.username],
        }
        for u in city.users
    ]
    user_ids = _insert_keyed(session, User, [u.username for u in city.users], user_rows)

    _update(
        session,
        Problem,
        [
            {
                "id": problem_ids[p["key"]],
                "owner_id": user_ids[p["owner_username"]],
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            }
            for p in city.problems
        ],
    )
    _update(
        session,
        Indicator,
        [{"id": indicator_ids[i["code"]], "created_at": i["created_at"]} for i in city.indicators],
    )
    for model, links, column, targets, key in (
        (
            ProblemIndicator,
            city.problem_indicators,
            "indicator_id",
            indicator_ids,
            "indicator_code",
        ),
        (CategoryProblem, city.category_problems, "category_id", category_ids, "category_code"),
    ):
        # The pack import gave every link weight 1; the demo's own weights replace it.
        weights = [
            {
                "problem_id": problem_ids[r["problem_key"]],
                column: targets[r[key]],
                "weight": r["weight"],
            }
            for r in links
        ]
        _update(session, model, weights)
    counts["indicator_status_updates"] = _insert(
        session,
        IndicatorStatusUpdate,
        [
            {
                "indicator_id": indicator_ids[u["indicator_code"]],
                "status": u["status"],
                "note": u["note"],
                "author_id": user_ids[u["author_username"]],
                "created_at": u["created_at"],
            }
            for u in city.indicator_status_updates
        ],
    )
    counts["decisions"] = _insert(
        session,
        Decision,
        [
            {
                **_without(d, "problem_key", "author_username"),
                "problem_id": problem_ids[d["problem_key"]],
                "author_id": user_ids[d["author_username"]],
            }
            for d in city.decisions
        ],
    )
    for model in (
        AppSetting,
        Department,
        District,
        User,
        Problem,
        ProblemDistrict,
        Indicator,
        ProblemIndicator,
        ReportCategory,
        CategoryProblem,
        CausalFactor,
        FactorLink,
        Actor,
        Engagement,
        Innovation,
    ):
        counts[model.__tablename__] = session.scalar(select(func.count()).select_from(model)) or 0
    return _Ids(dept_ids, district_ids, user_ids, indicator_ids, category_ids)


def _ids_by(session: Session, key: Any, column: Any) -> dict[str, int]:
    return {k: i for k, i in session.execute(select(key, column)).all() if k is not None}


def _update(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE of rows named by their primary key (Core: it leaves ``version`` alone)."""
    if not rows:
        return
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    values = [c for c in rows[0] if c not in keys]
    statement = (
        update(table)
        .where(and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys)))
        .values({c: bindparam(f"new_{c}") for c in values})
    )
    params = [
        {**{f"key_{k}": r[k] for k in keys}, **{f"new_{c}": r[c] for c in values}} for r in rows
    ]
    for start in range(0, len(params), INSERT_BATCH_ROWS):
        session.execute(statement, params[start : start + INSERT_BATCH_ROWS])


# --------------------------------------------------------------------------------------------
# Bulk rows from DataFrames
# --------------------------------------------------------------------------------------------


def _python_datetimes(values: pd.Series | np.ndarray) -> list[Any]:
    """datetime64 values as ``datetime`` objects, NaT as None (what every driver accepts)."""
    return np.asarray(values).astype("datetime64[us]").astype(object).tolist()


def _python_dates(values: pd.Series | np.ndarray) -> list[Any]:
    return np.asarray(values).astype("datetime64[D]").astype(object).tolist()


def _codes_to_ids(values: pd.Series, ids: dict[str, int]) -> list[int]:
    """Map a categorical column of natural keys to database ids without a per-row lookup."""
    categorical = values.astype("category")
    lookup = np.asarray([ids[code] for code in categorical.cat.categories], dtype=np.int64)
    return lookup[categorical.cat.codes.to_numpy()].tolist()


def _rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """Dicts from equal-length columns; a column may be ``itertools.repeat`` for a constant."""
    keys = list(columns)
    return [
        dict(zip(keys, values, strict=False)) for values in zip(*columns.values(), strict=False)
    ]


def _write_observations(
    database: Database, city: DemoCity, ids: _Ids, counts: dict[str, int], report: Progress
) -> None:
    frame = city.observations
    total = len(frame)
    report("Writing indicator history", 0.0)
    written = 0
    with database.session(write=True) as session:
        for start in range(0, total, INSERT_BATCH_ROWS):
            part = frame.iloc[start : start + INSERT_BATCH_ROWS]
            rows = _rows(
                {
                    "indicator_id": _codes_to_ids(part["indicator_code"], ids.indicators),
                    "period": _python_dates(part["period"]),
                    "value": part["value"].astype(float).tolist(),
                    "entered_by_id": _codes_to_ids(part["entered_by"], ids.users),
                    "entered_at": _python_datetimes(part["entered_at"]),
                }
            )
            session.execute(insert(Observation), rows)
            written += len(rows)
            report("Writing indicator history", written / max(total, 1))
    counts["observations"] = written
    if not total:
        report("Writing indicator history", 1.0)


class _DailyCounts:
    """Counts per (day, category, district) built chunk by chunk from chronological reports.

    A day may straddle two chunks, so the last day seen is held back until a later chunk
    (or ``finish``) shows it is complete.
    """

    def __init__(self) -> None:
        self._pending: pd.DataFrame | None = None

    def add(self, chunk: pd.DataFrame) -> pd.DataFrame:
        counts = chunk.groupby(_AGGREGATE_KEYS, observed=True).size().rename("count")
        counts = counts.reset_index()
        if self._pending is not None:
            counts = pd.concat([self._pending, counts], ignore_index=True)
            counts = counts.groupby(_AGGREGATE_KEYS, observed=True)["count"].sum().reset_index()
        last = counts["day"].max()
        self._pending = counts[counts["day"] == last]
        return counts[counts["day"] < last]

    def finish(self) -> pd.DataFrame:
        pending, self._pending = self._pending, None
        return pending if pending is not None else pd.DataFrame(columns=[*_AGGREGATE_KEYS, "count"])


def _aggregate_rows(frame: pd.DataFrame, ids: _Ids) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    return _rows(
        {
            "day": _python_dates(frame["day"]),
            "category_id": _codes_to_ids(frame["category_code"], ids.categories),
            "district_id": _codes_to_ids(frame["district_code"], ids.districts),
            "count": frame["count"].astype(np.int64).tolist(),
        }
    )


def _report_rows(chunk: pd.DataFrame, ids: _Ids) -> list[dict[str, Any]]:
    updated = _python_datetimes(chunk["updated_at"])
    return _rows(
        {
            "source": itertools.repeat(REPORT_SOURCE),
            "service_request_id": chunk["service_request_id"].tolist(),
            "category_id": _codes_to_ids(chunk["category_code"], ids.categories),
            "raw_category": chunk["raw_category"].astype(str).tolist(),
            "description": chunk["description"].tolist(),
            "status": chunk["status"].tolist(),
            "requested_at": _python_datetimes(chunk["requested_at"]),
            "updated_at": updated,
            "closed_at": _python_datetimes(chunk["closed_at"]),
            "lat": chunk["lat"].tolist(),
            "lon": chunk["lon"].tolist(),
            "address": chunk["address"].tolist(),
            "district_id": _codes_to_ids(chunk["district_code"], ids.districts),
            "ingested_at": updated,
        }
    )


def _write_reports(
    database: Database, city: DemoCity, ids: _Ids, counts: dict[str, int], report: Progress
) -> None:
    total = city.report_count
    chunks: Iterator[pd.DataFrame] = city.iter_reports(INSERT_BATCH_ROWS)
    daily = _DailyCounts()
    written = aggregated = 0
    report("Writing citizen reports", 0.0)
    finished = False
    while not finished:
        with database.session(write=True) as session:
            in_transaction = 0
            for chunk in chunks:
                rows = _report_rows(chunk, ids)
                session.execute(insert(CitizenReport), rows)
                aggregated += _insert(
                    session, ReportDailyCount, _aggregate_rows(daily.add(chunk), ids)
                )
                written += len(rows)
                in_transaction += len(rows)
                report("Writing citizen reports", written / max(total, 1))
                if in_transaction >= TRANSACTION_ROWS:
                    break
            else:
                aggregated += _insert(
                    session, ReportDailyCount, _aggregate_rows(daily.finish(), ids)
                )
                finished = True
    counts["citizen_reports"] = written
    counts["report_daily_counts"] = aggregated
    if not total:
        report("Writing citizen reports", 1.0)
