"""Bringing real data in: one function per source run, idempotent and safe to kill at any moment.

Each batch commits its rows, its daily-count changes and the source's cursor together, so a
killed run resumes where it stopped and a repeated run changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from triage.ingest.errors import IngestError, Open311ServerError, Rejection

if TYPE_CHECKING:
    from db.ingest import CategoryCache, DistrictResolver, UpsertCounts
    from db.session import Database
    from triage.ingest.indicators import IndicatorContext
    from triage.ingest.open311_client import Open311Client
    from triage.ingest.portal_csv import Layout
    from triage.security import Principal

__all__ = [
    "IngestError",
    "IngestSummary",
    "Open311ServerError",
    "Rejection",
    "RejectsFile",
    "declared_timezone",
    "default_open311_source",
    "file_fingerprint",
    "ingest_indicator_file",
    "ingest_open311",
    "ingest_portal_export",
    "read_open311_services",
    "resolve_open311_source",
    "run_source",
]

log = logging.getLogger("triage.ingest")

T = TypeVar("T")
Progress = Callable[[str, float], None]
RejectSink = Callable[[Sequence[Rejection]], None]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SAMPLE_REJECTIONS = 10
SOURCE_NAME_LENGTH = 64
MAX_REQUESTS_PER_RUN = 200
# How far outside the asked window a record may fall before the server is taken to ignore
# the dates: servers' clocks and zones are off by hours, never by a day.
DATE_TOLERANCE = dt.timedelta(days=1)


@dataclass
class IngestSummary:
    """What one run did. ``read`` = added + updated + unchanged + rejected + skipped.

    ``skipped`` counts records an earlier, interrupted run of the same file had already
    committed (the run resumed after them).
    """

    source: str
    kind: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    cursor: str | None = None
    new_categories: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    samples: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    requests: int = 0  # HTTP requests an Open311 run made (at most its cap)
    capped: bool = False  # the run stopped at its cap of requests
    dropped: int = 0  # records lost to answers cut off or malformed (also among ``rejected``)
    services: int = 0  # services read from the service list
    notes: list[str] = field(default_factory=list)

    def count(self, counts: UpsertCounts) -> None:
        self.added += counts.added
        self.updated += counts.updated
        self.unchanged += counts.unchanged

    def reject(self, rejections: Sequence[Rejection]) -> None:
        self.rejected += len(rejections)
        for rejection in rejections:
            self.reasons[rejection.reason] += 1
            if len(self.samples) < SAMPLE_REJECTIONS:
                self.samples.append(rejection)

    @property
    def accepted(self) -> int:
        return self.added + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a job run's detail, an audit row or ``--json`` output."""
        return {
            "source": self.source,
            "kind": self.kind,
            "read": self.read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "skipped": self.skipped,
            "cursor": self.cursor,
            "new_categories": len(self.new_categories),
            "rejection_reasons": dict(self.reasons.most_common(20)),
            "seconds": round(self.seconds, 3),
            **(
                {
                    "requests": self.requests,
                    "request_cap_reached": self.capped,
                    "dropped": self.dropped,
                    "services": self.services,
                    "notes": list(self.notes),
                }
                if self.kind == "open311"
                else {}
            ),
        }


