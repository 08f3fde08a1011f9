"""A city whose pack gives no district populations still tells its problems apart by citizen
concern (report counts instead of rates per resident), and with populations the per-resident
yardstick is unchanged."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from triage.scoring import citizen_concern, reporting_propensity

AS_OF = dt.date(2019, 3, 29)


def _inputs(population: float | None) -> tuple[pd.DataFrame, ...]:
    days = [AS_OF - dt.timedelta(days=d) for d in range(1, 31)]
    counts = pd.DataFrame(
        [(day, 1, 1, 3) for day in days] + [(day, 2, 1, 1) for day in days[:10]],
        columns=["day", "category_id", "district_id", "count"],
    )
    links = pd.DataFrame(
        [(1, 10, 1.0), (2, 20, 1.0), (3, 30, 1.0)],
        columns=["category_id", "problem_id", "weight"],
    )
    districts = pd.DataFrame(
        [(1, "Manhattan 1", population, None)],
        columns=["id", "name", "population", "need_index"],
    )
    scope = pd.DataFrame(columns=["problem_id", "district_id"])
    return counts, links, scope, districts


def _concern(population: float | None) -> pd.DataFrame:
    counts, links, scope, districts = _inputs(population)
    propensity = reporting_propensity(counts, districts, AS_OF)
    per_problem, _ = citizen_concern(
        counts, links, scope, districts, propensity, AS_OF, [10, 20, 30]
    )
    return per_problem


def test_nopop001_counts_rank_problems_when_no_district_has_residents() -> None:
    concern = _concern(None)
    assert list(concern["reports_raw"]) == [90.0, 10.0, 0.0]
    busy, quiet, silent = concern["concern"].tolist()
    assert busy > quiet > silent == 0.0, concern
    assert busy == 1.0  # the busiest tenth sets the yardstick
    assert concern["raw_per_1k"].tolist() == [0.0, 0.0, 0.0]  # no residents: no rate shown


def test_nopop002_with_populations_the_rate_per_resident_is_the_yardstick() -> None:
    concern = _concern(50_000.0)
    assert concern["raw_per_1k"].round(3).tolist() == [1.8, 0.2, 0.0]
    busy, quiet, silent = concern["concern"].tolist()
    assert busy > quiet > silent == 0.0
