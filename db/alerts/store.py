"""Stored alerts: applying a detection run (de-duplicated episodes) and the office's actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db.alerts.episodes import alert_links, data_dates
from db.audit import write_audit
from db.columns import ALERT_EPISODE, ALERT_HEAD, ALERT_LINKS
from db.frames import as_int, as_number, query_frame, to_date
from db.models import Alert, Problem, utcnow
from triage.attention import AlertEpisode, calibrated_severities
from triage.detection import AlertChanges, check_alert_transition
from triage.detection.surge_messages import plain_message, window_of
from triage.security import Capability, Principal, require
from triage.validation import ValidationError
from triage.vocabulary import OPEN_ALERT_STATES, SEVERITY_RANK

SERIES_LINK_FIELDS = tuple(ALERT_LINKS)


def existing_alerts(session: Session) -> pd.DataFrame:
    """Stored alerts for de-duplication: id, dedupe_key, series, kind, state, last_detected."""
    return query_frame(
        session,
        select(
            Alert.id,
            Alert.dedupe_key,
            Alert.series_key,
            Alert.kind,
            Alert.state,
            Alert.last_detected,
        ),
        ["id", "dedupe_key", "series", "kind", "state", "last_detected"],
    )


def _episode_values(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "method": str(row["method"])[:64],
        "severity": str(row["severity"]),
        "first_detected": to_date(row["first_detected"]),
        "last_detected": to_date(row["last_detected"]),
        "expected": as_number(row["expected"]),
        "lower": as_number(row["lower"]),
        "upper": as_number(row["upper"]),
        "observed": as_number(row["observed"]),
        "message": str(row["message"]),
    }


def _chunks(values: list[int], size: int = 1000) -> list[list[int]]:
    """Id lists short enough for one ``IN`` (SQLite caps the bound parameters of a statement)."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _stored(session: Session, column: Any, ids: list[int]) -> dict[int, Any]:
    """``column`` of the stored alerts among ``ids``, by id (ids no longer stored are absent)."""
    found: dict[int, Any] = {}
    for chunk in _chunks(ids):
        found.update(session.execute(select(Alert.id, column).where(Alert.id.in_(chunk))).all())
    return found


def apply_alert_changes(
    session: Session,
    changes: AlertChanges,
    links: Mapping[str, Mapping[str, int | None]],
    *,
    actor: Principal | None = None,
) -> dict[str, int]:
    """Write a detection run: insert new episodes, refresh continuing ones, resolve quiet ones.

    ``links`` maps a series key to the ids it concerns (indicator, category, district, problem).
    One audit row summarises the run. Returns counts ``inserted``, ``updated``, ``resolved``.
    Thousands of alerts a day at a city's scale, so rows are written in bulk (one statement
    per kind of change, executed for many rows), not object by object.
    """
    actor = actor or Principal.system("detector")
    now = utcnow()
    inserts = []
    for row in changes.insert.to_dict("records"):
        link = links.get(row["series"], {})
        inserts.append(
            {
                "dedupe_key": row["dedupe_key"],
                "kind": row["kind"],
                "series_key": row["series"][:200],
                "state": "new",
                "state_reason": "",
                **{field: link.get(field) for field in SERIES_LINK_FIELDS},
                **_episode_values(row),
                "created_at": now,
                "updated_at": now,
            }
        )
    if inserts:
        session.execute(insert(Alert), inserts)
    updates = changes.update.to_dict("records")
    first_stored = _stored(session, Alert.first_detected, [int(row["id"]) for row in updates])
    refreshed = []
    for row in updates:
        alert_id = int(row["id"])
        if alert_id not in first_stored:
            continue
        values = _episode_values(row)
        values["first_detected"] = min(first_stored[alert_id], to_date(row["first_detected"]))
        refreshed.append({"id": alert_id, **values, "updated_at": now})
    if refreshed:
        session.execute(update(Alert), refreshed)
    resolves = changes.resolve.to_dict("records")
    states = _stored(session, Alert.state, [int(row["id"]) for row in resolves])
    resolved = [
        {
            "id": int(row["id"]),
            "state": "resolved",
            "state_reason": str(row["state_reason"]),
            "updated_at": now,
        }
        for row in resolves
        if states.get(int(row["id"])) in {"new", "acknowledged"}
    ]
    if resolved:
        session.execute(update(Alert), resolved)
    counts = {
        "inserted": len(changes.insert),
        "updated": len(changes.update),
        "resolved": len(changes.resolve),
    }
    session.flush()
    if any(counts.values()):
        write_audit(session, actor, "detect", "alerts", "", after=counts)
    recalibrate_severities(session, actor)
    plain_stored_messages(session, actor)
    return counts


def plain_stored_messages(session: Session, actor: Principal | None = None) -> int:
    """Rewrite stored messages of earlier versions that carry detector internals (the false
    discovery rate) in plain words (``plain_message``), so every page reads the same text;
    one audit row when any changed. Returns how many changed."""
    rows = session.execute(
        select(Alert.id, Alert.message).where(Alert.message.like("%false discovery rate%"))
    ).all()
    changed = [{"id": int(i), "message": plain_message(m)} for i, m in rows]
    return _update_audited(session, actor, changed, "plain_words", "messages_changed")


