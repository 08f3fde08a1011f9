"""State changes: each takes the acting principal, checks it, and audits in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from db.audit import write_audit
from db.models import (
    AppSetting,
    Decision,
    Indicator,
    IndicatorStatusUpdate,
    Observation,
    Problem,
)
from db.queries_department import recent_values
from triage.indicators import status_from_value
from triage.scoring import ScoringWeights
from triage.security import Capability, Principal, require, require_department
from triage.validation import (
    ObservationInput,
    ValidationError,
    check_note,
    implausible_reason,
    validate_observation,
)
from triage.vocabulary import DECISIONS
from triage.weeks import WEEK_PATTERN, week_start

__all__ = [
    "EditConflict",
    "ImplausibleValue",
    "RecordedValue",
    "ValidationError",
    "record_decision",
    "record_form_value",
    "record_observation",
    "set_scoring_weights",
    "update_problem",
]


class ImplausibleValue(Exception):
    """The value is far from the indicator's history: nothing was saved; the same value sent
    again with ``confirmed=True`` is saved."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RecordedValue:
    """What the department form's save stored: the observation, the status the person gave
    (None when none) and the status the numbers give (None without a target)."""

    observation_id: int
    given_status: str | None
    computed_status: str | None


def _writable_indicator(session: Session, actor: Principal, indicator_id: int) -> Indicator:
    """The indicator, if ``actor`` may record its values: the capability, a department head's
    own department, not archived. Raises ``PermissionDenied`` or ``ValidationError``."""
    require(actor, Capability.UPDATE_INDICATORS)
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ValidationError(f"There is no indicator with id {indicator_id}.")
    require_department(actor, indicator.department_id)
    if indicator.archived_at is not None:
        raise ValidationError(f"Indicator {indicator.code} is archived: it takes no new values.")
    return indicator


def _add_observation(
    session: Session, actor: Principal, indicator: Indicator, clean: ObservationInput
) -> int:
    observation = Observation(
        indicator_id=indicator.id,
        period=clean.period,
        value=clean.value,
        entered_by_id=actor.user_id,
    )
    session.add(observation)
    after: dict[str, object] = {"period": clean.period, "value": clean.value}
    if clean.status is not None or clean.note:
        session.add(
            IndicatorStatusUpdate(
                indicator_id=indicator.id,
                status=clean.status or "on_track",
                note=clean.note,
                author_id=actor.user_id,
            )
        )
        after.update(status=clean.status, note=clean.note)
    session.flush()
    write_audit(
        session,
        actor,
        "create",
        "observation",
        observation.id,
        after={"indicator_id": indicator.id, **after},
    )
    return observation.id


def record_observation(
    session: Session,
    actor: Principal,
    indicator_id: int,
    period: object,
    value: object,
    *,
    status: str | None = None,
    note: str = "",
    today: dt.date,
) -> int:
    """Append a value (and optionally a status with its note) to an indicator's history.

    Raises ``PermissionDenied`` when the actor may not update indicators or, as a department
    head, the indicator belongs to another department; ``ValidationError`` for bad input.
    Returns the new observation's id.
    """
    indicator = _writable_indicator(session, actor, indicator_id)
    clean = validate_observation(indicator.unit, period, value, status, note, today)
    return _add_observation(session, actor, indicator, clean)


def record_form_value(
    session: Session,
    actor: Principal,
    indicator_id: int,
    period: object,
    value: object,
    *,
    status: str | None,
    note: str,
    today: dt.date,
    confirmed: bool,
) -> RecordedValue:
    """The department form's save: ``record_observation``'s checks (scope, archived, the
    domain's rules), each made once, then the form's two questions. A value implausible
    against the indicator's last values raises ``ImplausibleValue`` unless ``confirmed``; a
    save without a status stores the status the numbers give, and a given status that
    disagrees is kept (both are returned, for the message)."""
    indicator = _writable_indicator(session, actor, indicator_id)
    clean = validate_observation(indicator.unit, period, value, status, note, today)
    if not confirmed:
        doubt = implausible_reason(clean.value, recent_values(session, indicator.id))
        if doubt:
            raise ImplausibleValue(doubt)
    computed = status_from_value(
        clean.value,
        indicator.target,
        indicator.direction,
        indicator.critical_threshold,
        indicator.warning_threshold,
    )
    stored = replace(clean, status=clean.status or computed)
    return RecordedValue(
        _add_observation(session, actor, indicator, stored), clean.status, computed
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


PROBLEM_EDITABLE = frozenset(
    {
        "title",
        "description",
        "policy_area",
        "status",
        "desired_outcome",
        "political_capital",
        "political_notes",
        "authority",
        "authority_notes",
    }
)


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


def set_scoring_weights(session: Session, actor: Principal, data: dict[str, object]) -> None:
    """Store new scoring weights (validated) with an audit row holding the old and new values."""
    require(actor, Capability.CONFIGURE)
    weights = ScoringWeights.from_dict(data)
    row = session.get(AppSetting, ScoringWeights.KEY)
    before = dict(row.value) if row is not None else None
    after = weights.to_dict()
    if row is None:
        session.add(AppSetting(key=ScoringWeights.KEY, value=after))
    else:
        row.value = after
    session.flush()
    write_audit(
        session, actor, "update", "app_setting", ScoringWeights.KEY, before=before, after=after
    )


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
