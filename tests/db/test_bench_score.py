"""``triage bench score`` end to end on the small demo city, and no raw-report reads anywhere."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from db import migrate
from db.alerts.store import apply_alert_changes, existing_alerts
from db.models import Alert, AuditLog, CitizenReport, Department, Observation, User
from db.ranking import rank_week
from db.scores import load_scoring_inputs, load_weights, read_frame
from db.session import Database
from tests.clock import TODAY
from tests.conftest import _admin_url, _postgres_unavailable_reason
from tests.db.factories import make_world
from tests.webutil import fresh_database
from triage.detection import plan_alert_changes
from triage.jobs.alerts import refresh_alerts
from triage.scoring import iso_week, problem_components, ranking_sensitivity, score_problems

TRIAGE = [sys.executable, "-m", "triage.cli"]
STAGE_KEYS = {
    "wall_seconds",
    "cpu_seconds",
    "peak_rss_mb",
    "rows_read",
    "statements",
    "raw_report_statements",
    "parts",
}


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_TODAY"] = TODAY.isoformat()
    return subprocess.run(
        [*TRIAGE, "bench", "score", "--scale", "small", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def last_json(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_figures(result: dict) -> None:
    """Keys present and every figure sane for the small demo city."""
    assert result["benchmark"] == "score" and result["scale"] == "small" and result["seed"] == 7
    assert set(result["stages"]) == {"rank", "detect"}
    rank, detect = result["stages"]["rank"], result["stages"]["detect"]
    for stage in (rank, detect):
        assert set(stage) >= STAGE_KEYS
        assert 0 < stage["wall_seconds"] < 60
        assert 0 < stage["cpu_seconds"] < 120
        assert 30 < stage["peak_rss_mb"] < 4096
        assert stage["raw_report_statements"] == 0
        assert stage["statements"] > 0 and stage["rows_read"] > 0
        assert stage["report_count_rows_read"] > 0 and stage["observations_read"] > 0
    assert set(rank["parts"]) == {"load", "score", "sensitivity", "store"}
    assert set(detect["parts"]) == {"load", "detect", "store"}
    problems = result["counts"]["problems"]
    assert 0 < rank["problems_scored"] <= problems
    assert rank["sensitivity_rows"] == rank["problems_scored"]
    assert rank["week"] == iso_week(dt.date.fromisoformat(result["as_of"]))
    assert detect["indicator_series"] == result["counts"]["indicators"]
    assert detect["report_series"] > result["counts"]["report_categories"] / 2
    assert detect["alerts_found"] > 0
    assert result["total_wall_seconds"] == pytest.approx(
        rank["wall_seconds"] + detect["wall_seconds"], abs=0.01
    )
    assert result["peak_rss_mb"] == max(rank["peak_rss_mb"], detect["peak_rss_mb"])
    assert result["raw_report_statements"] == 0
    assert result["goal_seconds"] == 30 and result["goal_mb"] == 4096
    assert result["passed"] is (result["time_ok"] and result["memory_ok"]) is True
    assert result["database_bytes"] > 100_000


def plant_unfinished_seed(url: str) -> None:
    """A cached file whose seed stopped half way: data, but no closing audit row."""
    migrate.upgrade(url)
    database = Database(url)
    with database.session(write=True) as s:
        s.add(Department(code="PW", name="Public Works"))
        s.add(User(username="leftover", display_name="Left over", role="admin", password_hash="x"))
    database.dispose()


def test_bsc001_bench_score_seeds_once_then_reuses_the_cached_city(tmp_path: Path) -> None:
    cached = tmp_path / "bench-small-7.sqlite3"
    plant_unfinished_seed(f"sqlite:///{cached}")
    first = bench("--cache-dir", str(tmp_path))
    result = last_json(first)
    check_figures(result)
    assert "unfinished seed" in first.stderr
    database = Database(f"sqlite:///{cached}")
    with database.session() as s:
        assert s.scalar(select(User.id).where(User.username == "leftover")) is None
    database.dispose()
    assert result["seeded"] is True and result["seed_seconds"] > 0
    assert result["history_seconds"] > 0
    assert "time " in first.stdout and "PASS" in first.stdout
    assert "Writing citizen reports" in first.stderr  # seeding progress was shown

    again = last_json(bench("--cache-dir", str(tmp_path)))
    check_figures(again)
    assert again["seeded"] is False and again["seed_seconds"] is None
    assert again["as_of"] == result["as_of"]
    # Detection is idempotent for a day: the second run inserts nothing new.
    assert again["stages"]["detect"]["alerts_inserted"] == 0
    assert again["stages"]["detect"]["alerts_found"] == result["stages"]["detect"]["alerts_found"]
    assert again["stages"]["rank"]["compared_with"] == result["stages"]["rank"]["compared_with"]


def test_bsc002_bench_score_refuses_a_database_holding_other_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.sqlite3'}"
    plant_unfinished_seed(url)  # a real city's data, as far as the benchmark can tell
    done = bench("--db", url)
    assert done.returncode == 2
    assert "already holds data" in done.stderr
    database = Database(url)
    with database.session() as s:
        assert s.scalar(select(User.username)) == "leftover"
        assert s.scalar(select(CitizenReport.id).limit(1)) is None
    database.dispose()


@pytest.fixture
def own_pg_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own (the session one is shared with other tests)."""
    reason = _postgres_unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"triage_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(_admin_url()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_bsc003_bench_score_on_postgresql(own_pg_url: str) -> None:
    result = last_json(bench("--db", own_pg_url))
    check_figures(result)
    assert result["backend"] == "postgresql" and result["seeded"] is True
    again = last_json(bench("--db", own_pg_url))
    assert again["seeded"] is False and again["stages"]["detect"]["alerts_inserted"] == 0


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn, _cursor, statement: str, *_args) -> None:
        self.seen.append(statement.lower())

    def reading(self, table: str) -> list[str]:
        return [s for s in self.seen if table in s]


