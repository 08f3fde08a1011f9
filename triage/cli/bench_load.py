"""``triage bench load``: many signed-in people at once against gunicorn on loopback.

It starts ``gunicorn 'app:wsgi()'`` with several workers on 127.0.0.1 over the given database
(seeding the small demo city into an empty one), signs in ``--sessions`` people at once (the
demo users in turn), and has each load pages the way the Dash renderer does (the same request
sequence as ``triage bench ui``, over real HTTP). It counts errors (any answer other than the
expected one, or no answer) and times every request; ``/healthz``, timed under the same load,
is the floor: what the HTTP stack and the database cost with no page work at all.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from db import migrate
from db.models import User
from db.seed import seed_demo_city
from db.session import Database
from triage.cli.bench_common import BenchError, demo_password, percentile, timing_figures
from triage.cli.bench_visit import PageVisitor
from triage.jobs.demo_history import store_demo_history
from triage.settings import Settings

DEMO_USERS = ("mayor", "chief", "analyst", "admin")
DEFAULT_PAGES = ("/", "/problems", "/alerts")
REQUEST_TIMEOUT = 120.0  # seconds; a request slower than this counts as an error
CSRF_COOKIE = "_csrf_token"
SESSION_COOKIE = "session"


@dataclass
class _Answer:
    """What the bench reads of an HTTP answer (the subset of Flask's test response it uses)."""

    status_code: int
    body: bytes
    headers: dict[str, str]

    def get_json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def get_data(self, as_text: bool = False) -> Any:
        return self.body.decode("utf-8", "replace") if as_text else self.body


@dataclass
class _Recorder:
    """Latencies and errors, shared by every session's thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, millis: float, *, health: bool = False) -> None:
        with self.lock:
            (self.health if health else self.latencies).append(millis)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message[:300])


class HttpClient:
    """One person's browser: a keep-alive connection and the cookies the server set."""

    def __init__(self, port: int, recorder: _Recorder) -> None:
        self.port = port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def _request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        headers = dict(headers)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A worker closed an idle keep-alive connection: reconnect once, as browsers do.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=REQUEST_TIMEOUT
                )
                if attempt == 2:
                    raise
        self.recorder.add((time.perf_counter() - started) * 1000, health=path == "/healthz")
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return _Answer(response.status, data, {k.lower(): v for k, v in response.getheaders()})

    def get(self, path: str) -> _Answer:
        return self._request("GET", path, None, {"Accept": "application/json"})

    def post(
        self,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> _Answer:
        headers = dict(headers or {})
        if json is not None:
            body = _json_bytes(json)
            headers["Content-Type"] = "application/json"
        else:
            body = urlencode(data or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self._request("POST", path, body, headers)

    def csrf(self) -> str | None:
        return self.cookies.get(CSRF_COOKIE)

    def close(self) -> None:
        self.connection.close()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


def sign_in(client: HttpClient, username: str, password: str) -> None:
    page = client._request("GET", "/login", None, {"Accept": "text/html"})
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    if page.status_code != 200 or not match:
        raise BenchError(f"GET /login answered {page.status_code} without a sign-in form")
    answer = client.post(
        "/login",
        data={"csrf_token": match.group(1), "username": username, "password": password},
    )
    if answer.status_code != 302:
        raise BenchError(f"signing in as {username!r} answered {answer.status_code}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(database_url: str, workers: int, port: int) -> subprocess.Popen[bytes]:
    """gunicorn on 127.0.0.1:port in production mode; returns once /healthz answers 200."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(
        TRIAGE_DATABASE_URL=database_url,
        TRIAGE_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(48),
    )
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4",
        "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning",
        "app:wsgi()",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)  # noqa: S603 (our own interpreter and args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with status {process.returncode}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                probe.close()
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise BenchError("gunicorn did not answer /healthz within 60 s")


def _session(
    port: int,
    username: str,
    pages: Sequence[str],
    loads: int,
    recorder: _Recorder,
    barrier: threading.Barrier,
) -> None:
    client = HttpClient(port, recorder)
    try:
        sign_in(client, username, demo_password(username))
        visitor = PageVisitor(client, {}, token=client.csrf())
        barrier.wait(timeout=REQUEST_TIMEOUT)  # everyone signed in: now all at once
        for _ in range(loads):
            for path in pages:
                visitor.load(path, ())
                health = client.get("/healthz")
                if health.status_code != 200:
                    recorder.fail(f"/healthz answered {health.status_code}")
    except threading.BrokenBarrierError:
        recorder.fail(f"{username}: another session failed before the load began")
    except (BenchError, OSError, http.client.HTTPException, ValueError) as exc:
        recorder.fail(f"{username}: {type(exc).__name__}: {exc}")
        barrier.abort()
    finally:
        client.close()


def bench_load(
    database_url: str,
    *,
    sessions: int = 200,
    workers: int = 3,
    pages: Sequence[str] = DEFAULT_PAGES,
    loads: int = 1,
) -> dict[str, Any]:
    """Run the load; returns ``{"bench": "load", "backend", "sessions", "workers", "pages",
    "requests", "errors", "error_samples", "seconds", "requests_per_second", "p50_ms",
    "p95_ms", "max_ms", "floor": {p50_ms, p95_ms, max_ms}}``.

    Latencies are what a client saw over loopback for every request after sign-in, page
    callbacks included; the floor is ``/healthz`` measured between them under the same load.
    """
    if sessions < 1 or workers < 1 or loads < 1:
        raise BenchError("--sessions, --workers and --loads must be at least 1")
    port = _free_port()
    server = start_gunicorn(database_url, workers, port)
    recorder = _Recorder()
    barrier = threading.Barrier(sessions)
    threads = [
        threading.Thread(
            target=_session,
            args=(port, DEMO_USERS[i % len(DEMO_USERS)], pages, loads, recorder, barrier),
            daemon=True,
        )
        for i in range(sessions)
    ]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=1800)
            if thread.is_alive():
                recorder.fail("a session was still running after 30 minutes")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    seconds = time.perf_counter() - started
    values = recorder.latencies
    return {
        "bench": "load",
        "backend": database_url.split(":", 1)[0].split("+", 1)[0],
        "sessions": sessions,
        "workers": workers,
        "pages": list(pages),
        "loads_per_session": loads,
        "requests": len(values) + len(recorder.health),
        "errors": len(recorder.errors),
        "error_samples": sorted(set(recorder.errors))[:5],
        "seconds": round(seconds, 1),
        "requests_per_second": round((len(values) + len(recorder.health)) / seconds, 1),
        **timing_figures(values),
        "p99_ms": round(percentile(values, 0.99), 1) if values else None,
        "mean_ms": round(statistics.fmean(values), 1) if values else None,
        "floor": timing_figures(recorder.health),
    }


def format_report(result: dict[str, Any]) -> str:
    floor = result["floor"]
    lines = [
        f"bench load: {result['sessions']} sessions at once on gunicorn "
        f"({result['workers']} workers) over {result['backend']}, pages "
        f"{', '.join(result['pages'])} x{result['loads_per_session']}",
        f"  requests {result['requests']:,} in {result['seconds']} s "
        f"({result['requests_per_second']}/s), errors {result['errors']}",
        f"  page requests  p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  "
        f"p99 {result['p99_ms']} ms  max {result['max_ms']} ms",
        f"  floor /healthz p50 {floor['p50_ms']} ms  p95 {floor['p95_ms']} ms  "
        f"max {floor['max_ms']} ms",
    ]
    lines += [f"  error: {sample}" for sample in result["error_samples"]]
    return "\n".join(lines)


def _prepare(database_url: str) -> None:
    """Bring the schema to head; seed the small demo city when the database holds no users."""
    migrate.upgrade(database_url)
    database = Database(database_url)
    try:
        with database.session() as session:
            users = session.scalar(select(func.count()).select_from(User))
        if not users:
            today = Settings.from_env().today()
            print("bench load: seeding the small demo city first", file=sys.stderr)
            summary = seed_demo_city(database, seed=7, scale="small", today=today)
            store_demo_history(database, summary.today)
    finally:
        database.dispose()


def cmd_bench_load(args: argparse.Namespace) -> int:
    url = Settings.from_env(database_url=args.db).database_url
    try:
        _prepare(url)
        result = bench_load(
            url,
            sessions=args.sessions,
            workers=args.workers,
            pages=tuple(p for p in args.pages.split(",") if p) if args.pages else DEFAULT_PAGES,
            loads=args.loads,
        )
    except BenchError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return 2
    print(format_report(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0 if result["errors"] == 0 else 1


def register(commands: Any, bench: Any) -> None:
    """Add ``load`` to the ``bench`` sub-parsers."""
    del commands
    load = bench.add_parser(
        "load", help="many signed-in sessions at once against gunicorn on loopback"
    )
    load.add_argument("--sessions", type=int, default=200, help="sessions at once (200)")
    load.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
    load.add_argument("--loads", type=int, default=1, help="loads of each page per session (1)")
    load.add_argument("--pages", help=f"comma-separated paths (default {','.join(DEFAULT_PAGES)})")
    load.add_argument("--json", action="store_true", help="the figures as JSON on the last line")
    load.set_defaults(func=cmd_bench_load)
