"""The data-version cache (``db.cache``): a write in another connection or another process
makes the next read recompute, on SQLite and PostgreSQL; unchanged data is served from memory."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.cache import VersionedCache, cache_for, cached, data_version
from db.models import (
    Actor,
    Alert,
    CategoryProblem,
    CitizenReport,
    District,
    Engagement,
    Indicator,
    IndicatorStatusUpdate,
    Observation,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from db.problems import record_decision, update_problem
from db.scores import set_scoring_weights
from db.session import Database
from tests.db.factories import make_world
from triage.scoring import ScoringWeights

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 16)


def _report_total(session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(ReportDailyCount.count), 0))))


def _seed_reports(database: Database) -> tuple[int, int]:
    with database.session(write=True) as s:
        world = make_world(s)
        category = ReportCategory(code="potholes", name="Potholes")
        district = District(code="D1", name="Downtown", population=1000)
        s.add_all([category, district])
        s.flush()
        s.add(CategoryProblem(category_id=category.id, problem_id=world.problem_id, weight=1.0))
        s.add(
            CitizenReport(
                source="t",
                service_request_id="1",
                category_id=category.id,
                district_id=district.id,
                requested_at=dt.datetime(2026, 11, 16, 9),
            )
        )
        s.add(ReportDailyCount(day=DAY, category_id=category.id, district_id=district.id, count=1))
        return category.id, district.id


def test_cache001_unchanged_data_is_served_from_memory(database: Database) -> None:
    _seed_reports(database)
    calls: list[int] = []

    def compute(session) -> int:
        calls.append(1)
        return _report_total(session)

    for _ in range(3):
        with database.session() as s:
            assert cached(s, "test.total", "all", lambda s=s: compute(s)) == 1
    assert len(calls) == 1
    assert cache_for_database(database).hits == 2


def cache_for_database(database: Database) -> VersionedCache:
    with database.session() as s:
        return cache_for(s)


def test_cache002_audited_write_in_another_connection_invalidates(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)

    def title(session) -> str:
        return session.scalar(select(Problem.title).where(Problem.id == world.problem_id))

    with database.session() as s:
        assert cached(s, "test.title", world.problem_id, lambda: title(s)) == "Unsafe playgrounds"
    other = Database(database.url)  # its own engine and connections, as another worker has
    try:
        with other.session(write=True) as s:
            update_problem(s, world.chief, world.problem_id, 1, {"title": "Broken swings"})
    finally:
        other.dispose()
    with database.session() as s:
        assert cached(s, "test.title", world.problem_id, lambda: title(s)) == "Broken swings"


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from sqlalchemy import update
    from db.models import CitizenReport, ReportDailyCount, utcnow
    from db.session import Database

    database = Database(sys.argv[1])
    category_id, district_id = int(sys.argv[2]), int(sys.argv[3])
    with database.session(write=True) as s:
        # What report ingestion does: a new row stamped now, and the daily count moved with it.
        s.add(CitizenReport(source="t", service_request_id="2", category_id=category_id,
                            district_id=district_id, requested_at=dt.datetime(2026, 11, 16, 10),
                            ingested_at=utcnow()))
        s.execute(update(ReportDailyCount).where(ReportDailyCount.category_id == category_id)
                  .values(count=ReportDailyCount.count + 1))
    database.dispose()
    """
)


def test_cache003_write_in_another_process_invalidates(database: Database) -> None:
    """Two gunicorn workers: one has the total cached, the other ingests a report."""
    category_id, district_id = _seed_reports(database)
    with database.session() as s:
        assert cached(s, "test.total", "all", lambda: _report_total(s)) == 1
    subprocess.run(
        [sys.executable, "-c", WRITER, database.url, str(category_id), str(district_id)],
        cwd=REPO,
        check=True,
        timeout=120,
    )
    with database.session() as s:
        assert cached(s, "test.total", "all", lambda: _report_total(s)) == 2
    with database.session() as s:
        assert cached(s, "test.total", "all", lambda: -1) == 2  # and kept again


def test_cache004_every_kind_of_write_changes_the_version(database: Database) -> None:
    """Writes whose data the pages cache, audited or not, each move the fingerprint."""
    category_id, district_id = _seed_reports(database)
    with database.session() as s:
        problem_id = s.scalar(select(Problem.id))
        indicator_id = s.scalar(select(func.min(Indicator.id)))

    def version() -> tuple:
        with database.session() as s:
            return data_version(s)

    def alert(s: Session) -> None:
        s.add(
            Alert(
                dedupe_key="k",
                kind="surge",
                method="m",
                severity="warning",
                series_key="s",
                first_detected=DAY,
                last_detected=DAY,
                message="m",
            )
        )

    def engagement(s: Session) -> None:
        actor = Actor(name="Friends of the Park", sector="community")
        s.add(actor)
        s.flush()
        s.add(Engagement(actor_id=actor.id, problem_id=problem_id, role="delivering"))

    changes = {
        "problem status": lambda s: s.execute(
            update(Problem).values(status="focus", updated_at=dt.datetime(2030, 1, 1))
        ),
        "observation": lambda s: s.add(
            Observation(indicator_id=indicator_id, period=DAY, value=5.0)
        ),
        "status update": lambda s: s.add(
            IndicatorStatusUpdate(indicator_id=indicator_id, status="on_track")
        ),
        "mapping weight": lambda s: s.execute(update(CategoryProblem).values(weight=2.5)),
        "alert": alert,
        "alert state": lambda s: s.execute(
            update(Alert).values(state="acknowledged", updated_at=dt.datetime(2030, 1, 1))
        ),
        "engagement": engagement,
        "report": lambda s: s.add(
            CitizenReport(
                source="t",
                service_request_id="9",
                category_id=category_id,
                district_id=district_id,
                requested_at=dt.datetime(2026, 11, 17, 9),
            )
        ),
    }
    seen = {version()}
    for name, change in changes.items():
        with database.session(write=True) as s:
            change(s)
        now = version()
        assert now not in seen, f"{name} left the data version unchanged"
        seen.add(now)


