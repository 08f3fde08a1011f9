"""Every page on a phone (390x844) in headless Chromium: nothing is wider than the screen except
inside a scroll region, each scroll region is in the tab order and named, and axe-core finds no
serious or critical WCAG 2.1 AA violation at 390 px nor at 1440 px.

Each page is visited by a role that sees it (the mayor, the chief of staff with the editors, the
analyst with the alert actions, a department head, the administrator). Screenshots of every page
at both sizes go to tests/browser/screenshots/phone-<page>-{390,1440}.png.
"""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from dash.testing.wait import until
from sqlalchemy import func, select

from db.models import CausalFactor, Problem
from layouts.problem import TABS
from tests.browser import axe
from tests.browser.browserutil import (
    CYTOSCAPE_JS,
    WINDOW,
    draw_every_chart,
    screenshot,
    serious_with_folds_open,
    severe_logs,
    sign_in,
)
from tests.webutil import WebEnv

pytestmark = pytest.mark.browser

PHONE = (390, 844)
WAIT = 40  # seconds: a page's first visit draws several charts

# Everything that sticks out past the right edge of the viewport (what makes a page scroll
# sideways; Plotly parks a measuring SVG far off to the left), unless a scroll region (an
# ancestor that scrolls or clips sideways and itself fits) holds it; then every region that does
# scroll sideways and is not in the tab order with a name. Plotly's and Cytoscape's boxes clip.
LAYOUT_PROBLEMS = """
const vw = document.documentElement.clientWidth;
const clips = (el) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(el).overflowX);
const held = (el) => {
  for (let a = el.parentElement; a; a = a.parentElement) {
    if (clips(a) && a.getBoundingClientRect().right <= vw + 1) return true;
  }
  return false;
};
const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
  + [...el.classList].map((c) => "." + c).join("");
const wide = [];
for (const el of document.querySelectorAll("body *")) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= vw + 1 || held(el)) continue;
  if (el.parentElement.getBoundingClientRect().right > vw + 1 && !held(el.parentElement)) {
    continue;  // only the outermost
  }
  wide.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
}
const unreachable = [];
for (const el of document.querySelectorAll("body *")) {
  const style = getComputedStyle(el);
  if (!["auto", "scroll"].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) {
    continue;
  }
  const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
  if (el.tabIndex < 0 || !labelled) unreachable.push(name(el));
}
return {
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: vw,
  innerWidth: window.innerWidth,
  wide: wide,
  unreachable: unreachable,
};
"""

# The graphs of the page are drawn (each Plotly graph has its SVG).
GRAPHS_DRAWN = """
const graphs = [...document.querySelectorAll(".js-plotly-plot")];
return graphs.every((g) => g.querySelector(".main-svg"));
"""


def richest_problem(env: WebEnv) -> int:
    """The demo problem with the most causal factors: its tabs have the most to show."""
    with env.database.session() as session:
        problem_id = session.scalar(
            select(Problem.id)
            .join(CausalFactor, CausalFactor.problem_id == Problem.id)
            .group_by(Problem.id)
            .order_by(func.count(CausalFactor.id).desc(), Problem.id)
        )
        assert problem_id is not None
        return int(problem_id)


def settle(duo) -> None:
    """Wait for the page's heading, every loading spinner to end and every graph drawn."""
    duo.wait_for_element("#shell-main-region h1", timeout=WAIT)
    time.sleep(0.5)  # the page's callbacks start
    until(lambda: not duo.find_elements("[data-dash-is-loading='true']"), timeout=WAIT)
    draw_every_chart(duo)  # the deferred ones too: they must fit the screen as well
    until(lambda: duo.driver.execute_script(GRAPHS_DRAWN), timeout=WAIT)
    time.sleep(0.5)  # Plotly and Cytoscape fit themselves to the new width


def resize(duo, size: tuple[int, int]) -> None:
    duo.driver.set_window_size(*size)
    until(lambda: duo.driver.execute_script("return window.innerWidth;") == size[0], timeout=5)
    time.sleep(0.7)  # responsive graphs redraw on the resize event


