"""The problem drill-down in headless Chromium: tabs by URL, the backward-map graph, editing the
map in place, the conflict when someone else saved first, read-only for the mayor, and axe.

Screenshots of every tab (1440x900) go to tests/browser/screenshots/brprob-*.png.
"""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, select

from db.backward_map import add_factor, update_factor
from db.models import CausalFactor, Problem
from layouts import ids
from layouts.problem import TABS
from tests import webutil
from tests.browser import axe
from tests.browser.browserutil import CYTOSCAPE_JS, screenshot, severe_logs, sign_in
from tests.webutil import WebEnv, post_callback, signed_in_client

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1"><b>bold</b> & <script>window.__xss=2</script>'


def richest_problem(env: WebEnv) -> tuple[int, str]:
    """The demo problem with the most causal factors (a full backward map to look at)."""
    with env.database.session() as session:
        row = session.execute(
            select(Problem.id, Problem.title)
            .join(CausalFactor, CausalFactor.problem_id == Problem.id)
            .group_by(Problem.id, Problem.title)
            .order_by(func.count(CausalFactor.id).desc(), Problem.id)
        ).first()
        assert row is not None
        return int(row[0]), str(row[1])


def serious_axe_violations(duo) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of impact serious or critical on the current page."""
    return axe.blocking(axe.violations(duo.driver))


def open_tab(duo, tab: str) -> None:
    click(duo, f"#{ids.problem_tab_button(tab)}")
    panel = f"#{ids.PROBLEM_SECTIONS_DIV} #{_panel(tab)}"
    duo.wait_for_element(f"{panel} .tab-section", timeout=20)
    until(lambda: f"tab={tab}" in duo.driver.current_url or tab == "overview", timeout=5)


def _panel(tab: str) -> str:
    from layouts.problem import TAB_PANELS

    return TAB_PANELS[tab]


def scroll_to_tabs(duo) -> None:
    """Bring the tab strip to the top of the viewport so a screenshot shows the tab's content."""
    tabs = duo.find_element(f"#{ids.PROBLEM_TABS}")
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});", tabs
    )


def click(duo, selector: str) -> None:
    """Scroll an element to the middle of the viewport, then click it like a person."""
    element = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


NODE_POSITION = (
    CYTOSCAPE_JS
    + """
const box = arguments[0].getBoundingClientRect(), inner = holder.getBoundingClientRect();
const p = cy.getElementById(arguments[1]).renderedPosition();
return [Math.round(p.x + inner.left - box.left), Math.round(p.y + inner.top - box.top)];
"""
)


def node_position(duo, graph, node_id: str) -> tuple[int, int]:
    """Where Cytoscape drew a node, from the graph element's top-left corner (CSS pixels)."""
    until(lambda: duo.driver.execute_script(CYTOSCAPE_JS + "return cy !== null;", graph), 10)
    x, y = duo.driver.execute_script(NODE_POSITION, graph, node_id)
    return int(x), int(y)


def _visible(duo, selector: str) -> bool:
    return any(e.is_displayed() for e in duo.find_elements(selector))


