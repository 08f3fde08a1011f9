"""Scoring: indicator gaps, reporting bias, the three scores, priority, weights and weeks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from triage.bench.scoring import bench_scoring
from triage.scoring import (
    IMPORTANCE_PARTS,
    TRACTABILITY_PARTS,
    ScoringInputs,
    ScoringWeights,
    combine,
    indicator_gaps,
    innovation_pipeline,
    iso_week,
    movement,
    previous_week,
    problem_components,
    ranking_sensitivity,
    ranking_table,
    reporting_propensity,
    score_problems,
    top_n_stability,
    week_end,
    week_start,
)
from triage.validation import ValidationError

AS_OF = dt.date(2026, 11, 22)  # a Sunday: the end of 2026-W47
LAST_MONDAY = AS_OF - dt.timedelta(days=6)
REACHES = ("outside", "influences", "controls")


def weekly(values: list[float], indicator_id: int = 1, end: dt.date = LAST_MONDAY) -> pd.DataFrame:
    periods = pd.date_range(end=pd.Timestamp(end), periods=len(values), freq="7D")
    return pd.DataFrame({"indicator_id": indicator_id, "period": periods, "value": values})


def indicator(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 1,
        "name": "Graduation rate",
        "unit": "%",
        "direction": "up",
        "cadence": "weekly",
        "target": 90.0,
        "warning_threshold": 85.0,
        "critical_threshold": 75.0,
    }
    row.update(overrides)
    return row


def base_inputs() -> ScoringInputs:
    """Three problems: a falling graduation rate in Eastside, a city-wide pothole backlog, and
    an empty problem nobody has described yet."""
    falling = [90 - 0.5 * i for i in range(20)]
    return ScoringInputs(
        problems=pd.DataFrame(
            {
                "id": [1, 2, 3],
                "title": ["Graduation", "Potholes", "Empty"],
                "status": "watch",
                "political_capital": [3, 4, 2],
                "authority": [2, 5, 2],
            }
        ),
        districts=pd.DataFrame(
            {
                "id": [1, 2, 3],
                "name": ["Eastside", "Westside", "Downtown"],
                "population": [50_000, 80_000, 20_000],
                "need_index": [0.9, 0.2, 0.5],
            }
        ),
        problem_districts=pd.DataFrame({"problem_id": [1], "district_id": [1]}),
        indicators=pd.DataFrame(
            [
                indicator(),
                indicator(
                    id=2,
                    name="Pothole backlog",
                    unit="days",
                    direction="down",
                    target=7.0,
                    warning_threshold=None,
                    critical_threshold=None,
                ),
            ]
        ),
        problem_indicators=pd.DataFrame(
            {"problem_id": [1, 2], "indicator_id": [1, 2], "weight": [1.0, 1.0]}
        ),
        observations=pd.concat([weekly(falling, 1), weekly([10.0] * 20, 2)], ignore_index=True),
        report_counts=pd.DataFrame(
            {
                "day": [dt.date(2026, 11, 1)] * 6 + [dt.date(2026, 3, 1)] * 3,
                "category_id": [1, 1, 1, 2, 2, 2, 2, 2, 2],
                "district_id": [1, 2, 3, 1, 2, 3, 1, 2, 3],
                "count": [40, 400, 160, 20, 600, 180, 100, 3000, 800],
            }
        ),
        category_problems=pd.DataFrame(
            {"category_id": [1, 2], "problem_id": [1, 2], "weight": 1.0}
        ),
        factors=pd.DataFrame(
            {
                "id": [1, 2, 3],
                "problem_id": [1, 1, 2],
                "title": ["Absenteeism", "Housing churn", "Crew shortage"],
                "reach": ["influences", "outside", "controls"],
                "evidence": ["strong", "moderate", "weak"],
                "weight": [0.8, 0.5, 0.9],
                "indicator_id": None,
            }
        ),
        factor_links=pd.DataFrame({"factor_id": [2], "parent_id": [1]}),
        actors=pd.DataFrame(
            {
                "id": [1, 2],
                "name": ["School district", "Education Fund"],
                "sector": ["government_agency", "philanthropic"],
            }
        ),
        engagements=pd.DataFrame(
            {
                "id": [1, 2],
                "actor_id": [1, 2],
                "problem_id": [1, 1],
                "factor_id": [1, None],
                "role": ["delivering", "funding"],
                "stance": ["complementary", "complementary"],
                "committed_funding": [0.0, 500_000.0],
            }
        ),
        innovations=pd.DataFrame(
            {
                "id": [1],
                "problem_id": [1],
                "title": ["Attendance nudges"],
                "origin": ["tested_elsewhere"],
                "kind": ["new_service"],
                "stage": ["pilot"],
                "evidence": ["strong"],
            }
        ),
    )


def row_of(scores: pd.DataFrame, problem_id: int) -> pd.Series:
    return scores.set_index("problem_id").loc[problem_id]


def components_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """A hand-made ``problem_components`` frame: every part 0.5 unless given, exact ranges."""
    frame = pd.DataFrame(index=pd.Index(range(1, len(rows) + 1), name="problem_id"))
    frame["title"] = [f"P{i}" for i in frame.index]
    for part in (*IMPORTANCE_PARTS, *TRACTABILITY_PARTS, "uncovered", "sectors_absent"):
        values = [float(r.get(part, 0.5)) for r in rows]
        frame[part] = values
        frame[f"{part}_low"] = values
        frame[f"{part}_high"] = values
    frame["funding_score"] = [float(r.get("funding_score", 0.0)) for r in rows]
    return frame


# ---------------------------------------------------------------- indicator gaps


def test_score001_gap_is_direction_aware_and_capped() -> None:
    indicators = pd.DataFrame(
        [
            indicator(id=1),
            indicator(id=2, direction="down", target=7.0, warning_threshold=None,
                      critical_threshold=None),
            indicator(id=3),
            indicator(id=4),
            indicator(id=5, direction="down", target=0.0, warning_threshold=None,
                      critical_threshold=None),
            indicator(id=6, direction="down", target=20.0),
        ]
    )  # fmt: skip
    observations = pd.concat(
        [
            weekly([80.0], 1),  # 10 short of 90, critical at 75: two thirds of the way
            weekly([10.0], 2),  # 3 over 7 with no thresholds: full gap at 50% over target
            weekly([95.0], 3),  # better than target: no gap, surplus not credited
            weekly([40.0], 4),  # far past critical: capped at 1
            weekly([5.0], 5),  # target 0: one unit is the full distance
            weekly([1.0], 6),  # far better than a "lower is better" target: ratio capped
        ],
        ignore_index=True,
    )
    gaps = indicator_gaps(indicators, observations, AS_OF).set_index("indicator_id")
    assert gaps.loc[1, "gap"] == pytest.approx(10 / 15)
    assert gaps.loc[1, "attainment"] == pytest.approx(80 / 90)
    assert gaps.loc[2, "gap"] == pytest.approx(3 / 3.5)
    assert gaps.loc[2, "attainment"] == pytest.approx(0.7)
    assert gaps.loc[3, "gap"] == 0.0 and gaps.loc[3, "attainment"] == pytest.approx(95 / 90)
    assert gaps.loc[4, "gap"] == 1.0
    assert gaps.loc[5, "gap"] == 1.0 and np.isnan(gaps.loc[5, "attainment"])
    assert gaps.loc[6, "attainment"] == 1.5
    assert (gaps["gap_source"] == "target").all()


def test_score002_trend_counts_only_the_bad_direction() -> None:
    indicators = pd.DataFrame([indicator(id=1), indicator(id=2), indicator(id=3)])
    observations = pd.concat(
        [
            weekly([90 - 0.5 * i for i in range(20)], 1),
            weekly([70 + 0.5 * i for i in range(20)], 2),
            weekly([80.0, 79.0], 3),
        ],
        ignore_index=True,
    )
    gaps = indicator_gaps(indicators, observations, AS_OF).set_index("indicator_id")
    # Falling half a point a week is 26 points a year against a 15-point full gap.
    assert gaps.loc[1, "slope_per_year"] == pytest.approx(-0.5 * 365 / 7)
    assert gaps.loc[1, "worsening"] == 1.0
    assert gaps.loc[1, "streak"] == 11  # twelve points in the trend window
    assert gaps.loc[1, "points"] == 12
    assert gaps.loc[2, "worsening"] == 0.0 and gaps.loc[2, "streak"] == 0
    assert np.isnan(gaps.loc[3, "worsening"])  # two points make no trend
    assert gaps.loc[3, "worsening_low"] == 0.0 and gaps.loc[3, "worsening_high"] == 1.0


def test_score003_stale_data_lowers_quality_and_widens_the_range() -> None:
    indicators = pd.DataFrame([indicator()])
    observations = weekly([80.0] * 12)
    fresh = indicator_gaps(indicators, observations, AS_OF).iloc[0]
    late = indicator_gaps(indicators, observations, AS_OF + dt.timedelta(days=70)).iloc[0]
    assert not fresh["overdue"] and fresh["quality"] == 1.0
    assert fresh["gap_low"] == fresh["gap"] == fresh["gap_high"]
    assert late["overdue"] and late["freshness"] == 0.0 and late["quality"] == 0.0
    assert late["gap_high"] - late["gap_low"] == pytest.approx(0.6)
    inputs = dataclasses.replace(base_inputs(), observations=weekly([80.0] * 12))
    now = row_of(score_problems(inputs, as_of=AS_OF), 1)
    later = row_of(score_problems(inputs, as_of=AS_OF + dt.timedelta(days=70)), 1)
    assert later["confidence"] < now["confidence"]
    assert "overdue" in later["explanation"]
    assert (
        later["priority_high"] - later["priority_low"] > now["priority_high"] - now["priority_low"]
    )


def test_score004_latest_entry_for_a_period_wins_and_future_is_ignored() -> None:
    indicators = pd.DataFrame([indicator()])
    day = pd.Timestamp(LAST_MONDAY)
    corrected = pd.DataFrame(
        {
            "indicator_id": [1, 1, 1],
            "period": [day, day, day + pd.Timedelta(days=7)],
            "value": [60.0, 88.0, 10.0],
            "entered_at": pd.to_datetime(
                ["2026-11-20 10:00", "2026-11-18 09:00", "2026-11-30 08:00"]
            ),
        }
    )
    gaps = indicator_gaps(indicators, corrected, AS_OF)
    assert gaps.loc[0, "latest_value"] == 60.0  # entered later, though listed first
    without_times = indicator_gaps(indicators, corrected.drop(columns="entered_at"), AS_OF)
    assert without_times.loc[0, "latest_value"] == 88.0  # the last row of the period


def test_score005_department_status_stands_in_without_a_target() -> None:
    indicators = pd.DataFrame([indicator(target=None, warning_threshold=None,
                                         critical_threshold=None)])  # fmt: skip
    statuses = pd.DataFrame(
        {
            "indicator_id": [1, 1],
            "status": ["on_track", "off_track"],
            "created_at": pd.to_datetime(["2026-10-01", "2026-11-15"]),
        }
    )
    gaps = indicator_gaps(indicators, weekly([50.0] * 6), AS_OF, statuses).iloc[0]
    assert gaps["gap_source"] == "status" and gaps["gap"] == 0.8
    assert gaps["quality"] == 0.5
    inputs = dataclasses.replace(
        base_inputs(), indicators=indicators, observations=weekly([50.0] * 6),
        status_updates=statuses,
    )  # fmt: skip
    explanation = row_of(score_problems(inputs, as_of=AS_OF), 1)["explanation"]
    assert explanation.startswith("Graduation rate is reported off track by its department")


# ---------------------------------------------------------------- reporting bias


def test_score006_propensity_recovers_known_reporting_habits() -> None:
    populations = np.array([50_000, 80_000, 20_000, 120_000, 60_000])
    need = np.array([0.9, 0.2, 0.5, 0.1, 0.7])
    truth = np.array([0.4, 1.5, 1.0, 1.8, 0.6])
    districts = pd.DataFrame(
        {"id": range(1, 6), "name": list("ABCDE"), "population": populations, "need_index": need}
    )
    expected = populations * (1 + need) * truth / 100
    counts = pd.DataFrame(
        {"day": AS_OF, "category_id": 1, "district_id": range(1, 6), "count": expected.round()}
    )
    result = reporting_propensity(counts, districts, AS_OF, prior_reports=0.0)
    estimated = result["propensity"].to_numpy()
    assert estimated / estimated[2] == pytest.approx(truth / truth[2], rel=0.01)
    assert (result["adjustment"] * result["propensity"]).to_numpy() == pytest.approx(1.0)


def test_score007_propensity_is_shrunk_bounded_and_safe() -> None:
    districts = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["Few", "Many", "Nobody"],
            "population": [50_000, 50_000, 0],
            "need_index": [0.5, 0.5, None],
        }
    )
    few = pd.DataFrame({"day": AS_OF, "category_id": 1, "district_id": [1, 2], "count": [1, 3]})
    shrunk = reporting_propensity(few, districts, AS_OF).set_index("district_id")
    assert shrunk.loc[1, "propensity"] == pytest.approx(1.0, abs=0.05)
    assert shrunk.loc[3, "propensity"] == 1.0
    lopsided = pd.DataFrame(
        {"day": AS_OF, "category_id": 1, "district_id": [1, 2], "count": [0, 100_000]}
    )
    bounded = reporting_propensity(lopsided, districts, AS_OF).set_index("district_id")
    assert bounded.loc[1, "propensity"] == 0.25 and bounded.loc[2, "propensity"] <= 4.0
    old = lopsided.assign(day=AS_OF - dt.timedelta(days=400))
    assert (reporting_propensity(old, districts, AS_OF)["propensity"] == 1.0).all()
    assert reporting_propensity(few, districts.iloc[0:0], AS_OF).empty


def test_score008_concern_counts_own_districts_and_names_the_adjustment() -> None:
    inputs = base_inputs()
    comp = problem_components(inputs, AS_OF)
    # Graduation is an Eastside problem: its Westside and Downtown reports do not count.
    assert comp.loc[1, "reports_raw"] == 40
    assert comp.loc[1, "reports_adjusted"] > 40
    assert comp.loc[1, "top_district"] == "Eastside"
    assert comp.loc[2, "reports_raw"] == 800  # the March reports are outside the 90 days
    assert comp.loc[1, "people"] == pytest.approx(50 / 150)
    assert comp.loc[1, "equity"] == pytest.approx(0.9)
    explanation = row_of(score_problems(inputs, as_of=AS_OF), 1)["explanation"]
    assert re.search(
        r"reports adjusted for under-reporting in Eastside are \d\.\dx raw", explanation
    )


# ---------------------------------------------------------------- scores


def test_score009_empty_problem_gets_typical_values_low_confidence_and_says_so() -> None:
    scores = score_problems(base_inputs(), as_of=AS_OF)
    empty = row_of(scores, 3)
    assert empty["confidence"] == 0.0
    assert empty["priority_low"] < empty["priority"] < empty["priority_high"]
    assert set(empty["components"]["missing"]) >= {"gap", "worsening", "concern", "reach"}
    assert empty["explanation"].startswith("No indicators are linked yet")
    assert "no actors are engaged yet" in empty["explanation"]
    alone = ScoringInputs(problems=pd.DataFrame({"id": [5], "title": ["Alone"]}))
    only = score_problems(alone, as_of=AS_OF).iloc[0]
    assert only["rank"] == 1 and 0.0 <= only["priority"] <= 1.0 and only["confidence"] == 0.0


def test_score010_no_problems_gives_an_empty_ranking() -> None:
    scores = score_problems(ScoringInputs(), as_of=AS_OF)
    assert scores.empty
    assert {"problem_id", "rank", "priority", "components", "explanation"} <= set(scores.columns)
    assert ranking_sensitivity(ScoringInputs(), ScoringWeights(), AS_OF).empty


def test_score011_weights_round_trip_and_are_validated() -> None:
    weights = ScoringWeights(importance=2.0, equity=0.4)
    stored = json.loads(json.dumps(weights.to_dict()))
    assert stored["version"] == 1
    assert ScoringWeights.from_dict(stored) == weights
    assert ScoringWeights.from_dict(None) == ScoringWeights()
    assert ScoringWeights.from_dict({"gap": 1}).gap == 1.0
    bad = [
        {"bogus": 1.0},
        {"gap": -0.1},
        {"gap": float("nan")},
        {"gap": True},
        {"gap": "high"},
        {"importance": 0},
        {"reach": 0, "capacity": 0, "pipeline": 0, "authority": 0, "political_capital": 0},
        {"version": 2},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            ScoringWeights.from_dict(data)


def test_score012_priority_needs_both_importance_and_tractability() -> None:
    lopsided = {p: 1.0 for p in IMPORTANCE_PARTS} | {p: 0.05 for p in TRACTABILITY_PARTS}
    balanced = {p: 0.5 for p in (*IMPORTANCE_PARTS, *TRACTABILITY_PARTS)}
    scores = combine(components_frame([lopsided, balanced]), ScoringWeights())
    # A sum would put the lopsided problem first (1 + 0.05 > 0.5 + 0.5).
    assert scores.loc[2, "rank"] == 1 and scores.loc[1, "rank"] == 2
    zero = combine(components_frame([{p: 0.0 for p in TRACTABILITY_PARTS}]), ScoringWeights())
    assert zero.loc[1, "priority"] < 0.05


def test_score013_iso_weeks_and_movement() -> None:
    assert iso_week(AS_OF) == "2026-W47"
    assert iso_week(dt.date(2027, 1, 1)) == "2026-W53"
    assert week_start("2026-W47") == dt.date(2026, 11, 16)
    assert week_end("2026-W47") == AS_OF
    assert previous_week("2027-W01") == "2026-W53"
    with pytest.raises(ValidationError):
        week_start("2026-47")
    current = pd.DataFrame({"problem_id": [3, 1, 2, 4], "rank": [1, 2, 3, 4]})
    previous = pd.DataFrame({"problem_id": [1, 2, 3], "rank": [1, 3, 2]})
    moves = movement(current, previous).set_index("problem_id")
    assert list(moves.loc[[3, 1, 2, 4], "movement"]) == ["up", "down", "same", "new"]
    assert moves.loc[3, "rank_change"] == 1 and moves.loc[1, "rank_change"] == -1
    assert pd.isna(moves.loc[4, "previous_rank"])
    assert (movement(current, None)["movement"] == "new").all()


def test_score014_sensitivity_is_reproducible_and_collapses_without_spread() -> None:
    inputs = base_inputs()
    first = ranking_sensitivity(inputs, ScoringWeights(), AS_OF, runs=60, top_n=1, seed=3)
    again = ranking_sensitivity(inputs, ScoringWeights(), AS_OF, runs=60, top_n=1, seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert first["top_n_share"].between(0, 1).all()
    assert (first["rank_low"] <= first["rank_median"]).all()
    assert (first["rank_median"] <= first["rank_high"]).all()
    fixed = ranking_sensitivity(inputs, ScoringWeights(), AS_OF, runs=5, spread=0.0, top_n=1)
    assert (fixed["rank_low"] == fixed["rank"]).all() and (
        fixed["rank_high"] == fixed["rank"]
    ).all()
    assert list(fixed["top_n_share"]) == [1.0, 0.0, 0.0]
    assert top_n_stability(fixed, top_n=1) == 1.0
    scores = score_problems(inputs, as_of=AS_OF)
    assert list(fixed["problem_id"]) == list(scores["problem_id"])


def test_score015_components_are_json_and_explanations_are_three_sentences() -> None:
    scores = score_problems(base_inputs(), as_of=AS_OF)
    for row in scores.itertuples():
        assert json.loads(json.dumps(row.components)) == row.components
        assert len(re.findall(r"\.(?:\s|$)", row.explanation)) == 3
    graduation = row_of(scores, 1)
    assert graduation["explanation"].startswith(
        "Graduation rate is 9.5 points below target (80.5% against 90%) and has worsened 11 "
        "weeks running."
    )
    assert (
        "It affects 33% of residents (Eastside), mostly in high-need districts"
        in (graduation["explanation"])
    )
    parts = graduation["components"]["importance"]
    assert parts["gap"]["value"] == pytest.approx(9.5 / 15, abs=1e-4)
    assert graduation["components"]["facts"]["sectors_engaged"] == 2


def test_score016_ranking_table_is_flat() -> None:
    scores = score_problems(base_inputs(), as_of=AS_OF)
    table = ranking_table(scores, movement(scores, scores.iloc[:2]))
    assert list(table["rank"]) == [1, 2, 3]
    assert {"importance.gap", "tractability.reach", "neglectedness.funding_gap"} <= set(table)
    assert list(table["movement"]) == ["same", "same", "new"]
    table.to_csv(index=False)


def test_score017_innovation_pipeline_weighs_stage_evidence_and_origin() -> None:
    ideas = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "problem_id": [1, 1, 2, 3],
            "title": ["Proven", "New", "Retired", "Hunch"],
            "origin": ["tested_elsewhere", "wholly_new", "tested_elsewhere", "home_grown"],
            "stage": ["scaling", "idea", "retired", "idea"],
            "evidence": ["strong", "anecdotal", "strong", "anecdotal"],
        }
    )
    pipeline = innovation_pipeline(ideas, [1, 2, 3, 4])
    assert pipeline.loc[1, "pipeline"] == pytest.approx(1 - 0.2 * (1 - 0.2 * 0.25 * 0.5))
    assert pipeline.loc[1, "best_title"] == "Proven"
    assert pipeline.loc[2, "pipeline"] == 0.0 and pipeline.loc[2, "live"] == 0
    assert 0 < pipeline.loc[3, "pipeline"] < 0.05
    assert pipeline.loc[4, "pipeline"] == 0.0


# ---------------------------------------------------------------- properties


@st.composite
def indicator_histories(draw: st.DrawFn) -> tuple[dict[str, object], list[float], float]:
    direction = draw(st.sampled_from(["up", "down"]))
    target = draw(st.floats(1, 1000))
    sign = 1 if direction == "up" else -1
    critical = draw(
        st.one_of(st.none(), st.floats(0.01, 0.9).map(lambda f: target - sign * f * target))
    )
    history = draw(st.lists(st.floats(0, 2000), min_size=0, max_size=14))
    delta = draw(st.floats(0, 500))
    row = indicator(direction=direction, target=target, warning_threshold=None,
                    critical_threshold=critical)  # fmt: skip
    return row, history, delta


@given(indicator_histories(), st.floats(0, 2000))
@settings(max_examples=20, deadline=None)
def test_score020_a_worse_gap_never_lowers_importance_or_priority(
    case: tuple[dict[str, object], list[float], float], latest: float
) -> None:
    row, history, delta = case
    worse = latest - delta if row["direction"] == "up" else latest + delta
    base = base_inputs()
    results = []
    for value in (latest, worse):
        inputs = dataclasses.replace(
            base,
            indicators=pd.concat([pd.DataFrame([row]), base.indicators.iloc[1:]]),
            observations=pd.concat([weekly([*history, value], 1), weekly([10.0] * 5, 2)]),
        )
        results.append(row_of(score_problems(inputs, as_of=AS_OF), 1))
    before, after = results
    assert after["importance"] >= before["importance"] - 1e-12
    assert after["priority"] >= before["priority"] - 1e-12


@given(
    st.lists(st.sampled_from(REACHES), min_size=2, max_size=2),
    st.lists(st.floats(0, 1), min_size=2, max_size=2),
    st.integers(0, 1),
)
@settings(max_examples=20, deadline=None)
def test_score021_more_reach_never_lowers_tractability(
    reaches: list[str], weights: list[float], which: int
) -> None:
    base = base_inputs()
    factors = base.factors.copy()
    factors.loc[[0, 1], "reach"] = reaches
    factors.loc[[0, 1], "weight"] = weights
    more = factors.copy()
    more.loc[which, "reach"] = REACHES[min(2, REACHES.index(reaches[which]) + 1)]
    before = combine(problem_components(dataclasses.replace(base, factors=factors), AS_OF),
                     ScoringWeights())  # fmt: skip
    after = combine(problem_components(dataclasses.replace(base, factors=more), AS_OF),
                    ScoringWeights())  # fmt: skip
    assert after.loc[1, "tractability"] >= before.loc[1, "tractability"] - 1e-12


@st.composite
def cities(draw: st.DrawFn) -> ScoringInputs:
    """Small random cities: any table may be empty, ids are consistent, maps are acyclic."""
    floats = st.floats(-1000, 1000)
    n_problems = draw(st.integers(1, 5))
    n_districts = draw(st.integers(0, 4))
    n_indicators = draw(st.integers(0, 5))
    problem_ids = list(range(1, n_problems + 1))
    district_ids = list(range(1, n_districts + 1))
    problems = pd.DataFrame(
        {
            "id": problem_ids,
            "title": [f"Problem {i}" for i in problem_ids],
            "status": "watch",
            "political_capital": draw(
                st.lists(st.integers(0, 5), min_size=n_problems, max_size=n_problems)
            ),
            "authority": draw(
                st.lists(st.integers(0, 5), min_size=n_problems, max_size=n_problems)
            ),
        }
    )
    districts = pd.DataFrame(
        {
            "id": district_ids,
            "name": [f"District {i}" for i in district_ids],
            "population": [draw(st.integers(0, 200_000)) for _ in district_ids],
            "need_index": [draw(st.one_of(st.none(), st.floats(0, 1))) for _ in district_ids],
        }
    )
    pairs = st.tuples(st.sampled_from(problem_ids), st.sampled_from(district_ids or [1]))
    problem_districts = pd.DataFrame(
        draw(st.lists(pairs, max_size=6, unique=True)) if district_ids else [],
        columns=["problem_id", "district_id"],
    )
    indicators = pd.DataFrame(
        [
            indicator(
                id=i,
                direction=draw(st.sampled_from(["up", "down"])),
                cadence=draw(st.sampled_from(["weekly", "monthly", "quarterly", "annual"])),
                target=draw(st.one_of(st.none(), floats)),
                warning_threshold=draw(st.one_of(st.none(), floats)),
                critical_threshold=draw(st.one_of(st.none(), floats)),
            )
            for i in range(1, n_indicators + 1)
        ]
    )
    observations = [
        weekly(
            draw(st.lists(floats, max_size=8)),
            i,
            end=LAST_MONDAY - dt.timedelta(days=draw(st.integers(0, 400))),
        )
        for i in range(1, n_indicators + 1)
    ]
    links = draw(
        st.lists(st.tuples(st.sampled_from(problem_ids), st.integers(1, max(n_indicators, 1))),
                 max_size=8, unique=True)
    )  # fmt: skip
    problem_indicators = pd.DataFrame(
        [(p, i, draw(st.floats(0.1, 3))) for p, i in links if i <= n_indicators],
        columns=["problem_id", "indicator_id", "weight"],
    )
    report_rows = draw(
        st.lists(
            st.tuples(st.integers(0, 400), st.integers(1, 3), st.sampled_from(district_ids or [1]),
                      st.integers(0, 500)),
            max_size=12,
        )
    )  # fmt: skip
    report_counts = pd.DataFrame(
        [(AS_OF - dt.timedelta(days=d), c, k, n) for d, c, k, n in report_rows if district_ids],
        columns=["day", "category_id", "district_id", "count"],
    ).drop_duplicates(["day", "category_id", "district_id"])
    category_problems = pd.DataFrame(
        draw(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(problem_ids)), max_size=5,
                      unique=True)),
        columns=["category_id", "problem_id"],
    ).assign(weight=1.0)  # fmt: skip
    factor_rows = []
    link_rows = []
    for problem in problem_ids:
        first = len(factor_rows) + 1
        for _ in range(draw(st.integers(0, 3))):
            fid = len(factor_rows) + 1
            factor_rows.append(
                (
                    fid,
                    problem,
                    f"Factor {fid}",
                    draw(st.sampled_from(REACHES)),
                    draw(st.sampled_from(["strong", "moderate", "weak", "anecdotal"])),
                    draw(st.floats(0, 1)),
                )
            )
            if fid > first and draw(st.booleans()):
                link_rows.append((fid, draw(st.integers(first, fid - 1))))
    factors = pd.DataFrame(
        factor_rows, columns=["id", "problem_id", "title", "reach", "evidence", "weight"]
    ).assign(indicator_id=None)
    actors = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["A", "B", "C"],
            "sector": ["government_agency", "faith", "media"],
        }
    )
    engagement_rows = []
    for eid in range(1, draw(st.integers(0, 5)) + 1):
        problem = draw(st.sampled_from(problem_ids))
        own = [f[0] for f in factor_rows if f[1] == problem]
        engagement_rows.append(
            (
                eid,
                draw(st.integers(1, 3)),
                problem,
                draw(st.sampled_from([None, *own])),
                "delivering",
                draw(st.sampled_from(["complementary", "competing", "indifferent"])),
                draw(st.floats(0, 1e8)),
            )
        )
    engagements = pd.DataFrame(
        engagement_rows,
        columns=[
            "id",
            "actor_id",
            "problem_id",
            "factor_id",
            "role",
            "stance",
            "committed_funding",
        ],
    )
    innovations = pd.DataFrame(
        [
            (
                n,
                draw(st.sampled_from(problem_ids)),
                f"Idea {n}",
                draw(
                    st.sampled_from(["tested_elsewhere", "home_grown", "reclaimed", "wholly_new"])
                ),
                "coordination",
                draw(st.sampled_from(["idea", "pilot", "evaluating", "scaling", "retired"])),
                draw(st.sampled_from(["strong", "moderate", "weak", "anecdotal"])),
            )
            for n in range(1, draw(st.integers(0, 4)) + 1)
        ],
        columns=["id", "problem_id", "title", "origin", "kind", "stage", "evidence"],
    )
    return ScoringInputs(
        problems=problems,
        problem_districts=problem_districts,
        districts=districts,
        indicators=indicators if n_indicators else None,
        problem_indicators=problem_indicators,
        observations=pd.concat(observations, ignore_index=True) if observations else None,
        report_counts=report_counts,
        category_problems=category_problems,
        factors=factors,
        factor_links=pd.DataFrame(link_rows, columns=["factor_id", "parent_id"]),
        actors=actors,
        engagements=engagements,
        innovations=innovations,
    )


SCORES = ("importance", "tractability", "neglectedness", "priority")


@given(cities())
@settings(max_examples=25, deadline=None)
def test_score022_outputs_are_bounded_ranked_and_explained(inputs: ScoringInputs) -> None:
    scores = score_problems(inputs, as_of=AS_OF)
    assert sorted(scores["rank"]) == list(range(1, len(inputs.problems) + 1))
    for name in SCORES:
        low, point, high = (scores[f"{name}{s}"] for s in ("_low", "", "_high"))
        assert point.between(0, 1).all() and low.between(0, 1).all() and high.between(0, 1).all()
        assert (low <= point + 1e-9).all() and (point <= high + 1e-9).all()
    assert scores["confidence"].between(0, 1).all()
    assert (scores["priority"].diff().dropna() <= 1e-12).all()
    for row in scores.itertuples():
        json.dumps(row.components)
        assert len(re.findall(r"\.(?:\s|$)", row.explanation)) == 3


@given(cities(), st.randoms(use_true_random=False))
@settings(max_examples=12, deadline=None)
def test_score023_results_are_deterministic_and_ignore_row_order(
    inputs: ScoringInputs, rnd
) -> None:
    first = score_problems(inputs, as_of=AS_OF)
    pd.testing.assert_frame_equal(first, score_problems(inputs, as_of=AS_OF))
    shuffled = ScoringInputs(
        **{
            f.name: getattr(inputs, f.name).sample(frac=1.0, random_state=rnd.randint(0, 999))
            for f in dataclasses.fields(inputs)
        }
    )
    second = score_problems(shuffled, as_of=AS_OF)
    assert list(second["problem_id"]) == list(first["problem_id"])
    for name in (*SCORES, "confidence"):
        assert second[name].to_numpy() == pytest.approx(first[name].to_numpy(), abs=1e-9)
    assert list(second["explanation"]) == list(first["explanation"])


part_values = st.fixed_dictionaries(
    {p: st.floats(0, 1) for p in (*IMPORTANCE_PARTS, *TRACTABILITY_PARTS, "uncovered")}
)
weight_values = st.fixed_dictionaries({name: st.floats(0.01, 5) for name in ScoringWeights.names()})


@given(st.lists(part_values, min_size=2, max_size=8), weight_values, st.floats(1.01, 10))
@settings(max_examples=100, deadline=None)
def test_score024_raising_the_importance_weight_never_lowers_the_most_important(
    rows: list[dict[str, float]], weights: dict[str, float], factor: float
) -> None:
    comp = components_frame(rows)
    base = ScoringWeights(**weights)
    before = combine(comp, base)
    ordered = before["importance"].sort_values(ascending=False)
    assume(ordered.iloc[0] - ordered.iloc[1] > 1e-6)
    top = ordered.index[0]
    heavier = dataclasses.replace(base, importance=min(100.0, base.importance * factor))
    after = combine(comp, heavier)
    assert after.loc[top, "rank"] <= before.loc[top, "rank"]


@given(part_values, st.integers(2, 6))
@settings(max_examples=40, deadline=None)
def test_score025_exact_ties_go_to_the_lower_problem_id(row: dict[str, float], n: int) -> None:
    scores = combine(components_frame([row] * n), ScoringWeights())
    assert list(scores["rank"]) == list(range(1, n + 1))


def test_score030_bench_runs_on_a_small_city() -> None:
    result = bench_scoring(n_problems=20, n_indicators=40, years=1, seed=1)
    assert result["problems"] == 20 and result["indicators"] == 40
    assert result["score_seconds"] < 30
