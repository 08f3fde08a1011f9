"""Indicator files as cities keep them: delimiters and line endings sniffed, long or wide form,
fiscal and calendar periods, percentages written as fractions, unknown names with the closest
known ones; Boston's real CityScore export."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.ingest.errors import IngestError
from triage.ingest.indicators import (
    IndicatorContext,
    closest_indicators,
    parse_period_text,
    read_indicator_file,
    sniff_delimiter,
)
from triage.settings import REPO_ROOT, Settings, SettingsError

CITYSCORE = REPO_ROOT / "tests" / "data" / "boston_cityscore_2016_sample.csv"
LONG = [
    ["indicator", "period", "value", "note"],
    ["PW-01", "FY2017-18", "81.5", "first year"],
    ["PW-01", "FY2018-19", "84", ""],
    ["Potholes filled within 48 hours", "2024-03", "90", ""],
]


def catalogue(*rows: tuple[str, str, str, float, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["code", "name", "unit", "history_min", "history_max"])


NAN = float("nan")
CATALOGUE = catalogue(
    ("PW-01", "Potholes filled within 48 hours", "%", 71.0, 96.0),
    ("PW-02", "Streetlights repaired within 10 days", "%", NAN, NAN),
    ("PRK-01", "Playgrounds in good repair", "%", 0.8, 0.93),  # a history kept as fractions
    ("PRK-02", "Park visits", "count", 9000.0, 15000.0),
    ("PRK-03", "Trees lost to disease", "%", 0.4, 3.5),  # small percentages, truly
)


def encode(rows: list[list[str]], delimiter: str, newline: str, bom: bool) -> bytes:
    text = newline.join(delimiter.join(cells) for cells in rows) + newline
    return ("\ufeff" if bom else "").encode() + text.encode()


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_indfile001_delimiter_line_endings_and_bom_are_sniffed(
    delimiter: str, newline: str, bom: bool
) -> None:
    frame, rejections = read_indicator_file(encode(LONG, delimiter, newline, bom))
    assert rejections == []
    assert frame["indicator"].tolist() == ["PW-01", "PW-01", "Potholes filled within 48 hours"]
    assert frame["period"].tolist() == ["2017-07-01", "2018-07-01", "2024-03-01"]
    assert frame["value"].tolist() == ["81.5", "84", "90"]
    assert frame["note"].tolist() == ["first year", "", ""]


def test_indfile002_sniffing_keeps_quoted_delimiters_apart() -> None:
    assert sniff_delimiter('indicator;period;value\r\n"A, b";2024-Q1;"1,5"\r\n') == ";"
    assert sniff_delimiter('indicator,period,value\n"A; b",2024-Q1,1\n') == ","
    assert sniff_delimiter("indicator\tperiod\tvalue\nA,b\t2024\t1\n") == "\t"
    assert sniff_delimiter("just one column\n1\n") == ","


@pytest.mark.parametrize(
    ("written", "july", "january", "october"),
    [
        ("2024-03-31", "2024-03-31", "2024-03-31", "2024-03-31"),
        ("2024-03-31 00:00:00", "2024-03-31", "2024-03-31", "2024-03-31"),
        ("03/31/2024", "2024-03-31", "2024-03-31", "2024-03-31"),
        ("2024-03", "2024-03-01", "2024-03-01", "2024-03-01"),
        ("Mar 2024", "2024-03-01", "2024-03-01", "2024-03-01"),
        ("March 2024", "2024-03-01", "2024-03-01", "2024-03-01"),
        ("2024-Q1", "2024-01-01", "2024-01-01", "2024-01-01"),
        ("Q3 2024", "2024-07-01", "2024-07-01", "2024-07-01"),
        ("2024", "2024-01-01", "2024-01-01", "2024-01-01"),
        ("FY2017-18", "2017-07-01", "2017-01-01", "2017-10-01"),
        ("FY18", "2017-07-01", "2018-01-01", "2017-10-01"),
        ("FY2018", "2017-07-01", "2018-01-01", "2017-10-01"),
        ("FY 2017/2018", "2017-07-01", "2017-01-01", "2017-10-01"),
        ("FY2018 Q2", "2017-10-01", "2018-04-01", "2018-01-01"),
        ("FY18-Q3", "2018-01-01", "2018-07-01", "2018-04-01"),
        ("Q4 FY2018", "2018-04-01", "2018-10-01", "2018-07-01"),
        ("FY1999-00", "1999-07-01", "1999-01-01", "1999-10-01"),
    ],
)
def test_indfile003_periods_with_the_city_fiscal_year(
    written: str, july: str, january: str, october: str
) -> None:
    assert parse_period_text(written) == july  # default: fiscal years start in July
    assert parse_period_text(written, 1) == january
    assert parse_period_text(written, 10) == october


@pytest.mark.parametrize("written", ["FY2017-19", "2024-13", "2024-02-30", "yesterday", "Q5 2024"])
def test_indfile004_what_names_no_period_is_left_for_the_form_to_refuse(written: str) -> None:
    assert parse_period_text(written) is None
    frame, _ = read_indicator_file(f"indicator,period,value\nPW-01,{written},1\n".encode())
    assert frame["period"].tolist() == [written]


def test_indfile005_wide_form_one_column_per_period() -> None:
    data = (
        b"Indicator;FY2017-18;FY2018-19;FY2019-20\r\n"
        b"PW-01;81.5;;84\r\n"
        b"Park visits;12000;13000;14000\r\n"
        b";;;\r\n"
        b";1;2;3\r\n"
    )
    frame, rejections = read_indicator_file(data, layout=IndicatorContext(fiscal_year_start=10))
    assert list(
        zip(frame["row"], frame["indicator"], frame["period"], frame["value"], strict=True)
    ) == [
        (1, "PW-01", "2017-10-01", "81.5"),  # FY2017-18 starts in October 2017
        (1, "PW-01", "2019-10-01", "84"),
        (2, "Park visits", "2017-10-01", "12000"),
        (2, "Park visits", "2018-10-01", "13000"),
        (2, "Park visits", "2019-10-01", "14000"),
    ]
    assert [(r.row, r.reason) for r in rejections] == [(4, "the row names no indicator")] * 3
    months, _ = read_indicator_file(b"code,Jan 2024,Feb 2024,2024-Q2\nPW-01,1,2,3\n")
    assert months["period"].tolist() == ["2024-01-01", "2024-02-01", "2024-04-01"]
    with pytest.raises(IngestError, match="one column per period"):
        read_indicator_file(b"code,first,second\nPW-01,1,2\n")


def test_indfile006_percentages_written_as_fractions_are_converted_with_a_warning() -> None:
    data = (
        b"indicator,period,value\n"
        b"PW-01,2024-01,0.81\n"
        b"PW-01,2024-02,0.9\n"
        b"PW-02,2024-01,0.5\n"  # no history: the scale is unknown, left alone
        b"PRK-01,2024-01,0.88\n"  # a history of fractions: left alone
        b"PRK-02,2024-01,0.5\n"  # not a percentage
        b"PRK-03,2024-01,0.7\n"  # 0.7 % is on this indicator's own scale
    )
    frame, rejections = read_indicator_file(data, layout=IndicatorContext(catalogue=CATALOGUE))
    assert rejections == []
    assert frame["value"].tolist() == [81.0, 90.0, "0.5", "0.88", "0.5", "0.7"]
    assert frame.attrs["notes"] == [
        "PW-01: 2 values between 0 and 1 were read as fractions and multiplied by 100 "
        "(the unit is % and the history goes up to 96)"
    ]
    mixed = b"indicator,period,value\nPW-01,2024-01,0.81\nPW-01,2024-02,85\n"
    frame, _ = read_indicator_file(mixed, layout=IndicatorContext(catalogue=CATALOGUE))
    assert frame["value"].tolist() == ["0.81", "85"] and frame.attrs["notes"] == []
    plain, _ = read_indicator_file(data)  # without the city's catalogue nothing is converted
    assert plain["value"].tolist()[:2] == ["0.81", "0.9"] and plain.attrs["notes"] == []


def test_indfile007_unknown_indicators_name_the_closest_known_ones() -> None:
    data = (
        b"indicator,period,value\n"
        b"Potholes filled within 48 hour,2024-01,90\n"
        b"PW01,2024-01,90\n"
        b"Playground repair,2024-01,90\n"
        b"Library users,2024-01,9626\n"
        b"pw-01,2024-01,90\n"
    )
    frame, rejections = read_indicator_file(data, layout=IndicatorContext(catalogue=CATALOGUE))
    assert frame["row"].tolist() == [5]
    reasons = {r.row: r.reason for r in rejections}
    assert reasons[1] == (
        "no indicator has this code or name (closest: Potholes filled within 48 hours (PW-01))"
    )
    assert reasons[2].startswith("no indicator has this code or name (closest: Potholes filled")
    assert "(PW-02)" in reasons[2]
    assert "Playgrounds in good repair (PRK-01)" in reasons[3]
    assert reasons[4] == (
        "no indicator has this code or name (known codes: PW-01, PW-02, PRK-01, PRK-02, PRK-03)"
    )
    assert [r.value for r in rejections] == [
        "Potholes filled within 48 hour",
        "PW01",
        "Playground repair",
        "Library users",
    ]
    assert closest_indicators("PRK 2", CATALOGUE)[0] == "Park visits (PRK-02)"


def test_indfile008_real_cityscore_export() -> None:
    known = catalogue(
        ("POTHOLE-OT", "POTHOLE ON-TIME %", "%", 64.0, 82.0),
        ("BFD-INC", "BFD INCIDENTS", "count", 200.0, 300.0),
    )
    frame, rejections = read_indicator_file(CITYSCORE, layout=IndicatorContext(catalogue=known))
    assert len(frame) + len(rejections) == 420
    assert sorted(set(frame["indicator"])) == ["BFD INCIDENTS", "POTHOLE ON-TIME %"]
    assert len(frame) == 40  # 20 load dates each
    potholes = frame[frame["indicator"] == "POTHOLE ON-TIME %"]
    assert potholes["period"].min() == "2016-01-15" and potholes["period"].max() == "2016-02-11"
    values = pd.to_numeric(potholes["value"]).dropna()  # empty day values: the form refuses them
    assert values.between(0, 100).all() and values.max() > 1
    assert frame.attrs["notes"][0].startswith(
        "POTHOLE-OT: 17 values between 0 and 1"
    )  # 3 days empty
    reasons = {r.value: r.reason for r in rejections}
    assert reasons["STREETLIGHT ON-TIME %"] == (
        "no indicator has this code or name (closest: POTHOLE ON-TIME % (POTHOLE-OT))"
    )
    assert reasons["EMS INCIDENTS"].endswith("(closest: BFD INCIDENTS (BFD-INC))")


def test_indfile009_fiscal_year_start_setting() -> None:
    assert Settings.from_env({}).fiscal_year_start == 7
    assert Settings.from_env({"TRIAGE_FISCAL_YEAR_START": "10"}).fiscal_year_start == 10
    for bad in ("13", "0", "July"):
        with pytest.raises(SettingsError, match="TRIAGE_FISCAL_YEAR_START"):
            Settings.from_env({"TRIAGE_FISCAL_YEAR_START": bad})
    assert dt.date.fromisoformat(parse_period_text("FY2025", 10) or "") == dt.date(2024, 10, 1)


def test_indfile010_wide_spreadsheet_with_date_headers(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Indicator", dt.datetime(2024, 1, 31), dt.datetime(2024, 2, 29), "Q1 2024"])
    sheet.append(["PW-01", 0.81, None, 0.85])
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    frame, rejections = read_indicator_file(path, layout=IndicatorContext(catalogue=CATALOGUE))
    assert rejections == []
    assert frame["period"].tolist() == ["2024-01-31", "2024-01-01"]
    assert frame["value"].tolist() == [81.0, 85.0]


CELLS = st.sampled_from(
    [
        "PW-01",
        "pw-01",
        "Park visits",
        "",
        "0.5",
        "81",
        "FY18",
        "2024-Q1",
        "Mar 2024",
        '"a;b"',
        "x,y",
        "\t",
        "FY2017-19",
        "1e400",
        "-",
        "Q5 2024",
        "é",
        "0,5",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(CELLS, min_size=1, max_size=5),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=6), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_indfile011_fuzz_only_our_error_and_no_row_lost(
    header: list[str], rows: list[list[str]], delimiter: str, newline: str
) -> None:
    data = newline.join(delimiter.join(r) for r in [["indicator", *header], *rows]).encode()
    try:
        frame, rejections = read_indicator_file(
            data, layout=IndicatorContext(catalogue=CATALOGUE, fiscal_year_start=4)
        )
    except IngestError:
        return
    assert set(frame["row"]).isdisjoint({r.row for r in rejections if r.field == "indicator"})
    assert all(isinstance(r.reason, str) and r.reason for r in rejections)
