"""Indicator files (CSV or XLSX) to observation rows; the department-head form's rules check them.

This module only reads: which indicator, period, value, status and note each row gives. The
values are validated, row by row, when they are recorded (``db.ingest.import_observations``).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import struct
import tomllib
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from triage.ingest.errors import ExpansionLimitError, IngestError, Rejection
from triage.ingest.portal_csv import load_named_layout, normalise_column
from triage.validation import PERCENT_UNITS

INDICATOR_FIELDS = ("indicator", "period", "value", "status", "note")
OBSERVATION_COLUMNS = ("row", *INDICATOR_FIELDS)
DEFAULT_MAX_ROWS = 100_000
MAX_FILE_BYTES = 50 * 1024 * 1024
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
DELIMITERS = (",", ";", "\t")
SNIFF_BYTES = 64 * 1024
SNIFF_LINES = 50
DEFAULT_FISCAL_YEAR_START = 7
MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# English names whatever the machine's locale: "Mar", "March", "Sept".
MONTHS = {
    **{name: number for number, name in enumerate(MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
PERIOD_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("date", r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T][\d:.]+)?"),
        ("date", r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})(?: [\d:.]+(?: ?[AP]M)?)?"),
        ("month", r"(?P<y>\d{4})[-/](?P<m>\d{1,2})"),
        ("month", rf"(?P<mon>{_MONTH_NAMES})\.?[ -]?(?P<y>\d{{4}}|\d{{2}})"),
        ("month", rf"(?P<y>\d{{4}})[ -](?P<mon>{_MONTH_NAMES})"),
        ("quarter", r"(?P<y>\d{4})[ -]?Q(?P<q>[1-4])"),
        ("quarter", r"Q(?P<q>[1-4])[ -]?(?P<y>\d{4})"),
        ("year", r"(?P<y>\d{4})(?:\.0)?"),
        (
            "fiscal",
            r"FY ?(?P<y1>\d{4}|\d{2})(?:[-/](?P<y2>\d{4}|\d{2}))?(?:[ -]?Q(?P<q>[1-4]))?",
        ),
        ("fiscal", r"Q(?P<q>[1-4])[ -]?FY ?(?P<y1>\d{4}|\d{2})(?:[-/](?P<y2>\d{4}|\d{2}))?"),
    )
)
SUGGESTIONS = 3
FRACTION_SCALE_FLOOR = 1.5  # a history whose largest value is above this is on 0..100


@dataclass(frozen=True)
class IndicatorLayout:
    """Which columns hold each field; ``indicator``, ``period`` and ``value`` are required."""

    name: str
    columns: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, eq=False)
class IndicatorContext:
    """What reading an indicator file needs to know about the city, beyond its columns.

    ``fiscal_year_start`` is the month the city's fiscal year starts (1-12); ``catalogue``,
    when given, holds the city's indicators (columns ``code``, ``name``, ``unit``,
    ``history_min``, ``history_max``: the smallest and largest values recorded, NaN when
    none) so that unknown indicators
    are rejected with the closest known names and percentages written as fractions are
    converted. Pass it where a layout is expected (``read_indicator_file(layout=...)``).
    """

    layout: IndicatorLayout | str | None = None
    fiscal_year_start: int = DEFAULT_FISCAL_YEAR_START
    catalogue: pd.DataFrame | None = field(default=None, repr=False)


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
    return load_named_layout(spec, INDICATOR_LAYOUTS, indicator_layout_from_toml)


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


def sniff_delimiter(text: str) -> str:
    """The delimiter (``,``, ``;`` or tab) that splits the first lines into the most columns,
    the same number on every line (quotes respected); ``,`` when none splits them."""
    lines = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut its last line
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not widths or widths[0] < 2:
            continue
        steady = sum(width == widths[0] for width in widths)
        score = (steady, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_table(data: bytes, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    head = data[:SNIFF_BYTES].decode("utf-8-sig", errors="replace")
    delimiter = sniff_delimiter(head)
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            sep=delimiter,
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
        shown = {"\t": "tab", ",": "comma", ";": "semicolon"}[delimiter]
        raise IngestError(
            f"The file is not valid CSV (read as {shown}-separated): {message}."
        ) from None
    if len(frame) > max_rows + 1:
        raise IngestError(f"The file has more than {max_rows:,} rows, the import limit.")
    rows = [[str(v).replace("\x00", "").strip() for v in row] for row in frame.to_numpy().tolist()]
    return (rows[0] if rows else []), rows[1:]


def _detect_layout(names: list[str]) -> IndicatorLayout:
    if "cty_scr_name" in names:
        return INDICATOR_LAYOUTS["cityscore"]
    return INDICATOR_LAYOUTS["generic"]


def _year(text: str) -> int:
    """``2018`` or ``18`` (this century) as a year."""
    return int(text) if len(text) == 4 else 2000 + int(text)


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _fiscal_start(match: re.Match[str], fiscal_year_start: int) -> dt.date | None:
    """First day of a fiscal year (named by the calendar year it ends in) or its quarter."""
    groups = match.groupdict()
    first = _year(groups["y1"])
    if groups.get("y2"):
        written = groups["y2"]
        second = int(written) if len(written) == 4 else first // 100 * 100 + int(written)
        if second < first:
            second += 100  # FY1999-00
        if second != first + 1:
            return None
        end_year = second if fiscal_year_start > 1 else first
    else:
        end_year = first
    start = dt.date(end_year - 1 if fiscal_year_start > 1 else end_year, fiscal_year_start, 1)
    quarter = int(groups["q"]) if groups.get("q") else 1
    return _shift_months(start, 3 * (quarter - 1))


def parse_period_text(value: str, fiscal_year_start: int = DEFAULT_FISCAL_YEAR_START) -> str | None:
    """The first day of the period ``value`` names, as ISO text, or None when it names none.

    Dates (``2024-03-31``, ``2024-03-31 00:00:00``, ``03/31/2024``), months (``2024-03``,
    ``Mar 2024``), quarters (``2024-Q1``, ``Q1 2024``), years (``2024``), fiscal years
    (``FY2017-18``, ``FY2018``, ``FY18``: named by the year they end in) and fiscal quarters
    (``FY2018 Q2``, ``Q2 FY18``) starting in month ``fiscal_year_start``.
    """
    text = value.strip()
    for kind, pattern in PERIOD_FORMS:
        match = pattern.fullmatch(text)
        if not match:
            continue
        try:
            if kind == "fiscal":
                day = _fiscal_start(match, fiscal_year_start)
            elif kind == "date":
                day = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            elif kind == "month":
                groups = match.groupdict()
                month = int(groups["m"]) if groups.get("m") else MONTHS[groups["mon"].lower()]
                day = dt.date(_year(match["y"]), month, 1)
            elif kind == "quarter":
                day = dt.date(int(match["y"]), 3 * int(match["q"]) - 2, 1)
            else:
                day = dt.date(int(match["y"]), 1, 1)
        except ValueError:
            return None
        return day.isoformat() if day else None
    return None


def _period_reader(fiscal_year_start: int) -> Any:
    """A cached ``period cell -> ISO date text`` (cells that name no period stay as written;
    the department-head form's rules reject them with their own message)."""
    cache: dict[Any, Any] = {}

    def read(value: Any) -> Any:
        key = value
        if isinstance(value, float) and value.is_integer():
            value = str(int(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return value
        if key not in cache:
            cache[key] = parse_period_text(value, fiscal_year_start) or value
        return cache[key]

    return read


def _is_period(header: str, fiscal_year_start: int) -> bool:
    return bool(header.strip()) and parse_period_text(header, fiscal_year_start) is not None


def _find(layout: IndicatorLayout, names: list[str]) -> dict[str, int]:
    position: dict[str, int] = {}
    for key, candidates in layout.columns.items():
        for candidate in candidates:
            if candidate in names:
                position[key] = names.index(candidate)
                break
    return position


def _wide_to_long(
    header: list[str], body: list[list[Any]], indicator_at: int, fiscal_year_start: int
) -> tuple[list[str], list[list[Any]], list[int]]:
    """One row per indicator and period column, from a table with a column per period.

    Returns the long header, its rows and each row's data row number in the file."""
    periods = [
        (index, text)
        for index, text in enumerate(header)
        if index != indicator_at and _is_period(text, fiscal_year_start)
    ]
    rows: list[list[Any]] = []
    numbers: list[int] = []
    for number, cells in enumerate(body, start=1):
        indicator = cells[indicator_at] if indicator_at < len(cells) else ""
        for index, period in periods:
            value = cells[index] if index < len(cells) else ""
            if str(value).strip() == "":
                continue  # an empty cell is a period not reported, not a row
            rows.append([indicator, period, value])
            numbers.append(number)
    return ["indicator", "period", "value"], rows, numbers


def _catalogue_keys(catalogue: pd.DataFrame) -> dict[str, tuple[str, str, float, float]]:
    """lower-case code or name -> (code, unit, smallest and largest recorded values)."""
    keys: dict[str, tuple[str, str, float, float]] = {}
    columns = ["code", "name", "unit", "history_min", "history_max"]
    for code, name, unit, low, high in catalogue[columns].itertuples(index=False):
        entry = (
            str(code),
            str(unit or ""),
            float(low) if pd.notna(low) else float("nan"),
            float(high) if pd.notna(high) else float("nan"),
        )
        keys.setdefault(str(name).strip().lower(), entry)
        keys[str(code).strip().lower()] = entry
    return keys


def closest_indicators(written: str, catalogue: pd.DataFrame, n: int = SUGGESTIONS) -> list[str]:
    """The known indicators most like ``written`` (difflib on codes and names), best first,
    each once, shown as ``name (CODE)``."""
    shown: dict[str, str] = {}
    for code, name in catalogue[["code", "name"]].itertuples(index=False):
        label = f"{name} ({code})"
        shown.setdefault(str(code).strip().lower(), label)
        shown.setdefault(str(name).strip().lower(), label)
    close = difflib.get_close_matches(written.strip().lower(), list(shown), n=3 * n, cutoff=0.5)
    return list(dict.fromkeys(shown[c] for c in close))[:n]


def _unknown_reason(written: str, catalogue: pd.DataFrame) -> str:
    close = closest_indicators(written, catalogue)
    if close:
        return f"no indicator has this code or name (closest: {', '.join(close)})"
    if catalogue.empty:
        return "no indicator has this code or name (the city has no indicators yet)"
    known = ", ".join(str(c) for c in catalogue["code"].head(5))
    more = ", ..." if len(catalogue) > 5 else ""
    return f"no indicator has this code or name (known codes: {known}{more})"


def _apply_catalogue(
    frame: pd.DataFrame, catalogue: pd.DataFrame
) -> tuple[pd.DataFrame, list[Rejection], list[str]]:
    """Reject rows of unknown indicators (with the closest names) and convert percentages
    written as fractions: a ``%`` indicator whose history is on the 0..100 scale (every
    recorded value above 1, the largest above 1.5) and whose values in this file all lie
    within 0..1. Returns the frame, the rejections and what was changed.
    """
    keys = _catalogue_keys(catalogue)
    lowered = frame["indicator"].astype(str).str.strip().str.lower()
    known = lowered.isin(keys)
    rejections = [
        Rejection(int(row), "indicator", _unknown_reason(str(written), catalogue), str(written))
        for row, written in zip(frame["row"][~known], frame["indicator"][~known], strict=True)
    ]
    frame = frame[known].copy()
    frame["value"] = frame["value"].astype(object)  # converted cells become numbers
    lowered = lowered[known]
    notes: list[str] = []
    numbers = pd.to_numeric(frame["value"].map(_number_text), errors="coerce")
    codes = lowered.map(lambda k: keys[k][0])
    for code, group in numbers.groupby(codes, sort=True):
        _code, unit, low, high = next(keys[k] for k in lowered[group.index].head(1))
        values = group.dropna()
        if unit.strip().lower() not in PERCENT_UNITS or values.empty:
            continue
        on_hundred_scale = low > 1 and high > FRACTION_SCALE_FLOOR  # False when NaN
        if not on_hundred_scale or not values.between(0, 1).all():
            continue
        frame.loc[values.index, "value"] = [float(v) for v in (values * 100).round(10)]
        notes.append(
            f"{code}: {len(values):,} values between 0 and 1 were read as fractions and "
            f"multiplied by 100 (the unit is % and the history goes up to {high:g})"
        )
    return frame, rejections, notes


def _number_text(value: Any) -> Any:
    """Numbers as they are; text without thousands separators, for ``to_numeric``."""
    if isinstance(value, str):
        return value.replace(",", "").strip()
    return value


def read_indicator_file(
    source: str | Path | bytes,
    *,
    filename: str = "",
    layout: IndicatorLayout | IndicatorContext | str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_expanded_bytes: int | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Observation rows of a CSV or XLSX indicator file, and the rows it cannot use.

    ``source`` is a path or the file's bytes (an upload); XLSX is recognised by its content,
    a CSV file's delimiter (``,``, ``;``, tab), line endings and byte-order mark by
    themselves. The file is long (``indicator``, ``period``, ``value`` columns) or wide (an
    indicator column and one column per period). Returns a frame with
    ``OBSERVATION_COLUMNS``: ``row`` (1-based data row), ``indicator`` (code or name as
    written), ``period`` (ISO text of the first day of the period when the cell names one,
    see ``parse_period_text``; else as written), ``value`` (number or text as written),
    ``status`` and ``note`` (text); ``frame.attrs["notes"]`` lists what was converted.
    ``layout`` may be an ``IndicatorContext`` (fiscal year start, and the catalogue that
    rejects unknown indicators with the closest names and converts percentages written as
    fractions). Raises ``IngestError`` when the file cannot be read, lacks a required column,
    or has more than ``max_rows`` rows, and ``ExpansionLimitError`` (before inflating
    anything past the limit) when an XLSX file's parts would expand past
    ``max_expanded_bytes`` (default: ``expanded_limit(max_rows)``) or expand more than a
    spreadsheet does.
    """
    context = layout if isinstance(layout, IndicatorContext) else IndicatorContext(layout)
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
        header = [_header_text(c) for c in (header_cells or [])]
        body: list[list[Any]] = list(rows_iter)
    else:
        header, body = _csv_table(data, max_rows)
    names = [normalise_column(h) for h in header]
    chosen = context.layout
    if isinstance(chosen, str):
        chosen = load_indicator_layout(chosen)
    chosen = chosen or _detect_layout(names)
    position = _find(chosen, names)
    numbers: list[int] | None = None
    missing = [key for key in ("indicator", "period", "value") if key not in position]
    wide = (
        "indicator" in position
        and {"period", "value"} & set(missing)
        and any(_is_period(h, context.fiscal_year_start) for h in header)
    )
    if wide:
        header, body, numbers = _wide_to_long(
            header, body, position["indicator"], context.fiscal_year_start
        )
        position = {"indicator": 0, "period": 1, "value": 2}
    elif missing:
        examples = [chosen.columns[m][0] for m in missing if m in chosen.columns]
        raise IngestError(
            f"The file has no column for {', '.join(missing)} "
            f"(expected e.g. {', '.join(examples) or 'indicator, period, value'}, "
            "or an indicator column and one column per period such as 2024-03 or FY2017-18)."
        )
    read_period = _period_reader(context.fiscal_year_start)
    records: list[dict[str, Any]] = []
    rejections: list[Rejection] = []
    for index, cells in enumerate(body, start=1):
        number = numbers[index - 1] if numbers is not None else index
        if not any(str(c).strip() for c in cells):
            continue  # blank spreadsheet rows are layout, not data

        def cell(key: str, cells: list[Any] = cells) -> Any:
            at = position.get(key)
            return cells[at] if at is not None and at < len(cells) else ""

        indicator = str(cell("indicator")).strip()
        if not indicator:
            rejections.append(Rejection(number, "indicator", "the row names no indicator"))
            continue
        status = str(cell("status")).strip().lower().replace(" ", "_").replace("-", "_")
        records.append(
            {
                "row": number,
                "indicator": indicator[:200],
                "period": read_period(cell("period")),
                "value": cell("value"),
                "status": status,
                "note": str(cell("note")),
            }
        )
    frame = pd.DataFrame(records, columns=list(OBSERVATION_COLUMNS))
    notes: list[str] = []
    if context.catalogue is not None and len(frame):
        frame, unknown, notes = _apply_catalogue(frame, context.catalogue)
        rejections = sorted([*rejections, *unknown], key=lambda r: r.row)
        frame = frame.reset_index(drop=True)
    frame.attrs["notes"] = notes
    return frame, rejections


def _header_text(value: Any) -> str:
    """A header cell as text; a date cell (a period column of a wide sheet) as ISO text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
