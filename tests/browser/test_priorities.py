"""Weekly priorities in headless Chromium: the mayor reads, opens, decides and downloads; a
department head sees no decision form and is refused the decision callback; axe-core checks."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import delete, func, select

from db.models import Alert, CategoryProblem, Decision, ReportCategory
from tests import webutil
from tests.browser import axe
from tests.browser.browserutil import SCREENSHOTS, WINDOW, screenshot, severe_logs, sign_in
from tests.clock import TODAY
from tests.webutil import WebEnv, post_callback, signed_in_client
from triage.scoring import iso_week

pytestmark = pytest.mark.browser

LIST_ROWS = "#priorities-list-div table tbody tr"
DIALOG_OUTPUT = "priorities-decision-modal.is_open"


def plant_alerts(env: WebEnv) -> None:
    """Two alerts first detected today, one on a problem and one through its category.

    The demo city's own alerts (from its detector history) are removed first, so the page's
    counts are the planted ones.
    """
    today = TODAY
    with env.database.session(write=True) as session:
        session.execute(delete(Alert))
        mapping = session.execute(
            select(CategoryProblem.category_id, CategoryProblem.problem_id)
        ).first()
        assert mapping is not None
        session.add_all(
            [
                Alert(
                    dedupe_key="brpri-surge",
                    kind="surge",
                    method="test",
                    severity="critical",
                    series_key="test:surge",
                    category_id=mapping.category_id,
                    first_detected=today,
                    last_detected=today,
                    message="Reports <b>tripled</b> in two weeks",
                ),
                Alert(
                    dedupe_key="brpri-threshold",
                    kind="threshold",
                    method="test",
                    severity="warning",
                    series_key="test:threshold",
                    problem_id=mapping.problem_id,
                    first_detected=today,
                    last_detected=today,
                    message="Indicator past its warning threshold",
                ),
            ]
        )


def click(duo, selector: str) -> None:
    """Scroll an element to the middle of the window, then click it like a person."""
    element = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def wait_for_download(folder: str, suffix: str, timeout: float = 20) -> Path:
    """The first finished download ending in ``suffix`` (Chromium writes .crdownload first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in Path(folder).glob(f"*{suffix}") if p.stat().st_size > 0]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}")


