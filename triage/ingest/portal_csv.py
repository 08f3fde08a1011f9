"""Open-data portal exports of 311 requests (CSV, or a Socrata JSON array), read in chunks.

A ``Layout`` names one portal's columns (NYC, Chicago, SF, Boston built in; TOML for others);
exports stream through in fixed-size chunks, so memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from triage.ingest.errors import IngestError, Rejection
from triage.ingest.records import (
    RAW_FIELDS,
    build_reports,
    describe_format,
    detect_datetime_format,
    empty_reports,
)

REQUIRED_FIELDS = ("id", "requested", "category")
DEFAULT_CHUNK_ROWS = 50_000
JSON_READ_BYTES = 1 << 20
MAX_JSON_RECORD_BYTES = 16 << 20
LAYOUT_KEYS = frozenset(
    {
        "name",
        "extends",
        "source",
        "timezone",
        "datetime_formats",
        "placeholder_points",
        "columns",
        "districts",
    }
)


def normalise_column(name: str) -> str:
    """``Unique Key``, ``unique_key`` and ``UNIQUE KEY`` all become ``unique_key``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class Layout:
    """Where each report field sits in one portal's export.

    ``columns`` maps a field of ``triage.ingest.records.RAW_FIELDS`` to candidate column
    names (the first present in the file wins; names compare after ``normalise_column``).
    Zoneless times are local to ``timezone``; ``datetime_formats`` are tried before the format
    detected from each date column's values (``triage.ingest.records.read_datetimes``);
    ``placeholder_points`` are (lat, lon) pairs a portal uses for "no location";
    ``districts`` maps raw district values to Triage district codes.
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    source: str = ""
    timezone: str | None = None
    datetime_formats: tuple[str, ...] = ()
    placeholder_points: tuple[tuple[float, float], ...] = ()
    districts: Mapping[str, str] = field(default_factory=dict)


def _cols(**fields: str | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {
        key: tuple(normalise_column(c) for c in ((v,) if isinstance(v, str) else v))
        for key, v in fields.items()
    }


LAYOUTS: dict[str, Layout] = {
    "nyc": Layout(
        name="nyc",
        source="nyc-311",
        timezone="America/New_York",
        columns=_cols(
            id="Unique Key",
            requested="Created Date",
            closed="Closed Date",
            updated="Resolution Action Updated Date",
            category="Complaint Type",
            description="Descriptor",
            status="Status",
            address="Incident Address",
            district="Community Board",
            lat="Latitude",
            lon="Longitude",
        ),
    ),
    "chicago": Layout(
        name="chicago",
        source="chicago-311",
        timezone="America/Chicago",
        columns=_cols(
            id="SR_NUMBER",
            requested="CREATED_DATE",
            closed="CLOSED_DATE",
            updated="LAST_MODIFIED_DATE",
            category="SR_TYPE",
            description=("SR_SHORT_CODE",),
            status="STATUS",
            address="STREET_ADDRESS",
            district="WARD",
            lat="LATITUDE",
            lon="LONGITUDE",
        ),
    ),
    "sf": Layout(
        name="sf",
        source="sf-311",
        timezone="America/Los_Angeles",
        columns=_cols(
            id=("unique_key", "CaseID", "service_request_id"),
            requested=("created_date", "Opened", "requested_datetime"),
            closed=("closed_date", "Closed"),
            updated=("resolution_action_updated_date", "Updated", "updated_datetime"),
            category=("category", "service_name"),
            description=("descriptor", "Request Details", "complaint_type", "Request Type"),
            status=("status", "Status Description"),
            address=("incident_address", "Address"),
            district=("supervisor_district",),
            lat=("latitude", "lat"),
            lon=("longitude", "long"),
        ),
    ),
    "boston": Layout(
        name="boston",
        source="boston-311",
        timezone="America/New_York",
        placeholder_points=((42.3594, -71.0587),),
        columns=_cols(
            id=("case_enquiry_id",),
            requested=("open_dt",),
            closed=("closed_dt",),
            category=("type",),
            description=("case_title",),
            status=("case_status",),
            address=("location",),
            district=("city_council_district",),
            lat=("latitude",),
            lon=("longitude",),
        ),
    ),
}


def _layout_error(name: str, message: str) -> IngestError:
    return IngestError(f"Layout {name}: {message}")


def _valid_keys() -> str:
    return ", ".join(sorted(LAYOUT_KEYS))


def _check_format(name: str, fmt: object) -> str:
    """A ``datetime_formats`` entry: ``ISO8601`` or a strftime pattern pandas can read back."""
    if not isinstance(fmt, str) or not fmt.strip():
        raise _layout_error(name, "datetime_formats must be a list of strftime patterns.")
    if fmt in ("ISO8601", "ISO8601 UTC"):
        return fmt
    if "%" not in fmt:
        raise _layout_error(
            name,
            f"datetime_formats entry {fmt!r} is not a strftime pattern "
            '(e.g. "%m/%d/%Y %I:%M:%S %p", "%d.%m.%Y %H:%M" or "ISO8601").',
        )
    sample = dt.datetime(2024, 11, 23, 15, 4, 5)
    try:
        written = sample.strftime(fmt)
        pd.to_datetime(pd.Series([written]), format=fmt)
    except (ValueError, TypeError) as exc:
        raise _layout_error(
            name, f"datetime_formats entry {fmt!r} cannot be read back: {exc}."
        ) from None
    return fmt


def layout_from_toml(text: str, name: str = "custom") -> Layout:
    """A layout from a TOML mapping file; the keys are documented in ``docs/layouts.md``.

    Keys: ``name``, ``extends`` (a built-in layout to start from), ``source``, ``timezone``
    (an IANA zone), ``datetime_formats`` (list of strftime patterns, tried before the format
    detected from the data), ``placeholder_points`` (list of [lat, lon]), ``[columns]``
    (field = "Column" or ["Column", "Alternative"]) and ``[districts]`` (raw value = code).
    Raises ``IngestError`` naming the valid keys, fields or values for anything else.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _layout_error(name, f"the file is not valid TOML: {exc}.") from None
    unknown = set(data) - LAYOUT_KEYS
    if unknown:
        raise _layout_error(
            name,
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}; "
            f"the valid keys are {_valid_keys()}.",
        )
    for key in ("name", "extends", "source", "timezone"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise _layout_error(name, f"{key} must be a non-empty text value.")
    base_name = data.get("extends")
    if base_name is not None and base_name not in LAYOUTS:
        raise _layout_error(
            name,
            f"extends {base_name!r}, which is not a built-in layout; "
            f"the built-in layouts are {', '.join(LAYOUTS)}.",
        )
    base = LAYOUTS[base_name] if base_name else Layout(name=name, columns={})
    columns = dict(base.columns)
    raw_columns = data.get("columns", {})
    if not isinstance(raw_columns, dict):
        raise _layout_error(name, "[columns] must be a table of field = column name(s).")
    for key, value in raw_columns.items():
        if key not in RAW_FIELDS:
            raise _layout_error(
                name, f"unknown field {key!r} in [columns]; the fields are {', '.join(RAW_FIELDS)}."
            )
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise _layout_error(name, f"[columns] {key} must be a column name or a list of names.")
        columns[key] = tuple(normalise_column(n) for n in names)
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise _layout_error(
            name,
            f"[columns] names no column for {', '.join(missing)} "
            f"(required: {', '.join(REQUIRED_FIELDS)}).",
        )
    formats = data.get("datetime_formats", list(base.datetime_formats))
    if not isinstance(formats, list):
        raise _layout_error(name, "datetime_formats must be a list of strftime patterns.")
    formats = [_check_format(name, f) for f in formats]
    points_raw = data.get("placeholder_points", [list(p) for p in base.placeholder_points])
    try:
        points = tuple((float(p[0]), float(p[1])) for p in points_raw)
        if any(len(p) != 2 for p in points_raw):
            raise ValueError
    except (TypeError, ValueError, IndexError, KeyError):
        raise _layout_error(
            name, "placeholder_points must be a list of [lat, lon] pairs."
        ) from None
    districts = data.get("districts", dict(base.districts))
    if not isinstance(districts, dict) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in districts.values()
    ):
        raise _layout_error(name, "[districts] must map raw district values to district codes.")
    timezone = data.get("timezone", base.timezone)
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _layout_error(
                name, f"timezone {timezone!r} is not a time zone name such as America/Chicago."
            ) from None
    return Layout(
        name=str(data.get("name", name)),
        columns=columns,
        source=str(data.get("source", base.source or data.get("name", name))),
        timezone=timezone,
        datetime_formats=tuple(formats),
        placeholder_points=points,
        districts={str(k).strip().upper(): str(v) for k, v in districts.items()},
    )


