"""Indicator files (CSV or XLSX) to observation rows; the department-head form's rules check them.

This module only reads: which indicator, period, value, status and note each row gives. The
values are validated, row by row, when they are recorded (``db.ingest.import_observations``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import tomllib
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from triage.ingest.errors import ExpansionLimitError, IngestError, Rejection
from triage.ingest.portal_csv import normalise_column

INDICATOR_FIELDS = ("indicator", "period", "value", "status", "note")
OBSERVATION_COLUMNS = ("row", *INDICATOR_FIELDS)
DEFAULT_MAX_ROWS = 100_000
MAX_FILE_BYTES = 50 * 1024 * 1024
DATETIME_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip: its parts may expand, together, to about this much per allowed row,
# within these bounds; a legitimate sheet expands about 10 times, a decompression bomb 1,000.
XLSX_EXPANDED_BYTES_PER_ROW = 2 * 1024
XLSX_MIN_EXPANDED_BYTES = 16 * 1024 * 1024
XLSX_MAX_EXPANDED_BYTES = 256 * 1024 * 1024
XLSX_MAX_RATIO = 100
XLSX_RATIO_GRACE_BYTES = 1024 * 1024  # small parts (styles, relationships) compress better
XLSX_MAX_PARTS = 10_000
INFLATE_STEP = 64 * 1024
ZIP_CENTRAL_ENTRY = b"PK\x01\x02"
ZIP_LOCAL_HEADER_BYTES = 30
WORKSHEET_PART = re.compile(r"xl/worksheets/sheet(\d+)\.xml")


@dataclass(frozen=True)
class IndicatorLayout:
    """Which columns hold each field; ``indicator``, ``period`` and ``value`` are required."""

    name: str
    columns: Mapping[str, tuple[str, ...]]


def _cols(**fields: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(normalise_column(c) for c in v) for k, v in fields.items()}


INDICATOR_LAYOUTS: dict[str, IndicatorLayout] = {
    "generic": IndicatorLayout(
        "generic",
        _cols(
            indicator=("indicator", "indicator_code", "code", "indicator_name", "name", "metric"),
            period=("period", "date", "as_of", "period_end"),
            value=("value", "observed", "actual"),
            status=("status",),
            note=("note", "notes", "comment"),
        ),
    ),
    # Boston's CityScore export: one row per metric and load date, the day's figure in DY_01.
    "cityscore": IndicatorLayout(
        "cityscore",
        _cols(
            indicator=("CTY_SCR_NAME",),
            period=("ETL_LOAD_DATE",),
            value=("CTY_SCR_NBR_DY_01",),
        ),
    ),
}


def indicator_layout_from_toml(text: str, name: str = "custom") -> IndicatorLayout:
    """A layout from TOML: ``[columns]`` with field = "Column" or ["Column", "Alternative"]."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(f"The layout file is not valid TOML: {exc}.") from None
    unknown = set(data) - {"name", "columns"}
    if unknown:
        raise IngestError(f"Unknown keys in the layout file: {', '.join(sorted(unknown))}.")
    raw = data.get("columns")
    if not isinstance(raw, dict):
        raise IngestError("The layout file needs a [columns] table.")
    columns: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        if key not in INDICATOR_FIELDS:
            raise IngestError(f"Unknown field {key!r}; fields are {', '.join(INDICATOR_FIELDS)}.")
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise IngestError(f"[columns] {key} must be a column name or a list of names.")
        columns[key] = tuple(normalise_column(n) for n in names)
    return IndicatorLayout(str(data.get("name", name)), columns)


def load_indicator_layout(spec: str) -> IndicatorLayout:
    """A built-in layout (generic, cityscore) or a TOML mapping file's path."""
    if spec in INDICATOR_LAYOUTS:
        return INDICATOR_LAYOUTS[spec]
    path = Path(spec)
    if path.suffix.lower() != ".toml":
        raise IngestError(
            f"Unknown layout {spec!r}: use one of {', '.join(INDICATOR_LAYOUTS)} or a .toml file."
        )
    try:
        return indicator_layout_from_toml(path.read_text(encoding="utf-8"), path.stem)
    except (OSError, UnicodeError) as exc:
        raise IngestError(f"Cannot read the layout file {path.name}: {exc}.") from None


def _cell_text(value: Any) -> Any:
    """Spreadsheet cells keep numbers as numbers; dates become ISO dates; text is stripped."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return str(value).replace("\x00", "").strip()


def expanded_limit(max_rows: int) -> int:
    """The most bytes an XLSX file's parts may expand to, together, for ``max_rows`` rows."""
    wanted = max_rows * XLSX_EXPANDED_BYTES_PER_ROW
    return min(XLSX_MAX_EXPANDED_BYTES, max(XLSX_MIN_EXPANDED_BYTES, wanted))


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    return f"{size / (1024 * 1024):,.0f} MB"


