"""The demo city "Riverton": a deterministic generator of every table, for demos and benchmarks.

Riverton's catalogue (departments, districts, problems, indicators, categories, actors, the
backward maps) is the city pack ``packs/riverton``, read by ``triage.demo_catalog``; this module
draws what a city accumulates on top of it (history, reports, decisions, engagements) and the
scale's variants. Pure numpy and pandas (no database, no Dash): ``db.seed`` imports the
catalogue through the city-pack import and writes the rest of what ``build_demo_city`` returns.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from triage.citypack import (
    ActorSpec,
    CategorySpec,
    CityPack,
    DepartmentSpec,
    DistrictSpec,
    EngagementSpec,
    FactorSpec,
    IndicatorSpec,
    InnovationSpec,
    same_named,
)
from triage.citypack import ProblemSpec as PackProblem
from triage.demo_catalog import (
    RIVERTON_PACK,
    DemoCatalog,
    Ind,
    ProblemSpec,
    district_features,
    load_demo_catalog,
)
from triage.demo_reports import REPORT_COLUMNS as REPORT_COLUMNS  # re-exported for callers
from triage.demo_reports import (
    ReportPlan,
    report_month,
    report_plan,
    season,
)
from triage.demo_reports import points_in_geometry as points_in_geometry
from triage.indicators import CADENCE_DAYS
from triage.vocabulary import EVIDENCE_LEVELS
from triage.weeks import iso_week as iso_week  # re-exported for callers

CITY_NAME = "Riverton"
TIMEZONE = "America/New_York"
DISTRICTS_GEOJSON = RIVERTON_PACK / "districts.geojson"
REPORT_SOURCE = "demo"

Progress = Callable[[str, float], None]

# --------------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """How much city to build: ``small`` for tests, ``city`` for demos, ``large`` for benchmarks."""

    name: str
    problems: int
    indicators_per_problem: int  # cap on each problem's own indicators
    indicators: int | None  # pad with district breakdowns up to this many (large only)
    history_years: int
    reports: int  # expected number of citizen reports
    weekly_only: bool = False  # every indicator weekly (the large benchmark's 5 years of weekly)


SCALES: dict[str, Scale] = {
    "small": Scale("small", problems=12, indicators_per_problem=3, indicators=None,
                   history_years=1, reports=5_000),
    "city": Scale("city", problems=37, indicators_per_problem=6, indicators=None,
                  history_years=3, reports=125_000),
    "large": Scale("large", problems=500, indicators_per_problem=6, indicators=5_000,
                   history_years=5, reports=10_000_000, weekly_only=True),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    """A demo sign-in; the password is deterministic and printed by ``triage demo``."""

    username: str
    display_name: str
    role: str
    department_code: str | None
    password: str


def _demo_user(username: str, display_name: str, role: str, dept: str | None = None) -> DemoUser:
    return DemoUser(username, display_name, role, dept, f"{username}-riverton-demo")


def demo_users(catalog: DemoCatalog) -> tuple[DemoUser, ...]:
    """The demo sign-ins of ``demo/people.csv``, each with its deterministic password."""
    return tuple(
        _demo_user(p.username, p.display_name, p.role, p.department) for p in catalog.people
    )


def head_of(department_code: str) -> str:
    """Username of the demo head of a department."""
    return f"head-{department_code.lower()}"


def __getattr__(name: str) -> Any:
    """Riverton's departments, sign-ins and policy areas, read from its pack when first asked."""
    if name == "DEPARTMENTS":
        return load_demo_catalog().departments
    if name == "DEMO_USERS":
        return demo_users(load_demo_catalog())
    if name == "POLICY_AREAS":
        return dict(load_demo_catalog().policy_areas)  # a copy: the catalogue is shared
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Vocabulary of the generator
# --------------------------------------------------------------------------------------------

CTRL = "controls"  # the reach of a factor the city controls (triage.vocabulary.REACHES)
STRONG, MOD, WEAK, ANEC = EVIDENCE_LEVELS


def load_district_features() -> tuple[dict[str, Any], ...]:
    """The 12 district features of the Riverton pack (properties: code, name), by code."""
    return district_features()


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    """The emerging problems hidden in the data, so tests and demos can look for them."""

    surge_category: str  # category code
    surge_district: str  # district code
    surge_problem: str  # problem key the category maps to
    surge_start: dt.date  # first local day of the surge
    surge_end: dt.date  # last local day (yesterday)
    surge_multiplier: float  # mean multiplier over the expected baseline
    surge_expected_baseline: float  # expected reports in the window without the surge
    indicator_code: str  # crossed its critical threshold in the last periods
    indicator_problem: str
    indicator_first_critical: dt.date  # first period beyond the critical threshold
    indicator_periods_beyond: int
    stale_indicators: tuple[str, ...]  # last value older than 2x their cadence


