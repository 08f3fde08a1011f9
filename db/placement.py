"""Re-place stored reports against the city's current district boundaries.

A pack import or a boundary upload that changes boundaries calls ``place_reports``; the daily
report counts move with the reports. ``district_report_counts`` says where reports stand.
Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.ingest import (
    SENTINEL_DISTRICT_CODES,
    _apply_counts,
    _is_sqlite,
    load_districts,
    local_days,
)
from db.models import CitizenReport, District, ReportDailyCount
from triage.security import Capability, Principal, require

PLACE_BATCH = 200_000


@dataclass(frozen=True)
class Placement:
    """What re-placing stored reports did: reports looked at, moved, and now outside."""

    checked: int
    moved: int
    outside: int


def place_reports(
    session: Session, actor: Principal, city_tz: str, *, batch: int = PLACE_BATCH
) -> Placement:
    """Re-place every stored report that has a point against the current boundaries.

    A point inside a boundary goes to that district; a point outside every boundary goes to
    "Outside every district", unless the report sits in a district without a boundary (its
    source named it). Reports without a point keep their district. The daily counts move
    with the reports (days local to ``city_tz``). Keyset batches of ``batch`` rows; one audit
    row sums up the moves.
    """
    require(actor, Capability.CONFIGURE)
    resolver = load_districts(session)
    checked = moved = 0
    if resolver.locator is None:
        return Placement(0, 0, 0)
    bounded = np.fromiter(resolver.bounded, dtype=np.int64)
    sentinels = np.array([resolver.unlocated_id, resolver.outside_id], dtype=np.int64)
    sqlite_db = _is_sqlite(session)
    last = 0
    while True:
        rows = session.execute(
            select(
                CitizenReport.id,
                CitizenReport.lon,
                CitizenReport.lat,
                CitizenReport.district_id,
                CitizenReport.category_id,
                CitizenReport.requested_at,
            )
            .where(
                CitizenReport.id > last,
                CitizenReport.lat.is_not(None),
                CitizenReport.lon.is_not(None),
            )
            .order_by(CitizenReport.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        frame = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["id", "lon", "lat", "district_id", "category_id", "requested_at"],
        )
        last = int(frame["id"].iloc[-1])
        checked += len(frame)
        current = frame["district_id"].fillna(resolver.unlocated_id).to_numpy(dtype=np.int64)
        found = resolver.locator.locate(
            frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)
        )
        keep_named = ~np.isin(current, bounded) & ~np.isin(current, sentinels)
        finite = np.isfinite(frame["lon"].to_numpy(dtype=float)) & np.isfinite(
            frame["lat"].to_numpy(dtype=float)
        )
        new = np.where(found >= 0, found, np.where(keep_named, current, resolver.outside_id))
        new = np.where(finite, new, current)
        change = new != current
        if not change.any():
            continue
        moving = frame[change].assign(new=new[change], old=current[change])
        moved += len(moving)
        session.execute(
            update(CitizenReport),
            [
                {"id": int(i), "district_id": int(d)}
                for i, d in zip(moving["id"], moving["new"], strict=True)
            ],
        )
        counted = moving[moving["category_id"].notna()]
        if len(counted):
            days = local_days(
                pd.to_datetime(counted["requested_at"]).astype("datetime64[us]"), city_tz
            )
            category = counted["category_id"].astype("int64")
            deltas = pd.concat(
                [
                    pd.DataFrame(
                        {"day": days, "category_id": category, "district_id": counted["old"]}
                    ).assign(count=-1),
                    pd.DataFrame(
                        {"day": days, "category_id": category, "district_id": counted["new"]}
                    ).assign(count=1),
                ],
                ignore_index=True,
            )
            _apply_counts(session.connection(), deltas, sqlite_db)
    outside = session.scalar(
        select(func.count())
        .select_from(CitizenReport)
        .where(CitizenReport.district_id == resolver.outside_id)
    )
    placement = Placement(checked, moved, int(outside or 0))
    if moved:
        write_audit(session, actor, "place", "citizen_reports", after=vars(placement))
    return placement


def district_report_counts(session: Session) -> pd.DataFrame:
    """Reports per district (from the daily counts), the two sentinel rows last.

    Columns: code, name, population, reports, bounded (has a boundary); every district,
    including those with no report.
    """
    totals = (
        select(ReportDailyCount.district_id, func.sum(ReportDailyCount.count).label("reports"))
        .group_by(ReportDailyCount.district_id)
        .subquery()
    )
    rows = session.execute(
        select(
            District.code,
            District.name,
            District.population,
            func.coalesce(totals.c.reports, 0),
            District.geometry.is_not(None),
        ).outerjoin(totals, totals.c.district_id == District.id)
    ).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["code", "name", "population", "reports", "bounded"]
    )
    frame["reports"] = frame["reports"].astype("int64")
    frame["sentinel"] = frame["code"].isin(SENTINEL_DISTRICT_CODES)
    frame = frame.sort_values(["sentinel", "code"], kind="stable").reset_index(drop=True)
    return frame.drop(columns="sentinel")


__all__ = ["PLACE_BATCH", "Placement", "district_report_counts", "place_reports"]
