"""The Open311 client and poller against a real HTTP server on 127.0.0.1 serving the real
samples, plus malformed, hostile, empty, slow and failing answers and a paged feed."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.ingest import report_counts_consistent
from db.models import Alert, CitizenReport, DataSource
from db.session import Database
from tests.clock import TODAY
from triage.ingest.errors import ExpansionLimitError, IngestError, Open311ServerError
from triage.ingest.open311_client import Open311Client, iso_utc
from triage.jobs.ingest import ingest_open311, run_source
from triage.settings import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data" / "open311"
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
    port = urllib.parse.urlsplit(base).port
    assert first.source == f"open311:127.0.0.1:{port}/v2#riverton"  # the endpoint, not the host
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
        database,
        first.source,
        city_tz="America/New_York",
        today=TODAY,
        now=later + dt.timedelta(hours=1),
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


# ---------- A server that trickles: every read has a total deadline ----------

TRICKLE_INTERVAL = 0.5
TRICKLE_MAX_BYTES = 40  # the server gives up by itself after 20 s, whatever the client does
MARGIN = 3.0  # seconds past a deadline for the client to notice, on a busy two-core machine
# (a client without a total deadline keeps reading until the server gives up after 20 s, so
# deadline + 3 s still tells the two apart)


@dataclass
class Trickle:
    """What the trickling server did: connections served, and each one's end."""

    headers_too: bool = False
    connections: int = 0
    ended: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    stop: threading.Event = field(default_factory=threading.Event)


class TrickleHandler(BaseHTTPRequestHandler):
    """Headers (or, with ``headers_too``, the status line), then one byte every 0.5 s until
    the client hangs up or 40 bytes have gone."""

    def do_GET(self) -> None:
        trickle: Trickle = self.server.trickle  # type: ignore[attr-defined]
        trickle.connections += 1
        try:
            if trickle.headers_too:
                self.wfile.write(b"HTTP/1.0 200 OK\r\n")
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
            for _ in range(TRICKLE_MAX_BYTES):
                if trickle.stop.wait(TRICKLE_INTERVAL):
                    break
                self.wfile.write(b"X" if trickle.headers_too else b" ")  # a header never ends
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: what a deadline should make it do
        finally:
            trickle.ended.release()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def trickle() -> Iterator[tuple[str, Trickle]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), TrickleHandler)
    httpd.daemon_threads = True
    state = Trickle()
    httpd.trickle = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


def _hung_up(state: Trickle, connections: int) -> bool:
    """Each connection's handler ended within 2 s (the client closed it, not the server)."""
    return all(state.ended.acquire(timeout=2.0) for _ in range(connections))


def test_http009_trickling_answer_is_cut_off_at_the_deadline(
    trickle: tuple[str, Trickle],
) -> None:
    base, state = trickle
    slow = client(base, timeout=2.0, retries=0, api_key="s3cret")
    started = time.monotonic()
    with pytest.raises(
        IngestError, match=r"after 1 attempt: the answer did not arrive in full within 2s"
    ) as caught:
        slow.requests()
    elapsed = time.monotonic() - started
    print(f"trickle: gave up after {elapsed:.2f}s (timeout 2s)")
    assert elapsed < 2.0 + MARGIN
    assert "s3cret" not in str(caught.value)
    assert state.connections == 1 and _hung_up(state, 1)
    # With a retry, each attempt has its own deadline; the retry is cut off the same way.
    retried = client(base, timeout=1.0, retries=1)
    started = time.monotonic()
    with pytest.raises(IngestError, match="after 2 attempts: the answer did not arrive in full"):
        retried.requests()
    assert time.monotonic() - started < 2 * 1.0 + MARGIN
    assert state.connections == 3 and _hung_up(state, 2)
    for nonsense in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(IngestError, match="The timeout must be more than 0"):
            Open311Client(base, timeout=nonsense)


def test_http010_trickling_headers_are_cut_off_at_the_deadline(
    trickle: tuple[str, Trickle],
) -> None:
    base, state = trickle
    state.headers_too = True
    started = time.monotonic()
    with pytest.raises(IngestError, match=r"after 1 attempt: .* within 1\.5s\.$"):
        client(base, timeout=1.5, retries=0).requests()
    assert time.monotonic() - started < 1.5 + MARGIN
    assert _hung_up(state, 1)


