"""``triage bench browser``: time to settled content of every page, in headless Chromium.

It serves the demo city (``triage serve`` in a subprocess on loopback, over the cached
``bench-SCALE-SEED.sqlite3`` that ``triage bench score`` seeds, or a given database), drives
Debian's Chromium through selenium, signs in as the role that sees each page, and times each
full page load from navigation start to settled content; the sign-in page, loaded by the same
browser at the same time, is the floor the figures compare with.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from db.models import CausalFactor, Engagement, Indicator, ScoreSnapshot, User
from db.session import Database
from triage.cli.bench_city import prepare
from triage.cli.bench_common import BenchError, demo_password, percentile
from triage.cli.common import CommandError
from triage.settings import DEFAULT_INSTANCE_DIR, Settings
from triage.vocabulary import Role

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
# Viewports (CSS pixels): a laptop and a phone.
SIZES: dict[str, tuple[int, int]] = {"desktop": (1440, 900), "phone": (390, 844)}
BUDGET_MS = 1000.0  # every page settles within this at 1440x900 (p95 of the warm loads)
QUIET_MS = 400  # settled = the conditions hold and nothing changed for this long
LOAD_TIMEOUT_S = 60.0
SCREENSHOT_MAX_HEIGHT = 12_000  # CSS pixels: a longer page is cut there
SERVER_START_S = 120.0
FLOOR_PATH = "/login"
# The tabs of the problem page and of the administration page (``?tab=``), in their order.
PROBLEM_TABS = ("overview", "indicators", "reports", "map", "actors", "innovations", "history")
ADMIN_TABS = ("users", "weights", "mapping", "sources", "setup")

# Installed before any page script runs (Page.addScriptToEvaluateOnNewDocument): it counts the
# Dash requests in flight, watches the DOM, and records in ``window.__triageBench.settledAt``
# the time (ms since navigation start) of the last change before a quiet stretch in which
# every condition held. ``waiting`` names the condition still unmet.
SETTLE_SCRIPT = """
(() => {
  if (window.__triageBench) { return; }
  const QUIET = %(quiet)d;
  const b = window.__triageBench = {
    inflight: 0, requests: 0, failed: 0, lastActivity: 0, lastMutation: 0, readySince: null,
    settledAt: null, waiting: 'the document', longTaskMs: 0, longTasks: 0, calls: []
  };
  try { performance.setResourceTimingBufferSize(5000); } catch (e) {}
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) { b.longTasks += 1; b.longTaskMs += entry.duration; }
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  const nativeFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = String(typeof input === 'string' ? input : (input && input.url) || '');
    if (url.indexOf('/_dash-') < 0) { return nativeFetch(input, init); }
    b.inflight += 1; b.requests += 1; b.lastActivity = performance.now();
    const call = {url: url.replace(/^.*_dash-/, ''), start: performance.now(), end: null};
    try { call.output = JSON.parse(init.body).output.slice(0, 80); } catch (e) {}
    b.calls.push(call);
    return nativeFetch(input, init).then((response) => {
      if (response.status >= 400) { b.failed += 1; }
      return response;
    }).finally(() => {
      b.inflight -= 1; b.lastActivity = call.end = performance.now();
    });
  };
  // dcc.Graph marks a graph "pending" while Plotly works on it; after the first drawing it
  // always asks Plotly for a resize, which waits 100 ms and, when the size has not changed,
  // changes nothing on screen but that marker, 100-250 ms after the chart was drawn. The
  // marker has no style: toggling it alone is not a change the reader sees.
  const markerOnly = (m) => {
    if (m.type !== 'attributes' || m.attributeName !== 'class') { return false; }
    const classes = (text) => String(text || '').split(' ').filter(
      (c) => c && c !== 'dash-graph--pending').sort().join(' ');
    return classes(m.oldValue) === classes(m.target.getAttribute('class'));
  };
  new MutationObserver((list) => {
    if (list.some((m) => !markerOnly(m))) { b.lastMutation = performance.now(); }
  }).observe(document, {
    subtree: true, childList: true, attributes: true, attributeOldValue: true,
    characterData: true});
  const painted = (canvas) => {
    if (!canvas.width || !canvas.height) { return false; }
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { return true; } }
    return false;
  };
  const unmet = () => {
    if (document.readyState !== 'complete') { return 'the document'; }
    const dash = document.getElementById('react-entry-point');
    if (!dash) {
      const heading = document.querySelector('h1');
      return heading && heading.textContent.trim() ? '' : 'the heading';
    }
    if (b.inflight > 0) { return 'callback requests'; }
    const heading = document.querySelector('#_pages_content h1');
    if (!heading || !heading.textContent.trim()) { return 'the heading'; }
    if (document.querySelector('[data-dash-is-loading="true"]')) { return 'loading components'; }
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
      if (!plot.querySelector('.main-svg')) { return 'a Plotly graph'; }
    }
    for (const box of document.querySelectorAll('.__________cytoscape_container')) {
      const nodes = box.querySelector('canvas[data-id="layer2-node"]');
      if (!nodes || !painted(nodes)) { return 'the Cytoscape graph'; }
    }
    return '';
  };
  const timer = setInterval(() => {
    const now = performance.now();
    const reason = unmet();
    b.waiting = reason;
    if (reason) { b.readySince = null; return; }
    if (b.readySince === null) { b.readySince = now; }
    const last = Math.max(b.readySince, b.lastActivity, b.lastMutation);
    if (now - last >= QUIET) { b.settledAt = last; b.waiting = ''; clearInterval(timer); }
  }, 15);
})();
"""

# What a settled page reports besides its time.
MEASURE_SCRIPT = """
const b = window.__triageBench || {};
const resources = performance.getEntriesByType('resource');
const callbacks = resources.filter((e) => e.name.indexOf('/_dash-update-component') >= 0);
return {
  settled_ms: b.settledAt,
  waiting: b.waiting || '',
  requests: b.requests || 0,
  failed_requests: b.failed || 0,
  callback_kb: callbacks.reduce((s, e) => s + (e.encodedBodySize || 0), 0) / 1024,
  last_response_ms: callbacks.reduce((m, e) => Math.max(m, e.responseEnd), 0),
  transfer_kb: resources.reduce((s, e) => s + (e.transferSize || 0), 0) / 1024,
  long_task_ms: b.longTaskMs || 0,
  dom_nodes: document.getElementsByTagName('*').length,
  plots: document.querySelectorAll('.js-plotly-plot').length,
  page_width: document.documentElement.scrollWidth,
  calls: (b.calls || []).map((c) => [c.output || c.url, Math.round(c.start), Math.round(c.end)])
};
"""


# After a page settles: a reader scrolling down to each chart drawn only when it comes near
# the screen (``layouts.components.deferred``). Scrolls each place not yet drawn to the middle
# of the window, in page order, and times how long its chart takes to appear (ms); a chart
# not drawn within the limit counts as null.
SCROLL_SCRIPT = """
const done = arguments[arguments.length - 1];
const LIMIT = %(limit)d;
const waits = [];
const shown = () => Array.from(document.querySelectorAll('[data-deferred-key]'))
  .filter((p) => p.getClientRects().length > 0);
