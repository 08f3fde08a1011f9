"""Scoring with precomputed components: the same result as computing them inside."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from triage.bench.scoring import synthetic_inputs
from triage.scoring import (
    ScoringWeights,
    problem_components,
    ranking_sensitivity,
    score_problems,
)

AS_OF = dt.date(2026, 11, 22)


def test_scc001_precomputed_components_give_the_same_scores_and_sensitivity() -> None:
    inputs = synthetic_inputs(n_problems=30, n_indicators=90, years=1, reports=50_000, seed=4)
    weights = ScoringWeights(importance=1.5, neglectedness=0.2)
    components = problem_components(inputs, AS_OF)
    inside = score_problems(inputs, weights, AS_OF)
    given = score_problems(inputs, weights, AS_OF, components=components)
    pd.testing.assert_frame_equal(inside, given)
    assert len(given) == 30 and sorted(given["rank"]) == list(range(1, 31))
    pd.testing.assert_frame_equal(
        ranking_sensitivity(inputs, weights, AS_OF, runs=40, seed=2),
        ranking_sensitivity(inputs, weights, AS_OF, runs=40, seed=2, components=components),
    )


def test_scc002_components_are_used_as_given() -> None:
    inputs = synthetic_inputs(n_problems=12, n_indicators=24, years=1, reports=10_000, seed=1)
    components = problem_components(inputs, AS_OF)
    # Make the last problem dominate every component: it must then rank first.
    last = components.index[-1]
    for column in ("gap", "worsening", "people", "concern", "equity", "reach", "capacity"):
        components.loc[last, [column, f"{column}_low", f"{column}_high"]] = 1.0
    for column in ("pipeline", "authority", "political_capital", "uncovered"):
        components.loc[last, [column, f"{column}_low", f"{column}_high"]] = 1.0
    scores = score_problems(inputs, ScoringWeights(), AS_OF, components=components)
    assert scores.iloc[0]["problem_id"] == last
    assert scores.iloc[0]["importance"] == 1.0
