"""``triage bench ui``: server time of every callback of each page, without a browser.

``bench_ui`` signs in through the sign-in form of the app's Flask test client, asks the Pages
router for each page, then fires the page's callbacks in the order the Dash renderer would (a
callback runs once its inputs exist and no pending callback still writes them), applying every
response to the page so that chained callbacks see real values. Each POST is timed in-process.
It takes the app from a factory and never imports Dash or Flask itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from db.cache import clear_all
from db.models import Problem, ScoreSnapshot, User
from db.session import Database
from triage.cli.bench_common import BenchError, demo_password, percentile, timing_figures
from triage.cli.bench_visit import PageVisitor
from triage.cli.common import CommandError
from triage.security import role_allows
from triage.settings import Settings
from triage.vocabulary import Role

BUDGET_MS = 300.0
# The downloads of the weekly priorities page are user actions worth timing too.
DEFAULT_CLICKS: dict[str, tuple[str, ...]] = {
    "/": ("priorities-csv-button", "priorities-brief-button"),
}


@dataclass(frozen=True)
class BenchPage:
    """One page to load: its address, who views it, and buttons to press once per load."""

    path: str
    username: str
    clicks: tuple[str, ...] = ()


# ---------------------------------------------------------------- the benchmark


def _sign_in(app: Any, username: str, password: str) -> Any:
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not match:
        raise BenchError("the sign-in page has no CSRF field")
    response = client.post(
        "/login",
        data={
            "csrf_token": match.group(1),
            "username": username,
            "password": password,
            "next": "/",
        },
    )
    if response.status_code != 302:
        raise BenchError(f"signing in as {username!r} failed (status {response.status_code})")
    return client


def bench_ui(
    app_factory: Callable[[], Any],
    users: Mapping[str, str],
    pages: Sequence[BenchPage],
    runs: int = 20,
    *,
    warmup: int = 1,
    before_load: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Load every page ``warmup + runs`` times as its user and time each callback POST.

    ``before_load`` runs before every timed load: ``--cold`` passes one that empties the
    app's data-version caches, so each load pays what the first request after a write pays.

    ``app_factory()`` returns the Dash app; ``users`` maps usernames to passwords. Returns
    ``{"bench": "ui", "runs", "budget_ms", "pages": {path: {user, callbacks, requests,
    p50_ms, p95_ms, max_ms, cpu_p95_ms, slowest: {output: {p50_ms, p95_ms, max_ms}}}},
    "p95_ms"}`` where the per-page figures cover every callback request of the timed loads
    (the warm-up loads fill caches and store the current week's ranking once, and are not
    counted). Times are wall-clock server time; ``cpu_p95_ms`` is the process CPU time of the
    same requests, which a busy machine inflates far less.
    """
    if runs < 1:
        raise BenchError("--runs must be at least 1")
    app = app_factory()
    clients: dict[str, Any] = {}
    result: dict[str, Any] = {
        "bench": "ui",
        "runs": runs,
        "cold": before_load is not None,
        "budget_ms": BUDGET_MS,
        "pages": {},
    }
    everything: list[float] = []
    for spec in pages:
        if spec.username not in users:
            raise BenchError(f"no password for {spec.username!r}")
        if spec.username not in clients:
            clients[spec.username] = _sign_in(app, spec.username, users[spec.username])
        warm: dict[str, list[float]] = {}
        visitor = PageVisitor(clients[spec.username], warm)
        for _ in range(warmup):
            visitor.load(spec.path, spec.clicks)
        timings: dict[str, list[float]] = {}
        visitor.timings, visitor.cpu = timings, {}
        visitor.requests = 0
        for _ in range(runs):
            if before_load is not None:
                before_load()
            visitor.load(spec.path, spec.clicks)
        values = [v for series in timings.values() for v in series]
        cpu = [v for series in visitor.cpu.values() for v in series]
        everything += values
        result["pages"][spec.path] = {
            "user": spec.username,
            "callbacks": len(timings),
            "requests": visitor.requests,
            **timing_figures(values),
            "cpu_p95_ms": round(percentile(cpu, 0.95), 1),
            "slowest": {
                name: timing_figures(series)
                for name, series in sorted(
                    timings.items(), key=lambda item: -percentile(item[1], 0.95)
                )[:3]
            },
        }
    result["p95_ms"] = round(percentile(everything, 0.95), 1) if everything else None
    return result


