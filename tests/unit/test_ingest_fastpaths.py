"""The whole-column fast paths of report cleaning give the same answers as value-by-value work:
NUL and surrogate clean-up across block boundaries, non-text cells, statuses, lengths."""

from __future__ import annotations

import math

import pandas as pd

from triage.ingest.records import clean_text, lengths, normalise_status


def test_ingfast001_clean_text_strips_and_drops_nul_beyond_the_first_block() -> None:
    values = [f"  value {i}  " for i in range(10_000)]
    values[9_000] = " late\x00nul "
    cleaned = clean_text(pd.Series(values, dtype=object))
    assert cleaned.iloc[0] == "value 0" and cleaned.iloc[9_999] == "value 9999"
    assert cleaned.iloc[9_000] == "latenul"
    assert cleaned.dtype == object and len(cleaned) == 10_000


def test_ingfast002_clean_text_reads_non_text_cells() -> None:
    series = pd.Series([None, math.nan, 12, 1.5, " x ", True], dtype=object)
    assert clean_text(series).tolist() == ["", "", "12", "1.5", "x", "True"]


def test_ingfast003_lone_surrogates_are_replaced_only_when_asked() -> None:
    values = ["fine"] * 5_000 + ["bad \ud800 text"]
    assert clean_text(pd.Series(values, dtype=object)).iloc[-1] == "bad \ud800 text"
    fixed = clean_text(pd.Series(values, dtype=object), surrogates=True)
    assert fixed.iloc[-1] == "bad ? text" and fixed.iloc[0] == "fine"
    fixed.iloc[-1].encode("utf-8")  # encodable now


def test_ingfast004_statuses_and_lengths() -> None:
    series = pd.Series(["Open", "In Progress", "closed", "", "In  Progress!", "x" * 40])
    assert normalise_status(series).tolist() == [
        "open",
        "in_progress",
        "closed",
        "",
        "in_progress",
        "x" * 32,
    ]
    assert lengths(pd.Series(["", "ab", "ünï"], dtype=object)).tolist() == [0, 2, 3]
