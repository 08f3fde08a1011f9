"""Audited configuration writes of the administration page: the category-to-problem mapping.

Each takes the acting principal, requires the CONFIGURE capability, validates its input and
writes an audit row (before and after) in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import math

from sqlalchemy.orm import Session

from db.audit import write_audit
from db.models import CategoryProblem, Problem, ReportCategory
from triage.security import Capability, Principal, require
from triage.validation import ValidationError, parse_value, record_id

__all__ = [
    "MAX_MAPPING_WEIGHT",
    "ValidationError",
    "add_category_mapping",
    "clean_mapping_weight",
    "remove_category_mapping",
    "set_category_mapping_weight",
]

# A mapping weight is the share of a category's reports that speak to the problem: a pothole
# report is wholly about road condition (1.0), a noise report only partly about nightlife.
MAX_MAPPING_WEIGHT = 1.0
ENTITY = "category_problem"


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
