"""Scoring against a real database: loading the inputs and storing weekly snapshots."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    Actor,
    AppSetting,
    CategoryProblem,
    CausalFactor,
    Department,
    District,
    Engagement,
    FactorLink,
    Indicator,
    IndicatorStatusUpdate,
    Innovation,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
    ReportCategory,
    ReportDailyCount,
    ScoreSnapshot,
)
from db.scores import (
    latest_snapshot_week,
    load_scoring_inputs,
    load_snapshot,
    load_weights,
    save_snapshot,
)
from db.session import Database
from triage.scoring import ScoringWeights, iso_week, movement, score_problems

AS_OF = dt.date(2026, 11, 22)
WEEK = iso_week(AS_OF)


@dataclass(frozen=True)
class City:
    graduation: int
    potholes: int
    resolved: int
    eastside: int
    rate_indicator: int
    backlog_indicator: int


def make_city(session: Session) -> City:
    """Two districts, two open problems and a resolved one, with a little of everything."""
    edu = Department(code="EDU", name="Education")
    works = Department(code="PW", name="Public Works")
    east = District(code="E", name="Eastside", population=50_000, need_index=0.9)
    west = District(code="W", name="Westside", population=80_000, need_index=0.2)
    session.add_all([edu, works, east, west])
    session.flush()
    graduation = Problem(title="Falling graduation", policy_area="education", authority=2)
    potholes = Problem(title="Potholes", policy_area="streets", authority=5, political_capital=4)
    resolved = Problem(title="Old news", policy_area="streets", status="resolved")
    rate = Indicator(
        code="EDU-1",
        name="Graduation rate",
        unit="%",
        direction="up",
        cadence="weekly",
        department_id=edu.id,
        target=90,
        warning_threshold=85,
        critical_threshold=75,
    )
    backlog = Indicator(
        code="PW-1",
        name="Pothole backlog",
        unit="days",
        direction="down",
        cadence="monthly",
        department_id=works.id,
        target=7,
    )
    pothole_reports = ReportCategory(code="pothole", name="Pothole")
    truancy = ReportCategory(code="truancy", name="Truancy")
    session.add_all([graduation, potholes, resolved, rate, backlog, pothole_reports, truancy])
    session.flush()
    session.add_all(
        [
            ProblemDistrict(problem_id=graduation.id, district_id=east.id),
            ProblemIndicator(problem_id=graduation.id, indicator_id=rate.id),
            ProblemIndicator(problem_id=potholes.id, indicator_id=backlog.id, weight=2.0),
            CategoryProblem(category_id=truancy.id, problem_id=graduation.id),
            CategoryProblem(category_id=pothole_reports.id, problem_id=potholes.id),
        ]
    )
    last_monday = AS_OF - dt.timedelta(days=6)
    for week in range(15):
        session.add(
            Observation(
                indicator_id=rate.id,
                period=last_monday - dt.timedelta(weeks=week),
                value=83 + 0.5 * week,
                entered_at=dt.datetime(2026, 11, 1),
            )
        )
    # A correction to the latest week, entered later: it wins.
    session.add(
        Observation(
            indicator_id=rate.id,
            period=last_monday,
            value=82.0,
            entered_at=dt.datetime(2026, 11, 21),
        )
    )
    # The future is not known yet on AS_OF.
    session.add(Observation(indicator_id=rate.id, period=AS_OF + dt.timedelta(days=1), value=99.0))
    # The backlog was last reported long ago: stale, but its latest value still loads.
    for month in range(3):
        session.add(
            Observation(
                indicator_id=backlog.id,
                period=dt.date(2025, 3 - month, 1),
                value=12.0 + month,
            )
        )
    session.add(
        IndicatorStatusUpdate(
            indicator_id=backlog.id, status="off_track", created_at=dt.datetime(2025, 3, 2)
        )
    )
    counts = [
        (AS_OF, pothole_reports.id, east.id, 10),
        (AS_OF - dt.timedelta(days=30), pothole_reports.id, west.id, 200),
        (AS_OF - dt.timedelta(days=89), pothole_reports.id, east.id, 5),
        (AS_OF - dt.timedelta(days=90), pothole_reports.id, east.id, 7),
        (AS_OF - dt.timedelta(days=300), truancy.id, east.id, 40),
        (AS_OF - dt.timedelta(days=20), truancy.id, east.id, 6),
        (AS_OF - dt.timedelta(days=400), truancy.id, west.id, 999),
        (AS_OF + dt.timedelta(days=1), truancy.id, west.id, 999),
    ]
    session.add_all(
        ReportDailyCount(day=d, category_id=c, district_id=k, count=n) for d, c, k, n in counts
    )
    absenteeism = CausalFactor(
        problem_id=graduation.id, title="Absenteeism", reach="influences", evidence="strong",
        weight=0.8,
    )  # fmt: skip
    churn = CausalFactor(
        problem_id=graduation.id, title="Housing churn", reach="outside", weight=0.5
    )
    crews = CausalFactor(problem_id=potholes.id, title="Crew shortage", reach="controls", weight=1)
    district = Actor(name="School district", sector="government_agency")
    fund = Actor(name="Education Fund", sector="philanthropic")
    session.add_all([absenteeism, churn, crews, district, fund])
    session.flush()
    session.add_all(
        [
            FactorLink(factor_id=churn.id, parent_id=absenteeism.id),
            Engagement(
                actor_id=district.id, problem_id=graduation.id, factor_id=absenteeism.id,
                role="delivering",
            ),
            Engagement(
                actor_id=fund.id, problem_id=graduation.id, role="funding",
                committed_funding=500_000,
            ),
            Innovation(
                problem_id=graduation.id, title="Attendance nudges", origin="tested_elsewhere",
                kind="new_service", stage="pilot", evidence="strong",
            ),
        ]
    )  # fmt: skip
    session.flush()
    return City(graduation.id, potholes.id, resolved.id, east.id, rate.id, backlog.id)


def test_sdb001_inputs_load_from_the_tables(database: Database) -> None:
    with database.session(write=True) as s:
        city = make_city(s)
    with database.session() as s:
        inputs = load_scoring_inputs(s, AS_OF)
    assert list(inputs.problems["id"]) == [city.graduation, city.potholes]
    obs = inputs.observations
    rate = obs[obs["indicator_id"] == city.rate_indicator]
    assert pd.to_datetime(rate["period"]).max() <= pd.Timestamp(AS_OF)
    backlog = obs[obs["indicator_id"] == city.backlog_indicator]
    assert list(backlog["value"]) == [12.0]  # only the latest of a stale indicator
    assert list(inputs.status_updates["status"]) == ["off_track"]
    assert len(inputs.factors) == 3 and len(inputs.factor_links) == 1
    assert len(inputs.engagements) == 2 and len(inputs.innovations) == 1


def test_sdb002_report_counts_are_summed_into_the_scoring_windows(database: Database) -> None:
    with database.session(write=True) as s:
        city = make_city(s)
    with database.session() as s:
        inputs = load_scoring_inputs(s, AS_OF)
    counts = inputs.report_counts
    day = pd.to_datetime(counts["day"])
    recent = counts[day == pd.Timestamp(AS_OF)]
    earlier = counts[day < pd.Timestamp(AS_OF)]
    # Last 90 days (AS_OF − 89 .. AS_OF) versus the rest of the year; older and future excluded.
    assert recent["count"].sum() == 10 + 200 + 5 + 6
    assert earlier["count"].sum() == 7 + 40
    assert set(earlier["district_id"]) == {city.eastside}
    assert set(counts["district_id"]) <= set(inputs.districts["id"])


def test_sdb003_scores_from_the_database_read_sensibly(database: Database) -> None:
    with database.session(write=True) as s:
        city = make_city(s)
    with database.session() as s:
        scores = score_problems(load_scoring_inputs(s, AS_OF), load_weights(s), AS_OF)
    rows = scores.set_index("problem_id")
    graduation = rows.loc[city.graduation]
    assert graduation["explanation"].startswith(
        "Graduation rate is 8 points below target (82% against 90%) and has worsened 11 "
        "weeks running."
    )
    assert "residents filed 6 reports in 90 days" in graduation["explanation"]
    potholes = rows.loc[city.potholes]
    assert "overdue" in potholes["explanation"]
    assert potholes["confidence"] < graduation["confidence"]
    assert sorted(scores["rank"]) == [1, 2]


def test_sdb004_snapshots_upsert_and_round_trip(database: Database) -> None:
    with database.session(write=True) as s:
        city = make_city(s)
    with database.session() as s:
        scores = score_problems(load_scoring_inputs(s, AS_OF), ScoringWeights(), AS_OF)
    with database.session(write=True) as s:
        save_snapshot(s, WEEK, scores)
    with database.session() as s:
        stored = load_snapshot(s, WEEK)
    assert list(stored["problem_id"]) == list(scores["problem_id"])
    assert stored["priority"].to_numpy() == pytest.approx(scores["priority"].to_numpy())
    assert stored["components"].iloc[0] == json.loads(json.dumps(scores["components"].iloc[0]))
    assert stored["title"].iloc[0] == scores["title"].iloc[0]

    # Re-scoring the same week replaces it: new values, and a problem no longer scored goes.
    changed = scores[scores["problem_id"] == city.potholes].assign(rank=1, priority=0.5)
    with database.session(write=True) as s:
        save_snapshot(s, WEEK, changed)
    with database.session() as s:
        stored = load_snapshot(s, WEEK)
        rows = s.scalar(select(func.count()).select_from(ScoreSnapshot))
    assert rows == 1
    assert list(stored["problem_id"]) == [city.potholes]
    assert stored["priority"].iloc[0] == 0.5


def test_sdb005_previous_week_and_movement(database: Database) -> None:
    with database.session(write=True) as s:
        make_city(s)
    with database.session() as s:
        inputs = load_scoring_inputs(s, AS_OF)
    now = score_problems(inputs, as_of=AS_OF)
    before = now.assign(rank=now["rank"].to_numpy()[::-1])
    with database.session(write=True) as s:
        save_snapshot(s, "2026-W45", before)
        save_snapshot(s, WEEK, now)
    with database.session() as s:
        assert latest_snapshot_week(s) == WEEK
        assert latest_snapshot_week(s, before=WEEK) == "2026-W45"
        assert latest_snapshot_week(s, before="2026-W45") is None
        previous = load_snapshot(s, latest_snapshot_week(s, before=WEEK))
        assert load_snapshot(s, "2026-W01").empty
    moves = movement(now, previous)
    assert list(moves["movement"]) == ["up", "down"]


def test_sdb006_weights_default_and_stored(database: Database) -> None:
    with database.session() as s:
        assert load_weights(s) == ScoringWeights()
    heavier = ScoringWeights(importance=2.0)
    with database.session(write=True) as s:
        s.add(AppSetting(key=ScoringWeights.KEY, value=heavier.to_dict()))
    with database.session() as s:
        assert load_weights(s) == heavier


def test_sdb007_an_empty_database_scores_nothing(database: Database) -> None:
    with database.session() as s:
        inputs = load_scoring_inputs(s, AS_OF)
    assert score_problems(inputs, as_of=AS_OF).empty
    with database.session(write=True) as s:
        save_snapshot(s, WEEK, score_problems(inputs, as_of=AS_OF))
    with database.session() as s:
        assert load_snapshot(s, WEEK).empty


def test_sdb008_an_assumed_worsening_is_unknown_not_a_trend(database: Database) -> None:
    """A problem with no indicator trend has its worsening assumed (the typical value, range
    0 to 1) for the score; the page must not read that assumption as "worsening"."""
    from db.pages.priorities import trend_of, week_snapshot

    with database.session(write=True) as s:
        city = make_city(s)
        strays = Problem(title="Stray dogs", policy_area="health")  # no indicator at all
        s.add(strays)
        s.flush()
        strays_id = strays.id
    with database.session() as s:
        scores = score_problems(load_scoring_inputs(s, AS_OF), ScoringWeights(), AS_OF)
    stored = scores.set_index("problem_id")["components"]
    assert "worsening" in stored[strays_id]["missing"]
    assert stored[strays_id]["importance"]["worsening"]["value"] is not None  # assumed, stored
    with database.session(write=True) as s:
        save_snapshot(s, WEEK, scores)
    with database.session() as s:
        snapshot = week_snapshot(s, WEEK).set_index("problem_id")
    assert snapshot.at[strays_id, "worsening"] is None
    assert trend_of(snapshot.at[strays_id, "worsening"], None) == "steady"
    # A measured worsening (graduation has a weekly indicator with a target) keeps its number.
    assert "worsening" not in stored[city.graduation]["missing"]
    measured = stored[city.graduation]["importance"]["worsening"]["value"]
    assert snapshot.at[city.graduation, "worsening"] == pytest.approx(measured)