def test_brpri001_mayor_reads_opens_decides_and_downloads(app_duo, web_env: WebEnv) -> None:
    plant_alerts(web_env)
    sign_in(app_duo, "mayor")
    app_duo.wait_for_element(LIST_ROWS, timeout=30)
    app_duo.wait_for_element("#priorities-summary-div .kpi-card", timeout=15)
    assert app_duo.find_element("#shell-main-region h1").text == "Weekly priorities"
    assert app_duo.driver.title.startswith("Weekly priorities")
    nav = app_duo.find_element("#shell-main-nav").text
    assert "Priorities" in nav and "Problems" in nav
    rows = app_duo.find_elements(LIST_ROWS)
    assert 1 <= len(rows) <= 10
    changes = app_duo.find_element("#priorities-changes-div").text
    assert "New alerts (2)" in changes and "Reports <b>tripled</b> in two weeks" in changes
    app_duo.wait_for_element("#priorities-quadrant-graph .scatterlayer .point", timeout=15)
    assert "Importance and tractability" in app_duo.find_element("#priorities-quadrant-graph").text
    screenshot(app_duo, "brpri001-priorities-mayor")
    chart = app_duo.find_element("#priorities-quadrant-graph")
    app_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});", chart
    )
    screenshot(app_duo, "brpri001-chart-and-changes")

    title = app_duo.find_element(f"{LIST_ROWS} th a").text
    click(app_duo, f"{LIST_ROWS} th a")
    app_duo.wait_for_contains_text("#shell-main-region h1", title, timeout=15)
    assert "/problems/" in app_duo.driver.current_url
    app_duo.driver.back()
    app_duo.wait_for_element(LIST_ROWS, timeout=15)
    app_duo.wait_for_text_to_equal("#shell-main-region h1", "Weekly priorities")

    click(app_duo, f"{LIST_ROWS} .decide-button")
    app_duo.wait_for_element(".modal.show #priorities-decision-modal", timeout=10)
    app_duo.wait_for_contains_text("#priorities-decision-title", title, timeout=10)
    app_duo.driver.find_element(
        By.CSS_SELECTOR, "#priorities-decision-choice-radio input[value='focus']"
    ).click()
    app_duo.find_element("#priorities-decision-note-textarea").send_keys(
        "Chief of staff brings a one-page plan on Friday."
    )
    screenshot(app_duo, "brpri001-decision-dialog")
    click(app_duo, "#priorities-decision-save-button")
    app_duo.wait_for_contains_text("#priorities-decision-status-div", "Recorded for", timeout=15)
    until(lambda: not app_duo.find_elements(".modal.show #priorities-decision-modal"), timeout=10)
    app_duo.wait_for_contains_text(f"{LIST_ROWS}:first-child .decision-cell", "Focus", timeout=15)
    with web_env.database.session() as session:
        recorded = session.scalar(
            select(func.count()).select_from(Decision).where(Decision.week == iso_week(TODAY))
        )
    assert recorded == 1
    app_duo.driver.execute_script("window.scrollTo({top: 0, behavior: 'instant'});")
    screenshot(app_duo, "brpri001-decision-recorded")

    click(app_duo, "#priorities-brief-button")
    pdf = wait_for_download(app_duo.download_path, ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    click(app_duo, "#priorities-csv-button")
    csv = wait_for_download(app_duo.download_path, ".csv").read_text(encoding="utf-8")
    assert csv.startswith("rank,problem_id,title,week,priority")
    assert "Chief of staff brings a one-page plan on Friday." in csv
    assert severe_logs(app_duo) == []


def test_brpri002_head_sees_no_decision_form_and_is_refused(app_duo, web_env: WebEnv) -> None:
    head = web_env.head_username()
    sign_in(app_duo, head)  # a department head lands on My department
    app_duo.driver.find_element(By.CSS_SELECTOR, "#shell-main-nav a[href='/']").click()
    app_duo.wait_for_element(LIST_ROWS, timeout=30)
    assert app_duo.find_elements(".decide-button") == []
    assert app_duo.find_elements(".modal.show #priorities-decision-modal") == []
    screenshot(app_duo, "brpri002-priorities-head")
    assert severe_logs(app_duo) == []

    client = signed_in_client(web_env, head)
    deps = webutil.dependencies(client)
    dialog = webutil.find_dependency(deps, DIALOG_OUTPUT)
    with web_env.database.session() as session:
        problem_id = session.scalar(select(CategoryProblem.problem_id))
    body = webutil.callback_body(
        dialog,
        {
            "priorities-decision-save-button.n_clicks": 1,
            "priorities-decision-problem-store.data": problem_id,
            "priorities-week-select.value": iso_week(TODAY),
            "priorities-decision-choice-radio.value": "drop",
            "priorities-decision-note-textarea.value": "forged",
            "priorities-saved-store.data": 0,
        },
    )
    body["changedPropIds"] = ["priorities-decision-save-button.n_clicks"]
    response = post_callback(client, body)
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    with web_env.database.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Decision).where(Decision.note == "forged")
            )
            == 0
        )


