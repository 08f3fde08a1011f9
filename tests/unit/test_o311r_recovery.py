"""Open311 answers as real servers send them when things go wrong: cut off mid-record, junk
before the root, a BOM, a malformed record, a bare ``<error>``; and what each real sample in
``tests/data/open311`` gives (records, dropped, categories)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.ingest.errors import IngestError, Open311ServerError
from triage.ingest.open311 import (
    CUT_OFF,
    CUT_OFF_LIST,
    NOT_WELL_FORMED,
    dropped_count,
    parse_discovery,
    parse_requests,
    parse_service_definition,
    parse_services,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "open311"
REQUEST_SAMPLES = {
    "sf_requests_2012.xml": "America/Los_Angeles",
    "toronto_requests_many.xml": "America/Toronto",
    "chicago_requests.json": "America/Chicago",
}


def _read(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _account(frame: pd.DataFrame, rejections: list, n: int) -> None:
    rows = sorted([*frame["row"].tolist(), *(r.row for r in rejections)])
    assert rows == list(range(1, n + 1)), "every record started is parsed or rejected, once"


@pytest.mark.parametrize("name", sorted(REQUEST_SAMPLES))
def test_o311r001_every_cut_keeps_each_complete_record_and_says_what_was_lost(
    name: str,
) -> None:
    payload = _read(name)
    tz = REQUEST_SAMPLES[name]
    whole, _ = parse_requests(payload, tz=tz)
    ids = whole["service_request_id"].tolist()
    step = max(1, len(payload) // 90)
    recovered_at_least_once = False
    for cut in range(1, len(payload) - 1, step):
        part = payload[:cut]
        try:
            frame, rejections = parse_requests(part, tz=tz)
        except IngestError as exc:
            # Only when not one record is complete yet: never a crash, never another error.
            assert "well-formed" in str(exc) or "JSON" in str(exc) or "empty" in str(exc)
            continue
        kept = frame["service_request_id"].tolist()
        assert kept == ids[: len(kept)], "the complete records, in order, as a whole parse"
        pd.testing.assert_frame_equal(
            frame.drop(columns="row").reset_index(drop=True),
            whole.drop(columns="row").iloc[: len(kept)].reset_index(drop=True),
        )
        if len(kept) < len(ids):
            recovered_at_least_once = True
            assert dropped_count(rejections) >= 1, f"a cut at byte {cut} lost records silently"
            _account(frame, rejections, len(kept) + len(rejections))
    assert recovered_at_least_once


def test_o311r002_sf_cut_mid_record_keeps_27_and_drops_1() -> None:
    sf = _read("sf_requests_2012.xml")
    frame, rejections = parse_requests(sf[: len(sf) // 2], tz="America/Los_Angeles")
    assert len(frame) == 27
    assert [(r.row, r.reason) for r in rejections] == [(28, CUT_OFF)]
    assert dropped_count(rejections) == 1
    # The records' xsi:nil elements still read as empty: the namespace went with each one.
    assert frame.iloc[0]["updated_at"] == frame.iloc[0]["requested_at"]


@pytest.mark.parametrize(
    "prefix",
    [
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf  \r\n",
        b"\n\n",
        b"<br />\n<b>Warning</b>:  session_start(): headers already sent<br />\n",
        b"Deprecated: mysql_connect() is deprecated\n",
    ],
)
def test_o311r003_junk_bom_or_space_before_the_root_loses_nothing(prefix: bytes) -> None:
    frame, rejections = parse_requests(prefix + _read("sf_requests_2012.xml"))
    assert len(frame) == 56 and rejections == []
    text = prefix.decode("utf-8") + _read("sf_requests_2012.xml").decode("utf-8")
    frame, rejections = parse_requests(text, tz="America/Los_Angeles")
    assert len(frame) == 56 and rejections == []


def test_o311r004_a_malformed_record_is_dropped_alone() -> None:
    toronto = _read("toronto_requests_many.xml").decode("utf-8")
    broken = toronto.replace("Warden Ave / Freeman St", "Warden Ave & Freeman St", 1)
    assert broken != toronto
    frame, rejections = parse_requests(broken.encode("utf-8"))
    assert frame["service_request_id"].tolist() == ["101005420894"]
    assert [(r.row, r.reason) for r in rejections] == [(1, NOT_WELL_FORMED)]
    # ... and an entity reference (no DTD declares it) is no way in either.
    sneaky = toronto.replace("Warden Ave / Freeman St", "&xxe;", 1).encode("utf-8")
    frame, rejections = parse_requests(sneaky[:-20])
    assert len(frame) == 1 and dropped_count(rejections) == 2


def test_o311r005_a_dtd_is_refused_on_the_recovery_path_too() -> None:
    cut = (
        b'junk<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        b"<service_requests><request><service_request_id>1</service_request_id>"
        b"<requested_datetime>2024-01-01T00:00:00Z</requested_datetime></request><request>"
    )
    with pytest.raises(IngestError, match="DTD or entities"):
        parse_requests(cut)


def test_o311r006_a_non_utf8_answer_is_recovered_in_its_declared_encoding() -> None:
    record = (
        "<request><service_request_id>{}</service_request_id><service_name>Éclairage"
        "</service_name><requested_datetime>2024-01-01T00:00:00Z</requested_datetime></request>"
    )
    text = '<?xml version="1.0" encoding="ISO-8859-1"?><service_requests>' + "".join(
        record.format(i) for i in range(3)
    )
    frame, rejections = parse_requests(text.encode("latin-1")[:-30])
    assert frame["raw_category"].tolist() == ["Éclairage", "Éclairage"]
    assert dropped_count(rejections) == 1


def test_o311r007_truncated_json_keeps_complete_objects() -> None:
    chicago = _read("chicago_requests.json").decode("utf-8")
    first_end = chicago.index("},") + 1
    frame, rejections = parse_requests(chicago[: first_end + 20])
    assert frame["service_request_id"].tolist() == ["14-01100669"]
    assert [(r.row, r.reason) for r in rejections] == [(2, CUT_OFF_LIST)]
    # Cut between two records: the one before is whole, the loss is still said.
    frame, rejections = parse_requests(chicago[: first_end + 1])
    assert len(frame) == 1 and dropped_count(rejections) == 1
    wrapped = json.dumps({"service_requests": json.loads(chicago)})
    frame, rejections = parse_requests(wrapped[:-40])
    assert len(frame) == 1 and dropped_count(rejections) == 1
    with pytest.raises(IngestError, match="not valid JSON"):
        parse_requests(chicago[:40])  # not one complete record


@pytest.mark.parametrize(
    ("payload", "words", "code"),
    [
        (b"<error>Invalid jurisdiction_id: riverton</error>", "an error: Invalid juris", None),
        (b"<?xml version='1.0'?>\n<error>\n  API key  expired\n</error>", "API key expired", None),
        (b"<error><code>503</code><description>Maintenance</description></error>", "503", 503),
        (b"<errors><error><code>400</code>start_date is invalid</error></errors>", "start_d", 400),
        (b"<errors><error><description>Down</description></error></errors>", "Down", None),
        (b'{"error": "Rate limit exceeded"}', "Rate limit exceeded", None),
        (b'{"error": {"code": 401, "description": "No key"}}', "401: No key", 401),
    ],
)
def test_o311r008_error_documents_keep_the_servers_words(
    payload: bytes, words: str, code: int | None
) -> None:
    with pytest.raises(Open311ServerError, match=words) as caught:
        parse_requests(payload)
    assert caught.value.code == code


def test_o311r009_services_lists_keep_groups_and_survive_a_cut() -> None:
    dc = _read("dc_services.xml")
    services, rejections = parse_services(dc)
    assert len(services) == 86 and rejections == []
    assert services["group"].replace("", None).nunique() == 38
    cut, rejections = parse_services(dc[:30_000])
    assert len(cut) == 51 and dropped_count(rejections) == 1
    assert cut["service_code"].tolist() == services["service_code"].tolist()[:51]


# What each real sample gives: (records or services, dropped, categories or groups).
SAMPLE_TABLE = {
    "sf_requests_2012.xml": ("requests", 56, 0, 28),
    "toronto_requests_many.xml": ("requests", 2, 0, 1),
    "toronto_request_single.xml": ("requests", 1, 0, 1),
    "chicago_requests.json": ("requests", 2, 0, 2),
    "requests_empty.xml": ("requests", 0, 0, 0),
    "boston_post_response_token.xml": ("requests", 0, 0, 0),
    "sf_services_2012.xml": ("services", 38, 0, 13),
    "dc_services.xml": ("services", 86, 0, 38),
    "error_404_not_found.xml": ("error", 404, 0, 0),
    "boston_error_400_duplicate.xml": ("error", 400, 0, 0),
    "dc_discovery.xml": ("discovery", 2, 0, 0),
    "boston_discovery.json": ("discovery", 2, 0, 0),
    "dc_service_definition_S0301.xml": ("definition", 6, 0, 0),
}


@pytest.mark.parametrize("name", sorted(SAMPLE_TABLE))
def test_o311r010_each_real_sample(name: str) -> None:
    kind, count, dropped, categories = SAMPLE_TABLE[name]
    payload = _read(name)
    if kind == "requests":
        frame, rejections = parse_requests(payload, tz="UTC")
        assert (len(frame), dropped_count(rejections)) == (count, dropped)
        assert frame["raw_category"].nunique() == categories
    elif kind == "services":
        services, rejections = parse_services(payload)
        assert (len(services), dropped_count(rejections)) == (count, dropped)
        assert services["group"].replace("", None).nunique() == categories
    elif kind == "error":
        with pytest.raises(Open311ServerError) as caught:
            parse_requests(payload)
        assert caught.value.code == count
    elif kind == "discovery":
        assert len(parse_discovery(payload)["endpoints"]) == count
    else:
        assert len(parse_service_definition(payload)["attributes"]) == count
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(SAMPLE_TABLE)


record_ids = st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_ids, st.data(), st.binary(max_size=40))
def test_o311r011_fuzz_cut_and_junk_never_crash_and_account_for_records(
    ids: list[int], data: st.DataObject, junk: bytes
) -> None:
    body = b"".join(
        b"<request><service_request_id>%d</service_request_id>"
        b"<requested_datetime>2024-01-01T00:00:00Z</requested_datetime></request>" % i
        for i in ids
    )
    whole = b"<service_requests>" + body + b"</service_requests>"
    cut = data.draw(st.integers(min_value=0, max_value=len(whole)))
    payload = junk.replace(b"<", b"") + whole[:cut]
    try:
        frame, rejections = parse_requests(payload)
    except IngestError:
        return
    kept = frame["service_request_id"].tolist()
    assert kept == [str(i) for i in ids][: len(kept)]
    if len(kept) < len(ids):
        assert dropped_count(rejections) >= 1


def test_o311r012_the_declared_zone_rule() -> None:
    from triage.ingest import declared_timezone

    # Given for this run > declared by the source > the city's zone > refused.
    assert declared_timezone("s", "Asia/Tokyo", "Europe/Paris", "UTC") == "Asia/Tokyo"
    assert declared_timezone("s", None, "Europe/Paris", "UTC") == "Europe/Paris"
    assert declared_timezone("s", None, None, "America/Chicago") == "America/Chicago"
    with pytest.raises(IngestError, match=r"source s declares no time zone.*--timezone"):
        declared_timezone("s", None, "", None)
    for nonsense in ("Mars/Olympus", "Pacific", "../../etc/passwd"):
        with pytest.raises(IngestError, match="is not a time zone name"):
            declared_timezone("s", nonsense, None, "UTC")
