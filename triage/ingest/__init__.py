"""Bringing real data in, the pure part: run summaries, reject files, fingerprints, cursors,
source names and the Open311 window poll. The parsers are the modules beside this one.

The runs that write to the database (one function per source run, idempotent and safe to
kill at any moment) are in ``triage.jobs.ingest``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import queue
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from triage.export import safe_cell
from triage.ingest.errors import IngestError, Open311ServerError, Rejection

if TYPE_CHECKING:
    from triage.ingest.open311_client import Open311Client

__all__ = [
    "IngestError",
    "IngestSummary",
    "Open311ServerError",
    "Rejection",
    "RejectsFile",
    "declared_timezone",
    "default_open311_source",
    "file_fingerprint",
    "neutralise_cell",
    "prefetch",
]

T = TypeVar("T")
SAMPLE_REJECTIONS = 10
SOURCE_NAME_LENGTH = 64
# How far outside the asked window a record may fall before the server is taken to ignore
# the dates: servers' clocks and zones are off by hours, never by a day.
DATE_TOLERANCE = dt.timedelta(days=1)


class BatchCounts(Protocol):
    """What a batch write reports (``db.ingest.UpsertCounts``)."""

    @property
    def added(self) -> int: ...

    @property
    def updated(self) -> int: ...

    @property
    def unchanged(self) -> int: ...


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
    # How the run's reports found their district: by their point inside a boundary, by the
    # district the source names, outside every boundary, or nowhere (no point, no name).
    placed: dict[str, int] = field(default_factory=dict)

    def count(self, counts: BatchCounts) -> None:
        """Add a batch's ``added``, ``updated`` and ``unchanged``."""
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
            **({"placed": dict(self.placed)} if self.placed else {}),
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
    return str(safe_cell(text))


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


def resume_point(cursor: str | None, fingerprint: str) -> int:
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


def parse_cursor(cursor: str | None, prefix: str) -> dt.datetime | None:
    """The time in a cursor like ``u:<ISO time>`` with this ``prefix``; None otherwise."""
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
    host = urlsplit(client.base_url).hostname or "server"
    name = f"open311:{host}" + (f"/{client.jurisdiction_id}" if client.jurisdiction_id else "")
    return name[:SOURCE_NAME_LENGTH]


def declared_timezone(
    name: str, source_tz: str | None, stored_tz: str | None, city_tz: str | None
) -> str:
    """The zone of a source's times that carry none: the one given for this run (the CLI's
    ``--timezone``), else the one the source declared (its config ``timezone``), else the
    city's (``Settings.timezone``, the declared default). None of them: ``IngestError``.
    """
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


class RequestCap(Exception):
    """The run made as many requests as it may."""


class IgnoresDates(Exception):
    """The server answered as if the date filters were not there; the message says how."""


@dataclass
class WindowPoll:
    """Covers date windows with as few requests as it can, never more than ``max_requests``.

    A window that comes back full is halved (down to ``min_window``, then paged). A server
    that ignores the dates (its records fall outside the window asked for, or both halves of
    a window answer the same page) is caught before the halving goes on: ``IgnoresDates``.
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
            raise RequestCap
        self.requests += 1
        return self.client.requests(tz=self.tz, **params)

    def window(self, w_start: dt.datetime, w_end: dt.datetime) -> tuple[Any, list[Rejection]]:
        """One answer for a window; ``IgnoresDates`` when most of its records lie outside
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
                raise IgnoresDates(
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
                raise IgnoresDates(
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
