"""The alerts a user sees: the filtered feed, its pages, one alert, counts by state, and a
department's own alerts."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.alerts.episodes import alert_links, problems_on_alert
from db.columns import ALERT_EPISODE, ALERT_HEAD
from db.frames import query_frame

# The filter choices: one home in ``db.lookups``, kept here under the names the page uses.
from db.models import (
    Alert,
    CategoryProblem,
    Department,
    District,
    Indicator,
    JobRun,
    Problem,
    ReportCategory,
)
from triage.vocabulary import ALERT_STATES, ARCHIVED_MARK, OPEN_ALERT_STATES, SEVERITIES

FEED_LIMIT = 200
PAGE_SIZE = 25  # rows of the feed drawn at once (the page's "Next" shows more)

# The feed's query, frame column -> table column; the department ids say who owns an alert.
_FEED_QUERY: dict[str, Any] = {
    **ALERT_HEAD,
    "indicator_id": Alert.indicator_id,
    "indicator": Indicator.name,
    "unit": Indicator.unit,
    "indicator_department_id": Indicator.department_id,
    "category_id": Alert.category_id,
    "category": ReportCategory.name,
    "category_department_id": ReportCategory.department_id,
    "district_id": Alert.district_id,
    "district": District.name,
    "problem_id": Alert.problem_id,
    "problem": Problem.title,
    "problem_department_id": Problem.lead_department_id,
    "problem_archived_at": Problem.archived_at,
    **ALERT_EPISODE,
    "state_reason": Alert.state_reason,
    "updated_at": Alert.updated_at,
}

FEED_COLUMNS = [
    *(c for c in _FEED_QUERY if not c.endswith(("_department_id", "_archived_at"))),
    "departments",
]

DEPARTMENT_ALERT_COLUMNS = [
    "id",
    "kind",
    "method",
    "severity",
    "indicator_id",
    "indicator_code",
    "indicator_name",
    "message",
    "state",
    "state_reason",
    "first_detected",
    "last_detected",
    "overdue",
]
# The loudest first: critical 0, warning 1, info 2.
SEVERITY_ORDER: dict[str, int] = {s: i for i, s in enumerate(reversed(SEVERITIES))}


@dataclass(frozen=True)
class AlertFilters:
    """What the feed shows; None means "any". ``states`` None is every state."""

    severity: str | None = None
    department_id: int | None = None
    district_id: int | None = None
    category_id: int | None = None
    problem_id: int | None = None
    states: tuple[str, ...] | None = OPEN_ALERT_STATES
    alert_id: int | None = None

    def __post_init__(self) -> None:
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.states is not None and not set(self.states) <= set(ALERT_STATES):
            raise ValueError(f"unknown alert state in {self.states!r}")


def _alert_departments(session: Session, feed: pd.DataFrame) -> dict[int, list[int]]:
    """Department ids per alert (the rule the page states).

    An indicator alert belongs to the indicator's department; a report alert to the department
    that handles its category or, when the category has none, to the lead departments of the
    problems the category maps to; any other alert to its linked problem's lead department.
    """
    via_problems: dict[int, set[int]] = {}
    unowned = feed.loc[
        feed["category_id"].notna() & feed["category_department_id"].isna(), "category_id"
    ]
    if len(unowned):
        rows = session.execute(
            select(CategoryProblem.category_id, Problem.lead_department_id)
            .join(Problem, Problem.id == CategoryProblem.problem_id)
            .where(
                CategoryProblem.category_id.in_(sorted({int(c) for c in unowned})),
                Problem.lead_department_id.is_not(None),
            )
        ).all()
        for category_id, department_id in rows:
            via_problems.setdefault(int(category_id), set()).add(int(department_id))
    out: dict[int, list[int]] = {}
    for row in feed.itertuples(index=False):
        if not pd.isna(row.indicator_department_id):
            found = {int(row.indicator_department_id)}
        elif not pd.isna(row.category_id):
            if not pd.isna(row.category_department_id):
                found = {int(row.category_department_id)}
            else:
                found = via_problems.get(int(row.category_id), set())
        elif not pd.isna(row.problem_department_id):
            found = {int(row.problem_department_id)}
        else:
            found = set()
        out[int(row.id)] = sorted(found)
    return out


def alert_feed(
    session: Session, filters: AlertFilters, *, limit: int = FEED_LIMIT
) -> tuple[pd.DataFrame, int]:
    """The alerts matching ``filters``, worst and most recent first, and how many match: at
    most ``limit`` rows (see :func:`_matching`); the count is before the limit."""
    feed = _matching(session, filters)
    return feed.head(limit).reset_index(drop=True), len(feed)


@dataclass(frozen=True)
class FeedPage:
    """One page of the feed, with counts over every alert the filters match."""

    rows: pd.DataFrame  # FEED_COLUMNS
    total: int
    page: int  # 1-based, within 1..pages
    pages: int
    per_page: int
    critical: int
    new: int
    linked: int
    ids: frozenset[int] = frozenset()  # every matching alert, not only the page's

    @property
    def first(self) -> int:
        """The position (1-based) of the first row shown; 0 when nothing matches."""
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.total else 0


def alert_feed_page(
    session: Session, filters: AlertFilters, *, page: int = 1, per_page: int = PAGE_SIZE
) -> FeedPage:
    """Page ``page`` (clamped to the pages there are) of the feed, ``per_page`` rows, and the
    counts the headline cards show, over every matching alert (not only the page)."""
    feed = _matching(session, filters)
    total = len(feed)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(int(page), 1), pages)
    start = (page - 1) * per_page
    return FeedPage(
        rows=feed.iloc[start : start + per_page].reset_index(drop=True),
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        critical=int(feed["severity"].eq("critical").sum()) if total else 0,
        new=int(feed["state"].eq("new").sum()) if total else 0,
        linked=int(feed["state"].eq("linked").sum()) if total else 0,
        ids=frozenset(int(i) for i in feed["id"]),
    )


def _matching(session: Session, filters: AlertFilters) -> pd.DataFrame:
    """Every alert matching ``filters``, worst and most recent first.

    Columns: :data:`FEED_COLUMNS` (``departments`` is a list of department names; names are
    None where the alert has no such link; an archived problem's title ends in "(archived)":
    the link is history). The problem filter keeps alerts that concern the problem as the
    weekly priorities count them: linked to it, or reaching it through their category or
    indicator.
    """
    statement = (
        select(*_FEED_QUERY.values())
        .outerjoin(Indicator, Indicator.id == Alert.indicator_id)
        .outerjoin(ReportCategory, ReportCategory.id == Alert.category_id)
        .outerjoin(District, District.id == Alert.district_id)
        .outerjoin(Problem, Problem.id == Alert.problem_id)
    )
    if filters.severity is not None:
        statement = statement.where(Alert.severity == filters.severity)
    if filters.states is not None:
        statement = statement.where(Alert.state.in_(filters.states))
    if filters.district_id is not None:
        statement = statement.where(Alert.district_id == filters.district_id)
    if filters.category_id is not None:
        statement = statement.where(Alert.category_id == filters.category_id)
    if filters.alert_id is not None:
        statement = statement.where(Alert.id == filters.alert_id)
    feed = query_frame(session, statement, list(_FEED_QUERY))
    if feed.empty:
        return pd.DataFrame(columns=FEED_COLUMNS)
    owners = _alert_departments(session, feed)
    if filters.department_id is not None:
        feed = feed[[filters.department_id in owners[int(i)] for i in feed["id"]]]
    if filters.problem_id is not None and len(feed):
        links = alert_links(session, [int(i) for i in feed["id"]])
        concerned = set(links.loc[links["problem_id"] == filters.problem_id, "alert_id"])
        feed = feed[feed["id"].isin(concerned)]
    if feed.empty:
        return pd.DataFrame(columns=FEED_COLUMNS)
    names = dict(session.execute(select(Department.id, Department.name)).all())
    feed = feed.assign(
        departments=[[names[d] for d in owners[int(i)] if d in names] for i in feed["id"]],
        problem=[
            title if pd.isna(archived) else f"{title}{ARCHIVED_MARK}"
            for title, archived in zip(feed["problem"], feed["problem_archived_at"], strict=True)
        ],
    )
    order = {"critical": 0, "warning": 1, "info": 2}
    feed = feed.assign(_rank=feed["severity"].map(order).fillna(3))
    feed = feed.sort_values(
        ["_rank", "last_detected", "id"], ascending=[True, False, False], kind="stable"
    )
    return feed[FEED_COLUMNS].reset_index(drop=True)


def problems_concerned(session: Session, filters: AlertFilters) -> frozenset[int]:
    """The problems the alerts matching ``filters`` concern (not archived): with the default
    filters, the "problems on alert" of the priorities page
    (``db.alerts.episodes.problems_on_alert``, the one count)."""
    if filters == AlertFilters():
        return problems_on_alert(session)
    feed = _matching(session, filters)
    return problems_on_alert(session, [int(i) for i in feed["id"]])


def alert_row(session: Session, alert_id: int) -> dict[str, Any] | None:
    """One alert as a feed row (see :func:`alert_feed`), whatever its state; None if absent."""
    feed, _ = alert_feed(session, AlertFilters(states=None, alert_id=alert_id))
    return None if feed.empty else feed.iloc[0].to_dict()


# The jobs that run the early-warning checks (``triage.schedule``).
DETECTION_JOBS = ("detect-alerts", "refresh-after-data")


def empty_feed_reason(session: Session, filters: AlertFilters) -> str:
    """Why a feed is empty, for the page to say the right thing: ``filters`` (narrowed by a
    filter), ``none_open`` (alerts exist, none open), ``never_checked`` (no alert stored and
    the checks never ran on this database) or ``nothing_found`` (they ran and found nothing)."""
    narrowed = (
        filters.severity,
        filters.department_id,
        filters.district_id,
        filters.category_id,
        filters.problem_id,
        filters.alert_id,
    )
    if any(value is not None for value in narrowed):
        return "filters"
    if session.scalar(select(Alert.id).limit(1)) is not None:
        return "none_open" if filters.states == OPEN_ALERT_STATES else "filters"
    checked = session.scalar(
        select(JobRun.id)
        .where(JobRun.job_id.in_(DETECTION_JOBS), JobRun.outcome == "success")
        .limit(1)
    )
    return "nothing_found" if checked is not None else "never_checked"


def state_counts(session: Session) -> dict[str, int]:
    """How many alerts are in each state (every state present, zero when none)."""
    rows = dict(session.execute(select(Alert.state, func.count()).group_by(Alert.state)).all())
    return {state: int(rows.get(state, 0)) for state in ALERT_STATES}


def department_alerts(session: Session, department_id: int) -> pd.DataFrame:
    """Open alerts (new, acknowledged, linked) on one department's indicators.

    Columns: ``DEPARTMENT_ALERT_COLUMNS``; ``overdue`` is True for late data (kind ``stale``).
    Late data first, then new before answered, worst and newest first.
    """
    rows = session.execute(
        select(
            Alert.id,
            Alert.kind,
            Alert.method,
            Alert.severity,
            Alert.indicator_id,
            Indicator.code,
            Indicator.name,
            Alert.message,
            Alert.state,
            Alert.state_reason,
            Alert.first_detected,
            Alert.last_detected,
        )
        .join(Indicator, Indicator.id == Alert.indicator_id)
        .where(Indicator.department_id == department_id, Alert.state.in_(sorted(OPEN_ALERT_STATES)))
    ).all()
    frame = pd.DataFrame(
        [(*row, row[1] == "stale") for row in rows], columns=DEPARTMENT_ALERT_COLUMNS
    )
    if frame.empty:
        return frame
    frame["state_reason"] = frame["state_reason"].fillna("").astype(str)
    ordered = frame.assign(
        _late=~frame["overdue"],
        _answered=frame["state"] != "new",
        _severity=frame["severity"].map(SEVERITY_ORDER).fillna(3),
        _day=frame["last_detected"].map(lambda d: -(d or dt.date.min).toordinal()),
    )
    return (
        ordered.sort_values(["_late", "_answered", "_severity", "_day", "id"], kind="stable")
        .drop(columns=["_late", "_answered", "_severity", "_day"])
        .reset_index(drop=True)
    )
