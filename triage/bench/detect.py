"""Benchmark of the early-warning detector against NSSP-ESSENCE (pynssp) on planted problems.

City-like daily count series with emerging problems planted in half of them (both detectors
see the same data), then every generator of :mod:`triage.bench.generators` on held-out seeds
and the real labelled 311 events of ``tests/data``, each scored and checked apart.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from triage.bench.generators import (
    DETECTION_DAYS,
    EVAL_START,
    GENERATORS,
    HELD_OUT_SEEDS,
    START,
    TUNING_SEEDS,
    Generated,
    generate,
)
from triage.bench.memory import peak_rss_mb, reset_peak_rss

ESSENCE_METHODS = ("alert_switch", "alert_ewma", "alert_regression")

DEFINITIONS = (
    "sensitivity = planted events with an alert on their series in [start, start+28 days); "
    "median delay = days from start to the first such alert (detected events); "
    "false-alarm rate = share of clean series-weeks (series without an event, or weeks before "
    "its start) with at least one alert day; precision = alerted series-weeks inside an event "
    "(its start to a week after its last excess day: 8 weeks for steps and ramps, 1-2 for "
    "spikes) / all alerted series-weeks. Scored from day 364 (week 53) on; weeks are 7-day "
    "blocks from the first day (Mondays). Real events: detected = an alert on the category in "
    "[onset, onset+28 days); false alarms = weeks of the labelled clean periods with an alert; "
    "precision = alerted event weeks (4 from each onset) / those plus alerted clean weeks. "
    "Generators: seeds 1-2 tuned on (train), the others held out; a target holds when it "
    "holds on every held-out seed (train and held_out give each figure's worst over seeds)."
)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


@dataclass
class Score:
    """The four headline figures for one detector on some series, and their counts."""

    sensitivity: float
    median_delay: float
    false_alarm_rate: float
    precision: float
    events: int
    detected: int
    clean_weeks: int
    false_weeks: int
    alerted_weeks: int
    true_weeks: int
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)
    # Alerted series-weeks outside any event, by where they fall: on series without an
    # event, before an event's start, and after its scored span (what precision loses).
    false_positive_weeks: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, object]:
        return {
            "sensitivity": _round(self.sensitivity),
            "median_delay_days": _round(self.median_delay),
            "false_alarm_rate": _round(self.false_alarm_rate, 5),
            "precision": _round(self.precision),
            "events": self.events,
            "detected": self.detected,
            "clean_series_weeks": self.clean_weeks,
            "false_alarm_weeks": self.false_weeks,
            "alerted_series_weeks": self.alerted_weeks,
            "true_alerted_weeks": self.true_weeks,
            "breakdown": self.breakdown,
            "false_positive_weeks": self.false_positive_weeks,
        }


def score(alerts: np.ndarray, gen: Generated, rows: np.ndarray | None = None) -> Score:
    """Score a (series, day) boolean alert matrix; ``rows`` = which series it covers.

    An alert counts as inside an event from the event's first day until a week after its
    last excess day (a 7-day window still holds a spike for six days after it). Weeks before
    a series begins are not scored.
    """
    rows = np.arange(len(gen.names)) if rows is None else np.asarray(rows)
    n, n_days = alerts.shape
    n_weeks = n_days // 7
    weekly = alerts[:, : n_weeks * 7].reshape(n, n_weeks, 7).any(axis=2)
    scored = np.zeros((n, n_weeks), dtype=bool)
    scored[:, EVAL_START // 7 :] = True
    if gen.begins is not None:
        begins = np.asarray(gen.begins)[rows]
        scored &= np.arange(n_weeks)[None, :] >= (begins[:, None] + 6) // 7
    position = {r: i for i, r in enumerate(rows)}
    events = gen.events[gen.events["row"].isin(rows)]
    clean = scored.copy()
    inside = np.zeros((n, n_weeks), dtype=bool)
    before = np.zeros((n, n_weeks), dtype=bool)
    has_event = np.zeros(n, dtype=bool)
    detected, delays, labels = [], [], []
    for ev in events.itertuples(index=False):
        i = position[ev.row]
        clean[i, ev.start // 7 :] = False
        before[i, : ev.start // 7] = True
        has_event[i] = True
        inside[i, ev.start // 7 : min((ev.end + 6) // 7 + 1, n_weeks)] = True
        hits = np.flatnonzero(alerts[i, ev.start : ev.start + DETECTION_DAYS])
        detected.append(len(hits) > 0)
        delays.append(float(hits[0]) if len(hits) else np.nan)
        labels.append(f"{ev.kind}, {'low' if ev.low_count else 'high'} count")
    alerted = weekly & scored
    outside = alerted & ~inside
    false_positive_weeks = {
        "clean_series": int(outside[~has_event].sum()),
        "before_event": int((outside & before)[has_event].sum()),
        "after_event": int((outside & ~before)[has_event].sum()),
    }
    detected_a, delays_a = np.array(detected, dtype=bool), np.array(delays)
    breakdown = {}
    for label in sorted(set(labels)):
        mask = np.array([lab == label for lab in labels])
        breakdown[label] = {
            "events": int(mask.sum()),
            "sensitivity": _round(detected_a[mask].mean()),
            "median_delay_days": _round(_nanmedian(delays_a[mask])),
        }
    return Score(
        sensitivity=float(detected_a.mean()) if len(detected_a) else float("nan"),
        median_delay=_nanmedian(delays_a),
        false_alarm_rate=float(weekly[clean].mean()) if clean.any() else float("nan"),
        precision=float((alerted & inside).sum() / alerted.sum()) if alerted.any() else 1.0,
        events=len(detected_a),
        detected=int(detected_a.sum()),
        clean_weeks=int(clean.sum()),
        false_weeks=int(weekly[clean].sum()),
        alerted_weeks=int(alerted.sum()),
        true_weeks=int((alerted & inside).sum()),
        breakdown=breakdown,
        false_positive_weeks=false_positive_weeks,
    )


def _nanmedian(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else float("nan")


def _round(value: float, digits: int = 3) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


# --------------------------------------------------------------------------------------------
# Running the detectors
# --------------------------------------------------------------------------------------------


@dataclass
class OursRun:
    qvalues: np.ndarray  # (series, day) BH-adjusted p-value of each alert, inf elsewhere
    seconds: float
    cpu_seconds: float  # all threads: what the run costs on an idle machine, give or take
    peak_traced_mb: float  # NaN unless traced (tracemalloc slows the detector ~2x)
    peak_rss_mb: float  # the process's peak resident memory while the detector ran
    alert_rows: int

    def alerts(self, fdr: float) -> np.ndarray:
        return self.qvalues <= fdr


def run_ours(
    gen: Generated,
    fdr: float,
    workers: int | None = None,
    *,
    trace_memory: bool = False,
    config: object | None = None,
) -> OursRun:
    """Run :func:`triage.detection.detect_surges` on every series, timed.

    The clock covers the detector alone (long-form frame in, alerts frame out). Memory is the
    process's peak resident set while it runs (Linux: the peak is reset just before), which
    includes the generated data; ``trace_memory`` adds tracemalloc's peak of the detector's
    own allocations, at the price of a much slower run (so it is off for timing). Alerts at
    any lower FDR level are the rows whose q-value is at or below it (BH q-values do not
    depend on the level), so one run serves every level up to ``fdr``.
    """
    from triage.detection import SurgeConfig, detect_surges

    frame = gen.long()
    if trace_memory:
        tracemalloc.start()
    reset_peak_rss()
    began, cpu = time.perf_counter(), time.process_time()
    cfg = replace(config, fdr=fdr) if isinstance(config, SurgeConfig) else SurgeConfig(fdr=fdr)
    # Report counts are daily (as the database passes them), whatever their dates look like.
    found = detect_surges(frame, cfg, workers=workers, daily=True)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak_rss = peak_rss_mb()
    traced = float("nan")
    if trace_memory:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    qvalues = np.full(gen.counts.shape, np.inf, dtype=np.float32)
    index = {name: i for i, name in enumerate(gen.names)}
    rows = np.array([index[s] for s in found["series"]], dtype=np.int64)
    start = np.datetime64(gen.start, "D")
    days = (found["date"].to_numpy().astype("datetime64[D]") - start).astype(np.int64)
    qvalues[rows, days] = found["q_value"].to_numpy()
    return OursRun(qvalues, seconds, cpu, traced, peak_rss, len(found))


_SHARED: dict[str, np.ndarray] = {}


def run_essence(
    gen: Generated, rows: np.ndarray, workers: int, progress: Callable[[int, int], None] | None
) -> dict[str, np.ndarray]:
    """pynssp's ESSENCE detectors on some series: per method, red and red-or-yellow matrices.

    ``alert_switch`` runs adaptive regression and EWMA inside it; to avoid computing them
    twice per series, its module's references to the two are pointed, for that call only, at
    the results already computed for the series (pynssp's own switch logic then runs as is).
    """
    _SHARED["counts"] = gen.counts
    _SHARED["start"] = np.array([np.datetime64(gen.start, "D")])
    chunks = [c for c in np.array_split(np.asarray(rows), max(len(rows) // 5, 1)) if len(c)]
    out = {
        f"{m}:{level}": np.zeros((len(rows), gen.counts.shape[1]), dtype=bool)
        for m in ESSENCE_METHODS
        for level in ("red", "red_or_yellow")
    }
    position = {r: i for i, r in enumerate(rows)}
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    done = 0
    with ProcessPoolExecutor(
        max_workers=max(workers, 1), mp_context=context, initializer=_quiet_worker
    ) as pool:
        for result in pool.map(_essence_chunk, chunks):
            for row, levels in result:
                for key, flags in levels.items():
                    out[key][position[row]] = flags
            done += 1
            if progress:
                progress(done, len(chunks))
    return out


def _quiet_worker() -> None:
    warnings.simplefilter("ignore")
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def _essence_chunk(rows: np.ndarray) -> list[tuple[int, dict[str, np.ndarray]]]:
    return [(int(row), _essence_series(_SHARED["counts"][row])) for row in rows]


def _essence_series(counts: np.ndarray) -> dict[str, np.ndarray]:
    import pynssp
    import pynssp.detectors.switch as switch

    frame = pd.DataFrame(
        {"date": pd.date_range(START, periods=len(counts), freq="D"), "count": counts}
    )
    ewma = pynssp.alert_ewma(frame.copy())
    regression = pynssp.alert_regression(frame.copy())
    saved = switch.alert_regression, switch.alert_ewma
    switch.alert_regression = lambda *a, **k: regression.copy()
    switch.alert_ewma = lambda *a, **k: ewma.copy()
    try:
        combined = pynssp.alert_switch(frame.copy())
    finally:
        switch.alert_regression, switch.alert_ewma = saved
    out = {}
    for name, table in (
        ("alert_switch", combined),
        ("alert_ewma", ewma),
        ("alert_regression", regression),
    ):
        levels = table.sort_values("date")["alert"].to_numpy()
        if len(levels) != len(counts):
            raise RuntimeError(f"pynssp {name} returned {len(levels)} rows for {len(counts)} days")
        out[f"{name}:red"] = levels == "red"
        out[f"{name}:red_or_yellow"] = np.isin(levels, ("red", "yellow"))
    return out


def check_switch_shortcut(counts: np.ndarray) -> bool:
    """True when the shortcut in :func:`run_essence` matches a plain ``alert_switch`` call."""
    import pynssp

    frame = pd.DataFrame(
        {"date": pd.date_range(START, periods=len(counts), freq="D"), "count": counts}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = pynssp.alert_switch(frame.copy()).sort_values("date")["alert"].to_numpy()
        fast = _essence_series(counts)
    return bool(np.array_equal(plain == "red", fast["alert_switch:red"]))


# --------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------


@dataclass
class Options:
    series: int = 10_000
    years: float = 3.0
    seed: int = 7
    fdr: float = field(default_factory=lambda: _default_fdr())  # the detector's own default
    fdr_levels: tuple[float, ...] = (0.05, 0.1, 0.2)
    skip_pynssp: bool = False
    pynssp_series: int = 200
    workers: int = 2
    cache: str | None = None  # folder keeping pynssp's alerts between runs (they are slow)
    generator_series: int | None = None  # per generator and seed (default: series // 4)
    seeds: tuple[int, ...] = HELD_OUT_SEEDS  # the generators' seeds (held out from tuning)
    generators: tuple[str, ...] | None = None  # names (default: all)
    real_data: str | None = None  # folder of the real labelled series (default: tests/data)
    # The generators also run on these seeds, reported as "train" beside the held-out ones
    # (only the held-out seeds decide whether a target is met).
    tuning_seeds: tuple[int, ...] = TUNING_SEEDS
    quick: bool = False  # a small run for tests (see quick_options)


def quick_options(options: Options | None = None) -> Options:
    """A run of a few seconds with the same shape of result, for tests.

    300 reference series, 80 per generator on one tuning and one held-out seed, no pynssp;
    the real labelled events run in full (they are small). Figures on so few series are
    noisy: a quick run checks the plumbing, not the targets.
    """
    base = options or Options()
    return replace(
        base,
        series=300,
        years=3.0,
        skip_pynssp=True,
        pynssp_series=0,
        generator_series=80,
        seeds=HELD_OUT_SEEDS[:1],
        tuning_seeds=TUNING_SEEDS[:1],
        quick=True,
    )


def _default_fdr() -> float:
    from triage.detection import SurgeConfig

    return SurgeConfig().fdr


def run(options: Options, log: Callable[[str], None] = lambda _: None) -> dict[str, object]:
    """Generate, run both detectors, score; the result is JSON-ready."""
    started = began = time.perf_counter()
    gen = generate(options.series, options.years, options.seed)
    log(
        f"generated {options.series:,} series x {gen.counts.shape[1]:,} days "
        f"({len(gen.events):,} planted events) in {time.perf_counter() - began:.1f}s"
    )
    levels = tuple(sorted({*options.fdr_levels, options.fdr}))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    ours = run_ours(gen, max(levels), options.workers)
    log(
        f"triage detector: {ours.seconds:.1f}s, {ours.alert_rows:,} alert rows at FDR {max(levels)}"
    )
    result: dict[str, object] = {
        "benchmark": "detect",
        "series": options.series,
        "days": int(gen.counts.shape[1]),
        "seed": options.seed,
        "events": len(gen.events),
        "fdr": options.fdr,
        "detector_seconds": round(ours.seconds, 2),
        "detector_cpu_seconds": round(ours.cpu_seconds, 2),
        "load_average_before": round(load, 2),
        "detector_peak_rss_mb": round(ours.peak_rss_mb, 1),
        "detector_peak_traced_mb": _round(ours.peak_traced_mb, 1),
        "process_max_rss_mb": None,
        "workers": options.workers,
        "ours": score(ours.alerts(options.fdr), gen).figures(),
        "ours_by_fdr": {str(q): score(ours.alerts(q), gen).figures() for q in levels},
        "pynssp_series": 0,
        "ours_on_pynssp_series": None,
        "essence": None,
        "essence_alert_level": "red (p < 0.01); red or yellow (p < 0.05) also shown",
        "definitions": DEFINITIONS,
    }
    if not options.skip_pynssp and options.pynssp_series > 0:
        rng = np.random.default_rng(options.seed + 1)
        count = min(options.pynssp_series, options.series)
        rows = np.sort(rng.choice(options.series, size=count, replace=False))
        began = time.perf_counter()
        cached = _cache_path(options, count)
        from_cache = cached is not None and cached.exists()
        if cached is not None and from_cache:
            with np.load(cached) as stored:
                flags = {key: stored[key] for key in stored.files if key != "identical"}
                identical = bool(stored["identical"])
            log(f"pynssp: alerts read from {cached}")
        else:
            identical = check_switch_shortcut(gen.counts[rows[0]])
            flags = run_essence(
                gen,
                rows,
                options.workers,
                lambda done, total: (
                    log(f"pynssp: {done}/{total} chunks")
                    if done % max(total // 10, 1) == 0
                    else None
                ),
            )
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(cached, identical=identical, **flags)
        result["pynssp_seconds"] = round(time.perf_counter() - began, 1)
        result["pynssp_cached"] = from_cache
        result["pynssp_switch_shortcut_identical"] = identical
        result["pynssp_series"] = count
        result["ours_on_pynssp_series"] = score(ours.alerts(options.fdr)[rows], gen, rows).figures()
        result["essence"] = {key: score(value, gen, rows).figures() for key, value in flags.items()}
    result["generators"] = run_generators(options, log)
    result["generator_seeds"] = {
        "tuned_on": list(TUNING_SEEDS),
        "train": list(options.tuning_seeds),
        "held_out": list(options.seeds),
    }
    result["real_events"] = run_real(options, log)
    result["targets"] = dict(TARGETS)
    result["aims"] = dict(AIMS)
    result["quick"] = options.quick
    result["pass"] = all(g["pass"] for g in result["generators"].values()) and bool(
        result["real_events"].get("pass", True)
    )
    result["summary"] = summary(result)
    result["process_max_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    return result


TARGETS: dict[str, float] = {
    "sensitivity_min": 0.9,
    "median_delay_days_max": 7.0,
    "false_alarm_rate_max": 0.01,
    "precision_min": 0.8,
}
AIMS: dict[str, float] = {"false_alarm_rate_max": 0.005, "precision_min": 0.9}


def check(figures: dict[str, object], targets: dict[str, float] = TARGETS) -> dict[str, bool]:
    """Pass or fail per target for one set of figures (a missing figure fails)."""

    def at_least(key: str, bound: float) -> bool:
        value = figures.get(key)
        return value is not None and float(value) >= bound  # type: ignore[arg-type]

    def at_most(key: str, bound: float) -> bool:
        value = figures.get(key)
        return value is not None and float(value) <= bound  # type: ignore[arg-type]

    out = {}
    if "sensitivity_min" in targets:
        out["sensitivity"] = at_least("sensitivity", targets["sensitivity_min"])
    if "median_delay_days_max" in targets:
        out["median_delay"] = at_most("median_delay_days", targets["median_delay_days_max"])
    if "false_alarm_rate_max" in targets:
        out["false_alarms"] = at_most("false_alarm_rate", targets["false_alarm_rate_max"])
    if "precision_min" in targets:
        out["precision"] = at_least("precision", targets["precision_min"])
    return out


def run_generators(
    options: Options, log: Callable[[str], None] = lambda _: None
) -> dict[str, dict[str, object]]:
    """Every generator of :mod:`triage.bench.generators` on each seed, scored apart.

    Each (generator, seed) is one run of the detector over its series together (as one
    city's), at the default FDR. The tuning seeds are reported as ``train``, the others as
    ``held_out``; only held-out seeds decide ``pass``. Out: per generator, ``description``,
    ``series`` (per seed), ``seeds`` (figures, ``role`` and ``checks`` per seed), ``train``
    and ``held_out`` (the worst figure of each over that role's seeds, with ``checks``) and
    ``pass`` (every target on every held-out seed).
    """
    n = options.generator_series or max(options.series // 4, 40)
    wanted = options.generators
    out: dict[str, dict[str, object]] = {}
    roles = {seed: "train" for seed in options.tuning_seeds}
    roles.update({seed: "held_out" for seed in options.seeds})
    for spec in GENERATORS:
        if wanted is not None and spec.name not in wanted:
            continue
        per_seed: dict[str, object] = {}
        passed = True
        for seed, role in roles.items():
            began = time.perf_counter()
            gen = spec.make(n, options.years, seed)
            ours = run_ours(gen, options.fdr, options.workers)
            figures = score(ours.alerts(options.fdr), gen).figures()
            checks = check(figures)
            figures["checks"] = checks
            figures["role"] = role
            figures["detector_seconds"] = round(ours.seconds, 2)
            per_seed[str(seed)] = figures
            if role == "held_out":
                passed &= all(checks.values())
            log(
                f"{spec.name} seed {seed} ({role}): {len(gen.names):,} series, "
                f"{len(gen.events):,} events, {time.perf_counter() - began:.1f}s"
            )
        entry: dict[str, object] = {"description": spec.description, "series": n}
        for role in ("train", "held_out"):
            chosen = [f for f in per_seed.values() if f["role"] == role]  # type: ignore[index]
            if chosen:
                entry[role] = worst(chosen)  # type: ignore[arg-type]
        entry["seeds"] = per_seed
        entry["pass"] = passed
        out[spec.name] = entry
    return out


HEADLINE = ("sensitivity", "median_delay_days", "false_alarm_rate", "precision")


def worst(figures: list[dict[str, object]]) -> dict[str, object]:
    """The worst of each headline figure over some runs (every run must meet a target).

    Out: ``sensitivity`` and ``precision`` (lowest), ``median_delay_days`` and
    ``false_alarm_rate`` (highest), ``seeds`` (how many runs) and ``checks``.
    """

    def pick(key: str, fn: Callable[[list[float]], float]) -> float | None:
        values = [float(f[key]) for f in figures if f.get(key) is not None]  # type: ignore[arg-type]
        return fn(values) if values else None

    out: dict[str, object] = {
        "sensitivity": pick("sensitivity", min),
        "median_delay_days": pick("median_delay_days", max),
        "false_alarm_rate": pick("false_alarm_rate", max),
        "precision": pick("precision", min),
        "seeds": len(figures),
    }
    out["checks"] = check(out)
    return out


def summary(result: dict[str, object]) -> dict[str, object]:
    """The headline figures only: per generator (train and held out) and per real event set.

    Out: ``generators`` (name -> ``train``/``held_out`` -> the four figures and ``pass``),
    ``real_event_sets`` (source -> the figures and ``pass``; precision over labelled weeks),
    ``reference`` (the main run at the default FDR) and ``pass``.
    """

    def short(figures: dict[str, object]) -> dict[str, object]:
        out = {key: figures.get(key) for key in HEADLINE}
        checks = figures.get("checks") or {}
        out["pass"] = bool(checks) and all(checks.values())  # type: ignore[union-attr]
        return out

    generators = {
        name: {role: short(entry[role]) for role in ("train", "held_out") if role in entry}
        for name, entry in (result.get("generators") or {}).items()  # type: ignore[union-attr]
    }
    real = result.get("real_events") or {}
    sets = {
        name: short(figures)
        for name, figures in (real.get("sets") or {}).items()  # type: ignore[union-attr]
    }
    ours = dict(result["ours"])  # type: ignore[call-overload]
    ours["checks"] = check(ours)
    return {
        "reference": short(ours),
        "generators": generators,
        "real_event_sets": sets,
        "pass": bool(result.get("pass")),
    }


def default_real_data() -> Path:
    """The repository's ``tests/data`` (real labelled 311 series; see its README)."""
    return Path(__file__).resolve().parents[2] / "tests" / "data"


def run_real(options: Options, log: Callable[[str], None] = lambda _: None) -> dict[str, object]:
    """The detector on real 311 series with labelled events and clean periods.

    Reads ``real311_daily_counts.csv`` (source, category, date, count), ``real311_events.csv``
    (source, category, onset, label) and ``real311_clean_periods.csv`` (source, category,
    start, end). Each source runs as one city (its categories together, absent days zero).
    Out: ``events`` (per event: detected within 28 days, delay in days, first alert),
    ``clean`` (per period: weeks, weeks with an alert), the summary figures and ``checks``.
    """
    folder = Path(options.real_data) if options.real_data else default_real_data()
    counts_path = folder / "real311_daily_counts.csv"
    if not counts_path.exists():
        return {"available": False, "pass": True}
    from triage.detection import SurgeConfig, detect_surges

    counts = pd.read_csv(counts_path, parse_dates=["date"])
    labelled = pd.read_csv(folder / "real311_events.csv", parse_dates=["onset"])
    periods = pd.read_csv(folder / "real311_clean_periods.csv", parse_dates=["start", "end"])
    alerts = []
    for source, part in counts.groupby("source", sort=True):
        frame = pd.DataFrame(
            {"series": part["category"], "date": part["date"], "value": part["count"]}
        )
        found = detect_surges(
            frame, SurgeConfig(fdr=options.fdr), workers=options.workers, daily=True
        )
        alerts.append(found.assign(source=source))
        log(f"real series {source}: {part['category'].nunique()} categories")
    found = pd.concat(alerts, ignore_index=True)
    found["date"] = pd.to_datetime(found["date"])
    events = []
    for ev in labelled.itertuples(index=False):
        mine = found[(found["source"] == ev.source) & (found["series"] == ev.category)]
        window = mine[
            (mine["date"] >= ev.onset)
            & (mine["date"] < ev.onset + pd.Timedelta(days=DETECTION_DAYS))
        ]
        first = window["date"].min() if len(window) else None
        events.append(
            {
                "alerted_weeks": int(
                    ((window["date"] - ev.onset).dt.days // 7).nunique() if len(window) else 0
                ),
                "source": ev.source,
                "category": ev.category,
                "onset": ev.onset.date().isoformat(),
                "label": ev.label,
                "detected": first is not None,
                "delay_days": None if first is None else int((first - ev.onset).days),
                "first_alert": None if first is None else first.date().isoformat(),
            }
        )
    clean = []
    for period in periods.itertuples(index=False):
        mine = found[
            (found["source"] == period.source)
            & (found["series"] == period.category)
            & (found["date"] >= period.start)
            & (found["date"] <= period.end)
        ]
        weeks = ((period.end - period.start).days + 1) // 7
        week_of = (mine["date"] - period.start).dt.days // 7
        alerted = int(week_of[week_of < weeks].nunique())
        clean.append(
            {
                "source": period.source,
                "category": period.category,
                "start": period.start.date().isoformat(),
                "end": period.end.date().isoformat(),
                "weeks": weeks,
                "alerted_weeks": alerted,
            }
        )
    summary: dict[str, object] = {"available": True, "events": events, "clean": clean}
    summary.update(_real_figures(events, clean))
    # Pooled over the sets, labelled-week precision mixes one set's events with another's
    # clean weeks: shown, but each set is judged on its own (below) and the pool without it.
    pooled = {k: v for k, v in TARGETS.items() if k != "precision_min"}
    summary["checks"] = check(summary, pooled)
    summary["pass"] = all(summary["checks"].values())  # type: ignore[union-attr]
    sources = sorted({e["source"] for e in events} | {c["source"] for c in clean})
    sets = {
        source: _real_figures(
            [e for e in events if e["source"] == source],
            [c for c in clean if c["source"] == source],
        )
        for source in sources
    }
    summary["sets"] = sets
    summary["pass"] = bool(summary["pass"]) and all(s["pass"] for s in sets.values())
    return summary


def _real_figures(events: list[dict[str, object]], clean: list[dict[str, object]]) -> dict:
    """Sensitivity, median delay, false alarms and labelled-week precision of some real data.

    Precision counts only labelled weeks (nothing is known of the others): alerted event
    weeks (the four weeks from each onset) over those plus the alerted clean-period weeks.
    A set with no events (only a clean period) is checked on false alarms alone, one with no
    clean period on sensitivity and delay alone.
    """
    detected = [e for e in events if e["detected"]]
    delays = np.array([e["delay_days"] for e in detected], dtype=float)
    clean_weeks = sum(int(c["weeks"]) for c in clean)  # type: ignore[call-overload]
    false_weeks = sum(int(c["alerted_weeks"]) for c in clean)  # type: ignore[call-overload]
    true_weeks = sum(int(e["alerted_weeks"]) for e in events)  # type: ignore[call-overload]
    alerted = true_weeks + false_weeks
    out: dict[str, object] = {
        "labelled_events": len(events),
        "detected": len(detected),
        "sensitivity": _round(len(detected) / len(events)) if events else None,
        "median_delay_days": _round(_nanmedian(delays)),
        "false_alarm_rate": _round(false_weeks / clean_weeks, 5) if clean_weeks else None,
        "precision": _round(true_weeks / alerted) if alerted and events else None,
        "clean_series_weeks": clean_weeks,
        "false_alarm_weeks": false_weeks,
        "alerted_event_weeks": true_weeks,
    }
    targets = dict(TARGETS)
    if not events:
        targets = {k: v for k, v in targets.items() if k == "false_alarm_rate_max"}
    elif not clean:
        targets = {
            k: v for k, v in targets.items() if k in ("sensitivity_min", "median_delay_days_max")
        }
    checks = check(out, targets)
    out["checks"] = checks
    out["pass"] = all(checks.values())
    return out


def _cache_path(options: Options, count: int) -> Path | None:
    if not options.cache:
        return None
    import pynssp

    name = (
        f"pynssp-{pynssp.__version__}-seed{options.seed}-n{options.series}-y{options.years:g}"
        f"-sub{count}.npz"
    )
    return Path(options.cache) / name


def table(result: dict[str, object]) -> str:
    """The readable side-by-side table printed by ``triage bench detect``."""
    lines = []
    head = (
        f"{'detector':<40} {'series':>7} {'sensitivity':>11} {'median delay':>13} "
        f"{'false alarms':>13} {'precision':>9}"
    )
    rule = "-" * len(head)

    def line(name: str, n: int, fig: dict[str, object]) -> str:
        return (
            f"{name:<40} {n:>7,} {_fmt(fig['sensitivity'], '.3f'):>11} "
            f"{_fmt(fig['median_delay_days'], '.1f') + ' d':>13} "
            f"{_fmt(fig['false_alarm_rate'], '.2%'):>13} {_fmt(fig['precision'], '.3f'):>9}"
        )

    lines += [head, rule]
    fdr = float(result["fdr"])
    for level, figures in result["ours_by_fdr"].items():
        mark = " (default)" if float(level) == fdr else ""
        name = f"triage, BH FDR {float(level):.0%}{mark}"
        lines.append(line(name, int(result["series"]), figures))
    essence = result.get("essence")
    if essence:
        n = int(result["pynssp_series"])
        name = f"triage, FDR {fdr:.0%}, pynssp's subsample"
        lines.append(line(name, n, result["ours_on_pynssp_series"]))
        for method in ESSENCE_METHODS:
            lines.append(line(f"pynssp {method} (red)", n, essence[f"{method}:red"]))
        lines.append(
            line("pynssp alert_switch (red or yellow)", n, essence["alert_switch:red_or_yellow"])
        )
    lines.append(rule)
    lines.append(
        "goal: sensitivity >= 0.9, median delay <= 7 d, false alarms <= 1%, precision >= 0.8"
    )
    lines.append(
        f"triage detector time: {result['detector_seconds']}s wall, "
        f"{result['detector_cpu_seconds']}s CPU, for {result['series']:,} series x "
        f"{result['days']:,} days on {result['workers']} worker thread(s) (machine load average "
        f"{result['load_average_before']} before it); peak resident memory while it ran "
        f"{result['detector_peak_rss_mb']} MB (process max {result['process_max_rss_mb']} MB)"
    )
    if essence:
        lines.append(
            f"pynssp ran on a random subsample of {result['pynssp_series']} series "
            + (
                "(alerts read from the --cache)"
                if result.get("pynssp_cached")
                else f"({result['pynssp_seconds']}s)"
            )
            + "; ESSENCE alert = red (p < 0.01), as pynssp colours it"
        )
    generators = result.get("generators") or {}
    if generators:
        seeds = result.get("generator_seeds") or {}
        lines.append(
            f"Per generator (FDR {fdr:.0%}), tuning seeds "
            + ", ".join(str(s) for s in seeds.get("train", []))
            + " (train: shown, not judged) and held-out seeds "
            + ", ".join(str(s) for s in seeds.get("held_out", []))
            + ":"
        )
        lines += [head.replace("detector", "generator, seed  "), rule]
        for name, entry in generators.items():
            for seed, fig in entry["seeds"].items():
                failed = [k for k, ok in fig["checks"].items() if not ok]
                mark = "pass" if not failed else "FAIL " + ",".join(failed)
                if fig.get("role") == "train":
                    mark = "(train) " + mark
                lines.append(line(f"{name}, {seed}", int(entry["series"]), fig) + f"  {mark}")
                fp = fig.get("false_positive_weeks") or {}
                if fp:
                    lines.append(
                        f"    false-positive weeks: {fp['clean_series']} on clean series, "
                        f"{fp['before_event']} before an event, {fp['after_event']} after one"
                    )
        lines.append(rule)
    real = result.get("real_events") or {}
    if real.get("available"):
        lines.append("Real labelled events (tests/data/README.md):")
        for ev in real["events"]:
            when = (
                f"detected after {ev['delay_days']} d ({ev['first_alert']})"
                if ev["detected"]
                else "not detected within 28 days"
            )
            lines.append(f"  {ev['onset']} {ev['category']}: {ev['label']}: {when}")
        for period in real["clean"]:
            lines.append(
                f"  clean {period['start']}..{period['end']} {period['category']}: "
                f"{period['alerted_weeks']} of {period['weeks']} weeks alerted"
            )
        for name, fig in [*real.get("sets", {}).items(), ("all real sets", real)]:
            failed = [k for k, ok in fig["checks"].items() if not ok]
            lines.append(
                f"  {name}: {fig['labelled_events']} events, sensitivity "
                f"{_fmt(fig['sensitivity'], '.3f')}, median delay "
                f"{_fmt(fig['median_delay_days'], '.1f')} d, false alarms "
                f"{_fmt(fig['false_alarm_rate'], '.2%')} of {fig['clean_series_weeks']} clean "
                f"weeks, precision on labelled weeks {_fmt(fig['precision'], '.3f')}: "
                + ("pass" if not failed else "FAIL " + ",".join(failed))
            )
    if "pass" in result:
        lines.append(f"All targets on every generator, seed and real set: {result['pass']}")
    lines.append(f"Breakdown for triage at FDR {fdr:.0%} (sensitivity / median delay):")
    for label, fig in result["ours"]["breakdown"].items():
        lines.append(
            f"  {label:<24} {fig['events']:>6} events  {_fmt(fig['sensitivity'], '.3f')} / "
            f"{_fmt(fig['median_delay_days'], '.1f')} d"
        )
    lines.append("Definitions: " + str(result["definitions"]))
    return "\n".join(lines)


def _fmt(value: object, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)
