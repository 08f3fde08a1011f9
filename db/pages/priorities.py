"""The weekly priorities page: a week's ranking, its alerts, overdue owners, decisions and what
changed, composed from the entity modules."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.accounts import department_heads
from db.alerts.episodes import active_alert_counts, alert_links, new_in_week, problems_on_alert
from db.alerts.overdue import overdue_indicators
from db.columns import FACTOR
from db.frames import as_number, query_frame, records
from db.models import (
    Actor,
    Alert,
    AuditLog,
    CausalFactor,
    Engagement,
    FactorLink,
    Problem,
    ProblemIndicator,
    ScoreSnapshot,
)
from db.problems import earlier_decisions, week_decisions
from db.scores import RANKED_SCORES, latest_snapshot_week, snapshot_scores
from triage.backward_map import causal_importance, core_sectors_missing
from triage.brief import (
    ActorGap,
)
from triage.page_data import WeekChanges, WeekPriorities
from triage.scoring import movement, ranking_table
from triage.vocabulary import ARCHIVED_MARK, SEVERITY_RANK
from triage.weeks import week_end, week_start

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
    *RANKED_SCORES,
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


def week_as_of(week: str, today: dt.date) -> dt.date:
    """The date a week is ranked as of: its Sunday, or today while the week is running."""
    return min(week_end(week), today)


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
        known = old in SEVERITY_RANK and new in SEVERITY_RANK
        if known and SEVERITY_RANK[new] > SEVERITY_RANK[old] and str(entity_id).isdigit():
            rises.setdefault(int(entity_id), str(old))
    return rises


def week_alerts(session: Session, week: str) -> pd.DataFrame:
    """Alerts that are new this week or escalated in it (an audited update raised their
    severity), not dismissed, most severe first.

    "New" is the one rule of ``db.alerts.episodes.new_in_week`` (the attention list's): first
    detected in the week, about data of the week, not late data. An alert first detected this
    week about a value from months ago is not new (it shows only if it escalated).

    Columns: id, kind, severity, previous_severity (escalations only), state, message,
    first_detected, last_detected, change ("new" or "escalated"), problems (tuple of titles).
    """
    start, end = week_start(week), week_end(week)
    rises = _severity_rises(session, start, end)
    condition = (Alert.first_detected >= start) & (Alert.first_detected <= end)
    if rises:
        condition = condition | Alert.id.in_(sorted(rises))
    columns = [
        "id",
        "kind",
        "severity",
        "state",
        "message",
        "first_detected",
        "last_detected",
        "indicator_id",
    ]
    frame = query_frame(
        session,
        select(
            Alert.id,
            Alert.kind,
            Alert.severity,
            Alert.state,
            Alert.message,
            Alert.first_detected,
            Alert.last_detected,
            Alert.indicator_id,
        ).where(condition, Alert.state != "dismissed"),
        columns,
    )
    if frame.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    is_new = pd.Series(new_in_week(session, frame, week), index=frame.index, dtype=bool)
    frame = frame[is_new | frame["id"].isin(list(rises))]
    is_new = is_new[frame.index]
    if frame.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
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
    frame = frame.assign(_order=frame["severity"].map(SEVERITY_RANK).fillna(0))
    frame = frame.sort_values(["_order", "first_detected", "id"], ascending=[False, False, True])
    return frame.reset_index(drop=True)[ALERT_COLUMNS]


def overdue_by_owner(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Indicators overdue on ``as_of`` (``db.alerts.overdue.overdue_indicators``: never reported, or
    the latest period up to ``as_of`` older than the cadence allows; archived ones left out),
    by department name and code.

    Columns: id, code, name, cadence, department_id, department, latest_period (date or None).
    """
    frame = overdue_indicators(session, as_of).rename(columns={"department_name": "department"})
    frame = frame.sort_values("department", kind="stable")  # by code within a department
    return frame.reset_index(drop=True)[OVERDUE_COLUMNS]


def stale_owners(overdue: pd.DataFrame, heads: dict[int, list[str]]) -> pd.DataFrame:
    """Overdue indicators grouped by the department that owns them, most overdue first.

    In: :func:`overdue_by_owner` and :func:`db.accounts.department_heads`. Out: department_id,
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
    links = query_frame(
        session,
        select(ProblemIndicator.problem_id, ProblemIndicator.indicator_id).where(
            ProblemIndicator.indicator_id.in_(ids)
        ),
        ["problem_id", "indicator_id"],
    )
    return links.groupby("problem_id")["indicator_id"].nunique().astype("int64")


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


def _lookup(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` looked up by problem id, as plain objects with None where there is none."""
    mapping = {int(k): v for k, v in values.items()}
    return pd.Series([mapping.get(int(i)) for i in ids], index=ids.index, dtype=object)


def _empty_ranking() -> pd.DataFrame:
    return pd.DataFrame(columns=RANKING_COLUMNS)


LIGHT_SNAPSHOT_COLUMNS = [
    "problem_id",
    "title",
    *RANKED_SCORES,
    "explanation",
    "people",
    "reports_adjusted",
    "worsening",
    "computed_at",
]


def week_snapshot(session: Session, week: str) -> pd.DataFrame:
    """A stored week by rank, with the three facts the page needs read out of the components
    JSON in the database (people affected, adjusted reports, the worsening part), not the
    whole JSON. Columns: :data:`LIGHT_SNAPSHOT_COLUMNS`; a stored week is history, so a
    problem archived since keeps its place and its title ends in "(archived)"."""
    components = ScoreSnapshot.components
    frame = query_frame(
        session,
        select(
            ScoreSnapshot.problem_id,
            Problem.title,
            *snapshot_scores(),
            ScoreSnapshot.explanation,
            components[("facts", "population")].as_float(),
            components[("facts", "reports_adjusted")].as_float(),
            components[("importance", "worsening", "value")].as_float(),
            components[("importance", "worsening", "low")].as_float(),
            components[("importance", "worsening", "high")].as_float(),
            ScoreSnapshot.computed_at,
            Problem.archived_at,
        )
        .join(Problem, Problem.id == ScoreSnapshot.problem_id)
        .where(ScoreSnapshot.week == week)
        .order_by(ScoreSnapshot.rank, ScoreSnapshot.problem_id),
        [
            *(c for c in LIGHT_SNAPSHOT_COLUMNS if c != "computed_at"),
            "worsening_low",
            "worsening_high",
            "computed_at",
            "archived_at",
        ],
    )
    # A worsening the scoring assumed (no indicator with a trend: stored as the typical value
    # with the range [0, 1]) is unknown, not a trend: the chart must not call it worsening.
    assumed = (frame["worsening_low"] == 0.0) & (frame["worsening_high"] == 1.0)
    frame["worsening"] = frame["worsening"].astype(object).where(~assumed, None)
    frame["title"] = [
        title if pd.isna(archived) else f"{title}{ARCHIVED_MARK}"
        for title, archived in zip(frame["title"], frame["archived_at"], strict=True)
    ]
    return frame[LIGHT_SNAPSHOT_COLUMNS]


def _week_ranks(session: Session, week: str) -> pd.DataFrame:
    """problem_id, rank and importance of a stored week (what movement and trend compare)."""
    return query_frame(
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
    overdue = overdue_by_owner(session, as_of)
    owners = stale_owners(overdue, department_heads(session))
    alerts = week_alerts(session, week)
    on_alert = problems_on_alert(session)
    if snapshot.empty:
        return WeekPriorities(
            week, as_of, previous_week, None, _empty_ranking(), alerts, overdue, owners, on_alert
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
        trend_of(as_number(w), as_number(c))
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
        on_alert=on_alert,
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


def actor_gaps(session: Session, problems: Sequence[tuple[int, str]]) -> list[ActorGap]:
    """Per problem: causal factors nobody is engaged on (most causally important first, as on
    its backward map) and the core sectors with no allied actor engaged on it.

    The same rules as ``triage.backward_map.backward_map``, computed for all the problems in
    one pass (a map with a loop is read flat, and says so).
    """
    ids = [int(p) for p, _ in problems]
    if not ids:
        return []
    factors = query_frame(
        session,
        select(*FACTOR.values()).where(CausalFactor.problem_id.in_(ids)),
        list(FACTOR),
    )
    links = query_frame(
        session,
        select(FactorLink.factor_id, FactorLink.parent_id)
        .join(CausalFactor, CausalFactor.id == FactorLink.factor_id)
        .where(CausalFactor.problem_id.in_(ids)),
        ["factor_id", "parent_id"],
    )
    engagements = query_frame(
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
            for row in records(own)
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
                missing_sectors=core_sectors_missing(present),
                note=note,
            )
        )
    return gaps
