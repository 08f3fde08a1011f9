"""What the home page shows: the problems table and the headline figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.frames import query_frame
from db.indicators import indicator_status
from db.models import (
    PROBLEM_STATUSES,
    CategoryProblem,
    Department,
    Indicator,
    Problem,
    ProblemIndicator,
    ReportDailyCount,
)
from triage.vocabulary import PROBLEM_STATUS_RANK


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
        _order=frame["status"].map(lambda s: PROBLEM_STATUS_RANK.get(s, 9)),
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
