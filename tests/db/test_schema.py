"""Schema behaviour on SQLite and PostgreSQL: migrations, constraints, optimistic locking."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from db import migrate
from db.models import AuditLog, Base, CitizenReport, Observation, Problem, User
from db.problems import EditConflict, update_problem
from db.session import Database
from tests.db.factories import make_world


def test_mig001_round_trip_and_check(backend_url: str) -> None:
    """upgrade head → check (models match) → downgrade base (no tables) → upgrade again."""
    migrate.check(backend_url)
    assert migrate.is_current(backend_url)
    migrate.downgrade(backend_url, "base")
    db = Database(backend_url)
    try:
        left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        assert not migrate.is_current(backend_url)
    finally:
        db.dispose()
    migrate.upgrade(backend_url)
    migrate.check(backend_url)
    db = Database(backend_url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        db.dispose()


# Rows of a city at revision 0004, each referring to the next: the migrations after it rebuild
# ``problems`` (0005) and ``report_categories`` (0007) on SQLite, which other tables refer to,
# some with ON DELETE CASCADE.
CITY_AT_0004 = [
    "INSERT INTO departments (id, code, name) VALUES (1, 'PW', 'Public Works')",
    "INSERT INTO report_categories (id, code, name, department_id) "
    "VALUES (1, 'heating', 'HEATING', 1)",
    "INSERT INTO problems (id, title, description, policy_area, status, lead_department_id, "
    "desired_outcome, political_capital, political_notes, authority, authority_notes, "
    "created_at, updated_at, version) VALUES (1, 'Cold homes', '', 'housing', 'focus', 1, '', "
    "3, '', 3, '', '2026-01-05 09:00:00', '2026-01-05 09:00:00', 1)",
    "INSERT INTO category_problems (category_id, problem_id, weight) VALUES (1, 1, 1.0)",
    "INSERT INTO citizen_reports (id, source, service_request_id, category_id, raw_category, "
    "description, status, requested_at, address, ingested_at) VALUES (1, 'nyc', '1', 1, "
    "'HEATING', '', 'open', '2026-01-05 09:00:00', '', '2026-01-05 10:00:00')",
]
CITY_TABLES = ("departments", "report_categories", "problems", "category_problems")


def test_mig002_upgrading_a_city_keeps_every_row(backend_url: str) -> None:
    """A database with data upgrades to the newest schema with nothing lost: on SQLite the
    rebuilt tables are dropped and created again, which must neither fail on the rows that
    refer to them nor delete those rows by cascade."""
    migrate.downgrade(backend_url, "base")
    migrate.upgrade(backend_url, "0004")
    try:
        db = Database(backend_url)
        try:
            with db.engine.begin() as connection:
                for statement in CITY_AT_0004:
                    connection.exec_driver_sql(statement)
        finally:
            db.dispose()
        migrate.upgrade(backend_url)
        assert migrate.is_current(backend_url)
        migrate.check(backend_url)
        db = Database(backend_url)
        try:
            with db.engine.connect() as connection:
                counts = {
                    t: connection.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                    for t in (*CITY_TABLES, "citizen_reports")
                }
                if db.sqlite:
                    assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            with db.session() as s:
                report = s.get(CitizenReport, 1)
                assert report is not None and report.category_id == 1
        finally:
            db.dispose()
        assert counts == dict.fromkeys((*CITY_TABLES, "citizen_reports"), 1)
    finally:
        # The session's database is shared: leave it empty, its sequences new.
        migrate.downgrade(backend_url, "base")
        migrate.upgrade(backend_url)


def _report(source: str, request_id: str) -> CitizenReport:
    return CitizenReport(
        source=source, service_request_id=request_id, requested_at=dt.datetime(2026, 1, 5, 9)
    )


def test_con001_report_unique_per_source(database: Database) -> None:
    with database.session(write=True) as s:
        s.add_all([_report("nyc", "1"), _report("boston", "1")])
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(_report("nyc", "1"))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CitizenReport)) == 2


def test_con002_foreign_keys_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(Observation(indicator_id=99999, period=dt.date(2026, 1, 1), value=1.0))


def test_con003_role_check_and_head_needs_department(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(User(username="x", display_name="X", role="emperor"))
    with pytest.raises(IntegrityError), database.session(write=True) as s:
        s.add(User(username="y", display_name="Y", role="department_head"))


def test_lock001_concurrent_problem_edit_is_refused(database: Database) -> None:
    """Two editors open version 1; the first save wins, the second is told, nothing is lost."""
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session(write=True) as s:
        new_version = update_problem(s, world.chief, world.problem_id, 1, {"title": "First"})
    assert new_version == 2
    with (
        pytest.raises(EditConflict, match="changed by someone else"),
        database.session(write=True) as s,
    ):
        update_problem(s, world.chief, world.problem_id, 1, {"title": "Second"})
    with database.session() as s:
        saved = s.get(Problem, world.problem_id)
        assert (saved.title, saved.version) == ("First", 2)
        audits = s.scalars(
            select(AuditLog).where(AuditLog.entity == "problem", AuditLog.action == "update")
        ).all()
        assert [(a.before, a.after) for a in audits] == [
            ({"title": "Unsafe playgrounds"}, {"title": "First"})
        ]


def test_lock002_version_column_guards_the_update_itself(database: Database) -> None:
    """Even a stale in-memory row cannot overwrite: the UPDATE matches on the version."""
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session() as s:
        stale = s.get(Problem, world.problem_id)
    with database.session(write=True) as s:
        update_problem(s, world.chief, world.problem_id, 1, {"status": "focus"})
    with pytest.raises(StaleDataError), database.session(write=True) as s:
        stale.title = "Overwrite attempt"
        s.add(stale)
        s.flush()
    with database.session() as s:
        assert s.get(Problem, world.problem_id).title == "Unsafe playgrounds"


@pytest.mark.parametrize("backend_url", ["sqlite"], indirect=True)
def test_sqlite001_writers_do_not_lock_each_other(database: Database) -> None:
    """Read-then-write from 4 threads: BEGIN IMMEDIATE serialises them, no 'database is locked'."""
    with database.session(write=True) as s:
        indicator_id = make_world(s).parks_indicator_id
    errors: list[Exception] = []

    def work(n: int) -> None:
        for i in range(25):
            try:
                with database.session(write=True) as s:
                    count = s.scalar(select(func.count()).select_from(Observation))
                    s.add(
                        Observation(
                            indicator_id=indicator_id,
                            period=dt.date(2026, 1, 1) + dt.timedelta(days=i),
                            value=float(count or 0) + n,
                        )
                    )
            except OperationalError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 100
