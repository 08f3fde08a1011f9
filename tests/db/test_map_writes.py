"""Backward-map, engagement and innovation edits on SQLite and PostgreSQL: validation, audit
rows, version conflicts, loops refused, roles refused; and the drill-down's read queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from db.backward_map import (
    add_engagement,
    add_factor,
    add_innovation,
    clean_problem_changes,
    remove_engagement,
    remove_factor,
    remove_innovation,
    update_engagement,
    update_factor,
    update_innovation,
)
from db.models import (
    Actor,
    AuditLog,
    CategoryProblem,
    CausalFactor,
    CitizenReport,
    District,
    Engagement,
    FactorLink,
    Innovation,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from db.problems import (
    EditConflict,
    problem_audit_trail,
    problem_categories,
    problem_record,
    update_problem,
)
from db.reports import district_report_totals, newest_in_categories, report_days
from db.scores import has_snapshot, problem_score
from db.session import Database
from tests.clock import TODAY
from tests.db.factories import World, make_world
from triage.security import PermissionDenied, Principal, Role
from triage.validation import ValidationError


@dataclass(frozen=True)
class MapWorld:
    world: World
    other_problem_id: int
    council_id: int
    foundation_id: int

    @property
    def chief(self) -> Principal:
        return self.world.chief

    @property
    def problem_id(self) -> int:
        return self.world.problem_id


def _world(database: Database) -> MapWorld:
    with database.session(write=True) as s:
        world = make_world(s)
        other = Problem(title="Graffiti", policy_area="parks")
        council = Actor(name="City council", sector="elected_political")
        foundation = Actor(name="Riverside Foundation", sector="philanthropic")
        s.add_all([other, council, foundation])
        s.flush()
        return MapWorld(world, other.id, council.id, foundation.id)


def _version(database: Database, problem_id: int) -> int:
    with database.session() as s:
        return int(s.scalar(select(Problem.version).where(Problem.id == problem_id)))


def _count(database: Database, model: type) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _add_factor(database: Database, m: MapWorld, **fields: object) -> int:
    values = {"title": "Broken equipment", "reach": "controls", **fields}
    with database.session(write=True) as s:
        saved = add_factor(s, m.chief, m.problem_id, _version(database, m.problem_id), values)
    return saved.entity_id


def test_mapw001_add_factor_writes_links_audit_and_bumps_version(database: Database) -> None:
    m = _world(database)
    before = _version(database, m.problem_id)
    root = _add_factor(database, m, weight=0.8, evidence="strong")
    with database.session(write=True) as s:
        saved = add_factor(
            s,
            m.chief,
            m.problem_id,
            before + 1,
            {"title": "  Vandalism  ", "reach": "influences", "parent_ids": [str(root)]},
        )
    assert saved.version == before + 2 == _version(database, m.problem_id)
    with database.session() as s:
        factor = s.get(CausalFactor, saved.entity_id)
        assert factor is not None and factor.title == "Vandalism" and factor.weight == 0.5
        assert factor.evidence == "moderate"
        links = s.execute(select(FactorLink.factor_id, FactorLink.parent_id)).all()
        assert [tuple(r) for r in links] == [(saved.entity_id, root)]
        audit = s.scalars(
            select(AuditLog).where(AuditLog.entity == "causal_factor").order_by(AuditLog.id)
        ).all()
    assert [a.action for a in audit] == ["create", "create"]
    assert audit[-1].username == "chief" and audit[-1].entity_id == str(saved.entity_id)
    assert audit[-1].after["parent_ids"] == [root]
    assert audit[-1].after["problem_id"] == m.problem_id


def test_mapw002_stale_version_is_a_conflict_and_writes_nothing(database: Database) -> None:
    m = _world(database)
    loaded = _version(database, m.problem_id)
    _add_factor(database, m)  # someone else saved first
    factors, audits = _count(database, CausalFactor), _count(database, AuditLog)
    with pytest.raises(EditConflict) as error, database.session(write=True) as s:
        add_factor(s, m.chief, m.problem_id, loaded, {"title": "Mine", "reach": "outside"})
    message = str(error.value)
    assert "changed by someone else" in message and "nothing of yours was saved" in message
    assert f"your version {loaded}, now {loaded + 1}" in message
    assert _count(database, CausalFactor) == factors and _count(database, AuditLog) == audits


def test_mapw003_every_kind_of_edit_bumps_the_problem_version(database: Database) -> None:
    m = _world(database)
    factor_id = _add_factor(database, m)
    steps = [
        lambda s, v: update_factor(s, m.chief, factor_id, v, {"weight": "0.7"}),
        lambda s, v: add_engagement(
            s,
            m.chief,
            m.problem_id,
            v,
            {"actor_id": m.council_id, "role": "authorising"},
            today=TODAY,
        ),
        lambda s, v: add_innovation(
            s,
            m.chief,
            m.problem_id,
            v,
            {"title": "Adopt-a-park", "origin": "reclaimed", "kind": "coordination"},
        ),
    ]
    for step in steps:
        version = _version(database, m.problem_id)
        with database.session(write=True) as s:
            assert step(s, version).version == version + 1
        # The problem form, loaded before that map edit, is now refused too.
        with pytest.raises(EditConflict), database.session(write=True) as s:
            update_problem(s, m.chief, m.problem_id, version, {"title": "Renamed"})


def test_mapw004_loops_are_refused_with_a_clear_message(database: Database) -> None:
    m = _world(database)
    a = _add_factor(database, m, title="Cause A")
    b = _add_factor(database, m, title="Cause B", parent_ids=[a])
    c = _add_factor(database, m, title="Cause C", parent_ids=[b])
    links, audits = _count(database, FactorLink), _count(database, AuditLog)
    version = _version(database, m.problem_id)
    with pytest.raises(ValidationError) as error, database.session(write=True) as s:
        update_factor(s, m.chief, a, version, {"parent_ids": [c]})
    text = str(error.value)
    assert "loop" in text and "Cause A" in text and "Cause C" in text
    with (
        pytest.raises(ValidationError, match="cannot feed into itself"),
        database.session(write=True) as s,
    ):
        update_factor(s, m.chief, a, version, {"parent_ids": [a]})
    assert _count(database, FactorLink) == links and _count(database, AuditLog) == audits
    assert _version(database, m.problem_id) == version


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  ", "reach": "controls"}, "title is required"),
        ({"title": "x" * 201, "reach": "controls"}, "201 characters long; at most 200 fit"),
        ({"title": "A", "reach": "everywhere"}, "reach must be controls, influences or outside"),
        ({"title": "A", "reach": "controls", "weight": "1.5"}, "between 0 and 1"),
        ({"title": "A", "reach": "controls", "weight": "lots"}, "must be a number"),
        ({"title": "A", "reach": "controls", "evidence": "rumour"}, "evidence must be"),
        ({"title": "A", "reach": "controls", "indicator_id": "99999"}, "indicator does not"),
        ({"title": "A", "reach": "controls", "colour": "red"}, "cannot be edited: colour"),
    ],
)
def test_mapw005_factor_validation_messages(
    database: Database, fields: dict[str, object], message: str
) -> None:
    m = _world(database)
    with pytest.raises(ValidationError, match=message), database.session(write=True) as s:
        add_factor(s, m.chief, m.problem_id, _version(database, m.problem_id), fields)
    assert _count(database, CausalFactor) == 0 and _count(database, AuditLog) == 0


def test_mapw006_parents_must_be_on_the_same_map(database: Database) -> None:
    m = _world(database)
    with database.session(write=True) as s:
        foreign = CausalFactor(problem_id=m.other_problem_id, title="Elsewhere", reach="outside")
        s.add(foreign)
        s.flush()
        foreign_id = foreign.id
    with pytest.raises(ValidationError, match="not on this problem's map"):
        _add_factor(database, m, parent_ids=[foreign_id])


def test_mapw007_update_factor_records_before_and_after(database: Database) -> None:
    m = _world(database)
    a = _add_factor(database, m, title="A")
    b = _add_factor(database, m, title="B")
    with database.session(write=True) as s:
        update_factor(
            s,
            m.chief,
            b,
            _version(database, m.problem_id),
            {"title": "B, renamed", "reach": "outside", "parent_ids": [a]},
        )
    with database.session() as s:
        row = s.scalars(
            select(AuditLog).where(AuditLog.action == "update").order_by(AuditLog.id.desc())
        ).first()
        assert s.get(CausalFactor, b).reach == "outside"
    assert row is not None and row.entity == "causal_factor"
    assert row.before == {
        "title": "B",
        "reach": "controls",
        "parent_ids": [],
        "problem_id": m.problem_id,
    }
    assert row.after["title"] == "B, renamed" and row.after["parent_ids"] == [a]


def test_mapw008_remove_factor_reroots_children_and_keeps_engagements(database: Database) -> None:
    m = _world(database)
    top = _add_factor(database, m, title="Top")
    middle = _add_factor(database, m, title="Middle", parent_ids=[top])
    bottom = _add_factor(database, m, title="Bottom", parent_ids=[middle])
    with database.session(write=True) as s:
        engagement = add_engagement(
            s,
            m.chief,
            m.problem_id,
            _version(database, m.problem_id),
            {"actor_id": m.council_id, "role": "funding", "factor_id": middle},
            today=TODAY,
        )
    with database.session(write=True) as s:
        remove_factor(s, m.chief, middle, _version(database, m.problem_id))
    with database.session() as s:
        assert s.get(CausalFactor, middle) is None
        assert s.execute(select(FactorLink)).all() == []  # bottom now feeds the problem
        assert s.get(Engagement, engagement.entity_id).factor_id is None
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "delete")).one()
    assert audit.before["title"] == "Middle" and audit.before["parent_ids"] == [top]
    assert audit.before["child_ids"] == [bottom]
    assert audit.before["engagement_ids"] == [engagement.entity_id]


def test_mapw009_engagements_add_change_remove_with_validation(database: Database) -> None:
    m = _world(database)
    factor = _add_factor(database, m)
    with database.session(write=True) as s:
        saved = add_engagement(
            s,
            m.chief,
            m.problem_id,
            _version(database, m.problem_id),
            {
                "actor_id": str(m.foundation_id),
                "factor_id": str(factor),
                "role": "funding",
                "committed_funding": "250,000",
                "authorisation": "Board approved",
                "strings": "Annual report",
                "last_contact": "2026-10-01",
            },
            today=TODAY,
        )
    with database.session(write=True) as s:
        update_engagement(
            s,
            m.chief,
            saved.entity_id,
            _version(database, m.problem_id),
            {"stance": "competing", "committed_funding": ""},
            today=TODAY,
        )
    with database.session() as s:
        row = s.get(Engagement, saved.entity_id)
        assert row.stance == "competing" and row.committed_funding == 0.0
        assert row.last_contact == dt.date(2026, 10, 1) and row.strings == "Annual report"
    bad = [
        ({"actor_id": None, "role": "funding"}, "Choose the actor"),
        ({"actor_id": 99999, "role": "funding"}, "actor does not exist"),
        ({"actor_id": m.council_id, "role": "cheering"}, "role must be"),
        ({"actor_id": m.council_id, "role": "funding", "committed_funding": "-5"}, "between 0"),
        (
            {"actor_id": m.council_id, "role": "funding", "last_contact": "2999-01-01"},
            "in the future",
        ),
        ({"actor_id": m.council_id, "role": "funding", "last_contact": "soon"}, "not a date"),
        (  # two days after the city's today: the city's date counts, not the machine's
            {
                "actor_id": m.council_id,
                "role": "funding",
                "last_contact": (TODAY + dt.timedelta(days=2)).isoformat(),
            },
            "in the future",
        ),
    ]
    for fields, message in bad:
        with pytest.raises(ValidationError, match=message), database.session(write=True) as s:
            add_engagement(
                s, m.chief, m.problem_id, _version(database, m.problem_id), fields, today=TODAY
            )
    with database.session(write=True) as s:
        foreign = CausalFactor(problem_id=m.other_problem_id, title="Elsewhere", reach="outside")
        s.add(foreign)
        s.flush()
        foreign_id = foreign.id
    with (
        pytest.raises(ValidationError, match="not on this problem's map"),
        database.session(write=True) as s,
    ):
        add_engagement(
            s,
            m.chief,
            m.problem_id,
            _version(database, m.problem_id),
            {"actor_id": m.council_id, "role": "funding", "factor_id": foreign_id},
            today=TODAY,
        )
    with database.session(write=True) as s:
        remove_engagement(s, m.chief, saved.entity_id, _version(database, m.problem_id))
    assert _count(database, Engagement) == 0 and _count(database, Actor) == 2
    with database.session() as s:
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.entity == "engagement").order_by(AuditLog.id)
        ).all()
    assert actions == ["create", "update", "delete"]


def test_mapw010_innovations_add_change_remove_with_validation(database: Database) -> None:
    m = _world(database)
    with database.session(write=True) as s:
        saved = add_innovation(
            s,
            m.chief,
            m.problem_id,
            _version(database, m.problem_id),
            {
                "title": "Adopt-a-playground",
                "origin": "tested_elsewhere",
                "kind": "coordination",
                "lead_actor_id": str(m.council_id),
                "cost": "12,500",
                "evidence_note": "Worked in two cities",
            },
        )
    with database.session(write=True) as s:
        update_innovation(
            s,
            m.chief,
            saved.entity_id,
            _version(database, m.problem_id),
            {"stage": "pilot", "evidence": "moderate", "cost": None, "lead_actor_id": None},
        )
    with database.session() as s:
        row = s.get(Innovation, saved.entity_id)
        assert (row.stage, row.evidence, row.cost, row.lead_actor_id) == (
            "pilot",
            "moderate",
            None,
            None,
        )
    for fields, message in (
        ({"title": "", "origin": "home_grown", "kind": "coordination"}, "title is required"),
        ({"title": "X", "origin": "space", "kind": "coordination"}, "origin must be"),
        ({"title": "X", "origin": "home_grown", "kind": "magic"}, "kind must be"),
        (
            {"title": "X", "origin": "home_grown", "kind": "coordination", "stage": "done"},
            "stage must be",
        ),
        ({"title": "X", "origin": "home_grown", "kind": "coordination", "cost": "-1"}, "between"),
    ):
        with pytest.raises(ValidationError, match=message), database.session(write=True) as s:
            add_innovation(s, m.chief, m.problem_id, _version(database, m.problem_id), fields)
    with database.session(write=True) as s:
        remove_innovation(s, m.chief, saved.entity_id, _version(database, m.problem_id))
    assert _count(database, Innovation) == 0


@pytest.mark.parametrize("role", [Role.MAYOR, Role.DEPARTMENT_HEAD, Role.ANALYST])
def test_mapw011_only_editors_may_write(database: Database, role: Role) -> None:
    m = _world(database)
    factor = _add_factor(database, m)
    actor = Principal(None, f"{role.value}-user", role, m.world.parks_id)
    version = _version(database, m.problem_id)
    attempts = [
        lambda s: add_factor(s, actor, m.problem_id, version, {"title": "X"}),
        lambda s: update_factor(s, actor, factor, version, {"title": "X"}),
        lambda s: remove_factor(s, actor, factor, version),
        lambda s: add_engagement(s, actor, m.problem_id, version, {}, today=TODAY),
        lambda s: add_innovation(s, actor, m.problem_id, version, {}),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied), database.session(write=True) as s:
            attempt(s)
    assert _version(database, m.problem_id) == version
    assert _count(database, CausalFactor) == 1


def test_mapw012_two_editors_at_once_one_wins(database: Database) -> None:
    m = _world(database)
    loaded = _version(database, m.problem_id)
    with database.session(write=True) as first:
        add_factor(first, m.chief, m.problem_id, loaded, {"title": "A", "reach": "controls"})
    with pytest.raises(EditConflict), database.session(write=True) as second:
        add_factor(second, m.chief, m.problem_id, loaded, {"title": "B", "reach": "controls"})
    with database.session() as s:
        assert s.scalars(select(CausalFactor.title)).all() == ["A"]


def test_mapw013_problem_fields_are_checked_before_update(database: Database) -> None:
    clean = clean_problem_changes(
        {"title": " Title ", "status": "focus", "authority": "3", "political_capital": 0}
    )
    assert clean == {"title": "Title", "status": "focus", "authority": 3, "political_capital": 0}
    for values, message in (
        ({"title": ""}, "title is required"),
        ({"status": "panic"}, "status must be"),
        ({"authority": "6"}, "between 0 and 5"),
        ({"political_capital": "2.5"}, "whole number"),
        ({"owner_id": 3}, "cannot be edited"),
    ):
        with pytest.raises(ValidationError, match=message):
            clean_problem_changes(values)


def test_mapw014_audit_trail_covers_the_problem_and_removed_records(database: Database) -> None:
    m = _world(database)
    kept = _add_factor(database, m, title="Kept")
    gone = _add_factor(database, m, title="Gone")
    with database.session(write=True) as s:
        remove_factor(s, m.chief, gone, _version(database, m.problem_id))
    with database.session(write=True) as s:
        update_problem(
            s, m.chief, m.problem_id, _version(database, m.problem_id), {"title": "Renamed"}
        )
    with database.session(write=True) as s:
        other = CausalFactor(problem_id=m.other_problem_id, title="Other's", reach="outside")
        s.add(other)
    with database.session() as s:
        trail = problem_audit_trail(s, m.problem_id)
    assert list(trail["entity"]) == ["problem", "causal_factor", "causal_factor", "causal_factor"]
    assert list(trail["action"]) == ["update", "delete", "create", "create"]
    assert set(trail["entity_id"]) == {str(m.problem_id), str(kept), str(gone)}
    assert list(trail["id"]) == sorted(trail["id"], reverse=True)
    assert list(trail["name"]) == ["Renamed", "Gone", "Gone", "Kept"]
    with database.session(write=True) as s:
        engagement = add_engagement(
            s,
            m.chief,
            m.problem_id,
            _version(database, m.problem_id),
            {"actor_id": m.council_id, "role": "convening"},
            today=TODAY,
        )
    with database.session(write=True) as s:
        update_engagement(
            s,
            m.chief,
            engagement.entity_id,
            _version(database, m.problem_id),
            {"stance": "indifferent"},
            today=TODAY,
        )
    with database.session(write=True) as s:
        remove_engagement(s, m.chief, engagement.entity_id, _version(database, m.problem_id))
    with database.session() as s:
        trail = problem_audit_trail(s, m.problem_id)
    assert list(trail["name"][:3]) == ["City council"] * 3


def test_mapw015_reads_of_the_drill_down(database: Database) -> None:
    m = _world(database)
    today = dt.date(2026, 11, 20)
    with database.session(write=True) as s:
        north = District(code="N", name="North", population=10_000)
        south = District(code="S", name="South", population=30_000)
        potholes = ReportCategory(code="pothole", name="Pothole")
        noise = ReportCategory(code="noise", name="Noise")
        s.add_all([north, south, potholes, noise])
        s.flush()
        s.add(CategoryProblem(category_id=potholes.id, problem_id=m.problem_id, weight=1.0))
        for day in range(40):
            for district, n in ((north, 1), (south, 2)):
                s.add(
                    ReportDailyCount(
                        day=today - dt.timedelta(days=day),
                        category_id=potholes.id,
                        district_id=district.id,
                        count=n,
                    )
                )
        for i in range(30):
            for category in (potholes, noise):
                s.add(
                    CitizenReport(
                        source="test",
                        service_request_id=f"{category.code}-{i}",
                        category_id=category.id,
                        description=f"report {i}",
                        requested_at=dt.datetime(2026, 11, 1) + dt.timedelta(hours=i),
                        district_id=north.id if i % 2 else south.id,
                    )
                )
        ids = (north.id, south.id, potholes.id)
    north_id, south_id, pothole_id = ids
    with database.session() as s:
        record = problem_record(s, m.problem_id)
        categories = problem_categories(s, m.problem_id)
        days = report_days(s, [pothole_id], today - dt.timedelta(days=7), today)
        totals = district_report_totals(s, today - dt.timedelta(days=365), today)
        recent = newest_in_categories(s, [pothole_id], (), limit=20)
        recent_north = newest_in_categories(s, [pothole_id], (north_id,), limit=5)
        assert problem_record(s, 999_999) is None
        assert problem_score(s, m.problem_id, "2026-W47") is None
        assert has_snapshot(s, "2026-W47") is False
    assert record is not None and record.title == "Unsafe playgrounds" and record.version == 1
    assert list(categories["name"]) == ["Pothole"]
    assert len(days) == 14 and int(days["count"].sum()) == 21
    assert dict(zip(totals["district_id"], totals["count"], strict=True)) == {
        north_id: 40,
        south_id: 80,
    }
    assert len(recent) == 20 and list(recent["requested_at"]) == sorted(
        recent["requested_at"], reverse=True
    )
    assert recent.iloc[0]["description"] == "report 29" and set(recent["category"]) == {"Pothole"}
    assert len(recent_north) == 5 and set(recent_north["district"]) == {"North"}
