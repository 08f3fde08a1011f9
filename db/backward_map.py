"""The backward map of a problem: causes, engagements of actors and innovations, read as frames and
changed by audited, version-checked edits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.audit import row_state, write_audit
from db.columns import ENGAGEMENT, FACTOR
from db.frames import query_frame
from db.models import (
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    INNOVATION_TYPES,
    PROBLEM_STATUSES,
    REACHES,
    STANCES,
    Actor,
    CausalFactor,
    Engagement,
    FactorLink,
    Indicator,
    Innovation,
    Problem,
    utcnow,
)
from db.problems import EditConflict, problem_version_checked
from triage.backward_map import CausalCycleError, causal_importance
from triage.security import Capability, Principal, require
from triage.validation import ValidationError, parse_period, parse_value, plain_text
from triage.vocabulary import (
    ENGAGEMENT_FORM_FIELDS,
    FACTOR_FORM_FIELDS,
    INNOVATION_FORM_FIELDS,
    PROBLEM_FORM_FIELDS,
    TITLE_LENGTH,
)

TEXT_LENGTH = 4000
MAX_MONEY = 1e12
EARLIEST_CONTACT = dt.date(1990, 1, 1)
NEW_FACTOR = 0  # stands for a factor not yet inserted (real ids start at 1)
FACTOR_FIELDS = frozenset(FACTOR_FORM_FIELDS)
ENGAGEMENT_FIELDS = frozenset(ENGAGEMENT_FORM_FIELDS)
INNOVATION_FIELDS = frozenset(INNOVATION_FORM_FIELDS)


@dataclass(frozen=True)
class MapFrames:
    """The frames ``triage.backward_map.backward_map`` reads, for one problem."""

    # id, problem_id, title, reach, evidence, weight, indicator_id, description
    factors: pd.DataFrame
    links: pd.DataFrame  # factor_id, parent_id
    # id, actor_id, problem_id, factor_id, role, stance, committed_funding
    engagements: pd.DataFrame
    actors: pd.DataFrame  # id, name, sector (the actors engaged on the problem)


def map_frames(session: Session, problem_id: int) -> MapFrames:
    """The backward map of one problem as frames, ordered by id."""
    factor_columns = {**FACTOR, "description": CausalFactor.description}
    factors = query_frame(
        session,
        select(*factor_columns.values())
        .where(CausalFactor.problem_id == problem_id)
        .order_by(CausalFactor.id),
        list(factor_columns),
    )
    links = query_frame(
        session,
        select(FactorLink.factor_id, FactorLink.parent_id)
        .join(CausalFactor, CausalFactor.id == FactorLink.factor_id)
        .where(CausalFactor.problem_id == problem_id)
        .order_by(FactorLink.factor_id, FactorLink.parent_id),
        ["factor_id", "parent_id"],
    )
    engagements = query_frame(
        session,
        select(*ENGAGEMENT.values())
        .where(Engagement.problem_id == problem_id)
        .order_by(Engagement.id),
        list(ENGAGEMENT),
    )
    actors = query_frame(
        session,
        select(Actor.id, Actor.name, Actor.sector)
        .where(Actor.id.in_(select(Engagement.actor_id).where(Engagement.problem_id == problem_id)))
        .order_by(Actor.id),
        ["id", "name", "sector"],
    )
    return MapFrames(factors, links, engagements, actors)


def factor_detail(session: Session, factor_id: int) -> dict[str, Any] | None:
    """One factor with its problem and indicator name, or None (for the map's detail panel).

    Keys: id, problem_id, title, description, reach, evidence, weight, indicator.
    """
    row = session.execute(
        select(
            CausalFactor.id,
            CausalFactor.problem_id,
            CausalFactor.title,
            CausalFactor.description,
            CausalFactor.reach,
            CausalFactor.evidence,
            CausalFactor.weight,
            Indicator.name,
        )
        .outerjoin(Indicator, Indicator.id == CausalFactor.indicator_id)
        .where(CausalFactor.id == factor_id)
    ).first()
    if row is None:
        return None
    keys = ("id", "problem_id", "title", "description", "reach", "evidence", "weight", "indicator")
    return dict(zip(keys, row, strict=True))


def engagement_details(session: Session, problem_id: int) -> pd.DataFrame:
    """Who is engaged on the problem, in full.

    Columns: id, actor_id, actor_name, sector, role, stance, committed_funding, factor_id,
    factor_title, authorisation, strings, last_contact; ordered by sector, actor, id.
    """
    return query_frame(
        session,
        select(
            Engagement.id,
            Engagement.actor_id,
            Actor.name,
            Actor.sector,
            Engagement.role,
            Engagement.stance,
            Engagement.committed_funding,
            Engagement.factor_id,
            CausalFactor.title,
            Engagement.authorisation,
            Engagement.strings,
            Engagement.last_contact,
        )
        .join(Actor, Actor.id == Engagement.actor_id)
        .outerjoin(CausalFactor, CausalFactor.id == Engagement.factor_id)
        .where(Engagement.problem_id == problem_id)
        .order_by(Actor.sector, Actor.name, Engagement.id),
        [
            "id",
            "actor_id",
            "actor_name",
            "sector",
            "role",
            "stance",
            "committed_funding",
            "factor_id",
            "factor_title",
            "authorisation",
            "strings",
            "last_contact",
        ],
    )


def innovation_details(session: Session, problem_id: int) -> pd.DataFrame:
    """The problem's innovations, in full.

    Columns: id, title, description, origin, kind, stage, evidence, evidence_note,
    lead_actor_id, lead_actor, cost; ordered by title, id.
    """
    return query_frame(
        session,
        select(
            Innovation.id,
            Innovation.title,
            Innovation.description,
            Innovation.origin,
            Innovation.kind,
            Innovation.stage,
            Innovation.evidence,
            Innovation.evidence_note,
            Innovation.lead_actor_id,
            Actor.name,
            Innovation.cost,
        )
        .outerjoin(Actor, Actor.id == Innovation.lead_actor_id)
        .where(Innovation.problem_id == problem_id)
        .order_by(Innovation.title, Innovation.id),
        [
            "id",
            "title",
            "description",
            "origin",
            "kind",
            "stage",
            "evidence",
            "evidence_note",
            "lead_actor_id",
            "lead_actor",
            "cost",
        ],
    )


def actor_choices(session: Session) -> pd.DataFrame:
    """Every actor not archived, for the forms. Columns: id, name, sector; ordered by name."""
    return query_frame(
        session,
        select(Actor.id, Actor.name, Actor.sector)
        .where(Actor.archived_at.is_(None))
        .order_by(Actor.name),
        ["id", "name", "sector"],
    )


@dataclass(frozen=True)
class SavedEdit:
    """What a write changed: the row's id and the problem's new version (for the next save)."""

    entity_id: int
    version: int


def _words(values: Iterable[str]) -> str:
    names = [v.replace("_", " ") for v in values]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def _text(value: object, label: str, *, required: bool = False, limit: int = TEXT_LENGTH) -> str:
    return plain_text(value, label, limit=limit, required=required)


def _choice(value: object, allowed: tuple[str, ...], label: str) -> str:
    text = "" if value is None else str(value).strip()
    if text not in allowed:
        raise ValidationError(f"{label} must be {_words(allowed)}.")
    return text


def _number(value: object, label: str, low: float, high: float) -> float:
    try:
        number = parse_value(value)
    except ValidationError:
        raise ValidationError(f"{label} must be a number.") from None
    if not low <= number <= high:
        raise ValidationError(f"{label} must lie between {low:,g} and {high:,g}.")
    return number


def _money(value: object, label: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _number(value, label, 0.0, MAX_MONEY)


def _whole(value: object, label: str, low: int, high: int) -> int:
    number = _number(value, label, low, high)
    if not number.is_integer():
        raise ValidationError(f"{label} must be a whole number from {low} to {high}.")
    return int(number)


def _optional_id(value: object, label: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{label} is not valid.")
    text = str(value).strip()
    if not text.isdigit() or len(text) > 12:
        raise ValidationError(f"{label} is not valid.")
    return int(text)


def _contact_date(value: object, today: dt.date) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    day = parse_period(value)
    if day < EARLIEST_CONTACT:
        raise ValidationError("The last contact cannot be before 1990.")
    if day > today + dt.timedelta(days=1):
        raise ValidationError(f"The last contact ({day.isoformat()}) is in the future.")
    return day


def _unknown(fields: Mapping[str, object], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")


def clean_problem_changes(values: Mapping[str, object]) -> dict[str, object]:
    """The problem form's fields, checked: title required, status known, 0..5 scales.

    Only the keys present are returned (see ``PROBLEM_FORM_FIELDS``); pass the result to
    ``db.problems.update_problem``.
    """
    _unknown(values, frozenset(PROBLEM_FORM_FIELDS))
    rules: dict[str, Any] = {
        "title": lambda v: _text(v, "The title", required=True, limit=TITLE_LENGTH),
        "description": lambda v: _text(v, "The description"),
        "status": lambda v: _choice(v, PROBLEM_STATUSES, "The status"),
        "desired_outcome": lambda v: _text(v, "The desired outcome"),
        "political_capital": lambda v: _whole(v, "Political capital", 0, 5),
        "political_notes": lambda v: _text(v, "The political notes"),
        "authority": lambda v: _whole(v, "Authority", 0, 5),
        "authority_notes": lambda v: _text(v, "The authority notes"),
    }
    return {key: rules[key](value) for key, value in values.items()}


def _problem_at(session: Session, problem_id: int, expected_version: int) -> Problem:
    """The problem, if it is still at ``expected_version``; else ``EditConflict``."""
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise ValidationError(f"There is no problem with id {problem_id}.")
    if problem.version != expected_version:
        raise EditConflict("problem", problem_id, expected_version, problem.version)
    return problem


def _bump(session: Session, problem: Problem, expected_version: int) -> int:
    """Raise the problem's version before anything else changes (the UPDATE checks it again)."""
    with problem_version_checked(session, problem.id, expected_version):
        problem.updated_at = utcnow()
    return problem.version


def _start(
    session: Session, actor: Principal, problem_id: int, expected_version: int
) -> tuple[Problem, int]:
    require(actor, Capability.EDIT_PROBLEMS)
    problem = _problem_at(session, problem_id, expected_version)
    return problem, _bump(session, problem, expected_version)


def _apply(row: Any, clean: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set the values that differ; return them before and after (what the audit row keeps)."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in clean.items():
        if getattr(row, key) != value:
            before[key], after[key] = getattr(row, key), value
            setattr(row, key, value)
    return before, after


def _owner(session: Session, model: type, entity_id: int, noun: str) -> Any:
    row = session.get(model, entity_id)
    if row is None:
        raise ValidationError(f"This {noun} no longer exists; reload the page.")
    return row


def _clean_factor(session: Session, values: Mapping[str, object]) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "title": lambda v: _text(v, "The factor's title", required=True, limit=TITLE_LENGTH),
        "description": lambda v: _text(v, "The factor's description"),
        "reach": lambda v: _choice(v, REACHES, "The city's reach"),
        "evidence": lambda v: _choice(v, EVIDENCE_LEVELS, "The evidence"),
        "weight": lambda v: _number(v, "The causal weight", 0.0, 1.0),
        "indicator_id": lambda v: _optional_id(v, "The indicator"),
    }
    clean = {key: rules[key](value) for key, value in values.items() if key in rules}
    indicator = clean.get("indicator_id")
    if indicator is not None and session.get(Indicator, indicator) is None:
        raise ValidationError("That indicator does not exist.")
    return clean


def _parent_ids(value: object) -> list[int]:
    if value is None:
        return []
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, Iterable):
        raise ValidationError("The factors it feeds into are not valid.")
    ids = [_optional_id(v, "A factor it feeds into") for v in value]
    return sorted({i for i in ids if i is not None})