const next = () => {
  const place = shown()[0];
  if (!place) { window.scrollTo(0, 0); done(waits); return; }
  const body = place.parentElement;
  const start = performance.now();
  place.scrollIntoView({block: 'center', behavior: 'instant'});
  const check = () => {
    const elapsed = performance.now() - start;
    if (body.querySelector('.js-plotly-plot .main-svg')) {
      waits.push(elapsed); setTimeout(next, 50);
    } else if (elapsed > LIMIT) {
      waits.push(null); window.scrollTo(0, 0); done(waits);
    } else { setTimeout(check, 5); }
  };
  check();
};
next();
"""
SCROLL_LIMIT_MS = 20_000


@dataclass(frozen=True)
class BrowserPage:
    """One page to load: its address (with ``?tab=`` for a tab) and who views it."""

    path: str
    username: str


# ---------------------------------------------------------------- which pages, as whom


def choose_pages(database: Database) -> list[BrowserPage]:
    """Every page as the role that uses it: the mayor's pages, a department head's page (the
    head of the department with most indicators), each administration tab as the administrator,
    and each tab of the richest problem (most causal factors and engagements, then rank)."""
    with database.session() as session:
        people = session.execute(
            select(User.username, User.role, User.department_id)
            .where(User.active.is_(True))
            .order_by(User.id)
        ).all()
        indicators = dict(
            session.execute(
                select(Indicator.department_id, func.count()).group_by(Indicator.department_id)
            ).all()
        )
        factors = dict(
            session.execute(
                select(CausalFactor.problem_id, func.count()).group_by(CausalFactor.problem_id)
            ).all()
        )
        engagements = dict(
            session.execute(
                select(Engagement.problem_id, func.count()).group_by(Engagement.problem_id)
            ).all()
        )
        week = session.scalar(select(func.max(ScoreSnapshot.week)))
        ranks = dict(
            session.execute(
                select(ScoreSnapshot.problem_id, ScoreSnapshot.rank).where(
                    ScoreSnapshot.week == week
                )
            ).all()
        )
    by_role: dict[str, str] = {}
    for username, role, _department in people:
        by_role.setdefault(role, username)
    heads = [(u, d) for u, r, d in people if r == Role.DEPARTMENT_HEAD.value and d is not None]
    viewer = by_role.get(Role.MAYOR.value) or by_role.get(Role.CHIEF_OF_STAFF.value)
    if viewer is None:
        raise BenchError("the database has no mayor or chief of staff to view the city's pages")
    problems = set(factors) | set(engagements) | set(ranks)
    pages = [BrowserPage("/", viewer), BrowserPage("/problems", viewer)]
    if problems:
        rich = max(
            problems,
            key=lambda p: (factors.get(p, 0) + engagements.get(p, 0), -ranks.get(p, 10**6), -p),
        )
        pages += [BrowserPage(f"/problems/{rich}?tab={tab}", viewer) for tab in PROBLEM_TABS]
    pages += [BrowserPage(p, viewer) for p in ("/alerts", "/actors", "/reports")]
    if heads:
        head = max(heads, key=lambda h: (indicators.get(h[1], 0), -heads.index(h)))[0]
        pages.append(BrowserPage("/department", head))
    admin = by_role.get(Role.ADMIN.value)
    if admin:
        pages += [BrowserPage(f"/admin?tab={tab}", admin) for tab in ADMIN_TABS]
    pages.append(BrowserPage("/glossary", viewer))
    return pages


def filter_pages(pages: Sequence[BrowserPage], wanted: Sequence[str]) -> list[BrowserPage]:
    """The pages whose path (or path before ``?``) is in ``wanted``, in ``wanted``'s order; a
    wanted path not among them is viewed by the first page's user."""
    chosen: list[BrowserPage] = []
    for path in wanted:
        found = [p for p in pages if path in (p.path, p.path.partition("?")[0])]
        if path.startswith("/problems/") and not found:
            found = [p for p in pages if p.path.startswith(path.partition("?")[0] + "?")][:1]
        chosen += found or ([BrowserPage(path, pages[0].username)] if pages else [])
    return list(dict.fromkeys(chosen))