L = TypeVar("L")


def load_named_layout(spec: str, built_in: Mapping[str, L], parse: Callable[[str, str], L]) -> L:
    """A built-in layout by name, or a TOML mapping file's path read by ``parse(text, name)``
    (the file's stem names the layout); raises IngestError with what to write instead."""
    if spec in built_in:
        return built_in[spec]
    path = Path(spec)
    if path.suffix.lower() != ".toml":
        raise IngestError(
            f"Unknown layout {spec!r}: use one of {', '.join(built_in)} or a .toml mapping file."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise IngestError(f"Cannot read the layout file {path.name}: {exc}.") from None
    return parse(text, path.stem)


def load_layout(spec: str) -> Layout:
    """A built-in layout by name (nyc, chicago, sf, boston) or a TOML mapping file's path."""
    return load_named_layout(spec, LAYOUTS, layout_from_toml)


@dataclass
class PortalChunk:
    """One chunk of an export: usable reports, rejected rows, and how far the read has got."""

    reports: pd.DataFrame
    rejections: list[Rejection]
    rows: int  # input records in this chunk, usable or not
    last_row: int  # 1-based record number of the chunk's last record
    bytes_read: int
    total_bytes: int


class _CountingReader(io.RawIOBase):
    """Counts the bytes the parser has pulled, for the progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def _resolve(layout: Layout, present: list[str]) -> dict[str, str]:
    """Field -> the column (normalised name) that holds it in this file."""
    available = set(present)
    chosen = {}
    for key, candidates in layout.columns.items():
        for candidate in candidates:
            if candidate in available:
                chosen[key] = candidate
                break
    missing = [key for key in REQUIRED_FIELDS if key not in chosen]
    if missing:
        wanted = "; ".join(f"{key}: {' or '.join(layout.columns.get(key, ()))}" for key in missing)
        raise IngestError(
            f"This file does not look like a {layout.name} export: no column for {wanted}."
        )
    return chosen


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for position, raw in enumerate(header):
        name = normalise_column(raw) or f"column_{position + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}__{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


def _read_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        try:
            header = next(csv.reader(handle), None)
        except csv.Error as exc:
            raise IngestError(f"The header line of {path.name} is not valid CSV: {exc}.") from None
    if not header or not any(h.strip() for h in header):
        raise IngestError(f"{path.name} is empty or has no header line.")
    return header


def _first_char(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    return text[:1]


def read_portal_export(
    path: str | Path,
    layout: Layout,
    *,
    tz: str = "UTC",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    skip_rows: int = 0,
    max_rows: int | None = None,
) -> Iterator[PortalChunk]:
    """Stream a portal export (CSV, or a JSON array of records) as report chunks.

    Each chunk's ``reports`` follow ``triage.ingest.records.REPORT_COLUMNS``; every record
    either lands there or in ``rejections``. ``tz`` is used for zoneless times when the layout
    names no time zone. The first ``skip_rows`` records are read but not returned (resuming an
    interrupted run). A CSV row with more fields than the header is read by its leading
    columns, one with fewer has the missing ones empty (the C parser cannot flag them without
    reading every column, which costs a third of the speed). Raises ``IngestError`` when the
    file cannot be read at all, or when it holds more than ``max_rows`` records (checked
    before that chunk is returned).
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"There is no file {path}.")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    layout_tz = layout.timezone or tz
    detected: dict[str, str] = {}  # date column -> the format found in the file's first chunk
    first = _first_char(path)
    if not first:
        raise IngestError(f"{path.name} is empty.")
    chunks = (
        _json_chunks(path, layout, chunk_rows)
        if first == "["
        else _csv_chunks(path, layout, chunk_rows)
    )
    for raw, extra_rejections, last_row, bytes_read, total in chunks:
        if max_rows is not None and last_row > max_rows:
            raise IngestError(
                f"{path.name} has more than {max_rows:,} records, the limit for this import."
            )
        rows = len(raw) + len(extra_rejections)
        if skip_rows:
            raw = raw[raw["row"] > skip_rows]
            extra_rejections = [r for r in extra_rejections if r.row > skip_rows]
        if len(raw):
            reports, rejections = build_reports(
                raw,
                formats=layout.datetime_formats,
                tz=layout_tz,
                placeholder_points=layout.placeholder_points,
                surrogates=first == "[",
                detected=detected,
            )
        else:
            reports, rejections = empty_reports(), []
        if layout.districts and len(reports):
            upper = reports["district"].str.upper()
            mapped = upper.map(layout.districts)
            reports["district"] = mapped.where(mapped.notna(), reports["district"])
        yield PortalChunk(
            reports=reports,
            rejections=sorted([*extra_rejections, *rejections], key=lambda r: r.row),
            rows=rows,
            last_row=last_row,
            bytes_read=bytes_read,
            total_bytes=total,
        )


