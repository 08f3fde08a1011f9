"""Seeding the demo city: counts read back, the daily aggregate, sign-ins and the refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    AuditLog,
    Base,
    CausalFactor,
    CitizenReport,
    Department,
    FactorLink,
    Indicator,
    Observation,
    Problem,
    ReportCategory,
    ReportDailyCount,
    User,
)
from db.seed import DemoCityExists, SeedSummary, seed_demo_city
from db.session import Database
from triage.demo import DEMO_USERS, build_demo_city
from triage.security import verify_password

TODAY = dt.date(2026, 11, 18)


def _database(path: Path) -> Database:
    database = Database(f"sqlite:///{path}")
    Base.metadata.create_all(database.engine)
    return database


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, SeedSummary]]:
    database = _database(tmp_path_factory.mktemp("seed") / "demo.sqlite3")
    summary = seed_demo_city(database, seed=7, scale="small", today=TODAY)
    yield database, summary
    database.dispose()


def _count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_seed001_counts_read_back(seeded: tuple[Database, SeedSummary]) -> None:
    database, summary = seeded
    city = build_demo_city(seed=7, scale="small", today=TODAY)
    with database.session() as s:
        for table in Base.metadata.sorted_tables:
            n = s.scalar(select(func.count()).select_from(table)) or 0
            assert n == summary.counts.get(table.name, 0), table.name
    assert summary.counts["departments"] == 10 and summary.counts["districts"] == 12
    assert summary.counts["problems"] == len(city.problems) == 12
    assert summary.counts["indicators"] == len(city.indicators)
    assert summary.counts["observations"] == len(city.observations)
    assert summary.counts["citizen_reports"] == city.report_count
    assert 4_000 <= summary.counts["citizen_reports"] <= 7_000
    assert summary.counts["users"] == len(DEMO_USERS)
    assert summary.counts["audit_log"] == 1


def test_seed002_daily_aggregate_matches_reports(seeded: tuple[Database, SeedSummary]) -> None:
    database, _ = seeded
    with database.session() as s:
        total = s.scalar(select(func.sum(ReportDailyCount.count)))
        assert total == _count(s, CitizenReport)
        by_category = dict(
            s.execute(
                select(ReportDailyCount.category_id, func.sum(ReportDailyCount.count)).group_by(
                    ReportDailyCount.category_id
                )
            ).all()
        )
        raw = dict(
            s.execute(
                select(CitizenReport.category_id, func.count()).group_by(CitizenReport.category_id)
            ).all()
        )
        assert by_category == raw
        by_district = dict(
            s.execute(
                select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count)).group_by(
                    ReportDailyCount.district_id
                )
            ).all()
        )
        raw_district = dict(
            s.execute(
                select(CitizenReport.district_id, func.count()).group_by(CitizenReport.district_id)
            ).all()
        )
        assert by_district == raw_district
        assert s.scalar(select(func.min(ReportDailyCount.count))) >= 1
        assert s.scalar(select(func.max(ReportDailyCount.day))) == TODAY - dt.timedelta(days=1)


def test_seed003_seeding_twice_is_refused(seeded: tuple[Database, SeedSummary]) -> None:
    database, summary = seeded
    with pytest.raises(DemoCityExists, match=r"already holds data \(12 problems"):
        seed_demo_city(database, seed=7, scale="small", today=TODAY)
    with database.session() as s:
        assert _count(s, Problem) == summary.counts["problems"]


def test_seed004_natural_keys_resolve_to_the_right_rows(
    seeded: tuple[Database, SeedSummary],
) -> None:
    database, _ = seeded
    city = build_demo_city(seed=7, scale="small", today=TODAY)
    with database.session() as s:
        dept_code = dict(s.execute(select(Department.id, Department.code)).all())
        for expected in city.problems:
            row = s.execute(
                select(Problem.lead_department_id, User.username)
                .join(User, User.id == Problem.owner_id)
                .where(Problem.title == expected["title"])
            ).one()
            assert dept_code[row[0]] == expected["lead_department_code"]
            assert row[1] == expected["owner_username"]
        planted = s.execute(
            select(Indicator.critical_threshold, Department.code)
            .join(Department, Department.id == Indicator.department_id)
            .where(Indicator.code == city.planted.indicator_code)
        ).one()
        assert planted[1] == "HLTH"
        last_values = (
            s.execute(
                select(Observation.value)
                .join(Indicator, Indicator.id == Observation.indicator_id)
                .where(Indicator.code == city.planted.indicator_code)
                .order_by(Observation.period.desc())
                .limit(city.planted.indicator_periods_beyond)
            )
            .scalars()
            .all()
        )
        assert all(v >= planted[0] for v in last_values)
        # Each factor link joins two factors of the same problem.
        parent = CausalFactor.__table__.alias("parent")
        mismatched = s.scalar(
            select(func.count())
            .select_from(FactorLink)
            .join(CausalFactor, CausalFactor.id == FactorLink.factor_id)
            .join(parent, parent.c.id == FactorLink.parent_id)
            .where(CausalFactor.problem_id != parent.c.problem_id)
        )
        assert mismatched == 0
        dumping = s.scalar(
            select(func.count())
            .select_from(CitizenReport)
            .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
            .where(ReportCategory.code == city.planted.surge_category)
        )
        assert dumping and dumping > 100


def test_seed005_demo_users_sign_in(seeded: tuple[Database, SeedSummary]) -> None:
    database, summary = seeded
    passwords = {username: password for username, password, _ in summary.sign_ins}
    assert passwords["mayor"] == "mayor-riverton-demo"
    roles = {username: role for username, _, role in summary.sign_ins}
    assert roles["head-pw"] == "Department head (PW)" and roles["chief"] == "Chief of staff"
    with database.session() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        for username in ("mayor", "head-hlth"):
            assert verify_password(users[username].password_hash, passwords[username])
            assert not verify_password(users[username].password_hash, "wrong-password-123")
        head = users["head-hlth"]
        assert head.role == "department_head" and head.department_id is not None
        assert s.get(Department, head.department_id).code == "HLTH"
        assert users["mayor"].department_id is None and users["mayor"].active


def test_seed006_audit_row_summarises_the_seed(seeded: tuple[Database, SeedSummary]) -> None:
    database, summary = seeded
    with database.session() as s:
        row = s.scalars(select(AuditLog)).one()
        assert (row.action, row.entity, row.entity_id) == ("seed", "demo_city", "Riverton")
        assert row.after is not None
        assert row.after["scale"] == "small" and row.after["seed"] == 7
        assert row.after["counts"]["citizen_reports"] == summary.counts["citizen_reports"]


def test_seed007_replace_deletes_and_reseeds(tmp_path: Path) -> None:
    database = _database(tmp_path / "replace.sqlite3")
    try:
        first = seed_demo_city(database, seed=7, scale="small", today=TODAY)
        second = seed_demo_city(database, seed=8, scale="small", today=TODAY, replace=True)
        with database.session() as s:
            assert _count(s, Problem) == second.counts["problems"] == first.counts["problems"]
            assert _count(s, CitizenReport) == second.counts["citizen_reports"]
            assert _count(s, User) == len(DEMO_USERS)
            assert s.scalars(select(AuditLog.after)).one()["seed"] == 8
            total = s.scalar(select(func.sum(ReportDailyCount.count)))
            assert total == second.counts["citizen_reports"]
    finally:
        database.dispose()


def test_seed008_refuses_a_database_with_other_data(tmp_path: Path) -> None:
    database = _database(tmp_path / "other.sqlite3")
    try:
        with database.session(write=True) as s:
            s.add(Department(code="PW", name="Public Works"))
        with pytest.raises(DemoCityExists, match=r"\(1 department\)"):
            seed_demo_city(database, scale="small", today=TODAY)
        with database.session() as s:
            assert _count(s, Department) == 1 and _count(s, CitizenReport) == 0
    finally:
        database.dispose()


def test_seed009_seeds_the_migrated_schema_on_each_backend(database: Database) -> None:
    """Through the Alembic schema on SQLite and PostgreSQL, clearing it first with replace."""
    summary = seed_demo_city(database, seed=7, scale="small", today=TODAY, replace=True)
    with database.session() as s:
        reports = _count(s, CitizenReport)
        assert reports == summary.counts["citizen_reports"] > 4_000
        assert s.scalar(select(func.sum(ReportDailyCount.count))) == reports
        assert _count(s, Problem) == 12 and _count(s, AuditLog) == 1
        owner = s.execute(
            select(User.username)
            .join(Problem, Problem.owner_id == User.id)
            .where(Problem.title == "Potholes and crumbling road surfaces")
        ).scalar_one()
        assert owner == "head-pw"