@dataclass(eq=False)
class DemoCity:
    """Every table of the demo city with natural keys (codes, names, keys) instead of ids.

    Lists of dicts hold one dict per row; the keys are the model's columns, except that
    foreign keys are natural keys: ``*_code`` (departments, districts, indicators,
    categories), ``*_key`` (problems, causal factors), ``*_name`` (actors) and
    ``*_username`` (users). Times are naive UTC, periods and days are local dates.

    - ``departments``: code, name
    - ``districts``: code, name, population, median_household_income, need_index, geometry
    - ``users``: ``DemoUser`` (username, display_name, role, department_code, password)
    - ``problems``: key, title, description, policy_area, status, owner_username,
      lead_department_code, desired_outcome, political_capital, political_notes, authority,
      authority_notes, created_at, updated_at
    - ``problem_districts``: problem_key, district_code
    - ``indicators``: code, name, description, unit, direction, cadence, department_code,
      target, warning_threshold, critical_threshold, source, created_at
    - ``observations`` (DataFrame): indicator_code, period (datetime64, local date), value,
      entered_by (username), entered_at
    - ``indicator_status_updates``: indicator_code, status, note, author_username, created_at
    - ``problem_indicators``: problem_key, indicator_code, weight
    - ``categories``: code, name, department_code; ``category_problems``: category_code,
      problem_key, weight
    - ``causal_factors``: key, problem_key, title, description, reach, evidence, weight,
      indicator_code (or None); ``factor_links``: factor_key, parent_key
    - ``actors``: name, sector, description, contact
    - ``engagements``: actor_name, problem_key, factor_key (or None), role, stance,
      committed_funding, authorisation, strings, last_contact
    - ``innovations``: problem_key, title, description, origin, kind, stage,
      lead_actor_name (or None), evidence, evidence_note, cost (or None)
    - ``decisions``: week ("2026-W45"), problem_key, decision, note, author_username,
      created_at
    - ``reports`` (DataFrame, None at the large scale; see ``iter_reports``): the columns of
      ``REPORT_COLUMNS``: service_request_id, category_code, raw_category, description,
      status (open/closed), requested_at, updated_at, closed_at (NaT when open), lat, lon,
      address, district_code, day (local calendar day of requested_at, the aggregate's key)
    - ``report_propensity``: district code -> relative per-capita readiness to report
      (not stored in the database: the truth for tests of bias correction)
    """

    seed: int
    scale: str
    today: dt.date
    departments: list[dict[str, Any]]
    districts: list[dict[str, Any]]
    users: list[DemoUser]
    problems: list[dict[str, Any]]
    problem_districts: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    observations: pd.DataFrame
    indicator_status_updates: list[dict[str, Any]]
    problem_indicators: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    category_problems: list[dict[str, Any]]
    causal_factors: list[dict[str, Any]]
    factor_links: list[dict[str, Any]]
    actors: list[dict[str, Any]]
    engagements: list[dict[str, Any]]
    innovations: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    report_propensity: dict[str, float]
    planted: Planted
    reports: pd.DataFrame | None
    timezone: str = TIMEZONE
    name: str = CITY_NAME
    _plan: ReportPlan | None = field(default=None, repr=False)
    catalog: DemoCatalog | None = field(default=None, repr=False)  # the pack it was built on

    @property
    def report_count(self) -> int:
        """Number of citizen reports, known before any chunk is generated."""
        assert self._plan is not None
        return int(self._plan.counts.sum())

    def as_pack(self) -> CityPack:
        """The generated catalogue as a city pack, for the same import a real city goes through.

        At the ``city`` scale this is the Riverton pack itself (with this seed's engagements,
        stages and weights); other scales hold their own problems and indicators. Problems are
        keyed by their ``key``, factors numbered within their problem (``key:F<n>``).
        """
        assert self.catalog is not None, "built by build_demo_city"
        by_problem: dict[str, dict[str, list[str]]] = {
            p["key"]: {"indicators": [], "categories": [], "districts": []} for p in self.problems
        }
        for r in self.problem_indicators:
            by_problem[r["problem_key"]]["indicators"].append(r["indicator_code"])
        name_of = {c["code"]: c["name"] for c in self.categories}
        for r in self.category_problems:
            by_problem[r["problem_key"]]["categories"].append(name_of[r["category_code"]])
        for r in self.problem_districts:
            by_problem[r["problem_key"]]["districts"].append(r["district_code"])
        number = {f["key"]: int(f["key"].rsplit(":F", 1)[1]) for f in self.causal_factors}
        parents: dict[str, list[int]] = {}
        for link in self.factor_links:
            parents.setdefault(link["factor_key"], []).append(number[link["parent_key"]])
        return CityPack(
            city=self.catalog.pack.city,
            districts=[DistrictSpec(**same_named(DistrictSpec, d)) for d in self.districts],
            departments=[DepartmentSpec(d["code"], d["name"]) for d in self.departments],
            indicators=[
                IndicatorSpec(
                    department=i["department_code"],
                    warning=i["warning_threshold"],
                    critical=i["critical_threshold"],
                    **same_named(IndicatorSpec, i),
                )
                for i in self.indicators
            ],
            problems=[
                PackProblem(
                    code=p["key"],
                    lead_department=p["lead_department_code"],
                    indicators=tuple(by_problem[p["key"]]["indicators"]),
                    categories=tuple(by_problem[p["key"]]["categories"]),
                    districts=tuple(by_problem[p["key"]]["districts"]),
                    **same_named(PackProblem, p),
                )
                for p in self.problems
            ],
            actors=[
                ActorSpec(a["name"], a["sector"], a["description"], a["contact"])
                for a in self.actors
            ],
            categories=[
                CategorySpec(c["name"], c["department_code"], c["code"]) for c in self.categories
            ],
            policy_areas=list(self.catalog.pack.policy_areas),
            factors=[
                FactorSpec(
                    problem=f["problem_key"],
                    number=number[f["key"]],
                    parents=tuple(parents.get(f["key"], [])),
                    indicator=f["indicator_code"] or "",
                    **same_named(FactorSpec, f),
                )
                for f in self.causal_factors
            ],
            innovations=[
                InnovationSpec(
                    problem=i["problem_key"],
                    lead_actor=i["lead_actor_name"] or "",
                    **same_named(InnovationSpec, i),
                )
                for i in self.innovations
            ],
            engagements=[
                EngagementSpec(
                    actor=e["actor_name"],
                    problem=e["problem_key"],
                    factor=number[e["factor_key"]] if e["factor_key"] else None,
                    **same_named(EngagementSpec, e),
                )
                for e in self.engagements
            ],
        )

    def iter_reports(self, chunk_rows: int = 250_000) -> Iterator[pd.DataFrame]:
        """Citizen reports in chronological chunks (columns as ``reports``).

        Chunks are whole calendar months, generated on demand unless ``reports`` is held, so
        the large scale never holds all reports; a month is split if over ``chunk_rows``.
        """
        if self.reports is not None:
            for start in range(0, len(self.reports), chunk_rows):
                yield self.reports.iloc[start : start + chunk_rows]
            return
        assert self._plan is not None
        for month in range(len(self._plan.month_bounds)):
            frame = report_month(self._plan, month)
            for start in range(0, len(frame), chunk_rows):
                yield frame.iloc[start : start + chunk_rows]


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build_demo_city(
    seed: int = 7,
    scale: str = "city",
    *,
    today: dt.date,
    progress: Progress | None = None,
    pack: Path = RIVERTON_PACK,
) -> DemoCity:
    """Generate the whole demo city; the same ``seed`` and ``today`` give identical output.

    The catalogue comes from the city pack ``pack`` (``triage.demo_catalog``); ``scale`` (a
    key of ``SCALES``) picks its problems (``small``) or adds district variants (``large``).
    ``progress(stage, fraction)`` is called as work goes on.
    DataFrames out: ``observations`` (indicator_code, period, value, entered_by, entered_at)
    and ``reports`` (``REPORT_COLUMNS``; None at the large scale, use ``iter_reports``).
    See ``DemoCity`` for the keys of every list-of-dicts table.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    report = progress or _no_progress
    streams = np.random.default_rng(seed).spawn(8)

    report("Districts and people", 0.0)
    cat = load_demo_catalog(pack)
    districts = cat.districts
    geometry = cat.geometry
    instances = _problem_instances(cat, spec)
    report("Districts and people", 1.0)

    report("Problems", 0.0)
    problems, problem_districts = _problems(instances, today, streams[0])
    report("Problems", 1.0)

    indicators, recipes, own = _indicator_specs(cat, instances, spec)
    observations, updates, planted_ind, stale = _indicator_history(
        cat, indicators, recipes, spec, today, streams[1], report
    )
    problem_indicators = _problem_indicators(cat, instances, own, streams[2])

    report("Backward maps and actors", 0.0)
    factors, links = _factors(cat, instances, own, streams[3])
    actors = _actors(cat, streams[4])
    engagements = _engagements(cat, instances, factors, streams[5], today)
    innovations = _innovations(cat, instances, engagements, streams[6])
    decisions = _decisions(cat, instances, today, streams[7])
    report("Backward maps and actors", 1.0)

    categories, category_problems = _categories(cat, instances)
    plan, surge = report_plan(
        cat, seed, spec.history_years, spec.reports, today, districts, geometry
    )
    reports = None
    if scale != "large":
        report("Citizen reports", 0.0)
        months = len(plan.month_bounds)
        frames = []
        for month in range(months):
            frames.append(report_month(plan, month))
            report("Citizen reports", (month + 1) / months)
        reports = pd.concat(frames, ignore_index=True)

    planted = Planted(
        **surge,
        indicator_code=planted_ind["code"],
        indicator_problem=_PLANTED_INDICATOR[0],
        indicator_first_critical=planted_ind["first_critical"],
        indicator_periods_beyond=planted_ind["periods_beyond"],
        stale_indicators=tuple(stale),
    )
    return DemoCity(
        seed=seed,
        scale=scale,
        today=today,
        departments=[{"code": code, "name": name} for code, name in cat.departments],
        districts=[
            {
                "code": d.code,
                "name": d.name,
                "population": d.population,
                "median_household_income": d.income,
                "need_index": d.need,
                "geometry": geometry[d.code],
            }
            for d in districts
        ],
        users=list(demo_users(cat)),
        problems=problems,
        problem_districts=problem_districts,
        indicators=indicators,
        observations=observations,
        indicator_status_updates=updates,
        problem_indicators=problem_indicators,
        categories=categories,
        category_problems=category_problems,
        causal_factors=factors,
        factor_links=links,
        actors=actors,
        engagements=engagements,
        innovations=innovations,
        decisions=decisions,
        report_propensity={d.code: d.propensity for d in districts},
        planted=planted,
        reports=reports,
        _plan=plan,
        timezone=cat.timezone,
        name=cat.name,
        catalog=cat,
    )


def _no_progress(_stage: str, _fraction: float) -> None:
    return None


@dataclass(frozen=True)
class _Instance:
    """One problem of this scale: a catalogue entry, or a district variant of one (large)."""

    key: str
    spec: ProblemSpec
    district: str | None  # the variant's district; None for the catalogue problem itself
    variant: int
    district_name: str = ""
    phase: str = ""  # ", phase 2" once every district has a variant of the problem


def _problem_instances(cat: DemoCatalog, spec: Scale) -> list[_Instance]:
    if spec.name == "small":
        small = cat.words["small_problems"]
        return [_Instance(p.key, p, None, 0) for p in cat.problems if p.key in small]
    catalogue = list(cat.problems)
    codes, names = cat.all_districts, cat.district_name
    out = []
    for i in range(spec.problems):
        base = catalogue[i % len(catalogue)]
        variant = i // len(catalogue)
        if variant == 0:
            out.append(_Instance(base.key, base, None, 0))
        else:
            # Walk each template through the districts so no two variants share a title.
            district = codes[(variant - 1 + i % len(catalogue)) % len(codes)]
            phase = "" if variant <= len(codes) else f", phase {variant // 12 + 1}"
            key = f"{base.key}-{variant:02d}"
            out.append(_Instance(key, base, district, variant, names[district], phase))
    return out


def _title(inst: _Instance) -> str:
    if inst.district is None:
        return inst.spec.title
    return f"{inst.spec.title} ({inst.district_name}{inst.phase})"


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def _problems(
    instances: Sequence[_Instance], today: dt.date, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    problems = []
    districts = []
    for inst in instances:
        p = inst.spec
        created = today - dt.timedelta(days=int(rng.integers(90, 1000)))
        updated = today - dt.timedelta(days=int(rng.integers(1, 60)))
        description = p.description
        if inst.district is not None:
            description += f" This record follows the problem in {inst.district_name}."
        problems.append(
            {
                "key": inst.key,
                "title": _title(inst),
                "description": description,
                "policy_area": p.area,
                "status": p.status,
                "owner_username": "chief" if p.status in ("focus", "emerging") else head_of(p.dept),
                "lead_department_code": p.dept,
                "desired_outcome": p.outcome,
                "political_capital": p.capital,
                "political_notes": p.capital_note,
                "authority": p.authority,
                "authority_notes": p.authority_note,
                "created_at": _at(created, 15),
                "updated_at": _at(max(updated, created), 16),
            }
        )
        codes = (inst.district,) if inst.district else p.districts
        districts.extend({"problem_key": inst.key, "district_code": c} for c in codes)
    return problems, districts


# --------------------------------------------------------------------------------------------
# Indicators and their history
# --------------------------------------------------------------------------------------------

_STATUS_DRIFT = {
    "emerging": 0.08,
    "watch": 0.02,
    "focus": -0.05,
    "monitoring": -0.02,
    "resolved": -0.06,
}
_PLANTED_INDICATOR = ("overdoses", 0)


def _nice(value: float) -> float:
    """Round to three significant figures, the way thresholds are written in a plan."""
    if value == 0:
        return 0.0
    digits = 2 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _thresholds(ind: Ind) -> tuple[float, float, float]:
    band = 0.1
    base = ind.base
    if ind.direction == "down":
        target, warning, critical = base * (1 - band), base * (1 + band), base * (1 + 2.5 * band)
    else:
        target, warning, critical = base * (1 + band), base * (1 - band), base * (1 - 2.5 * band)
    if ind.unit == "%":
        target = min(target, 99.0)
    return _nice(target), _nice(warning), _nice(critical)


class _Recipe(NamedTuple):
    """How to generate one indicator's history (kept beside its row, not in it)."""

    spec: Ind
    status: str  # the problem's status, which sets the drift
    planted: bool