def test_http011_cli_timeout_is_a_total_deadline(
    trickle: tuple[str, Trickle], database: Database, tmp_path: Path
) -> None:
    base, state = trickle
    env = {k: v for k, v in os.environ.items() if k != "TRIAGE_DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [
        sys.executable,
        "-m",
        "triage.cli",
        "--db",
        database.url,
        "ingest",
        "open311",
        f"{base}/v2",
        "--timeout",
        "2",
        "--retries",
        "0",
        "--no-progress",
        "--rejects",
        str(tmp_path / "rejects.csv"),
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.monotonic() - started
    print(f"trickle: the CLI exited after {elapsed:.2f}s (--timeout 2, interpreter start included)")
    assert done.returncode == 1, done.stderr
    assert "triage: The Open311 server did not answer" in done.stderr
    assert "after 1 attempt: the answer did not arrive in full within 2s" in done.stderr
    assert elapsed < 2 + 8  # the interpreter and its imports start in a few seconds
    assert state.connections == 1 and _hung_up(state, 1)


def test_http012_poll_job_records_a_failed_run_instead_of_hanging(
    trickle: tuple[str, Trickle], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.ingest import ensure_source
    from db.models import JobRun
    from triage.ingest import open311_client
    from triage.jobs import poll_sources

    base, state = trickle
    with database.session(write=True) as session:
        # The job reads the source with the deadline and retries stored with it (the last
        # `triage ingest open311 --timeout --retries`; by default 30 s and 4 retries).
        config = {"format": "json", "timeout": 1.0, "retries": 1}
        ensure_source(session, "trickle", "open311", url=f"{base}/v2", config=config)
        session.execute(DataSource.__table__.update().values(poll_minutes=15))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", database.url)
    assert open311_client.DEFAULT_TIMEOUT == 30.0  # so a run within seconds used the stored 1 s
    started = time.monotonic()
    poll_sources()
    elapsed = time.monotonic() - started
    print(f"trickle: the poll job finished after {elapsed:.2f}s (2 attempts of 1s, a backoff)")
    assert elapsed < 2 * 1.0 + 0.5 + 2 * MARGIN  # a backoff of at most 0.5 s, the job's own work
    with database.session() as session:
        run = session.scalars(select(JobRun)).one()
        source = session.scalars(select(DataSource)).one()
        alert = session.scalars(select(Alert)).one()
    assert run.job_id == "poll-sources" and run.outcome == "error" and run.finished_at
    assert "did not arrive in full within 1s" in run.detail["failed"]["trickle"]
    assert "did not arrive in full" in source.last_error and source.last_success_at is None
    assert alert.kind == "stale"
    assert state.connections == 2 and _hung_up(state, 2)


def _gzip_members(*members: bytes, padding_mb: int = 0) -> bytes:
    """Gzip members, one after the other; the last one followed by ``padding_mb`` MB of
    spaces (compressed in a stream, never held whole)."""
    out = bytearray()
    for number, member in enumerate(members, start=1):
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        out += packer.compress(member)
        if number == len(members):
            block = b" " * (1024 * 1024)
            for _ in range(padding_mb):
                out += packer.compress(block)
        out += packer.flush()
    return bytes(out)


def test_http013_gzip_answers_are_inflated_within_the_payload_limit(
    server: tuple[str, Feed],
) -> None:
    base, feed = server
    t0 = dt.datetime(2024, 6, 1, 12, 0)
    body = json.dumps([_record(i, t0, t0) for i in range(3)]).encode()
    gzipped = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    two_members = _gzip_members(body[:10], body[10:])
    feed.routes["/gz/requests.json"] = lambda _query: (200, gzipped, two_members)
    frame, rejections = client(f"{base}/gz").requests()
    assert len(frame) == 3 and rejections == []
    bomb = _gzip_members(body[:-1], padding_mb=200)  # 200 MB from 200 KB
    feed.routes["/bomb/requests.json"] = lambda _query: (200, gzipped, bomb)
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(ExpansionLimitError, match="expands to more than 64 MB"):
        client(f"{base}/bomb").requests()
    cpu = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    tracemalloc.stop()
    print(f"gzip bomb: refused in {cpu:.2f}s of CPU, peak allocation {peak:.0f} MB")
    assert cpu < 1.5 and peak < 64 + 16  # what the payload limit allows, never the 200 MB
    feed.routes["/br/requests.json"] = lambda _query: (200, {"Content-Encoding": "br"}, b"\x0b")
    with pytest.raises(IngestError, match="encoded as 'br', which is not read here"):
        client(f"{base}/br").requests()
    cut = _gzip_members(body)[:-12]
    feed.routes["/cut/requests.json"] = lambda _query: (200, gzipped, cut)
    with pytest.raises(IngestError, match=r"gzip answer .* was cut off"):
        client(f"{base}/cut").requests()


class HandshakeTrickle(socketserver.BaseRequestHandler):
    """A TLS record header announcing 16 KB of handshake, then one byte every 0.5 s."""

    def handle(self) -> None:
        trickle: Trickle = self.server.trickle  # type: ignore[attr-defined]
        trickle.connections += 1
        try:
            self.request.sendall(b"\x16\x03\x03\x40\x00")
            for _ in range(TRICKLE_MAX_BYTES):
                if trickle.stop.wait(TRICKLE_INTERVAL):
                    break
                self.request.sendall(b"\x00")
        except OSError:
            pass  # the client hung up
        finally:
            trickle.ended.release()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate for 127.0.0.1")
    cert, key = folder / "cert.pem", folder / "key.pem"
    key_type = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")
    subject = ("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    files = ("-keyout", str(key), "-out", str(cert))
    command = ["openssl", "req", "-x509", "-nodes", "-days", "2", *key_type, *subject, *files]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


def test_http014_https_answers_and_a_trickling_handshake_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this one certificate
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    feed = Feed(routes={"/v2/requests.json": fixed(b"[]", content_type="application/json")})
    httpd.feed = feed  # type: ignore[attr-defined]
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    slow = socketserver.ThreadingTCPServer(("127.0.0.1", 0), HandshakeTrickle)
    slow.daemon_threads = True
    state = Trickle()
    slow.trickle = state  # type: ignore[attr-defined]
    for served in (httpd, slow):
        threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        frame, _ = client(f"https://127.0.0.1:{httpd.server_address[1]}/v2").requests()
        assert frame.empty and feed.queries[-1][0] == "/v2/requests.json"
        started = time.monotonic()
        with pytest.raises(IngestError, match=r"after 1 attempt: no answer within 1\.5s\.$"):
            client(f"https://127.0.0.1:{slow.server_address[1]}", timeout=1.5, retries=0).requests()
        assert time.monotonic() - started < 1.5 + MARGIN
        assert _hung_up(state, 1)
    finally:
        state.stop.set()
        for served in (httpd, slow):
            served.shutdown()
            served.server_close()


# ---------- Servers that ignore date filters, the cap, cut answers, errors, services ----------

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "open311"


def _full_page(feed: Feed, path: str, records: list[dict[str, str]]) -> None:
    """A server that ignores every filter and always answers the same page."""
    body = json.dumps(records).encode()
    feed.routes[path] = lambda _query: (200, {"Content-Type": "application/json"}, body)


@pytest.mark.parametrize(
    ("spread", "why"),
    [
        (dt.timedelta(days=30), "records came back outside the window asked for"),
        (dt.timedelta(hours=12), "both halves of 2024-01-01 00:00 to 2024-01-02 00:00"),
    ],
)
def test_http015_server_ignoring_dates_ends_within_the_cap_and_stores_the_page(
    server: tuple[str, Feed], database: Database, spread: dt.timedelta, why: str
) -> None:
    base, feed = server
    start = dt.datetime(2024, 1, 1)
    records = [
        _record(i, start + spread * i / 1000, start + spread * i / 1000) for i in range(1000)
    ]
    _full_page(feed, "/v2/requests.json", records + records[:5])  # a repeat or two as well
    poller = client(f"{base}/v2")  # page_limit 1000: every answer is "full"
    summary = ingest_open311(
        database,
        poller,
        source="deaf",
        city_tz="UTC",
        start=start,
        end=start + dt.timedelta(days=30),
        now=start + dt.timedelta(days=31),
    )
    asked = [query for path, query in feed.queries if path == "/v2/requests.json"]
    print(f"date-ignoring server: {len(asked)} requests, notes {summary.notes}")
    assert summary.requests == len(feed.queries) <= 5  # services + probes + one full fetch
    assert not summary.capped
    assert asked[-1] == {}  # the fallback: one fetch without dates
    assert (summary.read, summary.added) == (1000, 1000)
    assert any(why in note and "ignores start/end" in note for note in summary.notes)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 1000
        source = session.scalars(select(DataSource)).one()
        assert source.cursor == "u:2024-01-31T00:00:00"
    # Polling it later (updated_after/updated_before) is caught the same way.
    later = start + dt.timedelta(days=32)
    again = ingest_open311(database, poller, source="deaf", city_tz="UTC", now=later)
    assert again.requests <= 4 and (again.added, again.unchanged) == (0, 1000)
    assert any("ignores updated_after/updated_before" in note for note in again.notes)


def test_http016_request_cap_stops_after_a_whole_window_and_the_next_run_goes_on(
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
    window = {"start": start, "end": start + dt.timedelta(days=5)}
    # The service list (1), day 1 (7: halved twice), day 2 (1), then day 3 is cut short.
    first = ingest_open311(
        database, poller, source="capped", city_tz="UTC", max_requests=12, now=start, **window
    )
    assert first.capped and first.requests == len(feed.queries) == 12
    assert any("cap of 12 requests" in note for note in first.notes)
    assert first.cursor == "b:2024-01-03T00:00:00"  # days 1 and 2 done
    assert first.as_dict()["request_cap_reached"] is True
    with database.session() as session:
        assert session.scalars(select(DataSource)).one().cursor == first.cursor
        # Days 1 and 2; day 3 is asked again by the next run, from its start.
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 18
    rest = ingest_open311(database, poller, source="capped", city_tz="UTC", now=start, **window)
    assert not rest.capped and rest.cursor == "u:2024-01-06T00:00:00"
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CitizenReport)) == 50
        assert report_counts_consistent(session, "UTC").empty


def test_http017_cut_off_xml_answer_keeps_the_complete_records(
    server: tuple[str, Feed], database: Database, tmp_path: Path
) -> None:
    from triage.ingest import RejectsFile

    base, feed = server
    sf = (SAMPLES / "sf_requests_2012.xml").read_bytes()
    feed.routes["/sf/requests.xml"] = fixed(b"\xef\xbb\xbf\n" + sf[: len(sf) // 2])
    rejects = RejectsFile(tmp_path / "rejects.csv", "sf")
    summary = ingest_open311(
        database,
        client(f"{base}/sf", fmt="xml"),
        source="sf",
        source_tz="America/Los_Angeles",
        start=dt.datetime(2012, 5, 22),
        end=dt.datetime(2012, 5, 24),
        window=dt.timedelta(days=2),
        on_reject=rejects,
        now=dt.datetime(2012, 6, 1),
    )
    assert (summary.read, summary.added, summary.rejected, summary.dropped) == (28, 27, 1, 1)
    assert "dropped: the answer was cut off inside this record" in rejects.path.read_text()
    assert summary.as_dict()["dropped"] == 1


def test_http018_bare_error_roots_keep_the_servers_words(server: tuple[str, Feed]) -> None:
    base, feed = server
    feed.routes["/v2/requests.xml"] = fixed(b"<error>Invalid jurisdiction_id riverton</error>", 400)
    feed.routes["/busy/requests.xml"] = fixed(b"<error>Down for maintenance until 6pm</error>", 503)
    with pytest.raises(Open311ServerError, match=r"Invalid jurisdiction_id riverton.*HTTP 400"):
        client(f"{base}/v2", fmt="xml").requests()
    with pytest.raises(IngestError, match=r"HTTP 503 \(an error: Down for maintenance until 6pm\)"):
        client(f"{base}/busy", fmt="xml", retries=1).requests()


def test_http019_services_become_categories_on_the_first_poll_and_with_services(
    server: tuple[str, Feed], database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.models import ReportCategory
    from triage.cli import main

    base, feed = server
    feed.routes["/sf/services.xml"] = fixed((SAMPLES / "sf_services_2012.xml").read_bytes())
    feed.routes["/sf/requests.xml"] = fixed((SAMPLES / "sf_requests_2012.xml").read_bytes())
    sf = client(f"{base}/sf", fmt="xml")
    run = {"source_tz": "America/Los_Angeles", "now": dt.datetime(2012, 5, 23, 12)}
    first = ingest_open311(database, sf, lookback=dt.timedelta(days=2), **run)
    assert first.services == 38 and any("38 read (13 groups)" in n for n in first.notes)
    with database.session() as session:
        names = dict(session.execute(select(ReportCategory.code, ReportCategory.name)).all())
        source = session.scalars(select(DataSource)).one()
    # 38 services; the requests add their 23 other categories, and reuse the 5 they share.
    assert len(names) == 38 + 23
    assert names["cans-left-out-24x7"] == "Cans_Left_Out_24x7"
    assert source.config["services"]["groups"]["cans-left-out-24x7"] == "Litter Receptacles"
    assert source.config["timezone"] == "America/Los_Angeles"
    second = ingest_open311(database, sf, **run)
    assert second.services == 0  # not the first poll: the service list is not asked again
    assert [p for p, _ in feed.queries].count("/sf/services.xml") == 1
    # `triage ingest open311 URL --services` reads it again: nothing new the second time.
    argv = ["--db", database.url, "ingest", "open311", f"{base}/sf", "--format", "xml"]
    assert main([*argv, "--services"]) == 0
    out = capsys.readouterr().out
    assert f"open311:127.0.0.1:{urllib.parse.urlsplit(base).port}/sf (open311)" in out
    assert "38 read (13 groups), 0 new categories, 38 known" in out
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(ReportCategory)) == 61
    # A server without a service list: noted on the first poll, the requests still come in.
    feed.routes["/bare/requests.json"] = fixed(b"[]", content_type="application/json")
    bare = ingest_open311(database, client(f"{base}/bare"), city_tz="UTC", now=run["now"])
    assert any("services: not read" in n and "HTTP 404" in n for n in bare.notes)


def test_http020_each_endpoint_is_its_own_source_and_old_host_keys_keep_working(
    server: tuple[str, Feed], database: Database
) -> None:
    from db.ingest import ensure_source, save_cursor
    from triage.ingest import default_open311_source
    from triage.jobs.ingest import resolve_open311_source

    base, feed = server
    port = urllib.parse.urlsplit(base).port
    t0 = dt.datetime(2024, 6, 1, 12, 0)
    for path in ("/north/v2/requests.json", "/south/v2/requests.json"):
        hour_ago = t0 - dt.timedelta(hours=1)
        _paged_feed(feed, path, [_record(1, hour_ago, hour_ago)], limit=1000)
    north, south = client(f"{base}/north/v2"), client(f"{base}/south/v2")
    ingest_open311(database, north, city_tz="UTC", now=t0)
    ingest_open311(database, south, city_tz="UTC", now=t0 + dt.timedelta(hours=1))
    with database.session() as session:
        cursors = dict(session.execute(select(DataSource.name, DataSource.cursor)).all())
        stored = session.execute(select(CitizenReport.source)).scalars().all()
    assert cursors == {
        f"open311:127.0.0.1:{port}/north/v2": "u:2024-06-01T12:00:00",
        f"open311:127.0.0.1:{port}/south/v2": "u:2024-06-01T13:00:00",
    }
    assert sorted(stored) == sorted(cursors)  # R-1 twice: one per endpoint, no clash
    long = client(f"{base}/{'x' * 80}/v2", jurisdiction_id="j")
    assert len(default_open311_source(long)) == 64
    # A source registered under the old host-only key, for this very endpoint, keeps its name
    # (its cursor and its reports); another endpoint on the host gets its own path key.
    legacy = client(f"{base}/legacy/v2", jurisdiction_id="rv")
    with database.session(write=True) as session:
        state = ensure_source(session, "open311:127.0.0.1/rv", "open311", url=legacy.display_url)
        save_cursor(session, state.id, "u:2024-06-01T00:00:00")
    assert resolve_open311_source(database, legacy) == "open311:127.0.0.1/rv"
    other = client(f"{base}/other/v2", jurisdiction_id="rv")
    assert resolve_open311_source(database, other) == f"open311:127.0.0.1:{port}/other/v2#rv"
    _paged_feed(feed, "/legacy/v2/requests.json", [], limit=1000)
    kept = ingest_open311(database, legacy, city_tz="UTC", now=t0)
    assert kept.source == "open311:127.0.0.1/rv"
    assert feed.queries[-1][1]["updated_after"] == "2024-05-31T23:55:00Z"  # its old cursor


def test_http021_zoneless_times_use_the_sources_declared_zone(
    server: tuple[str, Feed], database: Database
) -> None:
    from db.ingest import ensure_source

    base, feed = server
    feed.routes["/sf/requests.xml"] = fixed((SAMPLES / "sf_requests_2012.xml").read_bytes())
    sf = client(f"{base}/sf", fmt="xml")
    now = dt.datetime(2012, 5, 23, 12)
    window = {"start": dt.datetime(2012, 5, 22), "end": now, "window": dt.timedelta(days=2)}
    # No zone given, none declared, no city zone: refused before any request, and why.
    with pytest.raises(IngestError, match=r"declares no time zone.*--timezone") as caught:
        ingest_open311(database, sf, source="sf", now=now, **window)
    assert "sf" in str(caught.value) and feed.queries == []
    with pytest.raises(IngestError, match="'Pacific' is not a time zone name"):
        ingest_open311(database, sf, source="sf", source_tz="Pacific", now=now, **window)
    # Declared once (the CLI's --timezone), kept with the source, used while the city is
    # elsewhere: 23:57:23.97 in San Francisco is 06:57:23.97 UTC the next day.
    ingest_open311(
        database, sf, source="sf", source_tz="America/Los_Angeles", city_tz="UTC", now=now, **window
    )
    again = run_source(database, "sf", city_tz="America/New_York", today=TODAY, now=now)
    assert again.kind == "open311"
    with database.session() as session:
        source = session.scalars(select(DataSource).where(DataSource.name == "sf")).one()
        first = session.scalars(
            select(CitizenReport).where(CitizenReport.service_request_id == "1129806")
        ).one()
    assert source.config["timezone"] == "America/Los_Angeles"
    assert first.requested_at == dt.datetime(2012, 5, 23, 6, 57, 23, 970000)
    # A source registered before zones were declared: the city's zone is its declared default.
    with database.session(write=True) as session:
        ensure_source(session, "old", "open311", url=f"{base}/sf", config={"format": "xml"})
    run_source(database, "old", city_tz="America/Chicago", today=TODAY, now=now)
    with database.session() as session:
        old = session.scalars(select(DataSource).where(DataSource.name == "old")).one()
    assert old.config["timezone"] == "America/Chicago"


def test_http022_old_records_from_a_server_that_filters_are_not_taken_for_ignored_dates(
    server: tuple[str, Feed], database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from triage.cli import main

    base, feed = server
    long_ago = dt.datetime(2020, 1, 1)

    def filtering(query: dict[str, str]) -> Answer:
        # It filters on its own clock, but reports times from long ago: each window answers
        # its own records, so the dates are honoured and no fallback may happen.
        window = query.get("start_date", "none")
        body = [
            {**_record(i, long_ago, long_ago), "service_request_id": f"{window}-{i}"}
            for i in range(2)
        ]
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    feed.routes["/odd/requests.json"] = filtering
    start = dt.datetime(2024, 1, 1)
    summary = ingest_open311(
        database,
        client(f"{base}/odd"),
        city_tz="UTC",
        start=start,
        end=start + dt.timedelta(days=3),
        now=start + dt.timedelta(days=3),
    )
    assert not any("ignores" in note for note in summary.notes)
    assert summary.added == 2 * 3 and summary.requests == 1 + 2 * 3  # a probe a day
    assert summary.cursor == "u:2024-01-04T00:00:00"
    # The command line says how many requests a run made, and why it stopped early.
    deaf = [_record(i, long_ago + dt.timedelta(days=i), long_ago) for i in range(3)]
    _full_page(feed, "/deaf/requests.json", deaf)
    argv = ["--db", database.url, "ingest", "open311", f"{base}/deaf", "--no-progress"]
    assert main([*argv, "--timezone", "Europe/Paris"]) == 0
    out = capsys.readouterr().out
    assert "  requests            4" in out  # services, the window, the one before, the fetch
    assert "note: the server ignores updated_after/updated_before" in out
    assert main([*argv, "--json", "--max-requests", "1"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["request_cap_reached"] is True and figures["requests"] == 1


def test_http023_a_source_keeps_the_deadline_and_retries_it_was_read_with(
    server: tuple[str, Feed], database: Database
) -> None:
    """What the command line was given is what the scheduled poll uses; a stored value that
    is not a number, or out of range, stops the run with a message naming the source."""
    base, feed = server
    feed.routes["/v2/requests.json"] = fixed(b"[]", content_type="application/json")
    now = dt.datetime(2024, 6, 1, 12, 0)
    ingest_open311(
        database,
        client(f"{base}/v2", timeout=0.7, retries=2),
        source="quick",
        source_tz="America/New_York",
        now=now,
    )
    with database.session() as session:
        config = session.scalars(select(DataSource).where(DataSource.name == "quick")).one().config
    assert (config["timeout"], config["retries"]) == (0.7, 2)
    for retries, message in (("many", "not a number: 0.7, 'many'"), (99, "from 0 to 10")):
        with database.session(write=True) as session:
            session.execute(
                DataSource.__table__.update()
                .where(DataSource.name == "quick")
                .values(config={**config, "retries": retries})
            )
        with pytest.raises(IngestError, match=message):
            run_source(database, "quick", city_tz="America/New_York", today=TODAY, now=now)
