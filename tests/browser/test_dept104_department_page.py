"""My department in headless Chromium for a department head: she lands on it from "/", sees the
late value as an overdue item and answers it, and the update form shows what she needs, asks
before saving an implausible value and saves it once confirmed. Screenshots at 1440×900 and
390×844 (a phone)."""

from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until
from selenium.webdriver.support.ui import Select

from db.models import Alert, Indicator, Observation
from tests.browser import axe
from tests.browser.browserutil import SCREENSHOTS, screenshot, severe_logs, sign_in
from tests.clock import TODAY
from tests.webutil import WebEnv
from triage.indicators import next_period, period_start, previous_period

pytestmark = pytest.mark.browser
WAIT = 20
PHONE = (390, 844)
CURRENT = period_start(TODAY, "monthly")
BUS_HISTORY = [58_912, 59_406, 61_020, 60_338, 59_877, 60_990, 61_240, 60_338]


def _months_before(start: dt.date, count: int) -> dt.date:
    for _ in range(count):
        start = previous_period(start, "monthly")
    return start


def seed(env: WebEnv, department_id: int) -> tuple[int, int]:
    """Bus riders (current to last month) and a late indicator with a stale alert."""
    with env.database.session(write=True) as session:
        bus = Indicator(
            code="BUS-RIDERS",
            name="Bus riders per month",
            unit="riders",
            direction="up",
            cadence="monthly",
            department_id=department_id,
            target=62_000.0,
            warning_threshold=58_000.0,
            critical_threshold=50_000.0,
        )
        late = Indicator(
            code="LATE-1",
            name="Library visits per 1,000 residents",
            unit="visits",
            direction="up",
            cadence="monthly",
            department_id=department_id,
            target=45.0,
        )
        session.add_all([bus, late])
        session.flush()
        period = _months_before(CURRENT, len(BUS_HISTORY))
        for value in BUS_HISTORY:
            session.add(Observation(indicator_id=bus.id, period=period, value=value))
            period = next_period(period, "monthly")
        session.add(Observation(indicator_id=late.id, period=_months_before(CURRENT, 4), value=41))
        alert = Alert(
            dedupe_key="stale|browser-late-1",
            kind="stale",
            method="test",
            severity="warning",
            series_key=f"indicator:{late.id}",
            indicator_id=late.id,
            first_detected=TODAY,
            last_detected=TODAY,
            message="No value for Library visits per 1,000 residents for four months.",
            state="new",
            state_reason="",
        )
        session.add(alert)
        session.flush()
        return bus.id, alert.id


def click(duo, selector: str) -> None:
    """Scroll the element to the middle of the window at once (the page scrolls smoothly,
    and a click during the animation lands on whatever passes under it), then click it."""
    element = duo.find_element(selector)
    duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def overflow(duo) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(
        duo.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
        )
    )


def test_dept104_head_lands_answers_and_records(app_duo, web_env: WebEnv) -> None:
    head = web_env.principal(web_env.head_username())
    assert head.department_id is not None
    bus, alert = seed(web_env, head.department_id)
    sign_in(app_duo, head.username, next_path="/")
    until(lambda: app_duo.driver.current_url.endswith("/department"), timeout=WAIT)
    app_duo.wait_for_element("#department-indicators-div table tbody tr", timeout=WAIT)
    app_duo.wait_for_contains_text("#department-alerts-div", "LATE-1 · Library", timeout=WAIT)
    assert "Overdue" in app_duo.find_element("#department-alerts-div").text
    header = app_duo.find_element("#department-indicators-div thead").text
    assert "which way is better" in header
    screenshot(app_duo, "dept104-department-1440")

    # The form: choose bus riders; its details appear and the period defaults to the one due.
    Select(app_duo.find_element("#department-indicator-select")).select_by_value(str(bus))
    app_duo.wait_for_contains_text(
        "#department-indicator-details-div", "Higher is better", timeout=WAIT
    )
    details = app_duo.find_element("#department-indicator-details-div").text
    assert "60,338 riders" in details and "Every month" in details
    until(
        lambda: (
            app_duo.find_element("#department-period-input").get_attribute("value")
            == CURRENT.isoformat()
        ),
        timeout=WAIT,
    )
    app_duo.find_element("#department-value-input").send_keys("17")
    click(app_duo, "#department-save-button")
    app_duo.wait_for_contains_text("#department-feedback-div", "Is this value right?", timeout=WAIT)
    screenshot(app_duo, "dept104-confirm-1440", focus="#department-feedback-div")
    screenshot(app_duo, "dept104-details-1440", focus="#department-indicator-details-div")
    click(app_duo, "#department-save-button")
    app_duo.wait_for_contains_text("#department-feedback-div", "Saved 17 riders", timeout=WAIT)

    # The overdue item: answer it.
    Select(app_duo.find_element("#department-alert-select")).select_by_value(str(alert))
    app_duo.find_element("#department-alert-note-textarea").send_keys(
        "Late because the branch counters were replaced"
    )
    click(app_duo, "#department-alert-answer-button")
    app_duo.wait_for_contains_text("#department-alert-feedback-div", "Answer saved", timeout=WAIT)
    app_duo.wait_for_contains_text(
        "#department-alerts-div", "Your answer: Late because the branch", timeout=WAIT
    )
    with web_env.database.session() as session:
        stored = session.get(Alert, alert)
        assert stored is not None and stored.state == "acknowledged"
    screenshot(app_duo, "dept104-answered-1440", focus="#department-alerts-div")

    text = app_duo.find_element("#shell-main-region").text
    for raw in ("nan", "None", "NaN"):
        assert f" {raw} " not in f" {text} ".replace("\n", " "), raw
    serious = axe.blocking(axe.violations(app_duo.driver))
    assert serious == [], axe.describe(serious)

    # A phone: the page's own parts fit the screen.
    app_duo.driver.set_window_size(*PHONE)
    app_duo.driver.execute_script("window.scrollTo(0, 0);")
    until(lambda: app_duo.driver.execute_script("return window.innerWidth;") <= PHONE[0], 5)
    SCREENSHOTS.mkdir(exist_ok=True)
    app_duo.driver.save_screenshot(str(SCREENSHOTS / "dept104-department-390.png"))
    for name, selector in (
        ("alerts", "#department-alert-select"),
        ("form", "#department-indicator-details-div"),
        ("table", "#department-indicators-div table"),
    ):
        element = app_duo.find_element(selector)
        app_duo.driver.execute_script(
            "window.scrollTo({top: arguments[0].getBoundingClientRect().top + window.scrollY"
            " - 120, behavior: 'instant'});",
            element,
        )
        app_duo.driver.save_screenshot(str(SCREENSHOTS / f"dept104-{name}-390.png"))
    assert overflow(app_duo) == 0  # nothing of the page scrolls sideways on a phone
    assert severe_logs(app_duo) == []
