"""Read queries of the problem drill-down: the record and its version, the stored weekly score,
report aggregates, the backward map's frames, engagements, innovations and the audit trail.

Each takes the session first, returns DataFrames or frozen dataclasses and never commits.
Citizen reports are read from the ``report_daily_counts`` aggregate; only the "recent
reports" list touches raw reports, a few rows per category through its (category, time) index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from db import lookups
from db.columns import ENGAGEMENT, FACTOR
from db.frames import query_frame
from db.models import (
    Actor,
    AuditLog,
    CategoryProblem,
    CausalFactor,
    CitizenReport,
    Decision,
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
    ScoreSnapshot,
    User,
)
from db.scoring_inputs import snapshot_scores

# Audit entities that belong to one problem (besides the problem row itself).
MAP_ENTITIES = ("causal_factor", "engagement", "innovation", "decision")
RECENT_REPORTS = 20
AUDIT_LIMIT = 100


# ---------------------------------------------------------------- the problem


@dataclass(frozen=True)
class ProblemRecord:
    """One problem's facts and editable fields, with the version they were read at."""

    id: int
    title: str
    description: str
    policy_area: str
    status: str
    desired_outcome: str
    political_capital: int
    political_notes: str
    authority: int
    authority_notes: str
    lead_department: str | None
    owner: str | None
    version: int
    districts: tuple[str, ...]
    district_ids: tuple[int, ...]
    archived: bool = False  # archived: out of pickers and the ranking, history kept


def problem_record(session: Session, problem_id: int) -> ProblemRecord | None:
    """The problem's header facts and form fields, or None when there is no such problem."""
    row = session.execute(
        select(
            Problem.id,
            Problem.title,
            Problem.description,
            Problem.policy_area,
            Problem.status,
            Problem.desired_outcome,
            Problem.political_capital,
            Problem.political_notes,
            Problem.authority,
            Problem.authority_notes,
            Department.name,
            User.display_name,
            Problem.version,
            Problem.archived_at,
        )
        .outerjoin(Department, Department.id == Problem.lead_department_id)
        .outerjoin(User, User.id == Problem.owner_id)
        .where(Problem.id == problem_id)
    ).first()
    if row is None:
        return None
    districts = session.execute(
        select(District.id, District.name)
        .join(ProblemDistrict, ProblemDistrict.district_id == District.id)
        .where(ProblemDistrict.problem_id == problem_id)
        .order_by(District.name)
    ).all()
    return ProblemRecord(
        id=int(row[0]),
        title=row[1],
        description=row[2] or "",
        policy_area=row[3],
        status=row[4],
        desired_outcome=row[5] or "",
        political_capital=int(row[6]),
        political_notes=row[7] or "",
        authority=int(row[8]),
        authority_notes=row[9] or "",
        lead_department=row[10],
        owner=row[11],
        version=int(row[12]),
        districts=tuple(str(d[1]) for d in districts),
        district_ids=tuple(int(d[0]) for d in districts),
        archived=row[13] is not None,
    )


def problem_version(session: Session, problem_id: int) -> int | None:
    """The problem's current version (bumped by every edit of it or its map), or None."""
    value = session.scalar(select(Problem.version).where(Problem.id == problem_id))
    return None if value is None else int(value)


# ---------------------------------------------------------------- the weekly score


@dataclass(frozen=True)
class ProblemScore:
    """The problem's row of a stored weekly snapshot (``components`` as ``score_problems``)."""

    week: str
    rank: int
    ranked: int  # how many problems that week's snapshot ranks
    priority: float
    priority_low: float
    priority_high: float
    importance: float
    tractability: float
    neglectedness: float
    confidence: float
    components: dict[str, Any]
    explanation: str
    computed_at: dt.datetime | None

    @property
    def reports(self) -> tuple[float, float] | None:
        """Citizen reports in the 90 days the week was scored over, (raw, adjusted), as the
        ranking counted them (categories weighted by how much they concern the problem): the
        one figure the overview, the reports tab and the priorities table show. None when the
        snapshot has no report facts."""
        facts = self.components.get("facts") or {}
        raw, adjusted = facts.get("reports_raw"), facts.get("reports_adjusted")
        if raw is None or adjusted is None:
            return None
        return float(raw), float(adjusted)


def snapshot_exists(session: Session, week: str) -> bool:
    """True when ``week`` has a stored score snapshot."""
    return (
        session.scalar(select(ScoreSnapshot.id).where(ScoreSnapshot.week == week).limit(1))
        is not None
    )


