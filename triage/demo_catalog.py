"""The demo city's catalogue, read from its city pack (``packs/riverton``) for the generator.

Pure (no database). ``read_pack`` validates the pack as it would any city's; the columns only
the generator uses (base levels, seasons, report propensity, category profiles) and the files
under ``demo/`` (sign-ins, report texts, word lists) are read beside it.
"""

from __future__ import annotations

import csv
import functools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from triage.citypack import LIST_SEPARATOR, CityPack, read_pack

RIVERTON_PACK = Path(__file__).resolve().parents[1] / "packs" / "riverton"
GENERATOR_FILE = "demo/generator.toml"
PEOPLE_FILE = "demo/people.csv"
TEXTS_FILE = "demo/report_texts.csv"


class DemoCatalogError(ValueError):
    """The demo pack is incomplete or inconsistent (a file, a line and what is wrong)."""


class District(NamedTuple):
    code: str
    name: str
    population: int
    income: float  # median household income, USD
    need: float  # 0 (least) .. 1 (most need); tracks low income, crowding and health burden
    propensity: float  # how readily residents report to 311, per capita, relative


class Ind(NamedTuple):
    """How one indicator is generated: its row's fields plus a base level and a season."""

    name: str
    unit: str
    direction: str  # which way is better
    cadence: str
    base: float  # typical level at the start of the history
    season: str = "none"  # a profile name of ``demo._season``; a leading "-" inverts it
    dept: str | None = None  # default: the problem's lead department
    source: str = ""


class Factor(NamedTuple):
    title: str
    reach: str
    evidence: str
    parents: tuple[int, ...] = ()  # earlier factors of the same problem, so the map is a DAG
    indicator: int | None = None  # index into the problem's own indicators


class Idea(NamedTuple):
    title: str
    origin: str
    kind: str
    description: str


@dataclass(frozen=True)
class ProblemSpec:
    key: str
    title: str
    area: str
    dept: str
    status: str
    districts: tuple[str, ...]
    capital: int
    capital_note: str
    authority: int
    authority_note: str
    description: str
    outcome: str
    indicators: tuple[Ind, ...]
    factors: tuple[Factor, ...]
    ideas: tuple[Idea, ...]


class Category(NamedTuple):
    code: str
    name: str
    dept: str
    weight: float  # share of all reports, relative
    season: str
    week: str  # weekday profile
    hours: str  # time-of-day profile
    need_skew: float  # >0: more in high-need districts, <0: more in affluent ones
    close_days: float  # median days to close
    problems: tuple[tuple[str, float], ...]
    texts: tuple[str, ...]
    hotspots: tuple[str, ...] = ()


class Actor(NamedTuple):
    name: str
    sector: str
    tags: tuple[str, ...]  # policy areas the actor works on; "*" for all
    description: str
    department: str | None = None  # a city department acting as an actor


class Person(NamedTuple):
    """A demo sign-in (the password is derived from the username by the generator)."""

    username: str
    display_name: str
    role: str
    department: str | None


@dataclass(frozen=True)
class DemoCatalog:
    """Everything the generator draws on; ``pack`` is the validated city pack itself."""

    pack: CityPack
    name: str
    timezone: str
    policy_areas: dict[str, str]
    departments: tuple[tuple[str, str], ...]
    districts: tuple[District, ...]
    geometry: dict[str, dict[str, Any]]
    people: tuple[Person, ...]
    problems: tuple[ProblemSpec, ...]
    vacancies: tuple[Ind, ...]  # indicators that belong to no problem (one per department)
    categories: tuple[Category, ...]
    actors: tuple[Actor, ...]
    words: dict[str, Any]  # demo/generator.toml

    @property
    def dept_name(self) -> dict[str, str]:
        return dict(self.departments)

    @property
    def district_name(self) -> dict[str, str]:
        return {d.code: d.name for d in self.districts}

    @property
    def all_districts(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.districts)

    @property
    def heads(self) -> dict[str, str]:
        """Department code -> the display name of its demo head."""
        return {p.department: p.display_name for p in self.people if p.department}


def _rows(directory: Path, name: str) -> list[tuple[int, dict[str, str]]]:
    path = directory / name
    if not path.is_file():
        raise DemoCatalogError(f"{name}: the demo needs this file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return [(reader.line_num, row) for row in reader]


def _number(text: str) -> float:
    """A literal as written: ``6`` stays an int, ``6.0`` a float (the generator sees both)."""
    value = text.strip()
    return int(value) if value.lstrip("-").isdigit() else float(value)


def _list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (text or "").split(LIST_SEPARATOR) if item.strip())


