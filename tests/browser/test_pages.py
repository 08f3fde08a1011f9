"""Critical flows in headless Chromium: sign in, browse problems, refused page, record a value."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.browserutil import screenshot, severe_logs, sign_in
from tests.webutil import WebEnv

pytestmark = pytest.mark.browser


def test_br001_mayor_sees_problems_and_opens_one(app_duo) -> None:
    sign_in(app_duo, "mayor", next_path="/problems")
    app_duo.wait_for_element("#home-problems-div table tbody tr", timeout=15)
    app_duo.wait_for_element("#home-kpi-div .kpi-card")
    assert app_duo.find_element("#shell-user-text").text
    assert app_duo.find_element("#shell-role-badge").text == "Mayor"
    nav = app_duo.find_element("#shell-main-nav").text
    assert "Problems" in nav and "Users" not in nav
    assert app_duo.driver.title.endswith("Riverton Triage")
    screenshot(app_duo, "br001-home-mayor")

    link = app_duo.find_element("#home-problems-div tbody tr th a")
    title = link.text
    link.click()
    app_duo.wait_for_contains_text("#problem-body-div h1", title, timeout=15)
    app_duo.find_element("#problem-indicators-tab-button").click()
    app_duo.wait_for_element("#problem-body-div .indicator-card", timeout=15)
    app_duo.wait_for_element("#problem-body-div .indicator-card .js-plotly-plot", timeout=15)
    assert "Backward map" in app_duo.find_element("#problem-body-div").text
    screenshot(app_duo, "br001-problem-mayor")
    assert severe_logs(app_duo) == []


def test_br002_filters_live_in_the_query_string(app_duo) -> None:
    sign_in(app_duo, "chief", next_path="/problems?status=focus")
    app_duo.wait_for_element("#home-problems-div table tbody tr", timeout=15)
    assert Select(app_duo.find_element("#home-status-select")).first_selected_option.text == (
        "Focus"
    )
    badges = app_duo.find_elements("#home-problems-div tbody .status-badge")
    assert badges and all(b.text == "Focus" for b in badges)
    Select(app_duo.find_element("#home-status-select")).select_by_value("all")
    until(lambda: "status=" not in app_duo.driver.current_url, timeout=5)
    badge_texts = "return [...document.querySelectorAll('#home-problems-div tbody .status-badge')]"
    badge_texts += ".map(b => b.textContent)"
    until(lambda: set(app_duo.driver.execute_script(badge_texts)) - {"Focus"}, timeout=10)
    screenshot(app_duo, "br002-home-filters")
    assert severe_logs(app_duo) == []


def test_br003_department_head_is_refused_user_admin(app_duo, web_env: WebEnv) -> None:
    head = web_env.head_username()
    sign_in(app_duo, head, next_path="/admin/users")
    app_duo.wait_for_contains_text("#shell-main-region h1", "You don't have access", timeout=15)
    assert app_duo.find_elements("#admin-users-table-div") == []
    assert "Users" not in app_duo.find_element("#shell-main-nav").text
    screenshot(app_duo, "br003-admin-refused-head")


def _press(duo, selector: str) -> None:
    """Scroll the button to the middle at once (the page scrolls smoothly), then click it."""
    button = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", button
    )
    button.click()


def test_br004_head_records_an_observation(app_duo, web_env: WebEnv) -> None:
    head = web_env.head_username()
    sign_in(app_duo, head, next_path="/department")
    app_duo.wait_for_element("#department-indicators-div table tbody tr", timeout=15)
    select = app_duo.find_element("#department-dept-select")
    assert not select.is_enabled()
    indicator = Select(app_duo.find_element("#department-indicator-select"))
    until(lambda: len(indicator.options) > 1, timeout=10)
    indicator.select_by_index(1)
    code = indicator.first_selected_option.text.split(" · ")[0]
    app_duo.find_element("#department-value-input").send_keys("12.5")
    Select(app_duo.find_element("#department-status-select")).select_by_value("at_risk")
    app_duo.find_element("#department-note-textarea").send_keys("Recorded by the browser test")
    _press(app_duo, "#department-save-button")
    # 12.5 is far from this indicator's usual values: the form asks before saving anything.
    app_duo.wait_for_contains_text("#department-feedback-div", "Is this value right?", timeout=15)
    _press(app_duo, "#department-save-button")  # the same value again: confirmed
    app_duo.wait_for_contains_text("#department-feedback-div", "Saved", timeout=15)
    app_duo.wait_for_contains_text("#department-recent-div", f"{code}: 12.5", timeout=15)
    screenshot(app_duo, "br004-department-recorded", focus="#department-feedback-div")
    assert severe_logs(app_duo) == []


def test_br005_rejections_are_explained(app_duo, web_env: WebEnv) -> None:
    sign_in(app_duo, web_env.head_username(), next_path="/department")
    app_duo.wait_for_element("#department-indicators-div table tbody tr", timeout=15)
    app_duo.find_element("#department-value-input").send_keys("lots")
    _press(app_duo, "#department-save-button")
    app_duo.wait_for_contains_text("#department-feedback-div", "not saved", timeout=15)
    feedback = app_duo.find_element("#department-feedback-div").text
    assert "Choose the indicator" in feedback and "not a number" in feedback
    screenshot(app_duo, "br005-department-rejected", focus="#department-feedback-div")


def test_br006_admin_manages_users_and_signs_out(app_duo) -> None:
    sign_in(app_duo, "admin", next_path="/admin/users")
    app_duo.wait_for_element("#admin-users-table-div table tbody tr", timeout=15)
    button = app_duo.driver.find_element(By.CSS_SELECTOR, "button[aria-label^='Disable']")
    label = button.get_attribute("aria-label")
    button.click()
    app_duo.wait_for_contains_text("#admin-users-feedback-div", "now disabled", timeout=15)
    name = label.removeprefix("Disable ")
    app_duo.wait_for_element(f"button[aria-label='Enable {name}']", timeout=15)
    screenshot(app_duo, "br006-admin-users")
    app_duo.find_element("#shell-logout-button").click()
    app_duo.wait_for_element("#login-username-input", timeout=15)
    assert "/login" in app_duo.driver.current_url
    screenshot(app_duo, "br006-signed-out")


def test_br007_login_page(app_duo) -> None:
    app_duo.driver.get(f"{app_duo.server.url}/")
    app_duo.wait_for_element("#login-username-input", timeout=15)
    active = app_duo.driver.switch_to.active_element
    assert active.get_attribute("id") == "login-username-input"  # autofocus
    app_duo.find_element("#login-username-input").send_keys("mayor")
    app_duo.find_element("#login-password-input").send_keys("wrong-password")
    app_duo.find_element("#login-submit-button").click()
    app_duo.wait_for_contains_text("#login-message", "Unknown user or wrong password", timeout=15)
    screenshot(app_duo, "br007-login-failed")