def test_brpri003_keyboard_only_decision_and_chart_click(app_duo, web_env: WebEnv) -> None:
    sign_in(app_duo, "chief")
    app_duo.wait_for_element(LIST_ROWS, timeout=30)
    button = app_duo.find_element(f"{LIST_ROWS}:nth-child(2) .decide-button")
    app_duo.driver.execute_script("arguments[0].focus();", button)
    button.send_keys(Keys.ENTER)
    app_duo.wait_for_element(".modal.show #priorities-decision-modal", timeout=10)
    radio = app_duo.driver.find_element(
        By.CSS_SELECTOR, "#priorities-decision-choice-radio input[value='convene']"
    )
    radio.send_keys(Keys.SPACE)
    radio.send_keys(Keys.TAB)
    active = app_duo.driver.switch_to.active_element
    assert active.get_attribute("id") == "priorities-decision-note-textarea"
    active.send_keys("Convene the partners")
    active.send_keys(Keys.TAB)
    active = app_duo.driver.switch_to.active_element
    if active.get_attribute("id") != "priorities-decision-save-button":
        active.send_keys(Keys.TAB)
        active = app_duo.driver.switch_to.active_element
    assert active.get_attribute("id") == "priorities-decision-save-button"
    active.send_keys(Keys.ENTER)
    app_duo.wait_for_contains_text("#priorities-decision-status-div", "Convene others", timeout=15)
    app_duo.wait_for_contains_text(
        f"{LIST_ROWS}:nth-child(2) .decision-cell", "Convene", timeout=15
    )

    Select(app_duo.find_element("#priorities-show-select")).select_by_value("all")
    until(lambda: "show=all" in app_duo.driver.current_url, timeout=5)
    until(lambda: len(app_duo.find_elements(LIST_ROWS)) > 10, timeout=15)
    weeks = Select(app_duo.find_element("#priorities-week-select"))
    stored = [o.get_attribute("value") for o in weeks.options if o.get_attribute("value")]
    previous = stored[1]  # the current week comes first
    weeks.select_by_value(previous)
    until(lambda: f"week={previous}" in app_duo.driver.current_url, timeout=5)
    until(lambda: not app_duo.find_elements(".decide-button"), timeout=15)  # past weeks: read only
    app_duo.driver.get(app_duo.driver.current_url)  # the address is a deep link
    app_duo.wait_for_element(LIST_ROWS, timeout=30)
    until(
        lambda: (
            Select(
                app_duo.find_element("#priorities-week-select")
            ).first_selected_option.get_attribute("value")
            == previous
        ),
        timeout=15,
    )
    until(lambda: len(app_duo.find_elements(LIST_ROWS)) > 10, timeout=15)

    point = app_duo.find_element("#priorities-quadrant-graph .scatterlayer .point")
    app_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", point
    )
    # Plotly's drag layer lies over the points and turns a click there into clickData.
    ActionChains(app_duo.driver).move_to_element(point).click().perform()
    until(lambda: "/problems/" in app_duo.driver.current_url, timeout=15)
    app_duo.wait_for_element("#shell-main-region h1", timeout=15)
    assert severe_logs(app_duo) == []


ATTENTION_ITEMS = "#priorities-attention-div .attention-item"
PHONE = (390, 844)


def plant_uncovered_surge(env: WebEnv) -> tuple[int, str]:
    """615 reports in 7 days against about 2, found today, in a category no problem covers."""
    with env.database.session(write=True) as session:
        mapped = select(CategoryProblem.category_id)
        category_id, name = session.execute(
            select(ReportCategory.id, ReportCategory.name)
            .where(ReportCategory.id.not_in(mapped))
            .limit(1)
        ).one()
        alert = Alert(
            dedupe_key="brpri-attention-surge",
            kind="surge",
            method="surge-7d",
            severity="warning",
            series_key="test:attention",
            category_id=category_id,
            first_detected=TODAY,
            last_detected=TODAY,
            expected=1.6,
            observed=615.0,
            message="A surge nobody covers",
        )
        session.add(alert)
        session.flush()
        return int(alert.id), str(name)