# ---------------------------------------------------------------- the server and the browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(database_url: str, today: str, threads: int = 8) -> Iterator[str]:
    """``triage serve`` (waitress, demo mode, the city's date pinned) on a free loopback port
    in a subprocess; yields its base URL once ``/healthz`` answers, stops it afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    # The URL (which may hold a password) goes through the environment, not the argv that
    # ``ps`` shows.
    env.update(
        TRIAGE_DATABASE_URL=database_url,
        TRIAGE_MODE="demo",
        TRIAGE_TODAY=today,
        TRIAGE_SECRET_KEY=secrets.token_urlsafe(48),
    )
    command = [
        sys.executable, "-m", "triage.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 (our interpreter, our arguments)
        try:
            _wait_healthy(process, port, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log: Any) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise BenchError(
                f"the server exited with status {process.returncode}: " + " | ".join(tail)
            )
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            status = probe.getresponse().status
            probe.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise BenchError(f"the server did not answer /healthz within {SERVER_START_S:.0f} s")


class Browser:
    """One headless Chromium (through chromedriver) with the settle watcher installed."""

    def __init__(self, base_url: str, quiet_ms: int = QUIET_MS) -> None:
        from selenium import webdriver  # selenium is loaded only by this benchmark
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        for path in (CHROMIUM, CHROMEDRIVER):
            if not Path(path).exists():
                raise BenchError(f"{path} is missing; install Debian's chromium and chromedriver")
        options = Options()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        self.base_url = base_url
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(LOAD_TIMEOUT_S)
        self.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument",
            {"source": SETTLE_SCRIPT % {"quiet": quiet_ms}},
        )
        self.version = str(self.driver.capabilities.get("browserVersion", "?"))
        self.sessions: dict[str, list[dict[str, Any]]] = {}
        self.current: str | None = None

    def close(self) -> None:
        self.driver.quit()

    def viewport(self, width: int, height: int) -> None:
        """The page's viewport exactly ``width`` x ``height`` CSS pixels."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the form, as a person does, and keep that session's cookies."""
        from selenium.webdriver.common.by import By

        self.driver.delete_all_cookies()
        self.driver.get(f"{self.base_url}/login")
        self.driver.find_element(By.ID, "login-username-input").send_keys(username)
        self.driver.find_element(By.ID, "login-password-input").send_keys(password)
        self.driver.find_element(By.ID, "login-submit-button").click()
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while "/login" in self.driver.current_url and time.monotonic() < deadline:
            time.sleep(0.1)
        if "/login" in self.driver.current_url:
            raise BenchError(f"signing in as {username!r} failed (still on the sign-in page)")
        self.sessions[username] = self.driver.get_cookies()
        self.current = username

    def become(self, username: str | None) -> None:
        """Switch to a signed-in user's cookies (None: nobody signed in)."""
        if username == self.current:
            return
        self.driver.delete_all_cookies()
        for cookie in self.sessions.get(username, []) if username else []:
            self.driver.add_cookie({k: v for k, v in cookie.items() if k != "expiry"})
        self.current = username

    def screenshot(self, target: Path, max_height: int = SCREENSHOT_MAX_HEIGHT) -> Path:
        """The whole page as a PNG (below the fold too, cut at ``max_height`` CSS pixels)."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        content = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": max(content["width"], self.driver.execute_script("return innerWidth")),
            "height": min(content["height"], max_height),
            "scale": 1,
        }
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        target.write_bytes(base64.b64decode(shot["data"]))
        return target

    def load(self, path: str) -> dict[str, Any]:
        """Navigate to ``path`` and wait until the page settles; its figures (``timeout`` True
        and ``waiting`` naming the unmet condition when it did not within the limit)."""
        from selenium.common.exceptions import TimeoutException

        deadline = time.monotonic() + LOAD_TIMEOUT_S
        with suppress(TimeoutException):
            self.driver.get(f"{self.base_url}{path}")
        figures: dict[str, Any] = {}
        while time.monotonic() < deadline:
            # A page whose main thread is busy answers no script: keep asking until the limit.
            with suppress(TimeoutException):
                figures = self.driver.execute_script(MEASURE_SCRIPT) or {}
            if figures.get("settled_ms") is not None:
                break
            time.sleep(0.05)
        figures["timeout"] = figures.get("settled_ms") is None
        figures["url"] = self.driver.current_url.removeprefix(self.base_url)
        if not figures["timeout"]:
            figures["scroll_waits"] = self.scroll_to_charts()
        return figures

    def scroll_to_charts(self) -> list[float | None]:
        """Scroll to each chart the page draws only when it comes near the screen, in order,
        and say how long each took to appear after it was scrolled to (ms; None: not within
        20 s)."""
        from selenium.common.exceptions import TimeoutException

        self.driver.set_script_timeout(SCROLL_LIMIT_MS / 1000 * 4)
        try:
            waits = self.driver.execute_async_script(SCROLL_SCRIPT % {"limit": SCROLL_LIMIT_MS})
        except TimeoutException:
            return [None]
        return [None if w is None else float(w) for w in waits or []]


# ---------------------------------------------------------------- the benchmark


def _file_name(path: str) -> str:
    """A page's address as a file name: ``/problems/3?tab=map`` -> ``problems-3-tab-map``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"


