"""City packs: read and validate the folder that describes one city (pure, no database).

A pack is ``city.toml`` plus ``departments.csv``, ``indicators.csv``, ``problems.csv`` and the
optional ``actors.csv``, ``categories.csv``, ``districts.csv``, ``policy_areas.csv`` and the
backward map: ``factors.csv``, ``innovations.csv``, ``engagements.csv`` (docs/city-packs.md);
``read_pack`` returns every valid row and a reject (file, line, reason) for every other one.
``write_pack`` writes the same files back. Every read is bounded: file size, rows, features and
vertices have caps.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import shapely
from shapely.geometry import shape

from triage.export import FORMULA_PREFIXES, safe_cell
from triage.ingest.errors import IngestError
from triage.ingest.geo import polygon_from_geojson
from triage.vocabulary import (
    ALL_SECTORS,
    CADENCES,
    DIRECTIONS,
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    INNOVATION_TYPES,
    PROBLEM_STATUSES,
    REACHES,
    STANCES,
)

MAX_TOML_BYTES = 64 * 1024
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 20_000
MAX_CELL_CHARS = 10_000
MAX_GEOJSON_BYTES = 64 * 1024 * 1024
MAX_FEATURES = 5_000
MAX_VERTICES = 5_000_000

SECTORS = ALL_SECTORS
LIST_SEPARATOR = ";"
# The optional ``archived`` column of departments, indicators, problems and actors.
ARCHIVED_WORDS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
CITY_FILE = "city.toml"
DEFAULT_DISTRICTS_FILE = "districts.geojson"
LONLAT_CRS = ("CRS84", "4326")  # endings of the CRS names GeoJSON files use for lon/lat


class PackError(Exception):
    """The pack cannot be read at all (no folder, no or broken ``city.toml``)."""


@dataclass(frozen=True)
class Reject:
    """One row (or feature, or whole file) left out, and why."""

    file: str
    line: int  # 1-based CSV line (the header is 1), GeoJSON feature number; 0: the whole file
    reason: str

    def __str__(self) -> str:
        if self.line <= 0:
            return f"{self.file}: {self.reason}"
        unit = "feature" if self.file.endswith(("json", "geojson")) else "line"
        return f"{self.file} {unit} {self.line}: {self.reason}"


@dataclass(frozen=True)
class CitySpec:
    name: str
    timezone: str
    fiscal_year_start: int | None = None
    districts_file: str | None = None
    code_property: str = "code"
    name_property: str | None = None
    population_property: str | None = None


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str
    population: int | None
    geometry: dict[str, Any]
    median_household_income: float | None = None
    need_index: float | None = None


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    archived: bool | None = None  # yes: archive; no: restore; None (empty cell): as stored


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    department: str
    unit: str
    direction: str
    cadence: str
    target: float | None
    warning: float | None
    critical: float | None
    description: str = ""
    source: str = ""
    archived: bool | None = None  # yes: archive; no: restore; None (empty cell): as stored


@dataclass(frozen=True)
class ProblemSpec:
    code: str
    title: str
    lead_department: str
    indicators: tuple[str, ...]
    categories: tuple[str, ...]
    description: str = ""
    policy_area: str = ""
    desired_outcome: str = ""
    status: str = "watch"
    districts: tuple[str, ...] = ()  # district codes where the problem is felt
    political_capital: int | None = None  # 0..5; None: not given
    political_notes: str = ""
    authority: int | None = None  # 0..5: how much the city can act; None: not given
    authority_notes: str = ""
    archived: bool | None = None  # yes: archive; no: restore; None (empty cell): as stored


@dataclass(frozen=True)
class ActorSpec:
    name: str
    sector: str
    description: str = ""
    contact: str = ""
    archived: bool | None = None  # yes: archive; no: restore; None (empty cell): as stored


@dataclass(frozen=True)
class CategorySpec:
    """A 311 category as the source names it, and the department that answers it."""

    name: str
    department: str  # empty: as stored (a new category has none)
    code: str = ""  # the stored code; empty: derived from the name as ingestion does
    # The category (by name) this one continues after the city renamed it; its history and
    # problems carry on here. Empty: a link set in the app stays as stored.
    continues: str = ""


@dataclass(frozen=True)
class PolicyAreaSpec:
    """A policy area's stored code (``problems.csv`` policy_area) and the label pages show."""

    code: str
    label: str


@dataclass(frozen=True)
class FactorSpec:
    """A cause in a problem's backward map; ``number`` is its key within the problem."""

    problem: str
    number: int
    title: str
    reach: str
    evidence: str = "moderate"
    weight: float = 0.5
    parents: tuple[int, ...] = ()  # numbers of the factors this one feeds into
    indicator: str = ""  # code of an indicator that measures it
    description: str = ""


@dataclass(frozen=True)
class InnovationSpec:
    problem: str
    title: str
    origin: str
    kind: str
    stage: str = "idea"
    lead_actor: str = ""
    evidence: str = "weak"
    cost: float | None = None  # USD
    evidence_note: str = ""
    description: str = ""


@dataclass(frozen=True)
class EngagementSpec:
    """An actor's part in a problem (optionally on one factor, by its number)."""

    actor: str
    problem: str
    factor: int | None
    role: str
    stance: str = "complementary"
    committed_funding: float = 0.0
    authorisation: str = ""
    strings: str = ""
    last_contact: dt.date | None = None


