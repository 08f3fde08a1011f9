"""Scores: the inputs the scoring reads, the weights, and the weekly snapshots of the ranking."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Select, and_, case, delete, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from db.audit import write_audit
from db.columns import ENGAGEMENT, FACTOR, INDICATOR, INDICATOR_TARGETS
from db.frames import query_frame
from db.models import (
    Actor,
    AppSetting,
    CategoryProblem,
    CausalFactor,
    District,
    Engagement,
    FactorLink,
    Indicator,
    IndicatorStatusUpdate,
    Innovation,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportDailyCount,
    ScoreSnapshot,
    utcnow,
)
from triage.scoring import (
    CADENCE_DAYS,
    CONCERN_WINDOW_DAYS,
    OVERDUE_PERIODS,
    PROPENSITY_WINDOW_DAYS,
    STALE_FADE_PERIODS,
    TREND_POINTS,
    ScoringInputs,
    ScoringWeights,
)
from triage.security import Capability, Principal, require
from triage.vocabulary import OPEN_PROBLEM_STATUSES

# A stored week's scores for a problem, in the order every read of snapshots selects them.
RANKED_SCORES = (
    "rank",
    "priority",
    "priority_low",
    "priority_high",
    "importance",
    "tractability",
    "neglectedness",
    "confidence",
)

SNAPSHOT_COLUMNS = [
    "problem_id",
    "title",
    *RANKED_SCORES,
    "components",
    "explanation",
    "computed_at",
]

SCORE_FIELDS = (
    "importance",
    "tractability",
    "neglectedness",
    "priority",
    "priority_low",
    "priority_high",
    "confidence",
)


def _datetimes(values: pd.Series) -> pd.Series:
    """datetime64 from what drivers return for dates: ISO text (SQLite) or date objects."""
    if values.empty:
        return pd.Series(values.to_numpy(dtype="datetime64[ns]"), index=values.index)
    sample = values.dropna()
    if len(sample) and isinstance(sample.iloc[0], str):
        return pd.to_datetime(values, format="ISO8601")
    return pd.to_datetime(values)


def read_frame(
    session: Session, statement: Select, columns: Sequence[str], *, dates: Sequence[str] = ()
) -> pd.DataFrame:
    """The rows of ``statement`` as a DataFrame, for reads of hundreds of thousands of rows.

    Rows come straight from the driver's cursor as tuples: no ``Row`` object and no type
    conversion per value, which is most of the cost of a large read through SQLAlchemy. So
    only plain numbers, text and NULLs come back as such; the ``dates`` columns (dates or
    datetimes) are converted in one vectorised step to datetime64. Not for JSON columns.
    """
    result = session.connection().execute(statement)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    frame = pd.DataFrame.from_records(rows, columns=list(columns), nrows=len(rows))
    for name in dates:
        frame[name] = _datetimes(frame[name])
    return frame


def _observations(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Observations the trend and the latest value need, not the whole history.

    Per cadence, the periods within reach of the last ``TREND_POINTS`` on-time observations
    plus the overdue allowance; for an indicator with nothing that recent (or of an unknown
    cadence), its latest period, so a stale indicator still shows its last value and is
    marked stale. One query: each indicator's first period to read (the earlier of its
    window's start and its latest period) is worked out first, in a materialised CTE so that
    the planner then seeks ``ix_observations_indicator_period`` once per indicator instead
    of scanning the whole history.
    """
    reach = TREND_POINTS + OVERDUE_PERIODS + STALE_FADE_PERIODS
    window_start = case(
        *(
            (Indicator.cadence == cadence, as_of - dt.timedelta(days=reach * days))
            for cadence, days in CADENCE_DAYS.items()
        ),
        else_=None,
    )
    known = aliased(Observation)
    latest_period = (
        select(func.max(known.period))
        .where(known.indicator_id == Indicator.id, known.period <= as_of)
        .scalar_subquery()
    )
    starts = (
        select(
            Indicator.id.label("indicator_id"),
            case(
                (window_start.is_(None), latest_period),
                (latest_period < window_start, latest_period),
                else_=window_start,
            ).label("start"),
        )
        .cte("observation_starts")
        .prefix_with("MATERIALIZED")
    )
    frame = read_frame(
        session,
        select(
            Observation.id,
            Observation.indicator_id,
            Observation.period,
            Observation.value,
            Observation.entered_at,
        )
        .select_from(starts)
        .join(
            Observation,
            and_(
                Observation.indicator_id == starts.c.indicator_id,
                Observation.period >= starts.c.start,
                Observation.period <= as_of,
            ),
        ),
        ["id", "indicator_id", "period", "value", "entered_at"],
        dates=["period", "entered_at"],
    )
    return frame.sort_values(["indicator_id", "period", "entered_at", "id"]).reset_index(drop=True)


