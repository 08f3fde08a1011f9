"""One catalogue record at a time, as the administration pages change them.

Departments, indicators, problems and actors are created, edited, archived and restored here;
districts come from an uploaded boundary file, data sources from a form. Every row is checked
by the city pack's own rules (``triage.citypack.parse_record``) and written through the import's
writer, so each change leaves the same audit row an import would. Nothing here commits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from db.audit import write_audit
from db.catalog import (
    ImportReport,
    Placement,
    _actor_values,
    _import_districts,
    _indicator_values,
    _problem_values,
    _sync_problem_links,
    _Writer,
    category_groups,
    category_links,
    continues_refusal,
    department_holders,
    place_reports,
    spread_renamed_problems,
)
from db.frames import query_frame
from db.ingest import category_code
from db.models import (
    SOURCE_KINDS,
    Actor,
    CategoryProblem,
    DataSource,
    Department,
    Indicator,
    Problem,
    ProblemIndicator,
    ReportCategory,
    utcnow,
)
from triage.citypack import (
    ACTOR_COLUMNS,
    DEPARTMENT_COLUMNS,
    INDICATOR_COLUMNS,
    LIST_SEPARATOR,
    CityPack,
    Reject,
    RowError,
    parse_record,
)
from triage.ingest.errors import IngestError
from triage.security import Capability, Principal, require
from triage.validation import ValidationError
from triage.vocabulary import CATALOGUE_KINDS

MODELS: dict[str, Any] = {
    "department": Department,
    "indicator": Indicator,
    "problem": Problem,
    "actor": Actor,
}
# The form's fields per kind: the pack file's columns (but ``archived``: the form's archive and
# restore buttons set it), in the order the form shows them.
FIELDS: dict[str, tuple[str, ...]] = {
    "department": tuple(c for c in DEPARTMENT_COLUMNS if c != "archived"),
    "indicator": tuple(c for c in INDICATOR_COLUMNS if c != "archived"),
    "problem": (
        "code",
        "title",
        "lead_department",
        "indicators",
        "categories",
        "status",
        "policy_area",
        "description",
        "desired_outcome",
    ),
    "actor": tuple(c for c in ACTOR_COLUMNS if c != "archived"),
}
KEY_FIELD = {"department": "code", "indicator": "code", "problem": "code", "actor": "name"}
SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
MIN_POLL_MINUTES, MAX_POLL_MINUTES = 5, 7 * 24 * 60
UPLOAD_FILE = "upload.geojson"


class FieldError(ValidationError):
    """One field of a form is wrong; ``field`` names it (``""``: the form as a whole)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Saved:
    """What a save did: the record's id, whether it was new, and whether anything changed."""

    id: int
    created: bool
    changed: bool


def _cell(value: object) -> str:
    """A form value as the text cell a pack file would hold."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row_error(kind: str, error: RowError) -> FieldError:
    """The citypack's message names the column first (``"code is empty"``): that is the field."""
    message = str(error)
    first = message.split(" ", 1)[0]
    if first not in FIELDS[kind]:
        return FieldError("", message[:1].upper() + message[1:] + ".")
    label = first.replace("_", " ").capitalize()
    return FieldError(first, f"{label}{message[len(first) :]}.")


def _by_key(session: Session, model: Any, column: str, value: str) -> Any:
    return session.scalars(
        select(model).where(func.lower(getattr(model, column)) == value.casefold())
    ).first()


def _live_department(session: Session, code: str, field: str) -> int | None:
    if not code:
        return None
    row = _by_key(session, Department, "code", code)
    if row is None:
        raise FieldError(field, f"There is no department with the code {code!r}.")
    if row.archived_at is not None:
        raise FieldError(field, f"Department {row.code} is archived; restore it first.")
    return row.id


def _writer(session: Session, actor: Principal) -> _Writer:
    return _Writer(session, actor, ImportReport(), {})


