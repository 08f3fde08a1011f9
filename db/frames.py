"""Query results as DataFrames, and cells (dates, numbers, text) read from them.

Shared by the query modules, so that a missing value means the same thing everywhere:
None, NaN, NaT and pd.NA are all missing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from types import SimpleNamespace

import pandas as pd
from sqlalchemy import Executable, func, select
from sqlalchemy.orm import Session

__all__ = [
    "as_date",
    "as_int",
    "as_number",
    "as_text",
    "count_rows",
    "query_frame",
    "records",
    "to_date",
]


def query_frame(session: Session, statement: Executable, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of ``statement`` as a DataFrame with ``columns`` (one per selected column, in
    order); no rows give an empty frame that still has the columns."""
    rows = session.execute(statement).all()
    return pd.DataFrame([tuple(row) for row in rows], columns=list(columns))


def records(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """Rows as objects with one attribute per column: much faster than ``itertuples`` on
    wide frames with extension dtypes (pandas 3 extracts every column per call)."""
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [
        SimpleNamespace(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)
    ]


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # NaT, NaN, pd.NA, numpy's NaT
    except (TypeError, ValueError):  # a container is never a missing scalar
        return False


def as_date(value: object) -> dt.date | None:
    """A date from what a driver or pandas returns, or None when the value is missing.

    The one rule: missing (None, NaT, NaN, pd.NA) is None; a datetime or Timestamp gives its
    date; a date is itself; numpy's datetime64 and ISO text (SQLite returns dates and
    ``max()`` of dates as text; only the first ten characters are read) are parsed. Anything
    else raises ValueError: a date column never holds it.
    """
    if _missing(value):
        return None
    if isinstance(value, dt.datetime):  # before date: a datetime (and a Timestamp) is a date
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    try:
        return pd.Timestamp(value).date()  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a date") from exc


def to_date(value: object) -> dt.date:
    """:func:`as_date` for a value that must be there (a NOT NULL column): missing raises."""
    day = as_date(value)
    if day is None:
        raise ValueError("a date is missing")
    return day


def as_number(value: object) -> float | None:
    """A finite float, or None for a missing, non-numeric or infinite value."""
    if _missing(value):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: object) -> int | None:
    """:func:`as_number` cut to a whole number (None stays None)."""
    number = as_number(value)
    return None if number is None else int(number)


def as_text(value: object) -> str:
    """Text for a cell: "" for a missing value (None, NaN, NaT, pd.NA), else ``str(value)``."""
    return "" if _missing(value) else str(value)


def count_rows(session: Session, model: type) -> int:
    """How many rows a table holds (used by health checks and tests)."""
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
