"""Archived records leave pickers, lists and the ranking but keep their history, on SQLite and
PostgreSQL: alerts (filters, link picker, feed, link refused), actors (directory, charts),
scoring inputs, the department page and uploads, overdue lists, home figures, stored weeks,
the problem page and the category mappings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pytest
from sqlalchemy import func, select

from callbacks.alerts import link_options, resolve_filters
from db import catalog_admin, lookups
from db.actors import (
    actor_directory,
    actor_engagements,
    funding_engagements,
    portfolio_problems,
    sector_coverage,
    sector_problem_cells,
    sector_summary,
)
from db.alerts.actions import act_on_alert
from db.alerts.feed import AlertFilters, alert_feed, alert_row
from db.alerts.overdue import overdue_indicators
from db.category_mappings import category_mappings, mapping_choices
from db.indicators import department_indicators, problem_indicators, record_observation
from db.ingest import import_observations
from db.models import (
    Actor,
    Alert,
    CategoryProblem,
    Department,
    Engagement,
    Indicator,
    Observation,
    Problem,
    ProblemIndicator,
    ReportCategory,
    ScoreSnapshot,
)
from db.pages.home import home_kpis, problem_overview
from db.pages.priorities import overdue_by_owner, week_snapshot
from db.problems import problem_indicator_choices, problem_record
from db.scores import load_scoring_inputs
from db.session import Database
from layouts import actors as actors_page
from layouts import problem as problem_page
from tests.clock import TODAY
from tests.db.factories import World, make_world
from tests.webutil import texts
from triage.security import Principal, Role
from triage.validation import ValidationError
from triage.weeks import iso_week

ADMIN = Principal(None, "ada", Role.ADMIN)
WEEK = iso_week(TODAY)


@dataclass(frozen=True)
class Archive:
    world: World
    old_department: int
    old_indicator: int
    old_problem: int
    old_actor: int
    live_actor: int
    alert: int


def _build(database: Database) -> Archive:
    """Two of each kind, one archived through the admin service; links from both to both."""
    with database.session(write=True) as session:
        world = make_world(session)
        old_dept = Department(code="OLD", name="Old Department")
        old_ind = Indicator(
            code="PRK-OLD",
            name="Retired playground count",
            unit="%",
            direction="up",
            cadence="monthly",
            department_id=world.parks_id,
            target=90,
            warning_threshold=80,
            critical_threshold=70,
        )
        old_problem = Problem(title="Closed pool", policy_area="parks", status="focus")
        live_actor = Actor(name="Friends of Parks", sector="community")
        old_actor = Actor(name="Defunct Foundation", sector="philanthropic")
        category = ReportCategory(code="PLAYGROUND", name="Playground", department_id=None)
        session.add_all([old_dept, old_ind, old_problem, live_actor, old_actor, category])
        session.flush()
        live = session.get(Problem, world.problem_id)
        assert live is not None
        live.status = "focus"
        session.add_all(
            [
                ProblemIndicator(
                    problem_id=world.problem_id, indicator_id=world.parks_indicator_id
                ),
                ProblemIndicator(problem_id=world.problem_id, indicator_id=old_ind.id),
                ProblemIndicator(problem_id=old_problem.id, indicator_id=world.parks_indicator_id),
                CategoryProblem(category_id=category.id, problem_id=old_problem.id),
                # Far below the critical threshold: it would count as off target.
                Observation(indicator_id=old_ind.id, period=TODAY - dt.timedelta(days=5), value=10),
                Observation(
                    indicator_id=world.parks_indicator_id,
                    period=TODAY - dt.timedelta(days=5),
                    value=95,
                ),
                Engagement(
                    actor_id=live_actor.id,
                    problem_id=world.problem_id,
                    role="funding",
                    committed_funding=1000,
                ),
                Engagement(
                    actor_id=old_actor.id,
                    problem_id=world.problem_id,
                    role="funding",
                    committed_funding=5000,
                ),
                Engagement(
                    actor_id=live_actor.id,
                    problem_id=old_problem.id,
                    role="delivering",
                    committed_funding=0,
                ),
                ScoreSnapshot(
                    week=WEEK,
                    problem_id=old_problem.id,
                    rank=1,
                    importance=0.5,
                    tractability=0.5,
                    neglectedness=0.5,
                    priority=0.5,
                    priority_low=0.4,
                    priority_high=0.6,
                    confidence=0.5,
                    components={},
                    explanation="",
                ),
            ]
        )
        alert = Alert(
            dedupe_key="surge:playground",
            kind="surge",
            method="poisson",
            severity="warning",
            series_key="category:PLAYGROUND",
            category_id=category.id,
            problem_id=old_problem.id,
            first_detected=TODAY,
            last_detected=TODAY,
            message="More playground reports than usual",
            state="linked",
        )
        session.add(alert)
        session.flush()
        ids = (old_dept.id, old_ind.id, old_problem.id, old_actor.id, live_actor.id, alert.id)
    with database.session(write=True) as session:
        for kind, record in zip(("department", "indicator", "problem", "actor"), ids, strict=False):
            catalog_admin.set_archived(session, ADMIN, kind, record, True)
    return Archive(world, *ids)


@pytest.fixture
def archive(database: Database) -> Archive:
    return _build(database)


def test_arc001_lookups_leave_archived_out_unless_asked(
    database: Database, archive: Archive
) -> None:
    with database.session() as session:
        assert lookups.departments(session)["code"].tolist() == ["PRK", "PW"]
        assert sorted(lookups.departments(session, archived=True)["code"]) == ["OLD", "PRK", "PW"]
        assert lookups.problems(session)["title"].tolist() == ["Unsafe playgrounds"]
        assert lookups.problems(session, archived=True)["title"].tolist() == [
            "Closed pool",
            "Unsafe playgrounds",
        ]
        # The reports page's picker: only problems with a category, none archived.
        assert lookups.problems(session, mapped_only=True).empty


def test_arc002_alerts_filters_and_link_picker(database: Database, archive: Archive) -> None:
    with database.session() as session:
        choices = lookups.problems(session)
        alert = alert_row(session, archive.alert)
        # A saved address naming the archived problem or department still filters the feed.
        chosen = resolve_filters(session, None, "OLD", None, None, str(archive.old_problem), "all")
    assert alert is not None
    assert alert["problem"] == "Closed pool (archived)"
    assert chosen.notes == ()
    assert chosen.filters.problem_id == archive.old_problem
    assert chosen.filters.department_id == archive.old_department
    options = link_options(choices, alert)
    assert options == [
        {"label": "Unsafe playgrounds", "value": str(archive.world.problem_id)},
        {"label": "Closed pool (archived)", "value": str(archive.old_problem), "disabled": True},
    ]
    assert link_options(choices, None) == options[:1]


def test_arc003_an_alert_cannot_be_linked_to_an_archived_problem(
    database: Database, archive: Archive
) -> None:
    with database.session(write=True) as session:
        alert = session.get(Alert, archive.alert)
        assert alert is not None
        alert.state, alert.problem_id = "new", None
    with (
        pytest.raises(ValidationError, match=r"Closed pool.*archived"),
        database.session(write=True) as session,
    ):
        act_on_alert(
            session, archive.world.chief, archive.alert, "link", problem_id=archive.old_problem
        )
    with database.session() as session:
        alert = session.get(Alert, archive.alert)
        assert alert is not None and (alert.state, alert.problem_id) == ("new", None)
        feed, total = alert_feed(session, AlertFilters(states=None))
    assert total == 1 and feed["problem"].tolist() == [None]


def test_arc004_actors_directory_and_charts(database: Database, archive: Archive) -> None:
    with database.session() as session:
        directory = actor_directory(session)
        summary = sector_summary(session)
        engagements = actor_engagements(session, [archive.live_actor])
        problems, _ = portfolio_problems(session)
        cells = sector_problem_cells(session)
        coverage = sector_coverage(session)
        funding = funding_engagements(session)
    assert directory["name"].tolist() == ["Friends of Parks"]
    assert summary[["sector", "actors"]].values.tolist() == [["community", 1]]
    assert summary["committed_funding"].tolist() == [1000.0]
    # History: the engagement on the archived problem is still listed, and says so.
    assert engagements[["problem_title", "problem_archived"]].values.tolist() == [
        ["Closed pool", True],
        ["Unsafe playgrounds", False],
    ]
    assert problems["title"].tolist() == ["Unsafe playgrounds"]
    assert cells[["problem_id", "sector", "committed_funding"]].values.tolist() == [
        [archive.world.problem_id, "community", 1000.0]
    ]
    assert coverage.values.tolist() == [[archive.world.problem_id, "community"]]
    assert funding["actor"].tolist() == ["Friends of Parks"]
    listed = actors_page._engagement_list(archive.live_actor, engagements.to_dict("records"))
    shown = texts(listed)
    assert "Closed pool" in shown and "problem archived" in shown


def test_arc005_scoring_leaves_archived_records_out(database: Database, archive: Archive) -> None:
    with database.session() as session:
        inputs = load_scoring_inputs(session, TODAY)
    assert inputs.problems["title"].tolist() == ["Unsafe playgrounds"]
    links = inputs.problem_indicators
    assert archive.old_indicator not in set(links["indicator_id"])
    assert links[links["problem_id"] == archive.world.problem_id]["indicator_id"].tolist() == [
        archive.world.parks_indicator_id
    ]
    assert inputs.actors["name"].tolist() == ["Friends of Parks"]
    assert set(inputs.engagements["actor_id"]) == {archive.live_actor}


def test_arc006_department_page_and_uploads_refuse_archived_indicators(
    database: Database, archive: Archive
) -> None:
    head = archive.world.head_parks
    with database.session() as session:
        listed = department_indicators(session, archive.world.parks_id, today=TODAY)
        before = session.scalar(select(func.count()).select_from(Observation))
    assert listed["code"].tolist() == ["PRK-01"]
    with (
        pytest.raises(ValidationError, match="PRK-OLD is archived"),
        database.session(write=True) as session,
    ):
        record_observation(
            session, head, archive.old_indicator, TODAY.replace(day=1), 50, today=TODAY
        )
    frame = pd.DataFrame(
        {
            "row": [1, 2],
            "indicator": ["PRK-OLD", "PRK-01"],
            "period": [TODAY.replace(day=1).isoformat()] * 2,
            "value": ["50", "91"],
            "status": ["", ""],
            "note": ["", ""],
        }
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(session, head, frame, today=TODAY)
    assert (counts.added, counts.updated) == (1, 0)
    assert [(r.row, r.reason) for r in rejections] == [
        (1, "PRK-OLD is archived: it takes no new values")
    ]
    with database.session() as session:
        after = session.scalar(select(func.count()).select_from(Observation))
        stored = session.scalars(
            select(Observation.indicator_id).where(Observation.value.in_([50, 91]))
        ).all()
    assert after == before + 1 and stored == [archive.world.parks_indicator_id]


def test_arc007_overdue_lists_and_home_figures(database: Database, archive: Archive) -> None:
    with database.session() as session:
        late = overdue_indicators(session, TODAY + dt.timedelta(days=400))
        brief = overdue_by_owner(session, TODAY + dt.timedelta(days=400))
        kpis = home_kpis(session, today=TODAY)
        overview = problem_overview(session, today=TODAY)
    assert sorted(late["code"]) == ["PRK-01", "PW-01"]
    assert sorted(brief["code"]) == ["PRK-01", "PW-01"]
    assert dict(kpis.problems_by_status)["focus"] == 1
    assert kpis.indicators_total == 2
    assert overview[["title", "indicator_count", "off_target_count"]].values.tolist() == [
        ["Unsafe playgrounds", 1, 0]
    ]


def test_arc008_history_keeps_archived_records_and_says_so(
    database: Database, archive: Archive
) -> None:
    with database.session() as session:
        week = week_snapshot(session, WEEK)
        record = problem_record(session, archive.old_problem)
        live = problem_record(session, archive.world.problem_id)
        indicators = problem_indicators(session, archive.world.problem_id, today=TODAY)
        choices = problem_indicator_choices(session, archive.world.problem_id)
        mappings = category_mappings(session, today=TODAY)
        _, mapping_problems = mapping_choices(session)
    assert week["title"].tolist() == ["Closed pool (archived)"]
    assert record is not None and record.archived and record.title == "Closed pool"
    assert live is not None and not live.archived
    assert sorted(indicators["name"]) == [
        "Playgrounds in good repair",
        "Retired playground count (archived)",
    ]
    assert choices["code"].tolist() == ["PRK-01"]
    assert mappings["problem_title"].tolist() == ["Closed pool (archived)"]
    assert mapping_problems["title"].tolist() == ["Unsafe playgrounds"]
    header = problem_page.problem_header(
        problem_page.HeaderData(
            title=record.title,
            status=record.status,
            policy_area="Parks",
            lead_department=None,
            owner=None,
            districts=(),
            week=WEEK,
            score=None,
            archived=record.archived,
        )
    )
    assert problem_page.ARCHIVED_NOTE in texts(header)


def test_arc009_the_detector_leaves_archived_indicators_alone(
    database: Database, archive: Archive
) -> None:
    """An archived indicator far below its critical level raises no alert; restored, it does."""
    from db.models import Alert as AlertRow
    from db.models import Observation
    from triage.jobs.alerts import refresh_alerts

    with database.session(write=True) as session:
        for months in range(1, 7):
            period = (TODAY.replace(day=1) - dt.timedelta(days=31 * months)).replace(day=1)
            entered = dt.datetime.combine(period + dt.timedelta(days=35), dt.time(9))
            session.add(
                Observation(
                    indicator_id=archive.old_indicator, period=period, value=10, entered_at=entered
                )
            )

    def alerts_on_it() -> int:
        with database.session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(AlertRow)
                    .where(AlertRow.indicator_id == archive.old_indicator)
                )
                or 0
            )

    refresh_alerts(database, TODAY)
    assert alerts_on_it() == 0
    with database.session(write=True) as session:
        catalog_admin.set_archived(session, ADMIN, "indicator", archive.old_indicator, False)
    refresh_alerts(database, TODAY)
    assert alerts_on_it() >= 1  # the same values alert once it is live again
