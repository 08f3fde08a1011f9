"""City packs without a database: reading, rejects with file and line, caps, writing back.

Real boundary files: NYC community districts (numeric ``BoroCD`` codes, 18 MultiPolygons) and
NYC boroughs (MultiPolygons only), simplified copies in ``tests/data`` (see SOURCES.md there).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import triage.citypack as citypack
from db import models
from triage.citypack import PackError, read_pack, write_pack
from triage.ingest.geo import DistrictLocator, locator_from_feature_collection
from triage.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
NYC_PACK = REPO_ROOT / "packs" / "nyc-example"

CITY = 'name = "Testville"\ntimezone = "America/Chicago"\n'
DEPARTMENTS = "code,name\nPW,Public Works\nPD,Police\n"
INDICATORS = (
    "code,name,department,unit,direction,cadence,target,warning,critical\n"
    "POT,Potholes open,PW,count,down,weekly,10,20,30\n"
    "BAD-DIR,Bad direction,PW,count,sideways,weekly,,,\n"
    "NODEPT,No department,XX,count,up,monthly,,,\n"
    "POT,Duplicate code,PW,count,down,weekly,,,\n"
    "NAN,Not a number,PD,%,up,monthly,ten,,\n"
    "NEG,Negative threshold is data,PD,degrees,up,annual,-5,-10,-20\n"
)
PROBLEMS = (
    "code,title,lead_department,indicators,categories,status\n"
    "ROADS,Broken roads,PW,POT,Pothole;Street Condition,focus\n"
    "GHOST,Names a rejected indicator,PW,BAD-DIR,,\n"
    ",No code,PW,,,\n"
    "NOISE,Noise,PD,,Noise - Residential,\n"
)


def write_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def small_pack(directory: Path, **overrides: str) -> Path:
    files = {
        "city.toml": CITY,
        "departments.csv": DEPARTMENTS,
        "indicators.csv": INDICATORS,
        "problems.csv": PROBLEMS,
    }
    files.update(overrides)
    return write_files(directory, files)


def test_pack001_reads_the_nyc_example_pack() -> None:
    pack = read_pack(NYC_PACK)
    assert pack.rejects == []
    assert pack.city.name == "New York City" and pack.city.fiscal_year_start == 7
    assert len(pack.districts) == 71
    kinds = [d.geometry["type"] for d in pack.districts]
    assert kinds.count("MultiPolygon") == 18
    by_code = {d.code: d for d in pack.districts}
    assert by_code["311"].name == "Brooklyn Community District 11"  # numeric code, named in csv
    assert {d.code for d in pack.departments} == {"HPD", "NYPD", "DSNY", "DOT", "DEP"}
    assert len(pack.indicators) == 6 and len(pack.problems) == 7 and len(pack.actors) == 5
    heat = next(p for p in pack.problems if p.code == "NYC-HEAT")
    assert heat.categories[0] == "HEAT/HOT WATER" and heat.status == "focus"
    assert pack.read["problems.csv"] == 7


def test_pack002_rejects_name_file_line_and_reason_and_keep_valid_rows(tmp_path: Path) -> None:
    pack = read_pack(small_pack(tmp_path / "p"))
    assert [i.code for i in pack.indicators] == ["POT", "NEG"]
    assert [p.code for p in pack.problems] == ["ROADS", "NOISE"]
    found = {(r.file, r.line): r.reason for r in pack.rejects}
    assert "'sideways' is not one of up, down" in found[("indicators.csv", 3)]
    assert "department 'XX' is not in departments.csv" in found[("indicators.csv", 4)]
    assert "'POT' is already on line 2" in found[("indicators.csv", 5)]
    assert "target 'ten' is not a number" in found[("indicators.csv", 6)]
    assert "BAD-DIR not in indicators.csv" in found[("problems.csv", 3)]
    assert found[("problems.csv", 4)] == "code is empty"
    assert str(pack.rejects[0]).startswith("indicators.csv line 3: ")
    neg = pack.indicators[1]
    assert (neg.target, neg.warning, neg.critical) == (-5, -10, -20)


def test_pack003_a_file_without_its_columns_is_one_reject(tmp_path: Path) -> None:
    pack = read_pack(small_pack(tmp_path / "p", **{"departments.csv": "code,title\nPW,x\n"}))
    assert pack.departments == [] and pack.indicators == [] and pack.problems == []
    assert any(
        r.file == "departments.csv" and r.line == 1 and "missing column(s) name" in r.reason
        for r in pack.rejects
    )


@pytest.mark.parametrize(
    ("city", "message"),
    [
        ('name = "X"\ntimezone = "Mars/Olympus"\n', "is not a time zone"),
        ('name = "X"\ntimezone = "UTC"\nfiscal_year_start = 13\n', "month number"),
        ('name = "X"\ntimezone = "UTC"\ncolour = "red"\n', "unknown key(s) colour"),
        ('name = "X"\ntimezone = "UTC"\n[districts]\nfile = "../x.geojson"\n', "inside the pack"),
        ('name = "X"\ntimezone = "UTC"\n[districts]\ncode = "id"\n', "needs file"),
        ("name = [", "is not TOML"),
    ],
)
def test_pack004_city_toml_errors_are_clear(tmp_path: Path, city: str, message: str) -> None:
    with pytest.raises(PackError, match=re.escape(message)):
        read_pack(small_pack(tmp_path / "p", **{"city.toml": city}))
    with pytest.raises(PackError, match=r"no city\.toml"):
        read_pack(tmp_path)


def _districts_pack(tmp_path: Path, collection: object, properties: str = "") -> Path:
    city = CITY + f'[districts]\nfile = "d.geojson"\ncode = "id"\n{properties}'
    directory = small_pack(tmp_path / "p", **{"city.toml": city})
    (directory / "d.geojson").write_text(json.dumps(collection))
    return directory


def _feature(code: object, geometry: dict, **properties: object) -> dict:
    return {"type": "Feature", "properties": {"id": code, **properties}, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}


def test_pack005_boundary_features_checked_one_by_one(tmp_path: Path) -> None:
    projected = {
        "type": "Polygon",
        "coordinates": [[[980000, 190000], [990000, 190000], [990000, 200000], [980000, 190000]]],
    }
    collection = {
        "type": "FeatureCollection",
        "features": [
            _feature(311.0, SQUARE, label="Eleven", people="1200"),
            _feature(12, BOWTIE, label="Bow tie"),
            _feature(None, SQUARE),
            _feature(13, {"type": "Point", "coordinates": [0, 0]}),
            _feature(14, projected),
            _feature(311, SQUARE, label="Again"),
            _feature(15, SQUARE, label="Eleven"),
            _feature("OUTSIDE", SQUARE),
        ],
    }
    pack = read_pack(
        _districts_pack(tmp_path, collection, 'name = "label"\npopulation = "people"\n')
    )
    assert [(d.code, d.name, d.population) for d in pack.districts] == [
        ("311", "Eleven", 1200),
        ("12", "Bow tie", None),
    ]
    assert pack.districts[1].geometry["type"] == "MultiPolygon"  # the bow tie, repaired
    assert pack.notes == ["d.geojson feature 2: the boundary was invalid and repaired"]
    reasons = {r.line: r.reason for r in pack.rejects if r.file == "d.geojson"}
    assert "'id' (the district code) is empty" in reasons[3]
    assert "Polygon or MultiPolygon, not 'Point'" in reasons[4]
    assert "not longitude/latitude" in reasons[5]
    assert "already feature 1" in reasons[6]
    assert "already used" in reasons[7]
    assert "reserved" in reasons[8]
    assert str(pack.rejects[0]).startswith("d.geojson feature 3: ")


def test_pack006_caps_on_size_rows_and_crs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(citypack, "MAX_CSV_ROWS", 1)
    pack = read_pack(small_pack(tmp_path / "a"))
    assert [d.code for d in pack.departments] == ["PW"]
    assert any("more than 1 rows" in r.reason and r.line == 3 for r in pack.rejects)
    monkeypatch.setattr(citypack, "MAX_CSV_BYTES", 10)
    pack = read_pack(small_pack(tmp_path / "b"))
    assert pack.departments == [] and any(
        "more than the 10 allowed" in r.reason for r in pack.rejects
    )
    monkeypatch.setattr(citypack, "MAX_GEOJSON_BYTES", 50)
    collection = {"type": "FeatureCollection", "features": [_feature(1, SQUARE)]}
    pack = read_pack(_districts_pack(tmp_path / "c", collection))
    assert pack.districts == [] and any(r.file == "d.geojson" for r in pack.rejects)
    monkeypatch.setattr(citypack, "MAX_GEOJSON_BYTES", 10_000)
    collection["crs"] = {"type": "name", "properties": {"name": "EPSG:2263"}}
    pack = read_pack(_districts_pack(tmp_path / "d", collection))
    assert any("EPSG:2263" in r.reason for r in pack.rejects)


def test_pack007_write_then_read_gives_the_same_pack(tmp_path: Path) -> None:
    pack = read_pack(NYC_PACK)
    formula = citypack.DepartmentSpec("EQ", "=HYPERLINK(1)")
    pack.departments.append(formula)
    write_pack(tmp_path / "out", pack)
    text = (tmp_path / "out" / "departments.csv").read_text()
    assert "'=HYPERLINK(1)" in text  # inert in a spreadsheet
    again = read_pack(tmp_path / "out")
    assert again.rejects == []
    for name in ("departments", "indicators", "problems", "actors", "categories"):
        assert getattr(again, name) == getattr(pack, name), name
    assert [(d.code, d.name, d.geometry) for d in again.districts] == [
        (d.code, d.name, d.geometry) for d in pack.districts
    ]
    assert again.city.timezone == pack.city.timezone
    assert again.city.fiscal_year_start == 7


def test_pack008_vocabularies_match_the_schema() -> None:
    assert citypack.DIRECTIONS == models.DIRECTIONS
    assert citypack.CADENCES == models.CADENCES
    assert citypack.PROBLEM_STATUSES == models.PROBLEM_STATUSES
    assert set(citypack.SECTORS) == set(models.SECTORS)


def test_geo101_strtree_places_points_in_nyc_boroughs_multipolygons() -> None:
    collection = json.loads((DATA / "nyc_boroughs.geojson").read_text())
    codes, locator = locator_from_feature_collection(collection, "BoroCode")
    names = {
        str(f["properties"]["BoroCode"]): f["properties"]["BoroName"]
        for f in collection["features"]
    }
    points = {
        "Central Park": (-73.9654, 40.7829),
        "Prospect Park": (-73.9690, 40.6602),
        "Flushing Meadows": (-73.8448, 40.7400),
        "Yankee Stadium": (-73.9262, 40.8296),
        "Staten Island Mall": (-74.1677, 40.5823),
        "Governors Island": (-74.0165, 40.6895),  # a separate polygon of Manhattan
        "Atlantic Ocean": (-73.80, 40.50),
    }
    lon = np.array([p[0] for p in points.values()])
    lat = np.array([p[1] for p in points.values()])
    found = [names[codes[i]] if i >= 0 else None for i in locator.locate(lon, lat)]
    assert found == ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island", "Manhattan", None]


def test_geo102_community_districts_numeric_codes_and_first_wins() -> None:
    collection = json.loads((DATA / "nyc_community_districts.geojson").read_text())
    codes, locator = locator_from_feature_collection(collection, "BoroCD")
    hit = locator.locate(np.array([-73.9442, -73.9654, np.nan]), np.array([40.6782, 40.7829, 1]))
    assert codes[hit[0]].startswith("3") and codes[hit[1]] == "164"  # Central Park's own area
    assert hit[2] == -1
    square = SQUARE
    both = DistrictLocator([5, 9], [square, square])
    assert both.locate(np.array([0.5, 1.0]), np.array([0.5, 0.5])).tolist() == [5, 5]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    departments=st.text(max_size=300),
    indicators=st.binary(max_size=300),
    boundary=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        ["type", "features", "geometry", "properties", "coordinates", "id", "crs"]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=30,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_pack009_fuzzed_files_give_rejects_never_a_crash(
    tmp_path: Path, departments: str, indicators: bytes, boundary: bytes
) -> None:
    directory = small_pack(
        tmp_path / "fuzz",
        **{"city.toml": CITY + '[districts]\nfile = "d.geojson"\ncode = "id"\n'},
    )
    (directory / "departments.csv").write_text("code,name\n" + departments, encoding="utf-8")
    (directory / "indicators.csv").write_bytes(indicators)
    (directory / "d.geojson").write_bytes(boundary)
    pack = read_pack(directory)
    assert all(isinstance(r.line, int) and r.reason for r in pack.rejects)
    for district in pack.districts:
        assert district.geometry["type"] in ("Polygon", "MultiPolygon")


_coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000), st.text(max_size=2)
)


def _nested(depth: int) -> st.SearchStrategy:
    strategy: st.SearchStrategy = _coordinate
    for _ in range(depth):
        strategy = st.lists(strategy, max_size=5)
    return strategy


_features = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("Feature"),
            "properties": st.fixed_dictionaries(
                {"id": st.one_of(st.integers(), st.text(max_size=3), st.floats())}
            ),
            "geometry": st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["Polygon", "MultiPolygon", "Point"]),
                    "coordinates": st.one_of(_nested(2), _nested(3), _nested(4)),
                }
            ),
        }
    ),
    max_size=4,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(features=_features)
def test_pack010_fuzzed_geometries_are_rejected_by_feature(
    tmp_path: Path, features: list[dict]
) -> None:
    collection = {"type": "FeatureCollection", "features": features}
    pack = read_pack(_districts_pack(tmp_path / "geo", collection))
    assert len(pack.districts) + sum(r.file == "d.geojson" for r in pack.rejects) == len(features)
