"""Bringing real data in, the runs: one function per source run, idempotent and safe to kill
at any moment. Each batch commits its rows, its daily-count changes and the source's cursor
together, so a killed run resumes where it stopped and a repeated run changes nothing.

The scheduler's ``poll-sources`` job and ``triage ingest`` call these; the parsers and the
pure helpers they use are in ``triage.ingest``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from db.audit import write_audit
from db.ingest import (
    CategoryCache,
    DistrictResolver,
    NewSourceIds,
    UpsertCounts,
    ensure_source,
    find_source,
    import_observations,
    load_districts,
    record_services,
    record_source_failure,
    record_source_success,
    save_cursor,
    service_groups,
    source_is_empty,
    update_source_config,
    upsert_reports,
)
from db.models import DataSource, utcnow
from db.session import Database
from triage.ingest import (
    SOURCE_NAME_LENGTH,
    IgnoresDates,
    IngestSummary,
    RequestCap,
    WindowPoll,
    declared_timezone,
    default_open311_source,
    file_fingerprint,
    legacy_open311_source,
    open311_client,
    parse_cursor,
    prefetch,
    resume_point,
)
from triage.ingest.errors import IngestError, Rejection
from triage.ingest.indicators import DEFAULT_MAX_ROWS, IndicatorContext, read_indicator_file
from triage.ingest.open311 import dropped_count
from triage.ingest.open311_client import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Open311Client,
    Open311Unreachable,
    time_windows,
)
from triage.ingest.portal_csv import Layout, load_layout, read_portal_export
from triage.security import Principal

__all__ = [
    "ingest_indicator_file",
    "ingest_open311",
    "ingest_portal_export",
    "read_open311_services",
    "resolve_open311_source",
    "run_source",
]

log = logging.getLogger("triage.ingest")

Progress = Callable[[str, float], None]
RejectSink = Callable[[Sequence[Rejection]], None]
MAX_REQUESTS_PER_RUN = 200


def _record_failure(database: Database, name: str, kind: str, exc: BaseException) -> None:
    message = str(exc) if isinstance(exc, IngestError) else f"{type(exc).__name__}: {exc}"
    try:
        with database.session(write=True) as session:
            record_source_failure(session, name, kind, message)
    except Exception:  # the original failure matters more than this bookkeeping
        log.exception("could not record the failure of source %s", name)


@contextmanager
def _recorded(database: Database, summary: IngestSummary) -> Iterator[None]:
    """Time the run into ``summary.seconds``; on any failure, record it on the source (its
    state and alert) and raise it again. What committed before the failure stays."""
    started = time.monotonic()
    try:
        yield
    except Exception as exc:
        _record_failure(database, summary.source, summary.kind, exc)
        raise
    finally:
        summary.seconds = time.monotonic() - started


def _audit_batch(session: Any, source_id: int, counts: UpsertCounts, cursor: str) -> None:
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
    path = Path(path)
    name = (source or layout.source or layout.name)[:64]
    summary = IngestSummary(source=name, kind="csv")
    with _recorded(database, summary):
        fingerprint = file_fingerprint(path)
        with database.session(write=True) as session:
            state = ensure_source(
                session, name, "csv", url=str(path.resolve()), config={"layout": layout.name}
            )
            districts = load_districts(session)
            first_import = source_is_empty(session, name)
        skip = resume_point(state.cursor, fingerprint)
        new_source = NewSourceIds() if first_import else None
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
                    new_source=new_source,
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
        summary.new_categories = list(categories.created_names)
        summary.placed = dict(districts.placed)
    return summary


def resolve_open311_source(database: Database, client: Open311Client) -> str:
    """The source name for ``client``'s endpoint when none is given.

    An endpoint polled before keys carried the path keeps its old host-only source (and so its
    cursor and its reports' unique keys) when that source was registered for this very
    endpoint (its stored URL is the client's); every other endpoint gets the path key.
    """
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


def _read_services(
    database: Database,
    client: Open311Client,
    name: str,
    now: dt.datetime,
    summary: IngestSummary,
) -> None:
    """Read the endpoint's service list into report categories and the source's config."""
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
    state = ensure_source(
        session,
        name,
        "open311",
        url=client.display_url,
        config={"format": client.fmt, "jurisdiction_id": client.jurisdiction_id},
    )
    tz = declared_timezone(name, source_tz, state.config.get("timezone"), city_tz)
    # The scheduled poll reads the source with the deadline and retries of its last command.
    limits = {"timeout": client.timeout, "retries": client.retries}
    update_source_config(session, state.id, {"timezone": tz, **limits})
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
    name = (source or resolve_open311_source(database, client))[:SOURCE_NAME_LENGTH]
    summary = IngestSummary(source=name, kind="open311")
    now = now or utcnow()
    with _recorded(database, summary):
        with database.session(write=True) as session:
            _register_open311_source(session, name, client, source_tz, city_tz)
        _read_services(database, client, name, now, summary)
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
    name = (source or resolve_open311_source(database, client))[:SOURCE_NAME_LENGTH]
    summary = IngestSummary(source=name, kind="open311")
    now = now or utcnow()
    with _recorded(database, summary):
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
        polled_until = parse_cursor(state.cursor, "u:")
        if start is not None:
            stop = end or now
            resumed = parse_cursor(state.cursor, "b:")
            begin = resumed if resumed is not None and start <= resumed < stop else start
            prefix, axis = "b:", ("start", "end")
        else:
            stop = end or now
            begin = polled_until - overlap if polled_until else now - lookback
            prefix, axis = "u:", ("updated_after", "updated_before")
        categories = CategoryCache()
        poll = WindowPoll(
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
            except RequestCap:
                summary.capped = True
                cursor, last = None, True
                resume = summary.cursor or state.cursor or begin.isoformat()
                summary.notes.append(
                    f"stopped at the cap of {max_requests} requests per run; "
                    f"the next run goes on from {resume}"
                )
            except IgnoresDates as why:
                note = (
                    f"the server ignores {axis[0]}/{axis[1]} ({why}): "
                    "fell back to one fetch without dates"
                )
                # Every later window would answer the same page: this fetch is the whole run.
                cursor, last = f"{prefix}{stop.isoformat()}", True
                try:
                    copies = poll.everything()
                    note += f", {copies} repeated records left out" if copies else ""
                except RequestCap:
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
            c for c in categories.created_names if c not in summary.new_categories
        )
        summary.placed = dict(districts.placed)
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
    if isinstance(source_file, bytes):
        label = filename or "upload"
        data_digest = hashlib.sha256(source_file).hexdigest()[:16]
    else:
        label = filename or Path(source_file).name
        data_digest = file_fingerprint(source_file)
    name = (source or f"indicators:{Path(label).stem}")[:64]
    summary = IngestSummary(source=name, kind="indicators")
    with _recorded(database, summary):
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

    with database.session() as session:
        source = session.scalars(select(DataSource).where(DataSource.name == name)).first()
        if source is None:
            raise IngestError(f"There is no data source called {name!r}.")
        kind, url, config = source.kind, source.url, dict(source.config or {})
    if kind == "open311":
        # Through the module, so that a test can give the scheduled run a quicker client.
        try:
            limits = {
                "timeout": float(config.get("timeout", DEFAULT_TIMEOUT)),
                "retries": int(config.get("retries", DEFAULT_RETRIES)),
            }
        except (TypeError, ValueError):
            raise IngestError(
                f"Source {name!r} has a timeout or retries that is not a number: "
                f"{config.get('timeout')!r}, {config.get('retries')!r}."
            ) from None
        client = open311_client.Open311Client(
            url,
            fmt=str(config.get("format") or "json"),
            jurisdiction_id=config.get("jurisdiction_id") or None,
            api_key=api_key,
            **limits,
        )
        return ingest_open311(database, client, source=name, city_tz=city_tz, now=now)
    if kind == "csv":
        layout = load_layout(str(config.get("layout") or "nyc"))
        return ingest_portal_export(database, url, layout, source=name, city_tz=city_tz, now=now)
    return ingest_indicator_file(
        database, url, layout=config.get("layout"), source=name, now=now, today=today
    )
