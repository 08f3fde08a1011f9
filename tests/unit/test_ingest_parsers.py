"""Ingest parsers on every real sample (values asserted) and under property-based fuzzing.

The fuzz tests hold the parsers to two promises: only ``IngestError`` ever escapes, and every
input row comes out either parsed or rejected with a reason (never silently lost).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import tempfile
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.ingest.errors import IngestError, Open311ServerError
from triage.ingest.geo import DistrictLocator, _rings
from triage.ingest.indicators import read_indicator_file
from triage.ingest.open311 import (
    parse_discovery,
    parse_requests,
    parse_service_definition,
    parse_services,
)
from triage.ingest.portal_csv import (
    LAYOUTS,
    layout_from_toml,
    load_layout,
    read_portal_export,
)
from triage.ingest.records import REPORT_COLUMNS
from triage.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data"
O311 = DATA / "open311"


def fuzz(examples: int) -> settings:
    """Thousands of examples across the fuzz tests (2,300 per run)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def read_all(path: Path, layout: str, **kwargs: object) -> tuple[pd.DataFrame, list, int]:
    frames, rejections, rows = [], [], 0
    for chunk in read_portal_export(path, load_layout(layout), **kwargs):
        frames.append(chunk.reports)
        rejections.extend(chunk.rejections)
        rows += chunk.rows
    return pd.concat(frames, ignore_index=True), rejections, rows


# --- Open311 samples -------------------------------------------------------------------------


def test_o311001_toronto_requests_offsets_and_empty_elements() -> None:
    frame, rejections = parse_requests((O311 / "toronto_requests_many.xml").read_bytes())
    assert rejections == []
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert frame["service_request_id"].tolist() == ["101005420892", "101005420894"]
    first = frame.iloc[0]
    assert first["requested_at"] == ts("2018-07-30 04:01:00")  # -04:00 to UTC
    assert first["updated_at"] == first["requested_at"]  # <updated_datetime/> is empty
    assert pd.isna(first["closed_at"])
    assert first["raw_category"] == "Road - Pot hole"
    assert first["status"] == "open"
    assert first["description"] == ""
    assert first["lat"] == pytest.approx(43.691104288)
    assert first["lon"] == pytest.approx(-79.272306875)
    assert first["address"] == "Warden Ave / Freeman St, Scarborough"


def test_o311002_toronto_single_request() -> None:
    frame, rejections = parse_requests((O311 / "toronto_request_single.xml").read_bytes())
    assert len(frame) == 1 and rejections == []
    assert frame.iloc[0]["service_request_id"] == "101005420892"


def test_o311003_sf_requests_nil_zoneless_capitalised_ungeocoded() -> None:
    payload = (O311 / "sf_requests_2012.xml").read_bytes()
    frame, rejections = parse_requests(payload, "xml", tz="America/Los_Angeles")
    assert len(frame) == 56 and rejections == []
    first = frame.iloc[0]
    assert first["service_request_id"] == "1129806"
    # "2012-05-22 23:57:23.97" is Pacific daylight time: 06:57:23.970 UTC the next day.
    assert first["requested_at"] == ts("2012-05-23 06:57:23.970")
    assert first["updated_at"] == first["requested_at"]  # xsi:nil updated_datetime
    assert first["address"] == "SAN FRANCISCO , CA"
    assert math.isnan(first["lat"]) and math.isnan(first["lon"])  # 0.0/0.0 is "nowhere"
    assert frame["status"].value_counts().to_dict() == {"open": 52, "closed": 4}
    assert int(frame["lat"].notna().sum()) == 47


def test_o311004_chicago_json_absent_keys_and_offsets() -> None:
    frame, rejections = parse_requests((O311 / "chicago_requests.json").read_bytes())
    assert rejections == []
    assert frame["service_request_id"].tolist() == ["14-01100669", "14-01100627"]
    assert frame.iloc[0]["requested_at"] == ts("2014-07-12 15:58:43")
    assert frame.iloc[0]["updated_at"] == ts("2014-07-12 16:08:21")
    assert frame.iloc[1]["raw_category"] == "Building Violation"
    assert frame.iloc[0]["lat"] == pytest.approx(41.858724777757864)