def _check_links(
    session: Session, problem_id: int, factor_id: int | None, title: str, parent_ids: list[int]
) -> None:
    """Refuse parents from another problem, the factor itself, or any link that makes a loop.

    ``factor_id`` None is a factor about to be added (it has no children, so no loop yet).
    """
    rows = session.execute(
        select(CausalFactor.id, CausalFactor.title, CausalFactor.weight).where(
            CausalFactor.problem_id == problem_id
        )
    ).all()
    titles = {int(r[0]): str(r[1]) for r in rows}
    weights = {int(r[0]): float(r[2]) for r in rows}
    node = NEW_FACTOR if factor_id is None else factor_id
    weights.setdefault(node, 0.5)
    titles[node] = title
    for parent in parent_ids:
        if parent == node:
            raise ValidationError(f"'{title}' cannot feed into itself.")
        if parent not in titles:
            raise ValidationError("A factor it feeds into is not on this problem's map.")
    links = [
        (int(child), int(parent))
        for child, parent in session.execute(
            select(FactorLink.factor_id, FactorLink.parent_id).where(
                FactorLink.factor_id.in_(list(titles)), FactorLink.factor_id != node
            )
        ).all()
    ]
    links += [(node, parent) for parent in parent_ids]
    factors = pd.DataFrame(
        {
            "id": list(titles),
            "problem_id": problem_id,
            "title": list(titles.values()),
            "weight": [weights[f] for f in titles],
        }
    )
    frame = pd.DataFrame(links, columns=["factor_id", "parent_id"])
    try:
        causal_importance(factors, frame, on_cycle="raise")
    except CausalCycleError as error:
        raise ValidationError(str(error)) from None


