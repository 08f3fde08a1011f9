"""Archived records and city packs, on SQLite and PostgreSQL: an export says which records are
archived and importing it keeps that state; an import of a record archived in the database
leaves it archived and says so; ``archived`` yes/no archives and restores, with audit rows; a
department is archived only once nothing live is left in it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db import catalog_admin
from db.catalog import export_pack, import_pack
from db.models import Actor, AuditLog, Base, Department, Indicator, Problem
from db.session import Database
from triage.citypack import CitySpec, read_pack, write_pack
from triage.security import Principal, Role
from triage.settings import REPO_ROOT

NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
CITY_TZ = "America/New_York"
ADMIN = Principal(None, "ada", Role.ADMIN)
MODELS = {"department": Department, "indicator": Indicator, "problem": Problem, "actor": Actor}


def import_dir(database: Database, directory: Path) -> Any:
    pack = read_pack(directory)
    with database.session(write=True) as session:
        return import_pack(session, ADMIN, pack, city_tz=CITY_TZ)


def archived(database: Database) -> dict[str, list[str]]:
    """Natural keys of the archived records of each kind."""
    with database.session() as session:
        return {
            kind: sorted(
                str(getattr(row, "code", None) or row.name)
                for row in session.scalars(select(model).where(model.archived_at.is_not(None)))
            )
            for kind, model in MODELS.items()
        }


def archive(database: Database, kind: str, key: str) -> None:
    model = MODELS[kind]
    column = model.name if kind == "actor" else model.code
    with database.session(write=True) as session:
        record = session.scalars(select(model).where(column == key)).one()
        catalog_admin.set_archived(session, ADMIN, kind, record.id, True)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def set_cell(path: Path, key_column: str, key: str, column: str, value: str) -> None:
    """Set one cell of a pack CSV (adding the column when it is missing)."""
    table = rows(path)
    columns = list(table[0])
    if column not in columns:
        columns.append(column)
    for row in table:
        row.setdefault(column, "")
        if row[key_column] == key:
            row[column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)


def empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def test_pkar001_export_marks_archived_records_and_the_round_trip_keeps_them(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, NYC_PACK)
    archive(database, "indicator", "DEP-MAIN-BREAKS")
    archive(database, "problem", "NYC-WATER")
    archive(database, "actor", "Landlord associations")
    archive(database, "indicator", "DOT-LIGHT-10D")
    wanted = archived(database)
    assert wanted == {
        "department": [],
        "indicator": ["DEP-MAIN-BREAKS", "DOT-LIGHT-10D"],
        "problem": ["NYC-WATER"],
        "actor": ["Landlord associations"],
    }
    with database.session() as session:
        pack = export_pack(session, default_city=CitySpec("x", "UTC"))
    out = tmp_path / "out"
    write_pack(out, pack)
    marked = {r["code"]: r["archived"] for r in rows(out / "indicators.csv")}
    assert marked == {
        "DEP-MAIN-BREAKS": "yes",
        "DOT-LIGHT-10D": "yes",
        "DSNY-MISSED": "",
        "HPD-CLASS-C": "",
        "HPD-HEAT-DAYS": "",
        "NYPD-NOISE-HOURS": "",
    }
    assert [r["code"] for r in rows(out / "problems.csv") if r["archived"] == "yes"] == [
        "NYC-WATER"
    ]
    assert [r["archived"] for r in rows(out / "departments.csv")] == [""] * 5
    # The same database: nothing changes. An empty one: the same records come back archived.
    again = import_dir(database, out)
    assert again.changed == 0 and not again.rejects
    empty(database)
    fresh = import_dir(database, out)
    assert fresh.files["indicators.csv"].added == 6 and not fresh.rejects
    assert archived(database) == wanted
    assert import_dir(database, out).changed == 0


def test_pkar002_an_import_leaves_archived_records_archived_and_says_so(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, NYC_PACK)
    archive(database, "indicator", "DEP-MAIN-BREAKS")
    archive(database, "actor", "Landlord associations")
    pack = shutil.copytree(NYC_PACK, tmp_path / "pack")
    set_cell(pack / "indicators.csv", "code", "DEP-MAIN-BREAKS", "unit", "breaks")
    report = import_dir(database, pack)
    assert report.files["indicators.csv"].updated == 1
    assert report.notes == [
        "indicators.csv line 7: DEP-MAIN-BREAKS is archived in the database; it was imported "
        "and stays archived (write no in its archived column to restore it)",
        "actors.csv line 5: Landlord associations is archived in the database; it was "
        "imported and stays archived (write no in its archived column to restore it)",
    ]
    with database.session() as session:
        indicator = session.scalars(
            select(Indicator).where(Indicator.code == "DEP-MAIN-BREAKS")
        ).one()
        assert indicator.unit == "breaks" and indicator.archived_at is not None
    assert archived(database)["indicator"] == ["DEP-MAIN-BREAKS"]


def test_pkar003_archived_yes_and_no_archive_and_restore_with_audit(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, NYC_PACK)
    archive(database, "problem", "NYC-CURB")
    pack = shutil.copytree(NYC_PACK, tmp_path / "pack")
    set_cell(pack / "problems.csv", "code", "NYC-CURB", "archived", "no")
    set_cell(pack / "problems.csv", "code", "NYC-CLEAN", "archived", "yes")
    set_cell(pack / "actors.csv", "name", "Community boards", "archived", "Yes")
    report = import_dir(database, pack)
    assert not report.rejects and report.notes == []
    assert (report.files["problems.csv"].updated, report.files["actors.csv"].updated) == (2, 1)
    assert archived(database) == {
        "department": [],
        "indicator": [],
        "problem": ["NYC-CLEAN"],
        "actor": ["Community boards"],
    }
    with database.session() as session:
        trail = session.scalars(
            select(AuditLog)
            .where(AuditLog.entity.in_(["problem", "actor"]), AuditLog.action == "update")
            .order_by(AuditLog.id)
        ).all()
        changes = [(row.entity, set(row.after or {})) for row in trail]
    assert changes == [
        ("problem", {"archived_at"}),
        ("problem", {"archived_at"}),
        ("actor", {"archived_at"}),
    ]
    assert import_dir(database, pack).changed == 0  # a second import changes nothing


def test_pkar004_a_department_is_archived_only_once_nothing_live_is_left(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, NYC_PACK)
    pack = shutil.copytree(NYC_PACK, tmp_path / "pack")
    set_cell(pack / "departments.csv", "code", "DEP", "archived", "yes")
    refused = import_dir(database, pack)
    assert refused.notes == [
        "departments.csv line 6: DEP was not archived: it still has 1 indicator(s) not "
        "archived and 0 active user(s); archive or move them first"
    ]
    assert refused.changed == 0 and archived(database)["department"] == []
    # The same pack archiving the department's only indicator too: both are archived.
    set_cell(pack / "indicators.csv", "code", "DEP-MAIN-BREAKS", "archived", "yes")
    done = import_dir(database, pack)
    assert done.notes == []
    assert (done.files["departments.csv"].updated, done.files["indicators.csv"].updated) == (1, 1)
    assert archived(database)["department"] == ["DEP"]
    assert archived(database)["indicator"] == ["DEP-MAIN-BREAKS"]
    assert import_dir(database, pack).changed == 0