def test_o311005_empty_list_and_token_only_answer() -> None:
    frame, rejections = parse_requests((O311 / "requests_empty.xml").read_bytes())
    assert frame.empty and rejections == []
    frame, rejections = parse_requests((O311 / "boston_post_response_token.xml").read_bytes())
    assert frame.empty
    assert [(r.row, r.field, r.value) for r in rejections] == [
        (1, "service_request_id", "503fc045901932078800163c")
    ]


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        ("error_404_not_found.xml", 404, "Service request not found"),
        ("boston_error_400_duplicate.xml", 400, "base is a duplicate"),
    ],
)
def test_o311006_error_documents_raise_server_error(name: str, code: int, words: str) -> None:
    with pytest.raises(Open311ServerError, match=words) as caught:
        parse_requests((O311 / name).read_bytes())
    assert caught.value.code == code


def test_o311007_json_error_list() -> None:
    with pytest.raises(Open311ServerError, match="403: Invalid api_key") as caught:
        parse_requests(json.dumps([{"code": 403, "description": "Invalid api_key"}]))
    assert caught.value.code == 403


def test_o311008_service_lists() -> None:
    sf, rejections = parse_services((O311 / "sf_services_2012.xml").read_bytes())
    assert len(sf) == 38 and rejections == []
    assert sf.iloc[0].to_dict() == {
        "service_code": "001",
        "service_name": "Cans_Left_Out_24x7",
        "group": "Litter Receptacles",
        "description": sf.iloc[0]["description"],
        "metadata": False,
        "type": "realtime",
    }
    dc, rejections = parse_services((O311 / "dc_services.xml").read_bytes())
    assert len(dc) == 86 and rejections == []
    assert dc.iloc[0]["service_code"] == "CSRREPIS" and bool(dc.iloc[0]["metadata"]) is True


