"""Early-warnings page queries: filter choices, the filtered alert feed, one alert's evidence.

Report series come from the ``report_daily_counts`` aggregate (never raw citizen reports) and
indicator series from observations; the surge band over time is recomputed by the detector.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, fields, replace
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.alert_episodes import alert_links, problems_on_alert
from db.columns import ALERT_EPISODE, ALERT_HEAD
from db.frames import as_date, as_number, query_frame, to_date
from db.ingest import OUTSIDE_DISTRICT_CODE, UNLOCATED_DISTRICT_CODE

# The filter choices: one home in ``db.lookups``, kept here under the names the page uses.
from db.lookups import categories as categories
from db.lookups import departments as departments
from db.lookups import districts as districts
from db.lookups import policy_areas as policy_areas
from db.lookups import problems as problems
from db.models import (
    Alert,
    CategoryProblem,
    Department,
    District,
    Indicator,
    Observation,
    Problem,
    ReportCategory,
    ReportDailyCount,
)
from db.overdue import overdue_indicators
from db.queries_priorities import ARCHIVED_MARK
from triage.detection import SurgeConfig, detect_surges, latest_observations
from triage.indicators import CADENCE_DAYS
from triage.page_data import AlertEvidence
from triage.vocabulary import ALERT_STATES, OPEN_ALERT_STATES, SEVERITIES

FEED_LIMIT = 200
PAGE_SIZE = 25  # rows of the feed drawn at once (the page's "Next" shows more)
WINDOW_BEFORE_DAYS = 84  # the evidence chart starts 12 weeks before the first detection
MAX_CHART_DAYS = 2 * 366
HISTORY_DAYS = 3 * 366  # as ``triage.jobs.alerts.HISTORY_DAYS``: what the daily detection reads
# A false-discovery level just under 1 makes the detector return its figures for every tested
# day (only days with nothing reported in the window, p = 1, are left out).
BAND_FDR = 1.0 - 1e-9

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


# ---------------------------------------------------------------- the feed


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
    (``db.alert_episodes.problems_on_alert``, the one count)."""
    if filters == AlertFilters():
        return problems_on_alert(session)
    feed = _matching(session, filters)
    return problems_on_alert(session, [int(i) for i in feed["id"]])


def alert_row(session: Session, alert_id: int) -> dict[str, Any] | None:
    """One alert as a feed row (see :func:`alert_feed`), whatever its state; None if absent."""
    feed, _ = alert_feed(session, AlertFilters(states=None, alert_id=alert_id))
    return None if feed.empty else feed.iloc[0].to_dict()


def state_counts(session: Session) -> dict[str, int]:
    """How many alerts are in each state (every state present, zero when none)."""
    rows = dict(session.execute(select(Alert.state, func.count()).group_by(Alert.state)).all())
    return {state: int(rows.get(state, 0)) for state in ALERT_STATES}


# ---------------------------------------------------------------- data health

PLACEMENT_DAYS = 90  # the reports whose placement the data-health figure judges


@dataclass(frozen=True)
class LateDepartment:
    """One department with late indicator data: how many of its indicators, and which."""

    code: str
    name: str
    late: int
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class DataHealth:
    """How current and how well placed the city's data is, for the chief of staff (never the
    mayor's attention list): late indicators by department (``db.overdue``, the count the
    priorities page and the brief give), and where the last 90 days of reports were placed."""

    late: tuple[LateDepartment, ...]
    indicators: int  # indicators not archived
    reports: int  # in the last PLACEMENT_DAYS days to ``as_of``
    unlocated: int  # of those, with no usable place
    outside: int  # of those, placed outside every district

    @property
    def late_total(self) -> int:
        return sum(d.late for d in self.late)