def test_brprob001_chief_edits_the_map_and_meets_a_conflict(app_duo, web_env: WebEnv) -> None:
    problem_id, title = richest_problem(web_env)
    sign_in(app_duo, "chief", next_path=f"/problems/{problem_id}?tab=map")
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_HEADER_DIV} h1", title, timeout=20)
    # The deep link opened the map tab: the graph (a Cytoscape canvas) and its table are there.
    app_duo.wait_for_element(f"#{ids.PROBLEM_MAP_DIV} .map-graph canvas", timeout=20)
    factor_rows = f"#{ids.PROBLEM_MAP_DIV} table tbody tr"
    before = len(app_duo.find_elements(factor_rows))
    assert before >= 3
    assert _visible(app_duo, f"#{ids.PROBLEM_FACTOR_PANEL}")
    scroll_to_tabs(app_duo)
    screenshot(app_duo, "brprob-map-chief")

    # Add a factor that feeds into the first one on the map.
    app_duo.wait_for_element(f"#{ids.PROBLEM_FACTOR_SELECT} option[value='new']", timeout=10)
    title_input = app_duo.find_element(f"#{ids.problem_field('factor', 'title')}")
    title_input.send_keys("Speeding on wide arterials at night")
    click(app_duo, f"#{ids.problem_field('factor', 'reach')} input[value='influences']")
    Select(app_duo.find_element(f"#{ids.problem_field('factor', 'evidence')}")).select_by_value(
        "strong"
    )
    click(app_duo, f"#{ids.problem_field('factor', 'parent_ids')} input")
    click(app_duo, f"#{ids.PROBLEM_FACTOR_SAVE_BUTTON}")
    app_duo.wait_for_contains_text(
        f"#{ids.PROBLEM_FACTOR_FEEDBACK_DIV}", "Added the causal factor", timeout=15
    )
    until(lambda: len(app_duo.find_elements(factor_rows)) == before + 1, timeout=15)
    assert (
        "Speeding on wide arterials at night"
        in app_duo.find_element(f"#{ids.PROBLEM_MAP_DIV}").text
    )
    screenshot(app_duo, "brprob-map-factor-added", focus=f"#{ids.PROBLEM_FACTOR_FEEDBACK_DIV}")

    # Someone else saves the map while this page still holds the version it loaded.
    title_input = app_duo.find_element(f"#{ids.problem_field('factor', 'title')}")
    until(lambda: title_input.get_attribute("value") == "", timeout=10)
    title_input.send_keys("Poor street lighting")
    click(app_duo, f"#{ids.problem_field('factor', 'reach')} input[value='controls']")
    with web_env.database.session(write=True) as session:
        version = session.scalar(select(Problem.version).where(Problem.id == problem_id))
        add_factor(
            session,
            web_env.principal("admin"),
            problem_id,
            version,
            {"title": "Added by someone else", "reach": "outside"},
        )
    click(app_duo, f"#{ids.PROBLEM_FACTOR_SAVE_BUTTON}")
    app_duo.wait_for_contains_text(
        f"#{ids.PROBLEM_FACTOR_FEEDBACK_DIV}", "changed by someone else", timeout=15
    )
    feedback = app_duo.find_element(f"#{ids.PROBLEM_FACTOR_FEEDBACK_DIV}")
    assert "nothing of yours was saved" in feedback.text
    assert feedback.find_element(By.CSS_SELECTOR, "[role=alert]")
    with web_env.database.session() as session:
        titles = set(
            session.scalars(select(CausalFactor.title).where(CausalFactor.problem_id == problem_id))
        )
    assert "Poor street lighting" not in titles and "Added by someone else" in titles
    screenshot(app_duo, "brprob-map-conflict", focus=f"#{ids.PROBLEM_FACTOR_FEEDBACK_DIV}")

    # "Reload the latest version" shows the other person's factor.
    feedback.find_element(By.LINK_TEXT, "Reload the latest version").click()
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_MAP_DIV}", "Added by someone else", timeout=20)
    assert severe_logs(app_duo) == []


def test_brprob002_every_tab_by_url_with_screenshots_and_axe(app_duo, web_env: WebEnv) -> None:
    problem_id, title = richest_problem(web_env)
    chief = web_env.principal("chief")
    with web_env.database.session(write=True) as session:  # something for the audit trail
        version = session.scalar(select(Problem.version).where(Problem.id == problem_id))
        saved = add_factor(
            session, chief, problem_id, version, {"title": "Stray bullets", "reach": "outside"}
        )
        update_factor(session, chief, saved.entity_id, saved.version, {"weight": 0.3})
    sign_in(app_duo, "chief", next_path=f"/problems/{problem_id}")
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_HEADER_DIV} h1", title, timeout=20)
    app_duo.wait_for_element(f"#{ids.PROBLEM_HEADER_DIV} .kpi-card", timeout=20)
    problems: dict[str, list[dict]] = {}
    for tab, _label in TABS:
        open_tab(app_duo, tab)
        if tab in {"overview", "indicators", "reports"}:
            app_duo.wait_for_element(f"#{_panel(tab)} .js-plotly-plot", timeout=20)
        if tab == "map":
            app_duo.wait_for_element(f"#{ids.PROBLEM_MAP_DIV} .map-graph canvas", timeout=20)
        scroll_to_tabs(app_duo)
        screenshot(app_duo, f"brprob-tab-{tab}")
        found = serious_axe_violations(app_duo)
        if found:
            problems[tab] = found
    assert problems == {}, "\n".join(f"{tab}: {axe.describe(v)}" for tab, v in problems.items())
    # Tabs are buttons: the keyboard opens them too.
    app_duo.find_element(f"#{ids.problem_tab_button('actors')}").send_keys(Keys.ENTER)
    until(lambda: _visible(app_duo, f"#{ids.problem_tab_panel('actors')}"), timeout=5)
    assert not _visible(app_duo, f"#{ids.problem_tab_panel('history')}")
    # The address bar follows the tabs; reloading it reopens the same tab.
    app_duo.driver.get(f"{app_duo.server.url}/problems/{problem_id}?tab=history")
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_HISTORY_DIV}", "Audit trail", timeout=20)
    trail = app_duo.find_element(f"#{ids.PROBLEM_HISTORY_DIV} .audit-list").text
    assert "chief changed causal factor “Stray bullets”: weight 0.5 → 0.3." in trail
    active = app_duo.find_element(f"#{ids.PROBLEM_TABS} [aria-selected='true']")
    assert active.text == dict(TABS)["history"]
    assert severe_logs(app_duo) == []


