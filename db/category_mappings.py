"""Which report categories count towards which problem, and with what weight: the admin's table and
its audited edits."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.frames import query_frame
from db.models import (
    CategoryProblem,
    Department,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from triage.security import Capability, Principal, require
from triage.validation import ValidationError, parse_value, record_id
from triage.vocabulary import ARCHIVED_MARK

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

# A mapping weight is the share of a category's reports that speak to the problem: a pothole
# report is wholly about road condition (1.0), a noise report only partly about nightlife.
MAX_MAPPING_WEIGHT = 1.0
ENTITY = "category_problem"


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


def mapping_weight(session: Session, category_id: int, problem_id: int) -> float | None:
    """The weight of one category-to-problem mapping, or None when there is no such mapping."""
    value = session.scalar(
        select(CategoryProblem.weight).where(
            CategoryProblem.category_id == category_id, CategoryProblem.problem_id == problem_id
        )
    )
    return float(value) if value is not None else None


def clean_mapping_weight(raw: object) -> float:
    """A weight in (0, 1], from a number or text such as ``"0.5"``."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError("Enter a weight between 0 and 1 (for example 0.5).")
    try:
        value = parse_value(raw)
    except ValidationError:
        raise ValidationError("The weight must be a number between 0 and 1.") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_MAPPING_WEIGHT:
        raise ValidationError(
            "The weight must be above 0 and at most 1: the share of the category's reports "
            "that speak to the problem."
        )
    return round(value, 4)


def _category_and_problem(
    session: Session, category_id: object, problem_id: object
) -> tuple[ReportCategory, Problem]:
    category = session.get(ReportCategory, record_id(category_id, "a category"))
    if category is None:
        raise ValidationError(f"There is no report category with id {category_id}.")
    problem = session.get(Problem, record_id(problem_id, "a problem"))
    if problem is None:
        raise ValidationError(f"There is no problem with id {problem_id}.")
    return category, problem


def _describe(category: ReportCategory, problem: Problem, weight: float) -> dict[str, object]:
    return {
        "category_id": category.id,
        "category_code": category.code,
        "problem_id": problem.id,
        "problem_title": problem.title,
        "weight": weight,
    }


def add_category_mapping(
    session: Session, actor: Principal, category_id: object, problem_id: object, weight: object
) -> None:
    """Map a report category to a problem with a weight in (0, 1].

    Raises ``PermissionDenied`` without CONFIGURE and ``ValidationError`` for an unknown
    category or problem, a bad weight, or a mapping that already exists.
    """
    require(actor, Capability.CONFIGURE)
    category, problem = _category_and_problem(session, category_id, problem_id)
    clean = clean_mapping_weight(weight)
    if session.get(CategoryProblem, (category.id, problem.id)) is not None:
        raise ValidationError(
            f"“{category.name}” is already mapped to “{problem.title}”: change its weight instead."
        )
    session.add(CategoryProblem(category_id=category.id, problem_id=problem.id, weight=clean))
    session.flush()
    after = _describe(category, problem, clean)
    write_audit(session, actor, "create", ENTITY, f"{category.id}:{problem.id}", after=after)


def set_category_mapping_weight(
    session: Session, actor: Principal, category_id: object, problem_id: object, weight: object
) -> None:
    """Change the weight of an existing mapping; an unchanged weight writes nothing."""
    require(actor, Capability.CONFIGURE)
    category, problem = _category_and_problem(session, category_id, problem_id)
    clean = clean_mapping_weight(weight)
    mapping = session.get(CategoryProblem, (category.id, problem.id))
    if mapping is None:
        raise ValidationError(f"“{category.name}” is not mapped to “{problem.title}”.")
    before = float(mapping.weight)
    if math.isclose(before, clean):
        return
    mapping.weight = clean
    session.flush()
    write_audit(
        session,
        actor,
        "update",
        ENTITY,
        f"{category.id}:{problem.id}",
        before=_describe(category, problem, before),
        after=_describe(category, problem, clean),
    )


def remove_category_mapping(
    session: Session, actor: Principal, category_id: object, problem_id: object
) -> None:
    """Remove a mapping (the category's reports stop counting towards the problem)."""
    require(actor, Capability.CONFIGURE)
    category, problem = _category_and_problem(session, category_id, problem_id)
    mapping = session.get(CategoryProblem, (category.id, problem.id))
    if mapping is None:
        raise ValidationError(f"“{category.name}” is not mapped to “{problem.title}”.")
    before = _describe(category, problem, float(mapping.weight))
    session.delete(mapping)
    session.flush()
    write_audit(session, actor, "delete", ENTITY, f"{category.id}:{problem.id}", before=before)
