"""Citizen reports: counts by day, week, district and category from the aggregate, reporting
propensity, and the newest reports themselves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select, true, union_all
from sqlalchemy.orm import Session

from db.frames import as_date, query_frame, to_date
from db.lookups import categories, districts
from db.models import (
    CitizenReport,
    District,
    ReportCategory,
    ReportDailyCount,
)
from triage.scoring import PROPENSITY_WINDOW_DAYS, reporting_propensity

# The seasonal comparison looks 52 weeks back, so that weekdays line up.
LAST_YEAR = dt.timedelta(days=364)
RECENT_LIMIT = 20
DESCRIPTION_CHARACTERS = 280


@dataclass(frozen=True)
class ReportFilters:
    """What the reports page shows: a date range (inclusive) and optional filters.

    ``category_ids`` None means every category; an empty tuple means none matches (e.g. a
    problem with no category mapped to it).
    """

    date_from: dt.date
    date_to: dt.date
    category_ids: tuple[int, ...] | None = None
    district_id: int | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def last_year(self) -> ReportFilters:
        """The same filters 52 weeks earlier."""
        return ReportFilters(
            self.date_from - LAST_YEAR,
            self.date_to - LAST_YEAR,
            self.category_ids,
            self.district_id,
        )

    @property
    def matches_nothing(self) -> bool:
        return self.category_ids is not None and not self.category_ids


def _count_filters(filters: ReportFilters) -> list:
    where = [ReportDailyCount.day >= filters.date_from, ReportDailyCount.day <= filters.date_to]
    if filters.category_ids is not None:
        where.append(ReportDailyCount.category_id.in_(filters.category_ids))
    if filters.district_id is not None:
        where.append(ReportDailyCount.district_id == filters.district_id)
    return where


def latest_report_day(session: Session) -> dt.date | None:
    """The most recent day with counted reports, or None when there are none."""
    return as_date(session.scalar(select(func.max(ReportDailyCount.day))))


def earliest_report_day(session: Session) -> dt.date | None:
    """The first day with counted reports (the start of the history), or None."""
    return as_date(session.scalar(select(func.min(ReportDailyCount.day))))


def daily_counts(session: Session, filters: ReportFilters) -> pd.DataFrame:
    """Reports per day in the range (days without reports are absent). Columns: day, count."""
    if filters.matches_nothing:
        return pd.DataFrame(columns=["day", "count"])
    frame = query_frame(
        session,
        select(ReportDailyCount.day, func.sum(ReportDailyCount.count))
        .where(*_count_filters(filters))
        .group_by(ReportDailyCount.day)
        .order_by(ReportDailyCount.day),
        ["day", "count"],
    )
    return frame.assign(day=frame["day"].map(to_date), count=frame["count"].astype("int64"))


def weekly_series(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    date_from: dt.date,
    date_to: dt.date,
    *,
    history_start: dt.date | None = None,
) -> pd.DataFrame:
    """Daily counts rolled into ISO weeks (Monday first) with the same weeks a year earlier.

    In: two frames of :func:`daily_counts` (``previous`` covers the range 52 weeks earlier)
    and the first day with any reports at all. Out, one row per week touching the range:
    week_start (date), count, last_year (reports in the same days 52 weeks earlier; NaN when
    those days lie before ``history_start``: nothing was counted then, which is not zero),
    days (days of the week inside the range).
    """
    columns = ["week_start", "count", "last_year", "days"]
    if date_to < date_from:
        return pd.DataFrame(columns=columns)
    first = date_from - dt.timedelta(days=date_from.weekday())
    weeks = []
    start = first
    while start <= date_to:
        end = start + dt.timedelta(days=6)
        inside = max(start, date_from)
        weeks.append((start, (min(end, date_to) - inside).days + 1, inside - LAST_YEAR))
        start += dt.timedelta(days=7)

    def per_week(frame: pd.DataFrame, shift: dt.timedelta) -> dict[dt.date, int]:
        totals: dict[dt.date, int] = {}
        for day, count in zip(frame["day"], frame["count"], strict=True):
            moved = to_date(day) + shift
            monday = moved - dt.timedelta(days=moved.weekday())
            totals[monday] = totals.get(monday, 0) + int(count)
        return totals

    now = per_week(current, dt.timedelta(0))
    before = per_week(previous, LAST_YEAR)
    return pd.DataFrame(
        [
            (
                start,
                now.get(start, 0),
                float(before.get(start, 0))
                if history_start is not None and earlier >= history_start
                else float("nan"),
                days,
            )
            for start, days, earlier in weeks
        ],
        columns=columns,
    )


def cell_counts(session: Session, filters: ReportFilters) -> pd.DataFrame:
    """Reports per (category, district) in the range: one pass over the aggregate from which
    category totals, district totals and the grand total are all derived.

    Columns: category_id, district_id, count (only non-empty cells).
    """
    columns = ["category_id", "district_id", "count"]
    if filters.matches_nothing:
        return pd.DataFrame(columns=columns)
    frame = query_frame(
        session,
        select(
            ReportDailyCount.category_id,
            ReportDailyCount.district_id,
            func.sum(ReportDailyCount.count),
        )
        .where(*_count_filters(filters))
        .group_by(ReportDailyCount.category_id, ReportDailyCount.district_id),
        columns,
    )
    return frame.astype("int64")


def top_categories(
    session: Session,
    filters: ReportFilters,
    cells: pd.DataFrame,
    *,
    limit: int = 10,
    comparable: bool = True,
) -> pd.DataFrame:
    """The categories with most reports in ``cells`` (from :func:`cell_counts`), with the same
    range a year earlier.

    Columns: category_id, code, name, count, last_year (NaN unless ``comparable``: the
    history reaches back over the whole earlier range); ordered by count (desc), name.
    """
    columns = ["category_id", "code", "name", "count", "last_year"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    totals = cells.groupby("category_id")["count"].sum()
    names = categories(session).set_index("id")
    frame = pd.DataFrame(
        {
            "category_id": totals.index.astype("int64"),
            "code": names["code"].reindex(totals.index).to_numpy(),
            "name": names["name"].reindex(totals.index).to_numpy(),
            "count": totals.to_numpy(dtype="int64"),
        }
    )
    frame = frame.sort_values(["count", "name"], ascending=[False, True]).head(limit)
    if not comparable:
        return frame.assign(last_year=float("nan")).reset_index(drop=True)[columns]
    earlier = filters.last_year()
    ids = tuple(int(i) for i in frame["category_id"])
    previous = dict(
        session.execute(
            select(ReportDailyCount.category_id, func.sum(ReportDailyCount.count))
            .where(
                *_count_filters(
                    ReportFilters(earlier.date_from, earlier.date_to, ids, earlier.district_id)
                )
            )
            .group_by(ReportDailyCount.category_id)
        ).all()
    )
    return frame.assign(
        last_year=[float(previous.get(int(i), 0)) for i in frame["category_id"]]
    ).reset_index(drop=True)[columns]


def district_totals(session: Session, cells: pd.DataFrame) -> pd.DataFrame:
    """Every district with its reports in ``cells`` (zero when none).

    Columns: district_id, code, name, population, need_index, count; ordered by code.
    """
    frame = districts(session)
    totals = cells.groupby("district_id")["count"].sum() if len(cells) else pd.Series(dtype=int)
    return pd.DataFrame(
        {
            "district_id": frame["id"].astype("int64"),
            "code": frame["code"],
            "name": frame["name"],
            "population": frame["population"],
            "need_index": frame["need_index"],
            "count": [int(totals.get(int(i), 0)) for i in frame["id"]],
        }
    )


def district_propensity(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Each district's reporting propensity over the year ending ``as_of`` (all categories).

    The output of ``triage.scoring.reporting_propensity``: district_id, name, population,
    need_index, observed, expected, propensity, adjustment (1 / propensity).
    """
    start = as_of - dt.timedelta(days=PROPENSITY_WINDOW_DAYS)
    totals = query_frame(
        session,
        select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count))
        .where(ReportDailyCount.day > start, ReportDailyCount.day <= as_of)
        .group_by(ReportDailyCount.district_id),
        ["district_id", "count"],
    )
    # reporting_propensity only sums over its window, so one row per district dated as_of
    # stands for the whole year.
    counts = pd.DataFrame(
        {
            "day": [as_of] * len(totals),
            "category_id": [0] * len(totals),
            "district_id": totals["district_id"].astype("int64"),
            "count": totals["count"].astype(float),
        }
    )
    return reporting_propensity(counts, districts(session), as_of)