def _csv_chunks(
    path: Path, layout: Layout, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, list[Rejection], int, int, int]]:
    header = _read_header(path)
    names = _unique_names(header)
    chosen = _resolve(layout, names)
    total = path.stat().st_size
    with path.open("rb") as raw_handle:
        counter = _CountingReader(raw_handle)
        buffered = io.BufferedReader(counter, buffer_size=1 << 20)
        try:
            reader = pd.read_csv(
                buffered,
                header=0,
                names=names,
                usecols=sorted(set(chosen.values())),
                dtype=str,
                na_filter=False,
                keep_default_na=False,
                encoding="utf-8-sig",
                encoding_errors="replace",
                chunksize=chunk_rows,
                skipinitialspace=False,
            )
            last_row = 0
            for chunk in reader:
                rows = pd.RangeIndex(last_row + 1, last_row + 1 + len(chunk))
                last_row += len(chunk)
                raw = pd.DataFrame({"row": rows}, index=chunk.index)
                for key, column in chosen.items():
                    raw[key] = chunk[column].fillna("")
                yield raw, [], last_row, counter.count, total
        except (pd.errors.ParserError, csv.Error, UnicodeError, ValueError) as exc:
            message = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise IngestError(f"{path.name} is not valid CSV: {message}.") from None


