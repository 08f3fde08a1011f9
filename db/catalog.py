"""A city's catalogue in the database: import a city pack, export it, re-place reports.

``import_pack`` upserts districts, departments, categories, indicators, problems and actors by
their natural keys, writing one audit row per change in the caller's transaction; rows equal
to what is stored are left alone, so a second import changes nothing. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.ingest import (
    SENTINEL_DISTRICT_CODES,
    _apply_counts,
    _is_sqlite,
    category_code,
    ensure_sentinel_districts,
    load_districts,
    local_days,
)
from db.models import (
    Actor,
    AppSetting,
    CategoryProblem,
    CitizenReport,
    Department,
    District,
    Indicator,
    Problem,
    ProblemIndicator,
    ReportCategory,
    ReportDailyCount,
)
from triage.citypack import (
    ActorSpec,
    CategorySpec,
    CityPack,
    CitySpec,
    DepartmentSpec,
    DistrictSpec,
    IndicatorSpec,
    ProblemSpec,
    Reject,
)
from triage.security import Capability, Principal, require

CITY_SETTING = "city"
PLACE_BATCH = 200_000
FILES = (
    "city.toml",
    "districts",
    "departments.csv",
    "categories",
    "indicators.csv",
    "problems.csv",
    "actors.csv",
)


@dataclass
class FileCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class Placement:
    """What re-placing stored reports did: reports looked at, moved, and now outside."""

    checked: int
    moved: int
    outside: int


@dataclass
class ImportReport:
    """Per file: added, updated, unchanged, rejected; the rejects; the re-placement, if any."""

    files: dict[str, FileCounts] = field(default_factory=lambda: {f: FileCounts() for f in FILES})
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    placement: Placement | None = None

    @property
    def changed(self) -> int:
        return sum(c.added + c.updated for c in self.files.values())


def _digest(geometry: Mapping[str, Any] | None) -> str | None:
    """A short fingerprint of a boundary, so audit rows do not copy megabytes of coordinates."""
    if not geometry:
        return None
    text = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _file_of(entity: str) -> str:
    return {
        "district": "districts",
        "department": "departments.csv",
        "report_category": "categories",
        "indicator": "indicators.csv",
        "problem": "problems.csv",
        "actor": "actors.csv",
        "app_setting": "city.toml",
    }[entity]


class _Writer:
    """Applies changes to ORM rows with an audit row per change, counting per file."""

    def __init__(
        self,
        session: Session,
        actor: Principal,
        report: ImportReport,
        lines: Mapping[tuple[str, str], int],
    ) -> None:
        self.session = session
        self.actor = actor
        self.report = report
        self.lines = lines

    def upsert(
        self,
        entity: str,
        row: Any,
        values: Mapping[str, Any],
        make: Callable[[], Any],
        shown: Callable[[Mapping[str, Any]], dict[str, Any]] = dict,
        links: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]] | None = None,
    ) -> Any:
        """Create ``make()`` when ``row`` is None, else set the ``values`` that differ.

        ``links(row)`` syncs rows hanging off this one and returns (before, after) of what it
        changed, so that a changed link list counts (and is audited) as an update.
        """
        counts = self.report.files[_file_of(entity)]
        created = row is None
        if created:
            row = make()
            for key, value in values.items():
                setattr(row, key, value)
            self.session.add(row)
            before: dict[str, Any] = {}
            changed = dict(values)
        else:
            stored = {k: getattr(row, k) for k in values}
            changed = {k: v for k, v in values.items() if stored[k] != v}
            before = {k: stored[k] for k in changed}
            for key, value in changed.items():
                setattr(row, key, value)
        self.session.flush()
        if links is not None:
            links_before, links_after = links(row)
            before.update(links_before)
            changed.update(links_after)
        if created:
            write_audit(self.session, self.actor, "create", entity, row.id, after=shown(changed))
            counts.added += 1
        elif changed:
            write_audit(
                self.session,
                self.actor,
                "update",
                entity,
                row.id,
                before=shown(before),
                after=shown(changed),
            )
            counts.updated += 1
        else:
            counts.unchanged += 1
        return row


def _district_shown(values: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    if "geometry" in shown:
        shown["geometry"] = _digest(shown["geometry"])
    return shown


def _city_values(city: CitySpec) -> dict[str, Any]:
    return {
        "name": city.name,
        "timezone": city.timezone,
        "fiscal_year_start": city.fiscal_year_start,
    }


def import_pack(
    session: Session, actor: Principal, pack: CityPack, *, city_tz: str
) -> ImportReport:
    """Write a read pack into the catalogue; re-place stored reports when boundaries changed.

    Rows are matched by code (districts, departments, indicators, problems; a problem without
    a code but with the same title is adopted), categories by ``category_code`` of their name,
    actors by name. Nothing absent from the pack is deleted. A row that would clash with a
    stored row under another key (two departments with one name) is rejected, not written.
    ``city_tz`` is the zone the daily report counts were kept in (``Settings.timezone``).
    """
    require(actor, Capability.CONFIGURE)
    report = ImportReport(rejects=list(pack.rejects), notes=list(pack.notes))
    for reject in pack.rejects:
        report.files[_file_of_reject(reject.file)].rejected += 1
    writer = _Writer(session, actor, report, pack.lines)
    ensure_sentinel_districts(session)

    setting = session.get(AppSetting, CITY_SETTING)
    city = _city_values(pack.city)
    counts = report.files["city.toml"]
    if setting is None:
        session.add(AppSetting(key=CITY_SETTING, value=city))
        write_audit(session, actor, "create", "app_setting", CITY_SETTING, after=city)
        counts.added += 1
    elif setting.value != city:
        write_audit(
            session, actor, "update", "app_setting", CITY_SETTING, before=setting.value, after=city
        )
        setting.value = city
        counts.updated += 1
    else:
        counts.unchanged += 1

    boundaries_changed = _import_districts(
        session, writer, pack.districts, pack.city.districts_file or "districts"
    )
    departments = _import_departments(session, writer, pack.departments)
    categories = _import_categories(session, writer, pack, departments)
    indicators = _import_indicators(session, writer, pack.indicators, departments)
    _import_problems(session, writer, pack.problems, departments, indicators, categories)
    _import_actors(session, writer, pack.actors)
    session.flush()
    if boundaries_changed:
        report.placement = place_reports(session, actor, city_tz)
    return report


def _reject(writer: _Writer, file: str, key: str, reason: str) -> None:
    """Reject the row of ``file`` whose key is ``key`` (its line found from the read pack)."""
    line = writer.lines.get((file, key.casefold()), 0)
    writer.report.rejects.append(Reject(file, line, reason))
    writer.report.files[_file_of_reject(file)].rejected += 1


def _file_of_reject(file: str) -> str:
    """The report line a reject counts on: boundary files and districts.csv under districts."""
    if file in FILES:
        return file
    return "categories" if file == "categories.csv" else "districts"


def _import_districts(
    session: Session, writer: _Writer, districts: list[DistrictSpec], pack_file: str
) -> bool:
    """Upsert districts by code; True when a boundary was added or changed."""
    stored = {
        d.code.casefold(): d
        for d in session.scalars(select(District)).all()
        if d.code not in SENTINEL_DISTRICT_CODES
    }
    names = {d.name.casefold(): d.code for d in session.scalars(select(District)).all()}
    changed = False
    for spec in districts:
        row = stored.get(spec.code.casefold())
        holder = names.get(spec.name.casefold())
        if holder is not None and (row is None or holder != row.code):
            _reject(
                writer,
                pack_file,
                spec.code,
                f"district {spec.code}: the name {spec.name!r} is taken by another district",
            )
            continue
        values: dict[str, Any] = {"code": spec.code, "name": spec.name, "geometry": spec.geometry}
        if spec.population is not None or row is None:
            values["population"] = spec.population or 0
        for key in ("median_household_income", "need_index"):
            if getattr(spec, key) is not None:
                values[key] = getattr(spec, key)
        before = row.geometry if row is not None else None
        row = writer.upsert("district", row, values, District, _district_shown)
        changed = changed or before != row.geometry
        if row is not None:
            names[spec.name.casefold()] = row.code
    return changed


def _import_departments(
    session: Session, writer: _Writer, departments: list[DepartmentSpec]
) -> dict[str, int]:
    stored = {d.code.casefold(): d for d in session.scalars(select(Department)).all()}
    names = {d.name.casefold(): d.code for d in stored.values()}
    for spec in departments:
        row = stored.get(spec.code.casefold())
        holder = names.get(spec.name.casefold())
        if holder is not None and (row is None or holder != row.code):
            _reject(
                writer,
                "departments.csv",
                spec.code,
                f"the name {spec.name!r} belongs to department {holder}",
            )
            continue
        if row is not None:
            names.pop(row.name.casefold(), None)
        row = writer.upsert("department", row, {"code": spec.code, "name": spec.name}, Department)
        stored[spec.code.casefold()] = row
        names[spec.name.casefold()] = row.code
    return {code: row.id for code, row in stored.items()}


def _import_categories(
    session: Session, writer: _Writer, pack: CityPack, departments: dict[str, int]
) -> dict[str, int]:
    """Categories of ``categories.csv`` and of every problem; returns category code -> id."""
    wanted: dict[str, CategorySpec | str] = {}
    for problem in pack.problems:
        for name in problem.categories:
            wanted.setdefault(category_code(name), name)
    for spec in pack.categories:
        wanted[category_code(spec.name)] = spec
    stored = {
        c.code: c
        for c in session.scalars(
            select(ReportCategory).where(ReportCategory.code.in_(list(wanted)))
        ).all()
    }
    for code, spec in wanted.items():
        row = stored.get(code)
        if isinstance(spec, CategorySpec):
            department = departments.get(spec.department.casefold())
            if department is None:
                _reject(writer, "categories.csv", spec.name, "its department was not imported")
                spec = spec.name
        if isinstance(spec, CategorySpec):
            values: dict[str, Any] = {
                "code": code,
                "name": spec.name[:200],
                "department_id": department,
            }
        else:
            values = {"code": code, "name": spec[:200]}
            if row is not None:
                values = {"code": code}  # named by a problem only: keep its stored name
        stored[code] = writer.upsert("report_category", row, values, ReportCategory)
    return {code: row.id for code, row in stored.items()}


def _import_indicators(
    session: Session, writer: _Writer, indicators: list[IndicatorSpec], departments: dict[str, int]
) -> dict[str, int]:
    stored = {i.code.casefold(): i for i in session.scalars(select(Indicator)).all()}
    for spec in indicators:
        if spec.department.casefold() not in departments:
            _reject(writer, "indicators.csv", spec.code, "its department was not imported")
            continue
        values = {
            "code": spec.code,
            "name": spec.name,
            "department_id": departments[spec.department.casefold()],
            "unit": spec.unit,
            "direction": spec.direction,
            "cadence": spec.cadence,
            "target": spec.target,
            "warning_threshold": spec.warning,
            "critical_threshold": spec.critical,
            "description": spec.description,
            "source": spec.source,
        }
        row = stored.get(spec.code.casefold())
        stored[spec.code.casefold()] = writer.upsert("indicator", row, values, Indicator)
    return {code: row.id for code, row in stored.items()}


def _links(session: Session, model: Any, key: Any, problem_id: int) -> dict[int, Any]:
    return {
        getattr(link, key): link
        for link in session.scalars(select(model).where(model.problem_id == problem_id)).all()
    }


def _import_problems(
    session: Session,
    writer: _Writer,
    problems: list[ProblemSpec],
    departments: dict[str, int],
    indicators: dict[str, int],
    categories: dict[str, int],
) -> None:
    rows = session.scalars(select(Problem)).all()
    by_code = {p.code.casefold(): p for p in rows if p.code}
    by_title = {p.title.casefold(): p for p in rows if not p.code}
    for spec in problems:
        lead = departments.get(spec.lead_department.casefold()) if spec.lead_department else None
        if spec.lead_department and lead is None:
            _reject(writer, "problems.csv", spec.code, "its lead department was not imported")
            continue
        row = by_code.get(spec.code.casefold()) or by_title.get(spec.title.casefold())
        values: dict[str, Any] = {
            "code": spec.code,
            "title": spec.title,
            "description": spec.description,
            "policy_area": spec.policy_area,
            "desired_outcome": spec.desired_outcome,
            "lead_department_id": lead,
        }
        if row is None or spec.status != "watch":
            # "watch" is also the empty cell's value: it never demotes a problem set in the app.
            values["status"] = spec.status
        missing = [c for c in spec.indicators if c.casefold() not in indicators]
        if missing:
            _reject(
                writer,
                "problems.csv",
                spec.code,
                f"indicator(s) {', '.join(missing)} were not imported",
            )
            continue
        want_indicators = [indicators[c.casefold()] for c in spec.indicators]
        want_categories = [categories[category_code(c)] for c in spec.categories]

        def links(
            problem: Problem,
            spec: ProblemSpec = spec,
            want_indicators: list[int] = want_indicators,
            want_categories: list[int] = want_categories,
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            old = _sync_links(
                session, problem.id, ProblemIndicator, "indicator_id", want_indicators
            )
            if old is not None:
                before["indicators"], after["indicators"] = old, list(spec.indicators)
            old = _sync_links(session, problem.id, CategoryProblem, "category_id", want_categories)
            if old is not None:
                before["categories"], after["categories"] = old, list(spec.categories)
            return before, after

        writer.upsert("problem", row, values, Problem, links=links)


def _sync_links(
    session: Session, problem_id: int, model: Any, key: str, wanted: list[int]
) -> list[int] | None:
    """Make the problem's links exactly ``wanted``; the old target ids if that changed them.

    New links weigh 1; a link that stays keeps the weight set in the app.
    """
    current = _links(session, model, key, problem_id)
    if set(current) == set(wanted):
        return None
    for target in wanted:
        if target not in current:
            session.add(model(problem_id=problem_id, **{key: target}, weight=1.0))
    for target, link in current.items():
        if target not in set(wanted):
            session.delete(link)
    session.flush()
    return sorted(current)


def _import_actors(session: Session, writer: _Writer, actors: list[ActorSpec]) -> None:
    stored = {a.name.casefold(): a for a in session.scalars(select(Actor)).all()}
    for spec in actors:
        values = {
            "name": spec.name,
            "sector": spec.sector,
            "description": spec.description,
            "contact": spec.contact,
        }
        row = stored.get(spec.name.casefold())
        stored[spec.name.casefold()] = writer.upsert("actor", row, values, Actor)


# --------------------------------------------------------------------------------------------
# Placing stored reports
# --------------------------------------------------------------------------------------------


def place_reports(
    session: Session, actor: Principal, city_tz: str, *, batch: int = PLACE_BATCH
) -> Placement:
    """Re-place every stored report that has a point against the current boundaries.

    A point inside a boundary goes to that district; a point outside every boundary goes to
    "Outside every district", unless the report sits in a district without a boundary (its
    source named it). Reports without a point keep their district. The daily counts move
    with the reports (days local to ``city_tz``). Keyset batches of ``batch`` rows; one audit
    row sums up the moves.
    """
    require(actor, Capability.CONFIGURE)
    resolver = load_districts(session)
    checked = moved = 0
    if resolver.locator is None:
        return Placement(0, 0, 0)
    bounded = np.fromiter(resolver.bounded, dtype=np.int64)
    sentinels = np.array([resolver.unlocated_id, resolver.outside_id], dtype=np.int64)
    sqlite_db = _is_sqlite(session)
    last = 0
    while True:
        rows = session.execute(
            select(
                CitizenReport.id,
                CitizenReport.lon,
                CitizenReport.lat,
                CitizenReport.district_id,
                CitizenReport.category_id,
                CitizenReport.requested_at,
            )
            .where(
                CitizenReport.id > last,
                CitizenReport.lat.is_not(None),
                CitizenReport.lon.is_not(None),
            )
            .order_by(CitizenReport.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        frame = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["id", "lon", "lat", "district_id", "category_id", "requested_at"],
        )
        last = int(frame["id"].iloc[-1])
        checked += len(frame)
        current = frame["district_id"].fillna(resolver.unlocated_id).to_numpy(dtype=np.int64)
        found = resolver.locator.locate(
            frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
        )
        keep_named = ~np.isin(current, bounded) & ~np.isin(current, sentinels)
        finite = np.isfinite(frame["lon"].to_numpy(dtype=float)) & np.isfinite(
            frame["lat"].to_numpy(dtype=float)
        )
        new = np.where(found >= 0, found, np.where(keep_named, current, resolver.outside_id))
        new = np.where(finite, new, current)
        change = new != current
        if not change.any():
            continue
        moving = frame[change].assign(new=new[change], old=current[change])
        moved += len(moving)
        session.execute(
            update(CitizenReport),
            [
                {"id": int(i), "district_id": int(d)}
                for i, d in zip(moving["id"], moving["new"], strict=True)
            ],
        )
        counted = moving[moving["category_id"].notna()]
        if len(counted):
            days = local_days(
                pd.to_datetime(counted["requested_at"]).astype("datetime64[us]"), city_tz
            )
            category = counted["category_id"].astype("int64")
            deltas = pd.concat(
                [
                    pd.DataFrame(
                        {"day": days, "category_id": category, "district_id": counted["old"]}
                    ).assign(count=-1),
                    pd.DataFrame(
                        {"day": days, "category_id": category, "district_id": counted["new"]}
                    ).assign(count=1),
                ],
                ignore_index=True,
            )
            _apply_counts(session.connection(), deltas, sqlite_db)
    outside = session.scalar(
        select(func.count())
        .select_from(CitizenReport)
        .where(CitizenReport.district_id == resolver.outside_id)
    )
    placement = Placement(checked, moved, int(outside or 0))
    if moved:
        write_audit(session, actor, "place", "citizen_reports", after=vars(placement))
    return placement


def district_report_counts(session: Session) -> pd.DataFrame:
    """Reports per district (from the daily counts), the two sentinel rows last.

    Columns: code, name, population, reports, bounded (has a boundary); every district,
    including those with no report.
    """
    totals = (
        select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count).label("reports"))
        .group_by(ReportDailyCount.district_id)
        .subquery()
    )
    rows = session.execute(
        select(
            District.code,
            District.name,
            District.population,
            func.coalesce(totals.c.reports, 0),
            District.geometry.is_not(None),
        ).outerjoin(totals, totals.c.district_id == District.id)
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["code", "name", "population", "reports", "bounded"]
    )
    frame["reports"] = frame["reports"].astype("int64")
    frame["sentinel"] = frame["code"].isin(SENTINEL_DISTRICT_CODES)
    frame = frame.sort_values(["sentinel", "code"], kind="stable").reset_index(drop=True)
    return frame.drop(columns="sentinel")


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def export_pack(session: Session, *, default_city: CitySpec) -> CityPack:
    """The stored catalogue as a ``CityPack`` (``write_pack`` turns it into files).

    The city comes from the stored setting (written by an import), else ``default_city``.
    A problem without a code is exported as ``P<id>``.
    """
    setting = session.get(AppSetting, CITY_SETTING)
    value = setting.value if setting is not None else {}
    districts = [
        DistrictSpec(
            code=d.code,
            name=d.name,
            population=d.population,
            geometry=d.geometry,
            median_household_income=d.median_household_income,
            need_index=d.need_index,
        )
        for d in session.scalars(select(District).order_by(District.code)).all()
        if d.code not in SENTINEL_DISTRICT_CODES and d.geometry
    ]
    city = CitySpec(
        name=value.get("name") or default_city.name,
        timezone=value.get("timezone") or default_city.timezone,
        fiscal_year_start=value.get("fiscal_year_start"),
        districts_file="districts.geojson" if districts else None,
        code_property="code",
        name_property="name",
    )
    departments = session.scalars(select(Department).order_by(Department.code)).all()
    code_of = {d.id: d.code for d in departments}
    indicators = session.scalars(select(Indicator).order_by(Indicator.code)).all()
    indicator_code = {i.id: i.code for i in indicators}
    categories = session.scalars(select(ReportCategory).order_by(ReportCategory.code)).all()
    category_name = {c.id: c.name for c in categories}
    problem_indicators = _grouped(session, ProblemIndicator, "indicator_id")
    problem_categories = _grouped(session, CategoryProblem, "category_id")
    problems = [
        ProblemSpec(
            code=p.code or f"P{p.id}",
            title=p.title,
            lead_department=code_of.get(p.lead_department_id, "") if p.lead_department_id else "",
            indicators=tuple(sorted(indicator_code[i] for i in problem_indicators.get(p.id, []))),
            categories=tuple(sorted(category_name[c] for c in problem_categories.get(p.id, []))),
            description=p.description,
            policy_area=p.policy_area,
            desired_outcome=p.desired_outcome,
            status=p.status,
        )
        for p in session.scalars(select(Problem).order_by(Problem.code, Problem.id)).all()
    ]
    return CityPack(
        city=city,
        districts=districts,
        departments=[DepartmentSpec(d.code, d.name) for d in departments],
        indicators=[
            IndicatorSpec(
                code=i.code,
                name=i.name,
                department=code_of[i.department_id],
                unit=i.unit,
                direction=i.direction,
                cadence=i.cadence,
                target=i.target,
                warning=i.warning_threshold,
                critical=i.critical_threshold,
                description=i.description,
                source=i.source,
            )
            for i in indicators
        ],
        problems=problems,
        actors=[
            ActorSpec(a.name, a.sector, a.description, a.contact)
            for a in session.scalars(select(Actor).order_by(Actor.name)).all()
        ],
        categories=[
            CategorySpec(c.name, code_of[c.department_id])
            for c in categories
            if c.department_id is not None
        ],
    )


def _grouped(session: Session, model: Any, key: str) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = {}
    for problem_id, target in session.execute(select(model.problem_id, getattr(model, key))).all():
        grouped.setdefault(problem_id, []).append(target)
    return grouped


def stored_city(session: Session) -> dict[str, Any] | None:
    """The city setting an import stored (name, timezone, fiscal_year_start), if any."""
    setting = session.get(AppSetting, CITY_SETTING)
    return dict(setting.value) if setting is not None else None


__all__ = [
    "CITY_SETTING",
    "FileCounts",
    "ImportReport",
    "Placement",
    "district_report_counts",
    "export_pack",
    "import_pack",
    "place_reports",
    "stored_city",
]