def _set_parents(session: Session, factor_id: int, parent_ids: list[int]) -> None:
    session.execute(delete(FactorLink).where(FactorLink.factor_id == factor_id))
    session.add_all(FactorLink(factor_id=factor_id, parent_id=p) for p in parent_ids)


def _current_parents(session: Session, factor_id: int) -> list[int]:
    return sorted(
        int(p)
        for p in session.scalars(
            select(FactorLink.parent_id).where(FactorLink.factor_id == factor_id)
        )
    )


def add_factor(
    session: Session,
    actor: Principal,
    problem_id: int,
    expected_version: int,
    fields: Mapping[str, object],
) -> SavedEdit:
    """Add a causal factor to a problem's map.

    ``fields``: title and reach (required), description, evidence (default moderate), weight
    0..1 (default 0.5), indicator_id, parent_ids (factors it feeds into; none = the problem).
    """
    require(actor, Capability.EDIT_PROBLEMS)
    _unknown(fields, FACTOR_FIELDS)
    values = {"evidence": "moderate", "weight": 0.5, **fields}
    for key in ("title", "reach"):
        values.setdefault(key, None)
    clean = _clean_factor(session, values)
    parents = _parent_ids(values.get("parent_ids"))
    _check_links(session, problem_id, None, str(clean["title"]), parents)
    problem, version = _start(session, actor, problem_id, expected_version)
    factor = CausalFactor(problem_id=problem.id, **clean)
    session.add(factor)
    session.flush()
    _set_parents(session, factor.id, parents)
    session.flush()
    write_audit(
        session,
        actor,
        "create",
        "causal_factor",
        factor.id,
        after={**row_state(factor), "parent_ids": parents},
    )
    return SavedEdit(factor.id, version)