def problem_score(session: Session, problem_id: int, week: str) -> ProblemScore | None:
    """The problem's score in the snapshot of ``week``, or None when it is not in it."""
    row = session.execute(
        select(
            ScoreSnapshot.week,
            *snapshot_scores(),
            ScoreSnapshot.components,
            ScoreSnapshot.explanation,
            ScoreSnapshot.computed_at,
        ).where(ScoreSnapshot.week == week, ScoreSnapshot.problem_id == problem_id)
    ).first()
    if row is None:
        return None
    ranked = session.scalar(
        select(func.count()).select_from(ScoreSnapshot).where(ScoreSnapshot.week == week)
    )
    return ProblemScore(
        week=row[0],
        rank=int(row[1]),
        ranked=int(ranked or 0),
        priority=float(row[2]),
        priority_low=float(row[3]),
        priority_high=float(row[4]),
        importance=float(row[5]),
        tractability=float(row[6]),
        neglectedness=float(row[7]),
        confidence=float(row[8]),
        components=dict(row[9] or {}),
        explanation=row[10] or "",
        computed_at=row[11],
    )


# ---------------------------------------------------------------- citizen reports


def problem_categories(session: Session, problem_id: int) -> pd.DataFrame:
    """The 311 categories that count towards the problem.

    Columns: category_id, code, name, weight; ordered by name.
    """
    return query_frame(
        session,
        select(ReportCategory.id, ReportCategory.code, ReportCategory.name, CategoryProblem.weight)
        .join(CategoryProblem, CategoryProblem.category_id == ReportCategory.id)
        .where(CategoryProblem.problem_id == problem_id)
        .order_by(ReportCategory.name),
        ["category_id", "code", "name", "weight"],
    )


def district_shapes(session: Session) -> pd.DataFrame:
    """Every district with its population, need and boundary.

    Columns: id, code, name, population, need_index, geometry (GeoJSON dict or None);
    ordered by code.
    """
    return lookups.districts(session, geometry=True)


def report_days(
    session: Session, category_ids: Sequence[int], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Daily report counts of some categories, per district, from the aggregate.

    Columns: day (date), category_id, district_id, count; days in ``(start, end]``.
    """
    columns = ["day", "category_id", "district_id", "count"]
    if not category_ids:
        return pd.DataFrame(columns=columns)
    return query_frame(
        session,
        select(
            ReportDailyCount.day,
            ReportDailyCount.category_id,
            ReportDailyCount.district_id,
            ReportDailyCount.count,
        ).where(
            ReportDailyCount.category_id.in_(list(category_ids)),
            ReportDailyCount.day > start,
            ReportDailyCount.day <= end,
        ),
        columns,
    )


def district_report_totals(session: Session, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Reports of every category per district over ``(start, end]``, summed in the database.

    Columns: district_id, count. This is what reporting propensity is learnt from.
    """
    return query_frame(
        session,
        select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count))
        .where(ReportDailyCount.day > start, ReportDailyCount.day <= end)
        .group_by(ReportDailyCount.district_id)
        .order_by(ReportDailyCount.district_id),
        ["district_id", "count"],
    )


