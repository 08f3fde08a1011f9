"""City packs without a database: the optional ``archived`` column (read, rejected when
wrong, written back), and the NYC example pack's 2010 census populations checked against
NYC Planning's table in ``tests/data`` and the city's 2010 total.
"""

from __future__ import annotations

import csv
from pathlib import Path

from triage.citypack import read_pack, write_pack
from triage.settings import REPO_ROOT

NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
POPULATION_TABLE = REPO_ROOT / "tests" / "data" / "nyc_population_by_community_district.csv"
BOROUGH_DIGIT = {"Manhattan": 1, "Bronx": 2, "Brooklyn": 3, "Queens": 4, "Staten Island": 5}
NYC_2010 = 8_175_133  # the 2010 census count for the whole city
CITY = 'name = "Testville"\ntimezone = "UTC"\n'


def _pack(directory: Path, departments: str) -> Path:
    directory.mkdir(parents=True)
    files = {
        "city.toml": CITY,
        "departments.csv": departments,
        "indicators.csv": "code,name,department,unit,direction,cadence,archived\n"
        "POT,Potholes,PW,count,down,weekly,no\n"
        "OLD,Old count,PW,count,down,weekly,\n",
        "problems.csv": "code,title,lead_department,indicators,categories,archived\n"
        "ROADS,Bad roads,PW,POT,Pothole,TRUE\n",
        "actors.csv": "name,sector\nRoad club,community\n",
    }
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_pkarc001_the_archived_column_reads_yes_no_and_empty(tmp_path: Path) -> None:
    pack = read_pack(
        _pack(tmp_path / "p", "code,name,archived\nPW,Public Works,Yes\nOLD,Old,maybe\n")
    )
    assert [(d.code, d.archived) for d in pack.departments] == [("PW", True)]
    assert [str(r) for r in pack.rejects] == [
        "departments.csv line 3: archived 'maybe' is not yes or no "
        "(leave it empty to keep it as stored)"
    ]
    assert [(i.code, i.archived) for i in pack.indicators] == [("POT", False), ("OLD", None)]
    assert [(p.code, p.archived) for p in pack.problems] == [("ROADS", True)]
    assert [(a.name, a.archived) for a in pack.actors] == [("Road club", None)]  # no column


def test_pkarc002_written_archived_cells_read_back_the_same(tmp_path: Path) -> None:
    pack = read_pack(_pack(tmp_path / "p", "code,name\nPW,Public Works\n"))
    write_pack(tmp_path / "out", pack)
    with (tmp_path / "out" / "indicators.csv").open(newline="") as handle:
        cells = [(r["code"], r["archived"]) for r in csv.DictReader(handle)]
    assert cells == [("POT", "no"), ("OLD", "")]
    again = read_pack(tmp_path / "out")
    assert again.rejects == []
    for name in ("departments", "indicators", "problems", "actors"):
        assert getattr(again, name) == getattr(pack, name), name


def test_pkarc003_nyc_populations_are_the_2010_census_by_community_district() -> None:
    with POPULATION_TABLE.open(newline="", encoding="utf-8") as handle:
        table = {
            str(BOROUGH_DIGIT[r["Borough"]] * 100 + int(r["CD Number"])): int(r["2010 Population"])
            for r in csv.DictReader(handle)
        }
    pack = read_pack(NYC_PACK)
    assert pack.rejects == []
    given = {d.code: d.population for d in pack.districts if d.population is not None}
    assert given == table  # every one of the 59 community districts, nothing else
    assert len(given) == 59 and given["101"] == 60_978 and given["407"] == 247_354
    joint = sorted(d.code for d in pack.districts if d.population is None)
    assert joint == [
        "164",
        "226",
        "227",
        "228",
        "355",
        "356",
        "480",
        "481",
        "482",
        "483",
        "484",
        "595",
    ]
    total = sum(given.values())
    assert total == 8_171_680
    # The 59 districts hold all but 3,453 of the city's residents (0.04 %).
    assert abs(total - NYC_2010) / NYC_2010 < 0.0005
