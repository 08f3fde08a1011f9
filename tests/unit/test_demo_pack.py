"""The demo city is a city pack: ``packs/riverton`` read by ``read_pack`` is exactly the
catalogue the generator builds at the ``city`` scale, and production code never reads the
generator for what the catalogue holds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from triage.citypack import read_pack
from triage.demo import DEMO_USERS, DEPARTMENTS, POLICY_AREAS, DemoCity, build_demo_city
from triage.demo_catalog import RIVERTON_PACK, DemoCatalogError, load_demo_catalog
from triage.settings import REPO_ROOT

TODAY = dt.date(2026, 11, 18)
CATALOGUE = (
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
)


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return build_demo_city(seed=7, scale="city", today=TODAY)


def test_dpk001_the_city_scale_catalogue_is_the_riverton_pack(city: DemoCity) -> None:
    generated, stored = city.as_pack(), read_pack(RIVERTON_PACK)
    assert stored.rejects == []
    for name in CATALOGUE:
        assert getattr(generated, name) == getattr(stored, name), name
    assert generated.city == stored.city


def test_dpk002_small_scale_takes_twelve_problems_of_the_pack() -> None:
    small = build_demo_city(seed=7, scale="small", today=TODAY).as_pack()
    stored = read_pack(RIVERTON_PACK)
    titles = {p.code: p.title for p in stored.problems}
    assert len(small.problems) == 12
    assert all(titles[p.code] == p.title for p in small.problems)
    assert small.categories == stored.categories and small.actors == stored.actors
    # Three indicators a problem at this scale (plus cross-links), numbered afresh.
    assert [i.code for i in small.indicators[:4]] == ["POL-001", "POL-002", "POL-003", "PW-001"]
    assert {f.problem for f in small.factors} == {p.code for p in small.problems}


def test_dpk003_module_constants_come_from_the_pack() -> None:
    catalog = load_demo_catalog()
    assert catalog.departments == DEPARTMENTS and DEPARTMENTS[0] == ("PW", "Public Works")
    assert POLICY_AREAS["streets_transportation"] == "Streets & transportation"
    users = {u.username: u for u in DEMO_USERS}
    assert users["mayor"].password == "mayor-riverton-demo"
    assert users["head-pol"].display_name == "Daniel Ortiz" and users["head-pol"].role == (
        "department_head"
    )
    assert len(DEMO_USERS) == 14


def test_dpk004_a_demo_pack_missing_a_generator_column_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "riverton"
    shutil.copytree(RIVERTON_PACK, copy)
    indicators = (copy / "indicators.csv").read_text(encoding="utf-8").splitlines()
    fields = indicators[1].split(",")
    indicators[1] = ",".join([*fields[:-2], "", fields[-1]])  # empty base on line 2
    (copy / "indicators.csv").write_text("\n".join(indicators) + "\n", encoding="utf-8")
    with pytest.raises(DemoCatalogError, match=r"indicators.csv line 2: base is empty"):
        load_demo_catalog(copy)


def test_dpk005_a_demo_pack_with_rejects_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "riverton"
    shutil.copytree(RIVERTON_PACK, copy)
    with (copy / "departments.csv").open("a", encoding="utf-8") as handle:
        handle.write("PW,Public Works again\n")
    with pytest.raises(DemoCatalogError, match=r"departments.csv line 12: 'PW' is already"):
        load_demo_catalog(copy)


def test_dpk006_another_pack_gives_another_demo(tmp_path: Path) -> None:
    copy = tmp_path / "riverton"
    shutil.copytree(RIVERTON_PACK, copy)
    text = (copy / "problems.csv").read_text(encoding="utf-8")
    (copy / "problems.csv").write_text(
        text.replace("Gun violence concentrated on a few blocks", "Shootings downtown"),
        encoding="utf-8",
    )
    small = build_demo_city(seed=7, scale="small", today=TODAY, pack=copy)
    assert small.problems[0]["title"] == "Shootings downtown"
    assert dataclasses.replace(small, reports=None).report_count == small.report_count


def test_dpk007_production_code_does_not_read_the_demo_generator() -> None:
    """Pages, callbacks, data access and jobs read the catalogue; only the seeder uses the demo."""
    pattern = re.compile(r"^\s*(from triage\.demo import|import triage\.demo\b)", re.M)
    offenders = []
    for folder in ("app.py", "callbacks", "layouts", "db", "triage"):
        root = REPO_ROOT / folder
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative in {"db/seed.py"} or relative.startswith("triage/demo"):
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == []


def test_dpk008_the_generator_is_no_longer_the_longest_file() -> None:
    lines = len((REPO_ROOT / "triage" / "demo.py").read_text(encoding="utf-8").splitlines())
    assert lines < 1_300
