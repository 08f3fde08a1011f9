"""The audit trail: one row per change of state, written in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from db.models import AuditLog, Base
from triage.security import Principal

SECRET_FIELDS = frozenset({"password_hash", "password"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def row_state(obj: Base) -> dict[str, Any]:
    """Column values of an ORM row as JSON-safe data, secrets left out."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_FIELDS
    }


def write_audit(
    session: Session,
    actor: Principal,
    action: str,
    entity: str,
    entity_id: object = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Add an audit row to the session (flushed with the change it describes)."""
    session.add(
        AuditLog(
            user_id=actor.user_id,
            username=actor.username,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            before=_jsonable(dict(before)) if before is not None else None,
            after=_jsonable(dict(after)) if after is not None else None,
        )
    )
