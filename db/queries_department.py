"""Reads for My department: the alerts on a department's indicators and an indicator's recent
values (for the plausibility check). Session first; DataFrames or plain lists; never commits."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Alert, Indicator
from db.queries import indicator_histories
from triage.vocabulary import OPEN_ALERT_STATES, SEVERITIES

DEPARTMENT_ALERT_COLUMNS = [
    "id",
    "kind",
    "severity",
    "indicator_id",
    "indicator_code",
    "indicator_name",
    "message",
    "state",
    "state_reason",
    "first_detected",
    "last_detected",
    "overdue",
]
# The loudest first: critical 0, warning 1, info 2.
SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def department_alerts(session: Session, department_id: int) -> pd.DataFrame:
    """Open alerts (new, acknowledged, linked) on one department's indicators.

    Columns: ``DEPARTMENT_ALERT_COLUMNS``; ``overdue`` is True for late data (kind ``stale``).
    Late data first, then new before answered, worst and newest first.
    """
    rows = session.execute(
        select(
            Alert.id,
            Alert.kind,
            Alert.severity,
            Alert.indicator_id,
            Indicator.code,
            Indicator.name,
            Alert.message,
            Alert.state,
            Alert.state_reason,
            Alert.first_detected,
            Alert.last_detected,
        )
        .join(Indicator, Indicator.id == Alert.indicator_id)
        .where(Indicator.department_id == department_id, Alert.state.in_(sorted(OPEN_ALERT_STATES)))
    ).all()
    frame = pd.DataFrame(
        [(*row, row[1] == "stale") for row in rows], columns=DEPARTMENT_ALERT_COLUMNS
    )
    if frame.empty:
        return frame
    frame["state_reason"] = frame["state_reason"].fillna("").astype(str)
    ordered = frame.assign(
        _late=~frame["overdue"],
        _answered=frame["state"] != "new",
        _severity=frame["severity"].map(SEVERITY_ORDER).fillna(3),
        _day=frame["last_detected"].map(lambda d: -(d or dt.date.min).toordinal()),
    )
    return (
        ordered.sort_values(["_late", "_answered", "_severity", "_day", "id"], kind="stable")
        .drop(columns=["_late", "_answered", "_severity", "_day"])
        .reset_index(drop=True)
    )


def recent_values(session: Session, indicator_id: int, *, limit: int = 12) -> list[float]:
    """The values of an indicator's last ``limit`` periods (the latest entry for each),
    oldest first."""
    history = indicator_histories(session, [indicator_id])
    return [float(v) for v in history["value"].tail(limit)]