def update_factor(
    session: Session,
    actor: Principal,
    factor_id: int,
    expected_version: int,
    changes: Mapping[str, object],
) -> SavedEdit:
    """Change a factor's fields and/or the factors it feeds into (``parent_ids``)."""
    require(actor, Capability.EDIT_PROBLEMS)
    _unknown(changes, FACTOR_FIELDS)
    factor = _owner(session, CausalFactor, factor_id, "causal factor")
    clean = _clean_factor(session, changes)
    parents = _parent_ids(changes["parent_ids"]) if "parent_ids" in changes else None
    title = str(clean.get("title", factor.title))
    if parents is not None:
        _check_links(session, factor.problem_id, factor.id, title, parents)
    _problem, version = _start(session, actor, factor.problem_id, expected_version)
    before, after = _apply(factor, clean)
    current = _current_parents(session, factor.id)
    if parents is not None and parents != current:
        before["parent_ids"], after["parent_ids"] = current, parents
        _set_parents(session, factor.id, parents)
    session.flush()
    before["problem_id"] = after["problem_id"] = factor.problem_id
    write_audit(session, actor, "update", "causal_factor", factor.id, before=before, after=after)
    return SavedEdit(factor.id, version)


def remove_factor(
    session: Session, actor: Principal, factor_id: int, expected_version: int
) -> SavedEdit:
    """Remove a factor: its links go, factors under it feed what remains, engagements on it
    stay on the problem as a whole."""
    require(actor, Capability.EDIT_PROBLEMS)
    factor = _owner(session, CausalFactor, factor_id, "causal factor")
    _problem, version = _start(session, actor, factor.problem_id, expected_version)
    before = {
        **row_state(factor),
        "parent_ids": _current_parents(session, factor.id),
        "child_ids": sorted(
            int(c)
            for c in session.scalars(
                select(FactorLink.factor_id).where(FactorLink.parent_id == factor.id)
            )
        ),
        "engagement_ids": sorted(
            int(e)
            for e in session.scalars(select(Engagement.id).where(Engagement.factor_id == factor.id))
        ),
    }
    # Explicit rather than left to ON DELETE rules, so both backends behave the same.
    session.execute(
        delete(FactorLink).where(
            (FactorLink.factor_id == factor.id) | (FactorLink.parent_id == factor.id)
        )
    )
    session.execute(
        update(Engagement).where(Engagement.factor_id == factor.id).values(factor_id=None)
    )
    session.delete(factor)
    session.flush()
    write_audit(session, actor, "delete", "causal_factor", factor_id, before=before)
    return SavedEdit(factor_id, version)