def _need(file: str, line: int, row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise DemoCatalogError(f"{file} line {line}: {column} is empty (the demo needs it)")
    return value


@functools.cache
def load_demo_catalog(directory: Path = RIVERTON_PACK) -> DemoCatalog:
    """Read and check the demo pack once per process; ``DemoCatalogError`` if it is not whole."""
    pack = read_pack(directory)
    if pack.rejects:
        listed = "; ".join(str(r) for r in pack.rejects[:5])
        raise DemoCatalogError(f"the demo pack {directory} has rejects: {listed}")
    words = tomllib.loads((directory / GENERATOR_FILE).read_text(encoding="utf-8"))
    geometry = {d.code: d.geometry for d in pack.districts}

    districts = tuple(
        District(
            row["code"],
            row["name"],
            int(row["population"]),
            _number(row["median_household_income"]),
            _number(row["need_index"]),
            _number(_need("districts.csv", line, row, "report_propensity")),
        )
        for line, row in _rows(directory, "districts.csv")
    )

    own: dict[str, list[tuple[str, Ind]]] = {}
    vacancies = []
    for line, row in _rows(directory, "indicators.csv"):
        ind = Ind(
            name=row["name"],
            unit=row["unit"],
            direction=row["direction"],
            cadence=row["cadence"],
            base=_number(_need("indicators.csv", line, row, "base")),
            season=(row.get("season") or "").strip() or "none",
            dept=row["department"],
            source=row.get("source", ""),
        )
        if row.get("problem"):
            own.setdefault(row["problem"], []).append((row["code"], ind))
        else:
            vacancies.append(ind)

    factors: dict[str, list[Factor]] = {}
    for line, row in _rows(directory, "factors.csv"):
        codes = [code for code, _ in own.get(row["problem"], [])]
        indicator = row.get("indicator") or ""
        if indicator and indicator not in codes:
            raise DemoCatalogError(
                f"factors.csv line {line}: {indicator} is not one of the problem's own indicators"
            )
        items = factors.setdefault(row["problem"], [])
        if int(row["number"]) != len(items) + 1:
            raise DemoCatalogError(f"factors.csv line {line}: factors must be numbered 1, 2, ...")
        items.append(
            Factor(
                row["title"],
                row["reach"],
                row["evidence"],
                tuple(int(p) - 1 for p in _list(row.get("parents", ""))),
                codes.index(indicator) if indicator else None,
            )
        )
    ideas: dict[str, list[Idea]] = {}
    for _line, row in _rows(directory, "innovations.csv"):
        ideas.setdefault(row["problem"], []).append(
            Idea(row["title"], row["origin"], row["kind"], row["description"])
        )
    problems = tuple(
        ProblemSpec(
            key=p.code,
            title=p.title,
            area=p.policy_area,
            dept=p.lead_department,
            status=p.status,
            districts=p.districts,
            capital=int(p.political_capital if p.political_capital is not None else 2),
            capital_note=p.political_notes,
            authority=int(p.authority if p.authority is not None else 2),
            authority_note=p.authority_notes,
            description=p.description,
            outcome=p.desired_outcome,
            indicators=tuple(ind for _, ind in own.get(p.code, [])),
            factors=tuple(factors.get(p.code, [])),
            ideas=tuple(ideas.get(p.code, [])),
        )
        for p in pack.problems
    )

    texts: dict[str, list[str]] = {}
    for _line, row in _rows(directory, TEXTS_FILE):
        texts.setdefault(row["category"], []).append(row["text"])
    categories = []
    for line, row in _rows(directory, "categories.csv"):
        code = _need("categories.csv", line, row, "code")
        links = []
        for item in _list(row.get("problems", "")):
            key, _, weight = item.partition(":")
            links.append((key, float(weight or 1.0)))
        categories.append(
            Category(
                code=code,
                name=row["category"],
                dept=row["department"],
                weight=_number(_need("categories.csv", line, row, "weight")),
                season=row.get("season") or "none",
                week=row.get("week") or "none",
                hours=row.get("hours") or "day",
                need_skew=_number(row.get("need_skew") or "0"),
                close_days=_number(row.get("close_days") or "7"),
                problems=tuple(links),
                texts=tuple(texts.get(code, [])),
                hotspots=_list(row.get("hotspots", "")),
            )
        )
    actors = tuple(
        Actor(
            row["name"],
            row["sector"],
            _list(row.get("tags", "")),
            row.get("description", ""),
            row.get("department") or None,
        )
        for _line, row in _rows(directory, "actors.csv")
    )
    people = tuple(
        Person(row["username"], row["display_name"], row["role"], row.get("department") or None)
        for _line, row in _rows(directory, PEOPLE_FILE)
    )
    return DemoCatalog(
        pack=pack,
        name=pack.city.name,
        timezone=pack.city.timezone,
        policy_areas={a.code: a.label for a in pack.policy_areas},
        departments=tuple((d.code, d.name) for d in pack.departments),
        districts=districts,
        geometry=geometry,
        people=people,
        problems=problems,
        vacancies=tuple(vacancies),
        categories=tuple(categories),
        actors=actors,
        words=words,
    )


def district_features(directory: Path = RIVERTON_PACK) -> tuple[dict[str, Any], ...]:
    """The demo districts as GeoJSON features (properties: code, name), sorted by code."""
    catalog = load_demo_catalog(directory)
    return tuple(
        {
            "type": "Feature",
            "properties": {"code": d.code, "name": d.name},
            "geometry": json.loads(json.dumps(catalog.geometry[d.code])),
        }
        for d in sorted(catalog.districts, key=lambda d: d.code)
    )
