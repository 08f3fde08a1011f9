"""A department head's answers to the alerts on her own indicators: acknowledge, or answer with
a note ("value corrected", "late because…"). Scoped to her department, audited, never commits.

The office's own actions (link, dismiss, reopen) stay in ``db.alert_writes``, which needs
``MANAGE_ALERTS``; a head holds ``UPDATE_INDICATORS`` and may answer only for her department.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.models import Alert, Indicator, utcnow
from triage.detection import check_alert_transition
from triage.security import Capability, Principal, require, require_department
from triage.validation import ValidationError, check_note, record_id

ANSWER_ACTIONS = ("acknowledge", "answer")


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
