"""Portal exports: date formats detected from the data, layout files (documented examples,
errors that list the valid keys) and ``--infer-layout`` on real exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from triage.ingest.errors import IngestError
from triage.ingest.portal_csv import (
    LAYOUT_KEYS,
    LAYOUTS,
    Layout,
    infer_layout,
    layout_from_toml,
    load_layout,
    read_portal_export,
)
from triage.ingest.records import DETECTION_SAMPLE, detect_datetime_format, read_datetimes
from triage.settings import REPO_ROOT

TESTS_DATA = REPO_ROOT / "tests" / "data"
EXAMPLES = REPO_ROOT / "docs" / "layouts"
NYC_EXPORT = TESTS_DATA / "nyc_311_portal_export_1000.csv"
BOSTON_EXPORT = TESTS_DATA / "boston_311_100.csv"
BOSTON_HEADER = "case_enquiry_id,open_dt,closed_dt,type,case_status,latitude,longitude\n"


def read(path: Path, layout: Layout, **kwargs: object) -> tuple[pd.DataFrame, list]:
    frames, rejections = [], []
    for chunk in read_portal_export(path, layout, **kwargs):
        frames.append(chunk.reports)
        rejections.extend(chunk.rejections)
    return pd.concat(frames, ignore_index=True), rejections


def boston_file(tmp_path: Path, opened: list[str], closed: list[str] | None = None) -> Path:
    closed = closed or [""] * len(opened)
    path = tmp_path / "export.csv"
    rows = [
        f"{i},{o},{c},Pothole,Open,,"
        for i, (o, c) in enumerate(zip(opened, closed, strict=True), 1)
    ]
    path.write_text(BOSTON_HEADER + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2016-01-22 16:51:00 UTC", "2016-01-22 16:51:00"),  # BigQuery: zone as a suffix
        ("06/16/2016 03:15:00 AM", "2016-06-16 07:15:00"),  # Socrata portals, Boston local
        ("06/16/2016 03:15:00 PM", "2016-06-16 19:15:00"),
        ("2016-07-13 15:11:07+00:00", "2016-07-13 15:11:07"),
        ("2012-11-20T07:50:59.000", "2012-11-20 12:50:59"),  # zoneless, EST in November
        ("2022-01-21 13:47:00", "2022-01-21 18:47:00"),
        ("2016-06-16T03:15:00Z", "2016-06-16 03:15:00"),
        ("06/16/2016 15:15", "2016-06-16 19:15:00"),
        ("2016/06/16 03:15:00", "2016-06-16 07:15:00"),
    ],
)
def test_csvfmt001_each_format_is_detected_from_the_data(
    tmp_path: Path, written: str, utc: str
) -> None:
    # The boston layout names no date format: every shape must be found from the values.
    frame, rejections = read(boston_file(tmp_path, [written, written]), LAYOUTS["boston"])
    assert rejections == []
    assert frame["requested_at"].tolist() == [pd.Timestamp(utc)] * 2


def test_csvfmt002_day_first_only_when_the_data_proves_it(tmp_path: Path) -> None:
    ambiguous, _ = read(
        boston_file(tmp_path, ["03/04/2024 10:00", "05/06/2024 10:00"]), LAYOUTS["boston"]
    )
    assert ambiguous["requested_at"].dt.month.tolist() == [3, 5]  # US order on a tie
    proven, rejected = read(
        boston_file(tmp_path, ["03/04/2024 10:00", "23/11/2024 14:30"]), LAYOUTS["boston"]
    )
    assert rejected == []
    assert proven["requested_at"].tolist() == [
        pd.Timestamp("2024-04-03 14:00"),
        pd.Timestamp("2024-11-23 19:30"),
    ]
    # Once a file's first chunk proves day-first, later chunks of ambiguous days keep it.
    path = boston_file(tmp_path, ["23/11/2024 14:30", "24/11/2024 14:30", "03/04/2024 10:00"])
    carried, _ = read(path, LAYOUTS["boston"], chunk_rows=2)
    assert carried["requested_at"].iloc[2] == pd.Timestamp("2024-04-03 14:00")  # not 4 March


def test_csvfmt003_unreadable_dates_are_rejected_with_the_true_reason(tmp_path: Path) -> None:
    path = boston_file(
        tmp_path,
        ["06/16/2016 03:15:00 AM", "not a date", "06/31/2016 03:15:00 AM", "1850-06-16", ""],
        ["", "", "", "", ""],
    )
    frame, rejections = read(path, LAYOUTS["boston"])
    assert len(frame) == 1
    by_row = {r.row: r for r in rejections}
    assert by_row[2].reason.startswith("the request date is not a date in the formats tried (")
    assert "MM/DD/YYYY hh:mm:ss AM" in by_row[2].reason and "ISO 8601" in by_row[2].reason
    assert by_row[2].value == "not a date"
    assert by_row[3].value == "06/31/2016 03:15:00 AM" and "formats tried" in by_row[3].reason
    assert by_row[4].reason == "the request date is before 1900 or after 2199"
    assert by_row[5].reason == "the request has no date"
    assert not any("between 1900 and 2199" in r.reason for r in rejections)
    closing = boston_file(tmp_path, ["2016-06-16 03:15:00"] * 2, ["2016-06-17 03:15:00", "soon"])
    _, closed_rejections = read(closing, LAYOUTS["boston"])
    assert [(r.row, r.field, r.value) for r in closed_rejections] == [(2, "closed_at", "soon")]
    assert closed_rejections[0].reason.startswith("the closing time is not a date")


def test_csvfmt004_a_column_is_read_by_a_few_vectorised_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = pd.to_datetime
    calls: list[int] = []

    def counting(arg: object, *args: object, **kwargs: object) -> object:
        calls.append(len(arg) if hasattr(arg, "__len__") else 1)
        return real(arg, *args, **kwargs)

    monkeypatch.setattr(pd, "to_datetime", counting)
    passes = []
    for rows in (2_000, 20_000):
        values = [f"2016-01-{1 + i % 28:02d} {i % 24:02d}:51:00 UTC" for i in range(rows)]
        values[7] = "garbage"
        calls.clear()
        parsed = read_datetimes(pd.Series(values, dtype=object), (), "America/New_York")
        assert parsed.values.notna().sum() == rows - 1 and parsed.unreadable.sum() == 1
        passes.append(len(calls))
        assert max(calls) == rows  # the whole column in one call of one explicit format
        assert sum(n > DETECTION_SAMPLE for n in calls) == 1  # the rest: samples, leftovers
    assert passes[0] == passes[1]  # as many calls for 20,000 rows as for 2,000: none per row


def test_csvfmt005_detection_picks_one_explicit_format() -> None:
    series = pd.Series(["06/16/2016 03:15:00 AM", "12/01/2016 11:00:00 PM", ""])
    assert detect_datetime_format(series) == "%m/%d/%Y %I:%M:%S %p"
    assert detect_datetime_format(pd.Series(["2016-01-22 16:51:00 UTC"])) == "ISO8601 UTC"
    assert detect_datetime_format(pd.Series(["23.11.2024 14:30"])) == "%d.%m.%Y %H:%M"
    assert detect_datetime_format(pd.Series(["someday", ""])) is None


@pytest.mark.parametrize(
    ("name", "layout", "rows"),
    [
        ("boston_311_100.csv", "boston", 100),
        ("nyc_311_dohmh_animals_every5th.csv", "nyc", 1179),
        ("nyc_311_portal_export_1000.csv", "nyc", 1000),
        ("nyc_311_socrata_api_2012_first300.json", "nyc", 300),
        ("sf_311_every10th.csv", "sf", 1000),
    ],
)
def test_csvfmt006_every_real_export_goes_in_whole(name: str, layout: str, rows: int) -> None:
    frame, rejections = read(TESTS_DATA / name, load_layout(layout), chunk_rows=4000)
    assert (len(frame), rejections) == (rows, [])


def bigquery_copy(tmp_path: Path) -> Path:
    """The real NYC export with BigQuery's snake_case names and ``... UTC`` times."""
    frame = pd.read_csv(NYC_EXPORT, dtype=str, keep_default_na=False)
    frame.columns = [c.lower().replace(" ", "_") for c in frame.columns]
    for column in ("created_date", "closed_date", "resolution_action_updated_date"):
        local = pd.to_datetime(frame[column], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
        utc = local.dt.tz_localize("America/New_York", ambiguous=False).dt.tz_convert("UTC")
        frame[column] = utc.dt.strftime("%Y-%m-%d %H:%M:%S UTC").fillna("")
    path = tmp_path / "bigquery.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def test_layout001_documented_examples_load_and_read(tmp_path: Path) -> None:
    examples = sorted(EXAMPLES.glob("*.toml"))
    assert len(examples) >= 3
    for example in examples:
        layout = load_layout(str(example))
        assert layout.timezone and set(layout.columns) >= {"id", "requested", "category"}
    portal, _ = read(NYC_EXPORT, load_layout("nyc"))
    bigquery, rejected = read(
        bigquery_copy(tmp_path), load_layout(str(EXAMPLES / "nyc-bigquery.toml"))
    )
    assert rejected == [] and len(bigquery) == 1000
    pd.testing.assert_series_equal(bigquery["requested_at"], portal["requested_at"])
    path = tmp_path / "city.csv"
    path.write_text(
        "Ticket,Opened,Kind,Ward,Y,X\n"
        "T-1,23.11.2024 14:30,Graffiti,Ward 7,52.5186,13.4081\n"
        "T-2,03.04.2024 09:00,Graffiti,Mitte,52.52,13.40\n"
    )
    city, _ = read(path, load_layout(str(EXAMPLES / "dayfirst-city.toml")))
    assert city["requested_at"].tolist() == [
        pd.Timestamp("2024-11-23 13:30"),
        pd.Timestamp("2024-04-03 07:00"),
    ]
    assert city["district"].tolist() == ["D07", "D01"]
    assert city["lat"].isna().tolist() == [True, False]  # the placeholder point is no point
    docs = (REPO_ROOT / "docs" / "layouts.md").read_text()
    for key in LAYOUT_KEYS:
        assert f"`{key}`" in docs or f"`[{key}]`" in docs, key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "colour = 1",
            "unknown key colour; the valid keys are columns, datetime_formats, "
            "districts, extends, name, placeholder_points, source, timezone.",
        ),
        ('extends = "oslo"', "the built-in layouts are nyc, chicago, sf, boston"),
        ('extends = "nyc"\ntimezone = "Mars/Olympus"', "is not a time zone name"),
        ('extends = "nyc"\ndatetime_formats = ["dd/mm/yyyy"]', "is not a strftime pattern"),
        ('extends = "nyc"\ndatetime_formats = "%d.%m.%Y"', "must be a list"),
        ('extends = "nyc"\n[columns]\nopened = "X"', "the fields are id, requested, updated"),
        ('[columns]\nid = "A"', "names no column for requested, category"),
        ('extends = "nyc"\nplaceholder_points = [[1, 2, 3]]', "[lat, lon] pairs"),
        ('extends = "nyc"\nsource = 7', "source must be a non-empty text value"),
        ("name = ", "not valid TOML"),
    ],
)
def test_layout002_bad_files_say_what_is_valid(text: str, expected: str) -> None:
    with pytest.raises(IngestError) as caught:
        layout_from_toml(text, name="mine")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("Layout mine: ")


