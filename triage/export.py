"""Exports people open in spreadsheets: CSV with formula injection neutralised."""

from __future__ import annotations

import io

import pandas as pd

# A spreadsheet treats a cell starting with one of these as a formula (or a DDE command).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers stay numbers (a negative number is data, not a formula); only text is changed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text with every text cell (and header) made formula-safe."""
    clean = frame.rename(columns=lambda c: safe_cell(str(c)))
    for column in clean.columns:
        if clean[column].dtype == object or pd.api.types.is_string_dtype(clean[column]):
            clean[column] = clean[column].map(safe_cell)
    buffer = io.StringIO()
    clean.to_csv(buffer, index=False)
    return buffer.getvalue()