def _json_chunks(
    path: Path, layout: Layout, chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, list[Rejection], int, int, int]]:
    total = path.stat().st_size
    records: list[tuple[int, dict[str, Any]]] = []
    rejections: list[Rejection] = []
    last_row = 0
    chosen: dict[str, str] | None = None
    with path.open("rb") as handle:
        for item, consumed in _json_array_items(handle):
            last_row += 1
            if isinstance(item, Mapping):
                records.append((last_row, {normalise_column(str(k)): v for k, v in item.items()}))
            else:
                rejections.append(Rejection(last_row, "", "the array item is not an object"))
            if len(records) + len(rejections) >= chunk_rows:
                if records:
                    chosen = chosen or _resolve(layout, _keys(records))
                yield _json_frame(records, chosen or {}), rejections, last_row, consumed, total
                records, rejections = [], []
        if records or rejections:
            if records:
                chosen = chosen or _resolve(layout, _keys(records))
            yield _json_frame(records, chosen or {}), rejections, last_row, total, total


def _keys(records: list[tuple[int, dict[str, Any]]]) -> list[str]:
    keys: dict[str, None] = {}
    for _row, record in records:
        keys.update(dict.fromkeys(record))
    return list(keys)


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _json_frame(records: list[tuple[int, dict[str, Any]]], chosen: dict[str, str]) -> pd.DataFrame:
    """Raw text columns for the object records of one JSON chunk, numbered by array position."""
    rows = [
        {"row": row, **{key: _json_text(record.get(col)) for key, col in chosen.items()}}
        for row, record in records
    ]
    if not rows:
        return pd.DataFrame({"row": pd.Series([], dtype="int64")})
    return pd.DataFrame(rows, columns=["row", *chosen])