def test_o311009_discovery_and_service_definition() -> None:
    dc = parse_discovery((O311 / "dc_discovery.xml").read_bytes())
    assert [e["url"] for e in dc["endpoints"]] == [
        "http://app.311.dc.gov/cwi/Open311/v2",
        "http://app.311.dc.gov/cwi/Open311",
    ]
    assert dc["endpoints"][0]["formats"] == ["text/xml"]
    boston = parse_discovery((O311 / "boston_discovery.json").read_bytes())
    assert boston["changeset"] == "2011-09-1 17:35"  # not ISO 8601: kept as given
    assert boston["endpoints"][1]["type"] == "test"
    definition = parse_service_definition((O311 / "dc_service_definition_S0301.xml").read_bytes())
    assert definition["service_code"] == "S0301"
    assert len(definition["attributes"]) == 6
    hazard = next(a for a in definition["attributes"] if a["code"] == "ISITHAZA")
    assert [v["key"] for v in hazard["values"]] == ["NO001", "UNKNOWN", "YES001"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<service_requests><request><service_request_id>&lol3;</service_request_id></request>
</service_requests>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<service_requests><request><description>&xxe;</description></request></service_requests>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_o311010_dtd_and_entities_are_refused(payload: bytes) -> None:
    with pytest.raises(IngestError, match="DTD or entities"):
        parse_requests(payload)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"<service_requests><request>", "not well-formed"),
        (b"hello", "neither XML nor JSON"),
        (b"[1, 2", "not valid JSON"),
        (b"<services/>", "not <service_requests>"),
        (b'{"a": 1}', "no list of service_requests"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_o311011_malformed_answers_raise_ingest_error(payload: bytes, words: str) -> None:
    with pytest.raises(IngestError, match=words):
        parse_requests(payload)


# --- Portal exports ---------------------------------------------------------------------------


def test_csv001_nyc_portal_export_values() -> None:
    frame, rejections, rows = read_all(DATA / "nyc_311_portal_export_1000.csv", "nyc")
    assert rows == 1000 and len(frame) == 1000 and rejections == []
    first = frame.iloc[0]
    assert first["service_request_id"] == "39573567"
    assert first["requested_at"] == ts("2018-06-26 14:58:54")  # 10:58:54 AM EDT
    assert first["closed_at"] == ts("2018-06-26 16:50:01")
    assert first["updated_at"] == ts("2018-06-26 16:50:01")
    assert first["raw_category"] == "Non-Emergency Police Matter"
    assert first["description"] == "Other (complaint details)"
    assert first["district"] == "09 QUEENS"
    assert first["status"] == "closed"
    assert frame["raw_category"].nunique() == 101
    assert int(frame["lat"].isna().sum()) == 107
    assert set(frame["status"]) >= {"closed", "pending", "assigned", "email_sent"}


def test_csv002_nyc_dohmh_many_open_rows() -> None:
    frame, rejections, rows = read_all(
        DATA / "nyc_311_dohmh_animals_every5th.csv", "nyc", chunk_rows=1000
    )
    assert rows == 1179 and len(frame) == 1179 and rejections == []
    assert int(frame["closed_at"].isna().sum()) == 696
    open_rows = frame[frame["closed_at"].isna() & (frame["updated_at"] == frame["requested_at"])]
    assert len(open_rows) > 200  # no update time either: the version is the request time
    assert frame["service_request_id"].is_unique


def test_csv003_sf_bigquery_schema_zoned_times_and_zero_points() -> None:
    frame, rejections, rows = read_all(DATA / "sf_311_every10th.csv", "sf")
    assert rows == 1000 and len(frame) == 1000 and rejections == []
    first = frame.iloc[0]
    assert first["service_request_id"] == "6078653"
    assert first["requested_at"] == ts("2016-07-13 15:11:07")  # +00:00 kept as UTC
    assert first["raw_category"] == "Sewer Issues"
    assert math.isnan(first["lat"])
    located = frame["lat"].notna()
    assert 0.5 < located.mean() < 0.6  # ~43% of rows are 0.0/0.0
    assert (frame.loc[located, "lat"].between(37, 38.5)).all()
    assert int((frame["district"] == "").sum()) == 426


def test_csv004_boston_placeholder_point_and_blank_fields() -> None:
    frame, rejections, rows = read_all(DATA / "boston_311_100.csv", "boston")
    assert rows == 100 and len(frame) == 100 and rejections == []
    first = frame.iloc[0]
    assert first["service_request_id"] == "101004143000"
    assert first["requested_at"] == ts("2022-01-21 18:47:00")  # 13:47 EST
    assert math.isnan(first["lat"])  # 42.3594,-71.0587 is City Hall: "no location"
    assert first["district"] == "" and first["address"] == ""  # " " fields
    second = frame.iloc[1]
    assert second["lat"] == pytest.approx(42.3634) and second["district"] == "1"


def test_csv005_socrata_json_array_streamed() -> None:
    frame, rejections, rows = read_all(
        DATA / "nyc_311_socrata_api_2012_first300.json", "nyc", chunk_rows=64
    )
    assert rows == 300 and len(frame) == 300 and rejections == []
    first = frame.iloc[0]
    assert first["service_request_id"] == "24445308"
    assert first["requested_at"] == ts("2012-11-20 12:50:59")  # floating time, New York
    assert first["district"] == "08 MANHATTAN"
    assert first["lon"] == pytest.approx(-73.96336792724692)


CHICAGO = (
    "SR_NUMBER,SR_TYPE,SR_SHORT_CODE,OWNER_DEPARTMENT,STATUS,CREATED_DATE,LAST_MODIFIED_DATE,"
    "CLOSED_DATE,STREET_ADDRESS,WARD,LATITUDE,LONGITUDE\n"
    "SR19-01234567,Pothole in Street Complaint,PHF,CDOT,Completed,01/02/2019 07:05:09 AM,"
    "01/03/2019 09:00:00 PM,01/03/2019 08:59:00 PM,1 N STATE ST,42,41.8826,-87.6278\n"
    "SR19-01234568,Street Light Out Complaint,SLA,CDOT,Open,01/02/2019 11:59:59 PM,,,"
    "2 N STATE ST,,,\n"
)


def test_csv006_chicago_layout(tmp_path: Path) -> None:
    path = tmp_path / "chicago.csv"
    path.write_text(CHICAGO)
    frame, rejections, rows = read_all(path, "chicago")
    assert rows == 2 and rejections == []
    assert frame.iloc[0]["requested_at"] == ts("2019-01-02 13:05:09")  # CST
    assert frame.iloc[0]["updated_at"] == ts("2019-01-04 03:00:00")
    assert frame.iloc[0]["district"] == "42"
    assert frame.iloc[1]["requested_at"] == ts("2019-01-03 05:59:59")
    assert frame.iloc[1]["status"] == "open"


def test_csv007_toml_layout_for_another_portal(tmp_path: Path) -> None:
    path = tmp_path / "riverton.csv"
    path.write_text(
        "Ticket;Opened;Kind;Ward;Y;X\n"
        "T-1;05.03.2024 14:30;Graffiti;Ward 7;40.75;-73.99\n"
        "T-2;31.02.2024 10:00;Graffiti;;;\n".replace(";", ",")
    )
    layout = layout_from_toml(
        """
        name = "riverton"
        source = "riverton-311"
        timezone = "America/New_York"
        datetime_formats = ["%d.%m.%Y %H:%M"]
        [columns]
        id = "Ticket"
        requested = "Opened"
        category = ["Type", "Kind"]
        district = "Ward"
        lat = "Y"
        lon = "X"
        [districts]
        "Ward 7" = "D07"
        """
    )
    assert layout.source == "riverton-311"
    chunks = list(read_portal_export(path, layout))
    frame = chunks[0].reports
    assert frame.iloc[0]["requested_at"] == ts("2024-03-05 19:30:00")
    assert frame.iloc[0]["district"] == "D07"
    assert [(r.row, r.field) for r in chunks[0].rejections] == [(2, "requested_at")]
    assert "not a date" in chunks[0].rejections[0].reason
    for bad in ("name = ", "[columns]\nid = 'A'", "extends = 'oslo'", "colour = 1"):
        with pytest.raises(IngestError):
            layout_from_toml(bad)
    extended = layout_from_toml('extends = "nyc"\n[columns]\ndistrict = "Borough"')
    assert extended.columns["district"] == ("borough",)
    assert extended.columns["id"] == LAYOUTS["nyc"].columns["id"]


def test_csv008_streams_in_chunks_with_progress_and_resume() -> None:
    path = DATA / "nyc_311_portal_export_1000.csv"
    chunks = list(read_portal_export(path, load_layout("nyc"), chunk_rows=100))
    assert len(chunks) == 10
    assert [c.last_row for c in chunks] == list(range(100, 1001, 100))
    progress = [c.bytes_read for c in chunks]
    assert progress == sorted(progress) and progress[-1] == chunks[-1].total_bytes
    resumed = list(read_portal_export(path, load_layout("nyc"), chunk_rows=300, skip_rows=450))
    assert sum(len(c.reports) for c in resumed) == 550
    assert resumed[1].reports.iloc[0]["row"] == 451


def test_csv009_refuses_files_over_the_row_cap() -> None:
    with pytest.raises(IngestError, match="more than 500 records"):
        list(
            read_portal_export(
                DATA / "nyc_311_portal_export_1000.csv", load_layout("nyc"), max_rows=500
            )
        )


def test_csv010_unreadable_exports(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    broken = tmp_path / "broken.csv"
    broken.write_text('Unique Key,Created Date,Complaint Type\n1,"01/01/2020 10:00:00 AM,x\n')
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('[{"unique_key": "1"}, {"unique_key": ')
    for path, words in (
        (empty, "empty"),
        (wrong, "does not look like a nyc export"),
        (broken, "not valid CSV"),
        (bad_json, "not valid JSON|ends before"),
        (tmp_path / "missing.csv", "no file"),
    ):
        with pytest.raises(IngestError, match=words):
            list(read_portal_export(path, load_layout("nyc")))
    with pytest.raises(IngestError, match="Unknown layout"):
        load_layout("oslo")


def test_csv011_row_level_rejections_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Unique Key,Created Date,Complaint Type,Latitude,Longitude,Closed Date\n"
        "1,01/01/2020 10:00:00 AM,Noise,40.7,-73.9,\n"
        ",01/01/2020 10:00:00 AM,Noise,,,\n"
        "3,yesterday,Noise,,,\n"
        "4,01/01/2020 10:00:00 AM,Noise,north,-73.9,\n"
        "5,01/01/2020 10:00:00 AM,Noise,95,-73.9,\n"
        "6,01/01/2020 10:00:00 AM,,,,13/45/2020\n"
        "7,01/01/2020 10:00:00 AM,,,,\n"
    )
    frame, rejections, rows = read_all(path, "nyc")
    assert rows == 7
    assert frame["service_request_id"].tolist() == ["1", "7"]
    assert [(r.row, r.field) for r in rejections] == [
        (2, "service_request_id"),
        (3, "requested_at"),
        (4, "lat"),
        (5, "lat"),
        (6, "closed_at"),
    ]
    assert rejections[1].value == "yesterday"


# --- Indicator files --------------------------------------------------------------------------


def test_ind001_cityscore_file_detected_and_read() -> None:
    frame, rejections = read_indicator_file(DATA / "boston_cityscore_21_load_dates.csv")
    assert len(frame) == 451 and rejections == []
    first = frame.iloc[0]
    assert first["indicator"] == "HOMICIDES (TREND)"
    assert first["period"] == "2016-06-27"  # "2016-06-27 00:00:00" load date
    assert first["value"] == "0.0"
    assert frame["indicator"].nunique() == 22
    assert int((frame["value"] == "").sum()) == 38  # kept: the form's rules reject them


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_ind002_xlsx_cells_dates_numbers_and_blank_rows() -> None:
    import datetime as dt

    data = _xlsx(
        [
            ["Indicator", "Period", "Value", "Status", "Note"],
            ["PW-01", dt.datetime(2026, 1, 5), 93.5, "On track", "fine"],
            [None, None, None],
            ["PW-01", "2026-01-12", "1,234.5", None, None],
            [None, "2026-01-12", 4],
        ]
    )
    frame, rejections = read_indicator_file(data, filename="pw.xlsx")
    assert frame.to_dict("records") == [
        {
            "row": 1,
            "indicator": "PW-01",
            "period": "2026-01-05",
            "value": 93.5,
            "status": "on_track",
            "note": "fine",
        },
        {
            "row": 3,
            "indicator": "PW-01",
            "period": "2026-01-12",
            "value": "1,234.5",
            "status": "",
            "note": "",
        },
    ]
    assert [(r.row, r.field) for r in rejections] == [(4, "indicator")]


def test_ind003_unreadable_indicator_files(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no column for period"):
        read_indicator_file(b"indicator,value\nA,1\n")
    with pytest.raises(IngestError, match="empty"):
        read_indicator_file(b"  \n")
    with pytest.raises(IngestError, match="spreadsheet could not"):
        read_indicator_file(b"PK\x03\x04not really a zip", filename="x.xlsx")
    with pytest.raises(IngestError, match="more than 2 rows"):
        read_indicator_file(
            b"indicator,period,value\nA,2020-01-01,1\nA,2020-01-02,1\nA,2020-01-03,1\n", max_rows=2
        )
    with pytest.raises(IngestError, match="Cannot read"):
        read_indicator_file(tmp_path / "missing.csv")


# --- Point in polygon -------------------------------------------------------------------------


def _brute(rings: list[list[np.ndarray]], px: float, py: float) -> int:
    for index, district in enumerate(rings):
        crossings = 0
        for ring in district:
            x1, y1 = ring[:, 0], ring[:, 1]
            x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
            with np.errstate(all="ignore"):
                cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            crossings += int(np.sum(((y1 > py) != (y2 > py)) & (px < cross)))
        if crossings % 2:
            return index
    return -1


def test_geo001_point_in_polygon_matches_brute_force_on_nyc_districts() -> None:
    collection = json.loads((DATA / "nyc_community_districts.geojson").read_text())
    geometries = [f["geometry"] for f in collection["features"]]
    locator = DistrictLocator(list(range(len(geometries))), geometries)
    rings = [_rings(g) for g in geometries]
    rng = np.random.default_rng(3)
    x = rng.uniform(-74.26, -73.70, 400)
    y = rng.uniform(40.49, 40.92, 400)
    found = locator.locate(x, y)
    expected = np.array([_brute(rings, a, b) for a, b in zip(x, y, strict=True)])
    assert (found == expected).all()
    assert (found >= 0).sum() > 100
    assert locator.locate(np.array([np.nan]), np.array([40.7])).tolist() == [-1]


def test_geo002_holes_and_multipolygons() -> None:
    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    far = [[20, 20], [21, 20], [21, 21], [20, 20]]
    locator = DistrictLocator(
        [7, 9],
        [
            {"type": "MultiPolygon", "coordinates": [[square, hole], [far]]},
            {"type": "Polygon", "coordinates": [hole]},
        ],
    )
    points = np.array([[1, 1], [5, 5], [20.5, 20.2], [30, 30]], dtype=float)
    assert locator.locate(points[:, 0], points[:, 1]).tolist() == [7, 9, 7, -1]
    with pytest.raises(IngestError):
        DistrictLocator([1], [{"type": "Point", "coordinates": [0, 0]}])


# --- Fuzzing ----------------------------------------------------------------------------------

XML_SAFE = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n"),
    max_size=30,
)
datetime_text = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")[:-4]),
    st.datetimes().map(lambda d: d.isoformat() + "-04:00"),
    xml_text,
    st.just(""),
)
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), xml_text, st.just("0.0")
)
REQUEST_FIELDS = {
    "service_request_id": st.one_of(
        st.text(max_size=140).filter(lambda s: "\x00" not in s), st.just("")
    ),
    "status": xml_text,
    "service_name": xml_text,
    "service_code": xml_text,
    "description": xml_text,
    "requested_datetime": datetime_text,
    "updated_datetime": datetime_text,
    "address": xml_text,
    "lat": number_text,
    "long": number_text,
    "token": xml_text,
}
request_records = st.lists(st.fixed_dictionaries({}, optional=REQUEST_FIELDS), max_size=12)