def test_cache005_weights_and_decisions_change_the_version(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session() as s:
        before = data_version(s)
    with database.session(write=True) as s:
        set_scoring_weights(s, world.chief, {**ScoringWeights().to_dict(), "importance": 2.0})
    with database.session() as s:
        after_weights = data_version(s)
    assert after_weights != before
    with database.session(write=True) as s:
        record_decision(s, world.chief, world.problem_id, "2026-W47", "focus", "")
    with database.session() as s:
        assert data_version(s) != after_weights


def test_cache009_a_sign_in_keeps_the_cache(database: Database) -> None:
    """Signing in writes an audit row and a login attempt but changes nothing a page shows,
    so it must not throw away every worker's cache; the next real change still does."""
    from db.accounts import authenticate
    from tests.db.factories import PASSWORD

    with database.session(write=True) as s:
        world = make_world(s)
    with database.session() as s:
        before = data_version(s)
    with database.session(write=True) as s:
        result = authenticate(s, "chief", PASSWORD, "127.0.0.1", max_failures=5, window_seconds=60)
    assert result.ok
    with database.session() as s:
        assert data_version(s) == before
    with database.session(write=True) as s:
        update_problem(s, world.chief, world.problem_id, 1, {"title": "After the sign-in"})
    with database.session() as s:
        assert data_version(s) != before


def test_cache006_least_recently_used_entries_are_dropped() -> None:
    cache = VersionedCache(max_entries=2)
    calls: list[str] = []

    def make(value: str):
        def compute() -> str:
            calls.append(value)
            return value

        return compute

    assert cache.get("n", "a", (1,), make("a")) == "a"
    assert cache.get("n", "b", (1,), make("b")) == "b"
    assert cache.get("n", "a", (1,), make("a2")) == "a"  # a is now the most recent
    assert cache.get("n", "c", (1,), make("c")) == "c"  # drops b
    assert cache.get("n", "b", (1,), make("b2")) == "b2"
    assert cache.get("n", "a", (2,), make("a3")) == "a3"  # another version: recomputed
    assert calls == ["a", "b", "c", "b2", "a3"]


def test_cache007_version_query_reads_no_report_rows(database: Database) -> None:
    """The fingerprint is index probes on the big tables: its plan on SQLite never scans
    ``citizen_reports`` (PostgreSQL plans are checked by the bench's timings)."""
    if not database.sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from db.cache import _VERSION

    sql = str(_VERSION.compile(database.engine, compile_kwargs={"literal_binds": True}))
    with database.engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    report_steps = [step for step in plan if "citizen_reports" in step]
    assert report_steps, plan
    # SEARCH is a probe (the rowid, or an index such as ix_citizen_reports_ingested_at); a
    # SCAN would read every report.
    assert all(step.startswith("SEARCH") for step in report_steps), report_steps
    assert any("ix_citizen_reports_ingested_at" in step for step in report_steps), report_steps


PAGE_WRITER = textwrap.dedent(
    """
    import sys
    from db.session import Database
    from db.problems import update_problem
    from triage.security import Principal, Role

    database = Database(sys.argv[1])
    chief = Principal(int(sys.argv[2]), "chief", Role.CHIEF_OF_STAFF, None)
    with database.session(write=True) as s:
        update_problem(s, chief, int(sys.argv[3]), int(sys.argv[4]), {"title": sys.argv[5]})
    database.dispose()
    """
)


def test_cache008_pages_show_another_workers_write_at_once(tmp_path: Path) -> None:
    """The home table and the weights components are cached; another process renames a
    problem and maps no new data: both pages show the new title on the next request."""
    from callbacks import admin, home
    from db.models import User
    from tests.webutil import WebEnv, texts

    env = WebEnv.create(tmp_path)
    try:
        with env.app.server.test_request_context():
            mayor, chief = env.principal("mayor"), env.principal("chief")
            with env.database.session() as s:
                problem_id, title, version = s.execute(
                    select(Problem.id, Problem.title, Problem.version)
                    .where(Problem.status != "resolved")
                    .order_by(Problem.id)
                ).first()
                chief_id = s.scalar(select(User.id).where(User.username == "chief"))
            assert title in texts(home.problems_table("all", "all", principal=mayor))
            store = admin.weights_components(None, principal=chief)
            assert title in store["title"]
            assert admin.weights_components(None, principal=chief) is store  # served cached
            renamed = "Renamed by another worker"
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    PAGE_WRITER,
                    env.database.url,
                    str(chief_id),
                    str(problem_id),
                    str(version),
                    renamed,
                ],
                cwd=REPO,
                check=True,
                timeout=120,
            )
            table = texts(home.problems_table("all", "all", principal=mayor))
            assert renamed in table and title not in table
            fresh = admin.weights_components(None, principal=chief)
            assert renamed in fresh["title"] and title not in fresh["title"]
    finally:
        env.dispose()
