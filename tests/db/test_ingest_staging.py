"""The staged upsert (rows -> temporary table -> one guarded INSERT ... SELECT ... ON CONFLICT)
on SQLite and PostgreSQL: values land exactly as given, the staging table is empty again after
each batch (two batches in one transaction), and the updated_at guard still holds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from db.ingest import CategoryCache, load_districts, report_counts_consistent, upsert_reports
from db.models import CitizenReport
from db.session import Database
from triage.ingest.records import empty_reports

CITY_TZ = "America/New_York"


def _batch(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {
        "row": 1,
        "raw_category": "Noise",
        "description": "",
        "status": "open",
        "closed_at": pd.NaT,
        "lat": float("nan"),
        "lon": float("nan"),
        "address": "",
        "district": "",
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    for column in ("requested_at", "updated_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return pd.concat([empty_reports(), frame], ignore_index=True)


def _stored(database: Database) -> dict[str, tuple[object, ...]]:
    with database.session() as session:
        rows = session.execute(
            select(
                CitizenReport.service_request_id,
                CitizenReport.raw_category,
                CitizenReport.description,
                CitizenReport.updated_at,
                CitizenReport.lat,
                CitizenReport.address,
            )
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_ingstage001_values_exact_two_batches_one_transaction(database: Database) -> None:
    t = dt.datetime(2024, 3, 1, 12, 0, 0, 123456)
    first = _batch(
        [
            {"service_request_id": "007", "requested_at": t, "updated_at": t, "lat": 40.5},
            {
                "service_request_id": "7",
                "requested_at": t,
                "updated_at": t,
                "description": 'it\'s "quoted"; DROP TABLE x; --',
                "address": "1 Main St",
            },
        ]
    )
    later = t + dt.timedelta(hours=1)
    second = _batch(
        [
            {"service_request_id": "007", "requested_at": t, "updated_at": later,
             "raw_category": "Rodents", "lat": 40.25},
            {"service_request_id": "8", "requested_at": t, "updated_at": t},
            {"service_request_id": "7", "requested_at": t, "updated_at": t - dt.timedelta(1),
             "raw_category": "Older"},
        ]
    )  # fmt: skip
    categories = CategoryCache()
    with database.session(write=True) as session:
        districts = load_districts(session)
        one = upsert_reports(
            session, "s", first, categories=categories, districts=districts, city_tz=CITY_TZ
        )
        two = upsert_reports(
            session, "s", second, categories=categories, districts=districts, city_tz=CITY_TZ
        )
    assert (one.added, one.updated, one.unchanged) == (2, 0, 0)
    assert (two.added, two.updated, two.unchanged) == (1, 1, 1)
    assert _stored(database) == {
        "007": ("Rodents", "", later, 40.25, ""),
        "7": ("Noise", 'it\'s "quoted"; DROP TABLE x; --', t, None, "1 Main St"),
        "8": ("Noise", "", t, None, ""),
    }
    with database.session() as session:
        assert report_counts_consistent(session, CITY_TZ).empty
    # A third batch in a new transaction sees no leftovers of the earlier ones.
    with database.session(write=True) as session:
        three = upsert_reports(
            session,
            "s",
            _batch([{"service_request_id": "9", "requested_at": t, "updated_at": t}]),
            categories=categories,
            districts=load_districts(session),
            city_tz=CITY_TZ,
        )
    assert (three.added, three.updated, three.unchanged) == (1, 0, 0)
    assert sorted(_stored(database)) == ["007", "7", "8", "9"]