def test_bsc004_scoring_and_detection_never_read_raw_reports(tmp_path: Path) -> None:
    database = fresh_database(tmp_path)
    today = database_today(database)
    statements = Statements()
    event.listen(database.engine, "before_cursor_execute", statements)
    try:
        ranking = rank_week(database, None, today)
        alerts = refresh_alerts(database, today)
        with database.session() as s:
            inputs = load_scoring_inputs(s, today)
            weights = load_weights(s)
        components = problem_components(inputs, today)
        scores = score_problems(inputs, weights, today, components=components)
        ranking_sensitivity(inputs, weights, today, runs=50, components=components)
        assert len(ranking.scores) == len(scores) > 0 and alerts["rows"] > 0
        assert statements.reading("report_daily_counts"), "the aggregate should have been read"
        assert statements.reading("citizen_reports") == []
        # The listener does see a raw-report query when there is one.
        with database.session() as s:
            s.execute(select(CitizenReport.id).limit(1))
        assert len(statements.reading("citizen_reports")) == 1
    finally:
        event.remove(database.engine, "before_cursor_execute", statements)
        database.dispose()


def database_today(database: Database) -> dt.date:
    """The day the template city was seeded for (its data ends there)."""
    with database.session() as s:
        after = s.scalar(
            select(AuditLog.after).where(AuditLog.entity == "demo_city", AuditLog.action == "seed")
        )
    return dt.date.fromisoformat(after["today"])


