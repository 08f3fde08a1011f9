"""The test suite's clocks: the pinned today, and sleeps that survive CI's faketime pass."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

from tests.clock import TODAY


def test_tclk001_city_today_is_pinned_and_passed_to_children() -> None:
    assert os.environ["TRIAGE_TODAY"] == TODAY.isoformat()
    expected = os.environ.get("TRIAGE_TEST_TODAY") or "2026-11-18"
    assert dt.date.fromisoformat(expected) == TODAY


def test_tclk002_a_timed_wait_on_a_child_polls_by_sleeping_and_returns() -> None:
    # subprocess's wait(timeout) polls with time.sleep; under libfaketime (CI's second pass) an
    # unpatched sleep raised EINVAL here, at random, whenever the child was not yet done.
    pause = "import select; select.select([], [], [], 0.2)"
    child = subprocess.Popen([sys.executable, "-c", pause])
    started = time.monotonic()
    assert child.wait(timeout=30) == 0
    before = time.monotonic()
    time.sleep(0.05)
    slept = time.monotonic() - before
    assert 0.04 <= slept < 5.0
    assert time.monotonic() - started < 30
