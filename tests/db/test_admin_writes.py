"""Administration writes (category mapping) and the actors/reports/admin queries, on SQLite and
PostgreSQL: audited, refused without CONFIGURE, and the same answers on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db import lookups
from db.actors import (
    actor_directory,
    actor_engagements,
    funding_engagements,
    funding_flows,
    portfolio_problems,
    sector_coverage,
    sector_problem_cells,
    sector_summary,
)
from db.catalog_admin import data_sources
from db.category_mappings import (
    add_category_mapping,
    category_mappings,
    mapping_choices,
    mapping_weight,
    remove_category_mapping,
    set_category_mapping_weight,
)
from db.jobs import last_job_runs
from db.models import (
    Actor,
    AuditLog,
    CategoryProblem,
    CitizenReport,
    DataSource,
    District,
    Engagement,
    JobRun,
    ReportCategory,
    ReportDailyCount,
)
from db.reports import (
    ReportFilters,
    cell_counts,
    daily_counts,
    district_propensity,
    district_totals,
    latest_report_day,
    recent_reports,
    top_categories,
)
from db.session import Database
from tests.db.factories import World, make_world
from triage.security import PermissionDenied, Principal, Role
from triage.validation import ValidationError

ADMIN = Principal.system("test-admin")
DAY = dt.date(2026, 11, 20)


def _categories(session) -> tuple[int, int]:
    pothole = ReportCategory(code="pothole", name="Pothole")
    noise = ReportCategory(code="noise", name="Loud <b>music</b>")
    session.add_all([pothole, noise])
    session.flush()
    return pothole.id, noise.id


def _city(session) -> tuple[World, int, int, int, int]:
    """The factory world plus two categories, two districts, reports, actors and engagements."""
    world = make_world(session)
    pothole, noise = _categories(session)
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    north = District(code="N", name="North", population=1000, need_index=0.2, geometry=square)
    south = District(code="S", name="South", population=3000, need_index=0.8, geometry=None)
    session.add_all([north, south])
    session.flush()
    counts = [
        (DAY, pothole, north.id, 5),
        (DAY, noise, north.id, 2),
        (DAY - dt.timedelta(days=1), pothole, south.id, 4),
        (DAY - dt.timedelta(days=364), pothole, north.id, 3),  # the same day last year
    ]
    session.add_all(
        [ReportDailyCount(day=d, category_id=c, district_id=k, count=n) for d, c, k, n in counts]
    )
    for i in range(3):
        session.add(
            CitizenReport(
                source="t",
                service_request_id=f"r{i}",
                category_id=pothole,
                district_id=north.id if i < 2 else None,
                description=f"hole {i}",
                requested_at=dt.datetime.combine(DAY, dt.time(8 + i)),
            )
        )
    fund = Actor(name="Riverton Fund", sector="philanthropic")
    works = Actor(name="Public Works Crew", sector="government_agency")
    club = Actor(name="Block Club", sector="community")
    session.add_all([fund, works, club])
    session.flush()
    session.add_all(
        [
            Engagement(
                actor_id=fund.id,
                problem_id=world.problem_id,
                role="funding",
                committed_funding=1000.0,
            ),
            Engagement(actor_id=works.id, problem_id=world.problem_id, role="delivering"),
            Engagement(actor_id=club.id, problem_id=world.problem_id, role="delivering"),
            Engagement(
                actor_id=club.id,
                problem_id=world.problem_id,
                role="advocating",
                stance="competing",
            ),
        ]
    )
    session.flush()
    return world, pothole, noise, north.id, south.id


# ---------------------------------------------------------------- the mapping writes


def test_admw001_add_change_remove_a_mapping_with_audit_rows(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        pothole, _noise = _categories(s)
    with database.session(write=True) as s:
        add_category_mapping(s, world.chief, pothole, world.problem_id, "0.5")
    with database.session(write=True) as s:
        set_category_mapping_weight(s, world.chief, str(pothole), str(world.problem_id), 0.75)
        set_category_mapping_weight(s, world.chief, pothole, world.problem_id, 0.75)  # no-op
    with database.session() as s:
        assert s.get(CategoryProblem, (pothole, world.problem_id)).weight == 0.75
    with database.session(write=True) as s:
        remove_category_mapping(s, ADMIN, pothole, world.problem_id)
    with database.session() as s:
        assert s.get(CategoryProblem, (pothole, world.problem_id)) is None
        audit = s.execute(
            select(AuditLog.action, AuditLog.username, AuditLog.before, AuditLog.after)
            .where(AuditLog.entity == "category_problem")
            .order_by(AuditLog.id)
        ).all()
    assert [a[0] for a in audit] == ["create", "update", "delete"]
    assert [a[1] for a in audit] == ["chief", "chief", "test-admin"]
    assert audit[0][3]["weight"] == 0.5 and audit[0][2] is None
    assert (audit[1][2]["weight"], audit[1][3]["weight"]) == (0.5, 0.75)
    assert audit[2][2]["category_code"] == "pothole" and audit[2][3] is None


@pytest.mark.parametrize(
    ("category", "problem", "weight", "message"),
    [
        ("pothole", "problem", 0, "above 0 and at most 1"),
        ("pothole", "problem", 1.5, "above 0 and at most 1"),
        ("pothole", "problem", "lots", "must be a number"),
        ("pothole", "problem", None, "Enter a weight"),
        ("pothole", "problem", float("nan"), "between 0 and 1"),
        (999_999, "problem", 0.5, "no report category"),
        ("pothole", 999_999, 0.5, "no problem"),
        ("", "problem", 0.5, "Choose a category"),
        ("pothole", "x; drop table", 0.5, "Choose a problem"),
    ],
)
def test_admw002_bad_input_is_refused_and_nothing_is_written(
    database: Database, category: object, problem: object, weight: object, message: str
) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        pothole, _noise = _categories(s)
    category_id = pothole if category == "pothole" else category
    problem_id = world.problem_id if problem == "problem" else problem
    with pytest.raises(ValidationError, match=message), database.session(write=True) as s:
        add_category_mapping(s, world.chief, category_id, problem_id, weight)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CategoryProblem)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_admw003_duplicates_and_missing_mappings_are_explained(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        pothole, noise = _categories(s)
        add_category_mapping(s, world.chief, pothole, world.problem_id, 1)
    with pytest.raises(ValidationError, match="already mapped"), database.session(write=True) as s:
        add_category_mapping(s, world.chief, pothole, world.problem_id, 0.5)
    with pytest.raises(ValidationError, match="is not mapped"), database.session(write=True) as s:
        set_category_mapping_weight(s, world.chief, noise, world.problem_id, 0.5)
    with pytest.raises(ValidationError, match="is not mapped"), database.session(write=True) as s:
        remove_category_mapping(s, world.chief, noise, world.problem_id)


@pytest.mark.parametrize("role", [Role.MAYOR, Role.ANALYST, Role.DEPARTMENT_HEAD])
def test_admw004_only_configure_roles_may_change_the_mapping(
    database: Database, role: Role
) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        pothole, _noise = _categories(s)
        add_category_mapping(s, ADMIN, pothole, world.problem_id, 1)
    actor = Principal(None, f"someone-{role.value}", role, world.parks_id)
    for write, args in (
        (add_category_mapping, (pothole, world.problem_id, 0.5)),
        (set_category_mapping_weight, (pothole, world.problem_id, 0.5)),
        (remove_category_mapping, (pothole, world.problem_id)),
    ):
        with pytest.raises(PermissionDenied), database.session(write=True) as s:
            write(s, actor, *args)
    with database.session() as s:
        assert s.get(CategoryProblem, (pothole, world.problem_id)).weight == 1.0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 1


# ---------------------------------------------------------------- queries on both backends


def test_admw010_report_queries_push_filters_into_sql(database: Database) -> None:
    with database.session(write=True) as s:
        _world, pothole, noise, north, south = _city(s)
    week = ReportFilters(DAY - dt.timedelta(days=6), DAY)
    only_north = ReportFilters(DAY - dt.timedelta(days=6), DAY, None, north)
    potholes = ReportFilters(DAY - dt.timedelta(days=6), DAY, (pothole,))
    with database.session() as s:
        assert latest_report_day(s) == DAY
        cells = cell_counts(s, week)
        assert int(cells["count"].sum()) == 11
        assert int(cell_counts(s, only_north)["count"].sum()) == 7
        top = top_categories(s, potholes, cell_counts(s, potholes))
        assert list(top["name"]) == ["Pothole"] and list(top["last_year"]) == [3.0]
        totals = district_totals(s, cells)
        assert dict(zip(totals["code"], totals["count"], strict=True)) == {"N": 7, "S": 4}
        daily = daily_counts(s, week)
        assert list(daily["day"]) == [DAY - dt.timedelta(days=1), DAY]
        assert daily_counts(s, week.last_year())["count"].sum() == 3
        nothing = ReportFilters(week.date_from, week.date_to, ())
        assert nothing.matches_nothing and cell_counts(s, nothing).empty
        propensity = district_propensity(s, DAY)
        assert set(propensity["district_id"]) == {north, south}
        recent = recent_reports(s, week)
        assert list(recent["description"]) == ["hole 2", "hole 1", "hole 0"]
        assert list(recent["district"].fillna("none")) == ["none", "North", "North"]
        assert len(recent_reports(s, week, limit=2)) == 2
        assert len(recent_reports(s, only_north)) == 2
        assert recent_reports(s, ReportFilters(DAY, DAY, (noise,))).empty
        assert lookups.problems(s, mapped_only=True).empty  # nothing is mapped yet
        geometry = lookups.districts(s, geometry=True)
        assert geometry.loc[geometry["code"] == "N", "geometry"].iloc[0]["type"] == "Polygon"


def test_admw011_actor_queries_group_the_same_on_both_backends(database: Database) -> None:
    with database.session(write=True) as s:
        world, *_ = _city(s)
    with database.session() as s:
        directory = actor_directory(s)
        assert list(directory["name"]) == ["Block Club", "Public Works Crew", "Riverton Fund"]
        assert list(directory["engagements"]) == [2, 1, 1]
        assert list(directory["committed_funding"]) == [0.0, 0.0, 1000.0]
        found = actor_directory(s, search="WORKS")
        assert list(found["name"]) == ["Public Works Crew"]
        assert actor_directory(s, search="%").empty  # no wildcard
        assert list(actor_directory(s, sector="community")["name"]) == ["Block Club"]
        summary = sector_summary(s)
        assert dict(zip(summary["sector"], summary["actors"], strict=True)) == {
            "community": 1,
            "government_agency": 1,
            "philanthropic": 1,
        }
        cells = sector_problem_cells(s)
        assert int(cells["engagements"].sum()) == 4
        problems, week = portfolio_problems(s)
        assert week is None and list(problems["id"]) == [world.problem_id]
        coverage = sector_coverage(s)
        assert set(coverage["sector"]) == {"philanthropic", "government_agency", "community"}
        flows = funding_flows(funding_engagements(s))
        assert sorted(flows["actor"]) == ["Block Club", "Public Works Crew"]
        assert list(flows["amount"]) == [500.0, 500.0]
        engagements = actor_engagements(s, [int(i) for i in directory["id"]])
        assert len(engagements) == 4 and set(engagements["problem_title"]) == {"Unsafe playgrounds"}


def test_admw012_admin_queries_mapping_sources_and_jobs(database: Database) -> None:
    with database.session(write=True) as s:
        world, pothole, noise, _north, _south = _city(s)
        add_category_mapping(s, world.chief, pothole, world.problem_id, 0.5)
        now = dt.datetime(2026, 11, 20, 12)
        s.add_all(
            [
                DataSource(name="city311", kind="open311", poll_minutes=15, last_success_at=now),
                JobRun(job_id="weekly-snapshot", started_at=now - dt.timedelta(days=7),
                       finished_at=now - dt.timedelta(days=7), outcome="success", rows=3),
                JobRun(job_id="weekly-snapshot", started_at=now, finished_at=now,
                       outcome="error", error="boom"),
                JobRun(job_id="other", started_at=now, outcome="running"),
            ]
        )  # fmt: skip
    with database.session() as s:
        mappings = category_mappings(s, today=DAY)
        assert list(mappings["code"]) == ["noise", "pothole"]  # unmapped first
        assert mappings["problem_id"].isna().tolist() == [True, False]
        assert list(mappings["reports_recent"]) == [2, 9]
        assert mapping_weight(s, pothole, world.problem_id) == 0.5
        assert mapping_weight(s, noise, world.problem_id) is None
        categories, problems = mapping_choices(s)
        assert list(categories["code"]) == ["noise", "pothole"] and len(problems) == 1
        assert list(data_sources(s)["name"]) == ["city311"]
        runs = last_job_runs(s)
        assert list(runs["job_id"]) == ["other", "weekly-snapshot"]
        latest = runs.set_index("job_id").loc["weekly-snapshot"]
        assert latest["outcome"] == "error" and latest["runs"] == 2 and latest["error"] == "boom"
        assert latest["last_success_at"] == now - dt.timedelta(days=7)
        assert lookups.problems(s, mapped_only=True)["title"].tolist() == ["Unsafe playgrounds"]
