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
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from db.cache import clear_all
from db.models import Problem, ScoreSnapshot, User
from db.session import Database
from triage.cli.common import CommandError
from triage.security import role_allows
from triage.settings import Settings
from triage.vocabulary import Role

UPDATE_URL = "/_dash-update-component"
CSRF_HEADER = "X-CSRFToken"
CSRF_SESSION_KEY = "csrf_token"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")
# A page whose callbacks keep triggering each other is cut off after this many requests.
MAX_REQUESTS_PER_LOAD = 60
BUDGET_MS = 300.0
# The downloads of the weekly priorities page are user actions worth timing too.
DEFAULT_CLICKS: dict[str, tuple[str, ...]] = {
    "/": ("priorities-csv-button", "priorities-brief-button"),
}


class BenchError(Exception):
    """The benchmark could not run (sign-in refused, page missing); the message says why."""


@dataclass(frozen=True)
class BenchPage:
    """One page to load: its address, who views it, and buttons to press once per load."""

    path: str
    username: str
    clicks: tuple[str, ...] = ()


# ---------------------------------------------------------------- the page as the renderer sees it


def _key(component_id: Any) -> str:
    """Dash's string form of an id (dict ids as compact JSON with sorted keys)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def _spec_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def _is_component(value: Any) -> bool:
    return isinstance(value, dict) and "props" in value and "type" in value


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every component in a layout tree, props included (options may hold components)."""
    if _is_component(value):
        yield value
        for prop in value["props"].values():
            yield from _walk(prop)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)


def _index(tree: Any) -> dict[str, dict[str, Any]]:
    return {_key(c["props"]["id"]): c for c in _walk(tree) if c["props"].get("id") is not None}


def _matches(pattern: Any, component_id: Any) -> bool:
    if not isinstance(pattern, dict):
        return pattern == component_id
    if not isinstance(component_id, dict) or set(pattern) != set(component_id):
        return False
    return all(isinstance(v, list) or component_id[k] == v for k, v in pattern.items())


def _output_specs(dependency: dict[str, Any]) -> list[tuple[Any, str]]:
    output = dependency["output"]
    parts = (
        [p for p in output.strip(".").split("...") if p] if output.startswith("..") else [output]
    )
    specs = []
    for part in parts:
        raw, prop = part.rsplit(".", 1)
        specs.append((_spec_id(raw.split("@")[0]), prop.split("@")[0]))
    return specs


@dataclass
class _Callback:
    dependency: dict[str, Any]
    inputs: list[tuple[Any, str]]
    state: list[tuple[Any, str]]
    outputs: list[tuple[Any, str]]

    @property
    def name(self) -> str:
        return self.dependency["output"]


def _callbacks(dependencies: Sequence[dict[str, Any]]) -> list[_Callback]:
    found = []
    for dependency in dependencies:
        if dependency.get("clientside_function") or dependency["output"] == ROUTER_OUTPUT:
            continue
        found.append(
            _Callback(
                dependency,
                [(_spec_id(s["id"]), s["property"]) for s in dependency["inputs"]],
                [(_spec_id(s["id"]), s["property"]) for s in dependency["state"]],
                _output_specs(dependency),
            )
        )
    return found