def _part_label(name: str) -> str:
    sheet = WORKSHEET_PART.fullmatch(name)
    if sheet:
        return f"sheet {sheet.group(1)}"
    if name == "xl/sharedStrings.xml":
        return "shared text"
    return f"part {name[:80]!r}"


def _inflated_size(compressed: memoryview, limit: int) -> int:
    """Bytes a raw deflate stream expands to, counted in small steps; stops past ``limit``."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    for start in range(0, len(compressed), INFLATE_STEP):
        pending: bytes | memoryview = compressed[start : start + INFLATE_STEP]
        while pending and not inflater.eof:
            produced += len(inflater.decompress(pending, INFLATE_STEP))
            if produced > limit:
                return produced
            pending = inflater.unconsumed_tail
        if inflater.eof:
            break
    return produced


def check_workbook_size(data: bytes, limit: int) -> None:
    """Refuse an XLSX file (a zip) whose parts would expand past ``limit`` bytes, before any
    part is inflated for reading.

    Checks the number of parts, each part's declared size, its compression ratio and the
    total; then inflates each part in 64 KiB steps, counting, and refuses a part that holds
    more than it declares (``zipfile`` would inflate such a part whole before cutting it to
    its declared size). Raises ``ExpansionLimitError`` for sizes and ``IngestError`` for a
    damaged, encrypted or oddly compressed file.
    """
    if data.count(ZIP_CENTRAL_ENTRY) > XLSX_MAX_PARTS:
        raise ExpansionLimitError(
            f"The workbook has more than {XLSX_MAX_PARTS:,} parts; a spreadsheet has a few dozen.",
            limit=XLSX_MAX_PARTS,
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise IngestError(f"The spreadsheet could not be opened: {type(exc).__name__}.") from None
    total = 0
    for part in parts:
        label = _part_label(part.filename)
        if part.flag_bits & 0x1:
            raise IngestError("The workbook is encrypted; save it without a password.")
        if part.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise IngestError(
                f"The workbook's {label} is compressed in a way spreadsheet programs do not "
                "use; save the workbook again from a spreadsheet program."
            )
        if part.file_size > limit:
            raise ExpansionLimitError(
                f"The workbook's {label} expands to {_size_text(part.file_size)}; "
                f"the limit is {_size_text(limit)}.",
                limit=limit,
                size=part.file_size,
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > XLSX_RATIO_GRACE_BYTES and ratio > XLSX_MAX_RATIO:
            raise ExpansionLimitError(
                f"The workbook's {label} expands {ratio:,.0f} times "
                f"(to {_size_text(part.file_size)}); the limit is {XLSX_MAX_RATIO} times.",
                limit=limit,
                size=part.file_size,
            )
        total += part.file_size
    if total > limit:
        raise ExpansionLimitError(
            f"The workbook expands to {_size_text(total)}; the limit is {_size_text(limit)}.",
            limit=limit,
            size=total,
        )
    view = memoryview(data)
    for part in parts:
        offset = part.header_offset
        header = view[max(offset, 0) : offset + ZIP_LOCAL_HEADER_BYTES]
        if offset < 0 or len(header) < ZIP_LOCAL_HEADER_BYTES or header[:4] != XLSX_MAGIC:
            raise IngestError("The spreadsheet could not be opened: it is damaged.")
        name_bytes, extra_bytes = struct.unpack_from("<HH", header, 26)
        start = offset + ZIP_LOCAL_HEADER_BYTES + name_bytes + extra_bytes
        if part.compress_type != zipfile.ZIP_DEFLATED:
            continue  # a stored part is as large as its bytes in the file
        try:
            actual = _inflated_size(view[start : start + part.compress_size], part.file_size)
        except zlib.error:
            raise IngestError("The spreadsheet could not be opened: it is damaged.") from None
        if actual > part.file_size:
            raise ExpansionLimitError(
                f"The workbook's {_part_label(part.filename)} holds more than the "
                f"{_size_text(part.file_size)} it declares; the file is refused.",
                limit=limit,
            )


def _xlsx_rows(data: bytes, max_rows: int, max_expanded: int) -> Iterator[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_workbook_size(data, max_expanded)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        OSError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
        EOFError,
    ) as exc:
        raise IngestError(f"The spreadsheet could not be opened: {type(exc).__name__}.") from None
    except Exception as exc:  # openpyxl raises assorted errors for broken workbooks
        raise IngestError(f"The spreadsheet could not be read: {type(exc).__name__}.") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise IngestError("The spreadsheet has no worksheet.")
        for count, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if count > max_rows + 1:
                raise IngestError(f"The file has more than {max_rows:,} rows, the import limit.")
            yield [_cell_text(v) for v in values]
    except IngestError:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise IngestError(f"The spreadsheet could not be read: {type(exc).__name__}.") from None
    finally:
        workbook.close()


def _csv_table(data: bytes, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            na_filter=False,
            keep_default_na=False,
            encoding="utf-8-sig",
            encoding_errors="replace",
            header=None,
            nrows=max_rows + 2,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise IngestError("The file is empty.") from None
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise IngestError(f"The file is not valid CSV: {message}.") from None
    if len(frame) > max_rows + 1:
        raise IngestError(f"The file has more than {max_rows:,} rows, the import limit.")
    rows = [[str(v).replace("\x00", "").strip() for v in row] for row in frame.to_numpy().tolist()]
    return (rows[0] if rows else []), rows[1:]


def _detect_layout(names: list[str]) -> IndicatorLayout:
    if "cty_scr_name" in names:
        return INDICATOR_LAYOUTS["cityscore"]
    return INDICATOR_LAYOUTS["generic"]


def _normalise_period(value: Any) -> Any:
    if isinstance(value, str):
        match = DATETIME_TEXT.match(value)
        if match:
            return match.group(1)
    return value


def read_indicator_file(
    source: str | Path | bytes,
    *,
    filename: str = "",
    layout: IndicatorLayout | str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_expanded_bytes: int | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Observation rows of a CSV or XLSX indicator file, and the rows that name no indicator.

    ``source`` is a path or the file's bytes (an upload); XLSX is recognised by its content.
    Returns a frame with ``OBSERVATION_COLUMNS``: ``row`` (1-based data row), ``indicator``
    (code or name as written), ``period`` (ISO date text when the cell was a date or
    date-time, else as written), ``value`` (number or text as written), ``status`` and ``note``
    (text). Raises ``IngestError`` when the file cannot be read, lacks a required column, or
    has more than ``max_rows`` rows, and ``ExpansionLimitError`` (before inflating anything
    past the limit) when an XLSX file's parts would expand past ``max_expanded_bytes``
    (default: ``expanded_limit(max_rows)``) or expand more than a spreadsheet does.
    """
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        filename = filename or path.name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise IngestError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MiB.")
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"Cannot read {path.name}: {exc.strerror or exc}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(f"The file is larger than {MAX_FILE_BYTES >> 20} MiB.")
    if not data.strip():
        raise IngestError("The file is empty.")
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        limit = max_expanded_bytes or expanded_limit(max_rows)
        rows_iter = _xlsx_rows(data, max_rows, limit)
        header_cells = next(rows_iter, None)
        while header_cells is not None and not any(str(c).strip() for c in header_cells):
            header_cells = next(rows_iter, None)
        header = [str(c) for c in (header_cells or [])]
        body: list[list[Any]] = list(rows_iter)
    else:
        header, body = _csv_table(data, max_rows)
    names = [normalise_column(h) for h in header]
    if isinstance(layout, str):
        layout = load_indicator_layout(layout)
    layout = layout or _detect_layout(names)
    position: dict[str, int] = {}
    for key, candidates in layout.columns.items():
        for candidate in candidates:
            if candidate in names:
                position[key] = names.index(candidate)
                break
    missing = [key for key in ("indicator", "period", "value") if key not in position]
    if missing:
        examples = [layout.columns[m][0] for m in missing if m in layout.columns]
        raise IngestError(
            f"The file has no column for {', '.join(missing)} "
            f"(expected e.g. {', '.join(examples) or 'indicator, period, value'})."
        )
    records: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for number, cells in enumerate(body, start=1):
        if not any(str(c).strip() for c in cells):
            continue  # blank spreadsheet rows are layout, not data

        def cell(key: str, cells: list[Any] = cells) -> Any:
            index = position.get(key)
            return cells[index] if index is not None and index < len(cells) else ""

        indicator = str(cell("indicator")).strip()
        if not indicator:
            rejections.append(Rejection(number, "indicator", "the row names no indicator"))
            continue
        status = str(cell("status")).strip().lower().replace(" ", "_").replace("-", "_")
        records.append(
            {
                "row": number,
                "indicator": indicator[:200],
                "period": _normalise_period(cell("period")),
                "value": cell("value"),
                "status": status,
                "note": str(cell("note")),
            }
        )
    return pd.DataFrame(records, columns=list(OBSERVATION_COLUMNS)), rejections