def neutralise_cell(text: str) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (``=``, ``+``, ``-``, ...)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class RejectsFile:
    """Appends rejections to a CSV file (created with a header on first use).

    Appending keeps the rejections of an earlier, interrupted run of the same input; each row
    carries the run's start time and source. Cells are neutralised against formula injection.
    """

    COLUMNS = ("run_at", "source", "row", "field", "reason", "value")

    def __init__(self, path: str | Path, source: str, run_at: dt.datetime | None = None) -> None:
        self.path = Path(path)
        self.source = source
        self.run_at = (run_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.written = 0

    def __call__(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(self.COLUMNS)
            for r in rejections:
                writer.writerow(
                    [
                        self.run_at,
                        neutralise_cell(self.source),
                        r.row,
                        neutralise_cell(r.field),
                        neutralise_cell(r.reason),
                        neutralise_cell(r.value),
                    ]
                )
        self.written += len(rejections)


def file_fingerprint(path: str | Path) -> str:
    """16 hex digits naming a file's content: its size and its first and last megabyte."""
    path = Path(path)
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            if size > 2 << 20:
                handle.seek(size - (1 << 20))
                digest.update(handle.read(1 << 20))
    except OSError as exc:
        raise IngestError(f"Cannot read {path.name}: {exc.strerror or exc}.") from None
    return digest.hexdigest()[:16]


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Produce the next items in a thread while the caller works on the current one.

    Parsing the next chunk overlaps writing this one (the database drivers release the GIL
    while they work); at most ``depth`` chunks wait, so memory stays flat.
    """
    done = object()
    slots: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put((True, item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put((True, done))
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put((False, exc))

    worker = threading.Thread(target=produce, name="ingest-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()


def _resume_point(cursor: str | None, fingerprint: str) -> int:
    """Records already committed from this very file by an interrupted run (0 to start over).

    A finished run's cursor ends in ``:done``: the same file read again is read in full, and
    every row comes out unchanged.
    """
    if not cursor or not cursor.startswith(f"csv:{fingerprint}:"):
        return 0
    rest = cursor.split(":")[2:]
    if len(rest) != 1 or not rest[0].isdigit():
        return 0
    return int(rest[0])


def _record_failure(database: Database, name: str, kind: str, exc: BaseException) -> None:
    from db.ingest import record_source_failure

    message = str(exc) if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
    try:
        with database.session(write=True) as session:
            record_source_failure(session, name, kind, message)
    except Exception:  # the original failure matters more than this bookkeeping
        log.exception("could not record the failure of source %s", name)


def _audit_batch(session: Any, source_id: int, counts: UpsertCounts, cursor: str) -> None:
    from db.audit import write_audit
    from triage.security import Principal

    write_audit(
        session,
        Principal.system("ingest"),
        "ingest",
        "data_source",
        source_id,
        after={
            "added": counts.added,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "cursor": cursor,
        },
    )


def ingest_portal_export(
    database: Database,
    path: str | Path,
    layout: Layout,
    *,
    source: str | None = None,
    city_tz: str = "UTC",
    chunk_rows: int = 50_000,
    max_rows: int | None = None,
    progress: Progress | None = None,
    on_reject: RejectSink | None = None,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """Ingest a portal export file into ``citizen_reports``, one transaction per chunk.

    The source (default: the layout's) keeps ``csv:<fingerprint>:<records done>`` as its
    cursor; a run of the same file after a crash skips what was committed. Rejections go to
    ``on_reject`` before their chunk commits (a crash may repeat them, never lose them).
    Raises ``IngestError`` when the file cannot be read; the source then records the failure
    and an alert, and keeps everything committed before.
    """
    from db.ingest import (
        CategoryCache,
        ensure_source,
        load_districts,
        record_source_success,
        save_cursor,
        upsert_reports,
    )
    from triage.ingest.portal_csv import read_portal_export

    path = Path(path)
    name = (source or layout.source or layout.name)[:64]
    summary = IngestSummary(source=name, kind="csv")
    started = time.monotonic()
    try:
        fingerprint = file_fingerprint(path)
        with database.session(write=True) as session:
            state = ensure_source(
                session, name, "csv", url=str(path.resolve()), config={"layout": layout.name}
            )
            districts = load_districts(session)
        skip = _resume_point(state.cursor, fingerprint)
        summary.skipped = skip
        categories = CategoryCache()
        last_row = 0
        chunks = read_portal_export(
            path, layout, tz=city_tz, chunk_rows=chunk_rows, skip_rows=skip, max_rows=max_rows
        )
        for chunk in prefetch(chunks):
            last_row = chunk.last_row
            if chunk.last_row <= skip:
                continue
            if on_reject and chunk.rejections:
                on_reject(chunk.rejections)
            cursor = f"csv:{fingerprint}:{chunk.last_row}"
            with database.session(write=True) as session:
                state = ensure_source(session, name, "csv")
                counts = upsert_reports(
                    session,
                    name,
                    chunk.reports,
                    categories=categories,
                    districts=districts,
                    city_tz=city_tz,
                    now=now,
                )
                save_cursor(session, state.id, cursor)
                _audit_batch(session, state.id, counts, cursor)
            summary.count(counts)
            summary.reject(chunk.rejections)
            summary.cursor = cursor
            if progress:
                progress(f"Ingesting {path.name}", chunk.bytes_read / max(1, chunk.total_bytes))
        summary.read = max(last_row, skip)
        done = f"csv:{fingerprint}:{summary.read}:done"
        with database.session(write=True) as session:
            state = ensure_source(session, name, "csv")
            save_cursor(session, state.id, done)
            record_source_success(session, state.id, now)
        summary.cursor = done
        summary.new_categories = list(categories.created)
    except Exception as exc:
        _record_failure(database, name, "csv", exc)
        raise
    finally:
        summary.seconds = time.monotonic() - started
    return summary


def _parse_cursor(cursor: str | None, prefix: str) -> dt.datetime | None:
    if not cursor or not cursor.startswith(prefix):
        return None
    try:
        return dt.datetime.fromisoformat(cursor[len(prefix) :])
    except ValueError:
        return None


def default_open311_source(client: Open311Client) -> str:
    """``open311:<host>[:<port>]<path>[#<jurisdiction>]``: one source (and one cursor) per
    endpoint, so two endpoints on one host never share a cursor. At most 64 characters: a
    longer key keeps its first 55 and a digest of the whole."""
    from urllib.parse import urlsplit

    parsed = urlsplit(client.base_url)
    host = (parsed.hostname or "server").lower()
    port = f":{parsed.port}" if parsed.port else ""
    path = parsed.path.rstrip("/")
    name = f"open311:{host}{port}{path}" + (
        f"#{client.jurisdiction_id}" if client.jurisdiction_id else ""
    )
    if len(name) > SOURCE_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:55]}~{digest}"
    return name


def legacy_open311_source(client: Open311Client) -> str:
    """The key sources had before it included the path: ``open311:<host>[/<jurisdiction>]``."""
    from urllib.parse import urlsplit

    host = urlsplit(client.base_url).hostname or "server"
    name = f"open311:{host}" + (f"/{client.jurisdiction_id}" if client.jurisdiction_id else "")
    return name[:SOURCE_NAME_LENGTH]


def resolve_open311_source(database: Database, client: Open311Client) -> str:
    """The source name for ``client``'s endpoint when none is given.

    An endpoint polled before keys carried the path keeps its old host-only source (and so its
    cursor and its reports' unique keys) when that source was registered for this very
    endpoint (its stored URL is the client's); every other endpoint gets the path key.
    """
    from db.ingest import find_source

    name = default_open311_source(client)
    with database.session() as session:
        if find_source(session, name) is not None:
            return name
        legacy = find_source(session, legacy_open311_source(client))
    if (
        legacy is not None
        and legacy.kind == "open311"
        and legacy.url.rstrip("/").lower() == client.display_url.rstrip("/").lower()
    ):
        return legacy.name
    return name


def declared_timezone(
    name: str, source_tz: str | None, stored_tz: str | None, city_tz: str | None
) -> str:
    """The zone of a source's times that carry none: the one given for this run (the CLI's
    ``--timezone``), else the one the source declared (its config ``timezone``), else the
    city's (``Settings.timezone``, the declared default). None of them: ``IngestError``.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    zone = (source_tz or stored_tz or city_tz or "").strip()
    if not zone:
        raise IngestError(
            f"The Open311 source {name} declares no time zone, so its times without one "
            "cannot be read; declare it with --timezone (e.g. --timezone America/Chicago)."
        )
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Pacific" is a folder of zones
        raise IngestError(
            f"{zone[:60]!r} is not a time zone name (e.g. America/Chicago); "
            f"the Open311 source {name} needs one for its times without a zone."
        ) from None
    return zone


class _RequestCap(Exception):
    """The run made as many requests as it may."""


class _IgnoresDates(Exception):
    """The server answered as if the date filters were not there; the message says how."""


@dataclass
class _WindowPoll:
    """Covers date windows with as few requests as it can, never more than ``max_requests``.

    A window that comes back full is halved (down to ``min_window``, then paged). A server
    that ignores the dates (its records fall outside the window asked for, or both halves of
    a window answer the same page) is caught before the halving goes on: ``_IgnoresDates``.
    """

    client: Open311Client
    tz: str
    axis: tuple[str, str]
    min_window: dt.timedelta
    max_pages: int
    max_requests: int
    requests: int = 0
    answers: list[tuple[Any, list[Rejection], int]] = field(default_factory=list)

    def get(self, **params: Any) -> tuple[Any, list[Rejection]]:
        if self.requests >= self.max_requests:
            raise _RequestCap
        self.requests += 1
        return self.client.requests(tz=self.tz, **params)

    def window(self, w_start: dt.datetime, w_end: dt.datetime) -> tuple[Any, list[Rejection]]:
        """One answer for a window; ``_IgnoresDates`` when most of its records lie outside
        it and the window just before it (which shares no record with it) answers the same."""
        frame, rejected = self.get(**{self.axis[0]: w_start, self.axis[1]: w_end})
        column = "requested_at" if self.axis[0] == "start" else "updated_at"
        times = frame[column].dropna()
        outside = int(
            ((times < w_start - DATE_TOLERANCE) | (times >= w_end + DATE_TOLERANCE)).sum()
        )
        if outside >= 2 and outside * 2 > len(times):
            before = self.get(**{self.axis[0]: w_start - (w_end - w_start), self.axis[1]: w_start})
            if set(before[0]["service_request_id"]) == set(frame["service_request_id"]):
                raise _IgnoresDates(
                    f"{outside} of {len(times)} records came back outside the window asked for "
                    f"({self.axis[0]}={w_start:%Y-%m-%d %H:%M}, "
                    f"{self.axis[1]}={w_end:%Y-%m-%d %H:%M}) and the window before it "
                    "answered the same records"
                )
        return frame, rejected

    def cover(
        self,
        w_start: dt.datetime,
        w_end: dt.datetime,
        answer: tuple[Any, list[Rejection]] | None = None,
    ) -> None:
        """Add every answer needed for one window to ``answers``."""
        frame, rejected = answer or self.window(w_start, w_end)
        answered = len(frame) + len(rejected)
        if answered < self.client.page_limit:
            self.answers.append((frame, rejected, answered))
            return
        if w_end - w_start > self.min_window:
            middle = w_start + (w_end - w_start) / 2
            left = self.window(w_start, middle)
            right = self.window(middle, w_end)
            same = set(left[0]["service_request_id"])
            if same and same == set(right[0]["service_request_id"]):
                raise _IgnoresDates(
                    f"both halves of {w_start:%Y-%m-%d %H:%M} to {w_end:%Y-%m-%d %H:%M} "
                    f"answered the same {len(same)} records"
                )
            self.cover(w_start, middle, left)
            self.cover(middle, w_end, right)
            return
        # Still full at the smallest window: page through it; stop when a page adds nothing.
        self.answers.append((frame, rejected, answered))
        seen = set(frame["service_request_id"])
        dates = {self.axis[0]: w_start, self.axis[1]: w_end}
        for page in range(2, self.max_pages + 1):
            frame, rejected = self.get(page=page, **dates)
            fresh = set(frame["service_request_id"]) - seen
            if not fresh and not rejected:
                return
            seen |= fresh
            self.answers.append((frame, rejected, len(frame) + len(rejected)))
            if len(frame) + len(rejected) < self.client.page_limit:
                return
        raise IngestError(
            f"More than {self.max_pages} pages of requests between {w_start} and {w_end}; "
            "the server's page limit is too small for this feed."
        )

    def everything(self) -> int:
        """One fetch without dates (what a server that ignores them gives), de-duplicated
        (the newest copy of a request kept); returns how many copies were left out."""
        frame, rejected = self.get()
        unique = frame.sort_values("updated_at", kind="stable", ascending=False)
        unique = unique.drop_duplicates("service_request_id").sort_index()
        self.answers = [(unique, rejected, len(unique) + len(rejected))]
        return len(frame) - len(unique)


def _read_services(
    database: Database,
    client: Open311Client,
    name: str,
    now: dt.datetime,
    summary: IngestSummary,
) -> None:
    """Read the endpoint's service list into report categories and the source's config."""
    from db.ingest import ensure_source, record_services, service_groups, update_source_config

    summary.requests += 1
    services, rejected = client.services()
    with database.session(write=True) as session:
        state = ensure_source(session, name, "open311")
        counts = record_services(session, services)
        update_source_config(
            session,
            state.id,
            {
                "services": {
                    "read_at": now.isoformat(timespec="seconds"),
                    "count": counts.services,
                    "groups": service_groups(services),
                }
            },
        )
    summary.services = counts.services
    summary.new_categories.extend(c for c in counts.new_codes if c not in summary.new_categories)
    summary.notes.append(
        f"services: {counts.services} read ({counts.groups} groups), "
        f"{counts.added} new categories, {counts.unchanged} known"
        + (f", {len(rejected)} without a code" if rejected else "")
    )


def _note_services_failure(
    database: Database, name: str, now: dt.datetime, summary: IngestSummary, exc: Exception
) -> None:
    """Keep a service list's failure with the source, so that later polls do not ask again
    (``--services`` does)."""
    from db.ingest import ensure_source, update_source_config

    message = str(exc)[:300]
    with database.session(write=True) as session:
        state = ensure_source(session, name, "open311")
        update_source_config(
            session,
            state.id,
            {"services": {"read_at": now.isoformat(timespec="seconds"), "error": message}},
        )
    summary.notes.append(f"services: not read ({message})")


def _register_open311_source(
    session: Any, name: str, client: Open311Client, source_tz: str | None, city_tz: str | None
) -> tuple[Any, str]:
    """Register (or find) an Open311 source and store the zone its zoneless times are read in;
    returns the source's state and that zone."""
    from db.ingest import ensure_source, update_source_config

    state = ensure_source(
        session,
        name,
        "open311",
        url=client.display_url,
        config={"format": client.fmt, "jurisdiction_id": client.jurisdiction_id},
    )
    tz = declared_timezone(name, source_tz, state.config.get("timezone"), city_tz)
    update_source_config(session, state.id, {"timezone": tz})
    return state, tz


def read_open311_services(
    database: Database,
    client: Open311Client,
    *,
    source: str | None = None,
    source_tz: str | None = None,
    city_tz: str | None = None,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """``GET services`` into report categories (one per service, its group kept with the
    source); idempotent. Registers the source (with its declared zone) on first use."""
    from db.models import utcnow

    name = (source or resolve_open311_source(database, client))[:SOURCE_NAME_LENGTH]
    summary = IngestSummary(source=name, kind="open311")
    started = time.monotonic()
    now = now or utcnow()
    try:
        with database.session(write=True) as session:
            _register_open311_source(session, name, client, source_tz, city_tz)
        _read_services(database, client, name, now, summary)
    except Exception as exc:
        _record_failure(database, name, "open311", exc)
        raise
    finally:
        summary.seconds = time.monotonic() - started
    return summary


def ingest_open311(
    database: Database,
    client: Open311Client,
    *,
    source: str | None = None,
    city_tz: str | None = None,
    source_tz: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    window: dt.timedelta = dt.timedelta(days=1),
    min_window: dt.timedelta = dt.timedelta(minutes=1),
    lookback: dt.timedelta = dt.timedelta(days=7),
    overlap: dt.timedelta = dt.timedelta(minutes=5),
    max_pages: int = 100,
    max_requests: int = MAX_REQUESTS_PER_RUN,
    services: bool | None = None,
    progress: Progress | None = None,
    on_reject: RejectSink | None = None,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """Poll an Open311 endpoint into ``citizen_reports``, one transaction per date window.

    With ``start`` (naive UTC) it backfills requests made from ``start`` to ``end`` (default
    now) with ``start_date``/``end_date`` windows, resuming after the last committed window
    (cursor ``b:<time>``). Without it, it polls what changed since the cursor ``u:<time>``
    (less ``overlap``, for servers whose clocks lag; default: the last ``lookback``) with
    ``updated_after``/``updated_before``. A window that comes back full (``page_limit``) is
    halved down to ``min_window``, then paged.

    A server that ignores the date filters is detected (records outside the window asked
    for, or the same page for both halves of a window): the run falls back to one fetch
    without dates, de-duplicated, and says so in ``summary.notes``. No run makes more than
    ``max_requests`` requests: at the cap it stops with ``summary.capped``, the cursor after
    the last whole window (the window under way is asked again by the next run; any of its
    parts already complete are stored).

    Times without a zone are read in the source's declared zone (``declared_timezone``:
    ``source_tz``, else the source's config ``timezone``, else ``city_tz``), which is stored
    with the source; with none of them the run is refused. Daily counts use ``city_tz`` (the
    declared zone when there is no city zone). The service list is read into categories on a
    source's first poll (``services=None``), always with ``True``, never with ``False``.
    Raises ``IngestError`` (recorded on the source with an alert) when the server fails
    after the client's retries.
    """
    from db.ingest import (
        CategoryCache,
        ensure_source,
        load_districts,
        record_source_success,
        save_cursor,
    )
    from db.models import utcnow
    from triage.ingest.open311_client import Open311Unreachable

    name = (source or resolve_open311_source(database, client))[:SOURCE_NAME_LENGTH]
    summary = IngestSummary(source=name, kind="open311")
    started = time.monotonic()
    now = now or utcnow()
    try:
        with database.session(write=True) as session:
            state, tz = _register_open311_source(session, name, client, source_tz, city_tz)
            districts = load_districts(session)
        days_tz = city_tz or tz
        if services or (services is None and "services" not in state.config):
            try:
                _read_services(database, client, name, now, summary)
            except Open311Unreachable:
                raise  # a server that does not answer will not answer the requests either
            except IngestError as exc:  # a feed without a service list still has requests
                _note_services_failure(database, name, now, summary, exc)
        polled_until = _parse_cursor(state.cursor, "u:")
        if start is not None:
            stop = end or now
            resumed = _parse_cursor(state.cursor, "b:")
            begin = resumed if resumed is not None and start <= resumed < stop else start
            prefix, axis = "b:", ("start", "end")
        else:
            stop = end or now
            begin = polled_until - overlap if polled_until else now - lookback
            prefix, axis = "u:", ("updated_after", "updated_before")
        categories = CategoryCache()
        poll = _WindowPoll(
            client,
            tz,
            axis,
            min_window,
            max_pages,
            max(1, max_requests - summary.requests),
        )
        windows = list(_windows(begin, stop, window))
        for done, (w_start, w_end) in enumerate(windows, start=1):
            poll.answers = []
            cursor: str | None = f"{prefix}{w_end.isoformat()}"
            last = False
            try:
                poll.cover(w_start, w_end)
            except _RequestCap:
                summary.capped = True
                cursor, last = None, True
                resume = summary.cursor or state.cursor or begin.isoformat()
                summary.notes.append(
                    f"stopped at the cap of {max_requests} requests per run; "
                    f"the next run goes on from {resume}"
                )
            except _IgnoresDates as why:
                note = (
                    f"the server ignores {axis[0]}/{axis[1]} ({why}): "
                    "fell back to one fetch without dates"
                )
                # Every later window would answer the same page: this fetch is the whole run.
                cursor, last = f"{prefix}{stop.isoformat()}", True
                try:
                    copies = poll.everything()
                    note += f", {copies} repeated records left out" if copies else ""
                except _RequestCap:
                    poll.answers, summary.capped, cursor = [], True, None
                    note += ", which the cap of requests did not allow"
                summary.notes.append(note)
            _store_window(
                database,
                name,
                poll.answers,
                cursor,
                summary,
                categories=categories,
                districts=districts,
                city_tz=days_tz,
                now=now,
                on_reject=on_reject,
            )
            if progress:
                progress(f"Polling {name}", done / len(windows))
            if last:
                break
        summary.requests += poll.requests
        final = summary.cursor
        if start is not None and not summary.capped and final is not None:
            # A finished backfill hands over to polling, unless polling is already further.
            until = max(filter(None, [polled_until, stop]))
            final = f"u:{until.isoformat()}"
        with database.session(write=True) as session:
            state = ensure_source(session, name, "open311")
            if final:
                save_cursor(session, state.id, final)
            record_source_success(session, state.id, now)
        summary.cursor = final
        summary.new_categories.extend(
            c for c in categories.created if c not in summary.new_categories
        )
    except Exception as exc:
        _record_failure(database, name, "open311", exc)
        raise
    finally:
        summary.seconds = time.monotonic() - started
    return summary


def _store_window(
    database: Database,
    name: str,
    answers: list[tuple[Any, list[Rejection], int]],
    cursor: str | None,
    summary: IngestSummary,
    *,
    categories: CategoryCache,
    districts: DistrictResolver,
    city_tz: str,
    now: dt.datetime,
    on_reject: RejectSink | None,
) -> None:
    """Commit one window's answers with its cursor (``None``: the window is not finished, so
    its records are kept but the cursor stays where it was)."""
    import pandas as pd

    from db.ingest import ensure_source, save_cursor, upsert_reports
    from triage.ingest.open311 import dropped_count

    rejections: list[Rejection] = []
    reports = []
    for frame, rejected, answered in answers:
        offset = summary.read
        summary.read += answered
        reports.append(frame.assign(row=frame["row"] + offset))
        rejections.extend(Rejection(r.row + offset, r.field, r.reason, r.value) for r in rejected)
    if on_reject and rejections:
        on_reject(rejections)
    batch = pd.concat(reports, ignore_index=True) if reports else None
    with database.session(write=True) as session:
        state = ensure_source(session, name, "open311")
        if batch is not None and len(batch):
            counts = upsert_reports(
                session,
                name,
                batch,
                categories=categories,
                districts=districts,
                city_tz=city_tz,
                now=now,
            )
            summary.count(counts)
            _audit_batch(session, state.id, counts, cursor or state.cursor or "")
        if cursor is not None:
            save_cursor(session, state.id, cursor)
    summary.reject(rejections)
    summary.dropped += dropped_count(rejections)
    if cursor is not None:
        summary.cursor = cursor


def _windows(
    begin: dt.datetime, stop: dt.datetime, size: dt.timedelta
) -> list[tuple[dt.datetime, dt.datetime]]:
    from triage.ingest.open311_client import time_windows

    return list(time_windows(begin, stop, size)) if begin < stop else []


def ingest_indicator_file(
    database: Database,
    source_file: str | Path | bytes,
    *,
    filename: str = "",
    layout: str | IndicatorContext | None = None,
    actor: Principal | None = None,
    today: dt.date,
    source: str | None = None,
    max_rows: int | None = None,
    on_reject: RejectSink | None = None,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """Record an indicator file's rows through the department-head form's rules, in one
    transaction (the file lands whole or not at all; a file imported twice changes nothing).

    ``actor`` defaults to the ``ingest`` system identity; pass the uploading user's principal
    so that a department head may write only her own department's indicators. ``layout`` is a
    layout name, or an ``IndicatorContext`` carrying the layout, the fiscal-year start and the
    city's indicator catalogue (closest names for unknown indicators, percent fractions).
    """
    from db.ingest import ensure_source, import_observations, record_source_success, save_cursor
    from triage.ingest.indicators import DEFAULT_MAX_ROWS, read_indicator_file
    from triage.security import Principal

    if isinstance(source_file, bytes):
        label = filename or "upload"
        data_digest = hashlib.sha256(source_file).hexdigest()[:16]
    else:
        label = filename or Path(source_file).name
        data_digest = file_fingerprint(source_file)
    name = (source or f"indicators:{Path(label).stem}")[:64]
    summary = IngestSummary(source=name, kind="indicators")
    started = time.monotonic()
    try:
        frame, rejections = read_indicator_file(
            source_file,
            filename=label,
            layout=layout,
            max_rows=max_rows or DEFAULT_MAX_ROWS,
        )
        summary.read = len(frame) + len(rejections)
        with database.session(write=True) as session:
            where = label if isinstance(source_file, bytes) else str(Path(source_file).resolve())
            state = ensure_source(session, name, "indicators", url=where)
            counts, refused = import_observations(
                session,
                actor or Principal.system("ingest"),
                frame,
                today=today,
            )
            cursor = f"sha256:{data_digest}"
            save_cursor(session, state.id, cursor)
            record_source_success(session, state.id, now)
            _audit_batch(session, state.id, counts, cursor)
        everything = sorted([*rejections, *refused], key=lambda r: r.row)
        if on_reject and everything:
            on_reject(everything)
        summary.count(counts)
        summary.reject(everything)
        summary.cursor = cursor
    except Exception as exc:
        _record_failure(database, name, "indicators", exc)
        raise
    finally:
        summary.seconds = time.monotonic() - started
    return summary


def run_source(
    database: Database,
    name: str,
    *,
    city_tz: str,
    today: dt.date,
    api_key: str | None = None,
    now: dt.datetime | None = None,
) -> IngestSummary:
    """One scheduled run of a registered source, by its kind (the scheduler's entry point).

    ``today`` is the city's date, the latest period an indicator file may report.

    ``open311`` sources poll their ``url`` with the stored ``format`` and ``jurisdiction_id``
    (the API key is passed in, never stored); their times without a zone are read in the
    source's declared ``timezone``, and a source registered before zones were declared takes
    ``city_tz`` as its declared zone (stored then; see ``declared_timezone``). ``csv`` and
    ``indicators`` sources re-read their file (``url`` is its path; ``config.layout`` names
    the layout), which changes nothing unless the file changed.
    """
    from sqlalchemy import select

    from db.models import DataSource
    from triage.ingest.open311_client import Open311Client
    from triage.ingest.portal_csv import load_layout

    with database.session() as session:
        source = session.scalars(select(DataSource).where(DataSource.name == name)).first()
        if source is None:
            raise IngestError(f"There is no data source called {name!r}.")
        kind, url, config = source.kind, source.url, dict(source.config or {})
    if kind == "open311":
        client = Open311Client(
            url,
            fmt=str(config.get("format") or "json"),
            jurisdiction_id=config.get("jurisdiction_id") or None,
            api_key=api_key,
        )
        return ingest_open311(database, client, source=name, city_tz=city_tz, now=now)
    if kind == "csv":
        layout = load_layout(str(config.get("layout") or "nyc"))
        return ingest_portal_export(database, url, layout, source=name, city_tz=city_tz, now=now)
    return ingest_indicator_file(
        database, url, layout=config.get("layout"), source=name, now=now, today=today
    )
