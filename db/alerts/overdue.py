"""Overdue indicators and their stale alerts, for the daily ``flag-overdue`` job.

Overdue is the shared rule of ``triage.indicators`` (the department page and the ranking use
it too); each overdue indicator has one open ``stale`` alert, refreshed daily and resolved once
the indicator is current again. Nothing here commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.frames import as_date, as_number, query_frame, to_date
from db.models import Alert, Department, Indicator, Observation, utcnow
from triage.detection import dedupe_key, detect_stale_indicators, indicator_series_key
from triage.indicators import due_by, is_overdue
from triage.security import Principal
from triage.vocabulary import OPEN_ALERT_STATES

OVERDUE_COLUMNS = [
    "id",
    "code",
    "name",
    "cadence",
    "department_id",
    "department_code",
    "department_name",
    "latest_period",
    "due_by",
]

# A dismissed stale alert is continued (stays dismissed) when last seen at most this many days
# before: the detector's episode gap, so ``detect-alerts`` and ``flag-overdue`` agree.
MAX_GAP_DAYS = 7
STALE_KIND = "stale"
STALE_METHOD = "cadence"
RESOLVABLE_STATES = ("new", "acknowledged")
SYSTEM_ACTOR = "flag-overdue"


@dataclass(frozen=True)
class OverdueFlags:
    """What one run changed: alerts inserted, refreshed (figures or message moved), resolved."""

    inserted: int = 0
    refreshed: int = 0
    resolved: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "refreshed": self.refreshed, "resolved": self.resolved}


def overdue_indicators(session: Session, today: dt.date) -> pd.DataFrame:
    """Every indicator overdue on ``today`` (``triage.indicators.is_overdue``), by department.

    Columns: ``OVERDUE_COLUMNS``; ``latest_period`` is the newest period up to ``today``
    (None when never reported), ``due_by`` the last day it counted as current (None likewise).
    Ordered by department code, then indicator code.
    """
    latest = {
        int(indicator_id): as_date(period)
        for indicator_id, period in session.execute(
            select(Observation.indicator_id, func.max(Observation.period))
            .where(Observation.period <= today)
            .group_by(Observation.indicator_id)
        )
    }
    rows = []
    for (
        ident,
        code,
        name,
        cadence,
        department_id,
        department_code,
        department_name,
    ) in session.execute(
        select(
            Indicator.id,
            Indicator.code,
            Indicator.name,
            Indicator.cadence,
            Indicator.department_id,
            Department.code,
            Department.name,
        )
        .join(Department, Department.id == Indicator.department_id)
        .where(Indicator.archived_at.is_(None))  # archived indicators are never due
        .order_by(Department.code, Indicator.code)
    ):
        period = latest.get(int(ident))
        if is_overdue(period, cadence, today):
            rows.append(
                (
                    int(ident),
                    code,
                    name,
                    cadence,
                    int(department_id),
                    department_code,
                    department_name,
                    period,
                    due_by(period, cadence),
                )
            )
    return pd.DataFrame(rows, columns=OVERDUE_COLUMNS)


def stale_alert_rows(overdue: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """The detector's ``stale`` alert row (severity, figures, message) per overdue indicator.

    In: ``overdue_indicators``. Out: ``triage.detection.ALERT_COLUMNS`` plus ``indicator_id``,
    one row per input row. The detector's wording and severity are reused so that an alert
    reads the same whichever job refreshed it last; without ``created_at`` its rule is
    ``is_overdue`` exactly (a never-reported indicator is overdue at once).
    """
    indicators = pd.DataFrame(
        {
            "indicator_id": overdue["id"].astype("int64"),
            "name": overdue["name"],
            "cadence": overdue["cadence"],
        }
    )
    reported = overdue[overdue["latest_period"].notna()]
    observations = pd.DataFrame(
        {
            "indicator_id": reported["id"].to_numpy(dtype="int64"),
            "period": pd.to_datetime(list(reported["latest_period"])),
            "value": 0.0,
        }
    )
    rows = detect_stale_indicators(indicators, observations, today)
    missing = set(indicators["indicator_id"]) - set(rows["indicator_id"].astype("int64"))
    if missing:  # the two rules disagree: a bug, never a silently dropped indicator
        raise AssertionError(f"overdue indicators without a stale alert row: {sorted(missing)}")
    return rows


def _stored_stale(session: Session) -> pd.DataFrame:
    """Stored stale alerts of indicators: the latest per indicator series."""
    return query_frame(
        session,
        select(
            Alert.id,
            Alert.dedupe_key,
            Alert.series_key,
            Alert.indicator_id,
            Alert.state,
            Alert.first_detected,
            Alert.last_detected,
        ).where(Alert.kind == STALE_KIND, Alert.series_key.like("indicator:%")),
        ["id", "dedupe_key", "series", "indicator_id", "state", "first", "last"],
    )


def _continues(stored: Any, today: dt.date) -> bool:
    """Whether today's overdue state continues a stored alert rather than opening a new one.

    An open alert (new, acknowledged, linked) continues as long as the indicator stays
    overdue; a dismissed one only within ``MAX_GAP_DAYS`` of when it was last seen, so that a
    dismissal does not silence a later episode; a resolved one never.
    """
    if stored.state in OPEN_ALERT_STATES:
        return True
    last = as_date(stored.last)
    return stored.state == "dismissed" and last is not None and (today - last).days <= MAX_GAP_DAYS


def flag_overdue(
    session: Session, today: dt.date, *, actor: Principal | None = None
) -> tuple[pd.DataFrame, OverdueFlags]:
    """Raise or refresh a stale alert per overdue indicator; resolve those current again.

    An overdue indicator continues its stored stale alert while that is open, or dismissed
    and last seen within ``MAX_GAP_DAYS`` (it stays dismissed while the episode lasts, as in
    ``triage.detection.plan_alert_changes``); otherwise a new alert is opened.
    A new or acknowledged stale alert whose indicator is no longer overdue is resolved; a
    linked one stays with its problem. Running twice a day changes nothing the second time.
    One audit row summarises a run that changed anything. Returns the overdue indicators
    (``overdue_indicators``) and the counts.
    """
    actor = actor or Principal.system(SYSTEM_ACTOR)
    overdue = overdue_indicators(session, today)
    stored = _stored_stale(session)
    latest: dict[str, Any] = {}
    by_key: dict[str, Any] = {}
    for row in stored.sort_values(["last", "id"]).itertuples(index=False):
        latest[row.series] = row
        by_key[row.dedupe_key] = row
    now = utcnow()
    inserted = refreshed = resolved = 0
    alert_rows = stale_alert_rows(overdue, today) if len(overdue) else None
    flagged: set[str] = set()
    if alert_rows is not None:
        for alert in alert_rows.itertuples(index=False):
            series = indicator_series_key(int(alert.indicator_id))
            flagged.add(series)
            values = {
                "method": STALE_METHOD,
                "severity": str(alert.severity),
                "expected": as_number(alert.expected),
                "observed": as_number(alert.observed),
                "message": str(alert.message),
            }
            key = dedupe_key(STALE_KIND, series, today)
            match = latest.get(series)
            if match is None or not _continues(match, today):
                match = by_key.get(key)  # resolved earlier today: reopen it, same key
            if match is None:
                session.add(
                    Alert(
                        dedupe_key=key,
                        kind=STALE_KIND,
                        series_key=series,
                        indicator_id=int(alert.indicator_id),
                        first_detected=today,
                        last_detected=today,
                        state="new",
                        state_reason="",
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                )
                inserted += 1
                continue
            stored_alert = session.get(Alert, int(match.id))
            assert stored_alert is not None
            wanted = {
                **values,
                "last_detected": max(today, to_date(match.last)),
                "indicator_id": int(alert.indicator_id),
            }
            if match.state == "resolved":
                wanted.update(state="new", state_reason="")
            changed = {k: v for k, v in wanted.items() if getattr(stored_alert, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(stored_alert, name, value)
                stored_alert.updated_at = now
                refreshed += 1
    current = stored[stored["state"].isin(RESOLVABLE_STATES) & ~stored["series"].isin(flagged)]
    for alert_id in current["id"]:
        stored_alert = session.get(Alert, int(alert_id))
        if stored_alert is None:
            continue
        stored_alert.state = "resolved"
        stored_alert.state_reason = "The indicator has been updated; it is no longer overdue."
        stored_alert.updated_at = now
        resolved += 1
    flags = OverdueFlags(inserted, refreshed, resolved)
    session.flush()
    if inserted or refreshed or resolved:
        write_audit(
            session,
            actor,
            "flag_overdue",
            "alerts",
            "",
            after={**flags.as_dict(), "overdue": len(overdue), "day": today.isoformat()},
        )
    return overdue, flags


def overdue_by_department(overdue: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per department code: its name, how many indicators are overdue, and their codes."""
    summary: dict[str, dict[str, Any]] = {}
    for code, part in overdue.groupby("department_code", sort=True):
        summary[str(code)] = {
            "department": str(part["department_name"].iloc[0]),
            "overdue": len(part),
            "indicators": [str(c) for c in part["code"]],
        }
    return summary


__all__ = [
    "OVERDUE_COLUMNS",
    "OverdueFlags",
    "flag_overdue",
    "overdue_by_department",
    "overdue_indicators",
    "stale_alert_rows",
]