def _xml_clean(text: str) -> str:
    return "".join(c for c in text if c in "\t\n\r" or (ord(c) >= 0x20 and c not in "\ufffe\uffff"))


def _account(frame: pd.DataFrame, rejections: list, n: int) -> None:
    rows = sorted([*frame["row"].tolist(), *(r.row for r in rejections)])
    assert rows == list(range(1, n + 1)), "every input row is parsed or rejected, once"
    for rejection in rejections:
        assert rejection.reason


@fuzz(300)
@given(request_records, st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
def test_fuzz001_open311_xml_requests_account_for_every_row(records: list, tz: str) -> None:
    root = Element("service_requests")
    for record in records:
        request = SubElement(root, "request")
        for key, value in record.items():
            SubElement(request, key).text = _xml_clean(value)
    frame, rejections = parse_requests(tostring(root, encoding="utf-8"), "xml", tz=tz)
    _account(frame, rejections, len(records))
    assert frame["updated_at"].notna().all() and frame["requested_at"].notna().all()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@fuzz(300)
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries({}, optional=REQUEST_FIELDS),
            st.dictionaries(st.sampled_from(sorted(REQUEST_FIELDS)), json_values, max_size=6),
            json_values,
        ),
        max_size=10,
    )
)
def test_fuzz002_open311_json_requests_account_for_every_row(items: list) -> None:
    payload = json.dumps(items)
    try:
        frame, rejections = parse_requests(payload, "json")
    except IngestError:
        # Only a list whose items all look like GeoReport errors is an error document.
        assert items and all(
            isinstance(i, dict) and "code" in i and "description" in i for i in items
        )
        return
    _account(frame, rejections, len(items))


