"""Problems: the record, its categories, decisions and audit trail, and the audited edits of a
problem and its decisions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.audit import write_audit
from db.frames import query_frame
from db.models import (
    Actor,
    AuditLog,
    CategoryProblem,
    CausalFactor,
    Decision,
    Department,
    District,
    Engagement,
    Indicator,
    Innovation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportCategory,
    ScoreSnapshot,
    User,
)
from triage.security import Capability, Principal, require
from triage.validation import (
    ValidationError,
    check_note,
)
from triage.vocabulary import DECISIONS, PROBLEM_FORM_FIELDS
from triage.weeks import WEEK_PATTERN, week_start

# Audit entities that belong to one problem (besides the problem row itself).
MAP_ENTITIES = ("causal_factor", "engagement", "innovation", "decision")
AUDIT_LIMIT = 100
# The drill-down's form fields and the policy area (set when a problem is opened from an alert).
PROBLEM_EDITABLE = frozenset({*PROBLEM_FORM_FIELDS, "policy_area"})


def problem_decisions(session: Session, problem_id: int, *, limit: int = 5) -> pd.DataFrame:
    """The most recent weekly decisions on a problem, newest first.

    Columns: id, week, decision, note, author (display name or None), created_at.
    """
    return query_frame(
        session,
        select(
            Decision.id,
            Decision.week,
            Decision.decision,
            Decision.note,
            User.display_name,
            Decision.created_at,
        )
        .outerjoin(User, User.id == Decision.author_id)
        .where(Decision.problem_id == problem_id)
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(limit),
        ["id", "week", "decision", "note", "author", "created_at"],
    )


def week_decisions(session: Session, week: str) -> pd.DataFrame:
    """The decision in force per problem for ``week`` (the latest recorded), with how many were
    recorded that week (a later one supersedes an earlier one; both are kept).

    Columns: problem_id, title, decision, note, author (display name or None), created_at,
    count; ordered by problem title.
    """
    frame = query_frame(
        session,
        select(
            Decision.id,
            Decision.problem_id,
            Problem.title,
            Decision.decision,
            Decision.note,
            User.display_name,
            Decision.created_at,
        )
        .join(Problem, Problem.id == Decision.problem_id)
        .outerjoin(User, User.id == Decision.author_id)
        .where(Decision.week == week)
        .order_by(Decision.problem_id, Decision.created_at, Decision.id),
        ["id", "problem_id", "title", "decision", "note", "author", "created_at"],
    )
    columns = ["problem_id", "title", "decision", "note", "author", "created_at", "count"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    counts = frame.groupby("problem_id")["id"].count()
    latest = frame.groupby("problem_id", sort=False).tail(1)
    latest = latest.assign(count=latest["problem_id"].map(counts).astype("int64"))
    return latest.sort_values("title").reset_index(drop=True)[columns]


def earlier_decisions(session: Session, week: str) -> pd.DataFrame:
    """Each problem's latest decision recorded for any week before ``week``.

    Columns: problem_id, week, decision, note.
    """
    ranked = (
        select(
            Decision.problem_id.label("problem_id"),
            Decision.week.label("week"),
            Decision.decision.label("decision"),
            Decision.note.label("note"),
            func.row_number()
            .over(
                partition_by=Decision.problem_id,
                order_by=(Decision.week.desc(), Decision.created_at.desc(), Decision.id.desc()),
            )
            .label("position"),
        )
        .where(Decision.week < week)
        .subquery()
    )
    return query_frame(
        session,
        select(ranked.c.problem_id, ranked.c.week, ranked.c.decision, ranked.c.note).where(
            ranked.c.position == 1
        ),
        ["problem_id", "week", "decision", "note"],
    )


@dataclass(frozen=True)
class DecisionSubject:
    """What the decision dialog shows about one problem in one week."""

    problem_id: int
    title: str
    rank: int | None
    decision: str | None
    decision_note: str | None
    last_decision: str | None
    last_decision_week: str | None
    last_decision_note: str | None


def problem_title(session: Session, problem_id: int) -> str | None:
    """A problem's title, or None when there is no such problem."""
    return session.scalar(select(Problem.title).where(Problem.id == problem_id))


