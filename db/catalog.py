"""A city's catalogue in the database: import a city pack and export it.

``import_pack`` upserts districts, departments, categories, indicators, problems, actors, policy
areas and the backward map (factors, innovations, engagements) by their natural keys, writing
one audit row per change in the caller's transaction; rows equal to what is stored are left
alone, so a second import changes nothing. Re-placing stored reports when boundaries change
lives in ``db.placement`` (re-exported here). Nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.ingest import (
    SENTINEL_DISTRICT_CODES,
    SENTINEL_DISTRICT_NAMES,
    category_code,
    ensure_sentinel_districts,
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
    User,
    utcnow,
)
from db.placement import PLACE_BATCH, Placement, district_report_counts, place_reports
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
    same_named,
)
from triage.security import Capability, Principal, require

CITY_SETTING = "city"
POLICY_AREAS_SETTING = "policy_areas"
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
    administration pages); otherwise a note says why it was not. An indicator that would be
    active in a department archived in the database is rejected.

    A category's ``continues`` links it to the one the city renamed it from (refused, with
    file, line and reason, when it would continue itself, give a category a second successor
    or close a cycle); every problem fed by one name of a chain of renames is then fed by all
    of them, and the report's notes say which problems gained a category.
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
    groups = category_groups(session)
    problems = _import_problems(
        session,
        writer,
        pack.problems,
        departments,
        indicators,
        categories,
        districts,
        codes,
        groups,
    )
    actors = _import_actors(session, writer, pack.actors)
    factors = _import_factors(session, writer, pack.factors, problems, indicators)
    _import_innovations(session, writer, pack.innovations, problems, actors)
    _import_engagements(session, writer, pack.engagements, problems, actors, factors)
    _archive_departments(session, writer, archiving)
    report.notes.extend(spread_renamed_problems(session, writer))
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


def _reject_unresolved(writer: _Writer, file: str, key: str, missing: Mapping[str, bool]) -> bool:
    """Reject the row when a record it names was not imported (``missing``: what it names ->
    whether it is missing), saying the first one; True when the row was rejected."""
    for what, absent in missing.items():
        if absent:
            _reject(writer, file, key, f"its {what} was not imported")
            return True
    return False


def _reject_unknown(
    writer: _Writer,
    file: str,
    key: str,
    lists: Mapping[str, tuple[Sequence[str], Mapping[str, int]]],
) -> bool:
    """Reject the row when codes of a list it names are not among those imported (``lists``:
    what -> (its codes, imported casefolded codes)); True when the row was rejected."""
    for what, (codes, imported) in lists.items():
        unknown = [c for c in codes if c.casefold() not in imported]
        if unknown:
            _reject(writer, file, key, f"{what} {', '.join(unknown)} were not imported")
            return True
    return False


def _name_holder(names: Mapping[str, str], name: str, row: Any) -> str | None:
    """The code of another record that holds ``name`` (``names``: casefolded name -> code),
    None when the name is free or is ``row``'s own."""
    holder = names.get(name.casefold())
    if holder is not None and (row is None or holder != row.code):
        return holder
    return None


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
        if _name_holder(names, spec.name, row) is not None:
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


def _upsert_archivable(
    writer: _Writer,
    entity: str,
    key: str,
    row: Any,
    values: Mapping[str, Any],
    model: Any,
    archived: bool | None,
    links: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> Any:
    """Upsert a record whose pack row has an ``archived`` cell (indicators, problems, actors):
    archived or restored as the cell asks, with a note when it stays archived."""
    values = {**values, **_archive_values(row, archived)}
    _note_archived(writer, _file_of(entity), key, row, archived)
    return writer.upsert(entity, row, values, model, links=links)


def department_holders(session: Session, department_id: int) -> tuple[int, int]:
    """How many indicators not archived and active users a department still has (a department
    is archived only when both are none)."""
    indicators = session.scalar(
        select(func.count())
        .select_from(Indicator)
        .where(Indicator.department_id == department_id, Indicator.archived_at.is_(None))
    )
    users = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.department_id == department_id, User.active.is_(True))
    )
    return int(indicators or 0), int(users or 0)