def recent_reports(
    session: Session, filters: ReportFilters, *, limit: int = RECENT_LIMIT
) -> pd.DataFrame:
    """The most recent reports matching the filters, newest first.

    Columns: id, requested_at, category, district, status, description (cut to 280
    characters), address. Each branch of the query (one per category, or the district, or one
    city-wide) walks an index newest-first and stops after ``limit`` rows.
    """
    columns = ["id", "requested_at", "category", "district", "status", "description", "address"]
    if filters.matches_nothing:
        return pd.DataFrame(columns=columns)
    start = dt.datetime.combine(filters.date_from, dt.time())
    end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time())
    common = [CitizenReport.requested_at >= start, CitizenReport.requested_at < end]
    if filters.category_ids is not None:
        if filters.district_id is not None:
            common.append(CitizenReport.district_id == filters.district_id)
        branches = [CitizenReport.category_id == c for c in filters.category_ids]
    elif filters.district_id is not None:
        branches = [CitizenReport.district_id == filters.district_id]
    else:
        # City-wide: one walk down ``ix_citizen_reports_requested_at``.
        branches = [true()]
    parts = []
    for condition in branches:
        part = (
            select(CitizenReport.id, CitizenReport.requested_at)
            .where(condition, *common)
            .order_by(CitizenReport.requested_at.desc(), CitizenReport.id.desc())
            .limit(limit)
            .subquery()
        )
        parts.append(select(part.c.id, part.c.requested_at))
    newest = union_all(*parts).subquery()
    chosen = [
        row[0]
        for row in session.execute(
            select(newest.c.id)
            .order_by(newest.c.requested_at.desc(), newest.c.id.desc())
            .limit(limit)
        )
    ]
    if not chosen:
        return pd.DataFrame(columns=columns)
    frame = query_frame(
        session,
        select(
            CitizenReport.id,
            CitizenReport.requested_at,
            func.coalesce(ReportCategory.name, CitizenReport.raw_category),
            District.name,
            CitizenReport.status,
            CitizenReport.description,
            CitizenReport.address,
        )
        .outerjoin(ReportCategory, ReportCategory.id == CitizenReport.category_id)
        .outerjoin(District, District.id == CitizenReport.district_id)
        .where(CitizenReport.id.in_(chosen))
        .order_by(CitizenReport.requested_at.desc(), CitizenReport.id.desc()),
        columns,
    )
    return frame.assign(
        description=frame["description"].map(lambda d: str(d or "")[:DESCRIPTION_CHARACTERS])
    )