def _latest_status_updates(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Each indicator's latest status update made on or before ``as_of``."""
    until = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    ranked = (
        select(
            IndicatorStatusUpdate.indicator_id.label("indicator_id"),
            IndicatorStatusUpdate.status.label("status"),
            IndicatorStatusUpdate.created_at.label("created_at"),
            func.row_number()
            .over(
                partition_by=IndicatorStatusUpdate.indicator_id,
                order_by=(IndicatorStatusUpdate.created_at.desc(), IndicatorStatusUpdate.id.desc()),
            )
            .label("position"),
        )
        .where(IndicatorStatusUpdate.created_at < until)
        .subquery()
    )
    return query_frame(
        session,
        select(ranked.c.indicator_id, ranked.c.status, ranked.c.created_at)
        .where(ranked.c.position == 1)
        .order_by(ranked.c.indicator_id),
        ["indicator_id", "status", "created_at"],
    )


def _report_counts(session: Session, as_of: dt.date) -> pd.DataFrame:
    """The year of ``report_daily_counts`` the scoring reads, summed in the database.

    Each (category, district) becomes at most two rows: the last ``CONCERN_WINDOW_DAYS``
    days dated ``as_of``, and the rest of the year dated ``as_of − CONCERN_WINDOW_DAYS``.
    Those are exactly the windows the scoring sums over, so the result is the same as
    loading every day, at a few thousand rows instead of hundreds of thousands.
    """
    year_start = as_of - dt.timedelta(days=PROPENSITY_WINDOW_DAYS)
    concern_start = as_of - dt.timedelta(days=CONCERN_WINDOW_DAYS)
    # Grouped through a subquery: PostgreSQL does not match a CASE with bound parameters in
    # GROUP BY to the same CASE in the select list.
    daily = (
        select(
            ReportDailyCount.category_id.label("category_id"),
            ReportDailyCount.district_id.label("district_id"),
            case((ReportDailyCount.day > concern_start, 1), else_=0).label("recent"),
            ReportDailyCount.count.label("count"),
        )
        .where(ReportDailyCount.day > year_start, ReportDailyCount.day <= as_of)
        .subquery()
    )
    keys = (daily.c.category_id, daily.c.district_id, daily.c.recent)
    rows = query_frame(
        session,
        select(*keys, func.sum(daily.c.count)).group_by(*keys).order_by(*keys),
        ["category_id", "district_id", "recent", "count"],
    )
    day = [as_of if recent else concern_start for recent in rows["recent"]]
    return pd.DataFrame(
        {
            "day": pd.Series(day, dtype=object),
            "category_id": rows["category_id"].astype("int64"),
            "district_id": rows["district_id"].astype("int64"),
            "count": rows["count"].astype("int64"),
        }
    )


def _links_frame(session: Session, first: Any, second: Any) -> pd.DataFrame:
    """The two columns of a link table, ordered by both, in columns named after them."""
    return query_frame(
        session, select(first, second).order_by(first, second), [first.key, second.key]
    )


def load_scoring_inputs(session: Session, as_of: dt.date) -> ScoringInputs:
    """Everything ``score_problems`` needs as of a date, as DataFrames (see ``COLUMNS``).

    Problems are those not resolved; observations and status updates later than ``as_of``
    are left out, and citizen reports come from the ``report_daily_counts`` aggregate only.
    Archived records leave the ranking: archived problems are not scored, a problem's links
    to archived indicators are left out, and archived actors and their engagements with them.
    """
    problems = query_frame(
        session,
        select(
            Problem.id,
            Problem.title,
            Problem.status,
            Problem.policy_area,
            Problem.political_capital,
            Problem.authority,
        )
        .where(Problem.status.in_(OPEN_PROBLEM_STATUSES), Problem.archived_at.is_(None))
        .order_by(Problem.id),
        ["id", "title", "status", "policy_area", "political_capital", "authority"],
    )
    return ScoringInputs(
        problems=problems,
        problem_districts=_links_frame(
            session, ProblemDistrict.problem_id, ProblemDistrict.district_id
        ),
        districts=query_frame(
            session,
            select(
                District.id,
                District.code,
                District.name,
                District.population,
                District.median_household_income,
                District.need_index,
            ).order_by(District.id),
            ["id", "code", "name", "population", "median_household_income", "need_index"],
        ),
        indicators=query_frame(
            session,
            select(*INDICATOR.values(), *INDICATOR_TARGETS.values()).order_by(Indicator.id),
            [*INDICATOR, *INDICATOR_TARGETS],
        ),
        problem_indicators=query_frame(
            session,
            select(
                ProblemIndicator.problem_id, ProblemIndicator.indicator_id, ProblemIndicator.weight
            )
            .join(Indicator, Indicator.id == ProblemIndicator.indicator_id)
            .where(Indicator.archived_at.is_(None))
            .order_by(ProblemIndicator.problem_id, ProblemIndicator.indicator_id),
            ["problem_id", "indicator_id", "weight"],
        ),
        observations=_observations(session, as_of),
        status_updates=_latest_status_updates(session, as_of),
        report_counts=_report_counts(session, as_of),
        category_problems=query_frame(
            session,
            select(
                CategoryProblem.category_id, CategoryProblem.problem_id, CategoryProblem.weight
            ).order_by(CategoryProblem.problem_id, CategoryProblem.category_id),
            ["category_id", "problem_id", "weight"],
        ),
        factors=query_frame(
            session,
            select(*FACTOR.values()).order_by(CausalFactor.id),
            list(FACTOR),
        ),
        factor_links=_links_frame(session, FactorLink.factor_id, FactorLink.parent_id),
        actors=query_frame(
            session,
            select(Actor.id, Actor.name, Actor.sector)
            .where(Actor.archived_at.is_(None))
            .order_by(Actor.id),
            ["id", "name", "sector"],
        ),
        engagements=query_frame(
            session,
            select(*ENGAGEMENT.values())
            .join(Actor, Actor.id == Engagement.actor_id)
            .where(Actor.archived_at.is_(None))
            .order_by(Engagement.id),
            list(ENGAGEMENT),
        ),
        innovations=query_frame(
            session,
            select(
                Innovation.id,
                Innovation.problem_id,
                Innovation.title,
                Innovation.origin,
                Innovation.kind,
                Innovation.stage,
                Innovation.evidence,
            ).order_by(Innovation.id),
            ["id", "problem_id", "title", "origin", "kind", "stage", "evidence"],
        ),
    )


def load_weights(session: Session) -> ScoringWeights:
    """The stored scoring weights, or the defaults when none are stored."""
    value = session.scalar(select(AppSetting.value).where(AppSetting.key == ScoringWeights.KEY))
    return ScoringWeights.from_dict(value)


def _jsonable(value: Any) -> Any:
    """Plain JSON types only (numpy scalars and NaN would not survive every backend)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, float) and not math.isfinite(number):
            return None
        return number
    return str(value)


def _plain_json(value: Any) -> Any:
    """``value`` when it already is plain JSON (as ``score_problems`` builds it), else cleaned.

    The C encoder checks a few hundred values far faster than walking them in Python.
    """
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return _jsonable(value)
    if isinstance(value, dict) and not all(isinstance(k, str) for k in value):
        return _jsonable(value)
    return value


def save_snapshot(session: Session, week: str, scores: pd.DataFrame) -> None:
    """Store ``scores`` (``score_problems`` output) as the snapshot of ``week``.

    Upserts one row per problem; rows of that week for problems no longer scored are deleted,
    so the stored week is exactly the latest computation. Written in bulk (one insert, one
    update and one delete statement, each for many rows). Flushes, never commits.
    """
    session.flush()
    existing = dict(
        session.execute(
            select(ScoreSnapshot.problem_id, ScoreSnapshot.id).where(ScoreSnapshot.week == week)
        ).all()
    )
    now = utcnow()
    seen: set[int] = set()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row in scores.to_dict("records"):
        problem_id = int(row["problem_id"])
        seen.add(problem_id)
        values: dict[str, Any] = {name: float(row[name]) for name in SCORE_FIELDS}
        values.update(
            rank=int(row["rank"]),
            components=_plain_json(row.get("components") or {}),
            explanation=str(row.get("explanation") or ""),
            computed_at=now,
        )
        if problem_id in existing:
            updates.append({"id": existing[problem_id], **values})
        else:
            inserts.append({"week": week, "problem_id": problem_id, **values})
    if inserts:
        session.execute(insert(ScoreSnapshot), inserts)
    if updates:
        session.execute(update(ScoreSnapshot), updates)
    gone = [snapshot_id for problem_id, snapshot_id in existing.items() if problem_id not in seen]
    if gone:
        session.execute(delete(ScoreSnapshot).where(ScoreSnapshot.id.in_(gone)))
    session.flush()


def snapshot_scores() -> list[Any]:
    """The columns of :data:`RANKED_SCORES` in ``score_snapshots``, to unpack into a select."""
    return [getattr(ScoreSnapshot, name) for name in RANKED_SCORES]


def load_snapshot(session: Session, week: str) -> pd.DataFrame:
    """The stored snapshot of ``week`` ordered by rank (empty when the week was not scored).

    Columns: problem_id, title, rank, priority, priority_low, priority_high, importance,
    tractability, neglectedness, confidence, components (dict), explanation, computed_at.
    """
    return query_frame(
        session,
        select(
            ScoreSnapshot.problem_id,
            Problem.title,
            *snapshot_scores(),
            ScoreSnapshot.components,
            ScoreSnapshot.explanation,
            ScoreSnapshot.computed_at,
        )
        .join(Problem, Problem.id == ScoreSnapshot.problem_id)
        .where(ScoreSnapshot.week == week)
        .order_by(ScoreSnapshot.rank, ScoreSnapshot.problem_id),
        SNAPSHOT_COLUMNS,
    )


def latest_snapshot_week(session: Session, before: str | None = None) -> str | None:
    """The most recent week with a stored snapshot, strictly before ``before`` when given.

    ISO weeks like ``2026-W07`` sort as text, so the comparison happens in the database.
    """
    statement = select(func.max(ScoreSnapshot.week))
    if before is not None:
        statement = statement.where(ScoreSnapshot.week < before)
    return session.scalar(statement)


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


@dataclass(frozen=True)
class ProblemScore:
    """The problem's row of a stored weekly snapshot (``components`` as ``score_problems``)."""

    week: str
    rank: int
    ranked: int  # how many problems that week's snapshot ranks
    priority: float
    priority_low: float
    priority_high: float
    importance: float
    tractability: float
    neglectedness: float
    confidence: float
    components: dict[str, Any]
    explanation: str
    computed_at: dt.datetime | None

    @property
    def reports(self) -> tuple[float, float] | None:
        """Citizen reports in the 90 days the week was scored over, (raw, adjusted), as the
        ranking counted them (categories weighted by how much they concern the problem): the
        one figure the overview, the reports tab and the priorities table show. None when the
        snapshot has no report facts."""
        facts = self.components.get("facts") or {}
        raw, adjusted = facts.get("reports_raw"), facts.get("reports_adjusted")
        if raw is None or adjusted is None:
            return None
        return float(raw), float(adjusted)


def problem_score(session: Session, problem_id: int, week: str) -> ProblemScore | None:
    """The problem's score in the snapshot of ``week``, or None when it is not in it."""
    row = session.execute(
        select(
            ScoreSnapshot.week,
            *snapshot_scores(),
            ScoreSnapshot.components,
            ScoreSnapshot.explanation,
            ScoreSnapshot.computed_at,
        ).where(ScoreSnapshot.week == week, ScoreSnapshot.problem_id == problem_id)
    ).first()
    if row is None:
        return None
    ranked = session.scalar(
        select(func.count()).select_from(ScoreSnapshot).where(ScoreSnapshot.week == week)
    )
    return ProblemScore(
        week=row[0],
        rank=int(row[1]),
        ranked=int(ranked or 0),
        priority=float(row[2]),
        priority_low=float(row[3]),
        priority_high=float(row[4]),
        importance=float(row[5]),
        tractability=float(row[6]),
        neglectedness=float(row[7]),
        confidence=float(row[8]),
        components=dict(row[9] or {}),
        explanation=row[10] or "",
        computed_at=row[11],
    )