def test_bsc005_observation_window_and_fast_reads_on_every_backend(database: Database) -> None:
    """One query reads each indicator's trend window, or only its latest period when stale."""
    as_of = dt.date(2026, 11, 22)
    with database.session(write=True) as s:
        world = make_world(s)
        weekly, monthly = world.works_indicator_id, world.parks_indicator_id
        for weeks_back in range(40):  # weekly: 40 weeks, only the recent window is read
            period = as_of - dt.timedelta(weeks=weeks_back)
            s.add(Observation(indicator_id=weekly, period=period, value=float(weeks_back)))
        stale = as_of - dt.timedelta(days=800)  # monthly, last reported long ago, corrected once
        s.add(Observation(indicator_id=monthly, period=stale - dt.timedelta(days=31), value=1.0))
        s.add(
            Observation(
                indicator_id=monthly, period=stale, value=2.0, entered_at=dt.datetime(2024, 10, 1)
            )
        )
        s.add(
            Observation(
                indicator_id=monthly, period=stale, value=3.0, entered_at=dt.datetime(2025, 1, 1)
            )
        )
        s.add(Observation(indicator_id=weekly, period=as_of + dt.timedelta(days=7), value=99.0))
    with database.session() as s:
        inputs = load_scoring_inputs(s, as_of)
        raw = read_frame(
            s,
            select(Observation.indicator_id, Observation.period, Observation.entered_at),
            ["indicator_id", "period", "entered_at"],
            dates=["period", "entered_at"],
        )
    obs = inputs.observations
    assert str(obs["period"].dtype).startswith("datetime64")
    assert str(raw["entered_at"].dtype).startswith("datetime64") and len(raw) == 44
    assert pd.Timestamp(as_of + dt.timedelta(days=7)) in set(raw["period"])
    recent = obs[obs["indicator_id"] == weekly]
    # 12 trend points + 2 overdue + 2 fading periods of 7 days: 16 weeks back, inclusive.
    assert len(recent) == 17 and recent["period"].max() == pd.Timestamp(as_of)
    assert recent["period"].min() == pd.Timestamp(as_of - dt.timedelta(weeks=16))
    latest = obs[obs["indicator_id"] == monthly]
    assert list(latest["period"]) == [pd.Timestamp(stale)] * 2
    assert list(latest["value"]) == [2.0, 3.0]  # ordered by entry: the correction last


def alert_rows(series: str, days: list[dt.date], observed: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": series,
            "date": pd.to_datetime(days),
            "kind": "threshold",
            "method": "threshold-critical",
            "severity": "critical",
            "expected": 10.0,
            "lower": float("nan"),
            "upper": 12.0,
            "observed": observed,
            "window_days": None,
            "p_value": float("nan"),
            "q_value": float("nan"),
            "message": f"{series} is {observed}",
        }
    )


def test_bsc006_bulk_alert_writes_insert_refresh_and_resolve(database: Database) -> None:
    """``apply_alert_changes`` in bulk: the same rows as one object at a time would give."""
    day = dt.date(2026, 11, 2)
    with database.session(write=True) as s:
        world = make_world(s)
    links = {
        "indicator:a": {"indicator_id": world.works_indicator_id},
        "indicator:b": {"indicator_id": world.parks_indicator_id},
    }

    def run(alerts: pd.DataFrame, as_of: dt.date) -> dict[str, int]:
        with database.session(write=True) as s:
            changes = plan_alert_changes(existing_alerts(s), alerts, as_of)
            return apply_alert_changes(s, changes, links)

    def stored() -> dict[str, Alert]:
        with database.session() as s:
            return {a.series_key: a for a in s.scalars(select(Alert))}

    first = pd.concat(
        [alert_rows("indicator:a", [day], 20.0), alert_rows("indicator:b", [day], 30.0)]
    )
    assert run(first, day) == {"inserted": 2, "updated": 0, "resolved": 0}
    a, b = stored()["indicator:a"], stored()["indicator:b"]
    assert (a.state, a.indicator_id, a.first_detected, a.observed) == (
        "new",
        world.works_indicator_id,
        day,
        20.0,
    )
    assert b.indicator_id == world.parks_indicator_id and b.created_at is not None
    with database.session(write=True) as s:
        s.get(Alert, b.id).state = "linked"
    later = day + dt.timedelta(days=3)
    assert run(alert_rows("indicator:a", [later], 25.0), later) == {
        "inserted": 0,
        "updated": 1,
        "resolved": 0,
    }
    a2 = stored()["indicator:a"]
    assert a2.id == a.id and (a2.first_detected, a2.last_detected) == (day, later)
    assert a2.observed == 25.0 and a2.message == "indicator:a is 25.0"
    assert a2.updated_at >= a.updated_at
    quiet = later + dt.timedelta(days=40)
    assert run(alert_rows("indicator:a", [], 0.0), quiet)["resolved"] == 1
    after = stored()
    assert after["indicator:a"].state == "resolved"
    assert after["indicator:a"].state_reason == "No longer detected for 28 days."
    assert after["indicator:b"].state == "linked"  # linked alerts stay with their problem
    with database.session() as s:
        runs = s.scalars(
            select(AuditLog.after).where(AuditLog.entity == "alerts", AuditLog.action == "detect")
        ).all()
    assert [r["inserted"] + r["updated"] + r["resolved"] for r in runs] == [2, 1, 1]
