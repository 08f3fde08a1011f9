"""Data health for the chief of staff: late indicators by department and the share of reports that
could not be placed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.alerts.overdue import overdue_indicators
from db.ingest import OUTSIDE_DISTRICT_CODE, UNLOCATED_DISTRICT_CODE

# The filter choices: one home in ``db.lookups``, kept here under the names the page uses.
from db.models import (
    District,
    Indicator,
    ReportDailyCount,
)

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
    mayor's attention list): late indicators by department (``db.alerts.overdue``, the count the
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