def _indicator_values(spec: IndicatorSpec, department_id: int | None) -> dict[str, Any]:
    """An indicator's stored columns from its pack row (or form)."""
    return {
        "code": spec.code,
        "name": spec.name,
        "department_id": department_id,
        "unit": spec.unit,
        "direction": spec.direction,
        "cadence": spec.cadence,
        "target": spec.target,
        "warning_threshold": spec.warning,
        "critical_threshold": spec.critical,
        "description": spec.description,
        "source": spec.source,
    }


def _actor_values(spec: ActorSpec) -> dict[str, Any]:
    """An actor's stored columns from its pack row (or form)."""
    return {
        "name": spec.name,
        "sector": spec.sector,
        "description": spec.description,
        "contact": spec.contact,
    }


def _problem_values(spec: ProblemSpec, lead: int | None) -> dict[str, Any]:
    """A problem's stored columns every pack row (or form) sets; ``lead`` its department id."""
    return {
        "code": spec.code,
        "title": spec.title,
        "description": spec.description,
        "policy_area": spec.policy_area,
        "desired_outcome": spec.desired_outcome,
        "lead_department_id": lead,
    }


# A problem's link lists: name -> (link model, target column, weight of a new link).
_PROBLEM_LINKS: dict[str, tuple[Any, str, float | None]] = {
    "indicators": (ProblemIndicator, "indicator_id", 1.0),
    "categories": (CategoryProblem, "category_id", 1.0),
    "districts": (ProblemDistrict, "district_id", None),
}


