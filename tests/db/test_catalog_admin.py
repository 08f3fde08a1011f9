"""Catalogue records from the administration pages, on SQLite and PostgreSQL: the pack's
validation, one audit row per change, archive and restore, a district upload that re-places
stored reports (NYC boroughs and a real 311 export), new data sources, and the admin-only rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from db import catalog_admin as ca
from db.catalog import district_report_counts, import_pack
from db.ingest import report_counts_consistent
from db.models import AuditLog, DataSource, Department, Indicator, Problem
from db.scores import load_scoring_inputs
from db.session import Database
from tests.clock import TODAY
from triage.citypack import read_district_file, read_pack
from triage.ingest.portal_csv import load_layout
from triage.jobs.ingest import ingest_portal_export
from triage.security import PermissionDenied, Principal, Role
from triage.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
CITY_TZ = "America/New_York"
ADMIN = Principal(None, "ada", Role.ADMIN)
CHIEF = Principal(None, "chief", Role.CHIEF_OF_STAFF)
INDICATOR = {
    "code": "HEAT-TIME",
    "name": "Days to restore heat",
    "department": "HPD",
    "unit": "days",
    "direction": "down",
    "cadence": "monthly",
    "target": 2,
    "warning": "3",
    "critical": 5.5,
}


def audits(database: Database, entity: str | None = None) -> list[AuditLog]:
    with database.session() as session:
        query = select(AuditLog).order_by(AuditLog.id)
        if entity:
            query = query.where(AuditLog.entity == entity)
        rows = session.scalars(query).all()
        session.expunge_all()
        return list(rows)


def save(database: Database, kind: str, values: dict[str, Any], **kw: Any) -> ca.Saved:
    with database.session(write=True) as session:
        return ca.save_record(session, ADMIN, kind, values, **kw)


def with_department(database: Database) -> None:
    save(database, "department", {"code": "HPD", "name": "Housing Preservation"})


def test_cat001_create_each_kind_with_one_audit_row_each(database: Database) -> None:
    with_department(database)
    saved = save(database, "indicator", INDICATOR)
    assert saved.created and saved.changed
    problem = save(
        database,
        "problem",
        {
            "code": "HEAT",
            "title": "Homes without heat",
            "lead_department": "hpd",
            "indicators": ["HEAT-TIME"],
            "categories": "HEAT/HOT WATER; PLUMBING",
            "status": "focus",
        },
    )
    save(database, "actor", {"name": "Tenants United", "sector": "community"})
    with database.session() as session:
        indicator = session.get(Indicator, saved.id)
        assert (indicator.target, indicator.warning_threshold, indicator.critical_threshold) == (
            2.0,
            3.0,
            5.5,
        )
        values = ca.record_values(session, "problem", problem.id)
    assert values is not None
    assert values["indicators"] == ["HEAT-TIME"] and values["lead_department"] == "HPD"
    assert values["categories"] == ["HEAT/HOT WATER", "PLUMBING"] and values["status"] == "focus"
    rows = audits(database)
    assert [(r.action, r.entity) for r in rows] == [
        ("create", "department"),
        ("create", "indicator"),
        ("create", "report_category"),
        ("create", "report_category"),
        ("create", "problem"),
        ("create", "actor"),
    ]
    assert all(r.username == "ada" for r in rows)
    assert rows[4].after["indicators"] == ["HEAT-TIME"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"direction": "sideways"}, "direction", "not one of up, down"),
        ({"target": "lots"}, "target", "not a number"),
        ({"code": ""}, "code", "Code is empty"),
        ({"department": "NOPE"}, "department", "no department"),
        ({"cadence": "hourly"}, "cadence", "not one of"),
        ({"name": "x" * 201}, "name", "longer than 200"),
    ],
)
def test_cat002_bad_input_names_the_field_and_writes_nothing(
    database: Database, change: dict[str, Any], field: str, words: str
) -> None:
    with_department(database)
    before = len(audits(database))
    with pytest.raises(ca.FieldError) as caught:
        save(database, "indicator", {**INDICATOR, **change})
    assert caught.value.field == field
    assert words in str(caught.value)
    assert len(audits(database)) == before
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Indicator)) == 0


def test_cat003_edit_audits_before_and_after_and_keeps_the_code(database: Database) -> None:
    with_department(database)
    saved = save(database, "indicator", INDICATOR)
    again = save(database, "indicator", INDICATOR, record_id=saved.id)
    assert not again.changed and len(audits(database, "indicator")) == 1
    save(database, "indicator", {**INDICATOR, "target": "1.5", "unit": ""}, record_id=saved.id)
    last = audits(database, "indicator")[-1]
    assert last.action == "update"
    assert last.before == {"target": 2.0, "unit": "days"}
    assert last.after == {"target": 1.5, "unit": ""}
    with pytest.raises(ca.FieldError, match="code cannot change"):
        save(database, "indicator", {**INDICATOR, "code": "OTHER"}, record_id=saved.id)
    with pytest.raises(ca.FieldError, match="already used"):
        save(database, "indicator", INDICATOR)
    with pytest.raises(ca.FieldError, match="already has that name"):
        save(database, "department", {"code": "DOT", "name": "housing preservation"})


def test_cat004_archive_leaves_pickers_and_ranking_and_keeps_history(
    database: Database,
) -> None:
    with_department(database)
    indicator = save(database, "indicator", INDICATOR)
    problem = save(
        database,
        "problem",
        {"code": "HEAT", "title": "Homes without heat", "indicators": "HEAT-TIME"},
    )
    with database.session() as session:
        assert list(load_scoring_inputs(session, TODAY).problems["id"]) == [problem.id]
    with database.session(write=True) as session, pytest.raises(ca.FieldError, match="1 indic"):
        department = session.scalar(select(Department.id))
        ca.set_archived(session, ADMIN, "department", department, True)
    with database.session(write=True) as session:
        assert ca.set_archived(session, ADMIN, "problem", problem.id, True) == "Homes without heat"
        assert ca.set_archived(session, ADMIN, "indicator", indicator.id, True)
    with database.session() as session:
        assert load_scoring_inputs(session, TODAY).problems.empty
        assert ca.choices(session)["indicator"] == []
        frame = ca.catalogue_frame(session, "problem")
        assert bool(frame.iloc[0]["archived"]) and frame.iloc[0]["indicators"] == ["HEAT-TIME"]
        assert session.get(Problem, problem.id).archived_at is not None
    with pytest.raises(ca.FieldError, match="archived"):
        save(database, "problem", {"code": "P2", "title": "Another", "indicators": "HEAT-TIME"})
    with database.session(write=True) as session:
        ca.set_archived(session, ADMIN, "problem", problem.id, False)
    with database.session() as session:
        assert list(load_scoring_inputs(session, TODAY).problems["id"]) == [problem.id]
    actions = [(r.action, r.entity) for r in audits(database) if r.action != "create"]
    assert actions == [("archive", "problem"), ("archive", "indicator"), ("restore", "problem")]


def test_cat005_district_upload_places_reports_and_reupload_moves_them(
    database: Database,
) -> None:
    collection = json.loads((DATA / "nyc_boroughs.geojson").read_text())
    data = json.dumps(collection).encode()
    assert ca.upload_properties(data)[:2] == ["BoroCode", "BoroName"]
    pack = read_district_file(data, code_property="BoroCode", name_property="BoroName")
    assert len(pack.districts) == 5 and not pack.rejects
    with database.session(write=True) as session:
        first = ca.import_district_upload(session, ADMIN, pack, city_tz=CITY_TZ)
    assert (first.added, first.updated) == (5, 0)
    assert first.placement is not None and first.placement.checked == 0
    ingest_portal_export(
        database, DATA / "nyc_311_portal_export_1000.csv", load_layout("nyc"), city_tz=CITY_TZ
    )
    with database.session() as session:
        before = district_report_counts(session).set_index("name")["reports"]
    assert before["Manhattan"] > 0 and before["Brooklyn"] > 0
    by_code = {f["properties"]["BoroCode"]: f for f in collection["features"]}
    by_code[1]["geometry"], by_code[3]["geometry"] = by_code[3]["geometry"], by_code[1]["geometry"]
    swapped = read_district_file(
        json.dumps(collection).encode(), code_property="BoroCode", name_property="BoroName"
    )
    with database.session(write=True) as session:
        second = ca.import_district_upload(session, ADMIN, swapped, city_tz=CITY_TZ)
    assert (second.added, second.updated, second.unchanged) == (0, 2, 3)
    assert second.placement is not None
    assert second.placement.moved == before["Manhattan"] + before["Brooklyn"]
    with database.session() as session:
        after = district_report_counts(session).set_index("name")["reports"]
        assert report_counts_consistent(session, CITY_TZ).empty
    assert after["Manhattan"] == before["Brooklyn"] and after["Queens"] == before["Queens"]
    assert len(audits(database, "district")) == 7


def test_cat006_bad_district_files_are_refused_with_reasons() -> None:
    with pytest.raises(ca.FieldError, match="not JSON"):
        ca.upload_properties(b"<xml/>")
    with pytest.raises(ca.FieldError, match="FeatureCollection"):
        ca.upload_properties(b'{"type": "Feature"}')
    data = (DATA / "nyc_boroughs.geojson").read_bytes()
    pack = read_district_file(data, code_property="NoSuchProperty")
    assert pack.districts == [] and len(pack.rejects) == 5
    assert "'NoSuchProperty' (the district code) is empty" in str(pack.rejects[0])


def test_cat007_data_sources_validated_and_audited(database: Database) -> None:
    def add(**values: Any) -> int:
        with database.session(write=True) as session:
            return ca.add_data_source(session, ADMIN, **values)

    open311 = {"name": "city311", "kind": "open311", "url": "https://311.example.gov/open311/v2"}
    with pytest.raises(ca.FieldError) as caught:
        add(**open311)
    assert caught.value.field == "timezone"
    with pytest.raises(ca.FieldError) as caught:
        add(**{**open311, "url": "ftp://x", "timezone": "America/Chicago"})
    assert caught.value.field == "url"
    with pytest.raises(ca.FieldError) as caught:
        add(**{**open311, "timezone": "Mars/Olympus"})
    assert caught.value.field == "timezone"
    source_id = add(**open311, timezone="America/Chicago", poll_minutes=15, fmt="xml")
    with pytest.raises(ca.FieldError, match="already called"):
        add(**open311, timezone="America/Chicago")
    csv = {"name": "portal", "kind": "csv", "url": "/data/311.csv"}
    with pytest.raises(ca.FieldError) as caught:
        add(**csv)
    assert caught.value.field == "layout"
    with pytest.raises(ca.FieldError) as caught:
        add(**{**csv, "layout": "nyc", "url": "relative.csv"})
    assert caught.value.field == "url"
    with pytest.raises(ca.FieldError) as caught:
        add(**{**csv, "layout": "nyc", "poll_minutes": 2})
    assert caught.value.field == "poll_minutes"
    add(**csv, layout="nyc")
    with database.session() as session:
        row = session.get(DataSource, source_id)
        assert (row.kind, row.url, row.poll_minutes) == ("open311", open311["url"], 15)
        assert row.config == {
            "format": "xml",
            "jurisdiction_id": None,
            "timezone": "America/Chicago",
        }
    rows = audits(database, "data_source")
    assert [r.after["name"] for r in rows] == ["city311", "portal"]


def test_cat008_other_roles_are_refused_and_nothing_changes(database: Database) -> None:
    with_department(database)
    before = len(audits(database))
    with database.session(write=True) as session:
        with pytest.raises(PermissionDenied):
            ca.save_record(session, CHIEF, "department", {"code": "DOT", "name": "Transport"})
        with pytest.raises(PermissionDenied):
            ca.set_archived(session, CHIEF, "department", 1, True)
        with pytest.raises(PermissionDenied):
            ca.add_data_source(session, CHIEF, name="x", kind="csv", url="/x", layout="nyc")
    assert len(audits(database)) == before
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Department)) == 1


def test_cat009_nyc_pack_catalogue_is_editable(database: Database) -> None:
    with database.session(write=True) as session:
        import_pack(session, Principal.system("test"), read_pack(NYC_PACK), city_tz=CITY_TZ)
    with database.session() as session:
        frame = ca.catalogue_frame(session, "problem")
        first = frame.iloc[0].to_dict()
    values = {k: first[k] for k in ca.FIELDS["problem"]}
    again = save(database, "problem", values, record_id=int(first["id"]))
    assert not again.changed  # the app reads back exactly what the pack wrote
    save(
        database,
        "problem",
        {**values, "status": "watch", "policy_area": "housing"},
        record_id=int(first["id"]),
    )
    assert audits(database, "problem")[-1].action == "update"


def test_cat010_archived_records_leave_the_other_pages_pickers(database: Database) -> None:
    from db.backward_map import actor_choices
    from db.category_mappings import mapping_choices
    from db.indicators import department_indicators
    from db.pages.home import problem_overview

    with_department(database)
    indicator = save(database, "indicator", INDICATOR)
    problem = save(database, "problem", {"code": "HEAT", "title": "Homes without heat"})
    actor = save(database, "actor", {"name": "Tenants United", "sector": "community"})
    with database.session() as session:
        department = session.scalar(select(Department.id))
        assert list(department_indicators(session, department, today=TODAY)["id"]) == [indicator.id]
        assert list(problem_overview(session, today=TODAY)["id"]) == [problem.id]
        assert list(mapping_choices(session)[1]["id"]) == [problem.id]
        assert list(actor_choices(session)["id"]) == [actor.id]
    with database.session(write=True) as session:
        for kind, saved in (("indicator", indicator), ("problem", problem), ("actor", actor)):
            ca.set_archived(session, ADMIN, kind, saved.id, True)
    with database.session() as session:
        assert department_indicators(session, department, today=TODAY).empty
        assert problem_overview(session, today=TODAY).empty
        assert mapping_choices(session)[1].empty
        assert actor_choices(session).empty
        assert ca.catalogue_frame(session, "actor")["archived"].tolist() == [True]