def _indicator_specs(
    cat: DemoCatalog, instances: Sequence[_Instance], spec: Scale
) -> tuple[list[dict[str, Any]], list[_Recipe], dict[str, list[str]]]:
    """Indicator rows, their recipes, and per problem key the codes of its own indicators."""
    dept_name = cat.dept_name
    counters = dict.fromkeys(dept_name, 0)
    width = 4 if spec.indicators and spec.indicators >= 1000 else 3
    indicators: list[dict[str, Any]] = []
    recipes: list[_Recipe] = []
    own: dict[str, list[str]] = {}

    def add(
        ind: Ind, dept: str, name: str, problem: _Instance | None, planted: bool = False
    ) -> str:
        counters[dept] += 1
        code = f"{dept}-{counters[dept]:0{width}d}"
        cadence = "weekly" if spec.weekly_only else ind.cadence
        target, warning, critical = _thresholds(ind)
        if planted:
            # Wider bands, so the calm history sits clearly inside them before the crossing.
            warning, critical = _nice(ind.base * 1.25), _nice(ind.base * 1.45)
        better = "Lower" if ind.direction == "down" else "Higher"
        what = f"{name}, reported {cadence} by {dept_name[dept]}. {better} is better."
        if problem is not None:
            what += f" Measures progress on: {_title(problem)}."
        indicators.append(
            {
                "code": code,
                "name": name,
                "description": what,
                "unit": ind.unit,
                "direction": ind.direction,
                "cadence": cadence,
                "department_code": dept,
                "target": target,
                "warning_threshold": warning,
                "critical_threshold": critical,
                "source": ind.source or f"{dept_name[dept]} records",
            }
        )
        recipes.append(_Recipe(ind, problem.spec.status if problem else "monitoring", planted))
        return code

    for inst in instances:
        codes = []
        for j, ind in enumerate(inst.spec.indicators[: spec.indicators_per_problem]):
            name = ind.name
            if inst.district is not None:
                name = f"{ind.name}, {inst.district_name}"
            planted = (inst.key, j) == _PLANTED_INDICATOR
            codes.append(add(ind, ind.dept or inst.spec.dept, name, inst, planted))
        own[inst.key] = codes
    for vacancy in cat.vacancies:  # indicators of no problem, e.g. each department's vacancies
        add(vacancy, vacancy.dept or "", vacancy.name, None)
    # The benchmark needs many indicators: add district breakdowns of each problem's measures.
    if spec.indicators:
        i = 0
        while len(indicators) < spec.indicators:
            inst = instances[i % len(instances)]
            round_ = i // len(instances)
            inds = inst.spec.indicators
            ind = inds[round_ % len(inds)]
            district = cat.all_districts[(round_ + i) % len(cat.all_districts)]
            name = f"{ind.name}, {cat.district_name[district]} breakdown {round_ + 1}"
            scaled = ind._replace(base=max(ind.base / 6, 1) if ind.unit == "count" else ind.base)
            own[inst.key].append(add(scaled, ind.dept or inst.spec.dept, name, inst))
            i += 1
    return indicators, recipes, own