def save_record(
    session: Session,
    actor: Principal,
    kind: str,
    values: Mapping[str, object],
    *,
    record_id: int | None = None,
) -> Saved:
    """Create (``record_id`` None) or edit one department, indicator, problem or actor.

    ``values`` holds the form's fields (``FIELDS[kind]``), checked by the pack's rules; the
    code (a name for actors) of an existing record never changes, since city packs match by it.
    Raises ``FieldError`` naming the field at fault; writes one audit row when anything changed.
    """
    require(actor, Capability.MANAGE_CATALOGUE)
    if kind not in CATALOGUE_KINDS:
        raise FieldError("", "Choose what to set up: department, indicator, problem or actor.")
    cells = {name: _cell(values.get(name)) for name in FIELDS[kind]}
    try:
        spec = parse_record(kind, cells)
    except RowError as error:
        raise _row_error(kind, error) from None
    model = MODELS[kind]
    key_field = KEY_FIELD[kind]
    key = getattr(spec, key_field)
    row = None
    if record_id is not None:
        row = session.get(model, record_id)
        if row is None:
            raise FieldError("", f"That {kind} no longer exists; reload the page.")
    same = _by_key(session, model, key_field, key)
    if row is None and same is not None:
        state = " (archived: restore it instead)" if same.archived_at is not None else ""
        raise FieldError(key_field, f"The {key_field} {key!r} is already used{state}.")
    if row is not None and key_field == "code" and row.code.casefold() != key.casefold():
        raise FieldError("code", "The code cannot change: city packs find the record by it.")
    if row is not None and same is not None and same.id != row.id:
        raise FieldError(key_field, f"The {key_field} {key!r} is already used.")
    writer = _writer(session, actor)
    if kind == "department":
        holder = _by_key(session, Department, "name", spec.name)
        if holder is not None and (row is None or holder.id != row.id):
            raise FieldError("name", f"Department {holder.code} already has that name.")
        row = writer.upsert("department", row, {"code": spec.code, "name": spec.name}, Department)
    elif kind == "indicator":
        department = _live_department(session, spec.department, "department")
        row = writer.upsert("indicator", row, _indicator_values(spec, department), Indicator)
    elif kind == "problem":
        row = _save_problem(session, writer, row, spec)
    else:
        row = writer.upsert("actor", row, _actor_values(spec), Actor)
    counts = writer.report.files.values()
    return Saved(int(row.id), record_id is None, sum(c.added + c.updated for c in counts) > 0)


def _save_problem(session: Session, writer: _Writer, row: Any, spec: Any) -> Any:
    lead = _live_department(session, spec.lead_department, "lead_department")
    indicator_ids = []
    for code in spec.indicators:
        indicator = _by_key(session, Indicator, "code", code)
        if indicator is None:
            raise FieldError("indicators", f"There is no indicator with the code {code!r}.")
        if indicator.archived_at is not None:
            raise FieldError("indicators", f"Indicator {indicator.code} is archived.")
        indicator_ids.append(indicator.id)
    category_ids = []
    for name in spec.categories:
        code = category_code(name)
        category = session.scalars(
            select(ReportCategory).where(ReportCategory.code == code)
        ).first()
        if category is None:
            category = writer.upsert(
                "report_category", None, {"code": code, "name": name[:200]}, ReportCategory
            )
        category_ids.append(category.id)
    # A problem fed by a renamed category is fed by its whole chain of renames.
    groups = category_groups(session)
    category_ids = list(dict.fromkeys(m for c in category_ids for m in groups.get(c) or [c]))

    wanted = {
        "indicators": (indicator_ids, spec.indicators),
        "categories": (category_ids, spec.categories),
    }

    def links(problem: Problem) -> tuple[dict[str, Any], dict[str, Any]]:
        return _sync_problem_links(session, problem.id, wanted)

    values = {**_problem_values(spec, lead), "status": spec.status}
    return writer.upsert("problem", row, values, Problem, links=links)


