"""The poll-sources job against real files: due sources run, failures are isolated and recorded."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.ingest import ensure_source
from db.jobs import recent_runs
from db.models import CitizenReport, DataSource
from db.session import Database
from triage.jobs.tasks import due_sources, poll_sources

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "data" / "nyc_311_portal_export_1000.csv"


def test_poll001_due_sources_run_once_and_a_failing_one_is_isolated(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with database.session(write=True) as s:
        ensure_source(s, "nyc-export", "csv", url=str(SAMPLE_CSV), config={"layout": "nyc"})
        ensure_source(s, "gone-file", "csv", url=str(tmp_path / "missing.csv"))
        s.execute(DataSource.__table__.update().values(poll_minutes=60))
    monkeypatch.setenv("TRIAGE_DATABASE_URL", database.url)
    assert sorted(due_sources(database, dt.datetime(2026, 11, 23, 7))) == [
        "gone-file",
        "nyc-export",
    ]
    poll_sources()
    with database.session() as s:
        stored = s.scalar(select(func.count()).select_from(CitizenReport))
        sources = {r.name: r for r in s.scalars(select(DataSource))}
        runs = recent_runs(s)
    assert stored > 900
    assert sources["nyc-export"].last_success_at is not None
    assert sources["gone-file"].last_success_at is None
    assert sources["gone-file"].last_error
    assert runs["outcome"].tolist() == ["success"] and runs["rows"].item() >= stored
    # Both were attempted just now, so neither is due again within the hour.
    assert due_sources(database, sources["nyc-export"].last_attempt_at) == []
    poll_sources()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(CitizenReport)) == stored
        assert recent_runs(s)["rows"].tolist() == [0, runs["rows"].item()]