def test_brprob003_mayor_reads_without_edit_controls(app_duo, web_env: WebEnv) -> None:
    problem_id, title = richest_problem(web_env)
    with web_env.database.session(write=True) as session:
        version = session.scalar(select(Problem.version).where(Problem.id == problem_id))
        add_factor(
            session,
            web_env.principal("chief"),
            problem_id,
            version,
            {"title": XSS, "reach": "outside"},
        )
    sign_in(app_duo, "mayor", next_path=f"/problems/{problem_id}?tab=map")
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_HEADER_DIV} h1", title, timeout=20)
    app_duo.wait_for_element(f"#{ids.PROBLEM_MAP_DIV} .map-graph canvas", timeout=20)
    # Stored text is shown as text: the payload appears verbatim and nothing ran.
    app_duo.wait_for_contains_text(f"#{ids.PROBLEM_MAP_DIV} table", XSS, timeout=10)
    assert app_duo.driver.execute_script("return window.__xss === undefined")
    assert app_duo.find_elements(f"#{ids.PROBLEM_MAP_DIV} table img") == []
    for panel in (
        ids.PROBLEM_EDIT_PANEL,
        ids.PROBLEM_FACTOR_PANEL,
        ids.PROBLEM_ENGAGEMENT_PANEL,
        ids.PROBLEM_INNOVATION_PANEL,
    ):
        assert not _visible(app_duo, f"#{panel}"), panel
    assert not any(b.is_displayed() for b in app_duo.find_elements("button.btn-primary"))
    # Selecting the condition in the graph (a click where Cytoscape drew it) describes it.
    graph = app_duo.find_element(f"#{ids.PROBLEM_MAP_DIV} .map-graph")
    app_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", graph
    )
    x, y = node_position(app_duo, graph, f"problem-{problem_id}")
    ActionChains(app_duo.driver).move_to_element_with_offset(graph, x, y).click().perform()
    app_duo.wait_for_contains_text(".map-detail", "causal factors are mapped", timeout=10)
    assert title in app_duo.find_element(".map-detail").text
    scroll_to_tabs(app_duo)
    screenshot(app_duo, "brprob-map-mayor")
    found = serious_axe_violations(app_duo)
    assert found == [], axe.describe(found)
    # No editor callback ran for the mayor, so nothing was refused along the way.
    assert severe_logs(app_duo) == []

    # A direct POST to an edit callback is refused and writes nothing.
    client = signed_in_client(web_env, "mayor")
    deps = {d["output"]: d for d in webutil.dependencies(client)}
    output = next(o for o in deps if ids.PROBLEM_FACTOR_FEEDBACK_DIV in o)
    with web_env.database.session() as session:
        before = session.scalar(select(func.count()).select_from(CausalFactor))
        version = session.scalar(select(Problem.version).where(Problem.id == problem_id))
    body = webutil.callback_body(
        deps[output],
        {
            f"{ids.PROBLEM_FACTOR_SAVE_BUTTON}.n_clicks": 1,
            f"{ids.PROBLEM_FACTOR_SELECT}.value": "new",
            f"{ids.problem_field('factor', 'title')}.value": "Mayor's factor",
            f"{ids.problem_field('factor', 'reach')}.value": "controls",
            f"{ids.PROBLEM_VERSION_STORE}.data": version,
            f"{ids.PROBLEM_ID_STORE}.data": problem_id,
        },
    )
    response = post_callback(client, body)
    assert response.status_code == 403
    with web_env.database.session() as session:
        assert session.scalar(select(func.count()).select_from(CausalFactor)) == before
