"""The attention list on the seeded small demo city: built from the stored week and the open
alert episodes; a surge ingested into a category no problem covers reaches it after the
refresh-after-data job; opening a problem from it ranks the problem this week; ``triage brief``
as a subprocess (json, text, pdf of at most two pages)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from db.attention import open_problem_from_surge, week_attention
from db.brief import brief_data
from db.ingest import CategoryCache, category_code, load_districts, upsert_reports
from db.models import Alert, CategoryProblem, ReportCategory, ScoreSnapshot
from db.ranking import rank_week
from db.session import Database
from tests.clock import TODAY
from tests.webutil import fresh_database
from triage import jobs
from triage.brief import weekly_brief_pdf
from triage.ingest.records import empty_reports
from triage.scoring import iso_week
from triage.security import Principal, Role

WEEK = iso_week(TODAY)
CITY_TZ = "America/New_York"
SNOW = "Street not plowed"
# The console script's entry point, as the installed ``triage`` command runs it.
TRIAGE = [sys.executable, "-c", "import sys; from triage.cli import main; sys.exit(main())"]
JARGON = re.compile(r"\b0\.\d+\b|FDR|false discovery|surge-\d+d|mann-kendall", re.I)


@pytest.fixture
def demo(tmp_path: Path) -> Database:
    database = fresh_database(tmp_path)
    rank_week(database, None, TODAY)
    yield database
    database.dispose()


def _chief(database: Database) -> Principal:
    from db.models import User

    with database.session() as session:
        user = session.scalars(select(User).where(User.username == "chief")).one()
        return Principal(user.id, user.username, Role(user.role), user.department_id)


def _ingest_snow(database: Database, reports: int = 615) -> None:
    """``reports`` 'Street not plowed' requests over the six days before today, citywide."""
    rows = []
    for number in range(reports):
        day = TODAY - dt.timedelta(days=1 + number % 6)
        at = dt.datetime.combine(day, dt.time(15, number % 60))
        rows.append(
            {
                "row": number + 1,
                "service_request_id": f"snow-{number}",
                "raw_category": SNOW,
                "description": "",
                "status": "open",
                "requested_at": at,
                "updated_at": at,
                "closed_at": pd.NaT,
                "lat": float("nan"),
                "lon": float("nan"),
                "address": "",
                "district": "",
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("requested_at", "updated_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame = pd.concat([empty_reports(), frame], ignore_index=True)
    with database.session(write=True) as session:
        # The demo city's category (code snow_unplowed) as a feed that ingested it before knows
        # it; a brand-new category has no history for the surge detector to compare with.
        known = session.scalar(select(ReportCategory.id).where(ReportCategory.name == SNOW))
        assert known is not None
        upsert_reports(
            session,
            "attention-test",
            frame,
            categories=CategoryCache(by_code={category_code(SNOW): known}),
            districts=load_districts(session),
            city_tz=CITY_TZ,
        )


def test_attdb001_small_demo_list(demo: Database) -> None:
    with demo.session() as session:
        attention = week_attention(session, WEEK, today=TODAY)
        stale = set(session.scalars(select(Alert.id).where(Alert.kind == "stale")))
        ranked = set(
            session.scalars(select(ScoreSnapshot.problem_id).where(ScoreSnapshot.week == WEEK))
        )
    assert 1 <= len(attention.items) <= 7
    assert stale, "the demo city has late indicator data"
    for item in attention.items:
        assert item.alert_id not in stale
        assert item.kind in {"moved", "emerging", "uncovered_surge", "decision_due", "standing"}
        assert not JARGON.search(item.reason), item.reason
        if item.kind in {"moved", "decision_due", "standing"}:
            assert item.problem_id in ranked
    assert {g.key for g in attention.groups} >= {"late_data", "ranking"}
    json.dumps(attention.as_dict())


def test_attdb002_surge_in_uncovered_category_reaches_the_list_after_refresh(
    demo: Database,
) -> None:
    _ingest_snow(demo)
    jobs.refresh_after_data(database_url=demo.url, today=TODAY)
    with demo.session() as session:
        category_id = session.scalar(select(ReportCategory.id).where(ReportCategory.name == SNOW))
        assert category_id is not None
        assert (
            session.scalar(
                select(func.count())
                .select_from(CategoryProblem)
                .where(CategoryProblem.category_id == category_id)
            )
            == 0
        )
        attention = week_attention(session, WEEK, today=TODAY, viewer=_chief(demo))
    snow = [i for i in attention.items if i.category_id == category_id]
    assert snow and snow[0].kind == "uncovered_surge"
    assert attention.items[0] == snow[0], "615 reports against almost none leads the list"
    assert re.match(rf"\d{{3}} '{SNOW}' reports in the \d+ days? to ", snow[0].reason)
    assert {a.key for a in snow[0].actions} == {"open_problem", "map_category"}

    with demo.session(write=True) as session:
        problem_id = open_problem_from_surge(
            session,
            _chief(demo),
            snow[0].alert_id,
            title="Snow clearing",
            policy_area="public works",
            today=TODAY,
        )
    with demo.session() as session:
        rank = session.scalar(
            select(ScoreSnapshot.rank).where(
                ScoreSnapshot.week == WEEK, ScoreSnapshot.problem_id == problem_id
            )
        )
        mapped = session.get(CategoryProblem, (category_id, problem_id))
        after = week_attention(session, WEEK, today=TODAY)
    assert rank is not None, "the new problem is ranked this week at once"
    assert mapped is not None
    assert all(i.kind != "uncovered_surge" or i.category_id != category_id for i in after.items)


def test_attdb003_brief_leads_with_the_list_and_fits_two_pages(
    demo: Database, tmp_path: Path
) -> None:
    with demo.session() as session:
        data = brief_data(
            session,
            WEEK,
            today=TODAY,
            city_name="Riverton",
            generated_at=dt.datetime(2026, 11, 18, 8),
        )
    assert data.attention is not None and data.attention.items
    with demo.session() as session:
        late = set(session.scalars(select(Alert.message).where(Alert.kind == "stale")))
    assert late and not late & {alert.message for alert in data.new_alerts}
    for font_dir in (None, Path("/usr/share/fonts/truetype/dejavu")):
        pdf = weekly_brief_pdf(data, font_dir=font_dir)
        assert _pages(pdf, tmp_path) <= 2
    text = _pdf_text(weekly_brief_pdf(data, font_dir=None), tmp_path)
    first = text.split("\f")[0]
    assert f"Weekly brief: priorities for {WEEK}" in first
    assert first.index("What needs the mayor this week") < first.index("Top 10 priorities")
    assert data.attention.items[0].title.split(":")[0] in first


def _pages(pdf: bytes, tmp_path: Path) -> int:
    if not shutil.which("pdfinfo"):
        return int(re.findall(rb"/Count (\d+)", pdf)[-1])
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF back")
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _run(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_TODAY"] = TODAY.isoformat()
    return subprocess.run(
        [*TRIAGE, "--db", db_url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


def test_attdb004_brief_command_json_text_pdf(tmp_path: Path) -> None:
    database = fresh_database(tmp_path)
    url = database.url
    database.dispose()
    as_json = _run(url, "brief", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert payload["week"] == WEEK
    assert 1 <= len(payload["attention"]) <= 7
    for item in payload["attention"]:
        assert {"kind", "title", "reason"} <= set(item)
        if item["kind"] in {"moved", "decision_due", "standing"}:
            assert isinstance(item["problem_id"], int)
    as_text = _run(url, "brief", "--week", WEEK, "--format", "text")
    assert as_text.returncode == 0, as_text.stderr
    assert f"What needs the mayor, {WEEK}" in as_text.stdout
    assert payload["attention"][0]["title"] in as_text.stdout
    target = tmp_path / "brief.pdf"
    as_pdf = _run(url, "brief", "--format", "pdf", "--output", str(target))
    assert as_pdf.returncode == 0, as_pdf.stderr
    assert _pages(target.read_bytes(), tmp_path) <= 2
    wrong = _run(url, "brief", "--week", "2026-W99", "--format", "json")
    assert wrong.returncode == 2 and "not an ISO week" in wrong.stderr
    no_file = _run(url, "brief", "--format", "pdf")
    assert no_file.returncode == 2 and "--output" in no_file.stderr