def set_archived(
    session: Session, actor: Principal, kind: str, record_id: int, archived: bool
) -> str:
    """Archive (or restore) one record; returns its name. History keeps pointing at it.

    A department still leading indicators or heading users that are not archived cannot be
    archived: the message says what to move or archive first.
    """
    require(actor, Capability.MANAGE_CATALOGUE)
    if kind not in CATALOGUE_KINDS:
        raise FieldError("", "Unknown kind of record.")
    row = session.get(MODELS[kind], record_id)
    if row is None:
        raise FieldError("", f"That {kind} no longer exists; reload the page.")
    name = str(getattr(row, "title", None) or row.name)
    if archived and kind == "department":
        indicators, users = department_holders(session, row.id)
        if indicators or users:
            raise FieldError(
                "",
                f"{name} still has {indicators} indicator(s) and {users} "
                "active user(s); archive or move them first.",
            )
    if (row.archived_at is not None) == archived:
        return name
    before = {"archived_at": row.archived_at}
    row.archived_at = utcnow() if archived else None
    session.flush()
    write_audit(
        session,
        actor,
        "archive" if archived else "restore",
        kind,
        row.id,
        before=before,
        after={"archived_at": row.archived_at},
    )
    return name


# -------------------------------------------------------------------------------- listings


def catalogue_frame(session: Session, kind: str) -> pd.DataFrame:
    """Every record of ``kind``, archived ones included, as the form's fields (text).

    Columns: id, the ``FIELDS[kind]`` columns (lists ``;``-joined, numbers as text), archived
    (bool), and ``used``: how many indicators (departments), problems (indicators) or
    engagements refer to it.
    """
    if kind == "department":
        used = dict(
            session.execute(
                select(Indicator.department_id, func.count()).group_by(Indicator.department_id)
            ).all()
        )
        rows = [
            {"id": d.id, "code": d.code, "name": d.name, "used": used.get(d.id, 0), **_arch(d)}
            for d in session.scalars(select(Department).order_by(Department.code))
        ]
    elif kind == "indicator":
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        used = dict(
            session.execute(
                select(ProblemIndicator.indicator_id, func.count()).group_by(
                    ProblemIndicator.indicator_id
                )
            ).all()
        )
        rows = [
            {
                "id": i.id,
                "code": i.code,
                "name": i.name,
                "department": codes.get(i.department_id, ""),
                "unit": i.unit,
                "direction": i.direction,
                "cadence": i.cadence,
                "target": _number_text(i.target),
                "warning": _number_text(i.warning_threshold),
                "critical": _number_text(i.critical_threshold),
                "description": i.description,
                "source": i.source,
                "used": used.get(i.id, 0),
                **_arch(i),
            }
            for i in session.scalars(select(Indicator).order_by(Indicator.code))
        ]
    elif kind == "problem":
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        indicator_codes = dict(session.execute(select(Indicator.id, Indicator.code)).all())
        category_names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
        links: dict[int, list[str]] = {}
        for problem_id, target in session.execute(
            select(ProblemIndicator.problem_id, ProblemIndicator.indicator_id)
        ).all():
            links.setdefault(problem_id, []).append(indicator_codes[target])
        feeds: dict[int, list[str]] = {}
        for problem_id, target in session.execute(
            select(CategoryProblem.problem_id, CategoryProblem.category_id)
        ).all():
            feeds.setdefault(problem_id, []).append(category_names[target])
        rows = [
            {
                "id": p.id,
                "code": p.code or "",
                "title": p.title,
                "lead_department": codes.get(p.lead_department_id, "")
                if p.lead_department_id
                else "",
                "indicators": sorted(links.get(p.id, [])),
                "categories": sorted(feeds.get(p.id, [])),
                "status": p.status,
                "policy_area": p.policy_area or "",
                "description": p.description or "",
                "desired_outcome": p.desired_outcome or "",
                "used": len(links.get(p.id, [])) + len(feeds.get(p.id, [])),
                **_arch(p),
            }
            for p in session.scalars(select(Problem).order_by(Problem.code, Problem.id))
        ]
    elif kind == "actor":
        rows = [
            {
                "id": a.id,
                "name": a.name,
                "sector": a.sector,
                "description": a.description,
                "contact": a.contact,
                "used": 0,
                **_arch(a),
            }
            for a in session.scalars(select(Actor).order_by(Actor.name))
        ]
    else:
        raise FieldError("", "Unknown kind of record.")
    columns = ["id", *FIELDS[kind], "used", "archived"]
    return pd.DataFrame(rows, columns=columns)