# Cadences of calendar periods: cadence -> (pandas period, frequency of period starts).
_CALENDAR_PERIODS = {"monthly": ("M", "MS"), "quarterly": ("Q", "QS")}


def _periods(cadence: str, start: dt.date, today: dt.date) -> pd.DatetimeIndex:
    """Observation periods (start dates) from ``start`` to the last complete period."""
    if cadence == "weekly":
        last = today - dt.timedelta(days=today.weekday() + 7)
        return pd.date_range(start + dt.timedelta(days=-start.weekday() % 7), last, freq="7D")
    if cadence in _CALENDAR_PERIODS:
        # The first period starting after ``start`` to the last one complete before ``today``.
        period, freq = _CALENDAR_PERIODS[cadence]
        last = (pd.Timestamp(today).to_period(period) - 1).start_time
        return pd.date_range(
            pd.Timestamp(start).to_period(period).end_time.normalize() + pd.Timedelta(days=1),
            last,
            freq=freq,
        )
    last = pd.Timestamp(dt.date(today.year - 1, 1, 1))
    return pd.date_range(pd.Timestamp(dt.date(start.year + 1, 1, 1)), last, freq="YS")


def _round_values(values: np.ndarray, unit: str) -> np.ndarray:
    if unit == "count":
        return np.round(values)
    if unit == "USD":
        return np.round(values, -2)
    if unit == "gallons":
        return np.round(values, -3)
    if unit in ("ratio", "rate", "mph", "miles", "lane-miles", "minutes"):
        return np.round(values, 2)
    return np.round(values, 1)


