"""Read-only queries for the administration page: category mapping, data sources, job runs.

Functions take the session first, return DataFrames and never commit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from db.frames import query_frame
from db.models import (
    CategoryProblem,
    DataSource,
    Department,
    JobRun,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from db.queries_priorities import ARCHIVED_MARK

# How far back the mapping tab counts reports, so that busy unmapped categories stand out.
MAPPING_REPORT_DAYS = 90

MAPPING_COLUMNS = [
    "category_id",
    "code",
    "name",
    "department",
    "reports_recent",
    "problem_id",
    "problem_title",
    "problem_status",
    "weight",
]


def category_mappings(session: Session, *, today: dt.date) -> pd.DataFrame:
    """Every report category with the problems it is mapped to, unmapped categories first.

    Columns: category_id, code, name, department (name or None), reports_recent (reports in
    the ``MAPPING_REPORT_DAYS`` days ending ``today``), problem_id, problem_title,
    problem_status, weight (the last four None for an unmapped category; an archived
    problem's title ends in "(archived)"). One row per
    mapping, one row per unmapped category; unmapped first (busiest first), then by category
    name and problem title.
    """
    since = today - dt.timedelta(days=MAPPING_REPORT_DAYS - 1)
    recent = dict(
        session.execute(
            select(ReportDailyCount.category_id, func.sum(ReportDailyCount.count))
            .where(ReportDailyCount.day >= since, ReportDailyCount.day <= today)
            .group_by(ReportDailyCount.category_id)
        ).all()
    )
    frame = query_frame(
        session,
        select(
            ReportCategory.id,
            ReportCategory.code,
            ReportCategory.name,
            Department.name,
            CategoryProblem.problem_id,
            Problem.title,
            Problem.status,
            CategoryProblem.weight,
            Problem.archived_at,
        )
        .outerjoin(Department, Department.id == ReportCategory.department_id)
        .outerjoin(CategoryProblem, CategoryProblem.category_id == ReportCategory.id)
        .outerjoin(Problem, Problem.id == CategoryProblem.problem_id),
        [
            "category_id",
            "code",
            "name",
            "department",
            "problem_id",
            "problem_title",
            "problem_status",
            "weight",
            "archived_at",
        ],
    )
    if frame.empty:
        return pd.DataFrame(columns=MAPPING_COLUMNS)
    frame = frame.assign(
        problem_title=[  # a mapping to an archived problem is kept and says so
            t if pd.isna(a) else f"{t}{ARCHIVED_MARK}"
            for t, a in zip(frame["problem_title"], frame["archived_at"], strict=True)
        ],
        reports_recent=frame["category_id"].map(lambda c: int(recent.get(int(c), 0))),
        _unmapped=frame["problem_id"].isna(),
        _title=frame["problem_title"].fillna(""),
    )
    frame = frame.assign(
        _busy=frame["reports_recent"].where(frame["_unmapped"], 0),
    ).sort_values(
        ["_unmapped", "_busy", "name", "category_id", "_title"],
        ascending=[False, False, True, True, True],
    )
    return frame.reset_index(drop=True)[MAPPING_COLUMNS]


def mapping_choices(session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Options of the mapping form: categories (id, code, name; by name) and problems (id,
    title, status; by title)."""
    categories = query_frame(
        session,
        select(ReportCategory.id, ReportCategory.code, ReportCategory.name).order_by(
            ReportCategory.name, ReportCategory.id
        ),
        ["id", "code", "name"],
    )
    problems = query_frame(
        session,
        select(Problem.id, Problem.title, Problem.status)
        .where(Problem.archived_at.is_(None))
        .order_by(Problem.title, Problem.id),
        ["id", "title", "status"],
    )
    return categories, problems


def data_sources(session: Session) -> pd.DataFrame:
    """Every data source. Columns: id, name, kind, url, active, poll_minutes, cursor,
    last_attempt_at, last_success_at, last_error, created_at; ordered by name."""
    return query_frame(
        session,
        select(
            DataSource.id,
            DataSource.name,
            DataSource.kind,
            DataSource.url,
            DataSource.active,
            DataSource.poll_minutes,
            DataSource.cursor,
            DataSource.last_attempt_at,
            DataSource.last_success_at,
            DataSource.last_error,
            DataSource.created_at,
        ).order_by(DataSource.name),
        [
            "id",
            "name",
            "kind",
            "url",
            "active",
            "poll_minutes",
            "cursor",
            "last_attempt_at",
            "last_success_at",
            "last_error",
            "created_at",
        ],
    )


def last_job_runs(session: Session) -> pd.DataFrame:
    """The latest run of every job that ever ran, with its run count and last success.

    Columns: job_id, runs, started_at, finished_at, outcome, rows, error (of the latest run),
    last_success_at (finish of the latest successful run, or None); ordered by job_id.
    """
    summary = (
        select(
            JobRun.job_id.label("job_id"),
            func.count().label("runs"),
            func.max(JobRun.started_at).label("latest"),
        )
        .group_by(JobRun.job_id)
        .subquery()
    )
    success = (
        select(JobRun.job_id.label("job_id"), func.max(JobRun.finished_at).label("at"))
        .where(JobRun.outcome == "success")
        .group_by(JobRun.job_id)
        .subquery()
    )
    frame = query_frame(
        session,
        select(
            JobRun.job_id,
            summary.c.runs,
            JobRun.started_at,
            JobRun.finished_at,
            JobRun.outcome,
            JobRun.rows,
            JobRun.error,
            success.c.at,
            JobRun.id,
        )
        .join(
            summary,
            and_(summary.c.job_id == JobRun.job_id, summary.c.latest == JobRun.started_at),
        )
        .outerjoin(success, success.c.job_id == JobRun.job_id)
        .order_by(JobRun.job_id, JobRun.id.desc()),
        [
            "job_id",
            "runs",
            "started_at",
            "finished_at",
            "outcome",
            "rows",
            "error",
            "last_success_at",
            "id",
        ],
    )
    # Two runs started in the same instant: keep the newer row.
    frame = frame.drop_duplicates("job_id", keep="first")
    return frame.drop(columns="id").reset_index(drop=True)


def mapping_weight(session: Session, category_id: int, problem_id: int) -> float | None:
    """The weight of one category-to-problem mapping, or None when there is no such mapping."""
    value = session.scalar(
        select(CategoryProblem.weight).where(
            CategoryProblem.category_id == category_id, CategoryProblem.problem_id == problem_id
        )
    )
    return float(value) if value is not None else None
