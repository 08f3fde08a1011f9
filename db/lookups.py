"""The city's reference lists (departments, districts, report categories, problems, policy
areas) for filters and forms: each read once here, used by every page's queries."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.frames import query_frame
from db.models import CategoryProblem, Department, District, Problem, ReportCategory

__all__ = ["categories", "departments", "districts", "policy_areas", "problems"]


def departments(session: Session, *, archived: bool = False) -> pd.DataFrame:
    """Departments not archived (all with ``archived``). Columns: id, code, name; by name."""
    statement = select(Department.id, Department.code, Department.name)
    if not archived:
        statement = statement.where(Department.archived_at.is_(None))
    return query_frame(session, statement.order_by(Department.name), ["id", "code", "name"])


def districts(session: Session, *, geometry: bool = False) -> pd.DataFrame:
    """All districts. Columns: id, code, name, population, need_index [, geometry]; by code."""
    columns = [District.id, District.code, District.name, District.population, District.need_index]
    names = ["id", "code", "name", "population", "need_index"]
    if geometry:
        columns.append(District.geometry)
        names.append("geometry")
    return query_frame(session, select(*columns).order_by(District.code), names)


def categories(session: Session) -> pd.DataFrame:
    """All report categories. Columns: id, code, name; ordered by name."""
    return query_frame(
        session,
        select(ReportCategory.id, ReportCategory.code, ReportCategory.name).order_by(
            ReportCategory.name, ReportCategory.id
        ),
        ["id", "code", "name"],
    )


def problems(
    session: Session, *, mapped_only: bool = False, archived: bool = False
) -> pd.DataFrame:
    """Problems not archived (all with ``archived``), or with ``mapped_only`` those with at
    least one report category mapped.

    Columns: id, title, policy_area; ordered by title.
    """
    statement = select(Problem.id, Problem.title, Problem.policy_area)
    if not archived:
        statement = statement.where(Problem.archived_at.is_(None))
    if mapped_only:
        statement = statement.where(Problem.id.in_(select(CategoryProblem.problem_id)))
    return query_frame(
        session, statement.order_by(Problem.title, Problem.id), ["id", "title", "policy_area"]
    )


def policy_areas(session: Session) -> list[str]:
    """The distinct policy areas problems use, sorted (a new problem picks one of them)."""
    return sorted(a for a in session.scalars(select(Problem.policy_area).distinct()) if a)
