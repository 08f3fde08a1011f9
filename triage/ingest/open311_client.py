"""A small Open311 GeoReport v2 HTTP client (urllib): deadlines, retries with backoff, windows.

Only ``http``/``https`` URLs are fetched; the API key never appears in an error message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import pandas as pd

from triage.ingest.errors import ExpansionLimitError, IngestError, Open311ServerError, Rejection
from triage.ingest.open311 import MAX_PAYLOAD_BYTES, parse_requests, parse_services

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_BLOCK = 64 * 1024
MAX_TIMEOUT = 3600
MAX_RETRIES = 10  # attempts after the first, each with its own deadline and a backoff
DEFAULT_TIMEOUT = 30.0  # seconds for one attempt: connecting, the first byte, the whole body
DEFAULT_RETRIES = 4
GZIP_WBITS = 16 + zlib.MAX_WBITS
GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})
MAX_ERROR_BODY = 64 * 1024  # an error document worth reading is short


class Open311Unreachable(IngestError):
    """The server gave no usable answer after every retry (no connection, timeouts, 5xx)."""


def iso_utc(moment: dt.datetime) -> str:
    """A naive-UTC datetime as the ``2012-05-22T00:00:00Z`` form GeoReport servers accept."""
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def time_windows(
    start: dt.datetime, end: dt.datetime, size: dt.timedelta
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Consecutive [from, to) windows of ``size`` covering ``start`` to ``end``."""
    if size <= dt.timedelta(0):
        raise ValueError("window size must be positive")
    begin = start
    while begin < end:
        stop = min(begin + size, end)
        yield begin, stop
        begin = stop


