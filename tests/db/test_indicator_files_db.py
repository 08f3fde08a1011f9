"""``triage ingest indicators`` on a real database: the city's catalogue and fiscal year reach the
reader, fractions of a % indicator are converted with a warning, unknown names get the closest
known ones, and Boston's real CityScore export goes in."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate
from db.catalog import CITY_SETTING
from db.indicators import indicator_catalogue
from db.models import AppSetting, Indicator, Observation
from db.session import Database
from tests.db.factories import make_world
from triage.cli import main
from triage.jobs.ingest import ingest_indicator_file
from triage.settings import REPO_ROOT

CITYSCORE = REPO_ROOT / "tests" / "data" / "boston_cityscore_2016_sample.csv"
TODAY = "2026-11-18"


def test_indcat001_catalogue_gives_units_and_the_scale_of_history(database: Database) -> None:
    with database.session(write=True) as session:
        make_world(session)
    path_today = dt.date(2026, 1, 20)
    ingest_indicator_file(
        database,
        b"indicator,period,value\nPW-01,2026-01-05,93.5\nPW-01,2026-01-12,88\n",
        filename="h.csv",
        today=path_today,
    )
    with database.session() as session:
        frame = indicator_catalogue(session)
    assert list(frame.columns) == ["code", "name", "unit", "history_min", "history_max"]
    columns = ["code", "unit", "history_min", "history_max"]
    rows = {code: tuple(rest) for code, *rest in frame[columns].itertuples(index=False)}
    assert rows["PW-01"] == ("%", 88.0, 93.5)
    assert rows["PRK-01"][0] == "%" and math.isnan(rows["PRK-01"][1])
    assert math.isnan(rows["PRK-01"][2])


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Database]]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    migrate.upgrade(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRIAGE_TODAY", TODAY)
    monkeypatch.delenv("TRIAGE_FISCAL_YEAR_START", raising=False)
    database = Database(url)
    with database.session(write=True) as session:
        make_world(session)
    ingest_indicator_file(
        database,
        b"indicator,period,value\nPW-01,2016-01-04,78\n",
        filename="h.csv",
        today=dt.date.fromisoformat(TODAY),
    )
    yield url, database
    database.dispose()


def values(database: Database, code: str) -> list[tuple[dt.date, float]]:
    with database.session() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Observation.period, Observation.value)
                .join(Indicator, Indicator.id == Observation.indicator_id)
                .where(Indicator.code == code)
                .order_by(Observation.period)
            )
        ]


def test_indcat002_cli_semicolon_crlf_fiscal_fractions_and_suggestions(
    cli_db: tuple[str, Database],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, database = cli_db
    path = tmp_path / "city.csv"
    path.write_bytes(
        b"\xef\xbb\xbfindicator;FY2016-17;FY2017-18\r\n"
        b"PW-01;0.81;0.9\r\n"
        b"Playgrounds in good repar;70;72\r\n"
    )
    monkeypatch.setenv("TRIAGE_FISCAL_YEAR_START", "10")
    assert main(["--db", url, "ingest", "indicators", str(path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "added               2" in out and "rejected            2" in out
    assert "(closest: Playgrounds in good repair (PRK-01))" in out
    assert "warning: PW-01: 2 values between 0 and 1 were read as fractions" in out
    assert values(database, "PW-01") == [
        (dt.date(2016, 1, 4), 78.0),
        (dt.date(2016, 10, 1), 81.0),
        (dt.date(2017, 10, 1), 90.0),
    ]
    # A city pack's fiscal year start wins over the setting.
    with database.session(write=True) as session:
        session.add(AppSetting(key=CITY_SETTING, value={"name": "X", "fiscal_year_start": 7}))
    path.write_bytes(b"indicator\tperiod\tvalue\r\nPW-01\tFY2019 Q2\t0.5\r\n")
    assert main(["--db", url, "ingest", "indicators", str(path), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["added"] == 1 and figures["notes"][0].startswith("PW-01: 1 values")
    assert values(database, "PW-01")[-1] == (dt.date(2018, 10, 1), 50.0)


def test_indcat003_real_cityscore_export_through_the_cli(
    cli_db: tuple[str, Database], capsys: pytest.CaptureFixture[str]
) -> None:
    url, database = cli_db
    with database.session(write=True) as session:
        works = session.scalar(select(Indicator.department_id).where(Indicator.code == "PW-01"))
        session.add(
            Indicator(
                code="BOS-POTHOLE",
                name="POTHOLE ON-TIME %",
                unit="%",
                direction="up",
                cadence="weekly",
                department_id=works,
            )
        )
    ingest_indicator_file(
        database,
        b"indicator,period,value\nBOS-POTHOLE,2015-12-28,74\n",
        filename="h.csv",
        today=dt.date.fromisoformat(TODAY),
    )
    assert main(["--db", url, "ingest", "indicators", str(CITYSCORE), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "420 records read" in out
    assert "added              17" in out  # 20 load dates, 3 with no day value
    assert "rejected          403" in out
    assert "warning: BOS-POTHOLE: 17 values between 0 and 1 were read as fractions" in out
    assert "(closest: POTHOLE ON-TIME % (BOS-POTHOLE))" in out  # e.g. STREETLIGHT ON-TIME %
    stored = values(database, "BOS-POTHOLE")
    assert len(stored) == 18 and all(0 <= v <= 100 for _p, v in stored)
    assert stored[1] == (dt.date(2016, 1, 15), 85.71429)  # 0.8571429 in the file
