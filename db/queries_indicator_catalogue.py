"""The city's indicators as an indicator-file import needs them: names to match, units and the
scale of their history. Session first; a DataFrame; never commits."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Indicator, Observation

CATALOGUE_COLUMNS = ["code", "name", "unit", "history_min", "history_max"]


def indicator_catalogue(session: Session) -> pd.DataFrame:
    """Every indicator with the smallest and largest values recorded for it.

    Columns: ``CATALOGUE_COLUMNS``; ``history_min``/``history_max`` are NaN for an indicator
    with no values yet. Ordered by code.
    """
    largest = (
        select(
            Observation.indicator_id,
            func.min(Observation.value).label("low"),
            func.max(Observation.value).label("high"),
        )
        .group_by(Observation.indicator_id)
        .subquery()
    )
    rows = session.execute(
        select(Indicator.code, Indicator.name, Indicator.unit, largest.c.low, largest.c.high)
        .outerjoin(largest, largest.c.indicator_id == Indicator.id)
        .order_by(Indicator.code)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CATALOGUE_COLUMNS)
    for column in ("history_min", "history_max"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame
