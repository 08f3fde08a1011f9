"""Shared pieces of early warning: the alert columns, day arithmetic, alert rows."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALERT_KINDS = ("threshold", "trend", "seasonal", "surge", "new_category", "stale")
ALERT_COLUMNS = (
    "series",
    "date",
    "kind",
    "method",
    "severity",
    "expected",
    "lower",
    "upper",
    "observed",
    "window_days",
    "p_value",
    "q_value",
    "message",
)

# Grids are anchored to a fixed Monday, not to the data, so that which dates share a model refit
# never depends on how much history was passed in (running on a longer history changes nothing).
EPOCH = dt.date(1970, 1, 5)
_DAYS_PER_YEAR = 365.25


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _empty_alerts() -> pd.DataFrame:
    text = ("series", "kind", "method", "severity", "message")
    floats = ("expected", "lower", "upper", "observed", "p_value", "q_value")
    columns = {
        c: pd.Series(dtype="str" if c in text else float if c in floats else "int64")
        for c in ALERT_COLUMNS
    }
    columns["date"] = pd.Series(dtype="datetime64[s]")
    return pd.DataFrame(columns)[list(ALERT_COLUMNS)]


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(uniques, dtype=object), codes.astype(np.int64)


def _day_index(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64 (any date-like column)."""
    values = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    return values.astype(np.int64)


def _to_day(value: dt.date | str) -> int:
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def _from_day(days: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]")).astype(
        "datetime64[s]"
    )


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    first = np.full(n, -1)
    idx = np.flatnonzero(np.r_[True, np.diff(codes) != 0])
    first[codes[idx]] = idx
    return first


def _periods_from_sorted(codes: np.ndarray, days: np.ndarray, n: int) -> np.ndarray:
    same = np.r_[False, np.diff(codes) == 0]
    gaps = np.r_[0, np.diff(days)]
    not_weekly = same & (gaps % 7 != 0)
    bad = np.zeros(n, dtype=bool)
    bad[codes[not_weekly]] = True
    rows = np.bincount(codes, minlength=n)
    return np.where(~bad & (rows >= 3), 7, 1)


def _alert_row(
    series: object,
    date: object,
    kind: str,
    method: str,
    severity: str,
    *,
    expected: float,
    observed: float,
    message: str,
    lower: float = math.nan,
    upper: float = math.nan,
    window: int | None = None,
    p_value: float = math.nan,
    q_value: float = math.nan,
    indicator_id: object = None,
) -> dict[str, object]:
    row: dict[str, object] = {
        "series": str(series),
        "date": date,
        "kind": kind,
        "method": method,
        "severity": severity,
        "expected": float(expected),
        "lower": float(lower),
        "upper": float(upper),
        "observed": float(observed),
        "window_days": window,
        "p_value": p_value,
        "q_value": q_value,
        "message": message,
    }
    if indicator_id is not None:
        row["indicator_id"] = indicator_id
    return row


def _alerts_frame(rows: list[dict[str, object]], *, indicator: bool = False) -> pd.DataFrame:
    columns = [*ALERT_COLUMNS, "indicator_id"] if indicator else list(ALERT_COLUMNS)
    frame = pd.DataFrame(rows, columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[s]")
    frame["window_days"] = frame["window_days"].astype("Int64")
    for column in ("expected", "lower", "upper", "observed", "p_value", "q_value"):
        frame[column] = frame[column].astype(float)
    return frame


@dataclass
class _Grid:
    """One regular calendar (daily, or weekly on one weekday) holding some series densely."""

    period: int
    day0: int
    names: np.ndarray
    values: np.ndarray  # (series, periods): NaN = unknown or before the series began

    def day(self, t: np.ndarray | int) -> np.ndarray | int:
        return self.day0 + self.period * t