def test_infer001_proposals_read_real_exports_like_the_built_ins(tmp_path: Path) -> None:
    for export, builtin, district in (
        (NYC_EXPORT, "nyc", "Community Board"),
        (BOSTON_EXPORT, "boston", "city_council_district"),
    ):
        proposal = infer_layout(export, "America/New_York")
        assert f'district = "{district}"' in proposal
        layout = layout_from_toml(proposal, name="proposed")
        ours, ours_rejected = read(export, layout)
        theirs, theirs_rejected = read(export, load_layout(builtin))
        assert len(ours_rejected) == len(theirs_rejected) == 0
        pd.testing.assert_frame_equal(ours, theirs)
    assert '"%m/%d/%Y %I:%M:%S %p"' in infer_layout(NYC_EXPORT)
    assert "placeholder_points = [[42.3594, -71.0587]]" in infer_layout(BOSTON_EXPORT)
    odd = tmp_path / "odd.csv"
    odd.write_text("Ticket,Created Date,What\n1,2016-01-22 16:51:00 UTC,x\n")
    proposal = infer_layout(odd)
    assert 'datetime_formats = ["ISO8601 UTC"]' in proposal
    assert '# id = "..."  # no column found (required)' in proposal
    assert "# columns not used: Ticket, What" in proposal


