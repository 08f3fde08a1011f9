"""`triage ingest` says where a run's reports landed: placed by their point, by the district
the source names, outside every district, or nowhere (on a real NYC export and the NYC pack)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.cli import main
from triage.settings import REPO_ROOT

NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
NYC_311 = REPO_ROOT / "tests" / "data" / "nyc_311_portal_export_1000.csv"


def test_place001_ingest_prints_and_returns_the_placement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'nyc.sqlite3'}"]
    assert main([*db, "init"]) == 0
    assert main([*db, "city", "import", str(NYC_PACK)]) == 0
    capsys.readouterr()
    assert main([*db, "ingest", "csv", str(NYC_311), "--layout", "nyc"]) == 0
    text = capsys.readouterr().out
    assert (
        "districts: 893 placed by their point, 0 by the district the source names, "
        "0 outside every district (OUTSIDE), 107 without a point or district (UNLOCATED)"
    ) in text
    # a second run reads the same rows again: the same placement, all unchanged
    assert main([*db, "ingest", "csv", str(NYC_311), "--layout", "nyc", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["unchanged"] == 1000
    assert figures["placed"] == {"point": 893, "named": 0, "outside": 0, "unlocated": 107}