class _TooSlow(Exception):
    """An attempt's deadline passed; ``answered`` when the status and headers had arrived."""

    def __init__(self, answered: bool) -> None:
        super().__init__("the deadline passed")
        self.answered = answered


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown even for TLS: ssl.SSLSocket.shutdown drops its TLS state,
    # which another thread is still reading through. OSError: it is already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Deadline:
    """One attempt's total time: when it passes, a watchdog shuts the attempt's sockets down,
    so that no read (headers or body) outlives it however slowly a server trickles bytes.
    Connecting and the TLS handshake come before: each is bounded by the socket timeout (the
    time left when connecting). Leaving the ``with`` block closes the sockets."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()

    def remaining(self) -> float:
        """Seconds left (for the connect timeout); ``TimeoutError`` when none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed before connecting")
        return left

    def track(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


class _WatchedConnections:
    """Opens connections that hand their socket to the attempt's deadline once connected."""

    deadline: _Deadline

    def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:
        deadline = self.deadline

        class Watched(http_class):  # type: ignore[misc, valid-type]
            def connect(self) -> None:
                super().connect()
                deadline.track(self.sock)

        return super().do_open(Watched, req, **kwargs)  # type: ignore[misc]


class _HTTPHandler(_WatchedConnections, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_WatchedConnections, urllib.request.HTTPSHandler):
    pass


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib's HTTP(S) opener (proxies, redirects, errors) without ftp, file or data URLs."""
    opener = urllib.request.OpenerDirector()
    watched: list[urllib.request.BaseHandler] = [_HTTPHandler(), _HTTPSHandler()]
    for handler in watched:
        handler.deadline = deadline  # type: ignore[attr-defined]
    for handler in [
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
        *watched,
    ]:
        opener.add_handler(handler)
    return opener


@dataclass
class Open311Client:
    """GET requests and services from one GeoReport v2 endpoint (``base_url``).

    ``fmt`` is ``json`` or ``xml``; ``jurisdiction_id`` and ``api_key`` go with every call
    when set. ``timeout`` bounds each attempt in all: the first byte and the whole body must
    arrive within it, however slowly the server sends; connecting and the TLS handshake are
    each bounded by it too (a name lookup that hangs is not). A gzip answer is inflated in steps, up
    to ``MAX_PAYLOAD_BYTES``.
    Server errors (5xx, 429), timeouts and dropped connections are retried ``retries`` times
    with exponential backoff (``backoff`` seconds doubled each time, with jitter, at most
    ``max_backoff``; a ``Retry-After`` header is honoured up to that cap).
    ``page_limit`` is the most results the server returns for one query: a window that comes
    back that full is split, since the rest was cut off.
    """

    base_url: str
    fmt: str = "json"
    jurisdiction_id: str | None = None
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = 0.5
    max_backoff: float = 30.0
    page_limit: int = 1000
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    attempts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.base_url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise IngestError("The Open311 endpoint must be an http:// or https:// URL.")
        if self.fmt not in {"json", "xml"}:
            raise IngestError("The Open311 format must be json or xml.")
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise IngestError(f"The timeout must be more than 0 and at most {MAX_TIMEOUT} seconds.")
        if not 0 <= self.retries <= MAX_RETRIES:
            raise IngestError(f"The retries must be a whole number from 0 to {MAX_RETRIES}.")
        self.base_url = self.base_url.rstrip("/")

    @property
    def display_url(self) -> str:
        """The endpoint without credentials or query, safe for logs and messages."""
        parsed = urllib.parse.urlsplit(self.base_url)
        host = parsed.hostname or ""
        port = f":{parsed.port}" if parsed.port else ""
        return f"{parsed.scheme}://{host}{port}{parsed.path}"

    def url(self, resource: str, params: dict[str, str] | None = None) -> str:
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        if self.jurisdiction_id:
            query["jurisdiction_id"] = self.jurisdiction_id
        if self.api_key:
            query["api_key"] = self.api_key
        encoded = urllib.parse.urlencode(query)
        return f"{self.base_url}/{resource}.{self.fmt}" + (f"?{encoded}" if encoded else "")

    def _describe(self, resource: str, params: dict[str, str] | None) -> str:
        shown = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        suffix = f" ({urllib.parse.urlencode(shown)})" if shown else ""
        return f"{self.display_url}/{resource}.{self.fmt}{suffix}"

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        delay = min(self.max_backoff, self.backoff * (2**attempt))
        delay *= 0.5 + random.random() / 2  # jitter: many clients must not retry in lockstep
        if retry_after:
            try:
                wanted = float(retry_after)
            except ValueError:
                try:
                    when = parsedate_to_datetime(retry_after)
                    wanted = (when - dt.datetime.now(dt.UTC)).total_seconds()
                except (TypeError, ValueError, IndexError):
                    wanted = delay
            delay = max(delay, min(self.max_backoff, wanted))
        return max(0.0, delay)

    def fetch(self, resource: str, params: dict[str, str] | None = None) -> bytes:
        """The body of ``GET {base}/{resource}.{fmt}``, retrying what is worth retrying."""
        what = self._describe(resource, params)
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __post_init__
            self.url(resource, params),
            headers={
                "Accept": "application/json" if self.fmt == "json" else "text/xml",
                "Accept-Encoding": "gzip",
                "User-Agent": "Triage-ingest/1",
            },
        )
        last_problem = ""
        for attempt in range(self.retries + 1):
            self.attempts += 1
            retry_after = None
            try:
                status, retry_after, body = self._attempt(request, what)
            except _TooSlow as exc:
                last_problem = (
                    f"the answer did not arrive in full within {self.timeout:g}s"
                    if exc.answered
                    else f"no answer within {self.timeout:g}s"
                )
            except TimeoutError:
                last_problem = f"no answer within {self.timeout:g}s"
            except urllib.error.URLError as exc:
                reason = exc.reason
                if isinstance(reason, TimeoutError | socket.timeout):
                    last_problem = f"no answer within {self.timeout:g}s"
                else:
                    last_problem = f"cannot connect ({type(reason).__name__})"
            except (http.client.HTTPException, ConnectionError, OSError) as exc:
                last_problem = f"the connection failed ({type(exc).__name__})"
            else:
                if status < 400:
                    return body
                if status not in RETRY_STATUSES:
                    raise self._http_error(status, body, what)
                said = _server_message(body)
                last_problem = f"HTTP {status}" + (f" ({said})" if said else "")
            if attempt < self.retries:
                self.sleep(self._delay(attempt, retry_after))
        attempts = self.retries + 1
        raise Open311Unreachable(
            f"The Open311 server did not answer {what} after {attempts} "
            f"attempt{'s' if attempts != 1 else ''}: {last_problem}."
        )

    def _attempt(self, request: urllib.request.Request, what: str) -> tuple[int, str | None, bytes]:
        """One GET, all of it within ``timeout``: the status, its Retry-After and the body."""
        answered = False
        with _Deadline(self.timeout) as deadline:
            try:
                try:
                    with _opener(deadline).open(request, timeout=deadline.remaining()) as response:
                        answered = True
                        result = (int(response.status), None, self._read(response, what))
                except urllib.error.HTTPError as exc:
                    answered = True
                    retry_after = exc.headers.get("Retry-After") if exc.headers else None
                    result = (exc.code, retry_after, _read_error_body(exc))
            except Exception:
                if deadline.expired:  # the watchdog cut the connection: that is the error
                    raise _TooSlow(answered) from None
                raise
            if deadline.expired:  # a body without a length, cut short by the watchdog
                raise _TooSlow(answered)
        return result

    def _read(self, response: http.client.HTTPResponse, what: str) -> bytes:
        """The body, gunzipped when so encoded; neither it nor what arrives may exceed
        ``MAX_PAYLOAD_BYTES``, and a gzip body is inflated in steps, never past that."""
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in GZIP_ENCODINGS | {"identity"}:
            raise IngestError(
                f"The answer to {what} is encoded as {encoding[:40]!r}, which is not read here."
            )
        inflater = zlib.decompressobj(GZIP_WBITS) if encoding in GZIP_ENCODINGS else None
        chunks: list[bytes] = []
        size = received = 0
        while True:
            block = response.read(READ_BLOCK)
            if not block:
                break
            received += len(block)
            if received > MAX_PAYLOAD_BYTES:
                raise IngestError(
                    f"The answer to {what} is larger than {MAX_PAYLOAD_BYTES >> 20} MiB; "
                    "use a shorter window."
                )
            if inflater is None:
                chunks.append(block)
                size = received
                continue
            pending = block
            while pending:
                try:
                    piece = inflater.decompress(pending, READ_BLOCK)
                except zlib.error:
                    raise IngestError(f"The gzip answer to {what} is damaged.") from None
                size += len(piece)
                if size > MAX_PAYLOAD_BYTES:
                    raise ExpansionLimitError(
                        f"The gzip answer to {what} expands to more than "
                        f"{MAX_PAYLOAD_BYTES >> 20} MB; use a shorter window.",
                        limit=MAX_PAYLOAD_BYTES,
                    )
                chunks.append(piece)
                pending = inflater.unconsumed_tail
                if inflater.eof and inflater.unused_data:  # the next gzip member
                    pending = inflater.unused_data
                    inflater = zlib.decompressobj(GZIP_WBITS)
        if inflater is not None and received and not inflater.eof:
            raise IngestError(f"The gzip answer to {what} was cut off.")
        return b"".join(chunks)

    def _http_error(self, status: int, body: bytes, what: str) -> IngestError:
        if body.strip():
            try:
                parse_requests(body, None)
            except Open311ServerError as exc:
                return Open311ServerError(f"{exc} [HTTP {status} for {what}]", code=exc.code)
            except IngestError:
                pass
        return Open311ServerError(f"The Open311 server answered HTTP {status} for {what}.", status)

    def services(self) -> tuple[pd.DataFrame, list[Rejection]]:
        """The service list (see ``parse_services``)."""
        return parse_services(self.fetch("services"), self.fmt)

    def requests(
        self,
        *,
        tz: str = "UTC",
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        updated_after: dt.datetime | None = None,
        updated_before: dt.datetime | None = None,
        page: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[pd.DataFrame, list[Rejection]]:
        """One ``GET requests`` call (see ``parse_requests``); datetimes are naive UTC."""
        params: dict[str, str] = dict(extra or {})
        for name, value in (
            ("start_date", start),
            ("end_date", end),
            ("updated_after", updated_after),
            ("updated_before", updated_before),
        ):
            if value is not None:
                params[name] = iso_utc(value)
        if page is not None:
            params["page"] = str(page)
        return parse_requests(self.fetch("requests", params), self.fmt, tz=tz)


def _server_message(body: bytes) -> str:
    """The text of a GeoReport error document (``<errors>``, a bare ``<error>``, JSON), if
    the body is one; else the empty string."""
    if not body.strip() or len(body) > MAX_ERROR_BODY:
        return ""
    try:
        parse_requests(body, None)
    except Open311ServerError as exc:
        return str(exc).removeprefix("The Open311 server answered with ")[:300]
    except IngestError:
        return ""
    return ""


def _read_error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(MAX_PAYLOAD_BYTES) or b""
    except (OSError, http.client.HTTPException, ValueError):
        return b""
    finally:
        exc.close()


__all__ = ["Open311Client", "Open311Unreachable", "iso_utc", "time_windows"]
