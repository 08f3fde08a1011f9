"""Indicator files (CSV or XLSX) to observation rows; the department-head form's rules check them.

This module only reads: which indicator, period, value, status and note each row gives. The
values are validated, row by row, when they are recorded (``db.ingest.import_observations``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from triage.ingest.errors import IngestError, Rejection
from triage.ingest.portal_csv import normalise_column

INDICATOR_FIELDS = ("indicator", "period", "value", "status", "note")
OBSERVATION_COLUMNS = ("row", *INDICATOR_FIELDS)
DEFAULT_MAX_ROWS = 100_000
MAX_FILE_BYTES = 50 * 1024 * 1024
DATETIME_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
XLSX_MAGIC = b"PK\x03\x04"


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


def _xlsx_rows(data: bytes, max_rows: int) -> Iterator[list[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

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
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Observation rows of a CSV or XLSX indicator file, and the rows that name no indicator.

    ``source`` is a path or the file's bytes (an upload); XLSX is recognised by its content.
    Returns a frame with ``OBSERVATION_COLUMNS``: ``row`` (1-based data row), ``indicator``
    (code or name as written), ``period`` (ISO date text when the cell was a date or
    date-time, else as written), ``value`` (number or text as written), ``status`` and ``note``
    (text). Raises ``IngestError`` when the file cannot be read, lacks a required column, or
    has more than ``max_rows`` rows.
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
        rows_iter = _xlsx_rows(data, max_rows)
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
