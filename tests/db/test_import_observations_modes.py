"""import_observations' modes on SQLite and PostgreSQL: the dry run (the upload preview), the
all-or-nothing commit, the department scope, and a file imported twice changing nothing."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from db.ingest import (
    PlannedObservation,
    count_planned,
    import_observations,
    plan_observations,
)
from db.models import AuditLog, Indicator, IndicatorStatusUpdate, Observation
from db.session import Database
from tests.db.factories import World, make_world
from triage.ingest.indicators import read_indicator_file
from triage.jobs.ingest import ingest_indicator_file
from triage.security import Principal, Role
from triage.settings import REPO_ROOT

TODAY = dt.date(2026, 1, 20)
CITYSCORE = REPO_ROOT / "tests" / "data" / "boston_cityscore_21_load_dates.csv"


def frame_of(text: str) -> pd.DataFrame:
    frame, rejections = read_indicator_file(text.encode(), filename="upload.csv")
    assert rejections == []
    return frame


def stored(database: Database) -> tuple[int, int, int]:
    """Observations, status updates and observation audit rows."""
    with database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Observation)) or 0,
            session.scalar(select(func.count()).select_from(IndicatorStatusUpdate)) or 0,
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity == "observation")
            )
            or 0,
        )


@pytest.fixture
def world(database: Database) -> World:
    with database.session(write=True) as session:
        return make_world(session)


def test_iom001_dry_run_writes_nothing_and_predicts_the_import(
    database: Database, world: World
) -> None:
    text = (
        "indicator,period,value,status,note\n"
        "PRK-01,2026-01-05,81,at risk,two broken swings\n"
        "PRK-01,2026-01-12,84,,\n"
        "Playgrounds in good repair,2026-01-12,85,,\n"  # same period again: a correction
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, dry_run=True
        )
    assert (counts.added, counts.updated, counts.unchanged, rejections) == (2, 1, 0, [])
    assert stored(database) == (0, 0, 0)
    with database.session(write=True) as session:
        real, _ = import_observations(session, world.head_parks, frame_of(text), today=TODAY)
    assert (real.added, real.updated, real.unchanged) == (2, 1, 0)
    assert stored(database) == (3, 1, 3)
    final = "\n".join(line for line in text.splitlines() if "84" not in line) + "\n"
    with database.session(write=True) as session:
        again, _ = import_observations(
            session, world.head_parks, frame_of(final), today=TODAY, dry_run=True
        )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_iom002_all_or_nothing_refuses_the_whole_file(database: Database, world: World) -> None:
    text = (
        "indicator,period,value,status,note\n"
        "PRK-01,2026-01-05,81,,\n"
        "PRK-01,2026-01-12,140,,\n"  # a percentage over 100
        "PRK-01,2030-01-01,80,,\n"  # in the future
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, all_or_nothing=True
        )
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 0)
    assert [(r.row, r.field) for r in rejections] == [(2, "value"), (3, "period")]
    assert rejections[0].reason == "A percentage must lie between 0 and 100, not 140."
    assert stored(database) == (0, 0, 0)
    # The CLI's default keeps what was valid (row 1) and reports the rest.
    with database.session(write=True) as session:
        partial, refused = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY
        )
    assert (partial.added, len(refused)) == (1, 2)
    assert stored(database) == (1, 0, 1)


def test_iom003_all_or_nothing_records_every_row_with_its_audit(
    database: Database, world: World
) -> None:
    text = "indicator,period,value,status,note\nPRK-01,2026-01-05,81,off track,fence down\n"
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, all_or_nothing=True
        )
    assert (counts.added, rejections) == (1, [])
    with database.session() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "observation")).one()
        observation = session.scalars(select(Observation)).one()
        status = session.scalars(select(IndicatorStatusUpdate)).one()
    assert audit.username == "head-prk" and audit.user_id == world.head_parks.user_id
    assert audit.entity_id == str(observation.id)
    assert audit.after == {
        "indicator_id": world.parks_indicator_id,
        "period": "2026-01-05",
        "value": 81.0,
        "status": "off_track",
        "note": "fence down",
    }
    assert (observation.value, observation.entered_by_id) == (81.0, world.head_parks.user_id)
    assert (status.status, status.note, status.author_id) == (
        "off_track",
        "fence down",
        world.head_parks.user_id,
    )


def test_iom004_head_never_writes_another_department(database: Database, world: World) -> None:
    with database.session(write=True) as session:
        import_observations(
            session,
            Principal.system("ingest"),
            frame_of("indicator,period,value\nPW-01,2026-01-05,90\n"),
            today=TODAY,
        )
    before = stored(database)
    # Even a row equal to what is stored is refused: it is not hers to send.
    text = (
        "indicator,period,value\nPW-01,2026-01-05,90\nPW-01,2026-01-12,91\nPRK-01,2026-01-12,80\n"
    )
    for all_or_nothing in (True, False):
        with database.session(write=True) as session:
            _counts, rejections = import_observations(
                session,
                world.head_parks,
                frame_of(text),
                today=TODAY,
                all_or_nothing=all_or_nothing,
                dry_run=not all_or_nothing,
            )
        assert [r.row for r in rejections] == [1, 2]
        assert all(
            r.reason == "You may change only your own department's indicators." for r in rejections
        )
    assert stored(database) == before
    # A department head's scope holds whatever department the caller asks for.
    with database.session(write=True) as session:
        _counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, department_id=world.works_id
        )
    assert len(rejections) == 3 and stored(database) == before


def test_iom005_department_scope_names_the_owner(database: Database, world: World) -> None:
    text = "indicator,period,value\nPW-01,2026-01-05,90\nPRK-01,2026-01-05,80\nNOPE,2026-01-05,1\n"
    with database.session() as session:
        planned, rejections = plan_observations(
            session, world.chief, frame_of(text), today=TODAY, department_id=world.parks_id
        )
    assert [(p.row, p.indicator_code, p.action) for p in planned] == [(2, "PRK-01", "added")]
    assert [(r.row, r.reason) for r in rejections] == [
        (
            1,
            "PW-01 belongs to Public Works, not to the department of this upload "
            "(Parks & Recreation)",
        ),
        (3, "no indicator has this code or name"),
    ]


def test_iom006_plan_is_in_period_order_and_reimport_changes_nothing(
    database: Database, world: World
) -> None:
    # Newest first, a different note on every row: the second import must still change nothing.
    rows = [f"PRK-01,2026-01-{day:02d},{70 + day},at risk,week of the {day}" for day in (19, 12, 5)]
    text = "indicator,period,value,status,note\n" + "\n".join(rows) + "\n"
    with database.session(write=True) as session:
        planned, _ = plan_observations(session, world.head_parks, frame_of(text), today=TODAY)
        assert [p.row for p in planned] == [3, 2, 1]
        assert all(isinstance(p, PlannedObservation) and p.previous is None for p in planned)
        counts, _ = import_observations(session, world.head_parks, frame_of(text), today=TODAY)
        assert counts.added == 3
    with database.session() as session:
        latest = session.scalars(
            select(IndicatorStatusUpdate).order_by(IndicatorStatusUpdate.id.desc())
        ).first()
        assert latest is not None and latest.note == "week of the 19"  # the newest period's
    with database.session(write=True) as session:
        again, _ = import_observations(session, world.head_parks, frame_of(text), today=TODAY)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    # A new status for the newest period is a change; an old note for an old period is not.
    text = (
        "indicator,period,value,status,note\n"
        "PRK-01,2026-01-19,89,on track,fixed\n"
        "PRK-01,2026-01-05,75,at risk,week of the 5\n"
        "PRK-01,2026-01-12,83,,\n"
    )
    with database.session() as session:
        planned, _ = plan_observations(session, world.head_parks, frame_of(text), today=TODAY)
    by_row = {p.row: p for p in planned}
    assert (by_row[1].action, by_row[1].previous) == ("updated", 89.0)
    assert by_row[2].action == "unchanged"
    assert (by_row[3].action, by_row[3].previous) == ("updated", 82.0)
    assert count_planned(planned).updated == 2


def test_iom007_xlsx_upload_plans_like_csv(database: Database, world: World) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["indicator", "period", "value", "status", "note"])
    sheet.append(["PRK-01", dt.datetime(2026, 1, 5), 81.5, "At risk", "slide closed"])
    sheet.append(["PRK-01", dt.date(2026, 1, 12), "lots", None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    frame, _ = read_indicator_file(buffer.getvalue(), filename="upload.xlsx")
    with database.session() as session:
        planned, rejections = plan_observations(
            session, world.head_parks, frame, today=TODAY, department_id=world.parks_id
        )
    assert [(p.period, p.value, p.status, p.note) for p in planned] == [
        (dt.date(2026, 1, 5), 81.5, "at_risk", "slide closed")
    ]
    assert [(r.row, r.reason) for r in rejections] == [(2, "Value 'lots' is not a number.")]


def test_iom008_a_role_without_the_capability_is_refused_every_row(
    database: Database, world: World
) -> None:
    mayor = Principal(None, "mayor", Role.MAYOR, None)
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, mayor, frame_of("indicator,period,value\nPRK-01,2026-01-05,80\n"), today=TODAY
        )
    assert counts.added == 0 and len(rejections) == 1
    assert stored(database) == (0, 0, 0)


def test_iom009_cityscore_dry_run_on_the_real_file(database: Database, world: World) -> None:
    with database.session(write=True) as session:
        session.add(
            Indicator(
                code="BFD-RT",
                name="BFD Response Time",
                unit="share",
                direction="up",
                cadence="weekly",
                department_id=world.works_id,
            )
        )
    path = CITYSCORE
    frame, unnamed = read_indicator_file(path)
    assert len(frame) + len(unnamed) == 451
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session,
            Principal.system("ingest"),
            frame,
            today=dt.date(2026, 1, 1),
            department_id=world.works_id,
            dry_run=True,
        )
    assert counts.added == 21 and len(rejections) == 451 - 21
    assert stored(database) == (0, 0, 0)
    summary = ingest_indicator_file(database, path, today=dt.date(2026, 1, 1))
    assert summary.added == 21  # the CLI records what the dry run predicted
