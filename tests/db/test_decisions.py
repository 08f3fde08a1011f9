"""``record_decision`` and the weekly-priorities reads on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.models import Alert, AuditLog, Decision, Observation, ProblemIndicator, User
from db.pages.priorities import week_priorities
from db.problems import decision_subject, record_decision, week_decisions
from db.scores import save_snapshot, snapshot_weeks
from db.session import Database
from tests.db.factories import World, make_world
from triage.security import PermissionDenied, Principal, Role
from triage.validation import ValidationError

WEEK = "2026-W47"
TODAY = dt.date(2026, 11, 20)  # a Friday in 2026-W47


def _mayor(database: Database) -> Principal:
    with database.session(write=True) as s:
        user = User(username="mayor", display_name="Maya Mayor", role=Role.MAYOR.value)
        s.add(user)
        s.flush()
        return Principal(user.id, user.username, Role.MAYOR)


def _world(database: Database) -> World:
    with database.session(write=True) as s:
        return make_world(s)


def _decisions(database: Database) -> list[tuple[str, str, str]]:
    with database.session() as s:
        rows = s.execute(
            select(Decision.week, Decision.decision, Decision.note).order_by(Decision.id)
        ).all()
        return [tuple(r) for r in rows]


def test_dec001_mayor_records_a_decision_with_an_audit_row(database: Database) -> None:
    world = _world(database)
    mayor = _mayor(database)
    with database.session(write=True) as s:
        decision_id = record_decision(
            s, mayor, world.problem_id, " 2026-w47 ", "Focus", "  Plan by Friday.  "
        )
    assert _decisions(database) == [(WEEK, "focus", "Plan by Friday.")]
    with database.session() as s:
        audit = s.execute(
            select(AuditLog.username, AuditLog.action, AuditLog.entity_id, AuditLog.after).where(
                AuditLog.entity == "decision"
            )
        ).one()
        author = s.scalar(select(Decision.author_id).where(Decision.id == decision_id))
    assert audit.username == "mayor" and audit.action == "create"
    assert audit.entity_id == str(decision_id)
    assert audit.after["decision"] == "focus" and audit.after["week"] == WEEK
    assert author == mayor.user_id


def test_dec002_a_second_decision_supersedes_and_keeps_history(database: Database) -> None:
    world = _world(database)
    mayor = _mayor(database)
    with database.session(write=True) as s:
        first = record_decision(s, mayor, world.problem_id, WEEK, "monitor", "Watch it.")
    with database.session(write=True) as s:
        second = record_decision(s, world.chief, world.problem_id, WEEK, "convene", "")
    assert len(_decisions(database)) == 2
    with database.session() as s:
        in_force = week_decisions(s, WEEK)
        audit = s.execute(
            select(AuditLog.before, AuditLog.after).where(
                AuditLog.entity == "decision", AuditLog.entity_id == str(second)
            )
        ).one()
    assert list(in_force["decision"]) == ["convene"] and list(in_force["count"]) == [2]
    assert list(in_force["author"]) == ["Casey Chief"]
    assert audit.before == {"decision": "monitor", "note": "Watch it."}
    assert audit.after["supersedes"] == first


@pytest.mark.parametrize(
    ("week", "decision", "note", "message"),
    [
        ("2026-W47", "ignore", "", "Choose a decision"),
        ("2026-47", "focus", "", "not an ISO week"),
        ("2026-W54", "focus", "", "not an ISO week"),
        ("<script>", "focus", "", "not an ISO week"),
        ("2026-W47", "focus", "x" * 2001, "at most 2,000"),
    ],
)
def test_dec003_bad_input_is_refused_and_nothing_is_written(
    database: Database, week: str, decision: str, note: str, message: str
) -> None:
    world = _world(database)
    mayor = _mayor(database)
    with database.session(write=True) as s, pytest.raises(ValidationError, match=message):
        record_decision(s, mayor, world.problem_id, week, decision, note)
    assert _decisions(database) == []


def test_dec004_unknown_problem_and_control_characters(database: Database) -> None:
    world = _world(database)
    mayor = _mayor(database)
    with database.session(write=True) as s, pytest.raises(ValidationError, match="no problem"):
        record_decision(s, mayor, world.problem_id + 999_999, WEEK, "focus", "")
    with database.session(write=True) as s, pytest.raises(ValidationError, match="no problem"):
        record_decision(s, mayor, "abc", WEEK, "focus", "")  # type: ignore[arg-type]
    with database.session(write=True) as s:
        record_decision(s, mayor, world.problem_id, WEEK, "drop", "nul\x00 and\tTab\nline")
    assert _decisions(database)[-1][2] == "nul and\tTab\nline"  # PostgreSQL cannot store NUL


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HEAD, Role.ANALYST, Role.ADMIN])
def test_dec005_only_mayor_and_chief_may_decide(database: Database, role: Role) -> None:
    world = _world(database)
    actor = Principal(None, f"someone-{role}", role, world.parks_id)
    with database.session(write=True) as s, pytest.raises(PermissionDenied):
        record_decision(s, actor, world.problem_id, WEEK, "focus", "")
    assert _decisions(database) == []
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def _snapshot(problem_id: int, rank: int, importance: float) -> dict[str, object]:
    return {
        "problem_id": problem_id,
        "rank": rank,
        "priority": 0.5,
        "priority_low": 0.4,
        "priority_high": 0.6,
        "importance": importance,
        "tractability": 0.5,
        "neglectedness": 0.3,
        "confidence": 0.9,
        "components": {
            "importance": {"worsening": {"value": 0.0}},
            "facts": {"population": 1000, "reports_adjusted": 12.5},
        },
        "explanation": "Something is wrong. It affects people. The city can act.",
    }


def test_dec006_week_priorities_reads_stored_weeks_with_decisions_alerts_and_staleness(
    database: Database,
) -> None:
    import pandas as pd

    world = _world(database)
    mayor = _mayor(database)
    with database.session(write=True) as s:
        s.add(ProblemIndicator(problem_id=world.problem_id, indicator_id=world.parks_indicator_id))
        s.add(Observation(indicator_id=world.works_indicator_id, period=TODAY, value=90))
        save_snapshot(s, "2026-W46", pd.DataFrame([_snapshot(world.problem_id, 1, 0.40)]))
        save_snapshot(s, WEEK, pd.DataFrame([_snapshot(world.problem_id, 1, 0.50)]))
        s.add(
            Alert(
                dedupe_key="a1",
                kind="threshold",
                method="t",
                severity="warning",
                series_key="s",
                problem_id=world.problem_id,
                first_detected=TODAY,
                last_detected=TODAY,
                message="Past warning",
            )
        )
    with database.session(write=True) as s:
        record_decision(s, mayor, world.problem_id, "2026-W46", "monitor", "Last week's call")
        record_decision(s, mayor, world.problem_id, WEEK, "focus", "This week's call")
    with database.session() as s:
        assert snapshot_weeks(s) == [WEEK, "2026-W46"]
        data = week_priorities(s, WEEK, today=TODAY)
        subject = decision_subject(s, world.problem_id, WEEK)
    row = data.ranking.iloc[0]
    assert data.previous_week == "2026-W46" and data.compared
    assert row["movement"] == "same" and row["trend"] == "worsening"  # importance +0.10
    assert row["active_alerts"] == 1 and row["overdue_indicators"] == 1 and row["stale"]
    assert row["decision"] == "focus" and row["decision_author"] == "Maya Mayor"
    assert (row["last_decision"], row["last_decision_week"]) == ("monitor", "2026-W46")
    assert row["reports_adjusted"] == 12.5 and row["people"] == 1000
    assert list(data.alerts["change"]) == ["new"]
    assert data.alerts.iloc[0]["problems"] == ("Unsafe playgrounds",)
    assert set(data.overdue["code"]) == {"PRK-01"}  # the weekly PW-01 was reported today
    assert list(data.owners["department"]) == ["Parks & Recreation"]
    assert list(data.owners.iloc[0]["heads"]) == ["Pat Parks"]
    assert subject is not None and subject.rank == 1 and subject.decision == "focus"
    assert subject.last_decision_week == "2026-W46"