def _json_array_items(handle: BinaryIO) -> Iterator[tuple[Any, int]]:
    """Items of a top-level JSON array, decoded one at a time from a byte stream."""
    decoder = json.JSONDecoder()
    reader = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    buffer = ""
    position = 0
    consumed = 0
    eof = False

    def fill() -> bool:
        nonlocal buffer, position, consumed, eof
        if eof:
            return False
        data = handle.read(JSON_READ_BYTES)
        consumed += len(data)
        if not data:
            eof = True
            buffer = buffer[position:] + reader.decode(b"", final=True)
        else:
            buffer = buffer[position:] + reader.decode(data)
        position = 0
        return True

    def skip_space() -> bool:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer):
                return True
            if not fill():
                return False

    fill()
    if not skip_space() or buffer[position] != "[":
        raise IngestError("The JSON file is not an array of records.")
    position += 1
    expect_item = True
    while True:
        if not skip_space():
            raise IngestError("The JSON array ends before its closing bracket.")
        char = buffer[position]
        if char == "]":
            return
        if char == ",":
            if expect_item:
                raise IngestError("The JSON array has an empty element (two commas).")
            position += 1
            expect_item = True
            continue
        if not expect_item:
            raise IngestError(f"Unexpected {char!r} between JSON array elements.")
        while True:
            try:
                item, end = decoder.raw_decode(buffer, position)
            except RecursionError:
                raise IngestError("A JSON record nests too deeply.") from None
            except json.JSONDecodeError as exc:
                if not eof and len(buffer) - position < MAX_JSON_RECORD_BYTES and fill():
                    continue
                raise IngestError(f"The JSON file is not valid JSON: {exc.msg}.") from None
            # A number at the buffer's edge may continue in the next read: decode it again.
            at_edge = end == len(buffer) and not eof
            if at_edge and not isinstance(item, dict | list | str) and fill():
                continue
            break
        position = end
        expect_item = False
        yield item, consumed - (len(buffer) - position)


INFER_SAMPLE_ROWS = 1000


def _sample_table(path: Path) -> tuple[list[str], pd.DataFrame]:
    """The header as written and the first rows as text (columns by normalised name)."""
    if _first_char(path) == "[":
        records: list[dict[str, str]] = []
        header: dict[str, None] = {}
        with path.open("rb") as handle:
            for item, _consumed in _json_array_items(handle):
                if isinstance(item, Mapping):
                    header.update(dict.fromkeys(str(k) for k in item))
                    records.append({str(k): _json_text(v) for k, v in item.items()})
                if len(records) >= INFER_SAMPLE_ROWS:
                    break
        names = list(header)
        frame = pd.DataFrame(records, columns=names).fillna("")
        frame.columns = _unique_names(names)
        return names, frame
    names = _read_header(path)
    try:
        frame = pd.read_csv(
            path,
            header=0,
            names=_unique_names(names),
            dtype=str,
            na_filter=False,
            keep_default_na=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
            nrows=INFER_SAMPLE_ROWS,
        )
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
        raise IngestError(f"{path.name} is not valid CSV: {message}.") from None
    return names, frame


