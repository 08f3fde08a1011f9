"""A city's catalogue in the database: import a city pack, export it, re-place reports.

``import_pack`` upserts districts, departments, categories, indicators, problems, actors, policy
areas and the backward map (factors, innovations, engagements) by their natural keys, writing
one audit row per change in the caller's transaction; rows equal to what is stored are left
alone, so a second import changes nothing. Nothing here commits.
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
    SENTINEL_DISTRICT_NAMES,
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
    CausalFactor,
    CitizenReport,
    Department,
    District,
    Engagement,
    FactorLink,
    Indicator,
    Innovation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportCategory,
    ReportDailyCount,
    User,
    utcnow,
)
from triage.citypack import (
    ActorSpec,
    CategorySpec,
    CityPack,
    CitySpec,
    DepartmentSpec,
    DistrictSpec,
    EngagementSpec,
    FactorSpec,
    IndicatorSpec,
    InnovationSpec,
    PolicyAreaSpec,
    ProblemSpec,
    Reject,
    engagement_key,
    factor_key,
)
from triage.security import Capability, Principal, require

CITY_SETTING = "city"
POLICY_AREAS_SETTING = "policy_areas"
PLACE_BATCH = 200_000
FILES = (
    "city.toml",
    "districts",
    "departments.csv",
    "categories",
    "indicators.csv",
    "problems.csv",
    "actors.csv",
    "policy_areas.csv",
    "factors.csv",
    "innovations.csv",
    "engagements.csv",
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
        "causal_factor": "factors.csv",
        "innovation": "innovations.csv",
        "engagement": "engagements.csv",
    }[entity]


class _Writer:
    """Applies changes to ORM rows with an audit row per change, counting per file."""

    def __init__(
        self,
        session: Session,
        actor: Principal,
        report: ImportReport,
        lines: Mapping[tuple[str, str], int],
        audit: bool = True,
    ) -> None:
        self.session = session
        self.actor = actor
        self.report = report
        self.lines = lines
        self.audit = audit

    def write_audit(self, action: str, entity: str, entity_id: Any, **values: Any) -> None:
        if self.audit:
            write_audit(self.session, self.actor, action, entity, entity_id, **values)

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
            self.write_audit("create", entity, row.id, after=shown(changed))
            counts.added += 1
        elif changed:
            self.write_audit("update", entity, row.id, before=shown(before), after=shown(changed))
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
    session: Session, actor: Principal, pack: CityPack, *, city_tz: str, audit: bool = True
) -> ImportReport:
    """Write a read pack into the catalogue; re-place stored reports when boundaries changed.

    Rows are matched by code (districts, departments, indicators, problems; a problem without
    a code but with the same title is adopted), categories by their ``code`` column or else
    ``category_code`` of their name, actors by name, factors and innovations by problem and
    title, engagements by actor, problem and factor. Nothing absent from the pack is deleted.
    A row that would clash with a stored row under another key (two departments with one
    name) is rejected, not written. ``city_tz`` is the zone the daily report counts were kept
    in (``Settings.timezone``). ``audit=False`` leaves the audit to the caller, who writes one
    row for the whole import (the demo seeder does, with the report's counts).

    The ``archived`` cell of departments, indicators, problems and actors: ``yes`` archives the
    record, ``no`` restores it, empty leaves it as stored; a record archived in the database
    whose cell is empty is updated, stays archived, and the report's notes say so. A department
    is archived last, and only when none of its indicators or active users is left (as in the
    administration pages); otherwise a note says why it was not.
    """
    require(actor, Capability.CONFIGURE)
    report = ImportReport(rejects=list(pack.rejects), notes=list(pack.notes))
    for reject in pack.rejects:
        report.files[_file_of_reject(reject.file)].rejected += 1
    writer = _Writer(session, actor, report, pack.lines, audit)

    city = _city_values(pack.city)
    _import_setting(writer, CITY_SETTING, city, "city.toml", merge=False)
    if pack.policy_areas:
        areas = {a.code: a.label for a in pack.policy_areas}
        _import_setting(writer, POLICY_AREAS_SETTING, areas, "policy_areas.csv", merge=True)

    boundaries_changed = _import_districts(
        session, writer, pack.districts, pack.city.districts_file or "districts"
    )
    departments, archiving = _import_departments(session, writer, pack.departments)
    categories = _import_categories(session, writer, pack, departments)
    indicators = _import_indicators(session, writer, pack.indicators, departments)
    districts = {
        d.code.casefold(): d.id
        for d in session.scalars(select(District)).all()
        if d.code not in SENTINEL_DISTRICT_CODES
    }
    codes = {
        name.casefold(): category_key(pack, name)
        for problem in pack.problems
        for name in problem.categories
    }
    problems = _import_problems(
        session, writer, pack.problems, departments, indicators, categories, districts, codes
    )
    actors = _import_actors(session, writer, pack.actors)
    factors = _import_factors(session, writer, pack.factors, problems, indicators)
    _import_innovations(session, writer, pack.innovations, problems, actors)
    _import_engagements(session, writer, pack.engagements, problems, actors, factors)
    _archive_departments(session, writer, archiving)
    session.flush()
    has_reports = session.scalar(select(CitizenReport.id).limit(1)) is not None
    if boundaries_changed and has_reports:
        ensure_sentinel_districts(session)
        report.placement = place_reports(session, actor, city_tz)
    return report


def _import_setting(
    writer: _Writer, key: str, value: dict[str, Any], file: str, *, merge: bool
) -> None:
    """Store a setting read from the pack; ``merge`` keeps stored keys the pack does not name.

    A merged setting (policy areas) counts and audits each of its keys as its own record
    (entity ``policy_area``); a whole setting (the city) counts once.
    """
    session = writer.session
    setting = session.get(AppSetting, key)
    counts = writer.report.files[file]
    stored = dict(setting.value) if setting is not None else {}
    wanted = {**stored, **value} if merge else value
    if merge:
        for item, label in value.items():
            if item not in stored:
                writer.write_audit("create", "policy_area", item, after={"label": label})
                counts.added += 1
            elif stored[item] != label:
                before, after = {"label": stored[item]}, {"label": label}
                writer.write_audit("update", "policy_area", item, before=before, after=after)
                counts.updated += 1
            else:
                counts.unchanged += 1
    if setting is None:
        session.add(AppSetting(key=key, value=wanted))
        if not merge:
            writer.write_audit("create", "app_setting", key, after=wanted)
            counts.added += 1
    elif stored != wanted:
        if not merge:
            writer.write_audit("update", "app_setting", key, before=stored, after=wanted)
            counts.updated += 1
        setting.value = wanted
    elif not merge:
        counts.unchanged += 1


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


def policy_area_labels(session: Session) -> dict[str, str]:
    """Policy area code -> label, as the city's pack gave them (empty if it gave none)."""
    setting = session.get(AppSetting, POLICY_AREAS_SETTING)
    return {str(k): str(v) for k, v in (setting.value if setting is not None else {}).items()}


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
    names.update({name.casefold(): code for code, name in SENTINEL_DISTRICT_NAMES.items()})
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


def _archive_values(row: Any, wanted: bool | None) -> dict[str, Any]:
    """The ``archived_at`` change a pack row's ``archived`` cell asks for (none when empty or
    already so: an archived record keeps the time it was archived)."""
    if wanted is None or (wanted and row is not None and row.archived_at is not None):
        return {}
    return {"archived_at": utcnow() if wanted else None}


def _note_archived(writer: _Writer, file: str, key: str, row: Any, wanted: bool | None) -> None:
    """Say in the report that a record archived in the database was imported and stays so."""
    if wanted is None and row is not None and row.archived_at is not None:
        line = writer.lines.get((file, key.casefold()), 0)
        where = f"{file} line {line}" if line else file
        writer.report.notes.append(
            f"{where}: {key} is archived in the database; it was imported and stays archived "
            "(write no in its archived column to restore it)"
        )


def _import_departments(
    session: Session, writer: _Writer, departments: list[DepartmentSpec]
) -> tuple[dict[str, int], list[tuple[Department, bool]]]:
    """Upsert departments by code; returns code (casefolded) -> id, and the departments the
    pack archives, with whether their row was otherwise unchanged (``_archive_departments``
    archives them once the indicators are in)."""
    stored = {d.code.casefold(): d for d in session.scalars(select(Department)).all()}
    archiving: list[tuple[Department, bool]] = []
    counts = writer.report.files["departments.csv"]
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
        values: dict[str, Any] = {"code": spec.code, "name": spec.name}
        if spec.archived is False:
            values.update(_archive_values(row, False))
        _note_archived(writer, "departments.csv", spec.code, row, spec.archived)
        unchanged = counts.unchanged
        row = writer.upsert("department", row, values, Department)
        if spec.archived and row.archived_at is None:
            archiving.append((row, counts.unchanged > unchanged))
        stored[spec.code.casefold()] = row
        names[spec.name.casefold()] = row.code
    return {code: row.id for code, row in stored.items()}, archiving


def _archive_departments(
    session: Session, writer: _Writer, archiving: list[tuple[Department, bool]]
) -> None:
    """Archive the departments the pack marks archived, unless indicators not archived or
    active users still belong to them (then a note says so and the department stays)."""
    counts = writer.report.files["departments.csv"]
    for row, unchanged in archiving:
        indicators = session.scalar(
            select(func.count())
            .select_from(Indicator)
            .where(Indicator.department_id == row.id, Indicator.archived_at.is_(None))
        )
        users = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.department_id == row.id, User.active.is_(True))
        )
        if indicators or users:
            line = writer.lines.get(("departments.csv", row.code.casefold()), 0)
            writer.report.notes.append(
                f"departments.csv line {line}: {row.code} was not archived: it still has "
                f"{int(indicators or 0)} indicator(s) not archived and {int(users or 0)} active "
                "user(s); archive or move them first"
            )
            continue
        row.archived_at = utcnow()
        session.flush()
        writer.write_audit(
            "update",
            "department",
            row.id,
            before={"archived_at": None},
            after={"archived_at": row.archived_at},
        )
        if unchanged:
            counts.unchanged -= 1
            counts.updated += 1