def test_infer002_cli_prints_a_proposal_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from triage.cli import main

    monkeypatch.delenv("TRIAGE_TIMEZONE", raising=False)
    database = tmp_path / "never.sqlite3"
    args = ["--db", f"sqlite:///{database}", "ingest", "csv", str(BOSTON_EXPORT)]
    assert main([*args, "--infer-layout"]) == 0
    printed = capsys.readouterr().out
    assert layout_from_toml(printed).columns["category"] == ("type",)
    assert 'timezone = "America/New_York"' in printed
    assert not database.exists()
    assert main(args) == 2  # neither --layout nor --infer-layout
    assert "--infer-layout" in capsys.readouterr().err


def test_infer003_json_exports_too(tmp_path: Path) -> None:
    path = tmp_path / "soda.json"
    path.write_text(
        '[{"unique_key": "1", "created_date": "2012-11-20T07:50:59.000", '
        '"complaint_type": "Noise"}, {"unique_key": "2", "complaint_type": "Rodent", '
        '"created_date": "2012-11-21T07:50:59.000"}]'
    )
    layout = layout_from_toml(infer_layout(path), name="soda")
    frame, rejected = read(path, layout)
    assert rejected == [] and frame["raw_category"].tolist() == ["Noise", "Rodent"]
    assert io.StringIO(infer_layout(path)).readline().startswith("# Layout proposed")