def recent_reports(
    session: Session,
    category_ids: Sequence[int],
    district_ids: Sequence[int] = (),
    *,
    limit: int = RECENT_REPORTS,
) -> pd.DataFrame:
    """The newest reports in some categories (and districts, when given), newest first.

    One indexed query per category (``category_id, requested_at``), each stopping after
    ``limit`` rows, merged here. Columns: id, requested_at, category, district, status,
    description, address.
    """
    columns = ["id", "requested_at", "category", "district", "status", "description", "address"]
    frames = []
    for category_id in category_ids:
        statement = (
            select(
                CitizenReport.id,
                CitizenReport.requested_at,
                ReportCategory.name,
                District.name,
                CitizenReport.status,
                CitizenReport.description,
                CitizenReport.address,
            )
            .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
            .outerjoin(District, District.id == CitizenReport.district_id)
            .where(CitizenReport.category_id == category_id)
            .order_by(CitizenReport.requested_at.desc(), CitizenReport.id.desc())
            .limit(limit)
        )
        if district_ids:
            statement = statement.where(CitizenReport.district_id.in_(list(district_ids)))
        frames.append(query_frame(session, statement, columns))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    merged = pd.concat(frames, ignore_index=True)
    return (
        merged.sort_values(["requested_at", "id"], ascending=False)
        .head(limit)
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------- backward map


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


# ---------------------------------------------------------------- actors and innovations


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


def problem_indicator_choices(session: Session, problem_id: int) -> pd.DataFrame:
    """The indicators linked to the problem and not archived (a factor may be measured by one).

    Columns: id, code, name; ordered by code.
    """
    return query_frame(
        session,
        select(Indicator.id, Indicator.code, Indicator.name)
        .join(ProblemIndicator, ProblemIndicator.indicator_id == Indicator.id)
        .where(ProblemIndicator.problem_id == problem_id, Indicator.archived_at.is_(None))
        .order_by(Indicator.code),
        ["id", "code", "name"],
    )


# ---------------------------------------------------------------- audit trail


def problem_audit_trail(
    session: Session, problem_id: int, *, limit: int = AUDIT_LIMIT
) -> pd.DataFrame:
    """Audit rows of the problem and of its factors, engagements, innovations and decisions,
    newest first, at most ``limit``; rows of removed ones are found through their removal.

    Columns: id, at, username, action, entity, entity_id, before (dict or None), after, and
    name: what the record is called now (a title, an engagement's actor) or, once removed,
    was called; None when unknown.
    """
    owned: dict[str, set[str]] = {}
    for entity, model in (
        ("causal_factor", CausalFactor),
        ("engagement", Engagement),
        ("innovation", Innovation),
        ("decision", Decision),
    ):
        owned[entity] = {
            str(i) for i in session.scalars(select(model.id).where(model.problem_id == problem_id))
        }
    removed = session.execute(
        select(AuditLog.entity, AuditLog.entity_id, AuditLog.before).where(
            AuditLog.action == "delete", AuditLog.entity.in_(MAP_ENTITIES)
        )
    ).all()
    for entity, entity_id, before in removed:
        if isinstance(before, dict) and before.get("problem_id") == problem_id:
            owned[entity].add(str(entity_id))
    clauses = [and_(AuditLog.entity == "problem", AuditLog.entity_id == str(problem_id))]
    clauses += [
        and_(AuditLog.entity == entity, AuditLog.entity_id.in_(sorted(ids)))
        for entity, ids in owned.items()
        if ids
    ]
    trail = query_frame(
        session,
        select(
            AuditLog.id,
            AuditLog.at,
            AuditLog.username,
            AuditLog.action,
            AuditLog.entity,
            AuditLog.entity_id,
            AuditLog.before,
            AuditLog.after,
        )
        .where(or_(*clauses))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(limit),
        ["id", "at", "username", "action", "entity", "entity_id", "before", "after"],
    )
    names = _record_names(session, problem_id, trail)
    return trail.assign(
        name=[names.get((e, i)) for e, i in zip(trail["entity"], trail["entity_id"], strict=True)]
    )


def _record_names(
    session: Session, problem_id: int, trail: pd.DataFrame
) -> dict[tuple[str, str], str]:
    """(entity, entity_id) → the record's current name, else the last name the trail gives."""
    names: dict[tuple[str, str], str] = {}
    for entity, model in (("causal_factor", CausalFactor), ("innovation", Innovation)):
        for record_id, title in session.execute(
            select(model.id, model.title).where(model.problem_id == problem_id)
        ):
            names[(entity, str(record_id))] = str(title)
    actor_of: dict[str, int] = {
        str(e): int(a)
        for e, a in session.execute(
            select(Engagement.id, Engagement.actor_id).where(Engagement.problem_id == problem_id)
        )
    }
    for row in trail.itertuples(index=False):  # newest first: the latest name wins
        key = (row.entity, row.entity_id)
        for state in (row.after, row.before):
            if not isinstance(state, dict):
                continue
            if state.get("title") and key not in names:
                names[key] = str(state["title"])
            if row.entity == "engagement" and state.get("actor_id") is not None:
                actor_of.setdefault(row.entity_id, int(state["actor_id"]))
    if actor_of:
        actors = dict(
            session.execute(
                select(Actor.id, Actor.name).where(Actor.id.in_(set(actor_of.values())))
            ).all()
        )
        for engagement_id, actor_id in actor_of.items():
            if actor_id in actors:
                names.setdefault(("engagement", engagement_id), str(actors[actor_id]))
    return names
