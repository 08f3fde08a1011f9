"""Actors, citizen reports and administration in headless Chromium: each page loads for its
roles, filters live in the address and change the charts, the chief of staff previews and saves
scoring weights, other roles are refused the weights tab and its save callback (403), and axe
finds no serious or critical WCAG 2.1 AA violations. Screenshots at 1440x900."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from db.models import CategoryProblem
from db.scores import load_weights
from tests import webutil
from tests.browser import axe
from tests.browser.browserutil import (
    charts_left_to_draw,
    screenshot,
    serious_with_folds_open,
    severe_logs,
    sign_in,
)
from tests.webutil import WebEnv, signed_in_client
from triage.scoring import ScoringWeights

pytestmark = pytest.mark.browser

WAIT = 40  # seconds: the first visit of a page draws several charts

# A POST from the signed-in browser itself, with its session cookie and CSRF token.
POST_CALLBACK_JS = """
const [body, done] = [arguments[0], arguments[arguments.length - 1]];
const token = (document.cookie.split("; ").find((c) => c.startsWith("_csrf_token=")) || "")
    .split("=")[1];
fetch("/_dash-update-component", {
    method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify(body),
}).then((r) => done(r.status)).catch((e) => done(String(e)));
"""


def go(duo, username: str, path: str) -> None:
    """Sign in and land on ``path``, query string included (``next`` must be encoded)."""
    sign_in(duo, username, next_path=quote(path, safe="/"))


def settled(duo, *selectors: str) -> None:
    """Wait for the selectors, every loading spinner to finish and every chart to be drawn
    (scrolling to each deferred one, as a reader does)."""

    def ready() -> bool:
        left = charts_left_to_draw(duo)
        drawn = all(duo.find_elements(selector) for selector in selectors)
        return left == 0 and drawn and not duo.find_elements("[data-dash-is-loading='true']")

    until(ready, timeout=WAIT)
    duo.driver.execute_script("window.scrollTo(0, 0);")
    time.sleep(0.5)


def click(duo, selector: str) -> None:
    """Scroll an element to the middle of the window, then click it like a person. The scroll
    is instant: the page scrolls smoothly, and a click during that animation can land on
    whatever is passing under the pointer."""
    element = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    time.sleep(0.2)
    element.click()


def query(duo) -> str:
    return duo.driver.execute_script("return window.location.search;")


def axe_clean(duo, name: str) -> None:
    """No serious or critical violations, with every folded table opened too."""
    serious = serious_with_folds_open(duo)
    assert serious == [], f"{name}: " + axe.describe(serious)


def graph_data(duo, container: str) -> list[dict[str, Any]]:
    """The traces Plotly drew inside ``container`` (their x values and names), after scrolling
    to the next chart not yet drawn (a redrawn chart far down the page waits for the reader)."""
    charts_left_to_draw(duo)
    script = (
        "const g = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return g ? g.data.map(t => ({name: t.name || null, x: t.x || null})) : null;"
    )
    return duo.driver.execute_script(script, container)


# ---------------------------------------------------------------- actors


def test_bract001_actors_filters_change_the_address_and_the_charts(app_duo) -> None:
    axe.axe_source()
    go(app_duo, "mayor", "/actors")
    settled(
        app_duo,
        "#actors-directory-div table tbody tr",
        "#actors-heatmap-div .js-plotly-plot",
        "#actors-sankey-div .js-plotly-plot",
        "#actors-gaps-div table",
    )
    assert "Actors" in app_duo.find_element("#shell-main-nav").text
    assert len(graph_data(app_duo, "#actors-heatmap-div")[0]["x"]) == 9
    # Every problem and sector name is drawn whole, inside the chart (margins are fixed, not
    # measured by Plotly: an estimate too small clips the start of long names).
    clipped = app_duo.driver.execute_script(
        "const svg = document.querySelector('#actors-heatmap-div .main-svg')"
        ".getBoundingClientRect();"
        "return [...document.querySelectorAll('#actors-heatmap-div .xtick text, "
        "#actors-heatmap-div .ytick text')].map(t => [t.textContent, t.getBoundingClientRect()])"
        ".filter(([_, r]) => r.left < svg.left - 1 || r.top < svg.top - 1).map(([t]) => t);"
    )
    assert clipped == [], clipped
    screenshot(app_duo, "bract001-actors-mayor")
    axe_clean(app_duo, "actors")

    Select(app_duo.find_element("#actors-sector-select")).select_by_value("philanthropic")
    until(lambda: "sector=philanthropic" in query(app_duo), timeout=10)
    until(lambda: (graph_data(app_duo, "#actors-heatmap-div") or [{}])[0].get("x") == [
        "Philanthropy"
    ], timeout=WAIT)  # fmt: skip
    app_duo.wait_for_contains_text("#actors-directory-div", "in philanthropy", timeout=WAIT)

    click(app_duo, "#actors-measure-radio input[value='funding']")
    until(lambda: "measure=funding" in query(app_duo), timeout=10)
    app_duo.wait_for_contains_text(
        "#actors-heatmap-div", "Rows are the", timeout=WAIT
    )  # the caption is redrawn
    search = app_duo.find_element("#actors-search-input")
    search.send_keys("foundation", Keys.ENTER)
    until(lambda: "q=foundation" in query(app_duo), timeout=10)
    app_duo.wait_for_contains_text("#actors-directory-div", "matching “foundation”", timeout=WAIT)
    settled(app_duo, "#actors-directory-div .kpi-card")
    screenshot(app_duo, "bract001-actors-filtered")
    assert severe_logs(app_duo) == []


def test_bract002_a_deep_link_restores_every_filter(app_duo) -> None:
    go(app_duo, "analyst", "/actors?sector=media&measure=funding&min_sectors=5")
    settled(app_duo, "#actors-heatmap-div .js-plotly-plot", "#actors-gaps-div table")
    assert Select(app_duo.find_element("#actors-sector-select")).first_selected_option.text == (
        "Media"
    )
    assert app_duo.find_element("#actors-measure-radio input[value='funding']").is_selected()
    assert "fewer than 5 sectors" in app_duo.find_element("#actors-gaps-div").text
    app_duo.driver.execute_script(
        "document.querySelector('#actors-gaps-div').scrollIntoView({block: 'start'});"
    )
    time.sleep(0.3)
    screenshot(app_duo, "bract002-actors-gaps")


def test_bract003_folds_draw_their_content_when_first_opened_by_click_or_keyboard(
    app_duo,
) -> None:
    """A chart's table and an actor's engagements are sent with the page but drawn only on
    first opening (layouts.components.lazy_fold): closed, the page holds none of their
    cells; a click on the summary, or Enter on it, draws them."""
    go(app_duo, "mayor", "/actors")
    settled(app_duo, "#actors-directory-div table tbody tr", "#actors-heatmap-div .js-plotly-plot")
    driver = app_duo.driver
    heat_fold = "#actors-heatmap-div details.chart-table"
    assert app_duo.find_elements(f"{heat_fold} tr") == []
    click(app_duo, f"{heat_fold} > summary")
    app_duo.wait_for_element(f"{heat_fold}[open] table tbody tr", timeout=10)
    rows = len(app_duo.find_elements(f"{heat_fold} tbody tr"))
    shown = int(driver.execute_script(
        "return document.querySelector('#actors-heatmap-div figcaption').textContent"
        ".match(/Rows are the (\\d+) open problems/)[1];"
    ))  # fmt: skip
    assert rows == shown > 0
    # Closing and opening again keeps what was drawn, once.
    click(app_duo, f"{heat_fold} > summary")
    click(app_duo, f"{heat_fold} > summary")
    assert len(app_duo.find_elements(f"{heat_fold} tbody tr")) == rows

    engagements = "#actors-directory-div details.engagement-details"
    first = app_duo.find_element(f"{engagements} > summary")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", first)
    assert app_duo.find_elements(f"{engagements} .engagement-list") == []
    first.send_keys(Keys.ENTER)
    app_duo.wait_for_element(f"{engagements}[open] .engagement-list li a", timeout=10)
    count = int(first.text.split()[0])
    listed = app_duo.find_elements(f"{engagements}[open] .engagement-list li")
    assert len(listed) == count
    assert severe_logs(app_duo) == []


FAR_CHART_JS = """
const place = document.querySelector(arguments[0] + ' [data-deferred-key]');
return place ? {top: place.getBoundingClientRect().top + window.scrollY,
                height: place.getBoundingClientRect().height} : null;