def format_table(result: Mapping[str, Any]) -> str:
    """The result as a plain table: one line per page, its slowest callback below it."""
    lines = [
        f"UI callbacks, server time over {result['runs']} "
        f"{'cold (caches emptied before each) ' if result.get('cold') else ''}loads per page "
        f"(budget {result['budget_ms']:.0f} ms p95)",
        f"{'page':<28} {'user':<14} {'cbs':>4} {'reqs':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'cpu p95':>8}",
    ]
    lines.append("-" * len(lines[1]))
    for path, page in result["pages"].items():
        flag = "" if page["p95_ms"] <= result["budget_ms"] else "  OVER BUDGET"
        lines.append(
            f"{path[:28]:<28} {page['user'][:14]:<14} {page['callbacks']:>4} "
            f"{page['requests']:>5} {page['p50_ms']:>8.1f} {page['p95_ms']:>8.1f} "
            f"{page['max_ms']:>8.1f} {page['cpu_p95_ms']:>8.1f}{flag}"
        )
        for name, figures in list(page["slowest"].items())[:1]:
            lines.append(f"    slowest: {name[:70]} p95 {figures['p95_ms']:.1f} ms")
    lines.append(f"all pages: p95 {result['p95_ms']} ms")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def default_pages(database: Database) -> tuple[list[BenchPage], list[str]]:
    """Every registered page with a user allowed to see it (the top problem for the problem
    page), from the database's users; returns the pages and the usernames they need."""
    from layouts import PAGES  # the web stack is loaded only when the benchmark runs

    with database.session() as session:
        people = session.execute(
            select(User.username, User.role).where(User.active.is_(True)).order_by(User.id)
        ).all()
        top = session.scalar(
            select(ScoreSnapshot.problem_id)
            .order_by(ScoreSnapshot.week.desc(), ScoreSnapshot.rank)
            .limit(1)
        ) or session.scalar(select(Problem.id).order_by(Problem.id).limit(1))
    preference = (Role.MAYOR, Role.CHIEF_OF_STAFF, Role.DEPARTMENT_HEAD, Role.ANALYST, Role.ADMIN)
    by_role: dict[str, str] = {}
    for username, role in people:
        by_role.setdefault(role, username)
    pages = []
    for spec in PAGES:
        viewer = next(
            (
                by_role[r.value]
                for r in preference
                if r.value in by_role and role_allows(r, spec.capability)
            ),
            None,
        )
        if viewer is None:
            continue
        path = spec.path
        if spec.path_template:
            if top is None:
                continue
            path = re.sub(r"<[^>]+>", str(top), spec.path_template)
        pages.append(BenchPage(path, viewer, DEFAULT_CLICKS.get(path, ())))
    return pages, sorted({p.username for p in pages})


def cmd_bench_ui(args: argparse.Namespace) -> int:
    """``triage bench ui``: print the table (and, with ``--json``, one JSON line at the end)."""
    settings = Settings.from_env(database_url=args.db, mode="development")
    database = Database(settings.database_url)
    try:
        pages, needed = default_pages(database)
    except Exception as exc:  # a missing, empty or unmigrated database
        first_line = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CommandError(
            f"Cannot read the users from the database ({first_line}); "
            "run `triage demo` (or `triage init`) first."
        ) from None
    if args.user:
        pages = [BenchPage(p.path, args.user, p.clicks) for p in pages]
        needed = [args.user]
    if args.pages:
        wanted = [p.strip() for p in args.pages.split(",") if p.strip()]
        pages = [p for p in pages if p.path in wanted] + [
            BenchPage(
                w, pages[0].username if pages else args.user or "mayor", DEFAULT_CLICKS.get(w, ())
            )
            for w in wanted
            if w not in {p.path for p in pages}
        ]
    if not pages:
        raise CommandError("No pages to load: seed the demo city or pass --pages.")
    secret = os.environ.get("TRIAGE_BENCH_PASSWORD")
    users = {name: secret or demo_password(name) for name in needed}

    def factory() -> Any:
        from app import create_app  # the composition root, built only by the benchmark

        return create_app(settings, database)

    before_load = None
    if args.cold:
        before_load = clear_all
    try:
        result = bench_ui(
            factory, users, pages, args.runs, warmup=args.warmup, before_load=before_load
        )
    except BenchError as exc:
        raise CommandError(str(exc)) from None
    finally:
        database.dispose()
    print(format_table(result))
    if args.json:
        print(json.dumps(result))
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``ui`` to the ``bench`` sub-parsers (``commands`` is unused: no top-level command)."""
    del commands
    ui = bench.add_parser(
        "ui", help="p50/p95 server time of every callback of each page (Flask test client)"
    )
    ui.add_argument("--runs", type=int, default=20, help="timed loads per page (20)")
    ui.add_argument("--warmup", type=int, default=1, help="untimed loads first (1)")
    ui.add_argument("--pages", help="comma-separated paths (default: every page)")
    ui.add_argument(
        "--user",
        help="view every page as this user (password from $TRIAGE_BENCH_PASSWORD; default: "
        "one demo user per role, with the demo passwords)",
    )
    ui.add_argument(
        "--cold",
        action="store_true",
        help="empty the app's data-version caches before every timed load (what the first "
        "request after a write costs)",
    )
    ui.add_argument("--json", action="store_true", help="the figures as JSON on the last line")
    ui.set_defaults(func=cmd_bench_ui)
