"""``triage jobs list|run``: a scheduled job run once, now, on a real SQLite database, recorded
as the scheduler records it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate
from db.ingest import ensure_source
from db.models import DataSource, JobRun
from db.session import Database
from tests.clock import TODAY
from triage.cli import main
from triage.schedule import SCHEDULED_JOBS
from triage.weeks import iso_week


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    migrate.upgrade(url)
    return url


def _runs(url: str) -> list[tuple[str, str, int, dict | None, str]]:
    database = Database(url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(
                    JobRun.job_id, JobRun.outcome, JobRun.rows, JobRun.detail, JobRun.error
                ).order_by(JobRun.id)
            ).all()
    finally:
        database.dispose()
    return [tuple(row) for row in rows]


def test_jcli001_list_names_every_job_with_its_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [job.job_id for job in SCHEDULED_JOBS]
    when = {line.split()[0]: line for line in lines}
    assert "every minute" in when["poll-sources"]
    assert "daily 05:30" in when["detect-alerts"]
    assert "daily 07:00" in when["flag-overdue"]
    assert "every 15 minutes" in when["refresh-after-data"]
    assert "Mondays 06:00" in when["weekly-snapshot"]


def test_jcli002_run_records_the_run_like_the_scheduler(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", url, "jobs", "run", "weekly-snapshot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("weekly-snapshot: success, 0 rows in ")
    assert f'"week": "{iso_week(TODAY)}"' in out
    assert _runs(url) == [("weekly-snapshot", "success", 0, {"week": iso_week(TODAY)}, "")]
    assert main(["--db", url, "jobs", "run", "refresh-after-data"]) == 0
    assert capsys.readouterr().out.startswith("refresh-after-data: ")
    assert [run[:2] for run in _runs(url)][-1] == ("refresh-after-data", "success")


def test_jcli003_a_failed_run_exits_1_with_its_error_recorded(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = Database(url)
    with database.session(write=True) as session:
        ensure_source(session, "gone", "csv", url=str(tmp_path / "gone.csv"), config={})
        session.execute(DataSource.__table__.update().values(poll_minutes=15))
    database.dispose()
    assert main(["--db", url, "jobs", "run", "poll-sources"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("poll-sources: error, 0 rows in ")
    [(job_id, outcome, rows, detail, _error)] = _runs(url)
    assert (job_id, outcome, rows, detail["sources"]) == ("poll-sources", "error", 0, [])
    assert list(detail["failed"]) == ["gone"] and "gone.csv" in detail["failed"]["gone"]


def test_jcli004_an_unknown_job_names_the_real_ones_and_runs_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", url, "jobs", "run", "weekly-snapshots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("triage: There is no job 'weekly-snapshots'; the jobs are: ")
    for job in SCHEDULED_JOBS:
        assert job.job_id in err
    assert _runs(url) == []


def test_jcli005_refuses_a_database_without_the_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.sqlite3"
    assert main(["--db", f"sqlite:///{empty}", "jobs", "run", "flag-overdue"]) == 2
    assert "run `triage init` first" in capsys.readouterr().err