def _import_categories(
    session: Session, writer: _Writer, pack: CityPack, departments: dict[str, int]
) -> dict[str, int]:
    """Categories of ``categories.csv``, then those only problems name; returns code -> id.

    A category's code is its ``code`` column, else ``category_code`` of its name (what 311
    ingestion derives); ``category_key`` resolves a problem's category name the same way.
    """
    wanted: dict[str, CategorySpec | str] = {}
    for spec in pack.categories:
        wanted[category_key(pack, spec.name)] = spec
    for problem in pack.problems:
        for name in problem.categories:
            wanted.setdefault(category_key(pack, name), name)
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


def category_key(pack: CityPack, name: str) -> str:
    """The stored code of the category a pack names: its ``code`` column or the derived one."""
    for spec in pack.categories:
        if spec.code and spec.name.casefold() == name.casefold():
            return spec.code
    return category_code(name)


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
        values.update(_archive_values(row, spec.archived))
        _note_archived(writer, "indicators.csv", spec.code, row, spec.archived)
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
    districts: dict[str, int],
    codes: dict[str, str],
) -> dict[str, int]:
    """Upsert problems with their links; returns problem code (casefolded) -> id.

    ``codes`` maps each category name a problem gives (casefolded) to its stored code.
    """
    rows = session.scalars(select(Problem)).all()
    ids = {p.code.casefold(): p.id for p in rows if p.code}
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
        for key in ("political_capital", "authority"):
            if getattr(spec, key) is not None:
                values[key] = getattr(spec, key)
        for key in ("political_notes", "authority_notes"):
            if getattr(spec, key):
                values[key] = getattr(spec, key)
        values.update(_archive_values(row, spec.archived))
        unplaced = [c for c in spec.districts if c.casefold() not in districts]
        if unplaced:
            _reject(
                writer,
                "problems.csv",
                spec.code,
                f"district(s) {', '.join(unplaced)} were not imported",
            )
            continue
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
        want_categories = [categories[codes[c.casefold()]] for c in spec.categories]
        want_districts = [districts[c.casefold()] for c in spec.districts]

        def links(
            problem: Problem,
            spec: ProblemSpec = spec,
            want_indicators: list[int] = want_indicators,
            want_categories: list[int] = want_categories,
            want_districts: list[int] = want_districts,
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
            if spec.districts:  # an empty cell leaves the districts set in the app alone
                old = _sync_links(
                    session, problem.id, ProblemDistrict, "district_id", want_districts, weight=None
                )
                if old is not None:
                    before["districts"], after["districts"] = old, list(spec.districts)
            return before, after

        _note_archived(writer, "problems.csv", spec.code, row, spec.archived)
        row = writer.upsert("problem", row, values, Problem, links=links)
        ids[spec.code.casefold()] = row.id
    return ids


def _sync_links(
    session: Session,
    problem_id: int,
    model: Any,
    key: str,
    wanted: list[int],
    *,
    weight: float | None = 1.0,
) -> list[int] | None:
    """Make the problem's links exactly ``wanted``; the old target ids if that changed them.

    New links weigh ``weight`` (None: the link has no weight); a link that stays keeps the
    weight set in the app.
    """
    current = _links(session, model, key, problem_id)
    if set(current) == set(wanted):
        return None
    extra = {} if weight is None else {"weight": weight}
    for target in wanted:
        if target not in current:
            session.add(model(problem_id=problem_id, **{key: target}, **extra))
    for target, link in current.items():
        if target not in set(wanted):
            session.delete(link)
    session.flush()
    return sorted(current)


def _import_actors(session: Session, writer: _Writer, actors: list[ActorSpec]) -> dict[str, int]:
    """Upsert actors by name; returns every stored actor's name (casefolded) -> id."""
    stored = {a.name.casefold(): a for a in session.scalars(select(Actor)).all()}
    for spec in actors:
        values = {
            "name": spec.name,
            "sector": spec.sector,
            "description": spec.description,
            "contact": spec.contact,
        }
        row = stored.get(spec.name.casefold())
        values.update(_archive_values(row, spec.archived))
        _note_archived(writer, "actors.csv", spec.name, row, spec.archived)
        stored[spec.name.casefold()] = writer.upsert("actor", row, values, Actor)
    return {name: row.id for name, row in stored.items()}


def _import_factors(
    session: Session,
    writer: _Writer,
    factors: list[FactorSpec],
    problems: dict[str, int],
    indicators: dict[str, int],
) -> dict[str, int]:
    """Upsert causal factors by (problem, title), then their links to the factors they feed.

    Returns the pack's factor key (``problem#number``, casefolded) -> id. A factor's parents
    become exactly those the pack gives; a changed parent list is audited on the factor.
    """
    problem_ids = set(problems.values())
    stored = {
        (f.problem_id, f.title.casefold()): f
        for f in session.scalars(select(CausalFactor)).all()
        if f.problem_id in problem_ids
    }
    ids: dict[str, int] = {}
    created: set[int] = set()
    for spec in factors:
        problem = problems.get(spec.problem.casefold())
        key = factor_key(spec.problem, spec.number)
        if problem is None:
            _reject(writer, "factors.csv", key, "its problem was not imported")
            continue
        if spec.indicator and spec.indicator.casefold() not in indicators:
            _reject(writer, "factors.csv", key, "its indicator was not imported")
            continue
        values = {
            "problem_id": problem,
            "title": spec.title,
            "description": spec.description,
            "reach": spec.reach,
            "evidence": spec.evidence,
            "weight": spec.weight,
            "indicator_id": indicators[spec.indicator.casefold()] if spec.indicator else None,
        }
        row = stored.get((problem, spec.title.casefold()))
        if row is None:
            row = writer.upsert("causal_factor", None, values, CausalFactor)
            created.add(row.id)
        else:
            row = writer.upsert("causal_factor", row, values, CausalFactor)
        stored[(problem, spec.title.casefold())] = row
        ids[key.casefold()] = row.id
    counts = writer.report.files["factors.csv"]
    for spec in factors:
        key = factor_key(spec.problem, spec.number).casefold()
        if key not in ids:
            continue
        wanted = [
            ids[factor_key(spec.problem, p).casefold()]
            for p in spec.parents
            if factor_key(spec.problem, p).casefold() in ids
        ]
        current = {
            link.parent_id: link
            for link in session.scalars(select(FactorLink).where(FactorLink.factor_id == ids[key]))
        }
        if set(current) == set(wanted):
            continue
        for parent in wanted:
            if parent not in current:
                session.add(FactorLink(factor_id=ids[key], parent_id=parent))
        for parent, link in current.items():
            if parent not in wanted:
                session.delete(link)
        session.flush()
        if ids[key] not in created:
            writer.write_audit(
                "update",
                "causal_factor",
                ids[key],
                before={"parents": sorted(current)},
                after={"parents": sorted(wanted)},
            )
            if counts.unchanged:
                counts.unchanged -= 1
                counts.updated += 1
    return ids


def _import_innovations(
    session: Session,
    writer: _Writer,
    innovations: list[InnovationSpec],
    problems: dict[str, int],
    actors: dict[str, int],
) -> None:
    stored = {
        (i.problem_id, i.title.casefold()): i for i in session.scalars(select(Innovation)).all()
    }
    for spec in innovations:
        problem = problems.get(spec.problem.casefold())
        key = f"{spec.problem}#{spec.title}"
        if problem is None:
            _reject(writer, "innovations.csv", key, "its problem was not imported")
            continue
        if spec.lead_actor and spec.lead_actor.casefold() not in actors:
            _reject(writer, "innovations.csv", key, "its lead actor was not imported")
            continue
        values = {
            "problem_id": problem,
            "title": spec.title,
            "description": spec.description,
            "origin": spec.origin,
            "kind": spec.kind,
            "stage": spec.stage,
            "lead_actor_id": actors[spec.lead_actor.casefold()] if spec.lead_actor else None,
            "evidence": spec.evidence,
            "evidence_note": spec.evidence_note,
            "cost": spec.cost,
        }
        row = stored.get((problem, spec.title.casefold()))
        stored[(problem, spec.title.casefold())] = writer.upsert(
            "innovation", row, values, Innovation
        )


def _import_engagements(
    session: Session,
    writer: _Writer,
    engagements: list[EngagementSpec],
    problems: dict[str, int],
    actors: dict[str, int],
    factors: dict[str, int],
) -> None:
    stored = {
        (e.actor_id, e.problem_id, e.factor_id): e for e in session.scalars(select(Engagement))
    }
    for spec in engagements:
        key = engagement_key(spec)
        problem = problems.get(spec.problem.casefold())
        actor = actors.get(spec.actor.casefold())
        factor = None
        if spec.factor:
            factor = factors.get(factor_key(spec.problem, spec.factor).casefold())
        if problem is None or actor is None or (spec.factor and factor is None):
            _reject(writer, "engagements.csv", key, "its actor, problem or factor was not imported")
            continue
        values = {
            "actor_id": actor,
            "problem_id": problem,
            "factor_id": factor,
            "role": spec.role,
            "stance": spec.stance,
            "committed_funding": spec.committed_funding,
            "authorisation": spec.authorisation,
            "strings": spec.strings,
            "last_contact": spec.last_contact,
        }
        row = stored.get((actor, problem, factor))
        stored[(actor, problem, factor)] = writer.upsert("engagement", row, values, Engagement)


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
    A problem without a code is exported as ``P<id>``; factors are numbered within their
    problem in the order they were stored. Archived departments, indicators, problems and
    actors are exported with ``archived`` set (the others with it empty), so that importing
    the export keeps their state.
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
    district_code = {d.id: d.code for d in session.scalars(select(District)).all()}
    problem_districts = _grouped(session, ProblemDistrict, "district_id")
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
            districts=tuple(sorted(district_code[d] for d in problem_districts.get(p.id, []))),
            political_capital=p.political_capital,
            political_notes=p.political_notes,
            authority=p.authority,
            authority_notes=p.authority_notes,
            archived=_archived(p),
        )
        for p in session.scalars(select(Problem).order_by(Problem.code, Problem.id)).all()
    ]
    problem_code = {p.id: p.code or f"P{p.id}" for p in session.scalars(select(Problem)).all()}
    factors, numbers = _export_factors(session, problem_code, indicator_code)
    actor_name = {a.id: a.name for a in session.scalars(select(Actor)).all()}
    labels = policy_area_labels(session)
    return CityPack(
        city=city,
        districts=districts,
        departments=[DepartmentSpec(d.code, d.name, _archived(d)) for d in departments],
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
                archived=_archived(i),
            )
            for i in indicators
        ],
        problems=problems,
        actors=[
            ActorSpec(a.name, a.sector, a.description, a.contact, _archived(a))
            for a in session.scalars(select(Actor).order_by(Actor.name)).all()
        ],
        categories=[
            CategorySpec(
                c.name,
                code_of[c.department_id],
                "" if c.code == category_code(c.name) else c.code,
            )
            for c in categories
            if c.department_id is not None
        ],
        policy_areas=[PolicyAreaSpec(code, label) for code, label in labels.items()],
        factors=factors,
        innovations=[
            InnovationSpec(
                problem=problem_code[i.problem_id],
                title=i.title,
                origin=i.origin,
                kind=i.kind,
                stage=i.stage,
                lead_actor=actor_name.get(i.lead_actor_id, "") if i.lead_actor_id else "",
                evidence=i.evidence,
                cost=i.cost,
                evidence_note=i.evidence_note,
                description=i.description,
            )
            for i in session.scalars(select(Innovation).order_by(Innovation.id)).all()
        ],
        engagements=[
            EngagementSpec(
                actor=actor_name[e.actor_id],
                problem=problem_code[e.problem_id],
                factor=numbers.get(e.factor_id) if e.factor_id else None,
                role=e.role,
                stance=e.stance,
                committed_funding=e.committed_funding,
                authorisation=e.authorisation,
                strings=e.strings,
                last_contact=e.last_contact,
            )
            for e in session.scalars(select(Engagement).order_by(Engagement.id)).all()
        ],
    )


