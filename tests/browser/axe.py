"""axe-core in the browser tests: inject ``node_modules/axe-core/axe.min.js`` and run WCAG 2.1 A/AA.

``violations(driver)`` returns axe's violations for the page as it is now; ``blocking`` keeps
the serious and critical ones; ``describe`` turns them into a readable assertion message.
Without the axe-core file (``scripts/test`` installs it from npm) the calling test is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

AXE_FILE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

RUN_AXE = """
const [tags, context, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
axe.run(context || document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
    .then((result) => done({violations: result.violations}))
    .catch((error) => done({error: String(error)}));
"""


def axe_source() -> str:
    """The axe-core script, or skip the test with the reason it is missing."""
    if not AXE_FILE.is_file():
        pytest.skip(
            f"axe-core is not installed ({AXE_FILE} is missing); "
            "run scripts/test or `npm install --no-save axe-core@4`"
        )
    return AXE_FILE.read_text(encoding="utf-8")


def violations(
    driver: Any,
    *,
    tags: Sequence[str] = WCAG_21_AA,
    context: str | None = None,
    timeout: float = 60,
) -> list[dict[str, Any]]:
    """Run axe-core on the current page (or the ``context`` CSS selector) and return its
    violations (each with id, impact, help, helpUrl and the failing nodes)."""
    source = axe_source()
    if not driver.execute_script("return typeof window.axe !== 'undefined';"):
        driver.execute_script(source)
    driver.set_script_timeout(timeout)
    result = driver.execute_async_script(RUN_AXE, list(tags), context)
    if not isinstance(result, dict) or "error" in result:
        raise AssertionError(f"axe-core failed: {result!r}")
    return list(result.get("violations") or [])


def blocking(found: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the serious and critical violations (the ones we hold ourselves to)."""
    return [v for v in found if v.get("impact") in BLOCKING_IMPACTS]


def describe(found: Sequence[dict[str, Any]], limit: int = 3) -> str:
    """A readable summary: rule, impact, help text and the first failing elements."""
    lines = []
    for violation in found:
        lines.append(f"{violation.get('id')} ({violation.get('impact')}): {violation.get('help')}")
        for node in (violation.get("nodes") or [])[:limit]:
            target = ", ".join(str(t) for t in node.get("target") or [])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary[:300]}")
    return "\n".join(lines) or "no violations"