def _round(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)


def summarise(loads: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Figures of one page at one size: the cold (first) load apart, then p50/p95/max of the
    warm loads' settle times, and medians of what explains them."""
    cold, warm = loads[0], list(loads[1:])
    timed = [w["settled_ms"] for w in warm if not w["timeout"]]
    middle = warm or [cold]
    # Each warm load's longest wait for a chart drawn on scrolling (None: one never came).
    scrolls = [m.get("scroll_waits") or [] for m in middle]
    longest = [max((w if w is not None else math.inf) for w in ws) for ws in scrolls if ws]

    def median(key: str) -> float:
        return float(statistics.median(float(m.get(key) or 0) for m in middle))

    return {
        "cold_ms": _round(cold.get("settled_ms")),
        "runs": len(warm),
        "p50_ms": _round(statistics.median(timed)) if timed else None,
        "p95_ms": _round(percentile(timed, 0.95)) if timed else None,
        "max_ms": _round(max(timed)) if timed else None,
        "timeouts": sum(1 for m in loads if m["timeout"]),
        "waiting": sorted({m["waiting"] for m in loads if m["timeout"]}),
        "failed_requests": sum(int(m.get("failed_requests") or 0) for m in loads),
        "requests": median("requests"),
        "last_response_ms": _round(median("last_response_ms")),
        "callback_kb": _round(median("callback_kb")),
        "long_task_ms": _round(median("long_task_ms")),
        "dom_nodes": int(median("dom_nodes")),
        "plots": int(median("plots")),
        "charts_on_scroll": max((len(ws) for ws in scrolls), default=0),
        # p95 over the warm loads of the longest wait for a chart after scrolling to it.
        "scroll_p95_ms": (
            None
            if not longest or any(math.isinf(w) for w in longest)
            else _round(percentile(longest, 0.95))
        ),
        "scroll_timeouts": sum(1 for w in longest if math.isinf(w)),
        "page_width": int(median("page_width")),
        "ended_at": sorted({m["url"] for m in loads}),
        # The last load's requests: [output (or endpoint), start ms, end ms], to see chains.
        "waterfall": middle[-1].get("calls") or [],
    }


def bench_browser(
    base_url: str,
    pages: Sequence[BrowserPage],
    passwords: Callable[[str], str],
    *,
    runs: int = 5,
    sizes: Sequence[str] = tuple(SIZES),
    quiet_ms: int = QUIET_MS,
    log: Callable[[str], None] = lambda _: None,
    screenshots: Path | None = None,
) -> dict[str, Any]:
    """Load every page once cold and ``runs`` times warm at each size, in passes over all the
    pages (each pass also loads the floor, ``/login``, signed out). With ``screenshots``, the
    last load of each page at each size is saved there as ``SIZE-PAGE.png``, to be looked at.

    Returns ``{"sizes": {size: {"viewport": [w, h], "floor": figures, "pages": {path:
    {"user", **figures}}}}}`` with figures as ``summarise`` gives them (times in ms since
    navigation start).
    """
    if runs < 1:
        raise BenchError("--runs must be at least 1")
    browser = Browser(base_url, quiet_ms)
    result: dict[str, Any] = {"chromium": browser.version, "sizes": {}}
    try:
        for username in dict.fromkeys(p.username for p in pages):
            browser.sign_in(username, passwords(username))
        for size in sizes:
            width, height = SIZES[size]
            browser.viewport(width, height)
            loads: dict[str, list[dict[str, Any]]] = {p.path: [] for p in pages}
            floor: list[dict[str, Any]] = []
            for run in range(runs + 1):
                log(f"{size} {width}x{height}: {'cold' if run == 0 else f'warm {run}/{runs}'}")
                browser.become(None)
                floor.append(browser.load(FLOOR_PATH))
                for page in pages:
                    browser.become(page.username)
                    loads[page.path].append(browser.load(page.path))
                    if screenshots is not None and run == runs:
                        browser.screenshot(screenshots / f"{size}-{_file_name(page.path)}.png")
            result["sizes"][size] = {
                "viewport": [width, height],
                "floor": summarise(floor),
                "pages": {p.path: {"user": p.username, **summarise(loads[p.path])} for p in pages},
            }
    finally:
        browser.close()
    desktop = result["sizes"].get("desktop", {}).get("pages", {})
    # A chart drawn when scrolled to has the same budget, counted from the scroll.
    over = [
        path
        for path, figures in desktop.items()
        if figures["p95_ms"] is None
        or figures["p95_ms"] > BUDGET_MS
        or figures.get("scroll_timeouts")
        or (figures.get("scroll_p95_ms") or 0) > BUDGET_MS
    ]
    result["over_budget"] = over
    result["within_budget"] = bool(desktop) and not over
    return result


def format_table(result: dict[str, Any]) -> str:
    """One block per size: the floor, then a line per page (cold, warm p50/p95/max, and the
    medians that say where the time goes)."""
    lines = [
        f"Browser: time to settled content (ms from navigation start; {result['runs']} warm "
        f"loads after one cold per page and size; budget {BUDGET_MS:.0f} ms p95 at 1440x900)",
        f"{result['scale']} demo city (seed {result['seed']}, today {result['today']}) on "
        f"{result['database']}; Chromium {result['chromium']}; load average before "
        f"{result['load_average_before']}, after {result['load_average_after']} on "
        f"{result['cpus']} CPUs",
        "last resp = when the last callback answer arrived; long tasks = main-thread JS blocks;",
        "scroll p95 = the longest wait for a chart drawn only when scrolled to (p95 of the "
        "loads), after the reader reaches it",
    ]
    header = (
        f"{'page':<30} {'user':<10} {'cold':>7} {'p50':>7} {'p95':>7} {'max':>7} "
        f"{'reqs':>5} {'last resp':>9} {'cb KB':>7} {'long tasks':>10} {'nodes':>6} "
        f"{'scroll p95':>10} {'flag':<4}"
    )

    def number(value: float | None) -> str:
        return "—" if value is None else f"{value:.0f}"

    def scroll(figures: dict[str, Any]) -> str:
        if figures.get("scroll_timeouts"):
            return "TIMEOUT"
        if not figures.get("charts_on_scroll"):
            return "-"
        return f"{number(figures.get('scroll_p95_ms'))} ({figures['charts_on_scroll']})"

    for size, block in result["sizes"].items():
        width, height = block["viewport"]
        lines += ["", f"{size} {width}x{height}", header, "-" * len(header)]
        rows = [("floor " + FLOOR_PATH, {"user": "-", **block["floor"]})]
        rows += list(block["pages"].items())
        for path, f in rows:
            flag = ""
            if f["timeouts"]:
                flag = f"TIMEOUT ({', '.join(f['waiting'])})"
            elif (
                size == "desktop"
                and not path.startswith("floor")
                and (
                    (f["p95_ms"] or 0) > BUDGET_MS
                    or f.get("scroll_timeouts")
                    or (f.get("scroll_p95_ms") or 0) > BUDGET_MS
                )
            ):
                flag = "OVER"
            lines.append(
                f"{path[:30]:<30} {f['user'][:10]:<10} {number(f['cold_ms']):>7} "
                f"{number(f['p50_ms']):>7} {number(f['p95_ms']):>7} {number(f['max_ms']):>7} "
                f"{f['requests']:>5.0f} {number(f['last_response_ms']):>9} "
                f"{number(f['callback_kb']):>7} {number(f['long_task_ms']):>10} "
                f"{f['dom_nodes']:>6} {scroll(f):>10} {flag}"
            )
    verdict = (
        "every page within budget"
        if result["within_budget"]
        else ("over budget at 1440x900: " + ", ".join(result["over_budget"]))
    )
    lines += ["", verdict]
    busy = busy_machine(result.get("load_average_before"), result.get("cpus"))
    if busy:
        lines.append(busy)
    return "\n".join(lines)


def busy_machine(load_before: float | None, cpus: int | None) -> str | None:
    """A warning when other work already kept the machine busy as the run began (load average
    at least half the CPUs): pages then settle slower than on a quiet machine. On this 2-core
    machine, a detector benchmark at nice 19 beside it turned 500-750 ms pages into
    850-1,280 ms; the floor, measured in the same run, rises with them."""
    if load_before is None or not cpus or load_before < cpus / 2:
        return None
    return (
        f"WARNING: the machine was busy before the run (load average {load_before:g} on "
        f"{cpus} CPUs): pages settle slower than on a quiet machine; compare them with the "
        "floor measured in the same run, or measure again when it is quiet."
    )


# ---------------------------------------------------------------- command line


def cmd_bench_browser(args: argparse.Namespace) -> int:
    """``triage bench browser``: prepare the city, serve it, measure, print the table (and,
    with ``--json``, one JSON object on the last line)."""

    def log(text: str) -> None:
        print(f"bench browser: {text}", file=sys.stderr, flush=True)

    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        raise CommandError(
            f"--sizes takes {', '.join(SIZES)} (comma-separated), not {args.sizes!r}"
        )
    if args.runs < 1:
        raise CommandError("--runs must be at least 1")
    try:
        prepared = prepare(
            args.db,
            seed=args.seed,
            scale=args.scale,
            cache_dir=Path(args.cache_dir) if args.cache_dir else DEFAULT_INSTANCE_DIR,
            today=Settings.from_env().today(),
            log=log,
        )
    except BenchError as exc:
        raise CommandError(str(exc)) from None
    database = Database(prepared.url)
    try:
        pages = choose_pages(database)
    finally:
        database.dispose()
    if args.pages:
        pages = filter_pages(pages, [p.strip() for p in args.pages.split(",") if p.strip()])
    secret = os.environ.get("TRIAGE_BENCH_PASSWORD")
    shots = Path(args.screenshots) if args.screenshots else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    load_before = _load_average()
    try:
        with serving(prepared.url, prepared.today.isoformat()) as base_url:
            log(f"serving {prepared.shown} on {base_url}; {len(pages)} pages")
            result = bench_browser(
                base_url,
                pages,
                lambda name: secret or demo_password(name),
                runs=args.runs,
                sizes=sizes,
                log=log,
                screenshots=shots,
            )
    except BenchError as exc:
        raise CommandError(str(exc)) from None
    result = {
        "bench": "browser",
        "scale": prepared.scale,
        "seed": prepared.seed,
        "today": prepared.today.isoformat(),
        "database": prepared.shown,
        "runs": args.runs,
        "quiet_ms": QUIET_MS,
        "budget_ms": BUDGET_MS,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
        **result,
    }
    result["busy"] = busy_machine(load_before, os.cpu_count()) is not None
    print(format_table(result))
    if args.json:
        print(json.dumps(result))
    return 0


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def register(commands: Any, bench: Any) -> None:
    """Add ``browser`` to the ``bench`` sub-parsers (``commands`` is unused)."""
    del commands
    browser = bench.add_parser(
        "browser",
        help="time to settled content of every page in headless Chromium (budget 1 s p95)",
    )
    browser.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="measure this database, seeding it when empty (default: a cached SQLite file)",
    )
    browser.add_argument("--scale", choices=("small", "city", "large"), default="city")
    browser.add_argument("--seed", type=int, default=7, help="demo city seed (default 7)")
    browser.add_argument(
        "--cache-dir", help="folder of the cached bench-SCALE-SEED.sqlite3 (default: instance/)"
    )
    browser.add_argument(
        "--runs", type=int, default=5, help="warm loads per page and size, after one cold (5)"
    )
    browser.add_argument(
        "--sizes", default=",".join(SIZES), help="desktop (1440x900), phone (390x844) or both"
    )
    browser.add_argument(
        "--pages", help="comma-separated paths (default: every page, each problem and admin tab)"
    )
    browser.add_argument(
        "--screenshots",
        metavar="DIR",
        help="save each page's last load at each size as DIR/SIZE-PAGE.png (whole page)",
    )
    browser.add_argument("--json", action="store_true", help="the figures as JSON on the last line")
    browser.set_defaults(func=cmd_bench_browser)
