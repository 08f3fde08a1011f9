"""Small hand-made rows for database tests (the demo city is tested on its own)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from db.models import Department, Indicator, Problem, User
from triage.security import Principal, Role, hash_password

PASSWORD = "correct-horse-battery-staple"


@dataclass(frozen=True)
class World:
    parks_id: int
    works_id: int
    parks_indicator_id: int
    works_indicator_id: int
    problem_id: int
    head_parks: Principal
    chief: Principal


def make_world(session: Session) -> World:
    parks = Department(code="PRK", name="Parks & Recreation")
    works = Department(code="PW", name="Public Works")
    session.add_all([parks, works])
    session.flush()
    head = User(
        username="head-prk",
        display_name="Pat Parks",
        role=Role.DEPARTMENT_HEAD.value,
        department_id=parks.id,
        password_hash=hash_password(PASSWORD),
    )
    chief = User(
        username="chief",
        display_name="Casey Chief",
        role=Role.CHIEF_OF_STAFF.value,
        password_hash=hash_password(PASSWORD),
    )
    session.add_all([head, chief])
    parks_ind = Indicator(
        code="PRK-01",
        name="Playgrounds in good repair",
        unit="%",
        direction="up",
        cadence="monthly",
        department_id=parks.id,
        target=90,
        warning_threshold=80,
        critical_threshold=70,
    )
    works_ind = Indicator(
        code="PW-01",
        name="Potholes filled within 48 hours",
        unit="%",
        direction="up",
        cadence="weekly",
        department_id=works.id,
        target=95,
    )
    problem = Problem(title="Unsafe playgrounds", policy_area="parks")
    session.add_all([parks_ind, works_ind, problem])
    session.flush()
    return World(
        parks_id=parks.id,
        works_id=works.id,
        parks_indicator_id=parks_ind.id,
        works_indicator_id=works_ind.id,
        problem_id=problem.id,
        head_parks=Principal(head.id, head.username, Role.DEPARTMENT_HEAD, parks.id),
        chief=Principal(chief.id, chief.username, Role.CHIEF_OF_STAFF, None),
    )
