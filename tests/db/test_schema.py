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
from db.session import Database
from db.writes import EditConflict, update_problem
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