@fuzz(500)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )
)
def test_fuzz003_open311_arbitrary_bytes_raise_only_ingest_error(payload: bytes) -> None:
    for parse in (parse_requests, parse_services, parse_discovery, parse_service_definition):
        try:
            result = parse(payload)
        except IngestError:
            continue
        assert result is not None


csv_cell = st.one_of(
    st.text(max_size=12).filter(lambda s: "\x00" not in s),
    st.datetimes().map(lambda d: d.strftime("%m/%d/%Y %I:%M:%S %p")),
    st.floats(allow_nan=False).map(repr),
    st.just(""),
)
NYC_COLUMNS = [
    "Unique Key",
    "Created Date",
    "Closed Date",
    "Complaint Type",
    "Descriptor",
    "Status",
    "Resolution Action Updated Date",
    "Community Board",
    "Latitude",
    "Longitude",
]


@fuzz(200)
@given(
    st.lists(st.lists(csv_cell, min_size=len(NYC_COLUMNS), max_size=len(NYC_COLUMNS)), max_size=15),
    st.integers(min_value=4, max_value=16),
)
def test_fuzz004_portal_csv_accounts_for_every_row(rows: list[list[str]], chunk: int) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(NYC_COLUMNS)
    # A row of empty cells would be a blank line, which is not a record: keep one cell.
    writer.writerows([row if any(c.strip() for c in row) else ["x", *row[1:]] for row in rows])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        frames, rejections, total = [], [], 0
        for part in read_portal_export(path, load_layout("nyc"), chunk_rows=chunk):
            frames.append(part.reports)
            rejections.extend(part.rejections)
            total += part.rows
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"row": []})
    assert total == len(rows)
    _account(frame, rejections, len(rows))


