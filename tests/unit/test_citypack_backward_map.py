"""The optional pack files a city can add: policy areas, causal factors, innovations and
engagements, plus a problem's districts and judgements and a category's code; on the Riverton
pack (which has them all) and the NYC example (which has none).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from triage.citypack import Reject, read_pack, write_pack
from triage.settings import REPO_ROOT

RIVERTON = REPO_ROOT / "packs" / "riverton"
NYC = REPO_ROOT / "packs" / "nyc-example"

CITY = 'name = "Testville"\ntimezone = "America/Chicago"\n'
DEPARTMENTS = "code,name\nPW,Public Works\n"
INDICATORS = "code,name,department,unit,direction,cadence\nPOT,Potholes open,PW,count,down,weekly\n"
PROBLEMS = (
    "code,title,lead_department,indicators,categories,political_capital,authority\n"
    "ROADS,Broken roads,PW,POT,Pothole,4,5\n"
    "LIGHTS,Dark streets,PW,,,7,\n"
)
ACTORS = "name,sector\nRoad Crew Union,labour\nNeighbours United,community\n"
FACTORS = (
    "problem,number,title,reach,evidence,weight,parents,indicator\n"
    "ROADS,1,Freeze-thaw cycles,outside,strong,0.8,,\n"
    "ROADS,2,Patching crews short-staffed,controls,moderate,0.6,1,POT\n"
    "ROADS,3,Utility cuts left unrepaired,influences,weak,,9,\n"
    "ROADS,4,Loop A,controls,weak,,5,\n"
    "ROADS,5,Loop B,controls,weak,,4,\n"
    "NOPE,1,An unknown problem,controls,weak,,,\n"
    "ROADS,6,Bad reach,everywhere,weak,,,\n"
    "ROADS,7,Too heavy,controls,weak,1.5,,\n"
    "ROADS,8,Measured by a ghost,controls,weak,,,GHOST\n"
)
INNOVATIONS = (
    "problem,title,origin,kind,stage,lead_actor,cost\n"
    "ROADS,Pothole hotline,home_grown,new_service,pilot,Road Crew Union,25000\n"
    "ROADS,Nobody leads it,tested_elsewhere,coordination,idea,Somebody Else,\n"
    "ROADS,Odd origin,from_mars,coordination,idea,,\n"
    "ROADS,Negative cost,home_grown,coordination,idea,,-5\n"
)
ENGAGEMENTS = (
    "actor,problem,factor,role,stance,committed_funding,last_contact\n"
    "Road Crew Union,ROADS,2,delivering,competing,0,2026-03-01\n"
    "Neighbours United,ROADS,,advocating,,,\n"
    "Neighbours United,ROADS,3,advocating,,,\n"
    "Ghosts,ROADS,,funding,,,\n"
    "Road Crew Union,ROADS,1,funding,,100,March\n"
)


def _pack(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True)
    contents = {
        "city.toml": CITY,
        "departments.csv": DEPARTMENTS,
        "indicators.csv": INDICATORS,
        "problems.csv": PROBLEMS,
        "actors.csv": ACTORS,
        "factors.csv": FACTORS,
        "innovations.csv": INNOVATIONS,
        "engagements.csv": ENGAGEMENTS,
        "policy_areas.csv": "code,label\nstreets,Streets & roads\n",
    }
    contents.update(files)
    for name, text in contents.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_pkx001_riverton_pack_reads_whole() -> None:
    pack = read_pack(RIVERTON)
    assert pack.rejects == []
    assert pack.city.name == "Riverton" and len(pack.districts) == 12
    assert (len(pack.departments), len(pack.indicators), len(pack.problems)) == (10, 136, 37)
    assert (len(pack.factors), len(pack.innovations), len(pack.engagements)) == (179, 87, 239)
    assert len(pack.actors) == 103 and len(pack.categories) == 63
    assert {a.code: a.label for a in pack.policy_areas}["public_safety"] == "Public safety"
    guns = pack.problems[0]
    assert guns.code == "gun_violence" and guns.districts == ("D03", "D10", "D11", "D12")
    assert (guns.political_capital, guns.authority) == (5, 3)
    assert next(c for c in pack.categories if c.name == "Pothole").code == "pothole"
    first = pack.factors[0]
    assert (first.problem, first.number, first.indicator) == ("gun_violence", 1, "POL-001")
    assert pack.factors[2].parents == (1,)


def test_pkx002_nyc_example_has_none_of_the_optional_files() -> None:
    pack = read_pack(NYC)
    assert pack.rejects == []
    assert pack.policy_areas == [] and pack.factors == []
    assert pack.innovations == [] and pack.engagements == []
    assert all(p.districts == () and p.political_capital is None for p in pack.problems)


def test_pkx003_rejects_name_file_line_and_reason(tmp_path: Path) -> None:
    pack = read_pack(_pack(tmp_path / "p"))
    reasons = {(r.file, r.line): r.reason for r in pack.rejects}
    assert reasons[("problems.csv", 3)] == "political_capital must be a whole number from 0 to 5"
    assert reasons[("factors.csv", 4)] == "parent factor(s) 9 not in this problem"
    assert reasons[("factors.csv", 5)] == reasons[("factors.csv", 6)] == "its parents form a cycle"
    assert reasons[("factors.csv", 7)] == "problem 'NOPE' is not in problems.csv"
    assert reasons[("factors.csv", 8)].startswith("reach 'everywhere' is not one of controls")
    assert reasons[("factors.csv", 9)] == "weight must be between 0 and 1"
    assert reasons[("factors.csv", 10)] == "indicator 'GHOST' is not in indicators.csv"
    assert reasons[("innovations.csv", 3)] == "lead actor 'Somebody Else' is not in actors.csv"
    assert reasons[("innovations.csv", 4)].startswith("origin 'from_mars' is not one of")
    assert reasons[("innovations.csv", 5)] == "cost is negative"
    assert reasons[("engagements.csv", 4)] == "factor 3 of ROADS is not in factors.csv"
    assert reasons[("engagements.csv", 5)] == "actor 'Ghosts' is not in actors.csv"
    assert reasons[("engagements.csv", 6)] == "last_contact 'March' is not a date (YYYY-MM-DD)"
    assert len(pack.rejects) == 14
    # Valid rows are kept, with their values.
    assert [f.title for f in pack.factors] == [
        "Freeze-thaw cycles",
        "Patching crews short-staffed",
    ]
    assert pack.factors[1].parents == (1,) and pack.factors[1].weight == 0.6
    assert [i.title for i in pack.innovations] == ["Pothole hotline"]
    assert pack.innovations[0].cost == 25000 and pack.innovations[0].stage == "pilot"
    engaged = pack.engagements
    assert [(e.actor, e.factor, e.stance) for e in engaged] == [
        ("Road Crew Union", 2, "competing"),
        ("Neighbours United", None, "complementary"),
    ]
    assert engaged[0].last_contact == dt.date(2026, 3, 1)
    assert str(Reject("factors.csv", 5, "its parents form a cycle")) == (
        "factors.csv line 5: its parents form a cycle"
    )


def test_pkx004_problem_districts_must_be_in_the_boundary_file(tmp_path: Path) -> None:
    problems = "code,title,lead_department,indicators,categories,districts\nR,Roads,PW,,,D1\n"
    pack = read_pack(_pack(tmp_path / "p", **{"problems.csv": problems}))
    assert Reject("problems.csv", 2, "district(s) D1 not in the boundary file") in pack.rejects
    assert pack.problems == []


def test_pkx005_a_category_code_is_letters_digits_dash_underscore(tmp_path: Path) -> None:
    categories = "category,department,code\nPothole,PW,pot_hole\nNoise,PW,no ise\n"
    pack = read_pack(_pack(tmp_path / "p", **{"categories.csv": categories}))
    assert [(c.name, c.code) for c in pack.categories] == [("Pothole", "pot_hole")]
    assert Reject("categories.csv", 3, "code 'no ise' may hold only letters, digits, - and _") in (
        pack.rejects
    )


def test_pkx006_riverton_written_back_reads_the_same(tmp_path: Path) -> None:
    pack = read_pack(RIVERTON)
    written = write_pack(tmp_path / "out", pack)
    assert {"factors.csv", "innovations.csv", "engagements.csv", "policy_areas.csv"} <= set(written)
    back = read_pack(tmp_path / "out")
    assert back.rejects == []
    for name in (
        "districts",
        "departments",
        "indicators",
        "problems",
        "actors",
        "categories",
        "policy_areas",
        "factors",
        "innovations",
        "engagements",
    ):
        assert getattr(back, name) == getattr(pack, name), name


def test_pkx007_nyc_written_back_has_no_optional_backward_map_files(tmp_path: Path) -> None:
    written = write_pack(tmp_path / "out", read_pack(NYC))
    assert not {"factors.csv", "innovations.csv", "engagements.csv"} & set(written)
    assert read_pack(tmp_path / "out").rejects == []