def assert_fits(duo, page: str, size: tuple[int, int]) -> None:
    found = duo.driver.execute_script(LAYOUT_PROBLEMS)
    width = size[0]
    assert found["innerWidth"] == width, found
    # clientWidth is innerWidth less a desktop scrollbar (a phone's scrollbar takes no room).
    room = found["clientWidth"]
    assert found["scrollWidth"] <= room <= found["innerWidth"], (
        f"{page} at {width} px is {found['scrollWidth'] - room} px wider than the screen: "
        + "; ".join(found["wide"][:8])
    )
    assert found["wide"] == [], f"{page} at {width} px: " + "; ".join(found["wide"][:8])
    assert found["unreachable"] == [], (
        f"{page} at {width} px: regions that scroll sideways but are not focusable and named: "
        + "; ".join(found["unreachable"][:8])
    )


def axe_clean(duo, page: str, size: tuple[int, int]) -> None:
    """No serious or critical violations, with every folded table opened too."""
    serious = serious_with_folds_open(duo)
    assert serious == [], f"{page} at {size[0]} px: " + axe.describe(serious)


# Raw missing values and programming words that must never reach a reader (checked as whole
# words of the main region's text).
RAW_WORDS = ("nan", "NaN", "None", "null", "undefined", "NaT", "Traceback")


def main_text(duo) -> str:
    """The text the page's main region shows, as a reader sees it."""
    return duo.driver.execute_script(
        "return document.querySelector('#shell-main-region').innerText;"
    )


def raw_words(duo) -> list[str]:
    """The raw words the page's main region shows, with a little context for each."""
    text = main_text(duo)
    found = []
    for line in text.splitlines():
        words = set(line.replace(",", " ").replace(":", " ").replace(".", " ").split())
        found.extend(f"{word!r} in {line.strip()[:120]!r}" for word in RAW_WORDS if word in words)
    return found


def check_page(duo, page: str, path: str) -> None:
    """Open ``path`` on a phone: it fits, shows no raw ``nan``/``None``, axe is clean; then
    the same at 1440x900.

    The page is loaded afresh at each size, as a person opening it on that device would see it.
    """
    for size in (PHONE, WINDOW):
        duo.driver.set_window_size(*size)
        duo.driver.get(f"{duo.server.url}{path}")
        resize(duo, size)
        settle(duo)
        assert_fits(duo, page, size)
        assert raw_words(duo) == [], f"{page} at {size[0]} px"
        screenshot(duo, f"phone-{page}-{size[0]}", size=size)
        axe_clean(duo, page, size)


def start(duo, username: str, path: str) -> None:
    """Sign in (as a fresh browser: earlier cookies are dropped) and land on ``path``."""
    duo.driver.delete_all_cookies()
    duo.driver.set_window_size(*PHONE)
    sign_in(duo, username, next_path=quote(path, safe="/"))


def test_phone001_mayors_pages_fit_a_phone(app_duo) -> None:
    axe.axe_source()
    start(app_duo, "mayor", "/")
    for page, path in (
        ("priorities", "/"),
        ("problems", "/problems"),
        ("alerts-mayor", "/alerts"),
        ("actors", "/actors"),
        ("reports", "/reports"),
    ):
        check_page(app_duo, page, path)
    assert severe_logs(app_duo) == []


def test_phone002_every_problem_tab_fits_a_phone(app_duo, web_env: WebEnv) -> None:
    """The chief of staff's view: every tab, with the map and record editors below."""
    axe.axe_source()
    problem_id = richest_problem(web_env)
    start(app_duo, "chief", f"/problems/{problem_id}")
    for tab, _label in TABS:
        check_page(app_duo, f"problem-{tab}", f"/problems/{problem_id}?tab={tab}")
    assert severe_logs(app_duo) == []


def test_phone003_department_head_and_analyst_fit_a_phone(app_duo, web_env: WebEnv) -> None:
    axe.axe_source()
    start(app_duo, web_env.head_username(), "/department")
    check_page(app_duo, "department-head", "/department")
    check_page(app_duo, "alerts-head", "/alerts")
    start(app_duo, "analyst", "/alerts")
    check_page(app_duo, "alerts-analyst", "/alerts")
    assert severe_logs(app_duo) == []


def test_phone004_administration_fits_a_phone(app_duo) -> None:
    axe.axe_source()
    start(app_duo, "chief", "/admin?tab=weights")
    for tab in ("weights", "mapping", "sources"):
        check_page(app_duo, f"admin-{tab}", f"/admin?tab={tab}")
    check_page(app_duo, "glossary", "/glossary")
    check_page(app_duo, "department-chief", "/department")
    start(app_duo, "admin", "/admin?tab=users")
    check_page(app_duo, "admin-users", "/admin?tab=users")
    assert severe_logs(app_duo) == []


