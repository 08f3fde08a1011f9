"""Early warnings in headless Chromium: the analyst filters, reads the evidence, is told a
dismissal needs a reason, dismisses by keyboard; the chief of staff opens a problem from an
alert; a department head sees no actions; deep links; axe-core on the page."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, select

from db.models import Alert, AuditLog, Problem
from tests.browser import axe
from tests.browser.browserutil import screenshot, severe_logs, sign_in
from tests.webutil import WebEnv

pytestmark = pytest.mark.browser

FEED_ROWS = "#alerts-feed-div table tbody tr"
CHART = "#alerts-evidence-figure .chart-graph .main-svg"
LEGEND = "#alerts-evidence-figure .chart-graph .legend"


def _surge_alert(env: WebEnv) -> Alert:
    """The demo city's first new surge in a district (the planted one: Illegal dumping in
    Millbrook, of severity Information since the detector of issue 11 item 4, round 4)."""
    with env.database.session() as session:
        alert = session.scalars(
            select(Alert)
            .where(
                Alert.kind == "surge",
                Alert.state == "new",
                Alert.district_id.is_not(None),
            )
            .order_by(Alert.id)
        ).first()
        assert alert is not None, "the demo city has no new surge alert in a district"
        session.expunge(alert)
        return alert


def _row_texts(duo) -> list[str] | None:
    """The feed rows' text, or None while the feed is being replaced."""
    try:
        return [row.text for row in duo.find_elements(FEED_ROWS)]
    except StaleElementReferenceException:
        return None


def _scroll_click(duo, selector: str) -> None:
    element = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def test_bral001_analyst_reads_evidence_and_dismisses_with_reason(app_duo, web_env: WebEnv) -> None:
    surge = _surge_alert(web_env)
    sign_in(app_duo, "analyst", next_path="/alerts")
    app_duo.wait_for_element(FEED_ROWS, timeout=30)
    assert app_duo.find_element("#shell-main-region h1").text == "Early warnings"
    assert "Early warnings" in app_duo.find_element("#shell-main-nav").text
    app_duo.wait_for_element(CHART, timeout=20)
    assert app_duo.find_elements("#alerts-new-problem-button") == []  # no EDIT_PROBLEMS

    # The feed filtered to the surge's severity shows only that severity.
    word = surge.severity.capitalize()
    Select(app_duo.find_element("#alerts-severity-select")).select_by_value(surge.severity)
    until(lambda: f"severity={surge.severity}" in app_duo.driver.current_url, timeout=10)
    until(
        lambda: (rows := _row_texts(app_duo)) and all(r.startswith(word) for r in rows),
        timeout=15,
    )
    button = app_duo.find_element(f"#alerts-feed-div button[aria-label$='#{surge.id}']")
    app_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    app_duo.driver.execute_script("arguments[0].focus();", button)
    button.send_keys(Keys.ENTER)  # keyboard: the row's button chooses the alert
    until(lambda: f"alert={surge.id}" in app_duo.driver.current_url, timeout=10)
    app_duo.wait_for_contains_text("#alerts-detail-div", f"Alert #{surge.id}", timeout=15)
    # The chart's box is in the page from the start (blank); the evidence fills it.
    app_duo.wait_for_element(LEGEND, timeout=15)
    chart = "#alerts-evidence-figure .chart-graph"
    for legend in ("Observed", "Expected", "Usual range (95%)", "Alerted"):
        app_duo.wait_for_contains_text(chart, legend, timeout=10)
    caption = app_duo.find_element("#alerts-evidence-figure figcaption").text
    assert "reports in the" in caption.lower() and "detector expected" in caption
    label = app_duo.find_element(chart).get_attribute("aria-label")
    assert label.startswith("Evidence chart:")
    screenshot(app_duo, "bral001-alerts-analyst")

    app_duo.wait_for_contains_text(
        "#alerts-actions-context-div", f"Alert #{surge.id} is new", timeout=10
    )
    until(lambda: app_duo.find_element("#alerts-dismiss-button").is_enabled(), timeout=10)
    _scroll_click(app_duo, "#alerts-dismiss-button")
    app_duo.wait_for_contains_text("#alerts-action-feedback-div", "Say why", timeout=10)
    assert app_duo.find_element("#alerts-action-feedback-div [role=alert]")
    with web_env.database.session() as session:
        assert session.get(Alert, surge.id).state == "new"
    screenshot(app_duo, "bral001-dismiss-needs-reason", focus="#alerts-action-feedback-div")

    reason = app_duo.find_element("#alerts-reason-textarea")
    reason.send_keys("Leaf season: <b>expected</b> every November")
    reason.send_keys(Keys.TAB)
    active = app_duo.driver.switch_to.active_element
    assert active.get_attribute("id") == "alerts-dismiss-button"
    active.send_keys(Keys.ENTER)
    app_duo.wait_for_contains_text(
        "#alerts-action-feedback-div", f"Dismissed alert #{surge.id}", timeout=15
    )
    until(
        lambda: not app_duo.find_elements(f"#alerts-feed-div button[aria-label$='#{surge.id}']"),
        timeout=15,
    )
    with web_env.database.session() as session:
        stored = session.get(Alert, surge.id)
        assert stored.state == "dismissed"
        assert stored.state_reason == "Leaf season: <b>expected</b> every November"
        audits = session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "alert", AuditLog.entity_id == str(surge.id))
        )
        assert audits == 1

    Select(app_duo.find_element("#alerts-state-select")).select_by_value("dismissed")
    until(lambda: "state=dismissed" in app_duo.driver.current_url, timeout=10)
    app_duo.wait_for_contains_text(
        "#alerts-feed-div", "Leaf season: <b>expected</b> every November", timeout=15
    )
    assert app_duo.find_elements("#alerts-feed-div b") == []  # the reason stays text
    assert severe_logs(app_duo) == []


