"""Scoring on synthetic inputs: ``synthetic_inputs`` makes a city-sized, well-formed
``ScoringInputs`` and ``bench_scoring`` times the scoring alone on it.

``triage bench score`` (``triage.cli.bench_score``) times the real pipeline on a seeded city.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd

from triage.scoring import ScoringInputs, ScoringWeights, ranking_sensitivity, score_problems
from triage.vocabulary import (
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    REACHES,
    SECTORS,
    STANCES,
)

AS_OF = dt.date(2026, 11, 22)


def synthetic_inputs(
    n_problems: int = 500,
    n_indicators: int = 5000,
    years: int = 5,
    *,
    n_districts: int = 25,
    n_categories: int = 80,
    reports: int = 10_000_000,
    seed: int = 0,
) -> ScoringInputs:
    """Random but well-formed inputs: weekly indicators over ``years``, ~``reports`` reports.

    Every indicator is weekly (the heaviest case); report counts are the daily aggregate
    with zero cells left out, as ``report_daily_counts`` stores them.
    """
    rng = np.random.default_rng(seed)
    districts = pd.DataFrame(
        {
            "id": np.arange(1, n_districts + 1),
            "name": [f"District {i}" for i in range(1, n_districts + 1)],
            "population": rng.integers(15_000, 90_000, n_districts),
            "need_index": rng.uniform(0, 1, n_districts).round(2),
        }
    )
    problem_ids = np.arange(1, n_problems + 1)
    problems = pd.DataFrame(
        {
            "id": problem_ids,
            "title": [f"Problem {i}" for i in problem_ids],
            "status": "watch",
            "political_capital": rng.integers(0, 6, n_problems),
            "authority": rng.integers(0, 6, n_problems),
        }
    )
    scoped = rng.random(n_problems) < 0.4
    problem_districts = pd.DataFrame(
        {
            "problem_id": np.repeat(problem_ids[scoped], 2),
            "district_id": rng.integers(1, n_districts + 1, 2 * int(scoped.sum())),
        }
    ).drop_duplicates()

    indicator_ids = np.arange(1, n_indicators + 1)
    direction = np.where(rng.random(n_indicators) < 0.5, "up", "down")
    target = rng.uniform(50, 100, n_indicators).round(1)
    sign = np.where(direction == "up", -1.0, 1.0)
    indicators = pd.DataFrame(
        {
            "id": indicator_ids,
            "name": [f"Indicator {i}" for i in indicator_ids],
            "unit": "%",
            "direction": direction,
            "cadence": "weekly",
            "target": target,
            "warning_threshold": target + sign * 5,
            "critical_threshold": target + sign * 15,
        }
    )
    problem_indicators = pd.DataFrame(
        {
            "problem_id": rng.integers(1, n_problems + 1, n_indicators),
            "indicator_id": indicator_ids,
            "weight": rng.choice([0.5, 1.0, 2.0], n_indicators),
        }
    )
    weeks = years * 52
    periods = pd.date_range(end=pd.Timestamp(AS_OF), periods=weeks, freq="W-MON")
    level = target + sign * rng.normal(3, 6, n_indicators)
    drift = rng.normal(0, 0.05, n_indicators)
    values = (
        level[:, None]
        + drift[:, None] * np.arange(-weeks + 1, 1)[None, :]
        + rng.normal(0, 1.5, (n_indicators, weeks))
    )
    observations = pd.DataFrame(
        {
            "indicator_id": np.repeat(indicator_ids, weeks),
            "period": np.tile(periods.to_numpy(), n_indicators),
            "value": values.ravel().round(2),
        }
    )

    days = pd.date_range(end=pd.Timestamp(AS_OF), periods=years * 365, freq="D").to_numpy()
    rate = (
        rng.gamma(2.0, 1.0, n_categories)[None, :, None]
        * (districts["population"].to_numpy() / districts["population"].mean())[None, None, :]
        * np.ones((len(days), 1, 1))
    )
    rate = rate * (reports / rate.sum())
    counts = rng.poisson(rate).ravel()
    nonzero = counts > 0
    day_index, category_index, district_index = np.unravel_index(
        np.flatnonzero(nonzero), (len(days), n_categories, n_districts)
    )
    report_counts = pd.DataFrame(
        {
            "day": days[day_index],
            "category_id": category_index + 1,
            "district_id": district_index + 1,
            "count": counts[nonzero],
        }
    )
    category_problems = pd.DataFrame(
        {
            "category_id": np.concatenate([np.arange(1, n_categories + 1)] * 3),
            "problem_id": rng.integers(1, n_problems + 1, 3 * n_categories),
            "weight": 1.0,
        }
    ).drop_duplicates(["category_id", "problem_id"])

    per_problem = 10
    factor_ids = np.arange(1, n_problems * per_problem + 1)
    factor_problem = np.repeat(problem_ids, per_problem)
    factors = pd.DataFrame(
        {
            "id": factor_ids,
            "problem_id": factor_problem,
            "title": [f"Factor {i}" for i in factor_ids],
            "reach": rng.choice(REACHES, len(factor_ids)),
            "evidence": rng.choice(EVIDENCE_LEVELS, len(factor_ids)),
            "weight": rng.uniform(0.1, 1.0, len(factor_ids)).round(2),
            "indicator_id": pd.NA,
        }
    )
    position = (factor_ids - 1) % per_problem
    child = factor_ids[position >= 3]
    offset = rng.integers(1, 3, len(child))
    factor_links = pd.DataFrame({"factor_id": child, "parent_id": child - offset})
    n_actors = 400
    actors = pd.DataFrame(
        {
            "id": np.arange(1, n_actors + 1),
            "name": [f"Actor {i}" for i in range(1, n_actors + 1)],
            "sector": rng.choice(SECTORS, n_actors),
        }
    )
    n_engagements = 4000
    engaged_factor = rng.choice(factor_ids, n_engagements)
    engagements = pd.DataFrame(
        {
            "id": np.arange(1, n_engagements + 1),
            "actor_id": rng.integers(1, n_actors + 1, n_engagements),
            "problem_id": factor_problem[engaged_factor - 1],
            "factor_id": np.where(rng.random(n_engagements) < 0.8, engaged_factor, np.nan),
            "role": rng.choice(ENGAGEMENT_ROLES[:3], n_engagements),
            "stance": rng.choice(STANCES, n_engagements, p=[0.7, 0.1, 0.2]),
            "committed_funding": np.where(
                rng.random(n_engagements) < 0.4, rng.lognormal(12, 1.5, n_engagements), 0.0
            ).round(0),
        }
    )
    n_innovations = 1500
    innovations = pd.DataFrame(
        {
            "id": np.arange(1, n_innovations + 1),
            "problem_id": rng.integers(1, n_problems + 1, n_innovations),
            "title": [f"Idea {i}" for i in range(1, n_innovations + 1)],
            "origin": rng.choice(INNOVATION_ORIGINS, n_innovations),
            "kind": "new_service",
            "stage": rng.choice(INNOVATION_STAGES, n_innovations),
            "evidence": rng.choice(EVIDENCE_LEVELS, n_innovations),
        }
    )
    return ScoringInputs(
        problems=problems,
        problem_districts=problem_districts,
        districts=districts,
        indicators=indicators,
        problem_indicators=problem_indicators,
        observations=observations,
        report_counts=report_counts,
        category_problems=category_problems,
        factors=factors,
        factor_links=factor_links,
        actors=actors,
        engagements=engagements,
        innovations=innovations,
    )


def bench_scoring(
    n_problems: int = 500, n_indicators: int = 5000, years: int = 5, seed: int = 0
) -> dict[str, float | int]:
    """Time ``score_problems`` (and a 200-draw sensitivity run) on synthetic inputs.

    Returns seconds for generating, scoring and sensitivity, and the input sizes.
    """
    started = time.perf_counter()
    inputs = synthetic_inputs(n_problems, n_indicators, years, seed=seed)
    generated = time.perf_counter()
    scores = score_problems(inputs, ScoringWeights(), AS_OF)
    scored = time.perf_counter()
    ranking_sensitivity(inputs, ScoringWeights(), AS_OF, runs=200)
    sensitivity = time.perf_counter()
    return {
        "problems": len(scores),
        "indicators": len(inputs.indicators),
        "observations": len(inputs.observations),
        "report_count_rows": len(inputs.report_counts),
        "reports": int(inputs.report_counts["count"].sum()),
        "generate_seconds": round(generated - started, 3),
        "score_seconds": round(scored - generated, 3),
        "sensitivity_seconds": round(sensitivity - scored, 3),
    }
