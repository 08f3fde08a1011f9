"""Actions on an alert: the office's from the early-warnings page, and a department head's
acknowledgement or answer on her own indicator's alert; checked, audited writes.

Acknowledge, link to a problem, dismiss (with a reason) or reopen go through
``db.alerts.store.transition_alert``; opening a new problem from an alert creates the problem
and links the alert to it in the caller's transaction. Nothing here commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.alerts.store import transition_alert
from db.audit import row_state, write_audit
from db.models import (
    Alert,
    CategoryProblem,
    District,
    Indicator,
    Problem,
    ProblemIndicator,
    ReportCategory,
    utcnow,
)
from triage.detection import check_alert_transition
from triage.security import Capability, Principal, require, require_department
from triage.validation import ValidationError, check_note, plain_text, record_id
from triage.vocabulary import NOTE_LIMIT, TITLE_LENGTH

# Action name on the page → the state it moves the alert to.
ALERT_ACTIONS: dict[str, str] = {
    "acknowledge": "acknowledged",
    "link": "linked",
    "dismiss": "dismissed",
    "reopen": "new",
}

AREA_LENGTH = 64
DESCRIPTION_LENGTH = 4000

ANSWER_ACTIONS = ("acknowledge", "answer")


def act_on_alert(
    session: Session,
    actor: Principal,
    alert_id: object,
    action: str,
    *,
    reason: object = "",
    problem_id: object = None,
) -> str:
    """Apply one of :data:`ALERT_ACTIONS` to an alert; returns the alert's new state.

    Dismissing needs a reason; linking needs an existing problem. Raises ``PermissionDenied``
    unless the actor may manage alerts, ``ValidationError`` (a sentence for the person) for
    anything else, and writes one audit row (through ``transition_alert``).
    """
    require(actor, Capability.MANAGE_ALERTS)
    target = ALERT_ACTIONS.get(action)
    if target is None:
        raise ValidationError(f"Unknown action {action!r}.")
    alert_key = record_id(alert_id, "an alert")
    text = plain_text(reason, "The reason", limit=NOTE_LIMIT)
    if target == "dismissed" and not text:
        raise ValidationError("Say why the alert is dismissed: the reason is kept with it.")
    problem_key = record_id(problem_id, "the problem to link") if target == "linked" else None
    transition_alert(session, actor, alert_key, target, reason=text, problem_id=problem_key)
    session.flush()
    return target


def _alert_department(session: Session, alert: Alert) -> int | None:
    """The department an alert belongs to (as the page's department filter reads it)."""
    if alert.indicator_id is not None:
        return session.scalar(
            select(Indicator.department_id).where(Indicator.id == alert.indicator_id)
        )
    if alert.category_id is not None:
        own = session.scalar(
            select(ReportCategory.department_id).where(ReportCategory.id == alert.category_id)
        )
        if own is not None:
            return own
        return session.scalar(
            select(Problem.lead_department_id)
            .join(CategoryProblem, CategoryProblem.problem_id == Problem.id)
            .where(
                CategoryProblem.category_id == alert.category_id,
                Problem.lead_department_id.is_not(None),
            )
            .order_by(Problem.id)
            .limit(1)
        )
    return None


def open_problem_from_alert(
    session: Session,
    actor: Principal,
    alert_id: object,
    *,
    title: object,
    policy_area: object,
    description: object = None,
) -> int:
    """Create a problem from an alert and link the alert to it; returns the new problem's id.

    Needs ``EDIT_PROBLEMS`` (a new problem) and ``MANAGE_ALERTS`` (the link). The problem
    starts as ``emerging``, led by the alert's department, scoped to its district, measured
    by its indicator (for an indicator alert), and described by the alert's message unless a
    description is given. Two audit rows: the new problem, and the alert's link.
    """
    require(actor, Capability.EDIT_PROBLEMS)
    require(actor, Capability.MANAGE_ALERTS)
    alert_key = record_id(alert_id, "an alert")
    alert = session.get(Alert, alert_key)
    if alert is None:
        raise ValidationError(f"There is no alert with id {alert_key}.")
    try:
        check_alert_transition(alert.state, "linked")
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    clean_title = plain_text(title, "The title", limit=TITLE_LENGTH, required=True)
    area = plain_text(policy_area, "The policy area", limit=AREA_LENGTH, required=True)
    text = plain_text(
        alert.message if description is None else description,
        "The description",
        limit=DESCRIPTION_LENGTH,
    )
    problem = Problem(
        title=clean_title,
        description=text,
        policy_area=area,
        status="emerging",
        lead_department_id=_alert_department(session, alert),
    )
    if alert.district_id is not None:
        district = session.get(District, alert.district_id)
        if district is not None:
            problem.districts.append(district)
    session.add(problem)
    session.flush()
    if alert.indicator_id is not None:
        session.add(ProblemIndicator(problem_id=problem.id, indicator_id=alert.indicator_id))
        session.flush()
    after: dict[str, Any] = row_state(problem)
    after["district_ids"] = [d.id for d in problem.districts]
    after["indicator_ids"] = [alert.indicator_id] if alert.indicator_id is not None else []
    after["from_alert"] = alert.id
    write_audit(session, actor, "create", "problem", problem.id, after=after)
    transition_alert(session, actor, alert.id, "linked", problem_id=problem.id)
    session.flush()
    return problem.id


def alert_department_id(session: Session, alert_id: int) -> int | None:
    """The department owning the indicator an alert is about (None: no such indicator alert)."""
    return session.scalar(
        select(Indicator.department_id)
        .join(Alert, Alert.indicator_id == Indicator.id)
        .where(Alert.id == alert_id)
    )


def answer_indicator_alert(
    session: Session, actor: Principal, alert_id: object, action: str, note: object = ""
) -> str:
    """Acknowledge an indicator alert, or answer it with a note; returns the alert's state.

    ``acknowledge`` moves a new alert to acknowledged (the note, if any, is kept with it);
    ``answer`` needs a note, keeps it as the alert's reason and acknowledges a new alert.
    Raises ``PermissionDenied`` unless the actor may update indicators and, as a department
    head, owns the indicator; ``ValidationError`` for anything else. One audit row.
    """
    require(actor, Capability.UPDATE_INDICATORS)
    if action not in ANSWER_ACTIONS:
        raise ValidationError(f"Unknown action {action!r}.")
    alert_key = record_id(alert_id, "an alert")
    owner = alert_department_id(session, alert_key)
    if owner is None:
        raise ValidationError("There is no such alert on an indicator.")
    require_department(actor, owner)
    text = check_note(note)
    if action == "answer" and not text:
        raise ValidationError("Write the answer first, e.g. value corrected, or why it is late.")
    alert = session.get(Alert, alert_key)
    assert alert is not None
    if alert.state == "new":
        try:
            check_alert_transition(alert.state, "acknowledged")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        target = "acknowledged"
    elif alert.state in ("acknowledged", "linked"):
        if action == "acknowledge" and not text:
            raise ValidationError("This alert is already acknowledged.")
        target = alert.state
    else:
        raise ValidationError(f"This alert is {alert.state}; there is nothing to answer.")
    before = {"state": alert.state, "state_reason": alert.state_reason}
    alert.state = target
    if text:
        alert.state_reason = text
    alert.updated_at = utcnow()
    after = {"state": target, "state_reason": alert.state_reason}
    write_audit(session, actor, action, "alert", alert.id, before=before, after=after)
    session.flush()
    return target