def _series(
    ind: Ind, periods: pd.DatetimeIndex, cadence: str, drift: float, rng: np.random.Generator
) -> np.ndarray:
    n = len(periods)
    years = (periods - periods[0]).days.to_numpy() / 365.25
    level = ind.base * (1 + drift * years)
    profile = ind.season.lstrip("-")
    if profile != "none":
        sign = -1.0 if ind.season.startswith("-") else 1.0
        amp = rng.uniform(0.04, 0.1) if ind.unit == "%" else rng.uniform(0.25, 0.45)
        # The period's middle day carries its season.
        mid = periods + pd.Timedelta(days=CADENCE_DAYS[cadence] // 2)
        level = level * np.clip(1 + sign * amp * (season(profile, mid.day_of_year) - 1), 0.1, None)
    level = np.clip(level, ind.base * 0.05, None)
    sd = rng.uniform(0.03, 0.07)
    eps = rng.normal(0, sd, n)
    wobble = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = 0.5 * acc + eps[i]
        wobble[i] = acc
    if ind.unit == "count" and ind.base < 1000:
        values = rng.poisson(np.clip(level * (1 + 0.5 * wobble), 0, None)).astype(float)
    else:
        values = level * (1 + wobble)
    if ind.unit == "%":
        values = np.clip(values, 0.5, 99.5)
    return _round_values(np.clip(values, 0, None), ind.unit)


def _indicator_history(
    cat: DemoCatalog,
    indicators: list[dict[str, Any]],
    recipes: Sequence[_Recipe],
    spec: Scale,
    today: dt.date,
    rng: np.random.Generator,
    report: Progress,
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, Any], list[str]]:
    """Observations, status updates, the planted crossing and the stale indicator codes."""
    # Starting a season early guarantees whole years of history for quarterly indicators too.
    start = today - dt.timedelta(days=365 * spec.history_years + 100)
    midnight = np.datetime64(today, "s")
    eligible = [i for i, recipe in enumerate(recipes) if not recipe.planted]
    n_stale = max(1, round(0.09 * len(indicators)))
    stale_idx = set(rng.choice(eligible, size=n_stale, replace=False).tolist())
    frames = []
    updates: list[dict[str, Any]] = []
    planted: dict[str, Any] = {}
    stale: list[str] = []
    report("Indicator history", 0.0)
    for i, (row, (ind, status, is_planted)) in enumerate(zip(indicators, recipes, strict=True)):
        cadence = row["cadence"]
        periods = _periods(cadence, start, today)
        worse = 1.0 if ind.direction == "down" else -1.0
        drift = worse * _STATUS_DRIFT.get(status, 0.0) + rng.normal(0, 0.04)
        if is_planted:
            values = _planted_series(row, len(periods), rng)
            first = periods[-3].date()
            planted = {"code": row["code"], "first_critical": first, "periods_beyond": 3}
        else:
            values = _series(ind, periods, cadence, drift, rng)
        if i in stale_idx:
            drop = {
                "weekly": rng.integers(4, 9),
                "monthly": rng.integers(3, 6),
                "quarterly": rng.integers(2, 4),
            }.get(cadence, 1)
            periods, values = periods[: -int(drop)], values[: -int(drop)]
            stale.append(row["code"])
        step = CADENCE_DAYS[cadence]
        lag_max = {"weekly": 4, "monthly": 12, "quarterly": 40}.get(cadence, 60)
        lag = rng.integers(1, lag_max + 1, len(periods)) * 86_400 + rng.integers(
            9 * 3600, 17 * 3600, len(periods)
        )
        entered = (
            periods.to_numpy().astype("datetime64[s]")
            + np.timedelta64(step, "D")
            + lag.astype("timedelta64[s]")
        )
        entered = np.minimum(entered, midnight - np.timedelta64(3600, "s"))
        head = head_of(row["department_code"])
        frames.append(
            pd.DataFrame(
                {
                    "indicator_code": row["code"],
                    "period": periods.to_numpy().astype("datetime64[s]"),
                    "value": values,
                    "entered_by": head,
                    "entered_at": entered,
                }
            )
        )
        row["created_at"] = _at(start, 9)
        notes = cat.words["status_notes"]
        updates.extend(_status_updates(row, values, entered, is_planted, head, notes, rng))
        if i % 50 == 0:
            report("Indicator history", (i + 1) / len(indicators))
    report("Indicator history", 1.0)
    observations = pd.concat(frames, ignore_index=True)
    observations["indicator_code"] = observations["indicator_code"].astype("category")
    observations["entered_by"] = observations["entered_by"].astype("category")
    return observations, updates, planted, stale