def test_bral002_chief_opens_a_problem_from_an_alert(app_duo, web_env: WebEnv) -> None:
    surge = _surge_alert(web_env)
    sign_in(app_duo, "chief", next_path=quote(f"/alerts?state=all&alert={surge.id}", safe="/"))
    app_duo.wait_for_contains_text("#alerts-detail-div", f"Alert #{surge.id}", timeout=30)
    assert (
        Select(app_duo.find_element("#alerts-state-select")).first_selected_option.text
        == "Every state"
    )
    until(
        lambda: app_duo.find_element("#alerts-new-title-input").get_attribute("value"), timeout=10
    )
    title = app_duo.find_element("#alerts-new-title-input")
    title.clear()
    title.send_keys("Leaf piles blocking drains")
    _scroll_click(app_duo, "#alerts-new-problem-button")
    app_duo.wait_for_contains_text("#alerts-new-feedback-div", "Opened a new problem", timeout=15)
    app_duo.wait_for_contains_text(
        "#alerts-actions-context-div", f"Alert #{surge.id} is linked", timeout=15
    )
    with web_env.database.session() as session:
        problem = session.scalars(
            select(Problem).where(Problem.title == "Leaf piles blocking drains")
        ).one()
        assert problem.status == "emerging"
        assert session.get(Alert, surge.id).problem_id == problem.id
        assert [d.id for d in problem.districts] == [surge.district_id]
    screenshot(app_duo, "bral002-problem-opened", focus="#alerts-new-feedback-div")
    _scroll_click(app_duo, "#alerts-new-feedback-div a")
    app_duo.wait_for_text_to_equal(
        "#shell-main-region h1", "Leaf piles blocking drains", timeout=15
    )
    assert severe_logs(app_duo) == []


def test_bral003_head_sees_no_actions_and_deep_links_keep_filters(app_duo, web_env: WebEnv) -> None:
    head = web_env.head_username()
    # Warnings: the small demo city has no critical alert since round 4 of issue 11 item 4
    # (its citywide leaf-collection surge was one at FDR 15 %).
    path = "/alerts?severity=warning&state=all"
    sign_in(app_duo, head, next_path=quote(path, safe="/"))
    app_duo.wait_for_element("#alerts-summary-div .kpi-card", timeout=30)
    assert app_duo.find_elements("#alerts-dismiss-button") == []
    assert app_duo.find_elements("#alerts-acknowledge-button") == []
    assert (
        Select(app_duo.find_element("#alerts-severity-select")).first_selected_option.text
        == "Warning"
    )
    until(
        lambda: (rows := _row_texts(app_duo)) and all(r.startswith("Warning") for r in rows),
        timeout=15,
    )
    assert severe_logs(app_duo) == []


def test_bral004_axe_no_serious_or_critical_violations(app_duo, web_env: WebEnv) -> None:
    axe.axe_source()
    sign_in(app_duo, "chief", next_path="/alerts")
    app_duo.wait_for_element(FEED_ROWS, timeout=30)
    app_duo.wait_for_element(LEGEND, timeout=20)
    until(lambda: app_duo.find_element("#alerts-actions-context-div").text, timeout=10)
    found = axe.blocking(axe.violations(app_duo.driver))
    assert found == [], axe.describe(found)
    split = app_duo.find_element("#shell-main-region .split")
    app_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});", split
    )
    screenshot(app_duo, "bral004-alerts-chief")


def test_bral005_chief_pages_the_feed_by_keyboard_and_reads_data_health(
    app_duo, web_env: WebEnv
) -> None:
    """25 alerts a page, "Next page" by keyboard, the page in the address, a filter back to
    page 1; the chief of staff's data-health figure; at 390 px nothing wider than the screen
    and axe clean (the analysts' details opened too)."""
    from tests.browser.test_phone import check_page, start

    with web_env.database.session() as session:
        total = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.state.in_(("new", "acknowledged")))
        )
    axe.axe_source()
    sign_in(app_duo, "chief", next_path="/alerts")
    app_duo.wait_for_element(FEED_ROWS, timeout=30)
    app_duo.wait_for_contains_text("#alerts-data-health-div", "Data health", timeout=20)
    assert "indicators" in app_duo.find_element("#alerts-data-health-div").text
    until(lambda: len(app_duo.find_elements(FEED_ROWS)) == min(total, 25), timeout=15)
    if total > 25:
        app_duo.wait_for_contains_text("#alerts-pager-text", f"Alerts 1–25 of {total}", timeout=10)
        button = app_duo.find_element("#alerts-next-page-button")
        app_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        app_duo.driver.execute_script("arguments[0].focus();", button)
        button.send_keys(Keys.ENTER)
        until(lambda: "page=2" in app_duo.driver.current_url, timeout=10)
        app_duo.wait_for_contains_text("#alerts-pager-text", "Alerts 26–", timeout=15)
        assert app_duo.find_element("#alerts-prev-page-button").is_enabled()
        Select(app_duo.find_element("#alerts-severity-select")).select_by_value("warning")
        until(lambda: "page=" not in app_duo.driver.current_url, timeout=10)
        pager = app_duo.find_element("#alerts-pager-text")  # hidden when one page is all
        until(lambda: "Alerts 1–" in pager.get_attribute("textContent"), timeout=15)
    assert severe_logs(app_duo) == []
    start(app_duo, "chief", "/alerts")
    check_page(app_duo, "alerts-chief", "/alerts")
