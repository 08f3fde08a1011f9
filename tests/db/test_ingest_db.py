"""Ingest writes on SQLite and PostgreSQL: idempotency, the updated_at guard, aggregates that
always equal a GROUP BY over the raw reports, cursors saved with their rows, failure alerts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from db.ingest import (
    UNLOCATED_DISTRICT_CODE,
    CategoryCache,
    category_code,
    load_districts,
    record_source_failure,
    record_source_success,
    report_counts_consistent,
    source_freshness,
    unmapped_categories,
    upsert_reports,
    weekly_report_counts,
)
from db.models import (
    Alert,
    AuditLog,
    CategoryProblem,
    CitizenReport,
    DataSource,
    District,
    Indicator,
    Observation,
    ReportCategory,
    ReportDailyCount,
)
from db.session import Database
from tests.db.factories import make_world
from triage.ingest.errors import IngestError
from triage.ingest.portal_csv import load_layout
from triage.ingest.records import empty_reports
from triage.jobs.ingest import ingest_indicator_file, ingest_portal_export
from triage.settings import REPO_ROOT

CITY_TZ = "America/New_York"
DATA = REPO_ROOT / "tests" / "data"
HEADER = (
    "Unique Key,Created Date,Closed Date,Complaint Type,Resolution Action Updated Date,"
    "Community Board,Latitude,Longitude\n"
)


def add_districts(database: Database) -> dict[str, int]:
    collection = json.loads((REPO_ROOT / "packs" / "riverton" / "districts.geojson").read_text())
    with database.session(write=True) as session:
        rows = [
            District(
                code=f["properties"]["code"],
                name=f["properties"]["name"],
                population=100,
                geometry=f["geometry"],
            )
            for f in collection["features"]
        ]
        session.add_all(rows)
        session.flush()
        return {r.code: r.id for r in rows}


def assert_consistent(database: Database) -> None:
    with database.session() as session:
        diff = report_counts_consistent(session, CITY_TZ)
    assert diff.empty, diff.head(10).to_string()


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        reports = session.scalar(select(func.count()).select_from(CitizenReport))
        total = session.scalar(select(func.coalesce(func.sum(ReportDailyCount.count), 0)))
    return int(reports or 0), int(total or 0)


def test_ing001_same_file_twice_changes_nothing(database: Database) -> None:
    add_districts(database)
    path = DATA / "nyc_311_portal_export_1000.csv"
    first = ingest_portal_export(
        database, path, load_layout("nyc"), city_tz=CITY_TZ, chunk_rows=300
    )
    assert (first.read, first.added, first.updated, first.unchanged, first.rejected) == (
        1000,
        1000,
        0,
        0,
        0,
    )
    assert len(first.new_categories) == 101
    with database.session() as session:
        snapshot = session.execute(
            select(
                CitizenReport.service_request_id,
                CitizenReport.updated_at,
                CitizenReport.category_id,
                CitizenReport.district_id,
            ).order_by(CitizenReport.service_request_id)
        ).all()
        cells = session.execute(select(ReportDailyCount).order_by(ReportDailyCount.day)).all()
    second = ingest_portal_export(database, path, load_layout("nyc"), city_tz=CITY_TZ)
    assert (second.added, second.updated, second.unchanged, second.rejected) == (0, 0, 1000, 0)
    assert second.new_categories == []
    with database.session() as session:
        again = session.execute(
            select(
                CitizenReport.service_request_id,
                CitizenReport.updated_at,
                CitizenReport.category_id,
                CitizenReport.district_id,
            ).order_by(CitizenReport.service_request_id)
        ).all()
        assert len(session.execute(select(ReportDailyCount)).all()) == len(cells)
        source = session.scalars(select(DataSource).where(DataSource.name == "nyc-311")).one()
        assert source.kind == "csv"
        assert source.cursor == second.cursor and source.cursor.endswith(":1000:done")
        assert source.last_success_at is not None and source.last_error == ""
        audits = session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "ingest")
        )
        assert audits == 4 + 1  # one per committed batch: 4 chunks, then 1
    assert again == snapshot
    assert counts(database) == (1000, 1000)
    assert_consistent(database)


def test_ing002_older_update_never_overwrites_newer(database: Database, tmp_path: Path) -> None:
    ids = add_districts(database)
    layout = load_layout("nyc")
    newer = write_csv(
        tmp_path / "newer.csv",
        ["1,03/01/2024 10:00:00 AM,,Noise,03/05/2024 10:00:00 AM,,40.7075,-74.0113"],
    )
    older = write_csv(
        tmp_path / "older.csv",
        ["1,03/01/2024 10:00:00 AM,,Rodents,03/02/2024 10:00:00 AM,,,"],
    )
    newest = write_csv(
        tmp_path / "newest.csv",
        ["1,03/02/2024 11:30:00 PM,03/09/2024 01:00:00 PM,Rodents,03/09/2024 01:00:00 PM,D05,,"],
    )
    assert ingest_portal_export(database, newer, layout, city_tz=CITY_TZ).added == 1
    stale = ingest_portal_export(database, older, layout, city_tz=CITY_TZ)
    assert (stale.added, stale.updated, stale.unchanged) == (0, 0, 1)
    with database.session() as session:
        report = session.scalars(select(CitizenReport)).one()
        assert report.raw_category == "Noise"
        assert report.updated_at == dt.datetime(2024, 3, 5, 15, 0)
        assert report.district_id == ids["D01"]  # the point lies in Harbor Point
        assert report.lat == pytest.approx(40.7075)
    assert_consistent(database)
    fresh = ingest_portal_export(database, newest, layout, city_tz=CITY_TZ)
    assert (fresh.added, fresh.updated, fresh.unchanged) == (0, 1, 0)
    with database.session() as session:
        report = session.scalars(select(CitizenReport)).one()
        assert report.raw_category == "Rodents" and report.district_id == ids["D05"]
        assert report.closed_at == dt.datetime(2024, 3, 9, 18, 0)
        cells = session.execute(
            select(ReportDailyCount.day, ReportDailyCount.district_id, ReportDailyCount.count)
        ).all()
    # 11:30 PM on 2 March in New York is the 3rd in UTC, but the day is the city's: the 2nd.
    assert cells == [(dt.date(2024, 3, 2), ids["D05"], 1)]
    assert_consistent(database)


def _random_batch(rng: np.random.Generator, n: int, id_pool: int) -> pd.DataFrame:
    base = np.datetime64("2024-03-09T00:00:00")  # spans the March DST change in New York
    requested = base + rng.integers(0, 3 * 86400, n).astype("timedelta64[s]")
    updated = requested + rng.integers(0, 10 * 86400, n).astype("timedelta64[s]")
    frame = empty_reports()
    lat = np.where(rng.random(n) < 0.5, rng.uniform(40.70, 40.88, n), np.nan)
    return pd.concat(
        [
            frame,
            pd.DataFrame(
                {
                    "row": np.arange(1, n + 1),
                    "service_request_id": rng.integers(0, id_pool, n).astype(str).astype(object),
                    "raw_category": rng.choice(["Noise", "Rodents", "Graffiti", ""], n).astype(
                        object
                    ),
                    "description": "",
                    "status": "open",
                    "requested_at": requested.astype("datetime64[us]"),
                    "updated_at": updated.astype("datetime64[us]"),
                    "closed_at": pd.Series([pd.NaT] * n, dtype="datetime64[us]"),
                    "lat": lat,
                    "lon": np.where(np.isnan(lat), np.nan, rng.uniform(-74.01, -73.93, n)),
                    "address": "",
                    "district": rng.choice(["", "", "D02", "Harbor Point", "nowhere"], n).astype(
                        object
                    ),
                }
            ),
        ],
        ignore_index=True,
    )


def test_ing003_aggregates_equal_group_by_after_mixed_batches(database: Database) -> None:
    add_districts(database)
    rng = np.random.default_rng(11)
    categories = CategoryCache()
    total = {"added": 0, "updated": 0, "unchanged": 0}
    with database.session(write=True) as session:
        districts = load_districts(session)
    for _ in range(8):
        batch = _random_batch(rng, 120, 150)  # repeats within and across batches
        with database.session(write=True) as session:
            result = upsert_reports(
                session,
                "mixed",
                batch,
                categories=categories,
                districts=districts,
                city_tz=CITY_TZ,
            )
        for key in total:
            total[key] += getattr(result, key)
        assert result.added + result.updated + result.unchanged == len(batch)
        assert_consistent(database)
    reports, aggregated = counts(database)
    assert reports == total["added"] and aggregated == reports
    assert total["updated"] > 0 and total["unchanged"] > 0
    with database.session() as session:
        unmapped = unmapped_categories(session)
        assert set(unmapped["code"]) == {"noise", "rodents", "graffiti", "uncategorised"}
        assert int(unmapped["reports"].sum()) == reports
        noise = session.scalar(select(ReportCategory.id).where(ReportCategory.code == "noise"))
        world = make_world(session)
        session.add(CategoryProblem(category_id=noise, problem_id=world.problem_id))
        session.flush()
        assert "noise" not in set(unmapped_categories(session)["code"])
        weekly = weekly_report_counts(session, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        assert int(weekly["count"].sum()) == reports
        assert set(weekly["week_start"]) <= {dt.date(2024, 3, 4), dt.date(2024, 3, 11)}
        unlocated = session.scalar(
            select(District.id).where(District.code == UNLOCATED_DISTRICT_CODE)
        )
        assert session.scalar(
            select(func.count())
            .select_from(CitizenReport)
            .where(CitizenReport.district_id == unlocated)
        )


def test_ing004_crash_mid_file_keeps_cursor_and_resumes(database: Database, tmp_path: Path) -> None:
    rows = [
        f"{i},03/0{1 + i % 9}/2024 0{1 + i % 9}:15:00 AM,,Type {i % 7},,,," for i in range(1, 1001)
    ]
    path = write_csv(tmp_path / "export.csv", rows)
    calls = {"n": 0}

    def crash_after_two_chunks(_stage: str, _fraction: float) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        ingest_portal_export(
            database,
            path,
            load_layout("nyc"),
            source="city-311",
            city_tz=CITY_TZ,
            chunk_rows=100,
            progress=crash_after_two_chunks,
        )
    with database.session() as session:
        source = session.scalars(select(DataSource)).one()
        assert source.cursor is not None and source.cursor.endswith(":200")
        assert "power cut" in source.last_error and source.last_success_at is None
        alert = session.scalars(select(Alert)).one()
        assert alert.dedupe_key == "source-failed:city-311" and alert.state == "new"
    assert counts(database) == (200, 200)
    resumed = ingest_portal_export(
        database, path, load_layout("nyc"), source="city-311", city_tz=CITY_TZ, chunk_rows=300
    )
    assert (resumed.skipped, resumed.added, resumed.unchanged, resumed.read) == (200, 800, 0, 1000)
    assert counts(database) == (1000, 1000)
    assert_consistent(database)
    with database.session() as session:
        assert session.scalars(select(Alert)).one().state == "resolved"
        fresh = source_freshness(session)
        assert fresh.loc[0, "name"] == "city-311" and not fresh.loc[0, "failing"]
        assert not fresh.loc[0, "stale"]


def test_ing005_source_failure_alert_and_staleness(database: Database, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,311,export\n1,2,3,4\n")
    with pytest.raises(IngestError, match="does not look like a nyc export"):
        ingest_portal_export(database, bad, load_layout("nyc"), source="feed")
    now = dt.datetime(2026, 1, 10, 12, 0)
    with database.session(write=True) as session:
        record_source_failure(session, "feed", "csv", "still broken", now=now)
        alerts = session.scalars(select(Alert)).all()
        assert len(alerts) == 1 and "still broken" in alerts[0].message
        fresh = source_freshness(session, now=now)
        assert bool(fresh.loc[0, "failing"]) and bool(fresh.loc[0, "stale"])
        source_id = session.scalar(select(DataSource.id).where(DataSource.name == "feed"))
        record_source_success(session, source_id, now=now)
        later = source_freshness(session, now=now + dt.timedelta(hours=30))
        assert not bool(later.loc[0, "failing"]) and bool(later.loc[0, "stale"])
        assert later.loc[0, "age_hours"] == pytest.approx(30)
        assert alerts[0].state == "resolved"


def test_ing006_category_codes_are_stable_and_bounded() -> None:
    assert category_code("Noise - Street/Sidewalk") == "noise-street-sidewalk"
    assert category_code("  ") == "uncategorised"
    assert category_code("Café Crème") == "cafe-creme"
    long = category_code("x" * 300)
    assert len(long) <= 64 and long == category_code("x" * 300)
    assert category_code("噪音") != category_code("垃圾") and len(category_code("噪音")) <= 64


def test_ing007_indicator_file_through_the_form_rules(database: Database, tmp_path: Path) -> None:
    with database.session(write=True) as session:
        world = make_world(session)
    today = dt.date(2026, 1, 20)
    path = tmp_path / "pw.csv"
    path.write_text(
        "indicator,period,value,status,note\n"
        "PW-01,2026-01-05,93.5,on track,fine\n"
        "pw-01,2026-01-12 00:00:00,94,,\n"
        "Potholes filled within 48 hours,2026-01-12,94,,\n"
        "PW-01,2026-01-19,120,,\n"
        "PW-01,2026-02-01,90,,\n"
        "PW-99,2026-01-05,1,,\n"
        "PRK-01,2026-01-05,1.5.2,,\n"
    )
    first = ingest_indicator_file(database, path, today=today)
    assert (first.read, first.added, first.updated, first.unchanged, first.rejected) == (
        7,
        2,
        0,
        1,
        4,
    )
    assert set(first.reasons) == {
        "A percentage must lie between 0 and 100, not 120.",
        "Period 2026-02-01 is in the future.",
        "no indicator has this code or name",
        "Value '1.5.2' is not a number.",
    }
    second = ingest_indicator_file(database, path, today=today)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 3)
    path.write_text("indicator,period,value\nPW-01,2026-01-12,95\n")
    third = ingest_indicator_file(database, path, today=today, source="indicators:pw")
    assert (third.added, third.updated) == (0, 1)
    with database.session() as session:
        values = session.execute(
            select(Observation.period, Observation.value).order_by(Observation.id)
        ).all()
        assert values == [
            (dt.date(2026, 1, 5), 93.5),
            (dt.date(2026, 1, 12), 94.0),
            (dt.date(2026, 1, 12), 95.0),
        ]
        assert (
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity == "observation")
            )
            == 3
        )
    head = world.head_parks  # may write Parks indicators only
    path.write_text("indicator,period,value\nPW-01,2026-01-12,96\nPRK-01,2026-01-12,80\n")
    scoped = ingest_indicator_file(database, path, today=today, actor=head)
    assert (scoped.added, scoped.rejected) == (1, 1)
    assert "own department" in scoped.samples[0].reason


def test_ing008_cityscore_rows_for_known_indicators(database: Database) -> None:
    with database.session(write=True) as session:
        world = make_world(session)
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
    path = DATA / "boston_cityscore_21_load_dates.csv"
    summary = ingest_indicator_file(database, path, today=dt.date(2026, 1, 1))
    assert summary.read == 451
    assert summary.added == 21  # one per load date: this metric always has a day value
    assert summary.rejected == 451 - 21
    assert summary.reasons["no indicator has this code or name"] == 451 - 21
    again = ingest_indicator_file(database, path, today=dt.date(2026, 1, 1))
    assert again.added == 0 and again.updated == 0


def test_ing009_run_source_rereads_a_registered_file(database: Database, tmp_path: Path) -> None:
    from triage.jobs.ingest import run_source

    path = write_csv(tmp_path / "feed.csv", ["7,03/01/2024 10:00:00 AM,,Noise,,,,"])
    ingest_portal_export(database, path, load_layout("nyc"), source="feed", city_tz=CITY_TZ)
    again = run_source(database, "feed", city_tz=CITY_TZ, today=dt.date(2026, 1, 1))
    assert (again.kind, again.read, again.unchanged) == ("csv", 1, 1)
    with pytest.raises(IngestError, match="no data source called"):
        run_source(database, "nope", city_tz=CITY_TZ, today=dt.date(2026, 1, 1))


def test_ing010_cli_commands_print_counts_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from db import migrate
    from triage.cli import main
    from triage.cli.ingest import register

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    bench = commands.add_parser("bench").add_subparsers(dest="bench_command")
    register(commands, bench)  # what triage.cli's parser calls
    args = parser.parse_args(["ingest", "csv", "f.csv", "--layout", "sf", "--chunk-rows", "5"])
    assert (args.layout, args.chunk_rows, args.func.__name__) == ("sf", 5, "cmd_ingest_csv")
    assert parser.parse_args(["bench", "ingest", "--json"]).json is True

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    migrate.upgrade(url)
    monkeypatch.chdir(tmp_path)
    good = write_csv(tmp_path / "good.csv", ["1,03/01/2024 10:00:00 AM,,Noise,,,,"])
    assert main(["--db", url, "ingest", "csv", str(good), "--layout", "nyc", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert (
        "added               1" in out and "new categories to map to problems: Noise" in out
    )  # as the export names it
    bad = write_csv(tmp_path / "bad.csv", ["2,someday,,Noise,,,,"])
    assert main(["--db", url, "ingest", "csv", str(bad), "--layout", "nyc", "--json"]) == 1
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["rejected"] == 1 and figures["rejects_file"].endswith("nyc-311.rejects.csv")
    assert (tmp_path / "nyc-311.rejects.csv").read_text().count("someday") == 1
    assert main(["--db", url, "ingest", "csv", "missing.csv", "--layout", "nyc"]) == 2
    assert main(["--db", url, "ingest", "csv", str(good), "--layout", "oslo"]) == 2
    indicators = tmp_path / "ind.csv"
    indicators.write_text("indicator,period,value\nNOPE,2024-01-01,1\n")
    assert main(["--db", url, "ingest", "indicators", str(indicators)]) == 1
    assert "no indicator has this code or name" in capsys.readouterr().out