def _sync_problem_links(
    session: Session, problem_id: int, wanted: Mapping[str, tuple[list[int], Sequence[str]]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make each named link list of a problem exactly what ``wanted`` gives (name -> (target
    ids, the names an audit row shows)); returns (before, after) of the lists it changed."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, (ids, shown) in wanted.items():
        model, key, weight = _PROBLEM_LINKS[name]
        old = _sync_links(session, problem_id, model, key, ids, weight=weight)
        if old is not None:
            before[name], after[name] = old, list(shown)
    return before, after


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
        holder = _name_holder(names, spec.name, row)
        if holder is not None:
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
        indicators, users = department_holders(session, row.id)
        if indicators or users:
            line = writer.lines.get(("departments.csv", row.code.casefold()), 0)
            writer.report.notes.append(
                f"departments.csv line {line}: {row.code} was not archived: it still has "
                f"{indicators} indicator(s) not archived and {users} active "
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
    """Categories of ``categories.csv``, then those only problems or renames name; returns
    code -> id.

    A category's code is its ``code`` column, else ``category_code`` of its name (what 311
    ingestion derives); ``category_key`` resolves a problem's category name the same way. A
    ``continues`` cell links the category to the one it was renamed from (created, without a
    department, if nothing names it yet), checked against the stored links as the app checks
    them (``continues_refusal``): a refused link rejects its row.
    """
    wanted: dict[str, CategorySpec | str] = {}
    for spec in pack.categories:
        wanted[category_key(pack, spec.name)] = spec
    for problem in pack.problems:
        for name in problem.categories:
            wanted.setdefault(category_key(pack, name), name)
    for spec in pack.categories:
        if spec.continues:
            wanted.setdefault(category_key(pack, spec.continues), spec.continues)
    stored = {
        c.code: c
        for c in session.scalars(
            select(ReportCategory).where(ReportCategory.code.in_(list(wanted)))
        ).all()
    }
    links = category_links(session)
    names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
    # Predecessors first, so that a successor's link names a stored row.
    by_name = {c.name.casefold(): c for c in pack.categories}
    order = sorted(wanted, key=lambda code: _rename_depth(by_name, wanted[code]))
    for code in order:
        spec = wanted[code]
        row = stored.get(code)
        department = None
        if isinstance(spec, CategorySpec) and spec.department:
            department = departments.get(spec.department.casefold())
            if _reject_unresolved(
                writer, "categories.csv", spec.name, {"department": department is None}
            ):
                spec = spec.name
        if isinstance(spec, CategorySpec):
            values: dict[str, Any] = {"code": code, "name": spec.name[:200]}
            if spec.department:
                values["department_id"] = department
            if spec.continues:
                old = stored.get(category_key(pack, spec.continues))
                if old is None:
                    reason = f"continues: {spec.continues!r} was not imported"
                    _reject(writer, "categories.csv", spec.name, reason)
                    continue
                refusal = continues_refusal(links, names, row.id if row else None, old.id)
                if refusal:
                    _reject(writer, "categories.csv", spec.name, f"continues: {refusal}")
                    continue
                values["continues_id"] = old.id
        else:
            values = {"code": code, "name": spec[:200]}
            if row is not None:
                values = {"code": code}  # named by a problem only: keep its stored name
        row = writer.upsert(
            "report_category", row, values, ReportCategory, lambda v: _category_shown(v, names)
        )
        stored[code] = row
        names[row.id] = row.name
        if row.continues_id is not None:
            links = {k: v for k, v in links.items() if k != row.id} | {row.id: row.continues_id}
    return {code: row.id for code, row in stored.items()}


def _rename_depth(by_name: Mapping[str, CategorySpec], spec: CategorySpec | str) -> int:
    """How many renames of the pack (its categories by casefolded name) stand before this
    category (0: none; cycles were rejected when the pack was read)."""
    depth = 0
    while isinstance(spec, CategorySpec) and spec.continues and depth <= len(by_name):
        depth += 1
        spec = by_name.get(spec.continues.casefold(), spec.continues)
    return depth


def _category_shown(values: Mapping[str, Any], names: Mapping[int, str]) -> dict[str, Any]:
    """An audit row's values, the category a renamed one continues named, not numbered."""
    shown = dict(values)
    if shown.get("continues_id") is not None:
        shown["continues"] = names.get(shown["continues_id"], shown["continues_id"])
    return shown


def category_links(session: Session) -> dict[int, int]:
    """Stored renames: successor category id -> the id of the category it continues."""
    return {
        int(new): int(old)
        for new, old in session.execute(
            select(ReportCategory.id, ReportCategory.continues_id).where(
                ReportCategory.continues_id.is_not(None)
            )
        ).all()
    }


def continues_refusal(
    links: Mapping[int, int], names: Mapping[int, str], successor: int | None, predecessor: int
) -> str | None:
    """Why ``successor`` may not continue ``predecessor`` given the stored ``links``
    (successor -> predecessor), or None when it may: not itself, one successor per category,
    and no cycle. ``successor`` None is a category not stored yet."""
    new_name = names.get(successor, "this category") if successor is not None else "it"
    old_name = names.get(predecessor, str(predecessor))
    if successor == predecessor:
        return f"{old_name!r} cannot continue itself"
    for new, old in links.items():
        if old == predecessor and new != successor:
            return (
                f"{old_name!r} is already continued by {names.get(new, str(new))!r}; "
                "a renamed category has one successor"
            )
    seen: set[int] = set()
    step: int | None = predecessor
    while step is not None and step not in seen:
        if step == successor:
            return (
                f"{old_name!r} already continues {new_name!r} (directly or through other "
                "renames): the link would make a cycle"
            )
        seen.add(step)
        step = links.get(step)
    return None


def category_groups(session: Session) -> dict[int, list[int]]:
    """Each renamed category id -> every id of its chain of renames (itself included)."""
    links = category_links(session)
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    for new, old in links.items():
        parent.setdefault(new, new)
        parent.setdefault(old, old)
        parent[root(new)] = root(old)
    groups: dict[int, list[int]] = {}
    for node in parent:
        groups.setdefault(root(node), []).append(node)
    return {node: sorted(groups[root(node)]) for node in parent}


def spread_renamed_problems(session: Session, writer: _Writer) -> list[str]:
    """Make every problem fed by one category of a chain of renames fed by all of them.

    So a problem fed by HEATING is fed by HEAT/HOT WATER once that continues it (scoring,
    alerts and pages then count both), and one fed by the new name keeps the old name's
    history. A new link weighs what the problem's existing link in the chain weighs. One audit
    row per problem changed; returns a sentence per problem for the report.
    """
    groups = category_groups(session)
    if not groups:
        return []
    rows = session.execute(
        select(CategoryProblem.problem_id, CategoryProblem.category_id, CategoryProblem.weight)
    ).all()
    fed: dict[int, dict[int, float]] = {}
    for problem, category, weight in rows:
        fed.setdefault(int(problem), {})[int(category)] = float(weight)
    names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
    notes = []
    for problem, weights in fed.items():
        added: dict[int, float] = {}
        for category, weight in weights.items():
            for member in groups.get(category, []):
                if member not in weights:
                    added[member] = max(added.get(member, 0.0), weight)
        if not added:
            continue
        for member, weight in added.items():
            session.add(CategoryProblem(category_id=member, problem_id=problem, weight=weight))
        session.flush()
        before = sorted(names[c] for c in weights)
        after = sorted(names[c] for c in {**weights, **added})
        writer.write_audit(
            "update", "problem", problem, before={"categories": before}, after={"categories": after}
        )
        title = session.scalar(select(Problem.title).where(Problem.id == problem))
        listed = ", ".join(sorted(names[c] for c in added))
        notes.append(f"problem {title!r} is now fed by {listed} too (a renamed category)")
    return notes


def category_key(pack: CityPack, name: str) -> str:
    """The stored code of the category a pack names: its ``code`` column or the derived one."""
    for spec in pack.categories:
        if spec.code and spec.name.casefold() == name.casefold():
            return spec.code
    return category_code(name)


def _import_indicators(
    session: Session,
    writer: _Writer,
    indicators: list[IndicatorSpec],
    departments: dict[str, int],
) -> dict[str, int]:
    """Upsert indicators by code; returns code (casefolded) -> id.

    An indicator that would be active (not archived) in a department archived in the
    database (that the pack does not restore) is rejected, as the administration pages refuse
    it. A department the pack itself archives is archived last, only once none of its
    indicators is left active (``_archive_departments``).
    """
    stored = {i.code.casefold(): i for i in session.scalars(select(Indicator)).all()}
    archived = {
        d.id: d.code
        for d in session.scalars(select(Department).where(Department.archived_at.is_not(None)))
    }
    for spec in indicators:
        missing = {"department": spec.department.casefold() not in departments}
        if _reject_unresolved(writer, "indicators.csv", spec.code, missing):
            continue
        department_id = departments[spec.department.casefold()]
        row = stored.get(spec.code.casefold())
        active = spec.archived is False or (
            spec.archived is None and (row is None or row.archived_at is None)
        )
        if active and department_id in archived:
            _reject(
                writer,
                "indicators.csv",
                spec.code,
                f"department {archived[department_id]} is archived: restore the department "
                "(archived no in departments.csv) or archive the indicator (archived yes)",
            )
            continue
        values = _indicator_values(spec, department_id)
        stored[spec.code.casefold()] = _upsert_archivable(
            writer, "indicator", spec.code, row, values, Indicator, spec.archived
        )
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
    groups: Mapping[int, list[int]],
) -> dict[str, int]:
    """Upsert problems with their links; returns problem code (casefolded) -> id.

    ``codes`` maps each category name a problem gives (casefolded) to its stored code;
    ``groups`` (``category_groups``) adds the renames of each category a problem names, so a
    problem fed by a renamed category is fed by its whole chain of renames.
    """
    rows = session.scalars(select(Problem)).all()
    ids = {p.code.casefold(): p.id for p in rows if p.code}
    by_code = {p.code.casefold(): p for p in rows if p.code}
    by_title = {p.title.casefold(): p for p in rows if not p.code}
    for spec in problems:
        lead = departments.get(spec.lead_department.casefold()) if spec.lead_department else None
        missing = {"lead department": bool(spec.lead_department) and lead is None}
        if _reject_unresolved(writer, "problems.csv", spec.code, missing):
            continue
        row = by_code.get(spec.code.casefold()) or by_title.get(spec.title.casefold())
        values = _problem_values(spec, lead)
        if row is None or spec.status != "watch":
            # "watch" is also the empty cell's value: it never demotes a problem set in the app.
            values["status"] = spec.status
        for key in ("political_capital", "authority"):
            if getattr(spec, key) is not None:
                values[key] = getattr(spec, key)
        for key in ("political_notes", "authority_notes"):
            if getattr(spec, key):
                values[key] = getattr(spec, key)
        lists = {
            "district(s)": (spec.districts, districts),
            "indicator(s)": (spec.indicators, indicators),
        }
        if _reject_unknown(writer, "problems.csv", spec.code, lists):
            continue
        want_indicators = [indicators[c.casefold()] for c in spec.indicators]
        named = [categories[codes[c.casefold()]] for c in spec.categories]
        want_categories = list(dict.fromkeys(m for c in named for m in (groups.get(c) or [c])))
        category_names = list(spec.categories) + sorted(
            _category_name(session, c) for c in set(want_categories) - set(named)
        )
        wanted: dict[str, tuple[list[int], Sequence[str]]] = {
            "indicators": (want_indicators, spec.indicators),
            "categories": (want_categories, category_names),
        }
        if spec.districts:  # an empty cell leaves the districts set in the app alone
            wanted["districts"] = (
                [districts[c.casefold()] for c in spec.districts],
                spec.districts,
            )

        def links(
            problem: Problem, wanted: Mapping[str, tuple[list[int], Sequence[str]]] = wanted
        ) -> tuple[dict[str, Any], dict[str, Any]]:
            return _sync_problem_links(session, problem.id, wanted)

        row = _upsert_archivable(
            writer, "problem", spec.code, row, values, Problem, spec.archived, links
        )
        ids[spec.code.casefold()] = row.id
    return ids


def _category_name(session: Session, category_id: int) -> str:
    return str(session.scalar(select(ReportCategory.name).where(ReportCategory.id == category_id)))


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
        row = stored.get(spec.name.casefold())
        stored[spec.name.casefold()] = _upsert_archivable(
            writer, "actor", spec.name, row, _actor_values(spec), Actor, spec.archived
        )
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
    ids, created = _upsert_titled(
        writer,
        "causal_factor",
        CausalFactor,
        factors,
        stored,
        problems,
        key_of=lambda spec: factor_key(spec.problem, spec.number),
        refs_of=lambda spec: {"indicator": (spec.indicator, indicators)},
        columns_of=lambda spec: {
            "reach": spec.reach,
            "evidence": spec.evidence,
            "weight": spec.weight,
            "indicator_id": indicators[spec.indicator.casefold()] if spec.indicator else None,
        },
    )
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


def _upsert_titled(
    writer: _Writer,
    entity: str,
    model: Any,
    specs: Sequence[Any],
    stored: dict[tuple[int, str], Any],
    problems: Mapping[str, int],
    *,
    key_of: Callable[[Any], str],
    refs_of: Callable[[Any], Mapping[str, tuple[str, Mapping[str, int]]]],
    columns_of: Callable[[Any], dict[str, Any]],
) -> tuple[dict[str, int], set[int]]:
    """Upsert rows titled within a problem (factors, innovations), matched in ``stored`` by
    (problem id, casefolded title); returns the pack key (casefolded) -> id, and the ids
    created.

    ``key_of`` gives a row's pack key (what a reject names), ``columns_of`` its columns
    beside problem, title and description. A row is rejected when its problem or another
    record it names (``refs_of``: what -> (its cell, imported casefolded keys); an empty
    cell names none) was not imported.
    """
    file = _file_of(entity)
    ids: dict[str, int] = {}
    created: set[int] = set()
    for spec in specs:
        key = key_of(spec)
        problem = problems.get(spec.problem.casefold())
        missing = {"problem": problem is None}
        missing.update(
            {
                what: bool(cell) and cell.casefold() not in known
                for what, (cell, known) in refs_of(spec).items()
            }
        )
        if _reject_unresolved(writer, file, key, missing):
            continue
        values = {"problem_id": problem, "title": spec.title, "description": spec.description}
        match = (problem, spec.title.casefold())
        row = stored.get(match)
        stored[match] = writer.upsert(entity, row, {**values, **columns_of(spec)}, model)
        if row is None:
            created.add(stored[match].id)
        ids[key.casefold()] = stored[match].id
    return ids, created


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
    _upsert_titled(
        writer,
        "innovation",
        Innovation,
        innovations,
        stored,
        problems,
        key_of=lambda spec: f"{spec.problem}#{spec.title}",
        refs_of=lambda spec: {"lead actor": (spec.lead_actor, actors)},
        columns_of=lambda spec: {
            "origin": spec.origin,
            "kind": spec.kind,
            "stage": spec.stage,
            "lead_actor_id": actors[spec.lead_actor.casefold()] if spec.lead_actor else None,
            "evidence": spec.evidence,
            "evidence_note": spec.evidence_note,
            "cost": spec.cost,
        },
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
        missing = problem is None or actor is None or (bool(spec.factor) and factor is None)
        if _reject_unresolved(
            writer, "engagements.csv", key, {"actor, problem or factor": missing}
        ):
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
        DistrictSpec(**same_named(DistrictSpec, d))
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
            lead_department=code_of.get(p.lead_department_id, "") if p.lead_department_id else "",
            indicators=tuple(sorted(indicator_code[i] for i in problem_indicators.get(p.id, []))),
            categories=tuple(sorted(category_name[c] for c in problem_categories.get(p.id, []))),
            districts=tuple(sorted(district_code[d] for d in problem_districts.get(p.id, []))),
            archived=_archived(p),
            **same_named(ProblemSpec, p),
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
                department=code_of[i.department_id],
                warning=i.warning_threshold,
                critical=i.critical_threshold,
                archived=_archived(i),
                **same_named(IndicatorSpec, i),
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
                code_of[c.department_id] if c.department_id is not None else "",
                "" if c.code == category_code(c.name) else c.code,
                category_name[c.continues_id] if c.continues_id is not None else "",
            )
            for c in categories
            if c.department_id is not None or c.continues_id is not None
        ],
        policy_areas=[PolicyAreaSpec(code, label) for code, label in labels.items()],
        factors=factors,
        innovations=[
            InnovationSpec(
                problem=problem_code[i.problem_id],
                lead_actor=actor_name.get(i.lead_actor_id, "") if i.lead_actor_id else "",
                **same_named(InnovationSpec, i),
            )
            for i in session.scalars(select(Innovation).order_by(Innovation.id)).all()
        ],
        engagements=[
            EngagementSpec(
                actor=actor_name[e.actor_id],
                problem=problem_code[e.problem_id],
                factor=numbers.get(e.factor_id) if e.factor_id else None,
                **same_named(EngagementSpec, e),
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
            parents=tuple(sorted(parents.get(f.id, []))),
            indicator=indicator_code[f.indicator_id] if f.indicator_id else "",
            **same_named(FactorSpec, f),
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
    "PLACE_BATCH",
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
