"""``triage detect`` (surges in a CSV of count series) and ``triage bench detect``."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import pandas as pd

from triage.cli.common import COMMAND_HELP, CommandError
from triage.detection import SurgeConfig, detect_surges, infer_periods, surge_method

REQUIRED_COLUMNS = ("series", "date", "value")
OUTPUT_COLUMNS = (
    "series",
    "date",
    "method",
    "severity",
    "expected",
    "observed",
    "lower",
    "upper",
    "window_days",
    "p_value",
    "q_value",
    "message",
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SHOWN_PROBLEMS = 20


def register(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add ``detect`` to ``commands`` and the ``detect`` benchmark to ``bench``."""
    detect = commands.add_parser(
        "detect",
        help=COMMAND_HELP["detect"],
        description=(
            "Read count series (columns series,date,value; daily or weekly; ISO dates) and write "
            "one row per alerted series and date. Rows that cannot be used are reported on "
            "stderr and left out; the other rows are still processed. Missing days: a series "
            "starts at its first non-zero count (zeros or absent days before it are not "
            "history); from there to the file's last date, a day (or week) with no row counts "
            "as zero, as 311 exports list only days with reports; a row whose value cannot be "
            "read, or a date given twice, makes that day unknown and the detector leaves it "
            "out instead of reading it as zero. Series whose rows are more than a week apart "
            "on average are flagged on stderr (daily or weekly input?)."
        ),
    )
    detect.add_argument("--input", required=True, metavar="CSV", help="input file ('-' = stdin)")
    detect.add_argument(
        "--output", required=True, metavar="CSV", help="alerts file to write ('-' = stdout)"
    )
    detect.add_argument(
        "--fdr",
        type=_fraction,
        default=None,
        help=f"false discovery rate per date (default {_default_fdr():g})",
    )
    detect.add_argument("--from", dest="start", type=_iso_date, help="first date to report")
    detect.add_argument("--to", dest="end", type=_iso_date, help="last date to report")
    detect.add_argument(
        "--strict", action="store_true", help="fail (exit 2) if any input row is rejected"
    )
    detect.add_argument(
        "--workers", type=int, default=None, help="threads (default: cores, at most 4)"
    )
    detect.add_argument(
        "--unit",
        default="",
        metavar="NOUN",
        help="what the values count, as a plural noun for the messages (e.g. reports, calls)",
    )
    detect.set_defaults(func=cmd_detect)

    run = bench.add_parser(
        "detect",
        help="early-warning detector vs NSSP-ESSENCE (pynssp) on planted problems",
        description=(
            "Generate city-like count series with planted emerging problems, run the triage "
            "detector on all of them and pynssp's alert_switch, alert_ewma and alert_regression "
            "on a subsample, and print sensitivity, median delay, false-alarm rate and precision."
        ),
    )
    run.add_argument("--series", type=_positive, default=10_000, help="series (default 10000)")
    run.add_argument("--years", type=float, default=3.0, help="years of daily data (default 3)")
    run.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    run.add_argument(
        "--fdr",
        type=_fraction,
        default=None,
        help=f"FDR level of the headline figures (default: the detector's, {_default_fdr():g})",
    )
    run.add_argument("--skip-pynssp", action="store_true", help="run only the triage detector")
    run.add_argument(
        "--pynssp-series",
        type=int,
        default=200,
        help="series in the pynssp subsample (default 200; pynssp takes ~3 s per series)",
    )
    run.add_argument("--workers", type=_positive, default=2, help="threads/processes (default 2)")
    run.add_argument(
        "--cache", metavar="DIR", help="keep pynssp's alerts here and reuse them on later runs"
    )
    run.add_argument("--json", action="store_true", help="print the figures as JSON, last line")
    run.add_argument(
        "--quick",
        action="store_true",
        help="a run of seconds for tests: few series, one seed per role, no pynssp",
    )
    run.set_defaults(func=cmd_bench_detect)


# --------------------------------------------------------------------------------------------
# triage detect
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedSeries:
    """Usable rows (``series, date, value``; value NaN where the row was unusable) and problems.

    ``rejected`` has ``line, series, column, reason`` (line numbers count the header as 1).
    """

    frame: pd.DataFrame
    rejected: pd.DataFrame
    ignored_columns: tuple[str, ...]