def _clean_engagement(
    session: Session, problem_id: int, values: Mapping[str, object], today: dt.date
) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "actor_id": lambda v: _optional_id(v, "The actor"),
        "factor_id": lambda v: _optional_id(v, "The factor"),
        "role": lambda v: _choice(v, ENGAGEMENT_ROLES, "The role"),
        "stance": lambda v: _choice(v, STANCES, "The stance"),
        "committed_funding": lambda v: _money(v, "Committed funding") or 0.0,
        "authorisation": lambda v: _text(v, "The authorisation"),
        "strings": lambda v: _text(v, "The strings attached"),
        "last_contact": lambda v: _contact_date(v, today),
    }
    clean = {key: rules[key](value) for key, value in values.items()}
    if "actor_id" in clean:
        if clean["actor_id"] is None:
            raise ValidationError("Choose the actor who is engaged.")
        if session.get(Actor, clean["actor_id"]) is None:
            raise ValidationError("That actor does not exist.")
    factor_id = clean.get("factor_id")
    if factor_id is not None:
        owner = session.scalar(select(CausalFactor.problem_id).where(CausalFactor.id == factor_id))
        if owner != problem_id:
            raise ValidationError("That factor is not on this problem's map.")
    return clean


def add_engagement(
    session: Session,
    actor: Principal,
    problem_id: int,
    expected_version: int,
    fields: Mapping[str, object],
    *,
    today: dt.date,
) -> SavedEdit:
    """Record that an actor is engaged on the problem (or one of its factors).

    ``fields``: actor_id and role (required), factor_id (none = the problem as a whole),
    stance (default complementary), committed_funding (USD, default 0), authorisation,
    strings, last_contact (a date, not after ``today``, the city's date, plus a day).
    """
    require(actor, Capability.EDIT_PROBLEMS)
    _unknown(fields, ENGAGEMENT_FIELDS)
    values = {"stance": "complementary", **fields}
    for key in ("actor_id", "role"):
        values.setdefault(key, None)
    clean = _clean_engagement(session, problem_id, values, today)
    return _add_row(session, actor, Engagement, "engagement", problem_id, expected_version, clean)


def update_engagement(
    session: Session,
    actor: Principal,
    engagement_id: int,
    expected_version: int,
    changes: Mapping[str, object],
    *,
    today: dt.date,
) -> SavedEdit:
    """Change an engagement's actor, factor, role, stance, money, authorisation or contact
    (``today``: the city's date, which the last contact may not be after)."""
    return _update_row(
        session,
        actor,
        (Engagement, "engagement", ENGAGEMENT_FIELDS),
        engagement_id,
        expected_version,
        changes,
        lambda problem_id: _clean_engagement(session, problem_id, changes, today),
    )


def remove_engagement(
    session: Session, actor: Principal, engagement_id: int, expected_version: int
) -> SavedEdit:
    """Remove an engagement (the actor itself stays in the city's list)."""
    return _remove(session, actor, Engagement, engagement_id, "engagement", expected_version)


