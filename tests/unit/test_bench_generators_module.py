"""triage.bench: the generators stand alone (no import cycle with the bench), issue 12."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import triage.bench.detect as bench_detect
import triage.bench.generators as generators


def test_bgen001_generators_import_nothing_from_the_bench_runner() -> None:
    tree = ast.parse(Path(generators.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {m for m in imported if m.startswith("triage.bench")}


def test_bgen002_reference_generator_is_the_bench_s_own_series() -> None:
    # ``generate`` moved to the generators; the bench still offers it under its old name.
    assert bench_detect.generate is generators.generate
    reference = generators.generator("reference").make(40, 1.5, 3)
    direct = generators.generate(40, 1.5, 3)
    np.testing.assert_array_equal(reference.counts, direct.counts)
    assert reference.events.equals(direct.events)
    assert int(reference.counts.sum()) > 0
