"""The demo city generator: deterministic, believable in size and shape, with planted signals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from db.models import (
    CADENCES,
    DIRECTIONS,
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    INDICATOR_STATUSES,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    INNOVATION_TYPES,
    PROBLEM_STATUSES,
    REACHES,
    ROLES,
    SECTORS,
    STANCES,
)
from triage.demo import (
    CADENCE_DAYS,
    DEMO_USERS,
    DEPARTMENTS,
    DISTRICTS_GEOJSON,
    POLICY_AREAS,
    REPORT_COLUMNS,
    DemoCity,
    build_demo_city,
    indicator_status,
    iso_week,
    points_in_geometry,
)
from triage.security import validate_password

TODAY = dt.date(2026, 11, 18)


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return build_demo_city(seed=7, scale="city", today=TODAY)


@pytest.fixture(scope="module")
def small() -> DemoCity:
    return build_demo_city(seed=7, scale="small", today=TODAY)


def _reports_by_month(city: DemoCity, category: str) -> pd.Series:
    """Mean reports per day of one category, by calendar month (1..12)."""
    reports = city.reports
    assert reports is not None
    days = pd.DatetimeIndex(reports.loc[reports["category_code"] == category, "day"])
    per_month = pd.Series(days.month).value_counts().reindex(range(1, 13), fill_value=0)
    all_days = pd.date_range(reports["day"].min(), reports["day"].max(), freq="D")
    days_per_month = pd.Series(all_days.month).value_counts().reindex(range(1, 13))
    return per_month / days_per_month


def _last_period_age(city: DemoCity) -> pd.Series:
    last = city.observations.groupby("indicator_code", observed=True)["period"].max()
    return (pd.Timestamp(city.today) - last).dt.days


# --- determinism ---------------------------------------------------------------------------


def test_demo001_same_seed_same_city(small: DemoCity) -> None:
    again = build_demo_city(seed=7, scale="small", today=TODAY)
    assert again.reports is not None and small.reports is not None
    pd.testing.assert_frame_equal(again.reports, small.reports)
    pd.testing.assert_frame_equal(again.observations, small.observations)
    for table in (
        "problems",
        "indicators",
        "indicator_status_updates",
        "causal_factors",
        "factor_links",
        "actors",
        "engagements",
        "innovations",
        "decisions",
        "category_problems",
    ):
        assert getattr(again, table) == getattr(small, table), table
    assert again.planted == small.planted


def test_demo002_different_seed_different_city(small: DemoCity) -> None:
    other = build_demo_city(seed=8, scale="small", today=TODAY)
    assert other.reports is not None and small.reports is not None
    assert len(other.reports) != len(small.reports) or not other.reports.equals(small.reports)
    assert not other.observations["value"].equals(small.observations["value"])
    assert other.engagements != small.engagements
    # The cast of the city stays the same: only the numbers move.
    assert [p["title"] for p in other.problems] == [p["title"] for p in small.problems]


def test_demo003_lazy_report_chunks_match_the_frame(small: DemoCity) -> None:
    lazy = dataclasses.replace(small, reports=None)
    chunks = list(lazy.iter_reports(chunk_rows=700))
    assert max(len(c) for c in chunks) <= 700
    assert small.reports is not None
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), small.reports)
    assert lazy.report_count == len(small.reports)


def test_demo004_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        build_demo_city(scale="huge", today=TODAY)


# --- size and shape ------------------------------------------------------------------------


def test_demo010_city_counts_in_range(city: DemoCity) -> None:
    assert len(city.districts) == 12
    populations = [d["population"] for d in city.districts]
    assert min(populations) >= 40_000 and max(populations) <= 180_000
    assert 1_000_000 <= sum(populations) <= 1_200_000
    assert len(city.departments) == 10
    assert 30 <= len(city.problems) <= 40
    assert 120 <= len(city.indicators) <= 200
    assert 55 <= len(city.categories) <= 65
    assert 100_000 <= city.report_count <= 150_000
    assert len(city.actors) >= 80
    assert {p["policy_area"] for p in city.problems} == set(POLICY_AREAS)
    assert {p["status"] for p in city.problems} <= set(PROBLEM_STATUSES)
    assert all(0 <= p["political_capital"] <= 5 and 0 <= p["authority"] <= 5 for p in city.problems)
    assert all(p["political_notes"] and p["authority_notes"] for p in city.problems)


def test_demo011_small_scale_is_small(small: DemoCity) -> None:
    assert len(small.districts) == 12 and len(small.departments) == 10
    assert len(small.problems) == 12
    assert 30 <= len(small.indicators) <= 60
    assert 4_000 <= small.report_count <= 7_000
    assert small.reports is not None
    span = small.reports["day"].max() - small.reports["day"].min()
    assert 360 <= span.days <= 366


def test_demo012_need_tracks_low_income(city: DemoCity) -> None:
    frame = pd.DataFrame(city.districts)
    assert frame["need_index"].between(0, 1).all()
    rho = frame["need_index"].rank().corr(frame["median_household_income"].rank())
    assert rho < -0.9


def test_demo013_districts_come_from_the_geojson() -> None:
    assert DISTRICTS_GEOJSON.stat().st_size < 150_000
    features = json.loads(DISTRICTS_GEOJSON.read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in features]
    assert sorted(p["code"] for p in props) == [f"D{i:02d}" for i in range(1, 13)]
    assert sorted(p["boro_cd"] for p in props) == list(range(101, 113))
    assert len({p["name"] for p in props}) == 12
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        for polygon in polygons:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]


def test_demo014_point_in_polygon_handles_a_square_with_a_hole() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
            [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
        ],
    }
    lon = np.array([1.0, 5.0, 11.0, 9.9, -0.1])
    lat = np.array([1.0, 5.0, 5.0, 9.9, 5.0])
    assert points_in_geometry(lon, lat, square).tolist() == [True, False, False, True, False]


# --- indicators ----------------------------------------------------------------------------


def test_demo020_indicator_definitions_are_consistent(city: DemoCity) -> None:
    codes = [i["code"] for i in city.indicators]
    assert len(set(codes)) == len(codes)
    departments = {code for code, _ in DEPARTMENTS}
    for ind in city.indicators:
        assert ind["direction"] in DIRECTIONS and ind["cadence"] in CADENCES
        assert ind["department_code"] in departments and ind["source"]
        target, warning, critical = (
            ind["target"],
            ind["warning_threshold"],
            ind["critical_threshold"],
        )
        if ind["direction"] == "down":
            assert target < warning < critical, ind["code"]
        else:
            assert target > warning > critical, ind["code"]
    assert {i["cadence"] for i in city.indicators} >= {"weekly", "monthly", "quarterly"}
    assert {i["department_code"] for i in city.indicators} == departments


def test_demo021_every_problem_has_two_to_six_indicators(city: DemoCity, small: DemoCity) -> None:
    for demo in (city, small):
        per_problem = Counter(r["problem_key"] for r in demo.problem_indicators)
        assert set(per_problem) == {p["key"] for p in demo.problems}
        assert all(2 <= n <= 6 for n in per_problem.values()), per_problem
        assert all(r["weight"] > 0 for r in demo.problem_indicators)


def test_demo022_three_years_of_history_ending_near_today(city: DemoCity) -> None:
    first = city.observations.groupby("indicator_code", observed=True)["period"].min()
    assert (first <= pd.Timestamp(TODAY - dt.timedelta(days=3 * 365))).all()
    age = _last_period_age(city)
    cadence = {i["code"]: i["cadence"] for i in city.indicators}
    fresh = [code for code in age.index if code not in city.planted.stale_indicators]
    for code in fresh:
        assert age[code] <= 2 * CADENCE_DAYS[cadence[code]], code
    weekly = city.observations[city.observations["indicator_code"] == fresh[0]]
    assert weekly["period"].is_monotonic_increasing


def test_demo023_about_nine_percent_of_indicators_are_stale(city: DemoCity) -> None:
    age = _last_period_age(city)
    cadence = {i["code"]: i["cadence"] for i in city.indicators}
    stale = {code for code in age.index if age[code] > 2 * CADENCE_DAYS[cadence[code]]}
    assert stale == set(city.planted.stale_indicators)
    assert 0.07 <= len(stale) / len(city.indicators) <= 0.11
    assert city.planted.indicator_code not in stale


def test_demo024_planted_indicator_crossed_critical_after_being_fine(city: DemoCity) -> None:
    planted = city.planted
    ind = next(i for i in city.indicators if i["code"] == planted.indicator_code)
    assert ind["direction"] == "down"
    series = city.observations[city.observations["indicator_code"] == planted.indicator_code]
    values = series["value"].to_numpy()
    n = planted.indicator_periods_beyond
    assert 2 <= n <= 3
    assert (values[-n:] >= ind["critical_threshold"]).all()
    assert (values[-n - 26 : -n] < ind["warning_threshold"]).all()
    assert series["period"].iloc[-n].date() == planted.indicator_first_critical
    linked = [r for r in city.problem_indicators if r["indicator_code"] == ind["code"]]
    assert {r["problem_key"] for r in linked} == {planted.indicator_problem}
    # Nobody has flagged it yet: its latest status update predates the crossing.
    updates = [u for u in city.indicator_status_updates if u["indicator_code"] == ind["code"]]
    latest = max(updates, key=lambda u: u["created_at"])
    assert latest["status"] != "off_track"
    assert latest["created_at"].date() < planted.indicator_first_critical + dt.timedelta(days=7)


def test_demo025_status_updates_agree_with_thresholds(city: DemoCity) -> None:
    assert indicator_status(40, "down", 30, 35) == "off_track"
    assert indicator_status(31, "down", 30, 35) == "at_risk"
    assert indicator_status(80, "up", 70, 60) == "on_track"
    statuses = Counter(u["status"] for u in city.indicator_status_updates)
    assert set(statuses) == set(INDICATOR_STATUSES)
    assert all(u["note"] for u in city.indicator_status_updates)
    heads = {u.username for u in DEMO_USERS if u.role == "department_head"}
    assert {u["author_username"] for u in city.indicator_status_updates} <= heads


# --- citizen reports -----------------------------------------------------------------------


def test_demo030_reports_are_well_formed(city: DemoCity) -> None:
    reports = city.reports
    assert reports is not None
    assert list(reports.columns) == list(REPORT_COLUMNS)
    assert reports["service_request_id"].is_unique
    assert set(reports["status"]) == {"open", "closed"}
    closed = reports["status"] == "closed"
    assert reports.loc[closed, "closed_at"].notna().all()
    assert reports.loc[~closed, "closed_at"].isna().all()
    assert (reports.loc[closed, "closed_at"] >= reports.loc[closed, "requested_at"]).all()
    assert (reports["updated_at"] >= reports["requested_at"]).all()
    midnight_utc = pd.Timestamp(TODAY).tz_localize(city.timezone).tz_convert("UTC")
    assert reports["requested_at"].max() < midnight_utc.tz_localize(None)
    assert reports["closed_at"].max() <= midnight_utc.tz_localize(None)
    assert reports["day"].max() == pd.Timestamp(TODAY - dt.timedelta(days=1))
    assert (reports["description"].str.len() > 10).all()
    assert set(reports["category_code"].unique()) <= {c["code"] for c in city.categories}


def test_demo031_report_points_lie_in_their_district(city: DemoCity) -> None:
    reports = city.reports
    assert reports is not None
    sample = reports.sample(3000, random_state=1)
    for district in city.districts:
        rows = sample[sample["district_code"] == district["code"]]
        inside = points_in_geometry(rows["lon"], rows["lat"], district["geometry"])
        assert inside.all(), district["code"]


def test_demo032_seasonality(city: DemoCity) -> None:
    pothole = _reports_by_month(city, "pothole")
    assert pothole[[2, 3, 4]].mean() > 1.8 * pothole[8]
    for category in ("noise_residential", "extreme_heat", "open_hydrant", "rodent_sighting"):
        rate = _reports_by_month(city, category)
        assert rate[[6, 7, 8]].mean() > 1.5 * rate[[12, 1, 2]].mean(), category
    for category in ("snow_unplowed", "icy_sidewalk"):
        rate = _reports_by_month(city, category)
        assert rate[[4, 5, 6, 7, 8, 9, 10, 11]].sum() == 0, category
        assert rate[[12, 1, 2]].min() > 0, category
    leaves = _reports_by_month(city, "leaf_collection")
    assert leaves[[10, 11]].mean() > 4 * leaves[[5, 6, 7]].mean()
    heat = _reports_by_month(city, "no_heat")
    assert heat[[12, 1, 2]].mean() > 4 * heat[[6, 7, 8]].mean()


def test_demo033_fewer_reports_at_weekends(city: DemoCity) -> None:
    reports = city.reports
    assert reports is not None
    per_day = reports.groupby("day").size()
    weekday = pd.DatetimeIndex(per_day.index).day_of_week
    assert per_day[weekday < 5].mean() > 1.12 * per_day[weekday >= 5].mean()


def test_demo034_district_skew_follows_reporting_propensity(city: DemoCity) -> None:
    reports = city.reports
    assert reports is not None
    population = pd.Series({d["code"]: d["population"] for d in city.districts})
    propensity = pd.Series(city.report_propensity)
    assert propensity.max() / propensity.min() == pytest.approx(3.0, abs=0.05)
    per_capita = reports.groupby("district_code", observed=True).size() / population
    assert per_capita.max() / per_capita.min() > 2.0
    # A category whose conditions do not depend on need shows the bias undiluted.
    lights = reports[reports["category_code"] == "streetlight_out"]
    rate = lights.groupby("district_code", observed=True).size() / population
    assert rate.corr(propensity) > 0.8


def test_demo035_planted_surge_is_there(city: DemoCity, small: DemoCity) -> None:
    for demo in (city, small):
        p = demo.planted
        reports = demo.reports
        assert reports is not None
        mapped = [r for r in demo.category_problems if r["category_code"] == p.surge_category]
        assert p.surge_problem in {r["problem_key"] for r in mapped}
        assert 28 <= (p.surge_end - p.surge_start).days + 1 <= 42
        assert 3.0 <= p.surge_multiplier <= 4.0
        cat = reports[reports["category_code"] == p.surge_category]
        start, end = pd.Timestamp(p.surge_start), pd.Timestamp(p.surge_end)
        window = (cat["day"] >= start) & (cat["day"] <= end)
        length = (end - start).days + 1
        before = (cat["day"] < start) & (cat["day"] >= start - pd.Timedelta(days=8 * 7))
        in_district = cat["district_code"] == p.surge_district
        surge = (window & in_district).sum()
        assert 2.5 <= surge / p.surge_expected_baseline <= 5.0
        baseline_rate = (before & in_district).sum() / 56
        assert surge / length > 2.5 * baseline_rate
        for other in {d["code"] for d in demo.districts} - {p.surge_district}:
            here = cat["district_code"] == other
            rate_before = max((before & here).sum() / 56, 1 / 56)
            assert (window & here).sum() / length < 2.0 * rate_before + 0.15, other


# --- backward maps, actors, innovations ----------------------------------------------------


def _has_cycle(edges: list[tuple[str, str]]) -> bool:
    graph = defaultdict(list)
    for child, parent in edges:
        graph[child].append(parent)
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1 or (nxt not in state and visit(nxt)):
                return True
        state[node] = 2
        return False

    return any(visit(n) for n in list(graph) if n not in state)


def test_demo040_every_problem_has_a_backward_map(city: DemoCity) -> None:
    factors = pd.DataFrame(city.causal_factors)
    per_problem = factors.groupby("problem_key").size()
    assert set(per_problem.index) == {p["key"] for p in city.problems}
    assert per_problem.between(4, 9).all()
    assert set(factors["reach"]) == set(REACHES)
    assert set(factors["evidence"]) <= set(EVIDENCE_LEVELS)
    assert factors["weight"].between(0, 1).all()
    assert factors["key"].is_unique
    problem_of = dict(zip(factors["key"], factors["problem_key"], strict=True))
    edges = [(link["factor_key"], link["parent_key"]) for link in city.factor_links]
    assert edges and all(problem_of[a] == problem_of[b] and a != b for a, b in edges)
    assert not _has_cycle(edges)
    children = {a for a, _ in edges}
    top_level = factors[~factors["key"].isin(children)].groupby("problem_key").size()
    assert set(top_level.index) == set(per_problem.index)
    linked = factors["indicator_code"].dropna()
    assert len(linked) >= len(city.problems) // 2
    assert set(linked) <= {i["code"] for i in city.indicators}


def test_demo041_dag_detector_finds_a_cycle() -> None:
    assert _has_cycle([("a", "b"), ("b", "c"), ("c", "a")])
    assert not _has_cycle([("a", "b"), ("a", "c"), ("b", "c")])


def test_demo042_actors_cover_every_sector(city: DemoCity) -> None:
    names = [a["name"] for a in city.actors]
    assert len(set(names)) == len(names)
    assert {a["sector"] for a in city.actors} == set(SECTORS)
    assert all(a["description"] and a["contact"] for a in city.actors)
    engaged = {e["actor_name"] for e in city.engagements}
    engaged_sectors = {a["sector"] for a in city.actors if a["name"] in engaged}
    assert engaged_sectors == set(SECTORS)


def test_demo043_engagements_are_coherent_and_leave_gaps(city: DemoCity) -> None:
    problem_of = {f["key"]: f["problem_key"] for f in city.causal_factors}
    sector_of = {a["name"]: a["sector"] for a in city.actors}
    for e in city.engagements:
        assert e["role"] in ENGAGEMENT_ROLES and e["stance"] in STANCES
        assert e["actor_name"] in sector_of
        if e["factor_key"] is not None:
            assert problem_of[e["factor_key"]] == e["problem_key"]
        assert (e["committed_funding"] > 0) == (e["role"] == "funding")
        assert e["last_contact"] <= TODAY
    assert {e["stance"] for e in city.engagements} == set(STANCES)
    assert {e["role"] for e in city.engagements} == set(ENGAGEMENT_ROLES)
    engaged = {e["factor_key"] for e in city.engagements}
    unattended = [f for f in city.causal_factors if f["key"] not in engaged]
    assert len(unattended) >= len(city.problems)
    sectors = defaultdict(set)
    for e in city.engagements:
        sectors[e["problem_key"]].add(sector_of[e["actor_name"]])
    assert set(sectors) == {p["key"] for p in city.problems}
    assert all(len(s) < len(SECTORS) for s in sectors.values())


def test_demo044_innovations_at_every_stage(city: DemoCity, small: DemoCity) -> None:
    for demo in (city, small):
        innovations = demo.innovations
        assert {i["stage"] for i in innovations} == set(INNOVATION_STAGES)
        assert {i["origin"] for i in innovations} == set(INNOVATION_ORIGINS)
        assert {i["kind"] for i in innovations} == set(INNOVATION_TYPES)
        assert {i["evidence"] for i in innovations} <= set(EVIDENCE_LEVELS)
        actors = {a["name"] for a in demo.actors}
        assert all(i["lead_actor_name"] in actors for i in innovations if i["lead_actor_name"])
        assert all(i["evidence_note"] and i["description"] for i in innovations)


def test_demo045_categories_map_to_problems(city: DemoCity) -> None:
    codes = [c["code"] for c in city.categories]
    assert len(set(codes)) == len(codes)
    per_category = Counter(r["category_code"] for r in city.category_problems)
    unmapped = set(codes) - set(per_category)
    assert 3 <= len(unmapped) <= 8
    assert sum(1 for n in per_category.values() if n <= 2) >= 0.9 * len(per_category)
    assert {r["problem_key"] for r in city.category_problems} <= {p["key"] for p in city.problems}


def test_demo046_past_decisions_by_the_mayor(city: DemoCity) -> None:
    assert 4 <= len(city.decisions) <= 40
    keys = {p["key"] for p in city.problems}
    for d in city.decisions:
        assert re.fullmatch(r"\d{4}-W\d{2}", d["week"])
        assert d["week"] < iso_week(TODAY)
        assert d["problem_key"] in keys and d["author_username"] == "mayor" and d["note"]
    assert iso_week(dt.date(2026, 11, 2)) == "2026-W45"


def test_demo047_demo_users_can_sign_in() -> None:
    roles = Counter(u.role for u in DEMO_USERS)
    assert set(roles) == set(ROLES)
    assert roles["mayor"] == roles["chief_of_staff"] == roles["analyst"] == roles["admin"] == 1
    heads = {u.department_code for u in DEMO_USERS if u.role == "department_head"}
    assert heads == {code for code, _ in DEPARTMENTS}
    assert {u.username for u in DEMO_USERS} >= {"mayor", "chief", "analyst", "admin", "head-pw"}
    for user in DEMO_USERS:
        validate_password(user.password)
        assert user.password == f"{user.username}-riverton-demo"
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", user.username)
