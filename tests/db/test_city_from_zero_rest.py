"""The rest of "a real city from zero": a category first seen in an export reaches the attention
list after the refresh job; a pack import refuses an active indicator in an archived
department; an archived problem takes no decision, on the server path and through a forged
callback post."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import catalog_admin
from db.attention import week_attention
from db.catalog import import_pack
from db.models import CategoryProblem, Decision, Indicator, JobRun, Problem, ReportCategory
from db.problems import record_decision
from db.ranking import rank_week
from db.session import Database
from tests import webutil
from tests.clock import TODAY
from tests.db.factories import make_world
from tests.webutil import WebEnv, fresh_database, post_callback, signed_in_client
from triage import jobs
from triage.citypack import read_pack
from triage.ingest.portal_csv import load_layout
from triage.jobs.ingest import ingest_portal_export
from triage.scoring import iso_week
from triage.security import Principal, Role
from triage.validation import ValidationError

ADMIN = Principal(None, "ada", Role.ADMIN)
CHIEF = Principal(None, "chief", Role.CHIEF_OF_STAFF)
SINKHOLE = "Sinkhole Emergency"
WEEK = iso_week(TODAY)


def export_with_a_new_category(path: Path, reports: int = 60) -> Path:
    """An NYC-layout export of ``reports`` requests of a service name the city never had,
    over the five days before today."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Unique Key", "Created Date", "Complaint Type", "Status", "Descriptor"])
        for number in range(reports):
            day = TODAY - dt.timedelta(days=1 + number % 5)
            at = dt.datetime.combine(day, dt.time(9 + number % 8, number % 60))
            writer.writerow(
                [f"sink-{number}", at.strftime("%m/%d/%Y %I:%M:%S %p"), SINKHOLE, "Open", ""]
            )
    return path


def test_zero001_a_new_category_from_an_export_reaches_the_attention_list(tmp_path: Path) -> None:
    database = fresh_database(tmp_path)
    try:
        rank_week(database, None, TODAY)
        with database.session() as session:
            assert (
                session.scalar(select(ReportCategory.id).where(ReportCategory.name == SINKHOLE))
                is None
            )
        summary = ingest_portal_export(
            database,
            export_with_a_new_category(tmp_path / "export.csv"),
            load_layout("nyc"),
            city_tz="America/New_York",
        )
        assert summary.added == 60
        run_id = jobs.refresh_after_data(database_url=database.url, today=TODAY)
        with database.session() as session:
            run = session.get(JobRun, run_id)
            assert run is not None and run.outcome == "success"
            assert run.detail["alerts"]["inserted"] >= 1
        with database.session() as session:
            category_id = session.scalar(
                select(ReportCategory.id).where(ReportCategory.name == SINKHOLE)
            )
            assert category_id is not None
            mapped = session.scalar(
                select(func.count())
                .select_from(CategoryProblem)
                .where(CategoryProblem.category_id == category_id)
            )
            assert mapped == 0
            attention = week_attention(session, WEEK, today=TODAY)
    finally:
        database.dispose()
    found = [i for i in attention.items if i.category_id == category_id]
    assert [i.kind for i in found] == ["uncovered_surge"]
    assert found[0].title == f"Surge in '{SINKHOLE}' reports (new this week)"
    assert "no problem on the office's list covers this category" in found[0].reason


def pack_with_an_archived_department(folder: Path) -> Path:
    folder.mkdir()
    (folder / "city.toml").write_text('name = "Gotham"\ntimezone = "America/New_York"\n')
    (folder / "departments.csv").write_text("code,name\nHPD,Housing\nDOT,Transportation\n")
    (folder / "indicators.csv").write_text(
        "code,name,department,unit,direction,cadence,archived\n"
        "HPD-NEW,Days to restore heat,HPD,days,down,monthly,\n"  # line 2: refused
        "HPD-OLD,Old heat count,HPD,count,down,monthly,yes\n"  # archived: allowed
        "DOT-POTHOLES,Potholes filled,DOT,count,up,monthly,\n"
    )
    (folder / "problems.csv").write_text("code,title,lead_department,indicators,categories\n")
    return folder


def test_zero002_pack_import_refuses_an_active_indicator_in_an_archived_department(
    database: Database, tmp_path: Path
) -> None:
    with database.session(write=True) as session:
        make = catalog_admin.save_record(
            session, ADMIN, "department", {"code": "HPD", "name": "Housing"}
        )
        catalog_admin.set_archived(session, ADMIN, "department", make.id, True)
    pack = read_pack(pack_with_an_archived_department(tmp_path / "pack"))
    with database.session(write=True) as session:
        report = import_pack(session, ADMIN, pack, city_tz="America/New_York")
    (reject,) = report.rejects
    assert (reject.file, reject.line) == ("indicators.csv", 2)
    assert reject.reason.startswith("department HPD is archived")
    assert str(reject).startswith("indicators.csv line 2: department HPD is archived")
    assert report.files["indicators.csv"].rejected == 1
    assert report.files["indicators.csv"].added == 2
    with database.session() as session:
        stored = dict(
            session.execute(select(Indicator.code, Indicator.archived_at.is_not(None))).all()
        )
    assert stored == {"HPD-OLD": True, "DOT-POTHOLES": False}


def test_zero003_an_archived_problem_takes_no_decision(database: Database) -> None:
    with database.session(write=True) as session:
        world = make_world(session)
        catalog_admin.set_archived(session, ADMIN, "problem", world.problem_id, True)
    with (
        pytest.raises(ValidationError, match="is archived, so it takes no new decisions"),
        database.session(write=True) as session,
    ):
        record_decision(session, world.chief, world.problem_id, WEEK, "focus", "")
    with database.session(write=True) as session:
        catalog_admin.set_archived(session, ADMIN, "problem", world.problem_id, False)
        record_decision(session, world.chief, world.problem_id, WEEK, "focus", "")
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 1


def test_zero004_a_forged_decision_post_on_an_archived_problem_is_refused(tmp_path: Path) -> None:
    web = WebEnv.create(tmp_path)
    with web.database.session(write=True) as session:
        problem_id = session.scalar(select(Problem.id).order_by(Problem.id).limit(1))
        title = session.scalar(select(Problem.title).where(Problem.id == problem_id))
        catalog_admin.set_archived(session, ADMIN, "problem", problem_id, True)
        before = session.scalar(select(func.count()).select_from(Decision))
    client = signed_in_client(web, "chief")
    dialog = webutil.find_dependency(
        webutil.dependencies(client), "priorities-decision-modal.is_open"
    )
    body = webutil.callback_body(
        dialog,
        {
            "priorities-decision-save-button.n_clicks": 1,
            "priorities-decision-problem-store.data": problem_id,
            "priorities-week-select.value": WEEK,
            "priorities-decision-choice-radio.value": "focus",
            "priorities-decision-note-textarea.value": "forged on an archived problem",
            "priorities-saved-store.data": 0,
        },
    )
    body["changedPropIds"] = ["priorities-decision-save-button.n_clicks"]
    response = post_callback(client, body)
    assert response.status_code == 200
    shown = response.get_data(as_text=True)
    assert f"{title} is archived, so it takes no new decisions" in shown
    with web.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == before
    web.database.dispose()
