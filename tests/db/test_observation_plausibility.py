"""The plausibility question on SQLite and PostgreSQL: the form's save (``record_form_value``)
asks before storing a value that looks wrong or that replaces a recorded one, and an upload
(``import_observations``) rejects, with the same sentence, the rows the form would ask about."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select

from db.indicators import ImplausibleValue, record_form_value
from db.ingest import import_observations
from db.models import Indicator, Observation
from db.session import Database
from tests.db.factories import World, make_world
from triage.ingest.indicators import read_indicator_file
from triage.validation import ValidationError

TODAY = dt.date(2026, 1, 20)
BILLION_DAYS = (
    "1,000,000,000 days is more than 10 times the largest of its target and thresholds "
    "(10 days), and there are not enough past values yet to compare it with."
)
FILE_CANNOT_CONFIRM = (
    " A file cannot confirm a value that looks wrong: correct it, or enter it on the form, "
    "which asks you to confirm it"
)


@pytest.fixture
def world(database: Database) -> World:
    with database.session(write=True) as session:
        return make_world(session)


@pytest.fixture
def days_id(database: Database, world: World) -> int:
    """Like HPD-HEAT-DAYS: days, lower is better, target 5, warning 7, critical 10."""
    with database.session(write=True) as session:
        indicator = Indicator(
            code="PRK-DAYS",
            name="Days to fix a broken swing",
            unit="days",
            direction="down",
            cadence="monthly",
            department_id=world.parks_id,
            target=5,
            warning_threshold=7,
            critical_threshold=10,
        )
        session.add(indicator)
        session.flush()
        return indicator.id


def frame_of(text: str) -> pd.DataFrame:
    frame, rejections = read_indicator_file(text.encode(), filename="upload.csv")
    assert rejections == []
    return frame


def values(database: Database, indicator_id: int) -> list[tuple[dt.date, float]]:
    with database.session() as session:
        rows = session.execute(
            select(Observation.period, Observation.value)
            .where(Observation.indicator_id == indicator_id)
            .order_by(Observation.id)
        ).all()
    return [(period, value) for period, value in rows]


def save(
    database: Database, world: World, indicator_id: int, period: str, value: str, confirmed: bool
) -> None:
    with database.session(write=True) as session:
        record_form_value(
            session,
            world.head_parks,
            indicator_id,
            period,
            value,
            status=None,
            note="",
            today=TODAY,
            confirmed=confirmed,
        )


def test_opl001_form_refuses_negative_days_and_asks_about_a_billion(
    database: Database, world: World, days_id: int
) -> None:
    with pytest.raises(ValidationError, match="A value in days cannot be negative; -3 is not"):
        save(database, world, days_id, "2025-11-01", "-3", confirmed=True)
    with pytest.raises(ImplausibleValue) as asked:
        save(database, world, days_id, "2025-11-01", "1e9", confirmed=False)
    assert (asked.value.doubt, asked.value.replaces) == (BILLION_DAYS, None)
    assert values(database, days_id) == []
    save(database, world, days_id, "2025-11-01", "1e9", confirmed=True)
    assert values(database, days_id) == [(dt.date(2025, 11, 1), 1e9)]
    # The same period again: the form asks first, naming the value it would replace.
    with pytest.raises(ImplausibleValue) as asked:
        save(database, world, days_id, "2025-11-01", "6.5", confirmed=False)
    assert asked.value.doubt is None
    assert str(asked.value.replaces).startswith(
        "This replaces 1,000,000,000 days recorded for 2025-11-01 by Pat Parks on "
    )
    assert len(values(database, days_id)) == 1
    save(database, world, days_id, "2025-11-01", "6.5", confirmed=True)
    assert [v for _p, v in values(database, days_id)] == [1e9, 6.5]  # both kept


def test_opl002_upload_rejects_what_the_form_would_ask_and_keeps_the_rest(
    database: Database, world: World, days_id: int
) -> None:
    text = (
        "indicator,period,value,status,note\n"
        "PRK-DAYS,2025-10-01,6.5,,\n"  # row 1: fine
        "PRK-DAYS,2025-11-01,1000000000,,\n"  # row 2: asked on the form, rejected here
        "PRK-DAYS,2025-12-01,-3,,\n"  # row 3: impossible
        "PRK-01,2025-12-01,0.82,,\n"  # row 4: a fraction typed for 82%
        "PRK-01,2025-11-01,82,,\n"  # row 5: fine
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session,
            world.head_parks,
            frame_of(text),
            today=TODAY,
            all_or_nothing=True,
            plausibility=True,
        )
    assert (counts.added, [(r.row, r.field) for r in rejections]) == (
        0,
        [(2, "value"), (3, "value"), (4, "value")],
    )
    assert values(database, days_id) == []
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, plausibility=True
        )
    assert (counts.added, counts.updated) == (2, 0)
    assert [r.reason for r in rejections] == [
        BILLION_DAYS + FILE_CANNOT_CONFIRM,
        "A value in days cannot be negative; -3 is not possible.",
        "0.82% is less than 1/10 of the smallest of its target and thresholds (70%), and "
        "there are not enough past values yet to compare it with." + FILE_CANNOT_CONFIRM,
    ]
    assert [r.value for r in rejections] == ["1e+09", "-3", "0.82"]
    assert values(database, days_id) == [(dt.date(2025, 10, 1), 6.5)]
    assert values(database, world.parks_indicator_id) == [(dt.date(2025, 11, 1), 82.0)]


def test_opl003_earlier_rows_of_a_file_are_history_for_later_ones(
    database: Database, world: World, days_id: int
) -> None:
    text = (
        "indicator,period,value,status,note\n"
        "PRK-DAYS,2025-09-01,6,,\n"
        "PRK-DAYS,2025-10-01,7,,\n"
        "PRK-DAYS,2025-08-01,6.5,,\n"
        "PRK-DAYS,2025-11-01,60,,\n"  # within 10 x 10 days, but 9 times the file's median
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY, plausibility=True
        )
    assert counts.added == 3
    assert [(r.row, r.reason) for r in rejections] == [
        (
            4,
            "60 is more than 5 times the usual value (median 6.5 over the last 3 periods)."
            + FILE_CANNOT_CONFIRM,
        )
    ]


def test_opl004_a_confirmed_outlier_imported_again_is_unchanged_not_rejected(
    database: Database, world: World, days_id: int
) -> None:
    save(database, world, days_id, "2025-11-01", "1e9", confirmed=True)
    text = "indicator,period,value,status,note\nPRK-DAYS,2025-11-01,1000000000,,\n"
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session,
            world.head_parks,
            frame_of(text),
            today=TODAY,
            all_or_nothing=True,
            plausibility=True,
        )
    assert (counts.added, counts.updated, counts.unchanged, rejections) == (0, 0, 1, [])
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 1


def test_opl005_a_registered_sources_import_records_surprises_but_not_impossibilities(
    database: Database, world: World, days_id: int
) -> None:
    """The scheduled and command-line imports (no ``plausibility``): a surge is recorded, for
    the detectors to see; a negative number of days is still refused."""
    text = (
        "indicator,period,value,status,note\n"
        "PRK-DAYS,2025-10-01,1000000000,,\n"
        "PRK-DAYS,2025-11-01,-3,,\n"
    )
    with database.session(write=True) as session:
        counts, rejections = import_observations(
            session, world.head_parks, frame_of(text), today=TODAY
        )
    assert counts.added == 1
    assert [(r.row, r.reason) for r in rejections] == [
        (2, "A value in days cannot be negative; -3 is not possible.")
    ]
    assert values(database, days_id) == [(dt.date(2025, 10, 1), 1e9)]
