"""Read functions for the weekly priorities page and the weekly brief: stored snapshots only.

Nothing here scores problems: the ranking is the stored ``score_snapshots`` of a week (the page
makes sure the current week is stored once, through ``triage.jobs.rank_week``). Functions take
the session first, return DataFrames or frozen dataclasses and never commit.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from db.models import (
    Actor,
    Alert,
    AuditLog,
    CategoryProblem,
    CausalFactor,
    Decision,
    Department,
    Engagement,
    FactorLink,
    Indicator,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ScoreSnapshot,
    User,
)
from db.scoring_inputs import latest_snapshot_week
from triage.attention import AttentionList
from triage.backward_map import CORE_SECTORS, causal_importance
from triage.brief import (
    ActorGap,
    BriefAlert,
    BriefData,
    BriefDecision,
    BriefPriority,
    StaleOwner,
)
from triage.indicators import is_overdue
from triage.scoring import movement, ranking_table, week_end, week_start

# Alerts still asking for attention (resolved and dismissed ones are history).
ACTIVE_ALERT_STATES = ("new", "acknowledged", "linked")
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
# A problem that moved three places or more is a "big mover" in the weekly review.
BIG_MOVE = 3
# The short list: the problems the office decides on each week.
TOP_N = 10
# Trend of a problem, for the quadrant chart's colour. Worsening: its indicators trend the wrong
# way fast enough to add 15% of the distance to critical within a year (the scoring's own
# threshold for mentioning a trend), or its importance rose by 0.03 or more since the previous
# stored week; improving: its importance fell by 0.03 or more; otherwise steady.
WORSENING_TREND = 0.15
IMPORTANCE_TREND = 0.03
TRENDS = ("worsening", "steady", "improving")

RANKING_COLUMNS = [
    "problem_id",
    "title",
    "rank",
    "priority",
    "priority_low",
    "priority_high",
    "importance",
    "tractability",
    "neglectedness",
    "confidence",
    "explanation",
    "previous_rank",
    "rank_change",
    "movement",
    "people",
    "reports_adjusted",
    "worsening",
    "importance_change",
    "trend",
    "active_alerts",
    "overdue_indicators",
    "stale",
    "decision",
    "decision_note",
    "decision_author",
    "decision_at",
    "decisions_this_week",
    "last_decision",
    "last_decision_week",
    "last_decision_note",
]
ALERT_COLUMNS = [
    "id",
    "kind",
    "severity",
    "previous_severity",
    "state",
    "message",
    "first_detected",
    "last_detected",
    "change",
    "problems",
]
OVERDUE_COLUMNS = [
    "id",
    "code",
    "name",
    "cadence",
    "department_id",
    "department",
    "latest_period",
]
OWNER_COLUMNS = ["department_id", "department", "heads", "overdue", "indicators"]


def _records(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """Rows as objects with one attribute per column: much faster than ``itertuples`` on
    wide frames with extension dtypes (pandas 3 extracts every column per call)."""
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [
        SimpleNamespace(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)
    ]


def _frame(session: Session, statement: Select, columns: Sequence[str]) -> pd.DataFrame:
    rows = session.execute(statement).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=list(columns))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------- weeks


def snapshot_weeks(session: Session) -> list[str]:
    """ISO weeks that have a stored snapshot, newest first."""
    weeks = session.scalars(
        select(ScoreSnapshot.week).distinct().order_by(ScoreSnapshot.week.desc())
    )
    return list(weeks)


def has_snapshot(session: Session, week: str) -> bool:
    """True when a ranking is stored for ``week``."""
    return (
        session.scalar(select(ScoreSnapshot.id).where(ScoreSnapshot.week == week).limit(1))
        is not None
    )


def week_as_of(week: str, today: dt.date) -> dt.date:
    """The date a week is ranked as of: its Sunday, or today while the week is running."""
    return min(week_end(week), today)


# ---------------------------------------------------------------- alerts


def alert_links(session: Session, alert_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Which problems each alert concerns: alert_id, problem_id.

    An alert names its problem directly, or reaches it through its report category (the
    category → problem mapping) or its indicator (the problem's indicators). A category
    alert in one district is left off problems scoped to other districts.
    """
    where: list[Any] = []
    if alert_ids is not None:
        ids = sorted({int(i) for i in alert_ids})
        if not ids:
            return pd.DataFrame(columns=["alert_id", "problem_id"])
        where.append(Alert.id.in_(ids))
    else:
        where.append(Alert.state.in_(ACTIVE_ALERT_STATES))
    unmapped = Alert.problem_id.is_(None)
    statement = union_all(
        select(Alert.id, Alert.problem_id, Alert.district_id).where(
            Alert.problem_id.is_not(None), *where
        ),
        select(Alert.id, CategoryProblem.problem_id, Alert.district_id)
        .join(CategoryProblem, CategoryProblem.category_id == Alert.category_id)
        .where(unmapped, *where),
        select(Alert.id, ProblemIndicator.problem_id, Alert.district_id)
        .join(ProblemIndicator, ProblemIndicator.indicator_id == Alert.indicator_id)
        .where(unmapped, Alert.category_id.is_(None), *where),
    )
    links = pd.DataFrame(
        [tuple(row) for row in session.execute(statement).all()],
        columns=["alert_id", "problem_id", "district_id"],
    )
    if links.empty:
        return pd.DataFrame(columns=["alert_id", "problem_id"])
    scoped = links[links["district_id"].notna()]
    if not scoped.empty:
        districts = _frame(
            session,
            select(ProblemDistrict.problem_id, ProblemDistrict.district_id).where(
                ProblemDistrict.problem_id.in_(sorted({int(p) for p in scoped["problem_id"]}))
            ),
            ["problem_id", "district_id"],
        )
        scope = districts.groupby("problem_id")["district_id"].agg(set).to_dict()

        def in_scope(row: Any) -> bool:
            if pd.isna(row.district_id):
                return True
            allowed = scope.get(int(row.problem_id))
            return not allowed or int(row.district_id) in allowed

        links = links[[in_scope(row) for row in _records(links)]]
    return (
        links[["alert_id", "problem_id"]].astype("int64").drop_duplicates().reset_index(drop=True)
    )