def data_health(session: Session, as_of: dt.date) -> DataHealth:
    """The data-health figure on ``as_of`` (see :class:`DataHealth`)."""
    overdue = overdue_indicators(session, as_of)
    late = tuple(
        LateDepartment(
            code=str(code),
            name=str(part["department_name"].iloc[0]),
            late=len(part),
            indicators=tuple(str(n) for n in part["name"]),
        )
        for code, part in overdue.groupby("department_code", sort=True)
    )
    late = tuple(sorted(late, key=lambda d: (-d.late, d.name)))
    indicators = int(
        session.scalar(
            select(func.count()).select_from(Indicator).where(Indicator.archived_at.is_(None))
        )
        or 0
    )
    since = as_of - dt.timedelta(days=PLACEMENT_DAYS - 1)
    placed = dict(
        session.execute(
            select(District.code, func.sum(ReportDailyCount.count))
            .join(District, District.id == ReportDailyCount.district_id)
            .where(ReportDailyCount.day >= since, ReportDailyCount.day <= as_of)
            .group_by(District.code)
        ).all()
    )
    return DataHealth(
        late=late,
        indicators=indicators,
        reports=int(sum(int(v or 0) for v in placed.values())),
        unlocated=int(placed.get(UNLOCATED_DISTRICT_CODE) or 0),
        outside=int(placed.get(OUTSIDE_DISTRICT_CODE) or 0),
    )


# ---------------------------------------------------------------- evidence


def window_days(method: Any) -> int | None:
    """The window of a surge method (``surge-28d`` → 28), or None."""
    match = re.fullmatch(r"surge-(\d+)d", str(method or ""))
    return int(match.group(1)) if match else None


def _span(alert: dict[str, Any], today: dt.date, before: int) -> tuple[dt.date, dt.date]:
    first, last = to_date(alert["first_detected"]), to_date(alert["last_detected"])
    start = first - dt.timedelta(days=before)
    end = max(min(today, start + dt.timedelta(days=MAX_CHART_DAYS)), last)
    return start, end


def report_daily_series(
    session: Session, category_id: int, district_id: int | None, since: dt.date, until: dt.date
) -> pd.DataFrame:
    """Daily report counts of one category (one district, or citywide), every day present.

    Columns: date (datetime64), value (count; absent days are zero), from ``since`` to
    ``until`` inclusive, from the ``report_daily_counts`` aggregate.
    """
    where = [
        ReportDailyCount.category_id == category_id,
        ReportDailyCount.day >= since,
        ReportDailyCount.day <= until,
    ]
    if district_id is not None:
        where.append(ReportDailyCount.district_id == district_id)
    frame = query_frame(
        session,
        select(ReportDailyCount.day, func.sum(ReportDailyCount.count))
        .where(*where)
        .group_by(ReportDailyCount.day),
        ["date", "value"],
    )
    days = pd.date_range(since, until, freq="D")
    if frame.empty:
        return pd.DataFrame({"date": days, "value": 0.0})
    values = frame.assign(date=pd.to_datetime(frame["date"])).set_index("date")["value"]
    values = values.astype(float).reindex(days, fill_value=0.0)
    return pd.DataFrame({"date": days, "value": values.to_numpy()})