def decision_subject(session: Session, problem_id: int, week: str) -> DecisionSubject | None:
    """The problem, its rank in ``week`` (None when not ranked), the decision in force that
    week and its latest decision of an earlier week; None for an unknown problem."""
    title = problem_title(session, problem_id)
    if title is None:
        return None
    rank = session.scalar(
        select(ScoreSnapshot.rank).where(
            ScoreSnapshot.week == week, ScoreSnapshot.problem_id == problem_id
        )
    )
    now = session.execute(
        select(Decision.decision, Decision.note)
        .where(Decision.problem_id == problem_id, Decision.week == week)
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    ).first()
    before = session.execute(
        select(Decision.week, Decision.decision, Decision.note)
        .where(Decision.problem_id == problem_id, Decision.week < week)
        .order_by(Decision.week.desc(), Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    ).first()
    return DecisionSubject(
        problem_id=int(problem_id),
        title=str(title),
        rank=None if rank is None else int(rank),
        decision=now.decision if now else None,
        decision_note=now.note if now else None,
        last_decision=before.decision if before else None,
        last_decision_week=before.week if before else None,
        last_decision_note=before.note if before else None,
    )


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


def problem_category_ids(session: Session, problem_id: int) -> tuple[int, ...]:
    """The categories mapped to a problem (sorted)."""
    return tuple(
        sorted(
            session.scalars(
                select(CategoryProblem.category_id).where(CategoryProblem.problem_id == problem_id)
            )
        )
    )


class EditConflict(Exception):
    """Someone else saved this record since it was loaded; nothing was changed."""

    def __init__(self, entity: str, entity_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"This {entity} was changed by someone else since you opened it "
            f"(your version {expected}, now {current}). Reload to see their changes; "
            "nothing of yours was saved."
        )
        self.current_version = current


@contextmanager
def problem_version_checked(
    session: Session, problem_id: int, expected_version: int
) -> Iterator[None]:
    """Run the block (changes to the problem, flushed) in a SAVEPOINT; when its version-checked
    UPDATE finds that another save landed first, raise ``EditConflict`` with the version now.

    A failed flush leaves the session unusable until a rollback: reading the current version
    before rolling back was a ``PendingRollbackError`` (a 500). On PostgreSQL the loser of a
    race does reach the UPDATE (it waits for the winner's row lock, then matches 0 rows); on
    SQLite ``BEGIN IMMEDIATE`` makes it see the new version first. Rolling back to the
    savepoint, not the whole transaction, leaves the caller's transaction its own.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except StaleDataError:
        current = session.scalar(select(Problem.version).where(Problem.id == problem_id))
        raise EditConflict("problem", problem_id, expected_version, current or -1) from None


def update_problem(
    session: Session,
    actor: Principal,
    problem_id: int,
    expected_version: int,
    changes: dict[str, object],
) -> int:
    """Apply ``changes`` if the problem is still at ``expected_version``; return the new version.

    Raises ``EditConflict`` when another save landed first (the version column also guards
    the instant between this check and the UPDATE), ``ValidationError`` for unknown fields.
    """
    require(actor, Capability.EDIT_PROBLEMS)
    unknown = set(changes) - PROBLEM_EDITABLE
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise ValidationError(f"There is no problem with id {problem_id}.")
    if problem.version != expected_version:
        raise EditConflict("problem", problem_id, expected_version, problem.version)
    if "title" in changes and not str(changes["title"]).strip():
        raise ValidationError("A problem needs a title.")
    before = {key: getattr(problem, key) for key in changes}
    with problem_version_checked(session, problem_id, expected_version):
        for key, value in changes.items():
            setattr(problem, key, value)
    write_audit(session, actor, "update", "problem", problem_id, before=before, after=changes)
    return problem.version


def record_decision(
    session: Session,
    actor: Principal,
    problem_id: int,
    week: str,
    decision: str,
    note: object = "",
) -> int:
    """Record the office's decision on a problem for an ISO week; returns the new row's id.

    ``decision`` is one of ``DECISIONS`` (focus, delegate, convene, monitor, drop); ``week``
    an ISO week like ``2026-W47``; the note at most 2,000 characters. A second decision for
    the same problem and week supersedes the first: both rows are kept (the history), the
    latest is the one in force, and the audit row names the one it replaced. An archived
    problem takes no decision. Raises ``PermissionDenied`` unless the actor may decide,
    ``ValidationError`` for bad input.
    """
    require(actor, Capability.DECIDE)
    choice = str(decision or "").strip().lower()
    if choice not in DECISIONS:
        raise ValidationError(
            "Choose a decision: " + ", ".join(DECISIONS[:-1]) + f" or {DECISIONS[-1]}."
        )
    clean_week = str(week or "").strip().upper()
    if not WEEK_PATTERN.match(clean_week):
        raise ValidationError(f"Week {str(week)[:20]!r} is not an ISO week like 2026-W47.")
    week_start(clean_week)  # raises ValidationError for a week that does not exist (W54)
    clean_note = check_note(note)
    try:
        problem_key = int(problem_id)
    except (TypeError, ValueError):
        raise ValidationError(f"There is no problem with id {str(problem_id)[:20]}.") from None
    problem = session.get(Problem, problem_key)
    if problem is None:
        raise ValidationError(f"There is no problem with id {problem_key}.")
    if problem.archived_at is not None:
        raise ValidationError(
            f"{problem.title} is archived, so it takes no new decisions; restore it first "
            "(Administration, City setup)."
        )
    previous = session.execute(
        select(Decision.id, Decision.decision, Decision.note)
        .where(Decision.problem_id == problem_key, Decision.week == clean_week)
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    ).first()
    row = Decision(
        week=clean_week,
        problem_id=problem_key,
        decision=choice,
        note=clean_note,
        author_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    after: dict[str, object] = {
        "problem_id": problem_key,
        "week": clean_week,
        "decision": choice,
        "note": clean_note,
    }
    before = None
    if previous is not None:
        after["supersedes"] = previous.id
        before = {"decision": previous.decision, "note": previous.note}
    write_audit(session, actor, "create", "decision", row.id, before=before, after=after)
    return row.id