def test_phone005_row_actions_stay_on_a_phone_screen(app_duo) -> None:
    """On a phone the short list and the alerts feed are cards, one per row: each row's button
    (record a decision, show an alert's evidence) is inside the screen, not at x 950 px in a
    table that scrolls sideways, as New York's walk-through found."""
    start(app_duo, "mayor", "/")
    for path, selector in (("/", ".decide-button"), ("/alerts", ".data-table-stack button")):
        assert_on_phone_screen(app_duo, path, selector, first=5)


def assert_on_phone_screen(duo, path: str, selector: str, *, first: int) -> None:
    """Load ``path`` at phone width and assert that its ``first`` elements matching
    ``selector`` exist and lie inside the screen, left and right."""
    duo.driver.get(f"{duo.server.url}{path}")
    resize(duo, PHONE)
    settle(duo)
    edges = duo.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].slice(0, arguments[1]).map("
        "e => [e.getBoundingClientRect().left, e.getBoundingClientRect().right]);",
        selector,
        first,
    )
    width = duo.driver.execute_script("return document.documentElement.clientWidth")
    assert edges, f"no {selector} on {path}"
    assert all(left >= 0 and right <= width for left, right in edges), (path, edges, width)


def test_phone006_what_residents_wrote_and_who_is_engaged_stay_on_a_phone_screen(
    app_duo, web_env: WebEnv
) -> None:
    """On a phone the recent reports (Citizen reports, and a problem's reports) and a
    problem's actors are cards: what the resident wrote and an actor's last contact were off
    the screen to the right, in a table that scrolled sideways."""
    problem_id = richest_problem(web_env)
    start(app_duo, "mayor", "/reports")
    for path, selector in (
        ("/reports", "#reports-recent-div .report-text"),
        (f"/problems/{problem_id}?tab=actors", "#problem-actors-div .data-table-stack td"),
    ):
        assert_on_phone_screen(app_duo, path, selector, first=12)


MAP_EXTENT = (
    CYTOSCAPE_JS
    + """
if (!cy) { return null; }
const drawn = cy.elements().renderedBoundingBox();
return {x1: drawn.x1, x2: drawn.x2, y1: drawn.y1, y2: drawn.y2,
        width: holder.clientWidth, height: holder.clientHeight, nodes: cy.nodes().length};
"""
)


def drawn(duo) -> dict | None:
    """Where the backward map's elements are drawn in its box (CSS px), and the box's size;
    None while there is no map yet."""
    graphs = duo.find_elements(".map-graph")
    return duo.driver.execute_script(MAP_EXTENT, graphs[0]) if graphs else None


def test_phone007_the_whole_backward_map_is_on_a_phone_screen(app_duo, web_env: WebEnv) -> None:
    """On a phone (390 px, and 360 px, a common Android width) the backward map is drawn whole
    inside its box, as at 1440: the city demo's widest map was cut at both sides at 390 px, its
    zoom held at a floor (0.3) above what fitting it needed (0.22). Turned or resized, the map
    is fitted again to its box's new width (it kept its zoom, cut or small)."""
    problem_id = richest_problem(web_env)
    path = f"/problems/{problem_id}?tab=map"
    start(app_duo, "mayor", path)
    for size in ((360, 780), PHONE, WINDOW):
        app_duo.driver.set_window_size(*size)
        app_duo.driver.get(f"{app_duo.server.url}{path}")
        resize(app_duo, size)
        settle(app_duo)
        assert_map_whole(app_duo, f"opened at {size}")
    for size in (PHONE, WINDOW):  # from 1440 down to 390, and back
        resize(app_duo, size)
        assert_map_whole(app_duo, f"resized to {size}")


def assert_map_whole(duo, where: str) -> None:
    """Every node and edge of the backward map lies inside its box (within a pixel)."""
    # Laid out and fitted: the extent is finite (null while Cytoscape has not placed the
    # nodes) and inside the box (a refit after a resize comes 150 ms after the last change).
    until(lambda: _inside(drawn(duo)), timeout=5, msg=f"{where}: {drawn(duo)}")
    extent = drawn(duo)
    assert extent is not None and extent["nodes"] >= 8, (where, extent)


def _inside(extent: dict | None) -> bool:
    if not extent or extent.get("x1") is None:
        return False
    return (
        extent["x1"] >= -1
        and extent["x2"] <= extent["width"] + 1
        and extent["y1"] >= -1
        and extent["y2"] <= extent["height"] + 1
    )