def surge_band(
    daily: pd.DataFrame,
    window: int,
    start: dt.date,
    end: dt.date,
    config: SurgeConfig | None = None,
    *,
    counting_since: dt.date | None = None,
) -> pd.DataFrame:
    """The surge detector's expected total and usual range for every day of ``[start, end]``.

    ``counting_since`` is the first day the daily run counted for any series (its input's
    first day). The run's grid starts there, and a series that began later is unknown, not
    zero, until its first report; giving it here puts this series on the same grid, so that a
    young series' refit and calibration blocks fall where the daily run's did.

    In: ``daily`` (date, value), one series with its history (zero days may be present or
    absent). Out: date, expected, lower, upper for the ``window``-day total ending each day
    (empty for a window that is not whole weeks). The detector is run on this series
    alone with the same windows and baseline as the daily run: ``expected`` is exactly what
    it tested against, while the range uses this series' own over-dispersion (the daily run
    also borrows strength from the other series), so it can differ a little.
    """
    cfg = config or SurgeConfig()
    longest = max(cfg.windows_days)
    if window not in cfg.windows_days or window % 7:
        # A window shorter than a week is only tested beside a weekly one; its band cannot
        # be computed on its own.
        return pd.DataFrame(columns=["date", "expected", "lower", "upper"])
    changes: dict[str, Any] = {
        "fdr": BAND_FDR,
        "windows_days": (window,),
        "ongoing_only": False,
        # Each window's baseline ends where that window starts (``baseline_per_window``);
        # otherwise every baseline ends where the daily run's longest window starts.
        "guard_days": cfg.guard_days
        if cfg.baseline_per_window
        else cfg.guard_days + longest - window,
        "min_family": 1,
    }
    known = {f.name for f in fields(cfg)}
    if "window_weights" in known:
        changes["window_weights"] = (1.0,)
    # The band is drawn on every day, including those with too few reports to alert; the
    # minimum expected level stays, since it is part of the expectation the run stored.
    if "min_observed" in known:
        changes.update(min_observed=-math.inf, min_excess=-math.inf)
    # Nor is a day left out because the week before it fell short (the catch-up rule decides
    # what alerts, not what was expected).
    if "catch_up_share" in known:
        changes["catch_up_share"] = 0.0
    band_cfg = replace(cfg, **changes)
    # Like the daily run, the series starts at its first report (earlier zeros would read as
    # a quiet history); a zero on ``end`` carries it to the last day shown.
    counted = daily[daily["value"] > 0]
    if counted.empty:
        return pd.DataFrame(columns=["date", "expected", "lower", "upper"])
    tail = pd.DataFrame({"date": [pd.Timestamp(end)], "value": [0.0]})
    if counted["date"].max() < pd.Timestamp(end):
        counted = pd.concat([counted, tail], ignore_index=True)
    first = counted["date"].min()
    if counting_since is not None and pd.Timestamp(counting_since) < first:
        unknown = pd.date_range(pd.Timestamp(counting_since), first - pd.Timedelta(days=1))
        counted = pd.concat(
            [pd.DataFrame({"date": unknown, "value": math.nan}), counted], ignore_index=True
        )
    series = counted.assign(series="band")[["series", "date", "value"]]
    found = detect_surges(series, band_cfg, start=start, end=end, workers=1, daily=True)
    return pd.DataFrame(
        {
            "date": pd.to_datetime(found["date"]),
            "expected": found["expected"].astype(float),
            "lower": found["lower"].astype(float),
            "upper": found["upper"].astype(float),
        }
    )


def _num(value: Any) -> float:
    """:func:`db.frames.as_number`, with NaN for missing (the evidence charts plot gaps)."""
    number = as_number(value)
    return math.nan if number is None else number


def _counting_since(session: Session, as_of: dt.date) -> dt.date | None:
    """The first day the daily run as of ``as_of`` counted (``triage.jobs.alerts``' inputs)."""
    day = session.scalar(
        select(func.min(ReportDailyCount.day)).where(
            ReportDailyCount.day >= as_of - dt.timedelta(days=HISTORY_DAYS)
        )
    )
    return as_date(day)


def _report_evidence(session: Session, alert: dict[str, Any], today: dt.date) -> AlertEvidence:
    first, last = to_date(alert["first_detected"]), to_date(alert["last_detected"])
    # Today's counts are still arriving: the chart ends on the latest day counted.
    latest = session.scalar(select(func.max(ReportDailyCount.day)))
    start, end = _span(alert, min(today, to_date(latest)) if latest else today, WINDOW_BEFORE_DAYS)
    window = window_days(alert["method"])
    if window is None:
        window = 14 if alert["method"] == "fast_rising" else 7
    category_id = int(alert["category_id"])
    district = None if pd.isna(alert["district_id"]) else int(alert["district_id"])
    since = min(last - dt.timedelta(days=HISTORY_DAYS), start - dt.timedelta(days=window))
    daily = report_daily_series(session, category_id, district, since, end)
    totals = daily.set_index("date")["value"].rolling(window, min_periods=window).sum()
    shown = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame({"date": shown, "observed": totals.reindex(shown).to_numpy()})
    band = "none"
    found = (
        surge_band(daily, window, start, end, counting_since=_counting_since(session, end))
        if alert["kind"] == "surge" and window_days(alert["method"]) is not None
        else pd.DataFrame()
    )
    if not found.empty:
        frame = frame.merge(found, on="date", how="left")
        band = "recomputed"
    else:
        frame = frame.assign(expected=math.nan, lower=math.nan, upper=math.nan)
        at_last = frame["date"] == pd.Timestamp(last)
        frame.loc[at_last, "expected"] = _num(alert["expected"])
        if alert["kind"] == "surge":
            frame.loc[at_last, "lower"] = _num(alert["lower"])
            frame.loc[at_last, "upper"] = _num(alert["upper"])
        band = "stored"
    days = frame["date"].dt.date
    frame["alerted"] = (days >= first) & (days <= last)
    return AlertEvidence(
        alert=alert,
        series=frame[["date", "observed", "expected", "lower", "upper", "alerted"]],
        measure=f"reports in the {window} days to each day",
        unit="reports",
        start=start,
        end=end,
        band=band,
    )