class _Page:
    """The layout tree of one loaded page, with the callbacks that may fire on it."""

    def __init__(self, shell: Any, callbacks: list[_Callback]) -> None:
        self.tree = shell
        self.index = _index(shell)
        self.callbacks = callbacks

    def ids(self) -> list[Any]:
        return [c["props"]["id"] for c in self.index.values()]

    def value(self, component_id: Any, prop: str) -> Any:
        component = self.index.get(_key(component_id))
        return None if component is None else component["props"].get(prop)

    def present(self, pattern: Any) -> list[Any]:
        return [i for i in self.ids() if _matches(pattern, i)]

    def set(self, component_id: Any, prop: str, value: Any) -> set[str]:
        """Apply one prop; returns the keys of components that the change added."""
        component = self.index.get(_key(component_id))
        if component is None:
            return set()
        component["props"][prop] = value
        before = set(self.index)
        if _is_component(value) or isinstance(value, list | dict):
            self.index = _index(self.tree)
        return set(self.index) - before

    def invocations(self, callback: _Callback) -> list[dict[str, Any]]:
        """Request bodies for a callback on this page (one per MATCH value), or [] if an input
        is missing."""
        match_values: list[dict[str, Any]] = [{}]
        for pattern, _prop in callback.inputs:
            if isinstance(pattern, dict) and any(v == ["MATCH"] for v in pattern.values()):
                keys = [k for k, v in pattern.items() if v == ["MATCH"]]
                match_values = [{k: i[k] for k in keys} for i in self.present(pattern)]
                break
        bodies = []
        for fixed in match_values:
            body = self._body(callback, fixed)
            if body is not None:
                bodies.append(body)
        return bodies

    def _entry(self, pattern: Any, prop: str, fixed: dict[str, Any]) -> Any:
        if isinstance(pattern, dict) and any(isinstance(v, list) for v in pattern.values()):
            concrete = {k: (fixed.get(k, v) if v == ["MATCH"] else v) for k, v in pattern.items()}
            if all(not isinstance(v, list) for v in concrete.values()):
                if _key(concrete) not in self.index:
                    return None
                return {"id": concrete, "property": prop, "value": self.value(concrete, prop)}
            return [
                {"id": i, "property": prop, "value": self.value(i, prop)}
                for i in self.present(concrete)
            ]
        if _key(pattern) not in self.index:
            return None
        return {"id": pattern, "property": prop, "value": self.value(pattern, prop)}

    def _body(self, callback: _Callback, fixed: dict[str, Any]) -> dict[str, Any] | None:
        inputs = [self._entry(p, prop, fixed) for p, prop in callback.inputs]
        if any(entry is None for entry in inputs):
            return None
        state = [self._entry(p, prop, fixed) for p, prop in callback.state]
        if any(entry is None for entry in state):
            return None
        outputs = [self._entry(p, prop, fixed) for p, prop in callback.outputs]
        if any(entry is None for entry in outputs):
            return None
        shaped = [
            [{"id": e["id"], "property": e["property"]} for e in o]
            if isinstance(o, list)
            else {"id": o["id"], "property": o["property"]}
            for o in outputs
        ]
        return {
            "output": callback.name,
            "outputs": shaped if callback.name.startswith("..") else shaped[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": [],
        }


# ---------------------------------------------------------------- one signed-in browser


class PageVisitor:
    """A signed-in test client that loads pages and records how long each callback took."""

    def __init__(
        self, client: Any, timings: dict[str, list[float]], token: str | None = None
    ) -> None:
        """``token``: the CSRF token, when the client is not Flask's test client (whose
        session it is read from otherwise)."""
        self.client = client
        self.timings = timings
        self.cpu: dict[str, list[float]] = {}
        self.requests = 0
        response = client.get("/_dash-layout")
        if response.status_code != 200:
            raise BenchError(f"/_dash-layout answered {response.status_code}")
        self.shell = response.get_json()
        deps = client.get("/_dash-dependencies")
        if deps.status_code != 200:
            raise BenchError(f"/_dash-dependencies answered {deps.status_code}")
        self.dependencies = deps.get_json()
        self.router = next(d for d in self.dependencies if d["output"] == ROUTER_OUTPUT)
        self.callbacks = _callbacks(self.dependencies)
        if token is None:
            with client.session_transaction() as session:
                token = session.get(CSRF_SESSION_KEY)
        self.token = token

    def post(self, body: dict[str, Any], label: str) -> Any:
        self.requests += 1
        started, cpu_started = time.perf_counter(), time.process_time()
        response = self.client.post(UPDATE_URL, json=body, headers={CSRF_HEADER: self.token})
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu.setdefault(label, []).append((time.process_time() - cpu_started) * 1000)
        if response.status_code not in (200, 204):
            raise BenchError(
                f"{label} answered {response.status_code}: {response.get_data(as_text=True)[:200]}"
            )
        self.timings.setdefault(label, []).append(elapsed)
        return response.get_json() if response.status_code == 200 else None

    def load(self, path: str, clicks: Sequence[str]) -> None:
        pathname, _, search = path.partition("?")
        page = _Page(json.loads(json.dumps(self.shell)), self.callbacks)
        router = {
            "output": ROUTER_OUTPUT,
            "outputs": [
                {"id": "_pages_content", "property": "children"},
                {"id": "_pages_store", "property": "data"},
            ],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {
                    "id": "_pages_location",
                    "property": "search",
                    "value": f"?{search}" if search else "",
                },
            ],
            "state": [],
            "changedPropIds": ["_pages_location.pathname"],
        }
        result = self.post(router, "pages router")
        added = set()
        for key, props in (result or {}).get("response", {}).items():
            for prop, value in props.items():
                added |= page.set(_spec_id(key), prop, value)
        queue = [
            c
            for c in self.callbacks
            if not c.dependency.get("prevent_initial_call")
            and any(_key(i) in added for p, _ in c.inputs for i in page.present(p))
        ]
        self._drain(page, queue)
        for button in clicks:
            if _key(button) not in page.index:
                continue
            page.set(button, "n_clicks", 1)
            self._drain(page, self._listeners(page, button, "n_clicks"))

    def _listeners(self, page: _Page, component_id: Any, prop: str) -> list[_Callback]:
        return [
            c
            for c in self.callbacks
            if any(p == prop and _matches(i, component_id) for i, p in c.inputs)
        ]

    def _drain(self, page: _Page, queue: list[_Callback]) -> None:
        sent = 0
        while queue and sent < MAX_REQUESTS_PER_LOAD:
            ready = next((c for c in queue if not self._waits(c, queue)), queue[0])
            queue.remove(ready)
            for body in page.invocations(ready):
                first, prop = ready.inputs[0]
                body["changedPropIds"] = [f"{_key(first)}.{prop}"]
                sent += 1
                result = self.post(body, ready.name)
                for key, props in (result or {}).get("response", {}).items():
                    component_id = _spec_id(key)
                    for prop_name, value in props.items():
                        added = page.set(component_id, prop_name, value)
                        triggered = self._listeners(page, component_id, prop_name)
                        triggered += [
                            c
                            for c in self.callbacks
                            if not c.dependency.get("prevent_initial_call")
                            and any(_key(i) in added for p, _ in c.inputs for i in page.present(p))
                        ]
                        queue += [c for c in triggered if c not in queue]

    @staticmethod
    def _waits(callback: _Callback, queue: Sequence[_Callback]) -> bool:
        """True while another queued callback still writes one of this one's inputs (the
        renderer holds a callback back until its inputs have settled)."""
        inputs = {(_key(i), p) for i, p in callback.inputs}
        return any(
            (_key(o), p) in inputs
            for other in queue
            if other is not callback
            for o, p in other.outputs
        )


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


def demo_password(username: str) -> str:
    """The demo city's password for a user (``scripts/demo`` prints them)."""
    return f"{username}-riverton-demo"


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