def _clean_innovation(session: Session, values: Mapping[str, object]) -> dict[str, Any]:
    rules: dict[str, Any] = {
        "title": lambda v: _text(v, "The innovation's title", required=True, limit=TITLE_LENGTH),
        "description": lambda v: _text(v, "The description"),
        "origin": lambda v: _choice(v, INNOVATION_ORIGINS, "The origin"),
        "kind": lambda v: _choice(v, INNOVATION_TYPES, "The kind"),
        "stage": lambda v: _choice(v, INNOVATION_STAGES, "The stage"),
        "lead_actor_id": lambda v: _optional_id(v, "The lead actor"),
        "evidence": lambda v: _choice(v, EVIDENCE_LEVELS, "The evidence"),
        "evidence_note": lambda v: _text(v, "The evidence note"),
        "cost": lambda v: _money(v, "The cost"),
    }
    clean = {key: rules[key](value) for key, value in values.items()}
    lead = clean.get("lead_actor_id")
    if lead is not None and session.get(Actor, lead) is None:
        raise ValidationError("That lead actor does not exist.")
    return clean


def add_innovation(
    session: Session,
    actor: Principal,
    problem_id: int,
    expected_version: int,
    fields: Mapping[str, object],
) -> SavedEdit:
    """Add an innovation to the problem's portfolio.

    ``fields``: title, origin and kind (required), stage (default idea), description,
    lead_actor_id, evidence (default weak), evidence_note, cost (USD).
    """
    require(actor, Capability.EDIT_PROBLEMS)
    _unknown(fields, INNOVATION_FIELDS)
    values = {"stage": "idea", "evidence": "weak", **fields}
    for key in ("title", "origin", "kind"):
        values.setdefault(key, None)
    clean = _clean_innovation(session, values)
    return _add_row(session, actor, Innovation, "innovation", problem_id, expected_version, clean)


def update_innovation(
    session: Session,
    actor: Principal,
    innovation_id: int,
    expected_version: int,
    changes: Mapping[str, object],
) -> SavedEdit:
    """Change an innovation: move it along its stages, record new evidence, and so on."""
    return _update_row(
        session,
        actor,
        (Innovation, "innovation", INNOVATION_FIELDS),
        innovation_id,
        expected_version,
        changes,
        lambda _problem_id: _clean_innovation(session, changes),
    )


def remove_innovation(
    session: Session, actor: Principal, innovation_id: int, expected_version: int
) -> SavedEdit:
    """Remove an innovation from the portfolio (its history stays in the audit trail)."""
    return _remove(session, actor, Innovation, innovation_id, "innovation", expected_version)


def _add_row(
    session: Session,
    actor: Principal,
    model: type[Engagement] | type[Innovation],
    entity: str,
    problem_id: int,
    expected_version: int,
    clean: Mapping[str, Any],
) -> SavedEdit:
    """Insert one validated row of a problem's map, bumping the problem's version, audited."""
    problem, version = _start(session, actor, problem_id, expected_version)
    row = model(problem_id=problem.id, **clean)
    session.add(row)
    session.flush()
    write_audit(session, actor, "create", entity, row.id, after=row_state(row))
    return SavedEdit(row.id, version)


def _update_row(
    session: Session,
    actor: Principal,
    kind: tuple[type[Engagement] | type[Innovation], str, frozenset[str]],
    row_id: int,
    expected_version: int,
    changes: Mapping[str, object],
    clean: Callable[[int], dict[str, Any]],
) -> SavedEdit:
    """Change one row of a problem's map: ``kind`` is (model, entity name, fields allowed),
    ``clean`` validates the changes given the row's problem id. Audited with before/after."""
    model, entity, allowed = kind
    require(actor, Capability.EDIT_PROBLEMS)
    _unknown(changes, allowed)
    row = _owner(session, model, row_id, entity)
    values = clean(row.problem_id)
    _problem, version = _start(session, actor, row.problem_id, expected_version)
    before, after = _apply(row, values)
    session.flush()
    before["problem_id"] = after["problem_id"] = row.problem_id
    write_audit(session, actor, "update", entity, row.id, before=before, after=after)
    return SavedEdit(row.id, version)


def _remove(
    session: Session,
    actor: Principal,
    model: type[Engagement] | type[Innovation],
    row_id: int,
    entity: str,
    expected_version: int,
) -> SavedEdit:
    """Delete one row of a problem's map, bumping the problem's version, with an audit row."""
    require(actor, Capability.EDIT_PROBLEMS)
    row = _owner(session, model, row_id, entity)
    _problem, version = _start(session, actor, row.problem_id, expected_version)
    before = row_state(row)
    session.delete(row)
    session.flush()
    write_audit(session, actor, "delete", entity, row_id, before=before)
    return SavedEdit(row_id, version)
