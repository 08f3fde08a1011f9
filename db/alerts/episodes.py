"""Alerts as every weekly view reads them: which problems an alert concerns, what day its data
is about, and which alerts are new in a week (``triage.attention.is_new_warning``, one rule).

``db.pages.priorities``, ``db.alerts.feed`` and ``db.attention`` all read these, so the
priorities page, the early-warnings page, the attention list and the weekly brief count alerts
alike. Functions take the session first and never commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from db.frames import as_int, query_frame, to_date
from db.models import (
    Alert,
    CategoryProblem,
    Indicator,
    Observation,
    Problem,
    ProblemDistrict,
    ProblemIndicator,
)
from triage.attention import is_new_warning
from triage.indicators import CADENCE_DAYS
from triage.vocabulary import OPEN_ALERT_STATES
from triage.weeks import week_end, week_start

LINK_COLUMNS = ["alert_id", "problem_id"]


def alert_links(session: Session, alert_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Which problems each alert concerns: alert_id, problem_id (every open alert when
    ``alert_ids`` is None).

    An alert names its problem directly, or reaches it through its report category (the
    category → problem mapping) or its indicator (the problem's indicators). A category
    alert in one district is left off problems scoped to other districts.
    """
    where: list[Any] = []
    if alert_ids is not None:
        ids = sorted({int(i) for i in alert_ids})
        if not ids:
            return pd.DataFrame(columns=LINK_COLUMNS)
        where.append(Alert.id.in_(ids))
    else:
        where.append(Alert.state.in_(OPEN_ALERT_STATES))
    unmapped = Alert.problem_id.is_(None)
    statement = union_all(
        select(Alert.id, Alert.problem_id, Alert.district_id).where(
            Alert.problem_id.is_not(None), *where
        ),
        select(Alert.id, CategoryProblem.problem_id, Alert.district_id)
        .join(CategoryProblem, CategoryProblem.category_id == Alert.category_id)
        .where(unmapped, *where),
        select(Alert.id, ProblemIndicator.problem_id, Alert.district_id)
        .join(ProblemIndicator, ProblemIndicator.indicator_id == Alert.indicator_id)
        .where(unmapped, Alert.category_id.is_(None), *where),
    )
    links = query_frame(session, statement, ["alert_id", "problem_id", "district_id"])
    if links.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    scoped = links[links["district_id"].notna()]
    if not scoped.empty:
        districts = query_frame(
            session,
            select(ProblemDistrict.problem_id, ProblemDistrict.district_id).where(
                ProblemDistrict.problem_id.in_(sorted({int(p) for p in scoped["problem_id"]}))
            ),
            ["problem_id", "district_id"],
        )
        scope = districts.groupby("problem_id")["district_id"].agg(set).to_dict()
        keep = []
        for problem_id, district_id in zip(links["problem_id"], links["district_id"], strict=True):
            allowed = scope.get(int(problem_id))
            keep.append(pd.isna(district_id) or not allowed or int(district_id) in allowed)
        links = links[keep]
    return links[LINK_COLUMNS].astype("int64").drop_duplicates().reset_index(drop=True)


def active_alert_counts(session: Session) -> pd.Series:
    """Open alerts (new, acknowledged or linked) per problem, the figure every view shows as a
    problem's alerts: a Series indexed by problem id (problems without any left out)."""
    links = alert_links(session)
    if links.empty:
        return pd.Series(dtype="int64")
    return links.groupby("problem_id")["alert_id"].nunique().astype("int64")


def problems_on_alert(session: Session, alert_ids: Iterable[int] | None = None) -> frozenset[int]:
    """Problems not archived that at least one of the alerts concerns (every open alert when
    ``alert_ids`` is None): what "problems on alert" counts on every page."""
    links = alert_links(session, alert_ids)
    if links.empty:
        return frozenset()
    live = session.scalars(
        select(Problem.id).where(
            Problem.id.in_(sorted({int(p) for p in links["problem_id"]})),
            Problem.archived_at.is_(None),
        )
    )
    return frozenset(int(p) for p in live)


def indicator_periods(session: Session, judged: dict[int, dt.date]) -> dict[int, dt.date]:
    """Per indicator, the period of the latest value known on the day it was judged."""
    if not judged:
        return {}
    rows = session.execute(
        select(Observation.indicator_id, Observation.period).where(
            Observation.indicator_id.in_(sorted(judged))
        )
    ).all()
    periods: dict[int, dt.date] = {}
    for indicator_id, period in rows:
        day = to_date(period)
        if day <= judged[int(indicator_id)]:
            periods[int(indicator_id)] = max(periods.get(int(indicator_id), day), day)
    return periods


def indicator_cadences(session: Session, indicator_ids: Iterable[int]) -> dict[int, str]:
    """Cadence (weekly, monthly, ...) per indicator id."""
    ids = sorted({int(i) for i in indicator_ids})
    if not ids:
        return {}
    rows = session.execute(select(Indicator.id, Indicator.cadence).where(Indicator.id.in_(ids)))
    return {int(i): str(cadence) for i, cadence in rows}


def judged_days(alerts: pd.DataFrame) -> dict[int, dt.date]:
    """Per indicator, the latest day one of its alerts was detected: the day whose latest
    known value the alert judged. In: indicator_id, last_detected (report alerts skipped)."""
    judged: dict[int, dt.date] = {}
    for indicator_id, last in zip(alerts["indicator_id"], alerts["last_detected"], strict=True):
        key = as_int(indicator_id)
        if key is not None:
            judged[key] = max(judged.get(key, to_date(last)), to_date(last))
    return judged


def data_dates(session: Session, alerts: pd.DataFrame) -> dict[int, dt.date | None]:
    """The last day the data of each alert covers: a report alert's last detection (its window
    ends that day), or the end of the period of the indicator value judged (the latest known on
    the alert's last detection); None when the indicator has no value.

    In: id, indicator_id, last_detected. Out: alert id → date or None.
    """
    if alerts.empty:
        return {}
    judged = judged_days(alerts)
    periods = indicator_periods(session, judged)
    cadences = indicator_cadences(session, judged)
    out: dict[int, dt.date | None] = {}
    for alert_id, indicator_id, last in zip(
        alerts["id"], alerts["indicator_id"], alerts["last_detected"], strict=True
    ):
        key = as_int(indicator_id)
        if key is None:
            out[int(alert_id)] = to_date(last)
            continue
        period = periods.get(key)
        days = CADENCE_DAYS.get(cadences.get(key, "monthly"), 31)
        out[int(alert_id)] = None if period is None else period + dt.timedelta(days=days - 1)
    return out


def new_in_week(session: Session, alerts: pd.DataFrame, week: str) -> list[bool]:
    """Per row of ``alerts`` (id, kind, indicator_id, first_detected, last_detected): new in
    ``week`` by :func:`triage.attention.is_new_warning`."""
    if alerts.empty:
        return []
    start, end = week_start(week), week_end(week)
    dates = data_dates(session, alerts)
    return [
        is_new_warning(str(kind), to_date(first), dates.get(int(alert_id)), start, end)
        for alert_id, kind, first in zip(
            alerts["id"], alerts["kind"], alerts["first_detected"], strict=True
        )
    ]


__all__ = [
    "active_alert_counts",
    "alert_links",
    "data_dates",
    "indicator_cadences",
    "indicator_periods",
    "new_in_week",
    "problems_on_alert",
]
