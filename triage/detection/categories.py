"""Report categories as count series, and categories that are new or young and rising fast."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import special

from triage.detection.common import _alert_row, _alerts_frame, _day_index, _fmt, _from_day, _to_day
from triage.detection.surge_stats import _bh_qvalues_by_group


def report_series_key(category: object, district: object | None = None) -> str:
    """The ``series`` name of a category x district count series (district None = citywide)."""
    return f"reports:{category}:{'all' if district is None else district}"


def renamed_category_heads(continues: Mapping[int, int]) -> dict[int, int]:
    """Each category that was renamed -> the category its series now lives in.

    ``continues``: successor id -> predecessor id ("HEAT/HOT WATER continues HEATING"). A
    chain (A -> B -> C) folds into its newest category, C. Raises ``ValueError`` on a
    category continuing itself, on two successors of one predecessor, or on a cycle; the
    database refuses those before they are stored, so this only guards the pure use.
    """
    successor: dict[int, int] = {}
    for new, old in continues.items():
        if new == old:
            raise ValueError(f"category {new} cannot continue itself")
        if old in successor:
            raise ValueError(f"category {old} is continued by both {successor[old]} and {new}")
        successor[int(old)] = int(new)
    heads: dict[int, int] = {}
    for start in successor:
        seen = {start}
        head = successor[start]
        while head in successor:
            if head in seen:
                raise ValueError(f"the renames of category {start} form a cycle")
            seen.add(head)
            head = successor[head]
        heads[start] = head
    return heads


def merge_renamed_categories(
    daily_counts: pd.DataFrame, continues: Mapping[int, int]
) -> pd.DataFrame:
    """Daily counts with each renamed category's counts moved into its successor's.

    In and out: ``day, category_id, district_id, count`` (the ``report_daily_counts`` rows);
    ``continues`` as in :func:`renamed_category_heads`. The predecessor's history becomes the
    successor's, so the rename itself is no change in level, and the predecessor's own series
    ends (it is the successor's now). Counts of one day, category and district are summed.
    """
    heads = renamed_category_heads(continues)
    if not heads or daily_counts.empty:
        return daily_counts
    category = daily_counts["category_id"]
    moved = category.isin(list(heads))
    if not moved.any():
        return daily_counts
    frame = daily_counts.assign(
        category_id=category.where(~moved, category.map(heads)).astype(category.dtype)
    )
    keys = ["day", "category_id", "district_id"]
    return frame.groupby(keys, as_index=False, sort=False, dropna=False)["count"].sum()[
        list(daily_counts.columns)
    ]


def report_count_series(daily_counts: pd.DataFrame, *, citywide: bool = True) -> pd.DataFrame:
    """Report counts as detector input, per category x district and (optionally) citywide.

    In: ``day, category_id, district_id, count`` (the ``report_daily_counts`` table). Out:
    ``series, date, value, category_id, district_id`` (district_id NA on citywide rows), one
    row per series and day that has reports; the detector reads absent days as zero.
    """
    frame = daily_counts.rename(columns={"day": "date", "count": "value"})
    frame = frame[["date", "category_id", "district_id", "value"]].copy()
    frame["date"] = pd.to_datetime(frame["date"])
    parts = [frame]
    if citywide:
        city = frame.groupby(["category_id", "date"], as_index=False)["value"].sum()
        city["district_id"] = pd.NA
        parts.append(city)
    out = pd.concat(parts, ignore_index=True)
    out["series"] = [
        report_series_key(c, None if pd.isna(d) else d)
        for c, d in zip(out["category_id"], out["district_id"], strict=True)
    ]
    return out[["series", "date", "value", "category_id", "district_id"]]


def detect_new_categories(
    counts: pd.DataFrame,
    as_of: dt.date | str,
    *,
    new_days: int = 28,
    min_count: int = 5,
    young_days: int = 182,
    fdr: float = 0.05,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Categories that appeared recently, or that are young and rising fast, as of a date.

    In: ``series, date, value`` with one series per category (citywide counts), data after
    ``as_of`` ignored. Out: :data:`ALERT_COLUMNS`, kind ``new_category``, dated ``as_of``.

    * ``new``: first report less than ``new_days`` ago and at least ``min_count`` reports
      since (critical from four times that).
    * ``fast_rising``: a category younger than ``young_days`` (too young for the surge model,
      which needs about ten months of history) whose last 14 days at least doubled the daily
      rate of the 28 days before, with the conditional binomial test significant under
      Benjamini-Hochberg at ``fdr`` across those categories.
    """
    day = _to_day(as_of)
    frame = counts.assign(day=_day_index(counts["date"]))
    frame = frame[(frame["day"] <= day) & (pd.to_numeric(frame["value"]) > 0)]
    rows: list[dict[str, object]] = []
    when = _from_day(np.array([day]))[0]
    tests: list[dict[str, object]] = []
    for series, group in frame.groupby("series", sort=True, observed=True):
        label = (labels or {}).get(str(series), str(series))
        first = int(group["day"].min())
        age = day - first
        values, days = group["value"].to_numpy(float), group["day"].to_numpy()
        if age < new_days:
            total = float(values.sum())
            if total >= min_count:
                rows.append(
                    _alert_row(
                        series,
                        when,
                        "new_category",
                        "new",
                        "critical" if total >= 4 * min_count else "warning",
                        expected=0.0,
                        observed=total,
                        window=age + 1,
                        message=(
                            f"{label}: a new category, {_fmt(total)} reports since its first "
                            f"on {_from_day(np.array([first]))[0].date().isoformat()}."
                        ),
                    )
                )
        elif age < young_days:
            recent = float(values[days > day - 14].sum())
            before = float(values[(days <= day - 14) & (days > day - 42)].sum())
            if recent >= min_count and recent >= 2 * before / 2:
                tail = float(special.betainc(recent, before + 1.0, 1.0 / 3.0))
                tests.append(
                    {"series": series, "label": label, "x": recent, "s": before, "p": tail}
                )
    if tests:
        p = np.array([t["p"] for t in tests])
        q = _bh_qvalues_by_group(p, np.zeros(len(p), dtype=np.int64), np.full(len(p), len(p)))
        for test, qv in zip(tests, q, strict=True):
            if qv > fdr:
                continue
            expected = float(test["s"]) / 2.0
            rows.append(
                _alert_row(
                    test["series"],
                    when,
                    "new_category",
                    "fast_rising",
                    "warning",
                    expected=expected,
                    observed=float(test["x"]),
                    window=14,
                    p_value=float(test["p"]),
                    q_value=float(qv),
                    message=(
                        f"{test['label']}: a young category rising fast, {_fmt(test['x'])} "
                        f"reports in the last 14 days against {_fmt(expected)} in the 14 days "
                        f"before on average."
                    ),
                )
            )
    return _alerts_frame(rows)
