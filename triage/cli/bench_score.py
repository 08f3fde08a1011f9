"""``triage bench score``: full re-scoring and detection on the seeded large demo city.

The city is seeded once into a cached SQLite file (or a given database) and each stage is
timed in a fresh process (``python -m triage.cli.bench_score STAGE DAY``), whose peak memory
is the stage's; ``triage.bench.scoring.bench_scoring`` times the scoring alone on synthetic
inputs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from db.models import Alert
from db.scores import (
    latest_snapshot_week,
    load_scoring_inputs,
    load_snapshot,
    load_weights,
    save_snapshot,
)
from db.session import Database
from triage.bench.memory import peak_rss_mb
from triage.cli.bench_city import Prepared, prepare
from triage.cli.bench_common import BenchError
from triage.cli.common import progress_bar
from triage.jobs.alerts import detect_all_alerts, detector_inputs, store_alerts
from triage.scoring import movement, problem_components, ranking_sensitivity, score_problems
from triage.settings import DEFAULT_INSTANCE_DIR, Settings
from triage.weeks import iso_week, week_end

GOAL_SECONDS = 30.0
GOAL_MB = 4096.0
STAGES = ("rank", "detect")
# The weights page (``callbacks.admin``) draws this many weight sets for its stability view.
SENSITIVITY_RUNS = 500
URL_VARIABLE = "TRIAGE_BENCH_SCORE_URL"  # the stage process reads the URL here, not from argv
MEMORY_MEASURE = (
    "peak resident set size of the stage's own process (Linux VmHWM; getrusage ru_maxrss "
    "elsewhere): Python objects, numpy and pandas buffers, the database driver and its page "
    "cache together"
)


# ---------------------------------------------------------------- one stage, in its own process


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class _Statements:
    """Counts the SQL statements a stage executes and keeps any that touch raw reports."""

    def __init__(self) -> None:
        self.count = 0
        self.raw_reports: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += 1
        if "citizen_reports" in statement.lower():
            self.raw_reports.append(" ".join(statement.split())[:200])


class _Clock:
    """Wall and CPU seconds per named part of a stage."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, float]] = {}

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        try:
            yield
        finally:
            self.parts[name] = {
                "wall_seconds": round(time.perf_counter() - wall, 3),
                "cpu_seconds": round(_cpu_seconds() - cpu, 3),
            }


def _rank_stage(database: Database, today: dt.date, clock: _Clock) -> dict[str, Any]:
    """What ``rank_week`` does for this week, plus the weights page's stability view.

    One transaction: load the inputs from the aggregates, score every problem, draw the
    sensitivity, store the week's snapshot and compare with the previous stored week.
    """
    week = iso_week(today)
    as_of = min(week_end(week), today)
    with database.session(write=True) as session:
        with clock.part("load"):
            inputs = load_scoring_inputs(session, as_of)
            weights = load_weights(session)
        with clock.part("score"):
            components = problem_components(inputs, as_of)
            scores = score_problems(inputs, weights, as_of, components=components)
        with clock.part("sensitivity"):
            sensitivity = ranking_sensitivity(
                inputs, weights, as_of, runs=SENSITIVITY_RUNS, components=components
            )
        store = time.perf_counter(), _cpu_seconds()
        save_snapshot(session, week, scores)
        previous = latest_snapshot_week(session, before=week)
        before = load_snapshot(session, previous) if previous else None
    moves = movement(scores, before)
    clock.parts["store"] = {
        "wall_seconds": round(time.perf_counter() - store[0], 3),
        "cpu_seconds": round(_cpu_seconds() - store[1], 3),
    }
    loaded = sum(len(getattr(inputs, f.name)) for f in dataclasses.fields(inputs))
    return {
        "week": week,
        "problems_scored": len(scores),
        "sensitivity_runs": SENSITIVITY_RUNS,
        "sensitivity_rows": len(sensitivity),
        "compared_with": previous,
        "moved": int((moves["movement"].isin(["up", "down"])).sum()),
        "rows_read": loaded + (len(before) if before is not None else 0),
        "observations_read": len(inputs.observations),
        "report_count_rows_read": len(inputs.report_counts),
    }


def _detect_stage(database: Database, today: dt.date, clock: _Clock) -> dict[str, Any]:
    """``refresh_alerts`` for ``today``, part by part: load, detect, store."""
    with clock.part("load"):
        inputs = detector_inputs(database, today)
    with clock.part("detect"):
        alerts, links = detect_all_alerts(database, today, inputs)
    with database.session() as session:
        stored_before = int(session.scalar(select(func.count()).select_from(Alert)) or 0)
    with clock.part("store"):
        result = store_alerts(database, alerts, links, today)
    counts, indicators, observations = inputs
    pairs = counts[["category_id", "district_id"]].drop_duplicates() if len(counts) else counts
    return {
        "report_series": int(len(pairs) + (counts["category_id"].nunique() if len(counts) else 0)),
        "indicator_series": len(indicators),
        "alerts_found": int(result["rows"]),
        "alerts_inserted": int(result["inserted"]),
        "alerts_updated": int(result["updated"]),
        "alerts_resolved": int(result["resolved"]),
        "alerts_stored_before": stored_before,
        "rows_read": len(counts) + len(indicators) + len(observations) + stored_before,
        "observations_read": len(observations),
        "report_count_rows_read": len(counts),
    }


