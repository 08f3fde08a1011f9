"""Ranking a week: score every problem as of the week's end and store the week's snapshot.

A use case that the priorities and problem pages (the first visit of a week), the weekly job
and ``triage rank`` all run, so it lives here, below the callbacks and the runners.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from db.scores import (
    latest_snapshot_week,
    load_scoring_inputs,
    load_snapshot,
    load_weights,
    save_snapshot,
)
from db.session import Database
from triage.scoring import movement, score_problems
from triage.weeks import iso_week, week_end


@dataclass(frozen=True)
class WeekRanking:
    """A scored week: ``scores`` (``triage.scoring.score_problems``), ``moves`` against
    ``previous_week`` (``triage.scoring.movement``), as of ``as_of``."""

    week: str
    as_of: dt.date
    scores: pd.DataFrame
    moves: pd.DataFrame
    previous_week: str | None


def rank_week(
    database: Database, week: str | None, today: dt.date, *, save: bool = True
) -> WeekRanking:
    """Score every problem as of the end of ``week`` (or today, if sooner) and compare.

    With ``save`` the week's snapshot is replaced in the same transaction, so re-running a week
    is idempotent and movement since the previous stored week is exact.
    """
    week = week or iso_week(today)
    as_of = min(week_end(week), today)
    with database.session(write=save) as session:
        inputs = load_scoring_inputs(session, as_of)
        scores = score_problems(inputs, load_weights(session), as_of)
        if save:
            save_snapshot(session, week, scores)
        previous = latest_snapshot_week(session, before=week)
        before = load_snapshot(session, previous) if previous else None
    return WeekRanking(week, as_of, scores, movement(scores, before), previous)