# The fields of each kind of pack row that its stored row (an export) or the demo city's row
# holds under the same name, so they are copied as they are.
SAME_NAMED: dict[type, tuple[str, ...]] = {
    DistrictSpec: (
        "code",
        "name",
        "population",
        "geometry",
        "median_household_income",
        "need_index",
    ),
    IndicatorSpec: (
        "code",
        "name",
        "unit",
        "direction",
        "cadence",
        "target",
        "description",
        "source",
    ),
    ProblemSpec: (
        "title",
        "description",
        "policy_area",
        "desired_outcome",
        "status",
        "political_capital",
        "political_notes",
        "authority",
        "authority_notes",
    ),
    FactorSpec: ("title", "reach", "evidence", "weight", "description"),
    InnovationSpec: (
        "title",
        "origin",
        "kind",
        "stage",
        "evidence",
        "cost",
        "evidence_note",
        "description",
    ),
    EngagementSpec: (
        "role",
        "stance",
        "committed_funding",
        "authorisation",
        "strings",
        "last_contact",
    ),
}


def same_named(kind: type, row: Any) -> dict[str, Any]:
    """The ``SAME_NAMED[kind]`` fields of ``row`` (a mapping, or an object's attributes)."""
    if isinstance(row, Mapping):
        return {name: row[name] for name in SAME_NAMED[kind]}
    return {name: getattr(row, name) for name in SAME_NAMED[kind]}


@dataclass
class CityPack:
    """Everything valid in a pack, the rejects, and the rows read per file."""

    city: CitySpec
    districts: list[DistrictSpec] = field(default_factory=list)
    departments: list[DepartmentSpec] = field(default_factory=list)
    indicators: list[IndicatorSpec] = field(default_factory=list)
    problems: list[ProblemSpec] = field(default_factory=list)
    actors: list[ActorSpec] = field(default_factory=list)
    categories: list[CategorySpec] = field(default_factory=list)
    policy_areas: list[PolicyAreaSpec] = field(default_factory=list)
    factors: list[FactorSpec] = field(default_factory=list)
    innovations: list[InnovationSpec] = field(default_factory=list)
    engagements: list[EngagementSpec] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    read: dict[str, int] = field(default_factory=dict)  # file -> records read
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, key) -> line
    notes: list[str] = field(default_factory=list)  # repairs worth telling the user


class RowError(ValueError):
    """A cell is wrong; the message is the reject's reason."""


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


def _unguard(value: str) -> str:
    """Undo the apostrophe an export puts before a cell a spreadsheet would run as a formula."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _text(row: Mapping[str, str], column: str, limit: int, *, required: bool = True) -> str:
    value = _unguard((row.get(column) or "").strip())
    if required and not value:
        raise RowError(f"{column} is empty")
    if len(value) > limit:
        raise RowError(f"{column} is longer than {limit} characters")
    return value


def _number(row: Mapping[str, str], column: str) -> float | None:
    value = _unguard((row.get(column) or "").strip())
    if not value:
        return None
    try:
        number = float(value.replace(",", "")) if len(value) < 40 else math.nan
    except ValueError:
        raise RowError(f"{column} {value[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(f"{column} {value[:40]!r} is not a finite number")
    return number


def _choice(row: Mapping[str, str], column: str, allowed: Sequence[str], default: str) -> str:
    value = _text(row, column, 64, required=False).lower().replace(" ", "_").replace("-", "_")
    value = value or default
    if value not in allowed:
        raise RowError(f"{column} {value!r} is not one of {', '.join(allowed)}")
    return value


def _archived(row: Mapping[str, str]) -> bool | None:
    """The optional ``archived`` cell: yes/no (true/false, 1/0); empty or absent is None."""
    value = _text(row, "archived", 16, required=False).lower()
    if not value:
        return None
    if value not in ARCHIVED_WORDS:
        raise RowError(f"archived {value!r} is not yes or no (leave it empty to keep it as stored)")
    return ARCHIVED_WORDS[value]


def _items(row: Mapping[str, str], column: str) -> tuple[str, ...]:
    value = _text(row, column, MAX_CELL_CHARS, required=False)
    items = [item.strip() for item in value.split(LIST_SEPARATOR)]
    return tuple(dict.fromkeys(item for item in items if item))


def code_text(value: object) -> str:
    """A district code from a GeoJSON property: numbers allowed (311.0 reads as ``311``)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def _read_bytes(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise RowError(f"the file has {size:,} bytes, more than the {limit:,} allowed")
    return path.read_bytes()


def _csv_rows(
    pack: CityPack, directory: Path, name: str, required_columns: Sequence[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each data row of ``name``; file-level problems become one reject."""
    path = directory / name
    try:
        data = _read_bytes(path, MAX_CSV_BYTES)
        text = data.decode("utf-8-sig")
    except RowError as exc:
        pack.rejects.append(Reject(name, 1, str(exc)))
        return
    except UnicodeDecodeError:
        pack.rejects.append(Reject(name, 1, "the file is not UTF-8 text"))
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        pack.rejects.append(Reject(name, 1, f"the header is not CSV ({exc})"))
        return
    if header is None:
        pack.rejects.append(Reject(name, 1, "the file is empty"))
        return
    columns = [_unguard(h.strip()).lower().replace(" ", "_") for h in header]
    missing = [c for c in required_columns if c not in columns]
    if missing:
        pack.rejects.append(
            Reject(name, 1, f"missing column(s) {', '.join(missing)}; the file was not read")
        )
        return
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            pack.rejects.append(Reject(name, line, f"not CSV ({exc}); the rest was not read"))
            break
        if not any(cell.strip() for cell in cells):
            continue
        count += 1
        if count > MAX_CSV_ROWS:
            pack.rejects.append(
                Reject(name, line, f"more than {MAX_CSV_ROWS:,} rows; the rest was not read")
            )
            break
        if len(cells) > len(columns):
            pack.rejects.append(Reject(name, line, "more cells than the header has columns"))
            continue
        if any(len(cell) > MAX_CELL_CHARS for cell in cells):
            pack.rejects.append(Reject(name, line, f"a cell is over {MAX_CELL_CHARS:,} characters"))
            continue
        yield line, dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True))
    pack.read[name] = min(count, MAX_CSV_ROWS)


def _collect(
    pack: CityPack,
    directory: Path,
    name: str,
    required: Sequence[str],
    parse: Callable[[dict[str, str]], Any],
    key: Callable[[Any], str],
    *,
    optional: bool = False,
) -> list[Any]:
    """Parse every row of one CSV; duplicates of a key are rejected after the first."""
    if not (directory / name).is_file():
        if not optional:
            pack.rejects.append(Reject(name, 0, "the file is missing"))
        return []
    kept: list[Any] = []
    first_line: dict[str, int] = {}
    for line, row in _csv_rows(pack, directory, name, required):
        try:
            item = parse(row)
        except RowError as exc:
            pack.rejects.append(Reject(name, line, str(exc)))
            continue
        item_key = key(item).casefold()
        if item_key in first_line:
            pack.rejects.append(
                Reject(name, line, f"{key(item)!r} is already on line {first_line[item_key]}")
            )
            continue
        first_line[item_key] = line
        pack.lines[(name, item_key)] = line
        kept.append(item)
    return kept


def read_city(directory: Path) -> CitySpec:
    """``city.toml``, or ``PackError`` naming what is wrong."""
    path = directory / CITY_FILE
    if not directory.is_dir():
        raise PackError(f"There is no folder {directory}.")
    if not path.is_file():
        raise PackError(f"{directory} has no {CITY_FILE}; a city pack starts with one.")
    try:
        data = tomllib.loads(_read_bytes(path, MAX_TOML_BYTES).decode("utf-8"))
    except RowError as exc:
        raise PackError(f"{CITY_FILE}: {exc}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PackError(f"{CITY_FILE} is not TOML: {exc}") from None
    known = {"name", "timezone", "fiscal_year_start", "districts"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PackError(
            f"{CITY_FILE}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}."
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise PackError(f"{CITY_FILE}: name must be the city's name (1 to 120 characters).")
    timezone = data.get("timezone")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise PackError(
            f"{CITY_FILE}: timezone {timezone!r} is not a time zone (e.g. America/New_York)."
        ) from None
    start = data.get("fiscal_year_start")
    if start is not None and (isinstance(start, bool) or start not in range(1, 13)):
        raise PackError(f"{CITY_FILE}: fiscal_year_start must be a month number, 1 to 12.")
    districts = data.get("districts", {})
    if not isinstance(districts, dict):
        raise PackError(f"{CITY_FILE}: [districts] must be a table (file, code, name, ...).")
    known_districts = {"file", "code", "name", "population"}
    unknown = sorted(set(districts) - known_districts)
    if unknown:
        raise PackError(
            f"{CITY_FILE}: unknown key(s) in [districts]: {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(known_districts))}."
        )
    if not all(isinstance(v, str) and v.strip() for v in districts.values()):
        raise PackError(f"{CITY_FILE}: every [districts] value must be non-empty text.")
    file = districts.get("file")
    if file is not None:
        target = (directory / file).resolve()
        if directory.resolve() not in target.parents:
            raise PackError(f"{CITY_FILE}: [districts] file must be inside the pack folder.")
    if districts and not file:
        raise PackError(f"{CITY_FILE}: [districts] needs file (a GeoJSON FeatureCollection).")
    return CitySpec(
        name=name.strip(),
        timezone=str(timezone),
        fiscal_year_start=start,
        districts_file=file,
        code_property=districts.get("code", "code"),
        name_property=districts.get("name"),
        population_property=districts.get("population"),
    )


def _read_districts(pack: CityPack, directory: Path) -> None:
    city = pack.city
    if not city.districts_file:
        return
    name = city.districts_file
    path = directory / name
    if not path.is_file():
        pack.rejects.append(Reject(name, 0, "the file named in city.toml [districts] is missing"))
        return
    try:
        collection = json.loads(_read_bytes(path, MAX_GEOJSON_BYTES))
    except RowError as exc:
        pack.rejects.append(Reject(name, 0, str(exc)))
        return
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        pack.rejects.append(Reject(name, 0, f"not JSON ({str(exc)[:120]})"))
        return
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        pack.rejects.append(Reject(name, 0, "not a GeoJSON FeatureCollection"))
        return
    features = collection.get("features")
    if not isinstance(features, list):
        pack.rejects.append(Reject(name, 0, "not a GeoJSON FeatureCollection"))
        return
    crs_properties = (
        (collection.get("crs") or {}).get("properties")
        if isinstance(collection.get("crs"), dict)
        else None
    )
    crs = crs_properties.get("name", "") if isinstance(crs_properties, dict) else ""
    if crs and not str(crs).upper().endswith(LONLAT_CRS):
        pack.rejects.append(
            Reject(name, 0, f"coordinates are in {crs}; give longitude/latitude (EPSG:4326)")
        )
        return
    if len(features) > MAX_FEATURES:
        pack.rejects.append(Reject(name, 0, f"more than {MAX_FEATURES:,} features"))
        return
    pack.read[name] = len(features)
    vertices = 0
    seen: dict[str, int] = {}
    names: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        try:
            district, repaired, size = _district(city, feature)
            vertices += size
        except RowError as exc:
            pack.rejects.append(Reject(name, number, str(exc)))
            continue
        except IngestError as exc:
            pack.rejects.append(Reject(name, number, f"{exc}"))
            continue
        if vertices > MAX_VERTICES:
            pack.rejects.append(
                Reject(name, number, f"over {MAX_VERTICES:,} vertices; the rest was not read")
            )
            break
        if district.code.casefold() in seen:
            pack.rejects.append(
                Reject(
                    name,
                    number,
                    f"district {district.code!r} is already feature "
                    f"{seen[district.code.casefold()]}",
                )
            )
            continue
        if district.name.casefold() in names:
            pack.rejects.append(
                Reject(name, number, f"the name {district.name!r} is already used by a district")
            )
            continue
        seen[district.code.casefold()] = number
        pack.lines[(name, district.code.casefold())] = number
        names[district.name.casefold()] = number
        if repaired:
            pack.notes.append(f"{name} feature {number}: the boundary was invalid and repaired")
        pack.districts.append(district)


def _district(city: CitySpec, feature: Any) -> tuple[DistrictSpec, bool, int]:
    """One feature as a district, whether its boundary was repaired, and its vertex count."""
    if not isinstance(feature, dict):
        raise RowError("not a GeoJSON Feature")
    properties = feature.get("properties") or {}
    geometry = feature.get("geometry")
    if not isinstance(properties, dict) or not isinstance(geometry, dict):
        raise RowError("a Feature needs properties and a geometry")
    code = code_text(properties.get(city.code_property))
    if not code:
        raise RowError(f"the property {city.code_property!r} (the district code) is empty")
    if len(code) > 16 or code.upper() in {"UNLOCATED", "OUTSIDE"}:
        raise RowError(f"the district code {code[:40]!r} is longer than 16 characters or reserved")
    label = code
    if city.name_property:
        label = code_text(properties.get(city.name_property)) or code
    if len(label) > 120:
        raise RowError(f"the district name is longer than 120 characters: {label[:40]!r}...")
    population = None
    if city.population_property:
        value = properties.get(city.population_property)
        if value not in (None, ""):
            try:
                population = int(float(value))
            except (TypeError, ValueError):
                raise RowError(f"population {value!r} is not a number") from None
            if population < 0:
                raise RowError("population is negative")
    polygon = polygon_from_geojson(geometry)
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise RowError(
            "coordinates are not longitude/latitude (a projected file? convert to EPSG:4326)"
        )
    repaired = not shape(geometry).is_valid
    stored = json.loads(shapely.to_geojson(polygon)) if repaired else _plain(geometry)
    size = int(shapely.get_num_coordinates(polygon))
    return DistrictSpec(code, label, population, stored), repaired, size


def _plain(geometry: Mapping[str, Any]) -> dict[str, Any]:
    """Only ``type`` and ``coordinates``: what the districts table keeps."""
    return {"type": geometry["type"], "coordinates": geometry["coordinates"]}


def _department(row: Mapping[str, str]) -> DepartmentSpec:
    return DepartmentSpec(_text(row, "code", 16), _text(row, "name", 120), _archived(row))


def _indicator(row: Mapping[str, str]) -> IndicatorSpec:
    return IndicatorSpec(
        code=_text(row, "code", 32),
        name=_text(row, "name", 200),
        department=_text(row, "department", 16),
        unit=_text(row, "unit", 32, required=False),
        direction=_choice(row, "direction", DIRECTIONS, ""),
        cadence=_choice(row, "cadence", CADENCES, "monthly"),
        target=_number(row, "target"),
        warning=_number(row, "warning"),
        critical=_number(row, "critical"),
        description=_text(row, "description", MAX_CELL_CHARS, required=False),
        source=_text(row, "source", 200, required=False),
        archived=_archived(row),
    )


def _score(row: Mapping[str, str], column: str) -> int | None:
    """A 0..5 judgement (political capital, authority), or None when the cell is empty."""
    value = _number(row, column)
    if value is None:
        return None
    if not value.is_integer() or not 0 <= value <= 5:
        raise RowError(f"{column} must be a whole number from 0 to 5")
    return int(value)


def _problem(row: Mapping[str, str]) -> ProblemSpec:
    return ProblemSpec(
        code=_text(row, "code", 32),
        title=_text(row, "title", 200),
        lead_department=_text(row, "lead_department", 16, required=False),
        indicators=_items(row, "indicators"),
        categories=_items(row, "categories"),
        description=_text(row, "description", MAX_CELL_CHARS, required=False),
        policy_area=_text(row, "policy_area", 64, required=False),
        desired_outcome=_text(row, "desired_outcome", MAX_CELL_CHARS, required=False),
        status=_choice(row, "status", PROBLEM_STATUSES, "watch"),
        districts=_items(row, "districts"),
        political_capital=_score(row, "political_capital"),
        political_notes=_text(row, "political_notes", MAX_CELL_CHARS, required=False),
        authority=_score(row, "authority"),
        authority_notes=_text(row, "authority_notes", MAX_CELL_CHARS, required=False),
        archived=_archived(row),
    )


def _actor(row: Mapping[str, str]) -> ActorSpec:
    return ActorSpec(
        name=_text(row, "name", 200),
        sector=_choice(row, "sector", SECTORS, ""),
        description=_text(row, "description", MAX_CELL_CHARS, required=False),
        contact=_text(row, "contact", 200, required=False),
        archived=_archived(row),
    )


def _category(row: Mapping[str, str]) -> CategorySpec:
    code = _text(row, "code", 64, required=False)
    if code and not all(c.isalnum() or c in "-_" for c in code):
        raise RowError(f"code {code[:40]!r} may hold only letters, digits, - and _")
    name = _text(row, "category", 200)
    continues = _text(row, "continues", 200, required=False)
    if continues.casefold() == name.casefold():
        raise RowError(f"continues: the category {name!r} cannot continue itself")
    department = _text(row, "department", 16, required=not continues)
    return CategorySpec(name, department, code, continues)


def _policy_area(row: Mapping[str, str]) -> PolicyAreaSpec:
    return PolicyAreaSpec(_text(row, "code", 64), _text(row, "label", 120))


def _whole(row: Mapping[str, str], column: str, *, required: bool) -> int | None:
    value = _number(row, column)
    if value is None:
        if required:
            raise RowError(f"{column} is empty")
        return None
    if not value.is_integer() or value < 1:
        raise RowError(f"{column} must be a whole number, 1 or more")
    return int(value)


def _share(row: Mapping[str, str], column: str, default: float) -> float:
    value = _number(row, column)
    if value is None:
        return default
    if not 0 <= value <= 1:
        raise RowError(f"{column} must be between 0 and 1")
    return value


def _amount(row: Mapping[str, str], column: str) -> float | None:
    value = _number(row, column)
    if value is not None and value < 0:
        raise RowError(f"{column} is negative")
    return value


def _factor(row: Mapping[str, str]) -> FactorSpec:
    number = _whole(row, "number", required=True)
    assert number is not None
    parents = []
    for item in _items(row, "parents"):
        if not item.isdigit() or int(item) < 1:
            raise RowError(f"parents: {item[:40]!r} is not a factor number of this problem")
        if int(item) == number:
            raise RowError("a factor cannot feed into itself")
        parents.append(int(item))
    return FactorSpec(
        problem=_text(row, "problem", 32),
        number=number,
        title=_text(row, "title", 200),
        reach=_choice(row, "reach", REACHES, ""),
        evidence=_choice(row, "evidence", EVIDENCE_LEVELS, "moderate"),
        weight=_share(row, "weight", 0.5),
        parents=tuple(parents),
        indicator=_text(row, "indicator", 32, required=False),
        description=_text(row, "description", MAX_CELL_CHARS, required=False),
    )


def _innovation(row: Mapping[str, str]) -> InnovationSpec:
    return InnovationSpec(
        problem=_text(row, "problem", 32),
        title=_text(row, "title", 200),
        origin=_choice(row, "origin", INNOVATION_ORIGINS, ""),
        kind=_choice(row, "kind", INNOVATION_TYPES, ""),
        stage=_choice(row, "stage", INNOVATION_STAGES, "idea"),
        lead_actor=_text(row, "lead_actor", 200, required=False),
        evidence=_choice(row, "evidence", EVIDENCE_LEVELS, "weak"),
        cost=_amount(row, "cost"),
        evidence_note=_text(row, "evidence_note", MAX_CELL_CHARS, required=False),
        description=_text(row, "description", MAX_CELL_CHARS, required=False),
    )


def _engagement(row: Mapping[str, str]) -> EngagementSpec:
    contact = _text(row, "last_contact", 10, required=False)
    try:
        last_contact = dt.date.fromisoformat(contact) if contact else None
    except ValueError:
        raise RowError(f"last_contact {contact!r} is not a date (YYYY-MM-DD)") from None
    return EngagementSpec(
        actor=_text(row, "actor", 200),
        problem=_text(row, "problem", 32),
        factor=_whole(row, "factor", required=False),
        role=_choice(row, "role", ENGAGEMENT_ROLES, ""),
        stance=_choice(row, "stance", STANCES, "complementary"),
        committed_funding=_amount(row, "committed_funding") or 0.0,
        authorisation=_text(row, "authorisation", MAX_CELL_CHARS, required=False),
        strings=_text(row, "strings", MAX_CELL_CHARS, required=False),
        last_contact=last_contact,
    )


def factor_key(problem: str, number: int) -> str:
    """The key of a factor within a pack: its problem's code and its number."""
    return f"{problem}#{number}"


def engagement_key(spec: EngagementSpec) -> str:
    return f"{spec.actor}#{spec.problem}#{spec.factor or ''}"


def _district_extra(row: Mapping[str, str]) -> dict[str, Any]:
    population = _number(row, "population")
    need = _number(row, "need_index")
    if population is not None and (population < 0 or not population.is_integer()):
        raise RowError("population must be a whole number, 0 or more")
    if need is not None and not 0 <= need <= 1:
        raise RowError("need_index must be between 0 and 1")
    return {
        "code": _text(row, "code", 16),
        "name": _text(row, "name", 120, required=False),
        "population": None if population is None else int(population),
        "median_household_income": _number(row, "median_household_income"),
        "need_index": need,
    }


def _check_references(pack: CityPack) -> None:
    """Reject rows naming a department or indicator that the pack does not define."""
    departments = {d.code.casefold() for d in pack.departments}

    def line(file: str, key: str) -> int:
        return pack.lines.get((file, key.casefold()), 0)

    def known_department(file: str, key: str, code: str) -> bool:
        if code and code.casefold() not in departments:
            pack.rejects.append(
                Reject(file, line(file, key), f"department {code!r} is not in departments.csv")
            )
            return False
        return True

    kept_indicators = []
    for item in pack.indicators:
        if known_department("indicators.csv", item.code, item.department):
            kept_indicators.append(item)
    pack.indicators = kept_indicators
    indicators = {i.code.casefold() for i in pack.indicators}
    kept_problems = []
    for problem in pack.problems:
        if not known_department("problems.csv", problem.code, problem.lead_department):
            continue
        where = "indicators.csv (or rejected there)"
        if _names_unknown(
            pack, line, problem, "indicator(s)", problem.indicators, indicators, where
        ):
            continue
        kept_problems.append(problem)
    pack.problems = kept_problems
    pack.categories = [
        c for c in pack.categories if known_department("categories.csv", c.name, c.department)
    ]
    _check_category_renames(pack, line)
    _check_problem_districts(pack, line)
    _check_backward_map(pack, line)


def _check_category_renames(pack: CityPack, line: Callable[[str, str], int]) -> None:
    """``continues``: one successor per category, and no cycle (A continues B continues A)."""
    first: dict[str, str] = {}  # predecessor -> the first category that continues it
    kept = []
    for spec in pack.categories:
        old = spec.continues.casefold()
        if old and old in first:
            pack.rejects.append(
                Reject(
                    "categories.csv",
                    line("categories.csv", spec.name),
                    f"continues: {spec.continues!r} is already continued by {first[old]!r} "
                    "(a category has one successor)",
                )
            )
            continue
        if old:
            first[old] = spec.name
        kept.append(spec)
    successor = {c.continues.casefold(): c.name.casefold() for c in kept if c.continues}
    cyclic: set[str] = set()
    for start in successor:
        path = [start]
        name = successor[start]
        while name in successor and name not in path:
            path.append(name)
            name = successor[name]
        if name == start:
            cyclic.update(path)
    for spec in kept:
        if spec.name.casefold() in cyclic:
            pack.rejects.append(
                Reject(
                    "categories.csv",
                    line("categories.csv", spec.name),
                    f"continues: the renames of {spec.name!r} form a cycle "
                    "(a category cannot continue one that continues it)",
                )
            )
    pack.categories = [c for c in kept if c.name.casefold() not in cyclic]


def _check_problem_districts(pack: CityPack, line: Callable[[str, str], int]) -> None:
    districts = {d.code.casefold() for d in pack.districts}
    where = "the boundary file"
    pack.problems = [
        problem
        for problem in pack.problems
        if not _names_unknown(
            pack, line, problem, "district(s)", problem.districts, districts, where
        )
    ]


def _names_unknown(
    pack: CityPack,
    line: Callable[[str, str], int],
    problem: ProblemSpec,
    what: str,
    codes: Sequence[str],
    known: set[str],
    where: str,
) -> bool:
    """Reject a problem of ``problems.csv`` naming codes not among ``known`` (casefolded);
    True when it was rejected."""
    unknown = [c for c in codes if c.casefold() not in known]
    if unknown:
        file = "problems.csv"
        reason = f"{what} {', '.join(unknown)} not in {where}"
        pack.rejects.append(Reject(file, line(file, problem.code), reason))
    return bool(unknown)


def _check_backward_map(pack: CityPack, line: Callable[[str, str], int]) -> None:
    """Factors, innovations and engagements must name what the pack holds; no cycles."""
    problems = {p.code.casefold() for p in pack.problems}
    indicators = {i.code.casefold() for i in pack.indicators}
    actors = {a.name.casefold() for a in pack.actors}

    def reject(file: str, key: str, reason: str) -> None:
        pack.rejects.append(Reject(file, line(file, key), reason))

    numbers: dict[str, set[int]] = {}
    for f in pack.factors:
        numbers.setdefault(f.problem.casefold(), set()).add(f.number)
    kept_factors = []
    for f in pack.factors:
        key = factor_key(f.problem, f.number)
        missing = [p for p in f.parents if p not in numbers[f.problem.casefold()]]
        if f.problem.casefold() not in problems:
            reject("factors.csv", key, f"problem {f.problem!r} is not in problems.csv")
        elif f.indicator and f.indicator.casefold() not in indicators:
            reject("factors.csv", key, f"indicator {f.indicator!r} is not in indicators.csv")
        elif missing:
            listed = ", ".join(str(p) for p in missing)
            reject("factors.csv", key, f"parent factor(s) {listed} not in this problem")
        else:
            kept_factors.append(f)
    pack.factors = _without_cycles(pack, kept_factors, line)
    kept = {factor_key(f.problem, f.number).casefold() for f in pack.factors}

    kept_innovations = []
    for i in pack.innovations:
        key = f"{i.problem}#{i.title}"
        if i.problem.casefold() not in problems:
            reject("innovations.csv", key, f"problem {i.problem!r} is not in problems.csv")
        elif i.lead_actor and i.lead_actor.casefold() not in actors:
            reject("innovations.csv", key, f"lead actor {i.lead_actor!r} is not in actors.csv")
        else:
            kept_innovations.append(i)
    pack.innovations = kept_innovations

    kept_engagements = []
    for e in pack.engagements:
        key = engagement_key(e)
        if e.actor.casefold() not in actors:
            reject("engagements.csv", key, f"actor {e.actor!r} is not in actors.csv")
        elif e.problem.casefold() not in problems:
            reject("engagements.csv", key, f"problem {e.problem!r} is not in problems.csv")
        elif e.factor and factor_key(e.problem, e.factor).casefold() not in kept:
            reason = f"factor {e.factor} of {e.problem} is not in factors.csv"
            reject("engagements.csv", key, reason)
        else:
            kept_engagements.append(e)
    pack.engagements = kept_engagements


def _without_cycles(
    pack: CityPack, factors: list[FactorSpec], line: Callable[[str, str], int]
) -> list[FactorSpec]:
    """Reject every factor on a cycle of ``parents`` (the backward map is a DAG)."""
    by_key = {factor_key(f.problem, f.number).casefold(): f for f in factors}
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done and acyclic
    cyclic: set[str] = set()

    def walk(key: str, path: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cyclic.update(path[path.index(key) :])
            return
        state[key] = 1
        factor = by_key[key]
        for parent in factor.parents:
            parent_key = factor_key(factor.problem, parent).casefold()
            if parent_key in by_key:
                walk(parent_key, [*path, parent_key])
        state[key] = 2

    for key in by_key:
        walk(key, [key])
    for f in factors:
        key = factor_key(f.problem, f.number)
        if key.casefold() in cyclic:
            pack.rejects.append(
                Reject("factors.csv", line("factors.csv", key), "its parents form a cycle")
            )
    return [f for f in factors if factor_key(f.problem, f.number).casefold() not in cyclic]


# The pack's CSV files read after the districts, in order: the ``CityPack`` attribute, the
# file, its required columns, the row parser, a row's key, and whether the file may be absent.
_PACK_FILES: tuple[
    tuple[str, str, tuple[str, ...], Callable[[dict[str, str]], Any], Callable[[Any], str], bool],
    ...,
] = (
    ("departments", "departments.csv", ("code", "name"), _department, lambda d: d.code, False),
    (
        "indicators",
        "indicators.csv",
        ("code", "name", "department", "unit", "direction", "cadence"),
        _indicator,
        lambda i: i.code,
        False,
    ),
    (
        "problems",
        "problems.csv",
        ("code", "title", "lead_department", "indicators", "categories"),
        _problem,
        lambda p: p.code,
        False,
    ),
    ("actors", "actors.csv", ("name", "sector"), _actor, lambda a: a.name, True),
    ("categories", "categories.csv", ("category", "department"), _category, lambda c: c.name, True),
    ("policy_areas", "policy_areas.csv", ("code", "label"), _policy_area, lambda a: a.code, True),
    (
        "factors",
        "factors.csv",
        ("problem", "number", "title", "reach"),
        _factor,
        lambda f: factor_key(f.problem, f.number),
        True,
    ),
    (
        "innovations",
        "innovations.csv",
        ("problem", "title", "origin", "kind"),
        _innovation,
        lambda i: f"{i.problem}#{i.title}",
        True,
    ),
    (
        "engagements",
        "engagements.csv",
        ("actor", "problem", "role"),
        _engagement,
        engagement_key,
        True,
    ),
)


def read_pack(directory: Path | str) -> CityPack:
    """Read and validate a pack; rows that fail are in ``rejects``, never silently dropped.

    Raises ``PackError`` only when ``city.toml`` is missing or wrong (nothing can be read).
    References are checked inside the pack: an indicator's department must be in
    ``departments.csv``, a problem's indicators in ``indicators.csv``.
    """
    directory = Path(directory)
    pack = CityPack(read_city(directory))
    _read_districts(pack, directory)
    extras = _collect(
        pack,
        directory,
        "districts.csv",
        ["code"],
        _district_extra,
        lambda d: d["code"],
        optional=True,
    )
    _merge_district_extras(pack, extras)
    for attribute, name, required, parse, key, optional in _PACK_FILES:
        rows = _collect(pack, directory, name, required, parse, key, optional=optional)
        setattr(pack, attribute, rows)
    _check_references(pack)
    return pack


def _merge_district_extras(pack: CityPack, extras: list[dict[str, Any]]) -> None:
    """Apply ``districts.csv`` (name, population, income, need) to the boundary file's rows."""
    by_code = {d.code.casefold(): i for i, d in enumerate(pack.districts)}
    for extra in extras:
        index = by_code.get(extra["code"].casefold())
        if index is None:
            pack.rejects.append(
                Reject(
                    "districts.csv",
                    pack.lines.get(("districts.csv", extra["code"].casefold()), 0),
                    f"district {extra['code']!r} is not in the boundary file",
                )
            )
            continue
        old = pack.districts[index]
        pack.districts[index] = DistrictSpec(
            code=old.code,
            name=extra["name"] or old.name,
            population=extra["population"] if extra["population"] is not None else old.population,
            geometry=old.geometry,
            median_household_income=extra["median_household_income"],
            need_index=extra["need_index"],
        )
    names = [d.name.casefold() for d in pack.districts]
    if len(set(names)) != len(names):
        pack.rejects.append(Reject("districts.csv", 0, "two districts share a name"))


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

DEPARTMENT_COLUMNS = ("code", "name", "archived")
INDICATOR_COLUMNS = (
    "code",
    "name",
    "department",
    "unit",
    "direction",
    "cadence",
    "target",
    "warning",
    "critical",
    "description",
    "source",
    "archived",
)
PROBLEM_COLUMNS = (
    "code",
    "title",
    "lead_department",
    "indicators",
    "categories",
    "description",
    "policy_area",
    "desired_outcome",
    "status",
    "districts",
    "political_capital",
    "political_notes",
    "authority",
    "authority_notes",
    "archived",
)
ACTOR_COLUMNS = ("name", "sector", "description", "contact", "archived")
CATEGORY_COLUMNS = ("category", "department", "code", "continues")
POLICY_AREA_COLUMNS = ("code", "label")
FACTOR_COLUMNS = (
    "problem",
    "number",
    "title",
    "reach",
    "evidence",
    "weight",
    "parents",
    "indicator",
    "description",
)
INNOVATION_COLUMNS = (
    "problem",
    "title",
    "origin",
    "kind",
    "stage",
    "lead_actor",
    "evidence",
    "cost",
    "evidence_note",
    "description",
)
ENGAGEMENT_COLUMNS = (
    "actor",
    "problem",
    "factor",
    "role",
    "stance",
    "committed_funding",
    "authorisation",
    "strings",
    "last_contact",
)
DISTRICT_COLUMNS = ("code", "name", "population", "median_household_income", "need_index")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return safe_cell(value)


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(v) for v in row])


def _values(item: Any, columns: Sequence[str], renames: Mapping[str, str] | None = None) -> list:
    names = {f.name for f in fields(item)}
    renames = renames or {}
    return [getattr(item, renames.get(c, c)) if renames.get(c, c) in names else "" for c in columns]


def write_pack(directory: Path | str, pack: CityPack) -> list[str]:
    """Write ``pack`` as a folder ``read_pack`` reads back to the same catalogue.

    Districts go to ``districts.geojson`` (code and name properties) and ``districts.csv``
    (population, income, need). Departments, indicators, problems and actors have an
    ``archived`` column: ``yes`` for an archived record, empty otherwise (empty leaves the
    stored state alone on import). Text cells a spreadsheet would run as formulas get a leading
    apostrophe, which ``read_pack`` removes. Returns the file names written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [CITY_FILE]
    lines = [f"name = {json.dumps(pack.city.name)}", f"timezone = {json.dumps(pack.city.timezone)}"]
    if pack.city.fiscal_year_start:
        lines.append(f"fiscal_year_start = {int(pack.city.fiscal_year_start)}")
    if pack.districts:
        lines += [
            "",
            "[districts]",
            f"file = {json.dumps(DEFAULT_DISTRICTS_FILE)}",
            'code = "code"',
            'name = "name"',
        ]
        collection = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": d.code, "name": d.name},
                    "geometry": d.geometry,
                }
                for d in pack.districts
            ],
        }
        (directory / DEFAULT_DISTRICTS_FILE).write_text(
            json.dumps(collection, separators=(",", ":")), encoding="utf-8"
        )
        _write_csv(
            directory / "districts.csv",
            DISTRICT_COLUMNS,
            (_values(d, DISTRICT_COLUMNS) for d in pack.districts),
        )
        written += [DEFAULT_DISTRICTS_FILE, "districts.csv"]
    (directory / CITY_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, columns, items, renames in (
        ("departments.csv", DEPARTMENT_COLUMNS, pack.departments, None),
        ("indicators.csv", INDICATOR_COLUMNS, pack.indicators, None),
        ("problems.csv", PROBLEM_COLUMNS, pack.problems, None),
        ("actors.csv", ACTOR_COLUMNS, pack.actors, None),
        ("categories.csv", CATEGORY_COLUMNS, pack.categories, {"category": "name"}),
    ):
        _write_csv(directory / name, columns, (_values(i, columns, renames) for i in items))
        written.append(name)
    for name, columns, items in (
        ("policy_areas.csv", POLICY_AREA_COLUMNS, pack.policy_areas),
        ("factors.csv", FACTOR_COLUMNS, pack.factors),
        ("innovations.csv", INNOVATION_COLUMNS, pack.innovations),
        ("engagements.csv", ENGAGEMENT_COLUMNS, pack.engagements),
    ):
        if items:  # optional files: written only when the catalogue has such rows
            _write_csv(directory / name, columns, (_values(i, columns) for i in items))
            written.append(name)
    return written


# --------------------------------------------------------------------------------------------
# One record at a time (the administration pages)
# --------------------------------------------------------------------------------------------

RECORD_PARSERS: dict[str, Callable[[Mapping[str, str]], Any]] = {
    "department": _department,
    "indicator": _indicator,
    "problem": _problem,
    "actor": _actor,
}


def parse_record(kind: str, row: Mapping[str, str]) -> Any:
    """One department, indicator, problem or actor from text cells, checked by the same rules
    as a pack's CSV row (columns as in the pack files); ``RowError`` says what is wrong."""
    return RECORD_PARSERS[kind](row)


def read_district_file(
    data: bytes,
    *,
    code_property: str,
    name_property: str | None = None,
    population_property: str | None = None,
    file_name: str = DEFAULT_DISTRICTS_FILE,
) -> CityPack:
    """The districts of an uploaded GeoJSON file, read by the same rules as a pack's
    ``[districts]`` (its rejects name ``file_name``); only ``districts`` and ``rejects`` are set."""
    import tempfile

    pack = CityPack(
        CitySpec(
            name="",
            timezone="UTC",
            districts_file=file_name,
            code_property=code_property,
            name_property=name_property or None,
            population_property=population_property or None,
        )
    )
    with tempfile.TemporaryDirectory(prefix="triage-districts-") as folder:
        (Path(folder) / file_name).write_bytes(data)
        _read_districts(pack, Path(folder))
    return pack
