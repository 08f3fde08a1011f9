"""Read-only queries for the pages: take the session first, return DataFrames or frozen dataclasses.

Nothing here commits or returns live ORM objects. "Latest" means the latest period, and for
one period the latest entry (observations are append-only; a correction is a newer row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.columns import INDICATOR, INDICATOR_TARGETS
from db.frames import as_date, query_frame
from db.lookups import departments as departments
from db.lookups import policy_areas as policy_areas
from db.models import (
    PROBLEM_STATUSES,
    CategoryProblem,
    Decision,
    Department,
    Indicator,
    IndicatorStatusUpdate,
    Observation,
    Problem,
    ProblemIndicator,
    ReportDailyCount,
    User,
)
from triage.indicators import due_by, is_off_target, is_overdue
from triage.vocabulary import PROBLEM_STATUSES_BY_ATTENTION

STATUS_ORDER: dict[str, int] = {
    status: rank for rank, status in enumerate(PROBLEM_STATUSES_BY_ATTENTION)
}

INDICATOR_COLUMNS = [
    *INDICATOR,
    "department_id",
    "department_code",
    "department_name",
    *INDICATOR_TARGETS,
    "latest_period",
    "latest_value",
    "latest_status",
    "latest_note",
    "off_target",
    "overdue",
    "due_by",
]


def _newest_per_indicator(
    session: Session, table: Any, order: tuple, columns: tuple, indicator_filter: list
) -> list:
    """``columns`` of the newest row of ``table`` (by ``order``) for each filtered indicator.

    The newest id per indicator is one walk down the table's index on (indicator_id, ...);
    the rows are then read by primary key. Neither step reads the history (a window function
    over it, or a hash join against it, grows with every row recorded)."""
    newest = (
        select(table.id)
        .where(table.indicator_id == Indicator.id)
        .order_by(*order)
        .limit(1)
        .correlate(Indicator)
        .scalar_subquery()
    )
    ids = [
        i
        for i in session.scalars(select(newest).select_from(Indicator).where(*indicator_filter))
        if i is not None
    ]
    if not ids:
        return []
    return list(session.execute(select(*columns).where(table.id.in_(ids))))


def _latest_observations(session: Session, indicator_filter: list) -> list:
    """(indicator_id, period, value) of each filtered indicator's latest entry, found through
    ``ix_observations_indicator_period``."""
    return _newest_per_indicator(
        session,
        Observation,
        (Observation.period.desc(), Observation.entered_at.desc(), Observation.id.desc()),
        (Observation.indicator_id, Observation.period, Observation.value),
        indicator_filter,
    )


def _latest_statuses(session: Session, indicator_filter: list) -> list:
    """(indicator_id, status, note) of each filtered indicator's latest status update, found
    through ``ix_indicator_status_updates_indicator_at``."""
    return _newest_per_indicator(
        session,
        IndicatorStatusUpdate,
        (IndicatorStatusUpdate.created_at.desc(), IndicatorStatusUpdate.id.desc()),
        (
            IndicatorStatusUpdate.indicator_id,
            IndicatorStatusUpdate.status,
            IndicatorStatusUpdate.note,
        ),
        indicator_filter,
    )


def indicator_status(
    session: Session,
    *,
    today: dt.date,
    department_id: int | None = None,
    indicator_ids: list[int] | None = None,
) -> pd.DataFrame:
    """Indicators with their latest value, status and whether they are off target or overdue.

    Columns: id, code, name, unit, direction, cadence, department_id, department_code,
    department_name, target, warning_threshold, critical_threshold, latest_period (date or
    None), latest_value, latest_status, latest_note, off_target (bool), overdue (bool), due_by
    (date or None). Filtered by department and/or ids when given; ordered by code.
    """
    where: list = []
    if department_id is not None:
        where.append(Indicator.department_id == department_id)
        where.append(Indicator.archived_at.is_(None))  # archived: off the department's list
    if indicator_ids is not None:
        if not indicator_ids:
            return pd.DataFrame(columns=INDICATOR_COLUMNS)
        where.append(Indicator.id.in_(indicator_ids))
    base = query_frame(
        session,
        select(
            *INDICATOR.values(),
            Indicator.department_id,
            Department.code,
            Department.name,
            *INDICATOR_TARGETS.values(),
        )
        .join(Department, Department.id == Indicator.department_id)
        .where(*where)
        .order_by(Indicator.code),
        INDICATOR_COLUMNS[:12],
    )
    latest = {
        row.indicator_id: (row.period, row.value) for row in _latest_observations(session, where)
    }
    statuses = {
        row.indicator_id: (row.status, row.note) for row in _latest_statuses(session, where)
    }
    periods, values, status_col, notes, off, overdue, due = [], [], [], [], [], [], []
    for row in base.itertuples(index=False):
        period, value = latest.get(row.id, (None, None))
        period = as_date(period)
        status, note = statuses.get(row.id, (None, ""))
        periods.append(period)
        values.append(value)
        status_col.append(status)
        notes.append(note or "")
        off.append(is_off_target(value, row.target, row.direction))
        overdue.append(is_overdue(period, row.cadence, today))
        due.append(due_by(period, row.cadence))
    frame = base.assign(
        latest_period=pd.Series(periods, dtype=object),
        latest_value=pd.Series(values, dtype=float),
        latest_status=pd.Series(status_col, dtype=object),
        latest_note=pd.Series(notes, dtype=object),
        off_target=pd.Series(off, dtype=bool),
        overdue=pd.Series(overdue, dtype=bool),
        due_by=pd.Series(due, dtype=object),
    )
    return frame[INDICATOR_COLUMNS]


def department_indicators(session: Session, department_id: int, *, today: dt.date) -> pd.DataFrame:
    """A department's indicators, overdue first (then by due date and code).

    Columns as :func:`indicator_status`.
    """
    frame = indicator_status(session, today=today, department_id=department_id)
    if frame.empty:
        return frame
    frame = frame.assign(_due=frame["due_by"].map(lambda d: d or dt.date.min))
    return (
        frame.sort_values(["overdue", "_due", "code"], ascending=[False, True, True])
        .drop(columns="_due")
        .reset_index(drop=True)
    )


def problem_overview(
    session: Session,
    *,
    today: dt.date,
    policy_area: str | None = None,
    status: str | None = None,
) -> pd.DataFrame:
    """Problems for the home table, the ones needing attention first.

    Columns: id, title, policy_area, status, lead_department (name or None), indicator_count,
    off_target_count, reports_30d (citizen reports in the problem's categories over the last
    30 days, ``today`` included). Filtered by policy area and status when given.
    """
    where = [Problem.archived_at.is_(None)]  # archived problems leave the list
    if policy_area:
        where.append(Problem.policy_area == policy_area)
    if status:
        where.append(Problem.status == status)
    problems = query_frame(
        session,
        select(Problem.id, Problem.title, Problem.policy_area, Problem.status, Department.name)
        .outerjoin(Department, Department.id == Problem.lead_department_id)
        .where(*where),
        ["id", "title", "policy_area", "status", "lead_department"],
    )
    columns = [*problems.columns, "indicator_count", "off_target_count", "reports_30d"]
    if problems.empty:
        return pd.DataFrame(columns=columns)
    ids = [int(i) for i in problems["id"]]
    links = query_frame(
        session,
        select(ProblemIndicator.problem_id, ProblemIndicator.indicator_id)
        .join(Indicator, Indicator.id == ProblemIndicator.indicator_id)
        .where(ProblemIndicator.problem_id.in_(ids), Indicator.archived_at.is_(None)),
        ["problem_id", "indicator_id"],
    )
    indicator_ids = sorted({int(i) for i in links["indicator_id"]})
    status_frame = indicator_status(session, today=today, indicator_ids=indicator_ids)
    off_target = dict(zip(status_frame["id"], status_frame["off_target"], strict=True))
    links = links.assign(off=links["indicator_id"].map(off_target).fillna(False).astype(bool))
    counts = links.groupby("problem_id").agg(
        indicator_count=("indicator_id", "count"), off_target_count=("off", "sum")
    )
    since = today - dt.timedelta(days=29)
    reports = dict(
        session.execute(
            select(CategoryProblem.problem_id, func.coalesce(func.sum(ReportDailyCount.count), 0))
            .join(ReportDailyCount, ReportDailyCount.category_id == CategoryProblem.category_id)
            .where(
                CategoryProblem.problem_id.in_(ids),
                ReportDailyCount.day >= since,
                ReportDailyCount.day <= today,
            )
            .group_by(CategoryProblem.problem_id)
        ).all()
    )
    frame = problems.join(counts, on="id")
    frame = frame.assign(
        indicator_count=frame["indicator_count"].fillna(0).astype(int),
        off_target_count=frame["off_target_count"].fillna(0).astype(int),
        reports_30d=frame["id"].map(lambda i: int(reports.get(i, 0))),
        _order=frame["status"].map(lambda s: STATUS_ORDER.get(s, 9)),
    )
    return (
        frame.sort_values(["_order", "title"])
        .drop(columns="_order")
        .reset_index(drop=True)[columns]
    )


@dataclass(frozen=True)
class HomeKpis:
    """Headline figures for the home page."""

    problems_by_status: tuple[tuple[str, int], ...]
    indicators_total: int
    indicators_overdue: int
    reports_last_7_days: int
    reports_previous_7_days: int


def home_kpis(session: Session, *, today: dt.date) -> HomeKpis:
    """Problems per status (every status, in workflow order), overdue indicators, and citizen
    reports in the last 7 days (``today`` included) against the 7 days before. Archived
    problems and indicators are not counted."""
    counts = dict(
        session.execute(
            select(Problem.status, func.count())
            .where(Problem.archived_at.is_(None))
            .group_by(Problem.status)
        ).all()
    )
    current = session.scalars(select(Indicator.id).where(Indicator.archived_at.is_(None)))
    indicators = indicator_status(session, today=today, indicator_ids=list(current))

    def reports_between(start: dt.date, end: dt.date) -> int:
        total = session.scalar(
            select(func.coalesce(func.sum(ReportDailyCount.count), 0)).where(
                ReportDailyCount.day >= start, ReportDailyCount.day <= end
            )
        )
        return int(total or 0)

    return HomeKpis(
        problems_by_status=tuple((s, int(counts.get(s, 0))) for s in PROBLEM_STATUSES),
        indicators_total=len(indicators),
        indicators_overdue=int(indicators["overdue"].sum()) if len(indicators) else 0,
        reports_last_7_days=reports_between(today - dt.timedelta(days=6), today),
        reports_previous_7_days=reports_between(
            today - dt.timedelta(days=13), today - dt.timedelta(days=7)
        ),
    )


def problem_indicators(session: Session, problem_id: int, *, today: dt.date) -> pd.DataFrame:
    """The indicators linked to a problem, with latest values; columns as :func:`indicator_status`
    plus weight. An archived indicator stays (its history) and its name ends in "(archived)"."""
    rows = session.execute(
        select(ProblemIndicator.indicator_id, ProblemIndicator.weight, Indicator.archived_at)
        .join(Indicator, Indicator.id == ProblemIndicator.indicator_id)
        .where(ProblemIndicator.problem_id == problem_id)
    ).all()
    weights = {int(i): w for i, w, _ in rows}
    archived = {int(i) for i, _, at in rows if at is not None}
    frame = indicator_status(session, today=today, indicator_ids=sorted(weights))
    names = [
        f"{name} (archived)" if int(i) in archived else name
        for i, name in zip(frame["id"], frame["name"], strict=True)
    ]
    return frame.assign(weight=frame["id"].map(weights).astype(float), name=names)


def indicator_histories(session: Session, indicator_ids: list[int]) -> pd.DataFrame:
    """Observation history, one row per indicator and period (the latest entry for a period).

    Columns: indicator_id, period (date), value; ordered by indicator and period.
    """
    columns = ["indicator_id", "period", "value"]
    if not indicator_ids:
        return pd.DataFrame(columns=columns)
    ranked = (
        select(
            Observation.indicator_id,
            Observation.period,
            Observation.value,
            func.row_number()
            .over(
                partition_by=(Observation.indicator_id, Observation.period),
                order_by=(Observation.entered_at.desc(), Observation.id.desc()),
            )
            .label("rank"),
        )
        .where(Observation.indicator_id.in_(indicator_ids))
        .subquery()
    )
    frame = query_frame(
        session,
        select(ranked.c.indicator_id, ranked.c.period, ranked.c.value)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.indicator_id, ranked.c.period),
        columns,
    )
    return frame.assign(period=frame["period"].map(as_date))


def problem_decisions(session: Session, problem_id: int, *, limit: int = 5) -> pd.DataFrame:
    """The most recent weekly decisions on a problem, newest first.

    Columns: id, week, decision, note, author (display name or None), created_at.
    """
    return query_frame(
        session,
        select(
            Decision.id,
            Decision.week,
            Decision.decision,
            Decision.note,
            User.display_name,
            Decision.created_at,
        )
        .outerjoin(User, User.id == Decision.author_id)
        .where(Decision.problem_id == problem_id)
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(limit),
        ["id", "week", "decision", "note", "author", "created_at"],
    )


def recent_observations(session: Session, department_id: int, *, limit: int = 10) -> pd.DataFrame:
    """The latest values entered for a department's indicators, newest entry first.

    Columns: id, indicator_id, indicator_code, indicator_name, unit, period, value,
    entered_by (display name or None), entered_at.
    """
    return query_frame(
        session,
        select(
            Observation.id,
            Observation.indicator_id,
            Indicator.code,
            Indicator.name,
            Indicator.unit,
            Observation.period,
            Observation.value,
            User.display_name,
            Observation.entered_at,
        )
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .outerjoin(User, User.id == Observation.entered_by_id)
        .where(Indicator.department_id == department_id)
        .order_by(Observation.entered_at.desc(), Observation.id.desc())
        .limit(limit),
        [
            "id",
            "indicator_id",
            "indicator_code",
            "indicator_name",
            "unit",
            "period",
            "value",
            "entered_by",
            "entered_at",
        ],
    )


def indicator_department_id(session: Session, indicator_id: int) -> int | None:
    """The department that owns an indicator, or None when there is no such indicator."""
    return session.scalar(select(Indicator.department_id).where(Indicator.id == indicator_id))


def user_display_name(session: Session, user_id: int) -> str | None:
    """A user's display name, or None when there is no such user."""
    return session.scalar(select(User.display_name).where(User.id == user_id))


def count_rows(session: Session, model: type) -> int:
    """How many rows a table holds (used by health checks and tests)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
