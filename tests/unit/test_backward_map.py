"""Backward-map analytics: causal importance, gaps, efforts, leverage and the drawable graph."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.backward_map import (
    CausalCycleError,
    backward_map,
    causal_importance,
    leverage_score,
    map_metrics,
)

PROBLEM = 1


def factors_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (id, problem_id, title, reach, evidence, weight)."""
    frame = pd.DataFrame(rows, columns=["id", "problem_id", "title", "reach", "evidence", "weight"])
    return frame.assign(indicator_id=None)


def links_frame(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["factor_id", "parent_id"])


def engagements_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (actor_id, problem_id, factor_id or None, stance, committed_funding)."""
    frame = pd.DataFrame(
        rows, columns=["actor_id", "problem_id", "factor_id", "stance", "committed_funding"]
    )
    return frame.assign(id=range(1, len(frame) + 1), role="delivering")


ACTORS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "name": ["Public Works", "Green Trust", "Landlords' League", "Block Club"],
        "sector": ["government_agency", "philanthropic", "corporate_civic", "community"],
    }
)

# Problem 1: two top-level causes; "Vacant lots" (3) feeds both, "Absentee owners" (4) feeds 3.
FACTORS = factors_frame(
    [
        (1, PROBLEM, "Slow cleanup", "controls", "strong", 0.8),
        (2, PROBLEM, "Weak enforcement", "influences", "moderate", 0.5),
        (3, PROBLEM, "Vacant lots", "influences", "weak", 0.5),
        (4, PROBLEM, "Absentee owners", "outside", "anecdotal", 0.4),
        (9, 2, "Another problem's factor", "controls", "strong", 1.0),
    ]
)
LINKS = links_frame([(3, 1), (3, 2), (4, 3), (9, 1)])
ENGAGEMENTS = engagements_frame(
    [
        (1, PROBLEM, 1, "complementary", 250_000.0),
        (2, PROBLEM, 1, "complementary", 100_000.0),
        (3, PROBLEM, 3, "competing", 0.0),
        (4, PROBLEM, 3, "complementary", 0.0),
        (2, PROBLEM, None, "complementary", 50_000.0),
    ]
)


def test_bmap001_importance_multiplies_down_and_sums_over_paths() -> None:
    ci = causal_importance(FACTORS, LINKS).set_index("id")
    assert ci.loc[1, "causal_importance"] == pytest.approx(0.8)
    assert ci.loc[2, "causal_importance"] == pytest.approx(0.5)
    # Vacant lots feeds both causes: 0.5 × (0.8 + 0.5).
    assert ci.loc[3, "causal_importance"] == pytest.approx(0.65)
    assert ci.loc[4, "causal_importance"] == pytest.approx(0.4 * 0.65)
    assert list(ci.loc[[1, 2, 3, 4], "depth"]) == [1, 1, 2, 3]
    # A link to another problem's factor is ignored: factor 9 stays top-level.
    assert ci.loc[9, "causal_importance"] == pytest.approx(1.0)


def test_bmap002_cycle_raises_a_clear_error_or_is_flattened() -> None:
    looped = links_frame([(1, 2), (2, 3), (3, 1), (4, 3)])
    with pytest.raises(CausalCycleError) as caught:
        causal_importance(FACTORS, looped)
    assert caught.value.factor_ids == [1, 2, 3]
    assert "Slow cleanup" in str(caught.value) and "loop" in str(caught.value)
    with pytest.raises(CausalCycleError):
        backward_map(PROBLEM, FACTORS, looped, ENGAGEMENTS, ACTORS)
    flat = causal_importance(FACTORS, looped, on_cycle="flatten").set_index("id")
    assert flat.loc[[1, 2, 3, 4], "in_cycle"].all()
    assert not flat.loc[9, "in_cycle"]
    assert flat.loc[3, "causal_importance"] == pytest.approx(0.5)  # at face value


def test_bmap003_gaps_name_uncovered_factors_and_missing_sectors() -> None:
    bmap = backward_map(PROBLEM, FACTORS, LINKS, ENGAGEMENTS, ACTORS, title="Dumping")
    assert bmap.uncovered == (2, 4)  # most important first
    assert "community" in bmap.sectors_present
    assert "corporate_civic" not in bmap.sectors_present  # only a competing actor there
    assert set(bmap.sectors_missing) >= {"labour", "faith", "media", "elected_political"}
    assert [a.name for a in bmap.problem_actors] == ["Green Trust"]
    total = 0.8 + 0.5 + 0.65 + 0.26
    assert bmap.uncovered_share == pytest.approx((0.5 + 0.26) / total)
    assert bmap.reach_share == pytest.approx((0.8 + 0.25 + 0.325 + 0.026) / total)
    assert any("nobody working" in line for line in bmap.summary)


def test_bmap004_efforts_are_complementary_competing_or_mixed() -> None:
    bmap = backward_map(PROBLEM, FACTORS, LINKS, ENGAGEMENTS, ACTORS)
    effort = {f.id: f.effort for f in bmap.factors}
    assert effort == {1: "complementary", 2: "none", 3: "mixed", 4: "none"}
    assert bmap.contested == (3,)
    note = next(f.effort_note for f in bmap.factors if f.id == 3)
    assert "Landlords' League pull against Block Club" in note


def test_bmap005_leverage_needs_weight_reach_and_willing_actors() -> None:
    bmap = backward_map(PROBLEM, FACTORS, LINKS, ENGAGEMENTS, ACTORS)
    levers = [lp.factor_id for lp in bmap.leverage_points]
    assert levers[0] == 1  # heaviest, controlled, two willing actors
    assert 4 not in levers  # outside city reach
    first = bmap.leverage_points[0]
    assert first.score == pytest.approx(1.0)
    assert first.reason.startswith("'Slow cleanup' carries")
    assert "the city controls it" in first.reason and "willing to act" in first.reason
    assert leverage_score(1.0, "controls", "none") < leverage_score(1.0, "controls", "mixed")
    assert leverage_score(0.5, "influences", "complementary") == pytest.approx(0.25)


def test_bmap006_elements_are_a_consistent_cytoscape_graph() -> None:
    bmap = backward_map(PROBLEM, FACTORS, LINKS, ENGAGEMENTS, ACTORS, title="Dumping")
    elements = bmap.elements()
    ids = [e["data"]["id"] for e in elements]
    assert len(ids) == len(set(ids))
    nodes = {e["data"]["id"] for e in elements if "source" not in e["data"]}
    for edge in (e for e in elements if "source" in e["data"]):
        assert edge["data"]["source"] in nodes and edge["data"]["target"] in nodes
    assert "problem-1" in nodes and "factor-9" not in nodes
    classes = {e["data"]["id"]: e["classes"] for e in elements}
    assert "uncovered" in classes["factor-2"] and "contested" in classes["factor-3"]
    assert "leverage" in classes["factor-1"]
    assert len(bmap.elements(include_actors=False)) < len(elements)
    assert list(bmap.factor_frame()["id"]) == [1, 2, 3, 4]


def test_bmap007_map_metrics_agree_with_the_single_map() -> None:
    metrics = map_metrics(FACTORS, LINKS, ENGAGEMENTS, ACTORS, [1, 2, 3])
    bmap = backward_map(PROBLEM, FACTORS, LINKS, ENGAGEMENTS, ACTORS)
    assert metrics.loc[1, "reach_share"] == pytest.approx(bmap.reach_share)
    assert metrics.loc[1, "uncovered_share"] == pytest.approx(bmap.uncovered_share)
    assert metrics.loc[1, "uncovered_factors"] == 2
    # The competing corporate actor counts neither as a sector nor as funding.
    assert metrics.loc[1, "sectors_engaged"] == 3
    assert metrics.loc[1, "committed_funding"] == pytest.approx(400_000)
    assert metrics.loc[1, "competing_engagements"] == 1
    assert pd.isna(metrics.loc[3, "reach_share"]) and metrics.loc[3, "factors"] == 0


def test_bmap008_empty_problem_has_an_empty_map() -> None:
    bmap = backward_map(7, FACTORS, LINKS, ENGAGEMENTS, ACTORS, title="Nothing yet")
    assert bmap.factors == () and bmap.leverage_points == ()
    assert bmap.reach_share is None and bmap.uncovered_share is None
    assert bmap.summary[0].startswith("No causal factors are mapped yet")
    assert [e["data"]["id"] for e in bmap.elements()] == ["problem-7"]
    assert causal_importance(FACTORS.iloc[0:0], LINKS).empty
    assert map_metrics(None, None, None, None, [7]).loc[7, "factors"] == 0


@st.composite
def random_dag(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(1, 8))
    weights = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    reaches = draw(
        st.lists(st.sampled_from(["controls", "influences", "outside"]), min_size=n, max_size=n)
    )
    factors = factors_frame(
        [(i + 1, PROBLEM, f"F{i + 1}", reaches[i], "moderate", weights[i]) for i in range(n)]
    )
    # Links only point to lower ids, so the graph is acyclic.
    pairs = draw(
        st.lists(
            st.tuples(st.integers(2, max(n, 2)), st.integers(1, max(n - 1, 1))),
            max_size=12,
        )
    )
    links = links_frame([(c, p) for c, p in pairs if p < c <= n])
    return factors, links


@given(random_dag(), st.integers(0, 7), st.floats(0, 1))
@settings(max_examples=80, deadline=None)
def test_bmap009_raising_a_weight_never_lowers_any_importance(
    dag: tuple[pd.DataFrame, pd.DataFrame], which: int, new_weight: float
) -> None:
    factors, links = dag
    which = which % len(factors)
    before = causal_importance(factors, links)["causal_importance"].to_numpy()
    heavier = factors.copy()
    heavier.loc[which, "weight"] = max(new_weight, factors.loc[which, "weight"])
    after = causal_importance(heavier, links)["causal_importance"].to_numpy()
    assert (after >= before - 1e-12).all()
    assert (before >= 0).all()
    again = causal_importance(factors.iloc[::-1], links.iloc[::-1]).set_index("id")
    assert again.loc[factors["id"], "causal_importance"].to_numpy() == pytest.approx(before)


@given(random_dag())
@settings(max_examples=60, deadline=None)
def test_bmap010_shares_and_leverage_are_bounded(dag: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    factors, links = dag
    bmap = backward_map(PROBLEM, factors, links, None, ACTORS)
    for value in (bmap.reach_share, bmap.uncovered_share):
        assert value is None or 0.0 <= value <= 1.0 + 1e-12
    assert all(0.0 <= f.leverage <= 1.0 for f in bmap.factors)
    scores = [lp.score for lp in bmap.leverage_points]
    assert scores == sorted(scores, reverse=True)
