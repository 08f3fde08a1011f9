"""Surge alerts as rows: severities and plain sentences for the office."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from triage.detection.common import ALERT_COLUMNS, _empty_alerts, _fmt, _from_day
from triage.detection.surge_config import SurgeConfig


def _surge_frame(
    found: dict[str, np.ndarray],
    qvalues: np.ndarray,
    cfg: SurgeConfig,
    labels: Mapping[str, str] | None,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    if len(qvalues) == 0:
        return _empty_alerts()
    window = found["window"].astype(int)
    observed, expected = found["observed"], found["expected"]
    with np.errstate(divide="ignore"):
        critical = (qvalues <= cfg.critical_q) & (observed >= cfg.critical_ratio * expected)
    frame = pd.DataFrame(
        {
            "series": found["series"].astype(str),
            "date": _from_day(found["day"]),
            "kind": "surge",
            "method": [f"surge-{w}d" for w in window],
            "severity": np.where(critical, "critical", "warning"),
            "expected": expected,
            "lower": found["lower"],
            "upper": found["upper"],
            "observed": observed,
            "window_days": window,
            "p_value": found["p"],
            "q_value": qvalues,
        }
    )
    names = frame["series"].map(labels).fillna(frame["series"]) if labels else frame["series"]
    keys = frame["series"]
    default = np.where(keys.str.startswith("reports:"), "reports", "")
    nouns = keys.map(units).fillna(pd.Series(default, index=keys.index)) if units else default
    frame["message"] = _surge_messages(
        names.to_numpy(dtype=object),
        observed,
        expected,
        found["upper"],
        window,
        frame["date"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        cfg.fdr,
        np.asarray(nouns, dtype=object),
    )
    return frame.sort_values(["date", "series"], ignore_index=True)[list(ALERT_COLUMNS)]


def surge_message(
    label: str,
    observed: float,
    expected: float,
    upper: float,
    window_days: int,
    date: pd.Timestamp | dt.date | str,
    fdr: float,
    unit: str = "",
) -> str:
    """A plain sentence for a surge alert, counts in ``unit`` (a plural noun such as "reports").

    "Potholes: 46 reports in the 7 days to 2026-03-05 (6.6 a day), against about 20 expected
    (usual range up to 29), 2.3 times the usual level; unlikely to be chance (...)."
    """
    when = date if isinstance(date, str) else pd.Timestamp(date).date().isoformat()
    ratio = observed / expected if expected > 0 else math.inf
    times = f"{ratio:.1f} times the usual level" if math.isfinite(ratio) else "far above usual"
    noun = unit.strip()
    if noun and observed == 1 and noun.endswith("s"):
        noun = noun[:-1]
    counted = f"{_fmt(observed)} {noun}" if noun else _fmt(observed)
    period = "day" if window_days == 1 else f"{window_days} days"
    per_day = "" if window_days <= 1 else f" ({_rate(observed / window_days)} a day)"
    return (
        f"{label}: {counted} in the {period} to {when}{per_day}, against about "
        f"{_fmt(expected)} expected (usual range up to {_fmt(upper)}), {times}; "
        f"unlikely to be chance (false discovery rate {fdr:.0%})."
    )


def _surge_messages(
    labels: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    upper: np.ndarray,
    window: np.ndarray,
    dates: np.ndarray,
    fdr: float,
    units: np.ndarray,
) -> list[str]:
    """:func:`surge_message` for many rows at once (the same text; numbers formatted in bulk)."""
    obs, exp, up = _fmt_many(observed), _fmt_many(expected), _fmt_many(upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.inf)
        per_day = observed / np.maximum(window, 1)
    times = [
        f"{r:.1f} times the usual level" if math.isfinite(r) else "far above usual"
        for r in ratio.tolist()
    ]
    rates = [
        "" if w <= 1 else f" ({_rate(d)} a day)"
        for w, d in zip(window.tolist(), per_day.tolist(), strict=True)
    ]
    tail = f"; unlikely to be chance (false discovery rate {fdr:.0%})."
    out = []
    for label, o, value, e, u, w, when, noun, x, rate in zip(
        labels,
        obs,
        observed.tolist(),
        exp,
        up,
        window.tolist(),
        dates,
        units,
        times,
        rates,
        strict=True,
    ):
        noun = noun.strip() if isinstance(noun, str) else ""
        if noun and value == 1 and noun.endswith("s"):
            noun = noun[:-1]
        counted = f"{o} {noun}" if noun else o
        period = "day" if w == 1 else f"{w} days"
        out.append(
            f"{label}: {counted} in the {period} to {when}{rate}, against about {e} expected "
            f"(usual range up to {u}), {x}{tail}"
        )
    return out


def _fmt_many(values: np.ndarray) -> list[str]:
    """:func:`_fmt` of every value (whole numbers and values of 100 or more without decimals)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    whole = finite & ((np.abs(values) >= 100) | (values == np.round(values)))
    return [
        (f"{v:,.0f}" if w else f"{v:,.1f}") if f else "n/a"
        for v, w, f in zip(values.tolist(), whole.tolist(), finite.tolist(), strict=True)
    ]


def _rate(value: float) -> str:
    """A daily rate: one decimal below 10 ("0.4", "6.6"), whole numbers above."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