def _toml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def infer_layout(path: str | Path, timezone: str | None = None) -> str:
    """A proposed layout TOML for an export, from its header and first rows.

    Each report field gets the first column whose name (case, spaces and punctuation aside)
    any built-in layout uses for it; each date column's format is detected from its values.
    Fields with no column, and columns left unused, are listed as comments to edit by hand.
    ``timezone`` (the city's) is proposed for zoneless times. Reads only the first rows.
    """
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"There is no file {path}.")
    if not _first_char(path):
        raise IngestError(f"{path.name} is empty.")
    header, sample = _sample_table(path)
    normalised = _unique_names(header)
    written = dict(zip(normalised, header, strict=True))
    fits = {
        name: sum(any(c in written for c in cols) for cols in layout.columns.values())
        for name, layout in LAYOUTS.items()
    }
    closest = max(fits, key=lambda n: fits[n])
    # The closest portal's names first: Boston's ``type`` is the category, NYC's is not.
    ordered = [LAYOUTS[closest], *(v for k, v in LAYOUTS.items() if k != closest)]
    chosen: dict[str, str] = {}
    for key in RAW_FIELDS:
        for layout in ordered:
            hit = next((c for c in layout.columns.get(key, ()) if c in written), None)
            if hit and hit not in chosen.values():
                chosen[key] = hit
                break
    formats: list[str] = []
    for key in ("requested", "updated", "closed"):
        if key in chosen:
            found = detect_datetime_format(sample[chosen[key]].astype(str).str.strip())
            if found and found not in formats:
                formats.append(found)
    slug = re.sub(r"[^0-9a-z]+", "-", path.stem.lower()).strip("-")[:48] or "city-311"
    lines = [
        f"# Layout proposed by `triage ingest csv {path.name} --infer-layout`",
        f"# from its header and first {len(sample):,} rows; check it, then save it as a .toml file",
        "# and run: triage ingest csv FILE --layout THAT.toml   (keys: docs/layouts.md)",
        f"# closest built-in layout: {closest} ({fits[closest]} of "
        f"{len(LAYOUTS[closest].columns)} of its fields found)",
        f"name = {_toml_text(slug)}",
        f"source = {_toml_text(slug)}",
    ]
    if timezone:
        lines.append(f"timezone = {_toml_text(timezone)}  # zone of times written without one")
    described = "; ".join(describe_format(f) for f in formats) or "none"
    explicit = [f for f in formats if f != "ISO8601"]  # ISO 8601 is always tried
    shown = ", ".join(_toml_text(f) for f in explicit)
    lines.append(f"datetime_formats = [{shown}]  # detected: {described}")
    points = LAYOUTS[closest].placeholder_points
    if points:
        shown_points = ", ".join(f"[{lat}, {lon}]" for lat, lon in points)
        lines.append(f"placeholder_points = [{shown_points}]  # 'no location' in {closest}")
    lines.append("")
    lines.append("[columns]")
    for key in RAW_FIELDS:
        if key in chosen:
            lines.append(f"{key} = {_toml_text(written[chosen[key]])}")
        else:
            need = "required" if key in REQUIRED_FIELDS else "optional"
            lines.append(f'# {key} = "..."  # no column found ({need})')
    unused = [written[n] for n in normalised if n not in chosen.values()]
    if unused:
        lines.append("")
        lines.append("# columns not used: " + ", ".join(unused))
    return "\n".join(lines) + "\n"
