"""City packs in the database, on SQLite and PostgreSQL: import, audit, dry run, round trip,
re-placing reports when boundaries change, and a city from zero (NYC pack + a real 311 export).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from db.catalog import district_report_counts, export_pack, import_pack
from db.ingest import report_counts_consistent
from db.models import (
    Actor,
    AuditLog,
    Base,
    CategoryProblem,
    CitizenReport,
    Department,
    District,
    Indicator,
    Problem,
    ProblemIndicator,
    ReportCategory,
)
from db.session import Database
from triage.citypack import CitySpec, Reject, read_pack
from triage.cli import main
from triage.ingest.portal_csv import load_layout
from triage.jobs.ingest import ingest_portal_export
from triage.security import Principal
from triage.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
NYC_311 = DATA / "nyc_311_portal_export_1000.csv"
CITY_TZ = "America/New_York"
ADMIN = Principal.system("test")


def url_of(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def import_dir(database: Database, directory: Path, *, dry_run: bool = False) -> Any:
    pack = read_pack(directory)
    with database.session(write=True) as session:
        report = import_pack(session, ADMIN, pack, city_tz=CITY_TZ)
        if dry_run:
            session.rollback()
    return report


def audit_rows(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)


def catalogue(database: Database) -> dict[str, Any]:
    """Everything a pack describes, by natural keys (no ids), for comparing two databases."""
    with database.session() as session:
        departments = {d.id: d.code for d in session.scalars(select(Department))}
        indicators = {i.id: i.code for i in session.scalars(select(Indicator))}
        categories = {c.id: c.name for c in session.scalars(select(ReportCategory))}
        links: dict[int, dict[str, set[str]]] = {}
        for link in session.scalars(select(ProblemIndicator)):
            entry = links.setdefault(link.problem_id, {"i": set(), "c": set()})
            entry["i"].add(indicators[link.indicator_id])
        for link in session.scalars(select(CategoryProblem)):
            entry = links.setdefault(link.problem_id, {"i": set(), "c": set()})
            entry["c"].add(categories[link.category_id])
        return {
            "departments": sorted((d.code, d.name) for d in session.scalars(select(Department))),
            "districts": sorted(
                (d.code, d.name, d.population, json.dumps(d.geometry))
                for d in session.scalars(select(District))
            ),
            "indicators": sorted(
                (
                    i.code,
                    i.name,
                    departments[i.department_id],
                    i.unit,
                    i.direction,
                    i.cadence,
                    i.target,
                    i.warning_threshold,
                    i.critical_threshold,
                    i.description,
                )
                for i in session.scalars(select(Indicator))
            ),
            "problems": sorted(
                (
                    p.code,
                    p.title,
                    p.status,
                    p.policy_area,
                    p.description,
                    p.desired_outcome,
                    departments.get(p.lead_department_id),
                    tuple(sorted(links.get(p.id, {}).get("i", set()))),
                    tuple(sorted(links.get(p.id, {}).get("c", set()))),
                )
                for p in session.scalars(select(Problem))
            ),
            "actors": sorted(
                (a.name, a.sector, a.description) for a in session.scalars(select(Actor))
            ),
            "categories": sorted(
                (c.name, departments.get(c.department_id))
                for c in session.scalars(select(ReportCategory))
            ),
        }


def empty(database: Database) -> None:
    with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def test_pack101_import_is_idempotent_and_dry_run_writes_nothing(database: Database) -> None:
    dry = import_dir(database, NYC_PACK, dry_run=True)
    assert dry.files["problems.csv"].added == 7
    assert audit_rows(database) == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(District)) == 0

    first = import_dir(database, NYC_PACK)
    assert first.rejects == []
    assert {k: v.added for k, v in first.files.items()} == {
        "city.toml": 1,
        "districts": 71,
        "departments.csv": 5,
        "categories": 31,  # HEATING too: HEAT/HOT WATER continues it
        "indicators.csv": 6,
        "problems.csv": 7,
        "actors.csv": 5,
        # The optional files the NYC example does not have: nothing to add, nothing rejected.
        "policy_areas.csv": 0,
        "factors.csv": 0,
        "innovations.csv": 0,
        "engagements.csv": 0,
    }
    created = audit_rows(database)
    assert created == first.changed  # one audit row per change

    second = import_dir(database, NYC_PACK)
    assert second.changed == 0 and second.placement is None
    assert second.files["districts"].unchanged == 71
    assert second.files["problems.csv"].unchanged == 7
    assert audit_rows(database) == created
    with database.session() as session:
        heat = session.scalars(select(Problem).where(Problem.code == "NYC-HEAT")).one()
        assert heat.status == "focus" and heat.version == 1


def test_pack102_a_changed_file_updates_what_changed_with_audit(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, NYC_PACK)
    changed = tmp_path / "nyc"
    shutil.copytree(NYC_PACK, changed)
    indicators = (changed / "indicators.csv").read_text()
    (changed / "indicators.csv").write_text(
        indicators.replace("monthly,90,80,70", "monthly,95,80,70")
    )
    problems = (changed / "problems.csv").read_text()
    (changed / "problems.csv").write_text(problems.replace("Water System;Sewer", "Water System"))
    departments = (changed / "departments.csv").read_text()
    (changed / "departments.csv").write_text(
        departments.replace(
            "DEP,Department of Environmental Protection", "DEP,Environmental Protection"
        )
        + "DPR,Police Department\n"  # a name another department holds: rejected
    )
    before = audit_rows(database)
    report = import_dir(database, changed)
    assert report.files["indicators.csv"].updated == 1
    assert report.files["indicators.csv"].unchanged == 5
    assert report.files["problems.csv"].updated == 1
    assert report.files["departments.csv"].updated == 1
    assert report.files["departments.csv"].rejected == 1
    assert report.rejects == [
        Reject("departments.csv", 7, "the name 'Police Department' belongs to department NYPD")
    ]
    assert audit_rows(database) == before + 3
    with database.session() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.id > before).order_by(AuditLog.id)
        ).all()
        by_entity = {r.entity: r for r in rows}
        assert by_entity["indicator"].before == {"target": 90.0}
        assert by_entity["indicator"].after == {"target": 95.0}
        assert by_entity["problem"].after == {"categories": ["Water System"]}
        assert by_entity["department"].after == {"name": "Environmental Protection"}
        water = session.scalars(select(Problem).where(Problem.code == "NYC-WATER")).one()
        assert (
            session.scalar(
                select(func.count())
                .select_from(CategoryProblem)
                .where(CategoryProblem.problem_id == water.id)
            )
            == 1
        )


def test_pack103_export_then_import_into_an_empty_database_round_trips(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url_of(database)
    assert main(["--db", url, "city", "import", str(NYC_PACK)]) == 0
    original = catalogue(database)
    assert main(["--db", url, "city", "export", str(tmp_path / "out")]) == 0
    assert "Wrote New York City" in capsys.readouterr().out
    assert main(["--db", url, "city", "export", str(tmp_path / "out")]) == 2  # no overwrite
    empty(database)
    assert main(["--db", url, "city", "import", str(tmp_path / "out")]) == 0
    assert catalogue(database) == original
    with database.session() as session:
        again = export_pack(session, default_city=CitySpec("x", "UTC"))
    assert again.city.name == "New York City" and again.city.fiscal_year_start == 7


def test_pack104_city_from_zero_nyc_pack_and_a_real_311_export(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url_of(database)
    assert main(["--db", url, "city", "import", str(NYC_PACK)]) == 0
    summary = ingest_portal_export(database, NYC_311, load_layout("nyc"), city_tz=CITY_TZ)
    assert summary.added == 1000
    with database.session() as session:
        counts = district_report_counts(session).set_index("code")["reports"]
        assert report_counts_consistent(session, CITY_TZ).empty
    assert int(counts.sum()) == 1000
    assert counts["OUTSIDE"] == 0  # every point of this export lies in a district
    assert counts["UNLOCATED"] == 107  # rows without Latitude/Longitude
    placed = counts.drop(["OUTSIDE", "UNLOCATED"])
    assert (placed > 0).sum() == 60 and placed["112"] == 31 and placed["311"] == 21
    capsys.readouterr()
    assert main(["--db", url, "city", "districts"]) == 0
    shown = capsys.readouterr().out
    assert "OUTSIDE    outside every district" in shown
    assert "UNLOCATED  without a point" in shown and "107" in shown
    assert "Brooklyn Community District 11" in shown
    assert main(["--db", url, "city", "districts", "--place"]) == 0  # already in place
    assert "893 reports with a point: 0 moved, 0 outside" in capsys.readouterr().out
    assert main(["--db", url, "rank", "--week", "2019-W13", "--dry-run"]) == 0
    ranking = capsys.readouterr().out
    assert ranking.startswith("Priorities for 2019-W13")
    for title in ("Homes without heat or hot water", "Noise that keeps residents awake"):
        assert title in ranking


def _borough_pack(directory: Path, swap: bool = False) -> Path:
    """NYC boroughs as districts; with ``swap`` Manhattan and Brooklyn trade boundaries."""
    shutil.copytree(
        NYC_PACK, directory, ignore=shutil.ignore_patterns("*.geojson", "districts.csv")
    )
    collection = json.loads((DATA / "nyc_boroughs.geojson").read_text())
    if swap:
        by_code = {f["properties"]["BoroCode"]: f for f in collection["features"]}
        by_code[1]["geometry"], by_code[3]["geometry"] = (
            by_code[3]["geometry"],
            by_code[1]["geometry"],
        )
    (directory / "boroughs.geojson").write_text(json.dumps(collection))
    city = (directory / "city.toml").read_text()
    start = city.index("[districts]")
    (directory / "city.toml").write_text(
        city[:start]
        + '[districts]\nfile = "boroughs.geojson"\ncode = "BoroCode"\nname = "BoroName"\n'
    )
    return directory


def test_pack105_reimporting_boundaries_replaces_stored_reports(
    database: Database, tmp_path: Path
) -> None:
    first = import_dir(database, _borough_pack(tmp_path / "a"))
    assert first.files["districts"].added == 5
    ingest_portal_export(database, NYC_311, load_layout("nyc"), city_tz=CITY_TZ)
    with database.session() as session:
        before = district_report_counts(session).set_index("name")["reports"]
    assert before["Manhattan"] > 0 and before["Brooklyn"] > 0
    report = import_dir(database, _borough_pack(tmp_path / "b", swap=True))
    assert report.files["districts"].updated == 2
    assert report.placement is not None
    assert report.placement.checked == 893
    assert report.placement.moved == before["Manhattan"] + before["Brooklyn"]
    with database.session() as session:
        after = district_report_counts(session).set_index("name")["reports"]
        assert report_counts_consistent(session, CITY_TZ).empty
        audits = session.scalars(select(AuditLog).where(AuditLog.entity == "district")).all()
        assert str(audits[-1].after["geometry"]).startswith("sha256:")  # not megabytes
    assert after["Manhattan"] == before["Brooklyn"] and after["Brooklyn"] == before["Manhattan"]
    assert after["Outside every district"] == before["Outside every district"]
    assert after["Queens"] == before["Queens"] and int(after.sum()) == 1000


def test_pack106_points_outside_and_named_districts_at_ingest(
    database: Database, tmp_path: Path
) -> None:
    import_dir(database, _borough_pack(tmp_path / "a"))
    with database.session(write=True) as session:
        session.add(District(code="NOBOUND", name="Named only", population=0))
    header = (
        "Unique Key,Created Date,Closed Date,Complaint Type,Resolution Action Updated Date,"
        "Community Board,Latitude,Longitude\n"
    )
    rows = [
        "1,03/01/2024 10:00:00 AM,,Noise,,,40.7829,-73.9654",  # Central Park: Manhattan
        "2,03/01/2024 10:00:00 AM,,Noise,,3,40.7829,-73.9654",  # point wins over a bounded name
        "3,03/01/2024 10:00:00 AM,,Noise,,,40.5,-73.8",  # in the ocean: outside every district
        "4,03/01/2024 10:00:00 AM,,Noise,,NOBOUND,40.5,-73.8",  # named, has no boundary
        "5,03/01/2024 10:00:00 AM,,Noise,,4,,",  # no point, a named district
        "6,03/01/2024 10:00:00 AM,,Noise,,,0,0",  # 0,0 is the ungeocoded marker: no point
    ]
    path = tmp_path / "feed.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    ingest_portal_export(database, path, load_layout("nyc"), source="t", city_tz=CITY_TZ)
    with database.session() as session:
        placed = dict(
            session.execute(
                select(CitizenReport.service_request_id, District.code).join(
                    District, District.id == CitizenReport.district_id
                )
            ).all()
        )
    assert placed == {
        "1": "1",
        "2": "1",
        "3": "OUTSIDE",
        "4": "NOBOUND",
        "5": "4",
        "6": "UNLOCATED",
    }


def test_pack107_cli_dry_run_and_rejects_exit_one(
    database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = url_of(database)
    assert main(["--db", url, "city", "import", str(NYC_PACK), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing was written" in out
    assert audit_rows(database) == 0
    broken = tmp_path / "broken"
    shutil.copytree(NYC_PACK, broken)
    with (broken / "indicators.csv").open("a") as handle:
        handle.write("BAD,Bad row,NOPE,count,down,monthly,,,\n")
    assert main(["--db", url, "city", "import", str(broken), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["files"]["indicators.csv"] == {
        "added": 6,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    assert payload["rejects"] == [
        {
            "file": "indicators.csv",
            "line": 8,
            "reason": "department 'NOPE' is not in departments.csv",
        }
    ]
    assert main(["--db", url, "city", "import", str(tmp_path / "missing")]) == 2


def test_pack108_a_problem_without_a_code_is_adopted_by_title(database: Database) -> None:
    with database.session(write=True) as session:
        session.add(
            Problem(title="Noise that keeps residents awake", policy_area="noise", status="focus")
        )
    report = import_dir(database, NYC_PACK)
    assert report.files["problems.csv"].added == 6 and report.files["problems.csv"].updated == 1
    with database.session() as session:
        noise = session.scalars(select(Problem).where(Problem.code == "NYC-NOISE")).one()
        assert noise.status == "focus"  # an empty status cell never demotes a problem
        assert noise.policy_area == "quality of life"
        assert session.scalar(select(func.count()).select_from(Problem)) == 7
