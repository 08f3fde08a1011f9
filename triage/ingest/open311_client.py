"""A small Open311 GeoReport v2 HTTP client (urllib): timeouts, retries with backoff, windows.

Only ``http``/``https`` URLs are fetched; the API key never appears in an error message.
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import pandas as pd

from triage.ingest.errors import IngestError, Open311ServerError, Rejection
from triage.ingest.open311 import MAX_PAYLOAD_BYTES, parse_requests, parse_services

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_BLOCK = 64 * 1024


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


@dataclass
class Open311Client:
    """GET requests and services from one GeoReport v2 endpoint (``base_url``).

    ``fmt`` is ``json`` or ``xml``; ``jurisdiction_id`` and ``api_key`` go with every call
    when set. Server errors (5xx, 429), timeouts and dropped connections are retried
    ``retries`` times with exponential backoff (``backoff`` seconds doubled each time, with
    jitter, at most ``max_backoff``; a ``Retry-After`` header is honoured up to that cap).
    ``page_limit`` is the most results the server returns for one query: a window that comes
    back that full is split, since the rest was cut off.
    """

    base_url: str
    fmt: str = "json"
    jurisdiction_id: str | None = None
    api_key: str | None = None
    timeout: float = 30.0
    retries: int = 4
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
                "User-Agent": "Triage-ingest/1",
            },
        )
        last_problem = ""
        for attempt in range(self.retries + 1):
            self.attempts += 1
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return self._read(response, what)
            except urllib.error.HTTPError as exc:
                body = _read_error_body(exc)
                if exc.code not in RETRY_STATUSES:
                    raise self._http_error(exc.code, body, what) from None
                last_problem = f"HTTP {exc.code}"
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
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
            if attempt < self.retries:
                self.sleep(self._delay(attempt, retry_after))
        raise IngestError(
            f"The Open311 server did not answer {what} after {self.retries + 1} attempts: "
            f"{last_problem}."
        )

    def _read(self, response: http.client.HTTPResponse, what: str) -> bytes:
        deadline = time.monotonic() + 3 * self.timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            block = response.read(READ_BLOCK)
            if not block:
                break
            size += len(block)
            if size > MAX_PAYLOAD_BYTES:
                raise IngestError(
                    f"The answer to {what} is larger than {MAX_PAYLOAD_BYTES >> 20} MiB; "
                    "use a shorter window."
                )
            if time.monotonic() > deadline:
                raise TimeoutError("the answer arrives too slowly")
            chunks.append(block)
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


def _read_error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(MAX_PAYLOAD_BYTES) or b""
    except (OSError, http.client.HTTPException, ValueError):
        return b""
    finally:
        exc.close()


__all__ = ["Open311Client", "iso_utc", "time_windows"]
