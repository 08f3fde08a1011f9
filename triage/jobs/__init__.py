"""Scheduled jobs and the work they run against the database: a runner, above the web app.

The scheduler (``triage.jobs.scheduler``) keeps its jobs in a persistent store by textual
reference, ``triage.jobs:NAME``, so the entry points are attributes of this package; their
code is in ``triage.jobs.tasks``, loaded on first use so that importing one job module (say
``triage.jobs.ingest`` for ``triage ingest``) does not load every job and the detectors.
Callbacks never import this package: a use case that a page and a job both run lives in
``db/`` (``db.ranking.rank_week``).
"""

from __future__ import annotations

import importlib
from typing import Any

ENTRY_POINTS = (
    "detect_alerts",
    "flag_overdue",
    "housekeeping",
    "poll_sources",
    "refresh_after_data",
    "weekly_snapshot",
)

__all__ = list(ENTRY_POINTS)


def __getattr__(name: str) -> Any:
    if name in ENTRY_POINTS:
        return getattr(importlib.import_module("triage.jobs.tasks"), name)
    raise AttributeError(f"module 'triage.jobs' has no attribute {name!r}")
