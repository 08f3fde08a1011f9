"""The report frame every 311 parser produces, and the vectorised cleaning that builds it.

Parsers turn their input into raw text columns; ``build_reports`` turns those into typed rows
plus one ``Rejection`` per row it cannot use, so that no input row is ever lost silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from triage.ingest.errors import Rejection

REPORT_COLUMNS = (
    "row",
    "service_request_id",
    "raw_category",
    "description",
    "status",
    "requested_at",
    "updated_at",
    "closed_at",
    "lat",
    "lon",
    "address",
    "district",
)
RAW_FIELDS = (
    "id",
    "requested",
    "updated",
    "closed",
    "category",
    "status",
    "description",
    "address",
    "district",
    "lat",
    "lon",
)
MAX_ID_LENGTH = 128
MAX_CATEGORY_LENGTH = 200
MAX_STATUS_LENGTH = 32
MAX_ADDRESS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 20_000
EARLIEST = pd.Timestamp("1900-01-01")
LATEST = pd.Timestamp("2200-01-01")
ZONE_SUFFIX = re.compile(r"(?:[+-]\d\d(?::?\d\d)?|Z|UTC|GMT)$", re.IGNORECASE)
STATUS_CHARS = re.compile(r"[^0-9a-z]+")


def empty_reports() -> pd.DataFrame:
    """A report frame with no rows and the right dtypes."""
    return pd.DataFrame(
        {
            "row": pd.Series([], dtype="int64"),
            "service_request_id": pd.Series([], dtype=object),
            "raw_category": pd.Series([], dtype=object),
            "description": pd.Series([], dtype=object),
            "status": pd.Series([], dtype=object),
            "requested_at": pd.Series([], dtype="datetime64[us]"),
            "updated_at": pd.Series([], dtype="datetime64[us]"),
            "closed_at": pd.Series([], dtype="datetime64[us]"),
            "lat": pd.Series([], dtype="float64"),
            "lon": pd.Series([], dtype="float64"),
            "address": pd.Series([], dtype=object),
            "district": pd.Series([], dtype=object),
        }
    )


def clean_text(series: pd.Series, surrogates: bool = False) -> pd.Series:
    """Strip and drop NUL characters (PostgreSQL refuses them); with ``surrogates``, also
    replace lone surrogates (JSON can carry them, UTF-8 cannot). Returns object dtype."""
    values = series.tolist()
    if not all(map(str.__instancecheck__, values)):  # isinstance(v, str) for each, in C
        values = [
            ("" if v is None or v != v else str(v)) if not isinstance(v, str) else v for v in values
        ]
    # Whole-column checks in C first: a CSV chunk almost never holds a NUL or a surrogate,
    # and then each value needs only its strip.
    if _any_in(values, _has_nul):
        values = [v.replace("\x00", "") for v in values]
    cleaned = list(map(str.strip, values))
    if surrogates and _any_in(cleaned, _has_surrogate):
        cleaned = [
            v.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(v) else v
            for v in cleaned
        ]
    return pd.Series(cleaned, index=series.index, dtype=object)


def _any_in(values: list[str], test: Callable[[str], bool], block: int = 4096) -> bool:
    """Whether ``test`` holds for the text of any block of values (joined, so tested in C)."""
    return any(test("".join(values[i : i + block])) for i in range(0, len(values), block))


def _has_nul(value: str) -> bool:
    return "\x00" in value


def lengths(series: pd.Series) -> np.ndarray:
    """Character count of each value of a text column (faster than ``str.len`` on objects)."""
    return np.fromiter(map(len, series.tolist()), dtype=np.int64, count=len(series))


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _to_utc_naive(parsed: pd.Series, tz: str) -> pd.Series:
    """Zoneless local times of ``tz`` to naive UTC; ambiguous DST hours read as standard time."""
    if parsed.dt.tz is not None:
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    localized = parsed.dt.tz_localize(
        tz, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward"
    )
    return localized.dt.tz_convert("UTC").dt.tz_localize(None)


def _parse_with(text: pd.Series, fmt: str, tz: str) -> pd.Series:
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        return _to_utc_naive(parsed, tz).astype("datetime64[us]")
    except (ValueError, TypeError, OverflowError):
        pass  # mixed zones (or an unrepresentable value): split zoned from zoneless below
    zoned = text.map(lambda s: bool(ZONE_SUFFIX.search(s)))
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    for mask, utc in ((zoned, True), (~zoned, False)):
        if not mask.any():
            continue
        try:
            part = pd.to_datetime(text[mask], format=fmt, errors="coerce", utc=utc)
            result[mask] = _to_utc_naive(part, tz).astype("datetime64[us]")
        except (ValueError, TypeError, OverflowError):
            result[mask] = _parse_each(text[mask], fmt, tz)
    return result


def _parse_each(text: pd.Series, fmt: str, tz: str) -> pd.Series:
    """Last resort, value by value, for inputs that defeat the vectorised parser."""
    out = []
    for value in text:
        try:
            parsed = pd.to_datetime(pd.Series([value]), format=fmt, errors="coerce", utc=True)
            parsed = parsed if ZONE_SUFFIX.search(value) else parsed.dt.tz_localize(None)
            out.append(_to_utc_naive(parsed, tz).astype("datetime64[us]").iloc[0])
        except (ValueError, TypeError, OverflowError):
            out.append(pd.NaT)
    return pd.Series(out, index=text.index, dtype="datetime64[us]")


US_TIME = "%m/%d/%Y %I:%M:%S %p"
_SLASH, _SPACE, _COLON = ord("/"), ord(" "), ord(":")


def _fast_us_times(text: pd.Series) -> pd.Series:
    """``MM/DD/YYYY hh:mm:ss AM`` (the Socrata portals' export format) at numpy speed.

    pandas' strptime needs microseconds per value for ``%I %p``; here the bytes are
    rearranged into ISO text, which its C parser reads fast. Values of another shape come
    out NaT, for the general parser to try.
    """
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    shaped = lengths(text) == 22
    if not shaped.any():
        return result
    try:
        raw = np.array(text[shaped].tolist(), dtype="S22")
    except UnicodeEncodeError:
        return result
    u = raw.view(np.uint8).reshape(-1, 22)
    digits = u[:, [0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15, 17, 18]]
    ok = ((digits >= 48) & (digits <= 57)).all(axis=1)
    ok &= (u[:, 2] == _SLASH) & (u[:, 5] == _SLASH) & (u[:, 10] == _SPACE)
    ok &= (u[:, 13] == _COLON) & (u[:, 16] == _COLON) & (u[:, 19] == _SPACE)
    ok &= (u[:, 21] == ord("M")) & np.isin(u[:, 20], [ord("A"), ord("P")])
    hour = (u[:, 11].astype(np.int64) - 48) * 10 + (u[:, 12].astype(np.int64) - 48)
    ok &= (hour >= 1) & (hour <= 12)
    hour24 = hour % 12 + np.where(u[:, 20] == ord("P"), 12, 0)
    iso = np.empty((len(u), 19), dtype=np.uint8)
    iso[:, 0:4] = u[:, 6:10]
    iso[:, 5:7] = u[:, 0:2]
    iso[:, 8:10] = u[:, 3:5]
    iso[:, 11] = 48 + hour24 // 10
    iso[:, 12] = 48 + hour24 % 10
    iso[:, 14:16] = u[:, 14:16]
    iso[:, 17:19] = u[:, 17:19]
    iso[:, [4, 7]] = ord("-")
    iso[:, 10] = _SPACE
    iso[:, [13, 16]] = _COLON
    iso_text = iso.view("S19").ravel().astype(str)
    parsed = pd.to_datetime(pd.Series(iso_text), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    parsed = parsed.where(ok).astype("datetime64[us]")
    result[shaped] = parsed.to_numpy()
    return result


# Formats a portal's date column is tested against, most common first. ``ISO8601`` covers
# dates and date-times with or without ``T``, fraction and offset; ``ISO8601 UTC`` is ISO text
# ending in `` UTC`` or `` GMT`` (BigQuery exports). US order wins a tie with day-first, so
# day-first is chosen only when some value's first number exceeds 12.
DATE_CANDIDATES = (
    "ISO8601",
    "ISO8601 UTC",
    US_TIME,
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)
DETECTION_SAMPLE = 400
UTC_SUFFIX = re.compile(r"\s*(?:UTC|GMT)$", re.IGNORECASE)
_FORMAT_WORDS = (
    ("%Y", "YYYY"),
    ("%m", "MM"),
    ("%d", "DD"),
    ("%H", "HH"),
    ("%I", "hh"),
    ("%M", "mm"),
    ("%S", "ss"),
    ("%p", "AM"),
    ("%z", "+hh:mm"),
    ("%Z", "ZONE"),
    ("%f", "ffffff"),
    ("%y", "YY"),
)


def describe_format(fmt: str) -> str:
    """``%m/%d/%Y %I:%M:%S %p`` as people write it: ``MM/DD/YYYY hh:mm:ss AM``."""
    if fmt == "ISO8601":
        return "ISO 8601"
    if fmt == "ISO8601 UTC":
        return "ISO 8601 with a UTC suffix"
    for code, word in _FORMAT_WORDS:
        fmt = fmt.replace(code, word)
    return fmt


def _sample(text: pd.Series, size: int = DETECTION_SAMPLE) -> pd.Series:
    """Up to ``size`` values spread over the column (not just its head, which may be sorted)."""
    if len(text) <= size:
        return text
    step = len(text) / size
    return text.iloc[[int(i * step) for i in range(size)]]


def _readable(sample: pd.Series, fmt: str) -> int:
    """How many sample values ``fmt`` reads (zones and offsets allowed)."""
    if fmt == "ISO8601 UTC":
        zoned = sample[sample.str.contains(UTC_SUFFIX)]
        if zoned.empty:
            return 0
        sample = zoned.str.replace(UTC_SUFFIX, "+00:00", regex=True)
        fmt = "ISO8601"
    try:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce", utc=True)
    except (ValueError, TypeError, OverflowError):
        return 0
    return int(parsed.notna().sum())


def detect_datetime_format(text: pd.Series) -> str | None:
    """The one of ``DATE_CANDIDATES`` that reads most of a sample of ``text`` (non-empty
    strings), or None when none reads any. Ties go to the earlier candidate (US before
    day-first), so day-first is chosen only when the data rules the US order out."""
    sample = _sample(text[text != ""])
    if sample.empty:
        return None
    best, best_count = None, 0
    for fmt in DATE_CANDIDATES:
        count = _readable(sample, fmt)
        if count > best_count:
            best, best_count = fmt, count
            if count == len(sample):
                break
    return best


@dataclass(frozen=True)
class ParsedTimes:
    """A date column read: naive-UTC ``values`` (NaT where unusable), which non-empty values
    no format read (``unreadable``) and which fell outside 1900..2199 (``out_of_range``), and
    the formats tried, in order."""

    values: pd.Series
    unreadable: pd.Series
    out_of_range: pd.Series
    tried: tuple[str, ...]

    def reason(self, what: str) -> str:
        """Why a non-empty value of this column was not read, e.g. for ``the request date``."""
        formats = ", ".join(describe_format(f) for f in self.tried)
        return f"{what} is not a date in the formats tried ({formats})"


def _parse_one_format(text: pd.Series, fmt: str, tz: str) -> pd.Series:
    if fmt == US_TIME:
        local = _fast_us_times(text)
        fast = local.notna()
        result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
        if fast.any():
            result[fast] = _to_utc_naive(local[fast], tz).astype("datetime64[us]")
        if fast.all():
            return result
        rest = _parse_with(text[~fast], fmt, tz)
        result[rest.index] = rest
        return result
    if fmt == "ISO8601 UTC":
        text = text.str.replace(UTC_SUFFIX, "+00:00", regex=True)
        fmt = "ISO8601"
    return _parse_with(text, fmt, tz)


def read_datetimes(
    text: pd.Series,
    formats: Sequence[str],
    tz: str,
    *,
    memo: dict[str, str] | None = None,
    column: str = "",
) -> ParsedTimes:
    """Read a text column of dates: the layout's ``formats`` first, then a format detected
    from the data (remembered in ``memo[column]`` so that later chunks of the same file start
    with it), again on what is left, then ISO 8601; each pass is one vectorised
    ``to_datetime`` with an explicit format. Zoned values are converted to naive UTC; zoneless
    ones are local times of ``tz``.
    """
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    todo = text != ""
    tried: list[str] = []

    def attempt(fmt: str) -> None:
        nonlocal todo
        if fmt in tried or not todo.any():
            return
        tried.append(fmt)
        parsed = _parse_one_format(text[todo], fmt, tz)
        good = parsed.notna()
        result[good.index[good]] = parsed[good]
        todo = todo & result.isna()

    for fmt in formats:
        attempt(fmt)
    if memo is not None and column in memo:
        attempt(memo[column])
    for _round in range(3):
        if not todo.any():
            break
        found = detect_datetime_format(text[todo])
        if found is None or found in tried:
            break
        if memo is not None:
            memo.setdefault(column, found)
        attempt(found)
    if "ISO8601" not in tried:
        attempt("ISO8601")
    present = text != ""
    in_range = (result >= EARLIEST) & (result < LATEST)
    return ParsedTimes(
        values=result.where(in_range),
        unreadable=present & result.isna(),
        out_of_range=present & result.notna() & ~in_range,
        tried=tuple(tried),
    )


def parse_datetimes(text: pd.Series, formats: Sequence[str], tz: str) -> pd.Series:
    """Text to naive-UTC ``datetime64[us]`` (see ``read_datetimes``); empty or unreadable
    values, and times outside 1900..2199, come out NaT."""
    return read_datetimes(text, formats, tz).values


def _truncate(series: pd.Series, limit: int) -> pd.Series:
    too_long = lengths(series) > limit
    if too_long.any():
        series = series.copy()
        series[too_long] = series[too_long].str.slice(0, limit - 1) + "…"
    return series


def normalise_status(series: pd.Series) -> pd.Series:
    """``Open``, ``In Progress`` and ``closed`` become ``open``, ``in_progress``, ``closed``."""
    # A feed has a handful of distinct statuses: normalise each once, then look them up.
    distinct = pd.unique(series.to_numpy(dtype=object))
    normal = {
        value: STATUS_CHARS.sub("_", value.lower()).strip("_")[:MAX_STATUS_LENGTH]
        for value in distinct
    }
    return pd.Series([normal[v] for v in series.tolist()], index=series.index, dtype=object)


def build_reports(
    raw: pd.DataFrame,
    *,
    formats: Sequence[str] = (),
    tz: str = "UTC",
    placeholder_points: Iterable[tuple[float, float]] = (),
    surrogates: bool = False,
    detected: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Typed report rows from raw text, and one rejection per unusable row.

    ``raw`` has an int ``row`` column (1-based record number) and any of ``RAW_FIELDS`` as
    text (missing columns count as empty). Returns a frame with ``REPORT_COLUMNS``: text
    columns stripped and clipped to the database widths, ``requested_at``/``updated_at``/
    ``closed_at`` as naive UTC ``datetime64[us]``, ``lat``/``lon`` floats (NaN when the source
    gives none, 0/0, or a placeholder point). ``surrogates`` asks for the slower clean-up that
    JSON input needs. Each date column's format is detected from its values (see
    ``read_datetimes``); pass the same ``detected`` dict for every chunk of one file so that
    the file's formats carry over. ``updated_at`` is the source's last-modified
    time or, when it gives none, the latest of requested and closed: the version that decides
    whether a later copy of the report overwrites an earlier one.
    """
    n = len(raw)
    if n == 0:
        return empty_reports(), []
    index = raw.index
    text = {
        field: clean_text(raw[field], surrogates)
        if field in raw
        else pd.Series("", index=index, dtype=object)
        for field in RAW_FIELDS
    }
    reason = pd.Series("", index=index, dtype=object)
    field_of = pd.Series("", index=index, dtype=object)

    def flag(mask: pd.Series, field: str, why: str) -> None:
        hit = mask & (reason == "")
        if hit.any():
            reason[hit] = why
            field_of[hit] = field

    ident = text["id"]
    flag(ident == "", "service_request_id", "the request has no id")
    flag(ident.str.len() > MAX_ID_LENGTH, "service_request_id", "the id is too long")
    times = {}
    for key, field, what in (
        ("requested", "requested_at", "the request date"),
        ("updated", "updated_at", "the update time"),
        ("closed", "closed_at", "the closing time"),
    ):
        parsed = read_datetimes(text[key], formats, tz, memo=detected, column=key)
        if key == "requested":
            flag(text[key] == "", field, "the request has no date")
        flag(parsed.unreadable, field, parsed.reason(what))
        flag(parsed.out_of_range, field, f"{what} is before 1900 or after 2199")
        times[key] = parsed.values
    requested, updated, closed = times["requested"], times["updated"], times["closed"]
    lat = pd.to_numeric(text["lat"].where(text["lat"] != "", None), errors="coerce")
    lon = pd.to_numeric(text["lon"].where(text["lon"] != "", None), errors="coerce")
    lat = lat.astype("float64")
    lon = lon.astype("float64")
    flag(lat.isna() & (text["lat"] != ""), "lat", "the latitude is not a number")
    flag(lon.isna() & (text["lon"] != ""), "lon", "the longitude is not a number")
    flag(~lat.isna() & ~lat.between(-90, 90), "lat", "the latitude is outside -90..90")
    flag(~lon.isna() & ~lon.between(-180, 180), "lon", "the longitude is outside -180..180")
    nowhere = (lat == 0) & (lon == 0)
    for point_lat, point_lon in placeholder_points:
        nowhere |= np.isclose(lat, point_lat, atol=1e-6) & np.isclose(lon, point_lon, atol=1e-6)
    nowhere |= lat.isna() | lon.isna()
    lat = lat.where(~nowhere)
    lon = lon.where(~nowhere)

    status = normalise_status(text["status"])
    status = status.where(status != "", np.where(closed.notna(), "closed", "open"))
    latest_event = closed.where(closed.notna() & (closed > requested), requested)
    version = updated.where(updated.notna(), latest_event)
    frame = pd.DataFrame(
        {
            "row": raw["row"].astype("int64"),
            "service_request_id": ident,
            "raw_category": _truncate(text["category"], MAX_CATEGORY_LENGTH),
            "description": _truncate(text["description"], MAX_DESCRIPTION_LENGTH),
            "status": status,
            "requested_at": requested,
            "updated_at": version.astype("datetime64[us]"),
            "closed_at": closed,
            "lat": lat,
            "lon": lon,
            "address": _truncate(text["address"], MAX_ADDRESS_LENGTH),
            "district": _truncate(text["district"], MAX_CATEGORY_LENGTH),
        },
        index=index,
    )
    bad = reason != ""
    rejections: list[Rejection] = []
    if bad.any():
        source_field = {
            "service_request_id": "id",
            "requested_at": "requested",
            "updated_at": "updated",
            "closed_at": "closed",
            "lat": "lat",
            "lon": "lon",
        }
        for row, field, why, position in zip(
            frame["row"][bad], field_of[bad], reason[bad], np.flatnonzero(bad), strict=True
        ):
            value = text[source_field[field]].iloc[position][:200]
            rejections.append(Rejection(int(row), field, why, value))
    return frame[~bad].reset_index(drop=True), rejections