def parse_series_csv(source: str | TextIO, name: str = "input") -> ParsedSeries:
    """Read and check a ``series,date,value`` CSV; raises ``CommandError`` if it is unusable.

    A row with a bad value, or one of several rows for the same series and date, makes that
    series-date unknown (NaN): the detector then leaves it out rather than read it as zero.
    A row with a bad date or no series name cannot be placed and is dropped.
    """
    try:
        raw = pd.read_csv(
            io.StringIO(source) if isinstance(source, str) else source,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise CommandError(
            f"{name} is empty: expected a header line 'series,date,value' and data rows."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{name} is not a readable CSV file: {_first_line(exc)}") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        found = ", ".join(raw.columns) or "none"
        raise CommandError(
            f"{name} lacks the column(s) {', '.join(missing)} (found: {found}); "
            "the header must name series, date and value."
        )
    if raw.empty:
        raise CommandError(f"{name} has a header but no data rows.")
    problems: list[tuple[int, str, str, str]] = []
    lines = pd.Series(range(2, len(raw) + 2), index=raw.index)
    series = raw["series"].str.strip()
    dates_text = raw["date"].str.strip()
    values_text = raw["value"].str.strip()
    no_name = series == ""
    for i in raw.index[no_name]:
        problems.append((int(lines[i]), "", "series", "the series name is empty"))
    shaped = dates_text.str.match(ISO_DATE)
    dates = pd.to_datetime(dates_text.where(shaped), format="%Y-%m-%d", errors="coerce")
    bad_date = dates.isna() & ~no_name
    for i in raw.index[bad_date]:
        problems.append(
            (
                int(lines[i]),
                series[i],
                "date",
                f"date {dates_text[i]!r} is not an ISO date (YYYY-MM-DD)",
            )
        )
    values = pd.to_numeric(values_text, errors="coerce")
    placed = ~no_name & ~bad_date
    for i in raw.index[placed & values.isna()]:
        text = values_text[i]
        reason = "the value is missing" if text == "" else f"value {text!r} is not a number"
        problems.append((int(lines[i]), series[i], "value", reason))
    infinite = placed & values.notna() & ~values.apply(lambda v: math.isfinite(v))
    for i in raw.index[infinite]:
        problems.append((int(lines[i]), series[i], "value", "the value is not finite"))
    negative = placed & values.notna() & (values < 0) & ~infinite
    for i in raw.index[negative]:
        problems.append(
            (int(lines[i]), series[i], "value", f"value {values_text[i]} is negative (counts >= 0)")
        )
    frame = pd.DataFrame(
        {
            "series": series[placed],
            "date": dates[placed],
            "value": values[placed].where(~(negative | infinite)[placed]),
        }
    )
    duplicated = frame.duplicated(["series", "date"], keep=False)
    if duplicated.any():
        first_line = (
            lines[frame.index][duplicated]
            .groupby([frame["series"], frame["date"]])
            .transform("min")
        )
        for i in frame.index[duplicated]:
            day = frame.at[i, "date"].date().isoformat()
            problems.append(
                (
                    int(lines[i]),
                    frame.at[i, "series"],
                    "date",
                    f"more than one row for this series on {day} (first on line "
                    f"{int(first_line[i])}); the day is left out",
                )
            )
        frame = frame.drop_duplicates(["series", "date"], keep="first")
        frame.loc[duplicated[frame.index].to_numpy(), "value"] = math.nan
    rejected = pd.DataFrame(problems, columns=["line", "series", "column", "reason"])
    rejected = rejected.sort_values("line", kind="stable", ignore_index=True)
    if frame["value"].notna().sum() == 0:
        raise CommandError(
            f"{name} has no usable rows ({len(rejected)} rejected): "
            + "; ".join(_describe(rejected.head(3)))
        )
    extra = tuple(c for c in raw.columns if c not in REQUIRED_COLUMNS)
    return ParsedSeries(frame.reset_index(drop=True), rejected, extra)


def cmd_detect(args: argparse.Namespace) -> int:
    parsed = _read(args.input)
    if args.strict and len(parsed.rejected):
        _report_rejected(parsed.rejected, sys.stderr)
        raise CommandError(f"{len(parsed.rejected)} row(s) rejected and --strict is set.")
    frame = parsed.frame
    if parsed.ignored_columns:
        _note(f"ignored column(s): {', '.join(parsed.ignored_columns)}")
    config = SurgeConfig() if args.fdr is None else SurgeConfig(fdr=args.fdr)
    periods = infer_periods(frame)
    _warn_sparse(frame, periods)
    short = _too_short(frame, config)
    try:
        unit = args.unit.strip()
        units = dict.fromkeys(frame["series"].unique(), unit) if unit else None
        alerts = detect_surges(
            frame, config, start=args.start, end=args.end, workers=args.workers, units=units
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    _write(alerts, args.output)
    n_series = frame["series"].nunique()
    weekly = int((periods == 7).sum())
    _note(
        f"read {len(frame):,} usable rows for {n_series:,} series "
        f"({n_series - weekly:,} daily, {weekly:,} weekly)"
        + (f"; rejected {len(parsed.rejected):,} row(s)" if len(parsed.rejected) else "")
    )
    if len(parsed.rejected):
        _report_rejected(parsed.rejected, sys.stderr)
    if short:
        shown = ", ".join(short[:5]) + (f" and {len(short) - 5} more" if len(short) > 5 else "")
        _note(
            f"{len(short)} series too short to test yet (a series needs "
            f"{min_history_days(config)} days of history before it can alert): {shown}"
        )
    destination = "stdout" if args.output == "-" else args.output
    _note(
        f"wrote {len(alerts):,} alert row(s) on {alerts['series'].nunique():,} series to "
        f"{destination}. Method: {surge_method(config)}"
    )
    return 0


def _default_fdr() -> float:
    return SurgeConfig().fdr


def min_history_days(config: SurgeConfig) -> int:
    """Days of history a series needs before its first test (baseline, window, calibration)."""
    return config.baseline_days + max(config.windows_days) + config.min_calibration_days


def _read(path: str) -> ParsedSeries:
    if path == "-":
        return parse_series_csv(sys.stdin, "stdin")
    file = Path(path)
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            return parse_series_csv(handle, str(file))
    except FileNotFoundError:
        raise CommandError(f"cannot read {file}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"cannot read {file}: it is a directory") from None
    except PermissionError:
        raise CommandError(f"cannot read {file}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"cannot read {file}: not UTF-8 text ({exc.reason})") from None


def _write(alerts: pd.DataFrame, path: str) -> None:
    out = alerts.reindex(columns=list(OUTPUT_COLUMNS)).copy()
    out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for column in ("expected", "lower", "upper"):
        out[column] = out[column].round(2)
    text = out.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _too_short(frame: pd.DataFrame, config: SurgeConfig) -> list[str]:
    span = frame.groupby("series")["date"].agg(["min"])
    last = frame["date"].max()
    need = pd.Timedelta(days=min_history_days(config))
    return sorted(str(s) for s in span.index[(last - span["min"]) < need])


def _warn_sparse(frame: pd.DataFrame, periods: pd.Series) -> None:
    daily = periods[periods == 1].index
    gaps = (
        frame[frame["series"].isin(daily)]
        .sort_values("date")
        .groupby("series")["date"]
        .diff()
        .dt.days.groupby(frame["series"])
        .median()
    )
    sparse = sorted(str(s) for s in gaps.index[gaps > 7])
    if sparse:
        shown = ", ".join(sparse[:5]) + (f" and {len(sparse) - 5} more" if len(sparse) > 5 else "")
        _note(
            f"{len(sparse)} series have rows more than a week apart on average and are read as "
            f"sparse daily counts (absent days = 0); is the input daily or weekly? {shown}"
        )


def _report_rejected(rejected: pd.DataFrame, stream: TextIO) -> None:
    counts = rejected.groupby("column").size()
    summary = ", ".join(f"{n} in column {c}" for c, n in counts.items())
    stream.write(f"triage detect: rejected rows ({summary}):\n")
    for text in _describe(rejected.head(SHOWN_PROBLEMS)):
        stream.write(f"  {text}\n")
    if len(rejected) > SHOWN_PROBLEMS:
        stream.write(f"  ... and {len(rejected) - SHOWN_PROBLEMS} more\n")


def _describe(rows: pd.DataFrame) -> Iterable[str]:
    for row in rows.itertuples(index=False):
        where = f"line {row.line}" + (f" (series {row.series!r})" if row.series else "")
        yield f"{where}: {row.reason}"


def _note(text: str) -> None:
    sys.stderr.write(f"triage detect: {text}\n")


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _iso_date(text: str) -> dt.date:
    try:
        if not ISO_DATE.match(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


# --------------------------------------------------------------------------------------------
# triage bench detect
# --------------------------------------------------------------------------------------------


def cmd_bench_detect(args: argparse.Namespace) -> int:
    # The benchmark's generators pull in scipy.signal: loaded only when it runs, not by detect.
    from triage.bench.detect import Options, quick_options, run, table

    if not args.quick and not args.skip_pynssp and args.pynssp_series > 0:
        try:
            import pynssp  # noqa: F401 - optional (the 'bench' extra): only its presence is checked
        except ImportError:
            raise CommandError(
                "pynssp is not installed: pip install pynssp (or the 'bench' extra), "
                "or run with --skip-pynssp."
            ) from None
    options = Options(
        series=args.series,
        years=args.years,
        seed=args.seed,
        fdr=args.fdr if args.fdr is not None else _default_fdr(),
        skip_pynssp=args.skip_pynssp,
        pynssp_series=args.pynssp_series,
        workers=args.workers,
        cache=args.cache,
    )
    if args.quick:
        options = quick_options(options)
    result = run(options, log=lambda text: print(f"bench detect: {text}", file=sys.stderr))
    print(table(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0