def _indicator_evidence(session: Session, alert: dict[str, Any], today: dt.date) -> AlertEvidence:
    indicator = session.get(Indicator, int(alert["indicator_id"]))
    assert indicator is not None
    cadence = CADENCE_DAYS.get(indicator.cadence, 31)
    before = min(max(WINDOW_BEFORE_DAYS, 12 * cadence), MAX_CHART_DAYS)
    start, end = _span(alert, today, before)
    last = to_date(alert["last_detected"])
    observations = query_frame(
        session,
        select(
            Observation.indicator_id, Observation.period, Observation.value, Observation.entered_at
        ).where(
            Observation.indicator_id == indicator.id,
            Observation.period >= start,
            Observation.period <= end,
        ),
        ["indicator_id", "period", "value", "entered_at"],
    )
    known = latest_observations(observations, end).sort_values("period")
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(known["period"]),
            "observed": known["value"].astype(float),
        }
    ).reset_index(drop=True)
    frame = frame.assign(expected=math.nan, lower=math.nan, upper=math.nan, alerted=False)
    # The value that raised the alert is the latest one known on its last detection day.
    raised = frame.index[frame["date"] <= pd.Timestamp(last)]
    if len(raised) and alert["kind"] != "stale":
        at = raised[-1]
        frame.loc[at, "alerted"] = True
        if alert["kind"] in ("trend", "seasonal"):
            frame.loc[at, ["expected", "lower", "upper"]] = [
                _num(alert["expected"]),
                _num(alert["lower"]),
                _num(alert["upper"]),
            ]
    lines = tuple(
        (label, float(value))
        for label, value in (
            ("Target", indicator.target),
            ("Warning threshold", indicator.warning_threshold),
            ("Critical threshold", indicator.critical_threshold),
        )
        if value is not None and math.isfinite(float(value))
    )
    return AlertEvidence(
        alert=alert,
        series=frame[["date", "observed", "expected", "lower", "upper", "alerted"]],
        measure=indicator.name,
        unit=indicator.unit or "",
        start=start,
        end=end,
        band="stored" if alert["kind"] in ("trend", "seasonal") else "none",
        lines=lines,
    )


def alert_evidence(session: Session, alert_id: int, today: dt.date) -> AlertEvidence | None:
    """The series behind one alert, from 12 weeks (or 12 periods) before its first detection
    to ``today`` (at most two years), with what the detector expected; None if no such alert.

    Report alerts plot the window totals the detector tests; indicator alerts the values.
    """
    alert = alert_row(session, alert_id)
    if alert is None:
        return None
    if not pd.isna(alert["indicator_id"]):
        return _indicator_evidence(session, alert, today)
    if not pd.isna(alert["category_id"]):
        return _report_evidence(session, alert, today)
    start, end = _span(alert, today, WINDOW_BEFORE_DAYS)
    return AlertEvidence(
        alert=alert,
        series=pd.DataFrame(columns=["date", "observed", "expected", "lower", "upper", "alerted"]),
        measure="",
        unit="",
        start=start,
        end=end,
        band="none",
    )
