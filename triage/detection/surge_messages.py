"""Surge alerts as rows: severities and plain sentences for the office; stored messages of
earlier versions made plain (:func:`plain_message`); the detector's internals in words for
analysts (:func:`analyst_details`) and how sure it is in words for everybody (:func:`sureness`)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

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

    "Potholes: 46 reports in the 7 days to 2026-03-05 (6.6 a day), against about 20 usually
    (up to 29 would be ordinary), 2.3 times the usual level."

    ``fdr`` (the detector's false discovery rate) is not in the sentence: the mayor's pages
    say how sure in words, and the rate is in the analysts' details (:func:`analyst_details`).
    """
    del fdr
    when = date if isinstance(date, str) else pd.Timestamp(date).date().isoformat()
    ratio = observed / expected if expected > 0 else math.inf
    noun = unit.strip()
    if noun and observed == 1 and noun.endswith("s"):
        noun = noun[:-1]
    counted = f"{_fmt(observed)} {noun}" if noun else _fmt(observed)
    period = "day" if window_days == 1 else f"{window_days} days"
    per_day = "" if window_days <= 1 else f" ({_rate(observed / window_days)} a day)"
    return (
        f"{label}: {counted} in the {period} to {when}{per_day}, "
        f"{_usual_words(_fmt(expected), _fmt(upper), expected)}, {_times_words(ratio, expected)}."
    )


def _usual_words(expected: str, upper: str, value: float) -> str:
    """What is usual, in words: "against almost none usually" or "against about 20 usually
    (up to 29 would be ordinary)"."""
    if not math.isfinite(value) or value < 0.5:
        return "against almost none usually"
    return f"against about {expected} usually (up to {upper} would be ordinary)"


def _times_words(ratio: float, expected: float = math.inf) -> str:
    """ "2.3 times the usual level"; from ten times on, two significant figures ("about 660
    times", not "658.6 times"); "far above usual" when almost none is usual, where a ratio to
    the detector's floor of expectation would read as "1120.0 times"."""
    if not math.isfinite(ratio) or not expected >= 0.5:
        return "far above usual"
    if ratio < 10:
        return f"{ratio:.1f} times the usual level"
    rounded = round(ratio, 1 - math.floor(math.log10(ratio)))
    return f"about {rounded:,.0f} times the usual level"


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
    del fdr
    obs, exp, up = _fmt_many(observed), _fmt_many(expected), _fmt_many(upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, observed / expected, np.inf)
        per_day = observed / np.maximum(window, 1)
    times = [_times_words(r, e) for r, e in zip(ratio.tolist(), expected.tolist(), strict=True)]
    rates = [
        "" if w <= 1 else f" ({_rate(d)} a day)"
        for w, d in zip(window.tolist(), per_day.tolist(), strict=True)
    ]
    out = []
    for label, o, value, e, u, expect, w, when, noun, x, rate in zip(
        labels,
        obs,
        observed.tolist(),
        exp,
        up,
        expected.tolist(),
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
            f"{label}: {counted} in the {period} to {when}{rate}, "
            f"{_usual_words(e, u, expect)}, {x}."
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


# ---------------------------------------------------------------- plain words and details

# Stored messages written before the sentences were plain (kept in old databases): the
# detector's error rate and its "expected (usual range up to ...)".
_FDR_TAIL = re.compile(r";\s*unlikely to be chance \(false discovery rate [^)]*\)\.?\s*$")
_EXPECTED = re.compile(
    r"against about (?P<e>[\d,.]+|n/a) expected \(usual range up to (?P<u>[\d,.]+|n/a)\)"
)
# ... and a ratio to one decimal however large ("658.6 times the usual level").
_TIMES = re.compile(r"(?P<r>\d[\d,]*\.\d) times the usual level")


def plain_message(message: Any) -> str:
    """A stored alert message without detector internals: the false discovery rate of earlier
    versions dropped, "about 0 expected (usual range up to 0)" said as "almost none are usual".
    Large ratios are rounded as new messages are ("about 660 times the usual level"), and
    none is given against almost none. Text already plain comes back unchanged."""
    text = "" if message is None else str(message)
    text = _FDR_TAIL.sub(".", text)

    def usual(found: re.Match[str]) -> str:
        try:
            value = float(found["e"].replace(",", ""))
        except ValueError:
            value = math.nan
        return _usual_words(found["e"], found["u"], value)

    text = _EXPECTED.sub(usual, text)
    expected = 0.0 if "against almost none usually" in text else math.inf

    def times(found: re.Match[str]) -> str:
        return _times_words(float(found["r"].replace(",", "")), expected)

    return _TIMES.sub(times, text)


def window_of(method: Any) -> int | None:
    """The window in days of a surge method (``surge-7d`` -> 7), else None."""
    found = re.fullmatch(r"surge-(\d+)d", str(method or ""))
    return int(found.group(1)) if found else None


METHOD_WORDS = {
    "threshold-critical": "fixed threshold (the indicator's critical level)",
    "threshold-warning": "fixed threshold (the indicator's warning level)",
    "mann-kendall": "trend test (Mann-Kendall) on the latest values",
    "year-over-year": "year-over-year comparison",
    "cadence": "reporting cadence (days since the latest value)",
    "new": "first reports of a category",
    "fast_rising": "young category rising (beta test, 14-day windows)",
}


def analyst_details(alert: Mapping[str, Any], fdr: float) -> list[tuple[str, str]]:
    """The detector's internals for analysts, as (label, value) pairs: the method, its window,
    the error rate it is held to, and the raw figures it compared."""
    method = str(alert.get("method") or "")
    window = window_of(method)
    out: list[tuple[str, str]] = [("Method", method or "—")]
    if window is not None:
        out.append(("How it works", f"count in a {window}-day window against a seasonal baseline"))
        out.append(("False discovery rate", f"{fdr:.0%} across the series tested each day"))
    elif method in METHOD_WORDS:
        out.append(("How it works", METHOD_WORDS[method]))
    for label, key in (
        ("Expected", "expected"),
        ("Lower bound", "lower"),
        ("Upper bound", "upper"),
        ("Observed", "observed"),
    ):
        value = alert.get(key)
        if value is not None and not (isinstance(value, float) and not math.isfinite(value)):
            out.append((label, f"{float(value):,.4g}"))
    return out


def sureness(alert: Mapping[str, Any]) -> str:
    """How sure the warning is, in words for the mayor (no rates or scores)."""
    kind = str(alert.get("kind") or "")
    if kind == "threshold":
        return "Certain: the value is past the level set for it."
    if kind == "stale":
        return "Certain: no newer value has been received."
    if kind == "new_category":
        return "Certain: these reports are new; whether they matter is a judgement."
    observed, expected = alert.get("observed"), alert.get("expected")
    try:
        ratio = float(observed) / max(float(expected), 0.5)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        ratio = math.nan
    if kind == "surge" and math.isfinite(ratio) and ratio >= 3:
        return "Very sure: far more than chance alone would bring."
    if kind == "surge":
        return "Fairly sure: more than chance usually brings, though some such warnings fade."
    return "Fairly sure: a steady pattern, not a single odd value."