def _archived(row: Any) -> bool | None:
    """A record's ``archived`` cell on export: True when archived, else empty (None)."""
    return True if row.archived_at is not None else None


def _export_factors(
    session: Session, problem_code: dict[int, str], indicator_code: dict[int, str]
) -> tuple[list[FactorSpec], dict[int, int]]:
    """Factors as pack rows, numbered 1, 2, ... within each problem; and factor id -> number."""
    rows = session.scalars(select(CausalFactor).order_by(CausalFactor.id)).all()
    numbers: dict[int, int] = {}
    per_problem: dict[int, int] = {}
    for f in rows:
        per_problem[f.problem_id] = per_problem.get(f.problem_id, 0) + 1
        numbers[f.id] = per_problem[f.problem_id]
    parents: dict[int, list[int]] = {}
    for child, parent in session.execute(select(FactorLink.factor_id, FactorLink.parent_id)):
        parents.setdefault(child, []).append(numbers[parent])
    specs = [
        FactorSpec(
            problem=problem_code[f.problem_id],
            number=numbers[f.id],
            title=f.title,
            reach=f.reach,
            evidence=f.evidence,
            weight=f.weight,
            parents=tuple(sorted(parents.get(f.id, []))),
            indicator=indicator_code[f.indicator_id] if f.indicator_id else "",
            description=f.description,
        )
        for f in rows
    ]
    return specs, numbers


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
    "policy_area_labels",
    "stored_city",
]