@fuzz(400)
@given(st.binary(max_size=400), st.sampled_from(["nyc", "sf", "boston", "chicago"]))
def test_fuzz005_portal_arbitrary_bytes_raise_only_ingest_error(data: bytes, layout: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(data)
        try:
            for part in read_portal_export(path, load_layout(layout), chunk_rows=3):
                assert part.rows >= len(part.reports)
        except IngestError:
            pass


indicator_cell = st.one_of(
    st.text(max_size=10).filter(lambda s: "\x00" not in s),
    st.dates().map(lambda d: d.isoformat()),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.just(""),
)


@fuzz(200)
@given(st.lists(st.lists(indicator_cell, min_size=5, max_size=5), max_size=12), st.booleans())
def test_fuzz006_indicator_files_account_for_every_row(
    rows: list[list[object]], xlsx: bool
) -> None:
    header = ["indicator", "period", "value", "status", "note"]
    if xlsx:
        clean = [[_xml_clean(c) if isinstance(c, str) else c for c in row] for row in rows]
        data = _xlsx([header, *clean])
        data_rows = [r for r in clean if any(str(c).strip() for c in r if c is not None)]
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8")
        data_rows = [r for r in rows if any(str(c).strip() for c in r)]
    frame, rejections = read_indicator_file(data, filename="f.xlsx" if xlsx else "f.csv")
    assert len(frame) + len(rejections) == len(data_rows)


@fuzz(400)
@given(st.binary(max_size=400), st.booleans())
def test_fuzz007_indicator_arbitrary_bytes_raise_only_ingest_error(
    data: bytes, zipped: bool
) -> None:
    payload = (b"PK\x03\x04" + data) if zipped else data
    with contextlib.suppress(IngestError):
        read_indicator_file(payload, filename="f.xlsx" if zipped else "f.csv")


def test_ing009_rejects_file_appends_and_neutralises_formulas(tmp_path: Path) -> None:
    from triage.ingest import RejectsFile, neutralise_cell
    from triage.ingest.errors import Rejection

    assert neutralise_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [neutralise_cell(v) for v in ("+1", "-1", "@a", "\tb", "\rc", "ok")] == [
        "'+1",
        "'-1",
        "'@a",
        "'\tb",
        "'\rc",
        "ok",
    ]
    path = tmp_path / "rejects.csv"
    first = RejectsFile(path, "=cmd|' /C calc'!A0")
    first([Rejection(3, "lat", "the latitude is not a number", "=1+2")])
    RejectsFile(path, "city")([Rejection(9, "id", "the request has no id", "")])
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["run_at", "source", "row", "field", "reason", "value"]
    assert rows[1][1:] == [
        "'=cmd|' /C calc'!A0",
        "3",
        "lat",
        "the latitude is not a number",
        "'=1+2",
    ]
    assert rows[2][1:3] == ["city", "9"] and len(rows) == 3
