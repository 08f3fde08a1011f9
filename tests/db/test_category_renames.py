"""Renamed 311 categories, on SQLite and PostgreSQL: a pack's ``continues`` link is stored,
audited, exported and imported again; cycles, self-links and second successors are refused by
the pack import and by the app alike; problems fed by one name are fed by both; early warnings
read the two names as one series (the rename alone raises nothing, a surge after it does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, select

from db import catalog_admin
from db.catalog import export_pack, import_pack
from db.catalog_admin import FieldError
from db.ingest import ensure_sentinel_districts
from db.models import (
    Alert,
    AuditLog,
    CategoryProblem,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from db.scores import load_scoring_inputs
from db.session import Database
from triage.citypack import CitySpec, read_pack, write_pack
from triage.jobs.alerts import refresh_alerts
from triage.security import Principal, Role

ADMIN = Principal(None, "ada", Role.ADMIN)
CITY_TZ = "America/New_York"
RENAME = dt.date(2014, 6, 2)  # HEATING's last day is the day before


def write_files(folder: Path, categories: str, problems_categories: str = "HEATING") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "city.toml").write_text('name = "Gotham"\ntimezone = "America/New_York"\n')
    (folder / "departments.csv").write_text("code,name\nHPD,Housing Preservation\n")
    (folder / "indicators.csv").write_text(
        "code,name,department,unit,direction,cadence\n"
        "HPD-HEAT,Days to restore heat,HPD,days,down,monthly\n"
    )
    (folder / "problems.csv").write_text(
        "code,title,lead_department,indicators,categories\n"
        f"HEAT,Homes without heat,HPD,HPD-HEAT,{problems_categories}\n"
    )
    (folder / "categories.csv").write_text(categories)
    return folder


RENAMED = "category,department,continues\nHEATING,HPD,\nHEAT/HOT WATER,HPD,HEATING\n"


def import_dir(database: Database, folder: Path) -> Any:
    with database.session(write=True) as session:
        return import_pack(session, ADMIN, read_pack(folder), city_tz=CITY_TZ)


def links(database: Database) -> dict[str, str]:
    with database.session() as session:
        names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
        return {
            names[new]: names[old]
            for new, old in session.execute(
                select(ReportCategory.id, ReportCategory.continues_id).where(
                    ReportCategory.continues_id.is_not(None)
                )
            ).all()
        }


def fed(database: Database, code: str = "HEAT") -> list[str]:
    with database.session() as session:
        return sorted(
            session.scalars(
                select(ReportCategory.name)
                .join(CategoryProblem, CategoryProblem.category_id == ReportCategory.id)
                .join(Problem, Problem.id == CategoryProblem.problem_id)
                .where(Problem.code == code)
            )
        )


def category_id(database: Database, name: str) -> int:
    with database.session() as session:
        found = session.scalar(select(ReportCategory.id).where(ReportCategory.name == name))
    assert found is not None
    return int(found)


def test_ren001_pack_rename_is_stored_audited_and_round_trips(
    database: Database, tmp_path: Path
) -> None:
    pack = write_files(tmp_path / "pack", RENAMED)
    first = import_dir(database, pack)
    assert first.rejects == []
    assert links(database) == {"HEAT/HOT WATER": "HEATING"}
    # The problem names the old category only: the new one feeds it too.
    assert fed(database) == ["HEAT/HOT WATER", "HEATING"]
    with database.session() as session:
        trail = session.scalars(
            select(AuditLog).where(AuditLog.entity == "report_category").order_by(AuditLog.id)
        ).all()
    created = {row.after["name"]: row.after for row in trail if row.action == "create"}
    assert created["HEAT/HOT WATER"]["continues"] == "HEATING"
    assert import_dir(database, pack).changed == 0  # a second import changes nothing
    with database.session() as session:  # the scoring reads the problem's reports under both
        links_read = load_scoring_inputs(session, RENAME).category_problems
    both = {category_id(database, "HEATING"), category_id(database, "HEAT/HOT WATER")}
    assert set(links_read["category_id"]) == both

    with database.session() as session:
        exported = export_pack(session, default_city=CitySpec("x", "UTC"))
    write_pack(tmp_path / "out", exported)
    text = (tmp_path / "out" / "categories.csv").read_text()
    assert "HEAT/HOT WATER,HPD,,HEATING" in text
    with database.engine.begin() as conn:
        for table in ("category_problems", "problem_indicators", "problems", "indicators"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
        conn.exec_driver_sql("UPDATE report_categories SET continues_id = NULL")
        conn.exec_driver_sql("DELETE FROM report_categories")
    again = import_dir(database, tmp_path / "out")
    assert again.rejects == []
    assert links(database) == {"HEAT/HOT WATER": "HEATING"}
    assert fed(database) == ["HEAT/HOT WATER", "HEATING"]


def test_ren002_a_successor_may_name_a_category_only_its_data_knows(
    database: Database, tmp_path: Path
) -> None:
    """The old name need not have a row of its own; its department may stay empty."""
    pack = write_files(
        tmp_path / "pack",
        "category,department,continues\nHEAT/HOT WATER,HPD,HEATING\n",
        problems_categories="HEAT/HOT WATER",
    )
    report = import_dir(database, pack)
    assert report.rejects == []
    assert links(database) == {"HEAT/HOT WATER": "HEATING"}
    assert fed(database) == ["HEAT/HOT WATER", "HEATING"]  # fed by the new name: and the old


def test_ren003_cycles_self_links_and_second_successors_are_refused(
    database: Database, tmp_path: Path
) -> None:
    bad = write_files(
        tmp_path / "bad",
        "category,department,continues\n"
        "A,HPD,B\n"  # line 2: A and B continue each other
        "B,HPD,A\n"  # line 3
        "C,HPD,C\n"  # line 4: itself
        "D,HPD,E\n"  # line 5
        "F,HPD,E\n"  # line 6: E already has a successor
        "G,HPD,\n",
    )
    pack = read_pack(bad)
    reasons = {(r.file, r.line): r.reason for r in pack.rejects}
    assert "form a cycle" in reasons[("categories.csv", 2)]
    assert "form a cycle" in reasons[("categories.csv", 3)]
    assert "cannot continue itself" in reasons[("categories.csv", 4)]
    assert "already continued by 'D'" in reasons[("categories.csv", 6)]
    assert sorted(c.name for c in pack.categories) == ["D", "G"]
    assert import_dir(database, bad).files["categories"].rejected == 4
    assert links(database) == {"D": "E"}

    # Against what is stored: E continues D? D already continues E.
    later = write_files(tmp_path / "later", "category,department,continues\nE,HPD,D\nH,HPD,\n")
    report = import_dir(database, later)
    (reject,) = report.rejects
    assert (reject.file, reject.line) == ("categories.csv", 2)
    assert "would make a cycle" in reject.reason
    assert links(database) == {"D": "E"} and category_id(database, "H")  # the rest went in

    # The app refuses the same links with the same words.
    d, e, g = (category_id(database, n) for n in ("D", "E", "G"))
    with database.session(write=True) as session:
        with pytest.raises(FieldError, match="would make a cycle"):
            catalog_admin.set_category_continues(session, ADMIN, e, d)
        with pytest.raises(FieldError, match="cannot continue itself"):
            catalog_admin.set_category_continues(session, ADMIN, g, g)
        with pytest.raises(FieldError, match="already continued by 'D'"):
            catalog_admin.set_category_continues(session, ADMIN, g, e)
    assert links(database) == {"D": "E"}


def test_ren004_the_app_sets_and_removes_a_link_with_audit(
    database: Database, tmp_path: Path
) -> None:
    import_dir(
        database,
        write_files(tmp_path / "pack", "category,department\nHEATING,HPD\nHEAT/HOT WATER,HPD\n"),
    )
    assert fed(database) == ["HEATING"]
    new, old = category_id(database, "HEAT/HOT WATER"), category_id(database, "HEATING")
    with database.session(write=True) as session:
        said = catalog_admin.set_category_continues(session, ADMIN, str(new), str(old))
    assert said.startswith("HEAT/HOT WATER now continues HEATING")
    assert said.endswith("1 problem now counts both names.")
    assert links(database) == {"HEAT/HOT WATER": "HEATING"}
    assert fed(database) == ["HEAT/HOT WATER", "HEATING"]
    with database.session() as session:
        renames = catalog_admin.category_renames(session)
    assert renames[["category", "continues"]].values.tolist() == [["HEAT/HOT WATER", "HEATING"]]
    with database.session(write=True) as session:
        said = catalog_admin.set_category_continues(session, ADMIN, new, "")
    assert said == "HEAT/HOT WATER no longer continues HEATING."
    assert links(database) == {}
    with database.session() as session:
        trail = [
            (row.before, row.after)
            for row in session.scalars(
                select(AuditLog)
                .where(AuditLog.entity == "report_category", AuditLog.action == "update")
                .order_by(AuditLog.id)
            )
        ]
        problem_rows = session.scalars(
            select(AuditLog.after).where(AuditLog.entity == "problem", AuditLog.action == "update")
        ).all()
    assert trail == [
        ({"continues": None}, {"continues": "HEATING"}),
        ({"continues": "HEATING"}, {"continues": None}),
    ]
    assert problem_rows == [{"categories": ["HEAT/HOT WATER", "HEATING"]}]
    viewer = Principal(None, "viv", Role.MAYOR)
    with pytest.raises(Exception, match="may not"), database.session(write=True) as session:
        catalog_admin.set_category_continues(session, viewer, new, old)


# ------------------------------------------------------------------------ detection


def heating_counts(
    old: int, new: int, until: dt.date, district: int, *, surge_from: dt.date | None = None
) -> list[dict[str, Any]]:
    """A real-shaped winter complaint series: about 12 a day with a weekly rhythm, two years
    under the old name, then the new name from ``RENAME`` at the same level (doubled from
    ``surge_from``)."""
    rng = np.random.default_rng(10)
    rows = []
    day = RENAME - dt.timedelta(days=730)
    while day <= until:
        level = 12.0 * (1.15 if day.weekday() == 0 else 0.85 if day.weekday() >= 5 else 1.0)
        if surge_from is not None and day >= surge_from:
            level *= 2.5
        count = int(rng.poisson(level))
        if count:
            rows.append(
                {
                    "day": day,
                    "category_id": old if day < RENAME else new,
                    "district_id": district,
                    "count": count,
                }
            )
        day += dt.timedelta(days=1)
    return rows


def seed_counts(database: Database, tmp_path: Path, *, linked: bool, **kw: Any) -> None:
    categories = RENAMED if linked else "category,department\nHEATING,HPD\nHEAT/HOT WATER,HPD\n"
    import_dir(database, write_files(tmp_path / "pack", categories))
    new, old = category_id(database, "HEAT/HOT WATER"), category_id(database, "HEATING")
    with database.session(write=True) as session:
        unlocated = ensure_sentinel_districts(session)["UNLOCATED"]
        session.execute(
            insert(ReportDailyCount), heating_counts(old, new, district=unlocated, **kw)
        )


def category_alerts(database: Database) -> list[tuple[str, str, str]]:
    with database.session() as session:
        names = dict(session.execute(select(ReportCategory.id, ReportCategory.name)).all())
        return sorted(
            (names[c], kind, "citywide" if d is None else "district")
            for c, kind, d in session.execute(
                select(Alert.category_id, Alert.kind, Alert.district_id).where(
                    Alert.category_id.is_not(None)
                )
            ).all()
        )


def test_ren005_the_rename_alone_raises_nothing_with_the_link(
    database: Database, tmp_path: Path
) -> None:
    until = RENAME + dt.timedelta(days=60)
    seed_counts(database, tmp_path, linked=True, until=until)
    for as_of in (RENAME + dt.timedelta(days=9), until):
        refresh_alerts(database, as_of)
    assert category_alerts(database) == []


def test_ren006_without_the_link_the_new_name_alerts_as_a_new_category(
    database: Database, tmp_path: Path
) -> None:
    until = RENAME + dt.timedelta(days=9)
    seed_counts(database, tmp_path, linked=False, until=until)
    refresh_alerts(database, until)
    assert category_alerts(database) == [("HEAT/HOT WATER", "new_category", "citywide")]
    with database.session() as session:
        message = session.scalar(select(Alert.message).where(Alert.kind == "new_category"))
    assert message.startswith("HEAT/HOT WATER reports citywide: a new category")


def test_ren007_a_surge_after_the_rename_still_alerts(database: Database, tmp_path: Path) -> None:
    until = RENAME + dt.timedelta(days=60)
    surge_from = until - dt.timedelta(days=5)
    seed_counts(database, tmp_path, linked=True, until=until, surge_from=surge_from)
    refresh_alerts(database, until)
    found = category_alerts(database)
    assert ("HEAT/HOT WATER", "surge", "citywide") in found
    assert {name for name, _, _ in found} == {"HEAT/HOT WATER"}  # never the old name


def test_ren008_without_the_link_that_surge_is_missed(database: Database, tmp_path: Path) -> None:
    """The predecessor's history is what the surge is measured against: without the link the
    new name has two months of history, too little to test, and the surge goes unseen."""
    until = RENAME + dt.timedelta(days=60)
    surge_from = until - dt.timedelta(days=5)
    seed_counts(database, tmp_path, linked=False, until=until, surge_from=surge_from)
    refresh_alerts(database, until)
    assert category_alerts(database) == []


def test_ren009_categories_as_old_as_the_data_are_not_new(
    database: Database, tmp_path: Path
) -> None:
    """A city's first export: every category starts with the data, so none is "new"."""
    unlinked = "category,department\nHEATING,HPD\nHEAT/HOT WATER,HPD\n"
    import_dir(database, write_files(tmp_path / "pack", unlinked))
    start = dt.date(2019, 3, 1)
    with database.session(write=True) as session:
        unlocated = ensure_sentinel_districts(session)["UNLOCATED"]
        ids = [category_id(database, n) for n in ("HEATING", "HEAT/HOT WATER")]
        session.execute(
            insert(ReportDailyCount),
            [
                {
                    "day": start + dt.timedelta(days=d),
                    "category_id": c,
                    "district_id": unlocated,
                    "count": 6,
                }
                for d in range(20)
                for c in ids
            ],
        )
    refresh_alerts(database, start + dt.timedelta(days=19))
    assert category_alerts(database) == []
