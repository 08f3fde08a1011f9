"""The benchmarks' one reading of peak memory: it rises with what the process touches and
falls back when the high-water mark is reset (Linux)."""

from __future__ import annotations

import sys

import pytest

from triage.bench.memory import peak_rss_mb, reset_peak_rss

MIB = 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_mem001_peak_rises_with_an_allocation_and_resets() -> None:
    reset_peak_rss()
    before = peak_rss_mb()
    block = b"\x01" * (96 * MIB)  # written, so every page is resident
    during = peak_rss_mb()
    del block
    reset_peak_rss()
    after = peak_rss_mb()
    print(f"peak MiB: before {before:.1f}, with 96 MiB {during:.1f}, after reset {after:.1f}")
    assert during - before >= 90
    assert after < during - 60