def active_alert_counts(session: Session) -> pd.Series:
    """Active alerts (new, acknowledged or linked) per problem: a Series indexed by problem id."""
    links = alert_links(session)
    if links.empty:
        return pd.Series(dtype="int64")
    return links.groupby("problem_id")["alert_id"].nunique().astype("int64")


def _severity_rises(session: Session, start: dt.date, end: dt.date) -> dict[int, str]:
    """Alerts whose severity an audited update raised between ``start`` and ``end`` (dates
    included): alert id → the severity before the first such rise."""
    rows = session.execute(
        select(AuditLog.entity_id, AuditLog.before, AuditLog.after)
        .where(
            AuditLog.entity == "alert",
            AuditLog.action == "update",
            AuditLog.at >= dt.datetime.combine(start, dt.time()),
            AuditLog.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        )
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    rises: dict[int, str] = {}
    for entity_id, before, after in rows:
        if not isinstance(before, dict) or not isinstance(after, dict):
            continue
        old, new = before.get("severity"), after.get("severity")
        known = old in SEVERITY_ORDER and new in SEVERITY_ORDER
        if known and SEVERITY_ORDER[new] > SEVERITY_ORDER[old] and str(entity_id).isdigit():
            rises.setdefault(int(entity_id), str(old))
    return rises


def week_alerts(session: Session, week: str) -> pd.DataFrame:
    """Alerts that are new this week (first detected in it, not dismissed) or escalated in it
    (an audited update raised their severity), most severe first.

    Columns: id, kind, severity, previous_severity (escalations only), state, message,
    first_detected, last_detected, change ("new" or "escalated"), problems (tuple of titles).
    """
    start, end = week_start(week), week_end(week)
    rises = _severity_rises(session, start, end)
    condition = (Alert.first_detected >= start) & (Alert.first_detected <= end)
    if rises:
        condition = condition | Alert.id.in_(sorted(rises))
    frame = _frame(
        session,
        select(
            Alert.id,
            Alert.kind,
            Alert.severity,
            Alert.state,
            Alert.message,
            Alert.first_detected,
            Alert.last_detected,
        ).where(condition, Alert.state != "dismissed"),
        ["id", "kind", "severity", "state", "message", "first_detected", "last_detected"],
    )
    if frame.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    is_new = frame["first_detected"].map(lambda d: start <= _as_date(d) <= end)
    frame = frame.assign(
        change=["new" if new else "escalated" for new in is_new],
        previous_severity=[
            None if new else rises.get(int(i)) for i, new in zip(frame["id"], is_new, strict=True)
        ],
    )
    links = alert_links(session, frame["id"])
    titles = dict(
        session.execute(
            select(Problem.id, Problem.title).where(
                Problem.id.in_(sorted({int(p) for p in links["problem_id"]}) or [-1])
            )
        ).all()
    )
    by_alert = links.groupby("alert_id")["problem_id"].agg(list).to_dict() if len(links) else {}
    frame["problems"] = [
        tuple(sorted(titles[p] for p in by_alert.get(int(i), []) if p in titles))
        for i in frame["id"]
    ]
    frame = frame.assign(_order=frame["severity"].map(SEVERITY_ORDER).fillna(0))
    frame = frame.sort_values(["_order", "first_detected", "id"], ascending=[False, False, True])
    return frame.reset_index(drop=True)[ALERT_COLUMNS]


# ---------------------------------------------------------------- indicators


def overdue_indicators(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Indicators overdue on ``as_of`` (never reported, or the latest period up to ``as_of``
    older than the cadence allows: ``triage.indicators.is_overdue``), by department and code.

    Columns: id, code, name, cadence, department_id, department, latest_period (date or None).
    """
    latest = dict(
        session.execute(
            select(Observation.indicator_id, func.max(Observation.period))
            .where(Observation.period <= as_of)
            .group_by(Observation.indicator_id)
        ).all()
    )
    frame = _frame(
        session,
        select(
            Indicator.id,
            Indicator.code,
            Indicator.name,
            Indicator.cadence,
            Indicator.department_id,
            Department.name,
        )
        .join(Department, Department.id == Indicator.department_id)
        .order_by(Department.name, Indicator.code),
        OVERDUE_COLUMNS[:-1],
    )
    periods = [_as_date(latest.get(i)) for i in frame["id"]]
    frame["latest_period"] = pd.Series(periods, dtype=object)
    overdue = [
        is_overdue(period, str(cadence), as_of)
        for period, cadence in zip(periods, frame["cadence"], strict=True)
    ]
    return frame[pd.Series(overdue, dtype=bool).to_numpy()].reset_index(drop=True)[OVERDUE_COLUMNS]


def department_heads(session: Session) -> dict[int, list[str]]:
    """Active department heads' display names per department id."""
    heads: dict[int, list[str]] = {}
    for department_id, name in session.execute(
        select(User.department_id, User.display_name)
        .where(User.role == "department_head", User.active.is_(True))
        .order_by(User.display_name)
    ):
        if department_id is not None:
            heads.setdefault(int(department_id), []).append(str(name))
    return heads


def stale_owners(overdue: pd.DataFrame, heads: dict[int, list[str]]) -> pd.DataFrame:
    """Overdue indicators grouped by the department that owns them, most overdue first.

    In: :func:`overdue_indicators` and :func:`department_heads`. Out: department_id,
    department, heads (tuple of names), overdue (count), indicators (tuple of names).
    """
    if overdue.empty:
        return pd.DataFrame(columns=OWNER_COLUMNS)
    rows = []
    for (department_id, department), group in overdue.groupby(
        ["department_id", "department"], sort=False
    ):
        rows.append(
            {
                "department_id": int(department_id),
                "department": str(department),
                "heads": tuple(heads.get(int(department_id), [])),
                "overdue": len(group),
                "indicators": tuple(str(n) for n in group["name"]),
            }
        )
    frame = pd.DataFrame(rows, columns=OWNER_COLUMNS)
    return frame.sort_values(["overdue", "department"], ascending=[False, True]).reset_index(
        drop=True
    )


def _problem_overdue_counts(session: Session, overdue_ids: Iterable[int]) -> pd.Series:
    ids = sorted({int(i) for i in overdue_ids})
    if not ids:
        return pd.Series(dtype="int64")
    links = _frame(
        session,
        select(ProblemIndicator.problem_id, ProblemIndicator.indicator_id).where(
            ProblemIndicator.indicator_id.in_(ids)
        ),
        ["problem_id", "indicator_id"],
    )
    return links.groupby("problem_id")["indicator_id"].nunique().astype("int64")


# ---------------------------------------------------------------- decisions


def week_decisions(session: Session, week: str) -> pd.DataFrame:
    """The decision in force per problem for ``week`` (the latest recorded), with how many were
    recorded that week (a later one supersedes an earlier one; both are kept).

    Columns: problem_id, title, decision, note, author (display name or None), created_at,
    count; ordered by problem title.
    """
    frame = _frame(
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
    return _frame(
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


# ---------------------------------------------------------------- the week


def trend_of(worsening: float | None, importance_change: float | None) -> str:
    """``worsening``, ``improving`` or ``steady`` (see :data:`WORSENING_TREND`)."""
    if worsening is not None and worsening >= WORSENING_TREND:
        return "worsening"
    if importance_change is not None:
        if importance_change >= IMPORTANCE_TREND:
            return "worsening"
        if importance_change <= -IMPORTANCE_TREND:
            return "improving"
    return "steady"


@dataclass(frozen=True)
class WeekPriorities:
    """One week's stored ranking with everything the page shows beside it.

    ``ranking`` has :data:`RANKING_COLUMNS`, by rank; ``alerts`` the new and escalated alerts
    (:func:`week_alerts`); ``overdue`` the overdue indicators (:func:`overdue_indicators`);
    ``owners`` those grouped by department (:func:`stale_owners`). ``previous_week`` is the
    stored week movement is measured against (None when there is none).
    """

    week: str
    as_of: dt.date
    previous_week: str | None
    computed_at: dt.datetime | None
    ranking: pd.DataFrame
    alerts: pd.DataFrame
    overdue: pd.DataFrame
    owners: pd.DataFrame

    @property
    def compared(self) -> bool:
        """True when there is an earlier stored week to measure movement against."""
        return self.previous_week is not None


def _lookup(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by problem id, as plain objects with None where there is none."""
    mapping = {int(k): v for k, v in values.items()}
    return pd.Series([mapping.get(int(i)) for i in ids], index=ids.index, dtype=object)


def _empty_ranking() -> pd.DataFrame:
    return pd.DataFrame(columns=RANKING_COLUMNS)


LIGHT_SNAPSHOT_COLUMNS = [
    "problem_id",
    "title",
    "rank",
    "priority",
    "priority_low",
    "priority_high",
    "importance",
    "tractability",
    "neglectedness",
    "confidence",
    "explanation",
    "people",
    "reports_adjusted",
    "worsening",
    "computed_at",
]


def week_snapshot(session: Session, week: str) -> pd.DataFrame:
    """A stored week by rank, with the three facts the page needs read out of the components
    JSON in the database (people affected, adjusted reports, the worsening part), not the
    whole JSON. Columns: :data:`LIGHT_SNAPSHOT_COLUMNS`."""
    components = ScoreSnapshot.components
    return _frame(
        session,
        select(
            ScoreSnapshot.problem_id,
            Problem.title,
            ScoreSnapshot.rank,
            ScoreSnapshot.priority,
            ScoreSnapshot.priority_low,
            ScoreSnapshot.priority_high,
            ScoreSnapshot.importance,
            ScoreSnapshot.tractability,
            ScoreSnapshot.neglectedness,
            ScoreSnapshot.confidence,
            ScoreSnapshot.explanation,
            components[("facts", "population")].as_float(),
            components[("facts", "reports_adjusted")].as_float(),
            components[("importance", "worsening", "value")].as_float(),
            ScoreSnapshot.computed_at,
        )
        .join(Problem, Problem.id == ScoreSnapshot.problem_id)
        .where(ScoreSnapshot.week == week)
        .order_by(ScoreSnapshot.rank, ScoreSnapshot.problem_id),
        LIGHT_SNAPSHOT_COLUMNS,
    )


def _week_ranks(session: Session, week: str) -> pd.DataFrame:
    """problem_id, rank and importance of a stored week (what movement and trend compare)."""
    return _frame(
        session,
        select(ScoreSnapshot.problem_id, ScoreSnapshot.rank, ScoreSnapshot.importance).where(
            ScoreSnapshot.week == week
        ),
        ["problem_id", "rank", "importance"],
    )


def week_priorities(session: Session, week: str, *, today: dt.date) -> WeekPriorities:
    """The stored ranking of ``week`` with movement, trend, alerts, staleness and decisions.

    Movement is measured against the latest stored week before ``week``. Active alerts are
    counted as they stand now; overdue indicators as of the week's as-of date.
    """
    as_of = week_as_of(week, today)
    snapshot = week_snapshot(session, week)
    previous_week = latest_snapshot_week(session, before=week)
    overdue = overdue_indicators(session, as_of)
    owners = stale_owners(overdue, department_heads(session))
    alerts = week_alerts(session, week)
    if snapshot.empty:
        return WeekPriorities(
            week, as_of, previous_week, None, _empty_ranking(), alerts, overdue, owners
        )
    previous = _week_ranks(session, previous_week) if previous_week else None
    moves = movement(snapshot, previous).set_index("problem_id")
    frame = snapshot.drop(columns=["computed_at"]).copy()
    ids = frame["problem_id"].astype("int64")
    frame["previous_rank"] = pd.array(ids.map(moves["previous_rank"]), dtype="Int64")
    frame["rank_change"] = pd.array(ids.map(moves["rank_change"]), dtype="Int64")
    frame["movement"] = ids.map(moves["movement"]).to_numpy()
    frame["reports_adjusted"] = frame["reports_adjusted"].astype(float).fillna(0.0)
    if previous is not None and len(previous):
        before = pd.Series(
            previous["importance"].to_numpy(float), index=previous["problem_id"].astype("int64")
        )
        change = frame["importance"].astype(float).to_numpy() - ids.map(before).to_numpy(float)
        frame["importance_change"] = [None if math.isnan(c) else float(c) for c in change]
    else:
        frame["importance_change"] = None
    frame["trend"] = [
        trend_of(_number(w), _number(c))
        for w, c in zip(frame["worsening"], frame["importance_change"], strict=True)
    ]
    alert_counts = active_alert_counts(session)
    frame["active_alerts"] = ids.map(alert_counts).fillna(0).astype("int64").to_numpy()
    stale_counts = _problem_overdue_counts(session, overdue["id"])
    frame["overdue_indicators"] = ids.map(stale_counts).fillna(0).astype("int64").to_numpy()
    frame["stale"] = frame["overdue_indicators"] > 0
    decided = week_decisions(session, week).set_index("problem_id")
    frame["decision"] = _lookup(ids, decided["decision"])
    frame["decision_note"] = _lookup(ids, decided["note"])
    frame["decision_author"] = _lookup(ids, decided["author"])
    frame["decision_at"] = _lookup(ids, decided["created_at"])
    frame["decisions_this_week"] = ids.map(decided["count"]).fillna(0).astype("int64").to_numpy()
    earlier = earlier_decisions(session, week).set_index("problem_id")
    frame["last_decision"] = _lookup(ids, earlier["decision"])
    frame["last_decision_week"] = _lookup(ids, earlier["week"])
    frame["last_decision_note"] = _lookup(ids, earlier["note"])
    computed = snapshot["computed_at"].max()
    return WeekPriorities(
        week=week,
        as_of=as_of,
        previous_week=previous_week,
        computed_at=None if pd.isna(computed) else pd.Timestamp(computed).to_pydatetime(),
        ranking=frame.reset_index(drop=True)[RANKING_COLUMNS],
        alerts=alerts,
        overdue=overdue,
        owners=owners,
    )


def ranking_export(data: WeekPriorities, snapshot: pd.DataFrame) -> pd.DataFrame:
    """The ranking CSV: ``triage.scoring.ranking_table`` of the stored week (every component)
    plus movement, alerts, staleness and the decision in force, by rank.

    In: :func:`week_priorities` and the full stored week (``load_snapshot``). Text cells are
    plain; make them formula-safe with ``triage.export.safe_csv`` when writing.
    """
    if snapshot.empty:
        return pd.DataFrame(columns=["rank", "problem_id", "title"])
    extra = data.ranking.set_index("problem_id")
    moves = data.ranking[["problem_id", "rank", "movement", "rank_change"]]
    table = ranking_table(snapshot, moves if data.compared else None)
    ids = table["problem_id"].astype("int64")
    explanation = table.pop("explanation")
    table.insert(3, "week", data.week)
    table["trend"] = ids.map(extra["trend"]).to_numpy()
    table["active_alerts"] = ids.map(extra["active_alerts"]).fillna(0).astype("int64").to_numpy()
    table["overdue_indicators"] = (
        ids.map(extra["overdue_indicators"]).fillna(0).astype("int64").to_numpy()
    )
    table["decision"] = _lookup(ids, extra["decision"]).fillna("").to_numpy()
    table["decision_note"] = _lookup(ids, extra["decision_note"]).fillna("").to_numpy()
    table["explanation"] = explanation.to_numpy()
    return table


@dataclass(frozen=True)
class WeekChanges:
    """What changed this week, derived from a :class:`WeekPriorities` (no database needed).

    ``movers``, ``new_problems`` and ``decisions_due`` are slices of the ranking frame;
    ``movers`` only when an earlier week is stored (otherwise everything would be "new").
    """

    new_alerts: pd.DataFrame
    escalated_alerts: pd.DataFrame
    movers: pd.DataFrame
    new_problems: pd.DataFrame
    overdue_count: int
    owners: pd.DataFrame
    decisions_due: pd.DataFrame


def week_changes(data: WeekPriorities, *, top_n: int = TOP_N) -> WeekChanges:
    """New and escalated alerts, big movers (|rank change| >= 3), new problems (no rank in the
    previous stored week), overdue indicators with their owners, and decisions due (problems
    of the top ``top_n`` without a decision this week)."""
    ranking = data.ranking
    alerts = data.alerts
    if data.compared and len(ranking):
        size = pd.to_numeric(ranking["rank_change"], errors="coerce").abs().fillna(0)
        movers = (
            ranking.assign(_size=size.to_numpy())
            .loc[lambda frame: frame["_size"] >= BIG_MOVE]
            .sort_values(["_size", "rank"], ascending=[False, True])
            .drop(columns="_size")
        )
        new_problems = ranking[ranking["movement"] == "new"]
    else:
        movers = ranking.iloc[0:0]
        new_problems = ranking.iloc[0:0]
    top = ranking[ranking["rank"] <= top_n] if len(ranking) else ranking
    due = top[top["decision"].isna()] if len(top) else top
    return WeekChanges(
        new_alerts=alerts[alerts["change"] == "new"].reset_index(drop=True),
        escalated_alerts=alerts[alerts["change"] == "escalated"].reset_index(drop=True),
        movers=movers.reset_index(drop=True),
        new_problems=new_problems.reset_index(drop=True),
        overdue_count=len(data.overdue),
        owners=data.owners,
        decisions_due=due.reset_index(drop=True),
    )


# ---------------------------------------------------------------- the weekly brief


def actor_gaps(session: Session, problems: Sequence[tuple[int, str]]) -> list[ActorGap]:
    """Per problem: causal factors nobody is engaged on (most causally important first, as on
    its backward map) and the core sectors with no allied actor engaged on it.

    The same rules as ``triage.backward_map.backward_map``, computed for all the problems in
    one pass (a map with a loop is read flat, and says so).
    """
    ids = [int(p) for p, _ in problems]
    if not ids:
        return []
    factors = _frame(
        session,
        select(
            CausalFactor.id,
            CausalFactor.problem_id,
            CausalFactor.title,
            CausalFactor.reach,
            CausalFactor.evidence,
            CausalFactor.weight,
            CausalFactor.indicator_id,
        ).where(CausalFactor.problem_id.in_(ids)),
        ["id", "problem_id", "title", "reach", "evidence", "weight", "indicator_id"],
    )
    links = _frame(
        session,
        select(FactorLink.factor_id, FactorLink.parent_id)
        .join(CausalFactor, CausalFactor.id == FactorLink.factor_id)
        .where(CausalFactor.problem_id.in_(ids)),
        ["factor_id", "parent_id"],
    )
    engagements = _frame(
        session,
        select(Engagement.problem_id, Engagement.factor_id, Engagement.stance, Actor.sector)
        .join(Actor, Actor.id == Engagement.actor_id)
        .where(Engagement.problem_id.in_(ids)),
        ["problem_id", "factor_id", "stance", "sector"],
    )
    importance = causal_importance(factors, links, on_cycle="flatten")
    weight = dict(zip(importance["id"], importance["causal_importance"], strict=True))
    looped = set(importance.loc[importance["in_cycle"], "problem_id"].astype("int64"))
    covered = {int(f) for f in engagements["factor_id"].dropna()}
    allied = engagements[engagements["stance"] != "competing"]
    sectors = allied.groupby("problem_id")["sector"].agg(set).to_dict()
    gaps = []
    for problem_id, title in problems:
        own = factors[factors["problem_id"] == int(problem_id)]
        open_factors = sorted(
            (-float(weight.get(int(row.id), 0.0)), int(row.id), str(row.title))
            for row in _records(own)
            if int(row.id) not in covered
        )
        present = sectors.get(int(problem_id), set())
        note = ""
        if own.empty:
            note = "No causal factors are mapped yet."
        elif int(problem_id) in looped:
            note = "Its backward map has a loop, so its causes are read flat; fix the map."
        gaps.append(
            ActorGap(
                problem=str(title),
                uncovered_factors=tuple(name for _, _, name in open_factors),
                missing_sectors=tuple(s for s in CORE_SECTORS if s not in present),
                note=note,
            )
        )
    return gaps


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _int_or_none(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def brief_data(
    session: Session,
    week: str,
    *,
    today: dt.date,
    city_name: str,
    generated_at: dt.datetime,
    top_n: int = TOP_N,
    week_data: WeekPriorities | None = None,
    attention: AttentionList | None = None,
) -> BriefData:
    """Everything the weekly brief PDF prints for ``week``, as plain data (see ``triage.brief``).

    ``week_data`` is :func:`week_priorities` of the same week and day when the caller already
    has it; ``attention`` the week's attention list (``db.attention.week_attention``, built
    here when not given)."""
    data = week_data if week_data is not None else week_priorities(session, week, today=today)
    if attention is None:
        # db.attention reads this module's queries, so it is imported where it is needed.
        from db.attention import week_attention

        attention = week_attention(session, week, today=today, week_data=data)
    changes = week_changes(data, top_n=top_n)
    top = data.ranking[data.ranking["rank"] <= top_n] if len(data.ranking) else data.ranking
    priorities = tuple(
        BriefPriority(
            rank=int(row.rank),
            title=str(row.title),
            priority=float(row.priority),
            priority_low=float(row.priority_low),
            priority_high=float(row.priority_high),
            importance=float(row.importance),
            tractability=float(row.tractability),
            neglectedness=float(row.neglectedness),
            movement=str(row.movement) if data.compared else "",
            rank_change=_int_or_none(row.rank_change),
            explanation=_text(row.explanation),
            active_alerts=int(row.active_alerts),
            overdue_indicators=int(row.overdue_indicators),
            decision=_text(row.decision),
            decision_note=_text(row.decision_note),
            last_decision=_text(row.last_decision),
            last_decision_week=_text(row.last_decision_week),
        )
        for row in _records(top)
    )

    def brief_alerts(frame: pd.DataFrame) -> tuple[BriefAlert, ...]:
        # Late indicator data goes to its department (the brief's owners section), not here.
        frame = frame[frame["kind"] != "stale"]
        return tuple(
            BriefAlert(
                severity=str(row.severity),
                previous_severity=_text(row.previous_severity),
                message=_text(row.message),
                problems=tuple(row.problems),
                first_detected=_as_date(row.first_detected),
            )
            for row in _records(frame)
        )

    decisions = week_decisions(session, week)
    return BriefData(
        city=city_name,
        week=week,
        week_start=week_start(week),
        week_end=week_end(week),
        as_of=data.as_of,
        previous_week=data.previous_week,
        generated_at=generated_at,
        problems_ranked=len(data.ranking),
        priorities=priorities,
        new_alerts=brief_alerts(changes.new_alerts),
        escalated_alerts=brief_alerts(changes.escalated_alerts),
        movers=tuple(
            (int(row.rank), str(row.title), int(row.rank_change))
            for row in _records(changes.movers)
        ),
        new_problems=tuple(
            (int(row.rank), str(row.title)) for row in _records(changes.new_problems)
        ),
        overdue_count=changes.overdue_count,
        decisions_due=tuple(
            (int(row.rank), str(row.title)) for row in _records(changes.decisions_due)
        ),
        decisions=tuple(
            BriefDecision(
                problem=str(row.title),
                decision=str(row.decision),
                note=_text(row.note),
                author=_text(row.author),
                recorded_at=row.created_at,
                superseded=int(row.count) - 1,
            )
            for row in _records(decisions)
        ),
        stale_owners=tuple(
            StaleOwner(
                department=str(row.department),
                heads=tuple(row.heads),
                overdue=int(row.overdue),
                indicators=tuple(row.indicators),
            )
            for row in _records(changes.owners)
        ),
        actor_gaps=tuple(
            actor_gaps(session, [(int(p.problem_id), str(p.title)) for p in _records(top)])
        ),
        attention=attention,
    )
