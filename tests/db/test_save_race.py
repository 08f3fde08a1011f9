"""Save races on SQLite and PostgreSQL: one save wins, every other gets ``EditConflict``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from db.backward_map import add_factor
from db.models import AuditLog, CausalFactor, Problem
from db.problems import EditConflict, update_problem
from db.session import Database
from tests.db.factories import World, make_world

SAVERS = 8
HOLD_SECONDS = 30


def _rename(session: Session, world: World, version: int, n: int) -> None:
    update_problem(session, world.chief, world.problem_id, version, {"title": f"Title {n}"})


def _add_factor(session: Session, world: World, version: int, n: int) -> None:
    add_factor(
        session,
        world.chief,
        world.problem_id,
        version,
        {"title": f"Factor {n}", "reach": "controls"},
    )


WRITERS: dict[str, Callable[[Session, World, int, int], None]] = {
    "update_problem": _rename,
    "add_factor": _add_factor,
}


def _race(database: Database, world: World, writer: Callable[..., None]) -> list[tuple[str, Any]]:
    """Every saver at the version loaded before. On PostgreSQL each is held just before its first
    flush until all have read that version, so the losers reach the UPDATE and meet
    ``StaleDataError`` (once a 500); SQLite's ``BEGIN IMMEDIATE`` makes them see the new one."""
    with database.session() as session:
        loaded = int(session.scalar(select(Problem.version).where(Problem.id == world.problem_id)))
    start = threading.Barrier(SAVERS, timeout=HOLD_SECONDS)
    flushing = threading.Barrier(SAVERS, timeout=HOLD_SECONDS)

    def save(n: int) -> tuple[str, Any]:
        start.wait()
        try:
            with database.session(write=True) as session:
                if not database.sqlite:
                    held = []

                    @event.listens_for(session, "before_flush")
                    def hold(*_args: Any) -> None:
                        if not held:
                            held.append(True)
                            flushing.wait()

                writer(session, world, loaded, n)
            return ("won", n)
        except EditConflict as conflict:
            return ("conflict", conflict.current_version)
        except Exception as error:  # the point: anything else would be a 500
            return ("error", repr(error))

    with ThreadPoolExecutor(SAVERS) as pool:
        return list(pool.map(save, range(SAVERS)))


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_race001_one_save_wins_every_other_gets_the_conflict(database: Database, name: str) -> None:
    with database.session(write=True) as session:
        world = make_world(session)
    with database.session() as session:
        before = int(session.scalar(select(Problem.version).where(Problem.id == world.problem_id)))
    results = _race(database, world, WRITERS[name])
    errors = [detail for kind, detail in results if kind == "error"]
    assert not errors, errors
    winners = [n for kind, n in results if kind == "won"]
    assert len(winners) == 1, results
    assert [v for kind, v in results if kind == "conflict"] == [before + 1] * (SAVERS - 1)
    with database.session() as session:
        problem = session.get(Problem, world.problem_id)
        assert problem is not None and problem.version == before + 1
        factors = session.scalars(select(CausalFactor.title)).all()
        audits = session.scalar(select(func.count()).select_from(AuditLog)) or 0
    if name == "update_problem":
        assert problem.title == f"Title {winners[0]}" and factors == []
    else:
        assert problem.title == "Unsafe playgrounds" and factors == [f"Factor {winners[0]}"]
    assert audits == 1  # the winner's save, audited once; the losers left no trace