def phone_screenshot(duo, name: str) -> Path:
    """The viewport at 390x844 (a phone) as tests/browser/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)
    duo.driver.set_window_size(*PHONE)
    time.sleep(0.5)  # let the layout settle at the new width
    path = SCREENSHOTS / f"{name}.png"
    duo.driver.save_screenshot(str(path))
    return path


def test_brpri004_attention_list_leads_and_opens_a_problem(app_duo, web_env: WebEnv) -> None:
    alert_id, category = plant_uncovered_surge(web_env)
    sign_in(app_duo, "chief")
    app_duo.wait_for_element(ATTENTION_ITEMS, timeout=30)
    items = app_duo.find_elements(ATTENTION_ITEMS)
    assert 1 <= len(items) <= 7
    first = items[0].text
    assert f"615 '{category}' reports in the 7 days to" in first, first
    assert "against about 2 usually" in first and "Open a problem" in first
    mapping = app_duo.driver.find_element(By.LINK_TEXT, "Map this category")
    assert mapping.get_attribute("href").endswith("/admin?tab=mapping")
    headings = [h.text for h in app_duo.find_elements("#shell-main-region h2")]
    assert headings[0] == "What needs you this week", headings
    until(lambda: not app_duo.find_elements("[data-dash-is-loading='true']"), timeout=30)
    screenshot(app_duo, "brpri004-attention-desktop")
    phone_screenshot(app_duo, "brpri004-attention-phone")
    app_duo.driver.execute_script(
        "document.querySelector('#priorities-attention-div')"
        ".scrollIntoView({block: 'start', behavior: 'instant'});"
    )
    app_duo.driver.save_screenshot(str(SCREENSHOTS / "brpri004-attention-phone-list.png"))
    wide = app_duo.driver.execute_script(
        "const list = document.querySelector('#priorities-attention-div');"
        "return [list.scrollWidth, list.clientWidth, list.getBoundingClientRect().right];"
    )
    assert wide[0] <= wide[1] and wide[2] <= PHONE[0], wide
    app_duo.driver.set_window_size(*WINDOW)
    time.sleep(0.5)  # let the layout settle back at the desktop width

    button = app_duo.find_element(ATTENTION_ITEMS).find_element(
        By.XPATH, ".//button[normalize-space()='Open a problem']"
    )
    assert json.loads(button.get_attribute("id")) == button_id(alert_id)
    app_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button
    )
    button.click()
    app_duo.wait_for_contains_text(
        "#priorities-attention-feedback-div", "Opened the problem", timeout=20
    )
    feedback = app_duo.find_element("#priorities-attention-feedback-div").text
    assert f"in {iso_week(TODAY)}" in feedback

    # The surge is no longer uncovered: it stays on the list as its new problem's warning (the
    # week's largest departure), and no "Open a problem" is offered for it any more.
    def attention_text() -> str:
        return app_duo.find_element("#priorities-attention-div").text

    def refreshed() -> bool:
        # The list is redrawn after the save: wait for its new text, not for the old item to
        # vanish (an empty list mid-redraw has no old item either; seen under load).
        text = attention_text()
        return f"'{category}' reports surging" in text and f"Surge in '{category}'" not in text

    until(refreshed, 30)
    text = attention_text()
    assert f"'{category}' reports surging" in text and f"Surge in '{category}'" not in text
    offered = [
        json.loads(b.get_attribute("id"))
        for b in app_duo.driver.find_elements(
            By.XPATH, "//button[normalize-space()='Open a problem']"
        )
    ]
    assert button_id(alert_id) not in offered, offered
    with web_env.database.session() as session:
        problem_id = session.scalar(select(Alert.problem_id).where(Alert.id == alert_id))
    assert problem_id is not None
    assert severe_logs(app_duo) == []


def button_id(alert_id: int) -> dict:
    """The open-problem button of one alert on the attention list."""
    from layouts import ids

    return ids.priorities_open_problem_button(alert_id)


AXE_PAGES = (
    ("sign-in", None),
    ("weekly-priorities", "/"),
    ("problems-list", "/problems"),
    ("problem-page", "/problems/{problem_id}"),
)


@pytest.mark.parametrize(("name", "path"), AXE_PAGES, ids=[p[0] for p in AXE_PAGES])
def test_axe001_no_serious_or_critical_violations(
    app_duo, web_env: WebEnv, name: str, path: str | None
) -> None:
    axe.axe_source()  # skips with the reason when axe-core is not installed
    if path is None:
        app_duo.driver.get(f"{app_duo.server.url}/login")
        app_duo.wait_for_element("#login-username-input", timeout=15)
    else:
        with web_env.database.session() as session:
            problem_id = session.scalar(select(CategoryProblem.problem_id))
        sign_in(app_duo, "mayor", next_path=path.format(problem_id=problem_id))
        app_duo.wait_for_element("#shell-main-region h1", timeout=30)
        until(lambda: not app_duo.find_elements("[data-dash-is-loading='true']"), timeout=30)
        time.sleep(1.0)  # let charts finish drawing
    found = axe.violations(app_duo.driver)
    serious = axe.blocking(found)
    assert serious == [], f"{name}: " + axe.describe(serious)


def test_axe002_decision_dialog_open(app_duo, web_env: WebEnv) -> None:
    axe.axe_source()
    sign_in(app_duo, "mayor")
    app_duo.wait_for_element(LIST_ROWS, timeout=30)
    click(app_duo, f"{LIST_ROWS} .decide-button")
    app_duo.wait_for_element(".modal.show #priorities-decision-modal", timeout=10)
    time.sleep(0.5)  # the dialog fades in
    serious = axe.blocking(axe.violations(app_duo.driver))
    assert serious == [], axe.describe(serious)
