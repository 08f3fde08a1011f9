"""Text typed into the backward map is cleaned once, by ``triage.validation.plain_text``: a NUL
byte (which PostgreSQL refuses to store) or another control character never reaches the
database, and text that is nothing but control characters is refused with a clear message."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.backward_map import add_factor, add_innovation, clean_problem_changes, update_factor
from db.models import AuditLog, CausalFactor, Innovation, Problem
from db.session import Database
from tests.db.factories import make_world
from triage.validation import ValidationError


def _version(database: Database, problem_id: int) -> int:
    with database.session() as s:
        return int(s.scalar(select(Problem.version).where(Problem.id == problem_id)))


def test_mapt001_nul_in_a_factor_title_is_stripped_not_a_server_error(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    fields = {
        "title": "Broken\x00 swings\x07",
        "description": "Reported\x00 twice\x1b in May,\nagain in June\tby the school",
        "reach": "controls",
    }
    with database.session(write=True) as s:
        saved = add_factor(
            s, world.chief, world.problem_id, _version(database, world.problem_id), fields
        )
    with database.session() as s:
        row = s.get(CausalFactor, saved.entity_id)
        assert (row.title, row.description) == (
            "Broken swings",
            "Reported twice in May,\nagain in June\tby the school",
        )
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "causal_factor")).one()
        assert "\x00" not in str(audit.after) and "Broken swings" in str(audit.after)
    with database.session(write=True) as s:
        update_factor(
            s,
            world.chief,
            saved.entity_id,
            _version(database, world.problem_id),
            {"title": "\x00Worn\x00 swings\x00"},
        )
    with database.session() as s:
        assert s.scalar(select(CausalFactor.title)) == "Worn swings"


@pytest.mark.parametrize("title", ["\x00", "\x00\x00 \x07", " \x1b\x7f "])
def test_mapt002_a_title_of_control_characters_only_is_refused(
    database: Database, title: str
) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    version = _version(database, world.problem_id)
    with (
        pytest.raises(ValidationError, match=r"^The factor's title is required\.$"),
        database.session(write=True) as s,
    ):
        add_factor(s, world.chief, world.problem_id, version, {"title": title, "reach": "controls"})
    with (
        pytest.raises(ValidationError, match=r"^The innovation's title is required\.$"),
        database.session(write=True) as s,
    ):
        add_innovation(
            s,
            world.chief,
            world.problem_id,
            version,
            {"title": title, "origin": "home_grown", "kind": "coordination"},
        )
    with database.session() as s:
        counts = [s.scalar(select(func.count()).select_from(m)) for m in (CausalFactor, Innovation)]
        assert counts == [0, 0]
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert _version(database, world.problem_id) == version


def test_mapt003_problem_fields_are_cleaned_the_same_way() -> None:
    clean = clean_problem_changes(
        {"title": " Playground\x00 repairs ", "description": "One\x00 two\nthree"}
    )
    assert clean == {"title": "Playground repairs", "description": "One two\nthree"}
    with pytest.raises(ValidationError, match=r"^The title is required\.$"):
        clean_problem_changes({"title": "\x00"})