def report_days(
    session: Session, category_ids: Sequence[int], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """Daily report counts of some categories, per district, from the aggregate.

    Columns: day (date), category_id, district_id, count; days in ``(start, end]``.
    """
    columns = ["day", "category_id", "district_id", "count"]
    if not category_ids:
        return pd.DataFrame(columns=columns)
    return query_frame(
        session,
        select(
            ReportDailyCount.day,
            ReportDailyCount.category_id,
            ReportDailyCount.district_id,
            ReportDailyCount.count,
        ).where(
            ReportDailyCount.category_id.in_(list(category_ids)),
            ReportDailyCount.day > start,
            ReportDailyCount.day <= end,
        ),
        columns,
    )


def district_report_totals(session: Session, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Reports of every category per district over ``(start, end]``, summed in the database.

    Columns: district_id, count. This is what reporting propensity is learnt from.
    """
    return query_frame(
        session,
        select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count))
        .where(ReportDailyCount.day > start, ReportDailyCount.day <= end)
        .group_by(ReportDailyCount.district_id)
        .order_by(ReportDailyCount.district_id),
        ["district_id", "count"],
    )


def newest_in_categories(
    session: Session,
    category_ids: Sequence[int],
    district_ids: Sequence[int] = (),
    *,
    limit: int = RECENT_LIMIT,
) -> pd.DataFrame:
    """The newest reports in some categories (and districts, when given), newest first.

    One indexed query per category (``category_id, requested_at``), each stopping after
    ``limit`` rows, merged here. Columns: id, requested_at, category, district, status,
    description, address.
    """
    columns = ["id", "requested_at", "category", "district", "status", "description", "address"]
    frames = []
    for category_id in category_ids:
        statement = (
            select(
                CitizenReport.id,
                CitizenReport.requested_at,
                ReportCategory.name,
                District.name,
                CitizenReport.status,
                CitizenReport.description,
                CitizenReport.address,
            )
            .join(ReportCategory, ReportCategory.id == CitizenReport.category_id)
            .outerjoin(District, District.id == CitizenReport.district_id)
            .where(CitizenReport.category_id == category_id)
            .order_by(CitizenReport.requested_at.desc(), CitizenReport.id.desc())
            .limit(limit)
        )
        if district_ids:
            statement = statement.where(CitizenReport.district_id.in_(list(district_ids)))
        frames.append(query_frame(session, statement, columns))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    merged = pd.concat(frames, ignore_index=True)
    return (
        merged.sort_values(["requested_at", "id"], ascending=False)
        .head(limit)
        .reset_index(drop=True)
    )
