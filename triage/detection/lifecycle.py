"""Alert episodes and life cycle: states, transitions, de-duplication against stored alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.detection.common import _day_index, _from_day, _to_day
from triage.vocabulary import OPEN_ALERT_STATES, SEVERITIES

ALERT_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "linked", "resolved", "dismissed"}),
    "acknowledged": frozenset({"linked", "resolved", "dismissed"}),
    "linked": frozenset({"acknowledged", "resolved", "dismissed"}),
    "resolved": frozenset({"new"}),
    "dismissed": frozenset({"new"}),
}
OPEN_STATES = frozenset(OPEN_ALERT_STATES)


class AlertTransitionError(ValueError):
    """A state change the alert life cycle does not allow; the message says why."""


def check_alert_transition(current: str, target: str, reason: str = "") -> None:
    """Raise :class:`AlertTransitionError` unless ``current -> target`` is allowed.

    Dismissing needs a reason (it is kept in ``state_reason`` and shown later); reopening a
    resolved or dismissed alert makes it ``new`` again.
    """
    if current not in ALERT_TRANSITIONS:
        raise AlertTransitionError(f"Unknown alert state {current!r}.")
    if target not in ALERT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ALERT_TRANSITIONS[current])) or "nothing"
        raise AlertTransitionError(
            f"An alert that is {current} cannot become {target} (it can become: {allowed})."
        )
    if target == "dismissed" and not reason.strip():
        raise AlertTransitionError("Say why the alert is dismissed.")


def dedupe_key(kind: str, series: str, first_detected: dt.date | pd.Timestamp) -> str:
    """The ``alerts.dedupe_key`` of an episode: kind, series and first day (<= 200 chars)."""
    day = pd.Timestamp(first_detected).date().isoformat()
    key = f"{kind}|{series}|{day}"
    if len(key) <= 200:
        return key
    digest = hashlib.sha1(series.encode(), usedforsecurity=False).hexdigest()
    return f"{kind}|{series[:150]}#{digest[:16]}|{day}"


EPISODE_COLUMNS = (
    "dedupe_key",
    "series",
    "kind",
    "method",
    "severity",
    "first_detected",
    "last_detected",
    "alert_days",
    "expected",
    "lower",
    "upper",
    "observed",
    "q_value",
    "message",
)


def alert_episodes(alerts: pd.DataFrame, *, max_gap_days: int = 7) -> pd.DataFrame:
    """Consecutive alert days of one series and kind merged into episodes.

    In: :data:`ALERT_COLUMNS` (one row per alerted series and date). Out:
    :data:`EPISODE_COLUMNS`: a new episode starts after more than ``max_gap_days`` quiet
    days; severity is the worst of the episode, and figures and message are the latest day's
    (what the office sees is the current state). Key: :func:`dedupe_key`.
    """
    if alerts.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EPISODE_COLUMNS})
    frame = alerts.sort_values(["series", "kind", "date"]).reset_index(drop=True)
    day = _day_index(frame["date"])
    same = (frame["series"].to_numpy() == np.roll(frame["series"].to_numpy(), 1)) & (
        frame["kind"].to_numpy() == np.roll(frame["kind"].to_numpy(), 1)
    )
    same[0] = False
    start = ~same | (np.r_[0, np.diff(day)] > max_gap_days)
    frame["episode"] = np.cumsum(start)
    frame["rank"] = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    grouped = frame.groupby("episode", sort=False)
    last = grouped.tail(1).set_index("episode")
    out = pd.DataFrame(
        {
            "series": last["series"],
            "kind": last["kind"],
            "method": last["method"],
            "severity": grouped["rank"].max().map(dict(enumerate(SEVERITIES))),
            "first_detected": grouped["date"].min(),
            "last_detected": grouped["date"].max(),
            "alert_days": grouped.size(),
            "expected": last["expected"],
            "lower": last["lower"],
            "upper": last["upper"],
            "observed": last["observed"],
            "q_value": last["q_value"],
            "message": last["message"],
        }
    )
    out.insert(
        0,
        "dedupe_key",
        [
            dedupe_key(k, s, f)
            for k, s, f in zip(out["kind"], out["series"], out["first_detected"], strict=True)
        ],
    )
    return out.reset_index(drop=True)[list(EPISODE_COLUMNS)]


@dataclass(frozen=True)
class AlertChanges:
    """What a detection run changes in the ``alerts`` table (applied by the caller)."""

    insert: pd.DataFrame  # EPISODE_COLUMNS, state "new"
    update: pd.DataFrame  # id plus the EPISODE_COLUMNS to refresh (state unchanged)
    resolve: pd.DataFrame  # id, state_reason


def plan_alert_changes(
    existing: pd.DataFrame,
    alerts: pd.DataFrame,
    as_of: dt.date | str,
    *,
    max_gap_days: int = 7,
    resolve_after_days: int = 28,
) -> AlertChanges:
    """De-duplicate a run's alerts against the stored ones, and close the quiet ones.

    In: ``existing`` with ``id, dedupe_key, series, kind, state, last_detected`` (stored
    alerts); ``alerts`` (:data:`ALERT_COLUMNS`, from this run). A new episode continues a
    stored alert of the same series and kind last seen within ``max_gap_days`` before it
    (whatever its state: a dismissed alert stays dismissed while its episode lasts, so the
    office is not asked twice); otherwise it is inserted as ``new``. New and acknowledged
    alerts not seen for ``resolve_after_days`` before ``as_of`` are resolved; linked ones
    stay with their problem.
    """
    episodes = alert_episodes(alerts, max_gap_days=max_gap_days)
    stored = existing.copy()
    stored["last_detected"] = pd.to_datetime(stored["last_detected"])
    latest = stored.sort_values("last_detected").groupby(["series", "kind"]).tail(1)
    index = {(r.series, r.kind): r for r in latest.itertuples(index=False)}
    inserts, updates = [], []
    for ep in episodes.itertuples(index=False):
        match = index.get((ep.series, ep.kind))
        gap = (
            (pd.Timestamp(ep.first_detected) - match.last_detected).days
            if match is not None
            else None
        )
        if (
            match is not None
            and gap is not None
            and gap <= max_gap_days
            and (match.state != "resolved")
        ):
            row = ep._asdict()
            row["id"] = match.id
            row["dedupe_key"] = match.dedupe_key
            row["last_detected"] = max(pd.Timestamp(ep.last_detected), match.last_detected)
            updates.append(row)
        else:
            inserts.append(ep._asdict())
    cutoff = pd.Timestamp(_from_day(np.array([_to_day(as_of) - resolve_after_days]))[0])
    touched = {u["id"] for u in updates}
    quiet = stored[
        stored["state"].isin(["new", "acknowledged"])
        & (stored["last_detected"] < cutoff)
        & ~stored["id"].isin(touched)
    ]
    resolve = pd.DataFrame(
        {
            "id": quiet["id"].to_numpy(),
            "state_reason": f"No longer detected for {resolve_after_days} days.",
        }
    )
    columns = list(EPISODE_COLUMNS)
    return AlertChanges(
        insert=pd.DataFrame(inserts, columns=columns),
        update=pd.DataFrame(updates, columns=["id", *columns]),
        resolve=resolve,
    )