"""


def test_bract004_charts_far_down_the_page_are_drawn_when_the_reader_reaches_them(
    app_duo,
) -> None:
    """At 1440x900 the Actors page draws its directory at once; the heat map and the funding
    flows, more than a screen below, travel with the page but are drawn only when the reader
    scrolls near them (layouts.components.deferred). Their places have the charts' height,
    so the page does not jump when they are drawn."""
    app_duo.driver.set_window_size(1440, 900)
    go(app_duo, "mayor", "/actors")
    app_duo.wait_for_element("#actors-directory-div table tbody tr", timeout=WAIT)
    until(lambda: not app_duo.find_elements("[data-dash-is-loading='true']"), timeout=WAIT)
    time.sleep(1.0)  # what would be drawn on its own has been
    driver = app_duo.driver
    far = driver.execute_script(FAR_CHART_JS, "#actors-sankey-div")
    assert far is not None and far["top"] > 2 * 900, far
    assert app_duo.find_elements("#actors-sankey-div .js-plotly-plot") == []
    assert app_duo.find_elements("#actors-heatmap-div .js-plotly-plot") == []
    # Scrolled to: drawn, at the height its place kept.
    driver.execute_script(
        "window.scrollTo(0, arguments[0] - 300);", far["top"]
    )  # the place's top 300 px below the window's
    app_duo.wait_for_element("#actors-sankey-div .js-plotly-plot .main-svg", timeout=WAIT)
    graph = app_duo.find_element("#actors-sankey-div .js-plotly-plot")
    assert abs(graph.size["height"] - far["height"]) <= 2, (graph.size, far)
    assert app_duo.find_elements("#actors-sankey-div [data-deferred-key]") == []
    sankey = driver.execute_script(
        "return document.querySelector('#actors-sankey-div .js-plotly-plot').data[0].type;"
    )
    assert sankey == "sankey"
    # The heat map, less than a screen above the window now, is drawn too.
    app_duo.wait_for_element("#actors-heatmap-div .js-plotly-plot .main-svg", timeout=WAIT)
    assert len(app_duo.find_elements(".js-plotly-plot")) == 2
    assert severe_logs(app_duo) == []


# ---------------------------------------------------------------- citizen reports


def test_brrep001_reports_filters_change_the_address_and_the_charts(app_duo) -> None:
    axe.axe_source()
    go(app_duo, "mayor", "/reports")
    settled(
        app_duo,
        "#reports-summary-div .kpi-card",
        "#reports-trend-div .js-plotly-plot",
        "#reports-categories-div .js-plotly-plot",
        "#reports-districts-div .js-plotly-plot",
        "#reports-recent-div table tbody tr",
    )
    assert "from=" in query(app_duo) and "to=" in query(app_duo)
    assert len(app_duo.find_elements("#reports-districts-div .js-plotly-plot")) == 2
    polygons = app_duo.driver.execute_script(
        "return document.querySelectorAll('#reports-districts-div .js-plotly-plot')[1]"
        ".data.filter(t => t.fill === 'toself').length;"
    )
    assert polygons == 12  # the map: one filled polygon per district, no tiles
    screenshot(app_duo, "brrep001-reports-mayor")
    axe_clean(app_duo, "reports")

    before = app_duo.find_element("#reports-summary-div").text
    Select(app_duo.find_element("#reports-district-select")).select_by_value("D01")
    until(lambda: "district=D01" in query(app_duo), timeout=10)
    app_duo.wait_for_contains_text("#reports-summary-div", "in Harbor Point", timeout=WAIT)
    assert app_duo.find_element("#reports-summary-div").text != before
    category = Select(app_duo.find_element("#reports-category-select"))
    until(lambda: len(category.options) > 10, timeout=WAIT)
    category.select_by_index(2)
    code = category.first_selected_option.get_attribute("value")
    until(lambda: f"category={code}" in query(app_duo), timeout=10)
    click(app_duo, "#reports-measure-radio input[value='adjusted']")
    until(lambda: "measure=adjusted" in query(app_duo), timeout=10)
    settled(app_duo, "#reports-districts-div .js-plotly-plot")
    title = app_duo.driver.execute_script(
        "return document.querySelectorAll('#reports-districts-div .js-plotly-plot')[1]"
        ".layout.title.text;"
    )
    assert title == "Adjusted, per 1,000 residents"  # short enough for a phone's column
    app_duo.driver.execute_script(
        "document.querySelector('#reports-districts-div').scrollIntoView({block: 'start'});"
    )
    time.sleep(0.3)
    screenshot(app_duo, "brrep001-reports-filtered")
    assert severe_logs(app_duo) == []


def test_brrep002_dates_come_from_the_address(app_duo) -> None:
    go(app_duo, "analyst", "/reports?from=2026-09-07&to=2026-10-04&district=D04")
    settled(app_duo, "#reports-trend-div .js-plotly-plot", "#reports-recent-div table")
    assert app_duo.find_element("#reports-from-input").get_attribute("value") == "2026-09-07"
    assert app_duo.find_element("#reports-to-input").get_attribute("value") == "2026-10-04"
    summary = app_duo.find_element("#reports-summary-div").text
    assert "28 days" in summary and "Westbank" in summary
    weeks = graph_data(app_duo, "#reports-trend-div")[0]["x"]
    assert len(weeks) == 4


# ---------------------------------------------------------------- administration


def _weight_input(duo, name: str):
    return duo.driver.find_element(
        By.CSS_SELECTOR, f'[id=\'{{"index":"{name}","type":"admin-weights-value-input"}}\']'
    )


def test_bradm001_chief_previews_and_saves_weights(app_duo, web_env: WebEnv) -> None:
    axe.axe_source()
    go(app_duo, "chief", "/admin?tab=weights")
    settled(app_duo, "#admin-weights-form-div input", "#admin-weights-preview-div table tbody tr")
    tabs = app_duo.find_element("#admin-tab-nav").text
    assert "Scoring weights" in tabs and "Users and roles" not in tabs
    assert "These are the saved weights" in app_duo.find_element("#admin-weights-preview-div").text
    axe_clean(app_duo, "admin weights")

    concern = _weight_input(app_duo, "concern")
    concern.send_keys(Keys.CONTROL, "a")
    concern.send_keys("4", Keys.TAB)
    until(
        lambda: (
            "These are the saved weights"
            not in app_duo.find_element("#admin-weights-preview-div").text
        ),
        timeout=WAIT,
    )
    preview = app_duo.find_element("#admin-weights-preview-div").text
    assert "Up " in preview or "Down " in preview or "New in top 15" in preview
    screenshot(app_duo, "bradm001-weights-preview", focus="#admin-weights-preview-div table")

    click(app_duo, "#admin-weights-save-button")
    app_duo.wait_for_contains_text("#admin-weights-feedback-div", "Saved: Citizen concern", WAIT)
    app_duo.wait_for_contains_text(
        "#admin-weights-preview-div", "These are the saved weights", WAIT
    )
    with web_env.database.session() as session:
        assert load_weights(session).concern == 4.0
    screenshot(app_duo, "bradm001-weights-saved", focus="#admin-weights-feedback-div")

    bad = _weight_input(app_duo, "importance")
    bad.send_keys(Keys.CONTROL, "a")
    bad.send_keys("0", Keys.TAB)
    app_duo.wait_for_contains_text("#admin-weights-preview-div", "must be above zero", WAIT)
    click(app_duo, "#admin-weights-defaults-button")
    # Read in the page: the form is re-rendered, so a held element reference may go stale.
    read = (
        "const e = document.getElementById("
        '\'{"index":"importance","type":"admin-weights-value-input"}\');'
        "return e ? e.value : null;"
    )
    until(lambda: app_duo.driver.execute_script(read) == "1", WAIT)
    assert severe_logs(app_duo) == []


def _save_body(env: WebEnv) -> dict[str, Any]:
    deps = {d["output"]: d for d in webutil.dependencies(signed_in_client(env, "admin"))}
    output = next(o for o in deps if "admin-weights-feedback-div" in o)
    values = {"admin-weights-save-button.n_clicks": 1, "admin-weights-saved-store.data": 0}
    body = webutil.callback_body(deps[output], values)
    names = ScoringWeights.names()
    body["state"][0] = [
        {"id": {"index": n, "type": "admin-weights-value-input"}, "property": "value",
         "value": 9.0 if n == "gap" else getattr(ScoringWeights(), n)}
        for n in names
    ]  # fmt: skip
    body["state"][1] = [
        {"id": {"index": n, "type": "admin-weights-value-input"}, "property": "id",
         "value": {"index": n, "type": "admin-weights-value-input"}}
        for n in names
    ]  # fmt: skip
    return body


@pytest.mark.parametrize("who", ["analyst", "head"])
def test_bradm002_other_roles_are_refused_the_weights_tab_and_its_save(
    app_duo, web_env: WebEnv, who: str
) -> None:
    username = web_env.head_username() if who == "head" else who
    body = _save_body(web_env)
    go(app_duo, username, "/admin?tab=weights")
    app_duo.wait_for_contains_text("#shell-main-region h1", "You don't have access", timeout=WAIT)
    assert app_duo.find_elements("#admin-weights-form-div") == []
    assert "Administration" not in app_duo.find_element("#shell-main-nav").text
    status = app_duo.driver.execute_async_script(POST_CALLBACK_JS, body)
    assert status == 403
    with web_env.database.session() as session:
        assert load_weights(session).gap == ScoringWeights().gap
    screenshot(app_duo, f"bradm002-weights-refused-{who}")


def test_bradm003_admin_tabs_by_keyboard_mapping_sources_and_users(
    app_duo, web_env: WebEnv
) -> None:
    axe.axe_source()
    go(app_duo, "admin", "/admin")
    settled(app_duo, "#admin-users-table-div table tbody tr")
    assert "/admin" in app_duo.driver.current_url
    screenshot(app_duo, "bradm003-admin-users")
    axe_clean(app_duo, "admin users")

    link = app_duo.driver.find_element(By.LINK_TEXT, "Category mapping")
    link.send_keys(Keys.ENTER)  # keyboard only
    until(lambda: "tab=mapping" in query(app_duo), timeout=10)
    settled(app_duo, "#admin-mapping-table-div table tbody tr")
    assert "unmapped" in app_duo.find_element("#admin-mapping-table-div").text
    axe_clean(app_duo, "admin mapping")
    category = Select(app_duo.find_element("#admin-mapping-category-select"))
    until(lambda: len(category.options) > 10, timeout=WAIT)
    category.select_by_index(1)  # 0 is the "Choose a category" placeholder
    chosen = int(category.first_selected_option.get_attribute("value"))
    Select(app_duo.find_element("#admin-mapping-problem-select")).select_by_index(1)
    weight = app_duo.find_element("#admin-mapping-weight-input")
    weight.send_keys(Keys.CONTROL, "a")
    weight.send_keys("0.4")
    click(app_duo, "#admin-mapping-save-button")
    until(lambda: app_duo.find_element("#admin-mapping-feedback-div").text != "", WAIT)
    feedback = app_duo.find_element("#admin-mapping-feedback-div").text
    assert "Mapped" in feedback or "Changed the weight" in feedback, feedback
    with web_env.database.session() as session:
        weights = session.scalars(
            select(CategoryProblem.weight).where(CategoryProblem.category_id == chosen)
        ).all()
        assert 0.4 in weights
    screenshot(app_duo, "bradm003-admin-mapping", focus="#admin-mapping-feedback-div")

    app_duo.driver.find_element(By.LINK_TEXT, "Data sources and jobs").send_keys(Keys.ENTER)
    until(lambda: "tab=sources" in query(app_duo), timeout=10)
    settled(app_duo, "#admin-sources-table-div .empty-state", "#admin-jobs-table-div table")
    assert "triage ingest open311" in app_duo.find_element("#admin-sources-table-div").text
    assert "weekly-snapshot" in app_duo.find_element("#admin-jobs-table-div").text
    axe_clean(app_duo, "admin sources")
    screenshot(app_duo, "bradm003-admin-sources")
    assert severe_logs(app_duo) == []
