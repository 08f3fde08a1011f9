"""The floors (ARCHITECTURE.md) hold: import-linter's contracts pass, and they do fail on a tree
that breaks a floor; no Python source file is over 1,500 lines (migrations aside).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 1500
# Being split by other work under way (issue 12): the lead removes an entry when it lands.
NOT_SOURCE = (".venv", "node_modules", "db/migrations", "instance", "build")


def _lint_imports(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extra (pip install -e '.[dev]')")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


def test_arch001_import_contracts_hold() -> None:
    done = _lint_imports(REPO_ROOT)
    print(done.stdout[-6000:], done.stderr[-2000:])
    assert done.returncode == 0, "an import crosses a floor the wrong way (output above)"
    assert "Contracts: 7 kept, 0 broken." in done.stdout


def test_arch005_the_composition_root_imports_no_runner() -> None:
    """``app.py`` is a module, which import-linter sees only as a name: its own imports here."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse((REPO_ROOT / "app.py").read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    assert "callbacks.policy" in imported  # the walk sees app.py's imports
    runners = sorted(m for m in imported if m.startswith(("triage.cli", "triage.jobs")))
    assert runners == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_arch002_the_contracts_fail_on_a_broken_floor(tmp_path: Path) -> None:
    """The project's own contracts, run over a small tree that breaks each of them once."""
    config = (REPO_ROOT / "pyproject.toml").read_text()
    start = config.index("[tool.importlinter]")
    (tmp_path / ".importlinter.toml").write_text(config[start:])
    _write(
        tmp_path / "tree",
        {
            "triage/__init__.py": "",
            "triage/bench/__init__.py": "",
            "triage/scoring.py": "import db.models\nimport plotly\nimport triage.weeks\n",
            "triage/weeks.py": "import triage.scoring\n",
            "triage/cli/__init__.py": "import app\nimport triage.jobs\n",
            "triage/cli/bench_browser.py": "",
            "triage/cli/bench_ingest.py": "",
            "triage/cli/bench_load.py": "import triage.cli.bench_ui\n",
            "triage/cli/bench_score.py": "",
            "triage/cli/bench_ui.py": "",
            "triage/jobs/__init__.py": "import db.models\nimport layouts\n",
            "db/__init__.py": "",
            "db/alerts/__init__.py": "",
            "db/pages/__init__.py": "",
            "db/models.py": "",
            "layouts/__init__.py": "import db.models\nimport app\n",
            "callbacks/__init__.py": "import triage.jobs\nimport layouts\n",
        },
    )
    done = _lint_imports(tmp_path / "tree", str(tmp_path / ".importlinter.toml"), PYTHONPATH=".")
    print(done.stdout[-6000:], done.stderr[-2000:])
    assert done.returncode == 1
    assert "Contracts: 0 kept, 7 broken." in done.stdout
    assert "callbacks is not allowed to import triage.jobs" in done.stdout
    assert "layouts is not allowed to import db" in done.stdout
    assert "triage.scoring is not allowed to import db" in done.stdout
    assert "triage.scoring is not allowed to import plotly" in done.stdout
    assert "layouts is not allowed to import app" in done.stdout
    assert "triage.jobs is not allowed to import layouts" in done.stdout
    assert "No cycles are allowed in triage." in done.stdout
    assert "triage.cli.bench_load is not allowed to import triage.cli.bench_ui" in done.stdout


def _source_files() -> list[Path]:
    files = []
    for path in sorted(REPO_ROOT.rglob("*.py")):
        relative = path.relative_to(REPO_ROOT).as_posix()
        if not relative.startswith(NOT_SOURCE):
            files.append(path)
    return files


def _lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle)


def test_arch003_no_source_file_is_over_1500_lines() -> None:
    files = _source_files()
    assert len(files) > 100  # the walk found the tree
    long = {p.relative_to(REPO_ROOT).as_posix(): _lines(p) for p in files}
    long = {name: lines for name, lines in long.items() if lines > MAX_LINES}
    assert long == {}, f"split these by job (at most {MAX_LINES} lines each): {long}"


def test_arch006_unit_tests_do_not_build_the_app() -> None:
    """``tests/unit`` tests pure code; a test that builds the Dash app (a ``WebEnv``, a signed
    in client) belongs in ``tests/app``, so the unit run stays quick and says what it tests."""
    marks = ("WebEnv", "web_env", "signed_in_client", "from app import")
    here = Path(__file__).name
    builders = [
        path.name
        for path in sorted((REPO_ROOT / "tests" / "unit").glob("test_*.py"))
        if path.name != here and any(mark in path.read_text() for mark in marks)
    ]
    assert builders == [], builders
    assert len(list((REPO_ROOT / "tests" / "app").glob("test_*.py"))) >= 20
