"""The city's today for the whole test suite: a pinned date, never the machine's clock.

``TRIAGE_TEST_TODAY`` moves it (CI runs the suite a second time on another date, under
``faketime``), so that a test that only passes on some dates fails on the day it is written.
It must not be later than the machine's clock: times of entry (``entered_at``, audit rows)
still come from the clock, and a value saved in a test must be the newest one.
"""

from __future__ import annotations

import datetime as dt
import os

TODAY = dt.date.fromisoformat(os.environ.get("TRIAGE_TEST_TODAY") or "2026-11-18")