def run_stage(database: Database, stage: str, today: dt.date) -> dict[str, Any]:
    """Run one stage against ``database`` and return its figures (JSON-ready)."""
    statements = _Statements()
    event.listen(database.engine, "before_cursor_execute", statements)
    clock = _Clock()
    baseline_mb = peak_rss_mb()
    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        body = _rank_stage if stage == "rank" else _detect_stage
        figures = body(database, today, clock)
    finally:
        event.remove(database.engine, "before_cursor_execute", statements)
    return {
        "wall_seconds": round(time.perf_counter() - wall, 3),
        "cpu_seconds": round(_cpu_seconds() - cpu, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(baseline_mb, 1),
        "statements": statements.count,
        "raw_report_statements": len(statements.raw_reports),
        "raw_report_examples": statements.raw_reports[:3],
        "parts": clock.parts,
        **figures,
    }


def measure_in_fresh_process(url: str, stage: str, today: dt.date) -> dict[str, Any]:
    """Run a stage in a new Python process (so its peak memory is its own) and read its JSON."""
    env = {**os.environ, URL_VARIABLE: url}
    command = [sys.executable, "-m", "triage.cli.bench_score", stage, today.isoformat()]
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        command, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise BenchError(f"The {stage} stage failed (exit {done.returncode}):\n{tail}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise BenchError(f"The {stage} stage printed nothing.")
    return json.loads(lines[-1])


def _stage_main(argv: list[str]) -> int:
    """Entry point of the stage process: ``python -m triage.cli.bench_score STAGE YYYY-MM-DD``.

    The code of both stages is imported (at the top of this module) before the clock starts,
    as in a long-running scheduler; data is not.
    """
    stage, day = argv
    if stage not in STAGES:
        raise SystemExit(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    database = Database(os.environ[URL_VARIABLE])
    try:
        figures = run_stage(database, stage, dt.date.fromisoformat(day))
    finally:
        database.dispose()
    print(json.dumps(figures))
    return 0


# ---------------------------------------------------------------- the whole benchmark


def run_bench(
    prepared: Prepared, measure: Callable[[str, str, dt.date], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Time every stage on a prepared database; the result is JSON-ready."""
    measure = measure or measure_in_fresh_process
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stages = {stage: measure(prepared.url, stage, prepared.today) for stage in STAGES}
    wall = sum(s["wall_seconds"] for s in stages.values())
    cpu = sum(s["cpu_seconds"] for s in stages.values())
    peak = max(s["peak_rss_mb"] for s in stages.values())
    return {
        "benchmark": "score",
        "scale": prepared.scale,
        "seed": prepared.seed,
        "backend": prepared.backend,
        "database": prepared.shown,
        "database_bytes": prepared.database_bytes,
        "as_of": prepared.today.isoformat(),
        "seeded": prepared.seeded,
        "seed_seconds": prepared.seed_seconds,
        "history_seconds": prepared.history_seconds,
        "counts": prepared.counts,
        "load_average_before": round(load, 2),
        "cpus": os.cpu_count(),
        "stages": stages,
        "total_wall_seconds": round(wall, 3),
        "total_cpu_seconds": round(cpu, 3),
        "peak_rss_mb": peak,
        "memory_measure": MEMORY_MEASURE,
        "raw_report_statements": sum(s["raw_report_statements"] for s in stages.values()),
        "goal_seconds": GOAL_SECONDS,
        "goal_mb": GOAL_MB,
        "time_ok": wall < GOAL_SECONDS,
        "memory_ok": peak < GOAL_MB,
        "passed": wall < GOAL_SECONDS and peak < GOAL_MB,
    }


def _size(value: int | None) -> str:
    if value is None:
        return "size unknown"
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:.1f} MB"


def format_report(result: dict[str, Any]) -> str:
    """The figures as a table for a terminal."""
    counts = result["counts"]
    lines = [
        f"triage bench score: {result['scale']} demo city, seed {result['seed']}, as of "
        f"{result['as_of']}",
        f"database: {result['database']} ({result['backend']}, {_size(result['database_bytes'])})",
        "city: "
        + ", ".join(
            f"{counts.get(k, 0):,} {k.replace('_', ' ')}"
            for k in ("problems", "indicators", "observations", "citizen_reports")
        )
        + f", {counts.get('report_daily_counts', 0):,} daily aggregate rows",
    ]
    if result["seeded"]:
        lines.append(
            f"seeding (not counted): {result['seed_seconds']}s, then history "
            f"{result['history_seconds']}s"
        )
    elif result["history_seconds"] is not None:
        lines.append(f"re-used the seeded city; history stored now in {result['history_seconds']}s")
    else:
        lines.append("re-used the seeded city (seeding not repeated)")
    lines.append(
        f"load average before: {result['load_average_before']} on {result['cpus']} CPUs; "
        "each stage ran in a fresh process"
    )
    lines.append("")
    header = f"{'stage':<22}{'wall s':>9}{'cpu s':>9}{'rows read':>12}{'statements':>12}"
    header += f"{'peak RSS MB':>13}"
    lines += [header, "-" * len(header)]
    for name, stage in result["stages"].items():
        lines.append(
            f"{name:<22}{stage['wall_seconds']:>9.2f}{stage['cpu_seconds']:>9.2f}"
            f"{stage['rows_read']:>12,}{stage['statements']:>12,}{stage['peak_rss_mb']:>13,.0f}"
        )
        for part, figures in stage["parts"].items():
            lines.append(
                f"  {part:<20}{figures['wall_seconds']:>9.2f}{figures['cpu_seconds']:>9.2f}"
            )
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<22}{result['total_wall_seconds']:>9.2f}{result['total_cpu_seconds']:>9.2f}"
        f"{'':>24}{result['peak_rss_mb']:>13,.0f}"
    )
    rank, detect = result["stages"]["rank"], result["stages"]["detect"]
    lines += [
        "",
        f"rank: {rank['problems_scored']} problems scored for {rank['week']}, "
        f"{rank['sensitivity_runs']} sensitivity draws, snapshot stored"
        + (f", compared with {rank['compared_with']}" if rank["compared_with"] else ""),
        f"detect: {detect['report_series']:,} report series and {detect['indicator_series']:,} "
        f"indicators; {detect['alerts_found']:,} alert rows, {detect['alerts_inserted']} "
        f"inserted, {detect['alerts_updated']} updated, {detect['alerts_resolved']} resolved",
        f"statements reading citizen_reports: {result['raw_report_statements']}",
        f"memory: {result['memory_measure']}",
        "",
        f"time   {result['total_wall_seconds']:.1f}s < {result['goal_seconds']:.0f}s: "
        + ("PASS" if result["time_ok"] else "FAIL"),
        f"memory {result['peak_rss_mb']:,.0f} MB < {result['goal_mb']:,.0f} MB: "
        + ("PASS" if result["memory_ok"] else "FAIL"),
    ]
    return "\n".join(lines)


def _seed_progress(stream: Any = sys.stderr) -> Callable[[str, float], None]:
    """The CLI's progress bar on a terminal; otherwise a line per tenth of each stage."""
    if stream.isatty():
        return progress_bar(stream)
    shown: dict[str, int] = {}
    started = time.monotonic()

    def report(stage: str, fraction: float) -> None:
        tenth = int(max(0.0, min(1.0, fraction)) * 10)
        if shown.get(stage, -1) < tenth:
            shown[stage] = tenth
            elapsed = time.monotonic() - started
            stream.write(f"bench score: {stage:<28} {tenth * 10:3d}%  {elapsed:7.1f}s\n")
            stream.flush()

    return report


def cmd_bench_score(args: argparse.Namespace) -> int:
    """``triage bench score``: prepare the city, time each stage, print the figures.

    Exit status 2 with the reason when it cannot run (as ``triage.cli.CommandError`` would
    give; returned here so that it holds under ``python -m triage.cli`` too).
    """

    def log(text: str) -> None:
        print(f"bench score: {text}", file=sys.stderr, flush=True)

    try:
        prepared = prepare(
            args.db,
            seed=args.seed,
            scale=args.scale,
            cache_dir=Path(args.cache_dir) if args.cache_dir else DEFAULT_INSTANCE_DIR,
            today=Settings.from_env().today(),
            reseed=args.reseed,
            log=log,
            progress=_seed_progress(),
        )
        log(f"measuring {', '.join(STAGES)} on {prepared.shown}, as of {prepared.today}")
        result = run_bench(prepared)
    except BenchError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return 2
    print(format_report(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``score`` to the ``bench`` sub-parsers (``commands`` is unused: no top-level command)."""
    del commands
    score = bench.add_parser(
        "score",
        help="full re-scoring plus detection on the large demo city (goal: < 30 s, < 4 GB)",
    )
    score.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="measure this database, seeding it when empty (default: a cached SQLite file)",
    )
    score.add_argument("--seed", type=int, default=7, help="demo city seed (default 7)")
    score.add_argument("--scale", choices=("small", "city", "large"), default="large")
    score.add_argument(
        "--cache-dir", help="folder of the cached bench-SCALE-SEED.sqlite3 (default: instance/)"
    )
    score.add_argument("--reseed", action="store_true", help="seed the city again first")
    score.add_argument("--json", action="store_true", help="the figures as JSON on the last line")
    score.set_defaults(func=cmd_bench_score)


if __name__ == "__main__":
    sys.exit(_stage_main(sys.argv[1:]))