def _arch(row: Any) -> dict[str, bool]:
    return {"archived": row.archived_at is not None}


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def record_values(session: Session, kind: str, record_id: int) -> dict[str, Any] | None:
    """The form's values of one record (lists as lists), with ``archived``; None if gone."""
    frame = catalogue_frame(session, kind)
    match = frame[frame["id"] == record_id]
    if match.empty:
        return None
    return {k: v for k, v in match.iloc[0].to_dict().items() if k != "used"}


def choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """(code, name) of the departments, indicators and categories a form may pick; archived
    departments and indicators are left out."""
    return {
        "department": _live_choices(session, Department),
        "indicator": _live_choices(session, Indicator),
        "category": [
            (n, n)
            for (n,) in session.execute(
                select(ReportCategory.name).order_by(ReportCategory.name)
            ).all()
        ],
    }


def _live_choices(session: Session, model: Any) -> list[tuple[str, str]]:
    """(code, name) of the records of ``model`` not archived, by code."""
    return [
        (c, n)
        for c, n in session.execute(
            select(model.code, model.name).where(model.archived_at.is_(None)).order_by(model.code)
        ).all()
    ]


# -------------------------------------------------------------------------------- renames


def category_renames(session: Session) -> pd.DataFrame:
    """The stored renames: id, category, continues (the name it had before), newest name
    first by name. Empty when the city renamed nothing."""
    old = aliased(ReportCategory)
    rows = session.execute(
        select(ReportCategory.id, ReportCategory.name, old.name)
        .join(old, old.id == ReportCategory.continues_id)
        .order_by(ReportCategory.name)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", "category", "continues"])


def category_options(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every report category, by name, for the rename form's pickers."""
    return [
        (int(i), str(n))
        for i, n in session.execute(
            select(ReportCategory.id, ReportCategory.name).order_by(ReportCategory.name)
        ).all()
    ]


def set_category_continues(
    session: Session, actor: Principal, category_id: object, continues_id: object
) -> str:
    """Record that a category continues the one the city renamed it from (``continues_id``
    None or empty: remove the link); returns a sentence saying what was done.

    Refused with a ``FieldError`` as a pack import refuses it (``db.catalog.continues_refusal``:
    itself, a second successor, a cycle). A new link also feeds the successor's problems with
    the predecessor's and back (``spread_renamed_problems``). One audit row per change.
    """
    require(actor, Capability.MANAGE_CATALOGUE)
    row = session.get(ReportCategory, _category_id(category_id, "category"))
    if row is None:
        raise FieldError("category", "That category no longer exists; reload the page.")
    names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
    before = {"continues": names.get(row.continues_id) if row.continues_id else None}
    if continues_id in (None, ""):
        if row.continues_id is None:
            return f"{row.name} continues no other category; nothing to remove."
        _set_continues(session, actor, row, None, before)
        return f"{row.name} no longer continues {before['continues']}."
    old = session.get(ReportCategory, _category_id(continues_id, "continues"))
    if old is None:
        raise FieldError("continues", "That category no longer exists; reload the page.")
    if row.continues_id == old.id:
        return f"{row.name} already continues {old.name}."
    refusal = continues_refusal(category_links(session), names, row.id, old.id)
    if refusal:
        raise FieldError("continues", refusal[:1].upper() + refusal[1:] + ".")
    _set_continues(session, actor, row, old, before)
    spread = spread_renamed_problems(session, _writer(session, actor))
    fed = ""
    if spread:
        fed = (
            " 1 problem now counts both names."
            if len(spread) == 1
            else (f" {len(spread)} problems now count both names.")
        )
    return (
        f"{row.name} now continues {old.name}: their reports are one series for early "
        f"warnings.{fed}"
    )


def _set_continues(
    session: Session,
    actor: Principal,
    row: ReportCategory,
    old: ReportCategory | None,
    before: dict[str, Any],
) -> None:
    """Link ``row`` to the category it continues (``old`` None: unlink it), with its audit row."""
    row.continues_id = old.id if old is not None else None
    session.flush()
    after = {"continues": old.name if old is not None else None}
    write_audit(session, actor, "update", "report_category", row.id, before=before, after=after)


def _category_id(value: object, field: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise FieldError(field, "Choose a category from the list.") from None


# -------------------------------------------------------------------------------- districts


def upload_properties(data: bytes, limit: int = 50) -> list[str]:
    """The property names of an uploaded GeoJSON FeatureCollection's features (first 50
    features), most common first; ``FieldError`` when the file is not one."""
    try:
        collection = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FieldError("file", "The file is not JSON; upload a GeoJSON file.") from None
    features = collection.get("features") if isinstance(collection, dict) else None
    if not isinstance(features, list) or not features:
        raise FieldError("file", "The file is not a GeoJSON FeatureCollection with features.")
    seen: dict[str, int] = {}
    for feature in features[:limit]:
        properties = feature.get("properties") if isinstance(feature, dict) else None
        for name in properties or {}:
            seen[str(name)] = seen.get(str(name), 0) + 1
    if not seen:
        raise FieldError("file", "The features have no properties, so no district code.")
    return sorted(seen, key=lambda n: -seen[n])


@dataclass
class DistrictImport:
    """What an upload did: per-district counts, the rejects, and where reports moved."""

    added: int
    updated: int
    unchanged: int
    rejects: list[Reject]
    notes: list[str]
    placement: Placement | None


def import_district_upload(
    session: Session, actor: Principal, pack: CityPack, *, city_tz: str
) -> DistrictImport:
    """Write the districts of ``triage.citypack.read_district_file`` as a pack import does
    (upsert by code, one audit row each); when a boundary changed, stored reports are placed
    again (``db.catalog.place_reports``). Districts absent from the file are kept."""
    require(actor, Capability.MANAGE_CATALOGUE)
    report = ImportReport(rejects=list(pack.rejects), notes=list(pack.notes))
    writer = _Writer(session, actor, report, pack.lines)
    from db.ingest import ensure_sentinel_districts

    ensure_sentinel_districts(session)
    changed = _import_districts(session, writer, pack.districts, UPLOAD_FILE)
    session.flush()
    placement = place_reports(session, actor, city_tz) if changed else None
    counts = report.files["districts"]
    return DistrictImport(
        counts.added, counts.updated, counts.unchanged, report.rejects, report.notes, placement
    )


# -------------------------------------------------------------------------------- data sources


def add_data_source(
    session: Session,
    actor: Principal,
    *,
    name: object,
    kind: object,
    url: object,
    fmt: object = "json",
    jurisdiction_id: object = "",
    layout: object = "",
    timezone: object = "",
    poll_minutes: object = None,
) -> int:
    """Register a data source the scheduler can run (``triage.jobs.ingest.run_source``).

    Open311: ``url`` is the GeoReport v2 endpoint (http/https), ``fmt`` json or xml, and a
    ``timezone`` for its times without a zone (required). Portal CSV (``csv``) and indicator
    files: ``url`` is the file's absolute path on the server and ``layout`` a built-in layout.
    ``poll_minutes`` empty means "only when imported by hand". One audit row.
    """
    from triage.ingest.indicators import INDICATOR_LAYOUTS
    from triage.ingest.open311_client import Open311Client
    from triage.ingest.portal_csv import LAYOUTS

    require(actor, Capability.MANAGE_CATALOGUE)
    name_text = _cell(name).strip()
    if not SOURCE_NAME.match(name_text):
        raise FieldError(
            "name", "Give the source a name of 1 to 64 letters, digits, spaces, '.', '_' or '-'."
        )
    if _by_key(session, DataSource, "name", name_text) is not None:
        raise FieldError("name", f"A data source is already called {name_text!r}.")
    kind_text = _cell(kind)
    if kind_text not in SOURCE_KINDS:
        raise FieldError("kind", f"Choose the kind: {', '.join(SOURCE_KINDS)}.")
    url_text = _cell(url).strip()
    config: dict[str, Any] = {}
    zone = _cell(timezone).strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise FieldError(
                "timezone", f"{zone[:60]!r} is not a time zone (e.g. America/Chicago)."
            ) from None
    if kind_text == "open311":
        try:
            client = Open311Client(url_text, fmt=_cell(fmt) or "json")
        except IngestError as error:
            field = "format" if "format" in str(error) else "url"
            raise FieldError(field, str(error)) from None
        if not zone:
            raise FieldError(
                "timezone",
                "An Open311 source needs the time zone its times are in (e.g. America/Chicago).",
            )
        url_text = client.display_url
        config = {
            "format": client.fmt,
            "jurisdiction_id": _cell(jurisdiction_id).strip()[:64] or None,
            "timezone": zone,
        }
    else:
        layouts = LAYOUTS if kind_text == "csv" else INDICATOR_LAYOUTS
        layout_text = _cell(layout).strip()
        if kind_text == "csv" and not layout_text:
            raise FieldError("layout", f"Choose a layout: {', '.join(layouts)}.")
        if layout_text and layout_text not in layouts:
            raise FieldError("layout", f"Unknown layout; choose one of {', '.join(layouts)}.")
        if not url_text or not Path(url_text).is_absolute() or len(url_text) > 500:
            raise FieldError("url", "Give the file's full path on the server (e.g. /data/311.csv).")
        config = {"layout": layout_text} if layout_text else {}
        if zone:
            config["timezone"] = zone
    poll = _poll_minutes(poll_minutes)
    row = DataSource(
        name=name_text,
        kind=kind_text,
        url=url_text[:500],
        config=config,
        poll_minutes=poll,
        active=True,
    )
    session.add(row)
    session.flush()
    write_audit(
        session,
        actor,
        "create",
        "data_source",
        row.id,
        after={
            "name": name_text,
            "kind": kind_text,
            "url": row.url,
            "poll_minutes": poll,
            **config,
        },
    )
    return int(row.id)


def _poll_minutes(raw: object) -> int | None:
    text = _cell(raw).strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FieldError("poll_minutes", "Minutes between polls must be a whole number.") from None
    if not value.is_integer() or not MIN_POLL_MINUTES <= value <= MAX_POLL_MINUTES:
        raise FieldError(
            "poll_minutes",
            f"Minutes between polls: a whole number from {MIN_POLL_MINUTES} to "
            f"{MAX_POLL_MINUTES:,} (a week), or empty for by hand only.",
        )
    return int(value)


def source_choices() -> dict[str, Sequence[str]]:
    """The layouts a new portal CSV or indicator file source may name."""
    from triage.ingest.indicators import INDICATOR_LAYOUTS
    from triage.ingest.portal_csv import LAYOUTS

    return {"csv": list(LAYOUTS), "indicators": list(INDICATOR_LAYOUTS)}


__all__ = [
    "FIELDS",
    "DistrictImport",
    "FieldError",
    "Saved",
    "add_data_source",
    "catalogue_frame",
    "category_options",
    "category_renames",
    "choices",
    "import_district_upload",
    "record_values",
    "save_record",
    "set_archived",
    "set_category_continues",
    "source_choices",
    "upload_properties",
]


def data_sources(session: Session) -> pd.DataFrame:
    """Every data source. Columns: id, name, kind, url, active, poll_minutes, cursor,
    last_attempt_at, last_success_at, last_error, created_at; ordered by name."""
    return query_frame(
        session,
        select(
            DataSource.id,
            DataSource.name,
            DataSource.kind,
            DataSource.url,
            DataSource.active,
            DataSource.poll_minutes,
            DataSource.cursor,
            DataSource.last_attempt_at,
            DataSource.last_success_at,
            DataSource.last_error,
            DataSource.created_at,
        ).order_by(DataSource.name),
        [
            "id",
            "name",
            "kind",
            "url",
            "active",
            "poll_minutes",
            "cursor",
            "last_attempt_at",
            "last_success_at",
            "last_error",
            "created_at",
        ],
    )
