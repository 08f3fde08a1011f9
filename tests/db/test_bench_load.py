"""``triage bench load`` runs for real: gunicorn on loopback over PostgreSQL, many sessions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.clock import TODAY

pytestmark = pytest.mark.postgres


def test_bload001_sessions_at_once_on_gunicorn_and_postgresql_give_no_errors(pg_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_TODAY"] = TODAY.isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "triage.cli", "--db", pg_url, "bench", "load",
         "--sessions", "12", "--workers", "2", "--pages", "/,/alerts", "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bench"] == "load" and result["backend"] == "postgresql"
    assert result["sessions"] == 12 and result["errors"] == 0, result["error_samples"]
    # Every session loaded both pages (router plus their callbacks) and probed /healthz twice.
    assert result["requests"] >= 12 * (2 * 3 + 2)
    assert 0 < result["floor"]["p50_ms"] <= result["floor"]["max_ms"]
    assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
    assert "errors 0" in done.stdout