def _planted_series(row: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Calm, well below warning, then three periods past critical (a new batch of fentanyl)."""
    warning, critical = row["warning_threshold"], row["critical_threshold"]
    calm = rng.poisson(warning * 0.72, n).astype(float)
    calm = np.minimum(calm, warning - 2)
    calm[-3:] = np.ceil(critical * np.array([1.09, 1.2, 1.31]))
    return calm


def indicator_status(value: float, direction: str, warning: float, critical: float) -> str:
    """on_track / at_risk / off_track for a value against its thresholds."""
    if direction == "down":
        if value >= critical:
            return "off_track"
        return "at_risk" if value >= warning else "on_track"
    if value <= critical:
        return "off_track"
    return "at_risk" if value <= warning else "on_track"


def _status_updates(
    row: dict[str, Any],
    values: np.ndarray,
    entered: np.ndarray,
    is_planted: bool,
    author: str,
    status_notes: dict[str, list[str]],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    n = len(values)
    if n == 0:
        return []
    # The department has not yet noticed the planted crossing: its last update predates it.
    last = n - 4 if is_planted else n - 1
    recent = {"weekly": 26, "monthly": 9, "quarterly": 4}.get(row["cadence"], 2)
    first = max(0, last - recent)
    k = int(rng.integers(1, 4))
    picks = sorted(set(rng.integers(first, last + 1, k).tolist()) | {last})
    out = []
    for p in picks:
        status = indicator_status(
            float(values[p]), row["direction"], row["warning_threshold"], row["critical_threshold"]
        )
        notes = status_notes[status]
        created = entered[p] + np.timedelta64(int(rng.integers(3600, 2 * 86_400)), "s")
        out.append(
            {
                "indicator_code": row["code"],
                "status": status,
                "note": _one(rng, notes),
                "author_username": author,
                "created_at": pd.Timestamp(
                    min(created, entered[-1] + np.timedelta64(3600, "s"))
                ).to_pydatetime(),
            }
        )
    return out


def _problem_indicators(
    cat: DemoCatalog,
    instances: Sequence[_Instance],
    own: dict[str, list[str]],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    rows = []
    linked: dict[str, list[str]] = {}
    for inst in instances:
        codes = own[inst.key][:6]
        linked[inst.key] = list(codes)
        for j, code in enumerate(codes):
            weight = 1.0 if j == 0 else float(rng.choice([0.5, 0.6, 0.7, 0.8, 1.0]))
            rows.append({"problem_key": inst.key, "indicator_code": code, "weight": weight})
    for key, other, index, weight in cat.words["cross_links"]:
        if key in linked and other in own and index < len(own[other]) and len(linked[key]) < 6:
            code = own[other][index]
            if code not in linked[key]:
                linked[key].append(code)
                rows.append({"problem_key": key, "indicator_code": code, "weight": weight})
    return rows


# --------------------------------------------------------------------------------------------
# Backward maps, actors, engagements, innovations, decisions
# --------------------------------------------------------------------------------------------

_EVIDENCE_WEIGHT = {STRONG: (0.55, 0.95), MOD: (0.35, 0.75), WEAK: (0.15, 0.5), ANEC: (0.1, 0.4)}


def factor_key(problem_key: str, index: int) -> str:
    """Natural key of the ``index``-th (0-based) causal factor of a problem."""
    return f"{problem_key}:F{index + 1}"


def _factors(
    cat: DemoCatalog,
    instances: Sequence[_Instance],
    own: dict[str, list[str]],
    rng: np.random.Generator,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    reach_sentence, evidence_sentence = cat.words["reach_sentence"], cat.words["evidence_sentence"]
    factors = []
    links = []
    for inst in instances:
        specs = inst.spec.factors
        for i, f in enumerate(specs):
            low, high = _EVIDENCE_WEIGHT[f.evidence]
            codes = own[inst.key][:6]
            feeds = (
                "It feeds into "
                + " and ".join(f"“{specs[p].title.lower()}”" for p in f.parents)
                + "."
                if f.parents
                else "It contributes directly to the problem."
            )
            factors.append(
                {
                    "key": factor_key(inst.key, i),
                    "problem_key": inst.key,
                    "title": f.title,
                    "description": f"{feeds} {reach_sentence[f.reach]} "
                    f"{evidence_sentence[f.evidence]}",
                    "reach": f.reach,
                    "evidence": f.evidence,
                    "weight": round(float(rng.uniform(low, high)), 2),
                    "indicator_code": codes[f.indicator]
                    if f.indicator is not None and f.indicator < len(codes)
                    else None,
                }
            )
            for p in f.parents:
                if p >= i:
                    raise ValueError(f"{inst.key}: factor {i} must name earlier parents only")
                links.append(
                    {"factor_key": factor_key(inst.key, i), "parent_key": factor_key(inst.key, p)}
                )
    return factors, links


def _actors(cat: DemoCatalog, rng: np.random.Generator) -> list[dict[str, Any]]:
    words, heads = cat.words, cat.heads
    rows = []
    for actor in cat.actors:
        first = _one(rng, words["first_names"])
        last = _one(rng, words["last_names"])
        title = words["faith_titles"].get(actor.name, words["contact_titles"][actor.sector])
        if actor.department:
            contact = f"{heads[actor.department]}, department head"
        else:
            contact = f"{first} {last}, {title}"
        rows.append(
            {
                "name": actor.name,
                "sector": actor.sector,
                "description": actor.description,
                "contact": contact,
            }
        )
    return rows


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _one(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(0, len(options)))]


def _stance(cat: DemoCatalog, rng: np.random.Generator, sector: str) -> str:
    competing = cat.words["competing"].get(sector, 0.05)
    indifferent = cat.words["indifferent"].get(sector, 0.05)
    u = rng.random()
    if u < competing:
        return "competing"
    return "indifferent" if u < competing + indifferent else "complementary"


def _engagements(
    cat: DemoCatalog,
    instances: Sequence[_Instance],
    factors: list[dict[str, Any]],
    rng: np.random.Generator,
    today: dt.date,
) -> list[dict[str, Any]]:
    by_problem: dict[str, list[dict[str, Any]]] = {}
    for f in factors:
        by_problem.setdefault(f["problem_key"], []).append(f)
    words = cat.words
    dept_actor = {a.department: a for a in cat.actors if a.department}
    rows = []
    for inst in instances:
        tag = words["tag_of_area"][inst.spec.area]
        lead = dept_actor[inst.spec.dept]
        candidates = [a for a in cat.actors if a is not lead and ("*" in a.tags or tag in a.tags)]
        weights = np.asarray([0.5 if a.department else 1.0 for a in candidates])
        k = min(len(candidates), int(rng.integers(3, 9)))
        picks = rng.choice(len(candidates), k, replace=False, p=weights / weights.sum())
        problem_factors = by_problem.get(inst.key, [])
        # One or two factors keep nobody on them: the neglected links of the causal chain.
        n_neglected = min(len(problem_factors) - 1, int(rng.integers(1, 3)))
        neglected = set(rng.choice(len(problem_factors), n_neglected, replace=False).tolist())
        attended = [f for i, f in enumerate(problem_factors) if i not in neglected]
        controlled = [f for f in attended if f["reach"] == CTRL] or attended
        for n, actor in enumerate([lead, *(candidates[i] for i in picks)]):
            if n == 0:
                role, stance, factor = "delivering", "complementary", _one(rng, controlled)
            else:
                role = _pick(rng, words["role_weights"][actor.sector])
                stance = _stance(cat, rng, actor.sector)
                factor = _one(rng, attended) if rng.random() < 0.65 else None
            funding = 0.0
            if role == "funding":
                median = words["funding_median"].get(actor.sector, 50_000)
                funding = float(round(median * math.exp(rng.normal(0, 0.7)), -3))
            authorisation = _one(rng, words["authorisations"][role]).format(
                n=f"{today.year % 100 - 1:02d}-{int(rng.integers(100, 400))}",
                years=int(rng.integers(2, 4)),
                year=today.year - int(rng.integers(0, 2)),
                until=today.year + int(rng.integers(1, 3)),
            )
            rows.append(
                {
                    "actor_name": actor.name,
                    "problem_key": inst.key,
                    "factor_key": factor["key"] if factor else None,
                    "role": role,
                    "stance": stance,
                    "committed_funding": funding,
                    "authorisation": authorisation,
                    "strings": _one(rng, words["strings"][actor.sector]),
                    "last_contact": today - dt.timedelta(days=int(rng.integers(2, 270))),
                }
            )
    return rows


_STAGE_WEIGHTS = {"idea": 0.3, "pilot": 0.25, "evaluating": 0.15, "scaling": 0.15, "retired": 0.15}


def _innovations(
    cat: DemoCatalog,
    instances: Sequence[_Instance],
    engagements: list[dict[str, Any]],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    words = cat.words
    leads: dict[str, list[str]] = {}
    for e in engagements:
        if e["role"] in ("delivering", "funding", "convening"):
            leads.setdefault(e["problem_key"], []).append(e["actor_name"])
    rows = []
    for inst in instances:
        for idea in inst.spec.ideas:
            stage = _pick(rng, _STAGE_WEIGHTS)
            options = words["evidence_by_origin"][idea.origin]
            evidence = _one(rng, options)
            notes = words["evidence_notes"][evidence]
            candidates = leads.get(inst.key, [])
            lead = _one(rng, candidates) if candidates and rng.random() < 0.9 else None
            cost = float(round(words["cost_median"][idea.kind] * math.exp(rng.normal(0, 0.6)), -3))
            rows.append(
                {
                    "problem_key": inst.key,
                    "title": idea.title,
                    "description": idea.description,
                    "origin": idea.origin,
                    "kind": idea.kind,
                    "stage": stage,
                    "lead_actor_name": lead,
                    "evidence": evidence,
                    "evidence_note": _one(rng, notes),
                    "cost": None if stage == "idea" and rng.random() < 0.4 else cost,
                }
            )
    # Every stage appears at least once, even in the small city.
    stages = list(_STAGE_WEIGHTS)
    for stage in stages:
        if not any(r["stage"] == stage for r in rows):
            counts = {s: sum(r["stage"] == s for r in rows) for s in stages}
            donor = max(counts, key=lambda s: counts[s])
            victims = [i for i, r in enumerate(rows) if r["stage"] == donor]
            rows[_one(rng, victims)]["stage"] = stage
    return rows


def _decisions(
    cat: DemoCatalog, instances: Sequence[_Instance], today: dt.date, rng: np.random.Generator
) -> list[dict[str, Any]]:
    base = [i for i in instances if i.district is None]
    focus = [i for i in base if i.spec.status == "focus"]
    others = [i for i in base if i.spec.status in ("emerging", "watch")]
    rows = []
    monday = today - dt.timedelta(days=today.weekday())
    for weeks_ago in range(6, 0, -1):
        week_start = monday - dt.timedelta(weeks=weeks_ago)
        created = dt.datetime.combine(week_start + dt.timedelta(days=1), dt.time(15, 30))
        for inst in focus:
            if rng.random() < 0.6:
                rows.append(_decision(cat, inst, week_start, created, "focus", rng))
        if others:
            inst = _one(rng, others)
            kind = ("delegate", "convene", "monitor")[int(rng.integers(0, 3))]
            rows.append(_decision(cat, inst, week_start, created, kind, rng))
    return rows


def _decision(
    cat: DemoCatalog,
    inst: _Instance,
    week_start: dt.date,
    created: dt.datetime,
    kind: str,
    rng: np.random.Generator,
) -> dict[str, Any]:
    dept = cat.dept_name[inst.spec.dept]
    tag = cat.words["tag_of_area"][inst.spec.area]
    partners = [a.name for a in cat.actors if not a.department and tag in a.tags]
    partner = _one(rng, partners) if partners else "partners"
    notes = {
        "focus": (
            "Stays on my list. Chief of staff to bring a one-page progress note next week.",
            f"Keep the focus; ask {dept} for a recovery plan by the end of the month.",
            "Still the priority. I want the numbers by district before the council hearing.",
        ),
        "delegate": (f"Delegate to {dept}; report back in four weeks.",),
        "convene": (
            f"Convene {partner} and the other partners within the month to agree who does what.",
        ),
        "monitor": ("Monitor: the indicators are steady enough. Revisit if the trend turns.",),
    }[kind]
    return {
        "week": iso_week(week_start),
        "problem_key": inst.key,
        "decision": kind,
        "note": _one(rng, notes),
        "author_username": "mayor",
        "created_at": created,
    }


def _categories(
    cat: DemoCatalog, instances: Sequence[_Instance]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    present = {i.key for i in instances}
    categories = [
        {"code": c.code, "name": c.name, "department_code": c.dept} for c in cat.categories
    ]
    mapping = [
        {"category_code": c.code, "problem_key": key, "weight": weight}
        for c in cat.categories
        for key, weight in c.problems
        if key in present
    ]
    return categories, mapping