def open_alert_episodes(session: Session) -> tuple[AlertEpisode, ...]:
    """Every open alert as the impact rule reads it (kind, method, state, days seen, data
    date, figures, district, category, the problems it concerns); subjects left empty."""
    rows = query_frame(
        session,
        select(
            Alert.id,
            Alert.kind,
            Alert.method,
            Alert.severity,
            Alert.state,
            Alert.first_detected,
            Alert.last_detected,
            Alert.observed,
            Alert.expected,
            Alert.indicator_id,
            Alert.category_id,
            Alert.district_id,
        ).where(Alert.state.in_(OPEN_ALERT_STATES)),
        [
            "id",
            "kind",
            "method",
            "severity",
            "state",
            "first_detected",
            "last_detected",
            "observed",
            "expected",
            "indicator_id",
            "category_id",
            "district_id",
        ],
    )
    if rows.empty:
        return ()
    links = alert_links(session, [int(i) for i in rows["id"]])
    concerned: dict[int, list[int]] = {}
    for alert_id, problem_id in zip(links["alert_id"], links["problem_id"], strict=True):
        concerned.setdefault(int(alert_id), []).append(int(problem_id))
    dates = data_dates(session, rows)
    return tuple(
        AlertEpisode(
            alert_id=int(row["id"]),
            kind=str(row["kind"]),
            severity=str(row["severity"]),
            state=str(row["state"]),
            first_seen=to_date(row["first_detected"]),
            last_seen=to_date(row["last_detected"]),
            data_date=dates.get(int(row["id"])),
            subject="",
            observed=as_number(row["observed"]),
            expected=as_number(row["expected"]),
            window_days=window_of(row["method"]),
            district=None if as_int(row["district_id"]) is None else str(row["district_id"]),
            category_id=as_int(row["category_id"]),
            indicator_id=as_int(row["indicator_id"]),
            problem_ids=tuple(sorted(set(concerned.get(int(row["id"]), [])))),
            method=str(row["method"]),
        )
        for row in rows.to_dict("records")
    )


def recalibrate_severities(session: Session, actor: Principal | None = None) -> int:
    """Store the severity of every open alert from its impact
    (``triage.attention.calibrated_severities``, the one rule the alerts page, the brief and
    the attention list show), replacing the detector's raw label. Run after every detection
    run; one audit row when anything changed. Returns how many alerts changed."""
    episodes = open_alert_episodes(session)
    wanted = calibrated_severities(episodes)
    changed = [
        {"id": e.alert_id, "severity": wanted[e.alert_id]}
        for e in episodes
        if wanted[e.alert_id] != e.severity
    ]
    return _update_audited(session, actor, changed, "recalibrate", "severity_changed")


def _update_audited(
    session: Session,
    actor: Principal | None,
    changed: list[dict[str, Any]],
    action: str,
    counted: str,
) -> int:
    """Apply ``changed`` (rows of id and new values) to the alerts in one bulk UPDATE, with
    one audit row counting them (``after={counted: n}``) when there are any. Returns n."""
    if changed:
        session.execute(update(Alert), changed)
        session.flush()
        write_audit(
            session,
            actor or Principal.system("detector"),
            action,
            "alerts",
            "",
            after={counted: len(changed)},
        )
    return len(changed)


def transition_alert(
    session: Session,
    actor: Principal,
    alert_id: int,
    target: str,
    *,
    reason: str = "",
    problem_id: int | None = None,
) -> None:
    """Acknowledge, link to a problem, resolve, dismiss (with a reason) or reopen an alert."""
    require(actor, Capability.MANAGE_ALERTS)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise ValidationError(f"There is no alert with id {alert_id}.")
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError("The reason is longer than 2,000 characters.")
    try:
        check_alert_transition(alert.state, target, reason)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if target == "linked":
        problem = session.get(Problem, problem_id) if problem_id is not None else None
        if problem is None:
            raise ValidationError("Choose the problem this alert belongs to.")
        if problem.archived_at is not None:
            raise ValidationError(f"“{problem.title}” is archived: choose a current problem.")
        alert.problem_id = problem_id
    before = {"state": alert.state, "state_reason": alert.state_reason}
    alert.state = target
    alert.state_reason = reason
    alert.updated_at = utcnow()
    after = {"state": target, "state_reason": reason}
    if target == "linked":
        after["problem_id"] = problem_id
    write_audit(session, actor, target, "alert", alert.id, before=before, after=after)
    session.flush()
    recalibrate_severities(session, actor)  # handled or not weighs on the severity


def active_alerts(session: Session) -> pd.DataFrame:
    """Alerts that still ask for attention (new, acknowledged, linked), worst and newest first.

    Columns: id, kind, method, severity, series, indicator_id, category_id, district_id,
    problem_id, first_detected, last_detected, expected, lower, upper, observed, message, state.
    """
    columns = {**ALERT_HEAD, **ALERT_LINKS, **ALERT_EPISODE}
    frame = query_frame(
        session,
        select(*columns.values())
        .where(Alert.state.in_(OPEN_ALERT_STATES))
        .order_by(Alert.last_detected.desc(), Alert.id.desc()),
        list(columns),
    )
    order = {severity: -rank for severity, rank in SEVERITY_RANK.items()}  # loudest first
    return frame.sort_values(
        ["severity", "last_detected", "id"],
        key=lambda s: s.map(order) if s.name == "severity" else s,
        ascending=[True, False, False],
        kind="stable",
    ).reset_index(drop=True)
