"""What the benchmarks share: their error, percentiles and timing figures, the demo passwords.

Each ``triage bench`` command module imports from here (and from ``bench_city`` and
``bench_visit``), never from another command module.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


class BenchError(Exception):
    """The benchmark could not run (sign-in refused, database holding other data, page
    missing); the message says why."""


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = max(0, min(len(ordered) - 1, round(share * (len(ordered) - 1))))
    return ordered[position]


def timing_figures(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 1) if values else float("nan"),
        "p95_ms": round(percentile(values, 0.95), 1),
        "max_ms": round(max(values), 1) if values else float("nan"),
    }


def demo_password(username: str) -> str:
    """The demo city's password for a user (``scripts/demo`` prints them)."""
    return f"{username}-riverton-demo"
