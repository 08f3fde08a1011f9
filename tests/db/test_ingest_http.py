"""The Open311 client and poller against a real HTTP server on 127.0.0.1 serving the real
samples, plus malformed, hostile, empty, slow and failing answers and a paged feed."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from db.ingest import report_counts_consistent
from db.models import Alert, CitizenReport, DataSource
from db.session import Database
from triage.ingest import ingest_open311, run_source
from triage.ingest.errors import IngestError, Open311ServerError
from triage.ingest.open311_client import Open311Client, iso_utc
from triage.settings import REPO_ROOT

DATA = REPO_ROOT.parent / "shared" / "data" / "open311"
needs_samples = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not beside repo")
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<service_requests><request><service_request_id>&c;</service_request_id></request>"
    b"</service_requests>"
)

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Feed:
    """What the fake server answers, per path; records every query it receives."""

    routes: dict[str, Callable[[dict[str, str]], Answer]] = field(default_factory=dict)
    queries: list[tuple[str, dict[str, str]]] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        feed: Feed = self.server.feed  # type: ignore[attr-defined]
        feed.queries.append((parsed.path, query))
        route = feed.routes.get(parsed.path)
        status, headers, body = route(query) if route else (404, {}, b"no route")
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the slow-answer test)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Feed]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    feed = Feed()
    httpd.feed = feed  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", feed
    finally:
        httpd.shutdown()
        httpd.server_close()


def fixed(body: bytes, status: int = 200, content_type: str = "text/xml") -> Callable[..., Answer]:
    return lambda _query: (status, {"Content-Type": content_type}, body)


def client(base: str, **kwargs: object) -> Open311Client:
    sleeps: list[float] = []
    options: dict[str, object] = {"timeout": 2.0, "retries": 3, "sleep": sleeps.append}
    options.update(kwargs)
    made = Open311Client(base, **options)  # type: ignore[arg-type]
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


@needs_samples
def test_http001_real_samples_over_http_xml_and_json(server: tuple[str, Feed]) -> None:
    base, feed = server
    feed.routes["/v2/requests.xml"] = fixed((DATA / "sf_requests_2012.xml").read_bytes())
    feed.routes["/v2/requests.json"] = fixed(
        (DATA / "chicago_requests.json").read_bytes(), content_type="application/json"
    )
    feed.routes["/v2/services.xml"] = fixed((DATA / "dc_services.xml").read_bytes())
    xml = client(f"{base}/v2", fmt="xml", jurisdiction_id="sf.gov", api_key="s3cret")
    frame, rejections = xml.requests(tz="America/Los_Angeles", start=dt.datetime(2012, 5, 22))
    assert len(frame) == 56 and rejections == []
    path, query = feed.queries[-1]
    assert path == "/v2/requests.xml"
    assert query == {
        "start_date": "2012-05-22T00:00:00Z",
        "jurisdiction_id": "sf.gov",
        "api_key": "s3cret",
    }
    services, _ = xml.services()
    assert len(services) == 86
    frame, _ = client(f"{base}/v2").requests()
    assert frame["service_request_id"].tolist() == ["14-01100669", "14-01100627"]


def test_http002_malformed_hostile_and_empty_answers(server: tuple[str, Feed]) -> None:
    base, feed = server
    feed.routes["/bad/requests.xml"] = fixed(b"<service_requests><request><status>open")
    feed.routes["/bomb/requests.xml"] = fixed(BILLION_LAUGHS)
    feed.routes["/empty/requests.json"] = fixed(b"[]", content_type="application/json")
    feed.routes["/blank/requests.json"] = fixed(b"", content_type="application/json")
    with pytest.raises(IngestError, match="not well-formed"):
        client(f"{base}/bad", fmt="xml").requests()
    with pytest.raises(IngestError, match="DTD or entities"):
        client(f"{base}/bomb", fmt="xml").requests()
    frame, rejections = client(f"{base}/empty").requests()
    assert frame.empty and rejections == []
    with pytest.raises(IngestError, match="empty"):
        client(f"{base}/blank").requests()


def test_http003_slow_answer_times_out_after_retries(server: tuple[str, Feed]) -> None:
    base, feed = server

    def slow(_query: dict[str, str]) -> Answer:
        time.sleep(1.5)
        return 200, {}, b"[]"

    feed.routes["/slow/requests.json"] = slow
    slow_client = client(f"{base}/slow", timeout=0.3, retries=1, api_key="s3cret")
    started = time.monotonic()
    with pytest.raises(
        IngestError, match=r"did not answer .* after 2 attempts: no answer within"
    ) as caught:
        slow_client.requests()
    assert time.monotonic() - started < 3.0
    assert "s3cret" not in str(caught.value)  # never a credential in a message
    assert slow_client.attempts == 2


def test_http004_server_errors_are_retried_with_backoff(server: tuple[str, Feed]) -> None:
    base, feed = server
    answers = iter([500, 503, 429, 200])

    def flaky(_query: dict[str, str]) -> Answer:
        status = next(answers)
        headers = {"Retry-After": "2"} if status == 429 else {}
        return status, headers, b"[]" if status == 200 else b"oops"

    feed.routes["/flaky/requests.json"] = flaky
    flaky_client = client(f"{base}/flaky", backoff=0.5, max_backoff=10.0)
    frame, _ = flaky_client.requests()
    assert frame.empty and flaky_client.attempts == 4
    sleeps = flaky_client.sleeps  # type: ignore[attr-defined]
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # doubling, with jitter
    assert sleeps[2] >= 2.0  # Retry-After honoured


@needs_samples
def test_http005_client_errors_are_not_retried(server: tuple[str, Feed]) -> None:
    base, feed = server
    feed.routes["/v2/requests.xml"] = fixed((DATA / "error_404_not_found.xml").read_bytes(), 404)
    feed.routes["/denied/requests.json"] = fixed(b"Forbidden", 403)
    failing = client(f"{base}/v2", fmt="xml")
    with pytest.raises(Open311ServerError, match="error 404: Service request not found") as caught:
        failing.requests()
    assert caught.value.code == 404 and failing.attempts == 1
    with pytest.raises(Open311ServerError, match="HTTP 403"):
        client(f"{base}/denied").requests()
    with pytest.raises(IngestError, match="http"):
        Open311Client("file:///etc/passwd")


def _paged_feed(feed: Feed, path: str, records: list[dict[str, str]], limit: int) -> None:
    """A server that filters by date window (requested or updated) and returns at most ``limit``."""

    def answer(query: dict[str, str]) -> Answer:
        def parse(text: str) -> dt.datetime:
            return dt.datetime.fromisoformat(text.replace("Z", ""))

        if "start_date" in query:
            key, low, high = "requested_datetime", query["start_date"], query["end_date"]
        else:
            key, low, high = "updated_datetime", query["updated_after"], query["updated_before"]
        chosen = [
            r for r in records if parse(low) <= parse(r[key].replace("+00:00", "")) < parse(high)
        ]
        chosen.sort(key=lambda r: r[key])
        page = int(query.get("page", "1"))
        body = chosen[(page - 1) * limit : page * limit]
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    feed.routes[path] = answer


def _record(i: int, requested: dt.datetime, updated: dt.datetime, name: str = "Pothole") -> dict:
    return {
        "service_request_id": f"R-{i}",
        "status": "open",
        "service_name": name,
        "requested_datetime": requested.isoformat() + "+00:00",
        "updated_datetime": updated.isoformat() + "+00:00",
        "lat": 40.7075,
        "long": -74.0113,
    }


def test_http006_backfill_pages_across_date_windows(
    server: tuple[str, Feed], database: Database
) -> None:
    base, feed = server
    start = dt.datetime(2024, 1, 1)
    records = []
    for day, how_many in enumerate([15, 3, 25, 0, 7]):
        for k in range(how_many):
            at = start + dt.timedelta(days=day, minutes=37 * k)
            records.append(_record(len(records), at, at + dt.timedelta(hours=1)))
    _paged_feed(feed, "/v2/requests.json", records, limit=10)
    poller = client(f"{base}/v2", page_limit=10)
    summary = ingest_open311(
        database,
        poller,
        source="riverton",
        city_tz="America/New_York",
        start=start,
        end=start + dt.timedelta(days=5),
        now=start + dt.timedelta(days=6),
    )
    assert (summary.read, summary.added, summary.rejected) == (50, 50, 0)
    windows = [q for p, q in feed.queries if p == "/v2/requests.json"]
    assert len(windows) > 5  # full days were split into smaller windows
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 50
        source = session.scalars(select(DataSource)).one()
        assert source.kind == "open311" and source.cursor == "u:2024-01-06T00:00:00"
        assert report_counts_consistent(session, "America/New_York").empty
    again = ingest_open311(
        database,
        poller,
        source="riverton",
        city_tz="America/New_York",
        start=start,
        end=start + dt.timedelta(days=5),
        now=start + dt.timedelta(days=6),
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 50)


def test_http007_incremental_polling_by_updated_time(
    server: tuple[str, Feed], database: Database
) -> None:
    base, feed = server
    t0 = dt.datetime(2024, 6, 1, 12, 0)
    records = [
        _record(i, t0 - dt.timedelta(days=1), t0 - dt.timedelta(hours=i + 1)) for i in range(6)
    ]
    _paged_feed(feed, "/v2/requests.json", records, limit=1000)
    poller = client(f"{base}/v2", jurisdiction_id="riverton")
    first = ingest_open311(database, poller, city_tz="America/New_York", now=t0)
    assert first.source == "open311:127.0.0.1/riverton"
    assert (first.added, first.updated) == (6, 0)
    assert first.cursor == "u:" + t0.isoformat()
    # Two requests change later, one of them closed; an older copy of a third comes back.
    records[0] = {**records[0], "status": "closed", "updated_datetime": "2024-06-01T13:00:00+00:00"}
    records[1] = {
        **records[1],
        "service_name": "Graffiti",
        "updated_datetime": "2024-06-01T13:30:00+00:00",
    }
    records.append(
        {
            **records[2],
            "updated_datetime": "2024-06-01T12:30:00+00:00",
            "requested_datetime": "2024-05-01T00:00:00+00:00",
        }
    )
    later = t0 + dt.timedelta(hours=2)
    second = ingest_open311(database, poller, city_tz="America/New_York", now=later)
    _, query = feed.queries[-1]
    assert query["updated_after"] == iso_utc(t0 - dt.timedelta(minutes=5))  # cursor - overlap
    assert query["jurisdiction_id"] == "riverton"
    assert (second.added, second.updated) == (0, 3)
    with database.session() as session:
        closed = session.scalars(
            select(CitizenReport).where(CitizenReport.service_request_id == "R-0")
        ).one()
        assert closed.status == "closed" and closed.closed_at == dt.datetime(2024, 6, 1, 13, 0)
        assert report_counts_consistent(session, "America/New_York").empty
    # The scheduler's entry point polls the registered source with its stored settings.
    third = run_source(
        database, first.source, city_tz="America/New_York", now=later + dt.timedelta(hours=1)
    )
    assert (third.kind, third.read) == ("open311", 0)
    assert feed.queries[-1][1]["jurisdiction_id"] == "riverton"


def test_http008_failing_source_keeps_last_good_data_and_alerts(
    server: tuple[str, Feed], database: Database
) -> None:
    base, feed = server
    t0 = dt.datetime(2024, 6, 1, 12, 0)
    records = [_record(i, t0 - dt.timedelta(days=1), t0 - dt.timedelta(hours=1)) for i in range(4)]
    _paged_feed(feed, "/v2/requests.json", records, limit=1000)
    poller = client(f"{base}/v2", retries=2, api_key="s3cret")
    ingest_open311(database, poller, source="city", city_tz="UTC", now=t0)
    feed.routes["/v2/requests.json"] = fixed(b"down", 503)
    with pytest.raises(IngestError, match="after 3 attempts: HTTP 503") as caught:
        ingest_open311(
            database, poller, source="city", city_tz="UTC", now=t0 + dt.timedelta(hours=1)
        )
    assert "s3cret" not in str(caught.value)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 4
        source = session.scalars(select(DataSource)).one()
        assert source.cursor == "u:" + t0.isoformat()  # the failed poll moved nothing
        assert "HTTP 503" in source.last_error and "s3cret" not in source.last_error
        alert = session.scalars(select(Alert)).one()
        assert alert.kind == "stale" and alert.state == "new" and "city" in alert.message
