"""City setup in headless Chromium: an administrator adds an indicator (a mistake first, shown
next to its field with the input kept), finds it in the table, archives it after confirming,
and finds it again under "Show archived"; uploads district boundaries (NYC boroughs); is told
which field of a new data source is wrong; axe finds no serious or critical violations.
Screenshots at 1440x900 and 390x844 (a phone)."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from db.models import AuditLog, District, Indicator, User
from tests.browser import axe
from tests.browser.browserutil import screenshot, severe_logs, sign_in
from triage.settings import REPO_ROOT

pytestmark = pytest.mark.browser

WAIT = 30
PHONE = (390, 844)
BOROUGHS = REPO_ROOT / "tests" / "data" / "nyc_boroughs.geojson"
FIELD = '[id=\'{{"index":"{name}","type":"admin-catalog-field-input"}}\']'
ERROR = '[id=\'{{"index":"{name}","type":"admin-catalog-error-text"}}\']'


SCROLL = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});"


def settled(duo) -> None:
    until(lambda: not duo.find_elements("[data-dash-is-loading='true']"), timeout=WAIT)
    time.sleep(0.4)


def click(duo, selector: str) -> None:
    element = duo.find_element(selector)
    duo.driver.execute_script(SCROLL, element)
    element.click()


def fill(duo, name: str, text: str) -> None:
    element = duo.find_element(FIELD.format(name=name))
    element.clear()
    element.send_keys(text)


def choose(duo, name: str, value: str) -> None:
    Select(duo.find_element(FIELD.format(name=name))).select_by_value(value)


def test_bcat001_add_an_indicator_then_archive_it(app_duo, web_env) -> None:
    duo = app_duo
    sign_in(duo, "admin", next_path=quote("/admin?tab=setup", safe="/"))
    duo.wait_for_element("#admin-catalog-kind-radio", timeout=WAIT)
    settled(duo)
    pick_kind(duo, "Indicators")
    duo.wait_for_text_to_equal("#admin-catalog-form-title", "Add an indicator", timeout=WAIT)
    settled(duo)
    fill(duo, "code", "LIGHT-DAYS")
    fill(duo, "name", "Days to fix a streetlight")
    department = Select(duo.find_element(FIELD.format(name="department")))
    department.select_by_index(1)
    fill(duo, "unit", "days")
    choose(duo, "direction", "down")
    fill(duo, "target", "three")  # a mistake: not a number
    click(duo, "#admin-catalog-save-button")
    duo.wait_for_contains_text(ERROR.format(name="target"), "not a number", timeout=WAIT)
    assert duo.find_element(FIELD.format(name="target")).get_attribute("value") == "three"
    assert "is-invalid" in duo.find_element(FIELD.format(name="target")).get_attribute("class")
    assert "1 field needs attention" in duo.find_element("#admin-catalog-feedback-div").text
    screenshot(duo, "admin-catalog-error-1440", focus=ERROR.format(name="target"))

    fill(duo, "target", "3")
    click(duo, "#admin-catalog-save-button")
    duo.wait_for_contains_text("#admin-catalog-feedback-div", "Added the indicator", timeout=WAIT)
    duo.find_element("#admin-catalog-filter-input").send_keys("LIGHT-DAYS")
    duo.wait_for_contains_text("#admin-catalog-table-title", "1 indicator", timeout=WAIT)
    settled(duo)
    with web_env.database.session() as session:
        indicator = session.scalars(select(Indicator).where(Indicator.code == "LIGHT-DAYS")).one()
        indicator_id = indicator.id
        assert (indicator.target, indicator.direction, indicator.unit) == (3.0, "down", "days")
    edit = f'[id=\'{{"index":{indicator_id},"type":"admin-catalog-edit-button"}}\']'
    click(duo, edit)
    duo.wait_for_contains_text(
        "#admin-catalog-form-title", "Edit indicator: Days to fix a streetlight", timeout=WAIT
    )
    settled(duo)
    assert duo.find_element(FIELD.format(name="code")).get_attribute("readonly") == "true"
    screenshot(duo, "admin-catalog-edit-1440", focus="#admin-catalog-table-div")
    serious = axe.blocking(axe.violations(duo.driver))
    assert serious == [], axe.describe(serious)

    click(duo, "#admin-catalog-archive-button")
    duo.wait_for_contains_text("#admin-catalog-confirm-text", "its history", timeout=WAIT)
    screenshot(duo, "admin-catalog-confirm-1440", focus="#admin-catalog-confirm-div")
    click(duo, "#admin-catalog-confirm-button")
    duo.wait_for_contains_text(
        "#admin-catalog-feedback-div", "Archived the indicator", timeout=WAIT
    )
    duo.wait_for_contains_text("#admin-catalog-table-title", "0 indicators", timeout=WAIT)
    click(duo, "#admin-catalog-archived-check input")
    duo.wait_for_contains_text("#admin-catalog-table-title", "1 indicator", timeout=WAIT)
    duo.wait_for_contains_text("#admin-catalog-table-div", "Archived", timeout=WAIT)
    with web_env.database.session() as session:
        assert session.get(Indicator, indicator_id).archived_at is not None
        actions = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity == "indicator", AuditLog.entity_id == str(indicator_id))
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["create", "archive"]

    settled(duo)
    screenshot(duo, "admin-catalog-390", size=PHONE)
    width = duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone ({width}px)"
    table = duo.find_element(".catalog-list")
    duo.driver.execute_script("arguments[0].scrollIntoView({behavior: 'instant'});", table)
    time.sleep(0.3)
    screenshot(duo, "admin-catalog-table-390", size=PHONE)
    assert severe_logs(duo) == []


def pick_kind(duo, label: str) -> None:
    kind = duo.driver.find_element(
        By.XPATH, f"//*[@id='admin-catalog-kind-radio']//label[normalize-space()='{label}']"
    )
    duo.driver.execute_script(SCROLL, kind)
    kind.click()


def test_bcat002_upload_districts_refuse_a_source_and_a_problem_form_on_a_phone(
    app_duo, web_env
) -> None:
    duo = app_duo
    sign_in(duo, "admin", next_path=quote("/admin?tab=setup", safe="/"))
    duo.wait_for_element("#admin-catalog-kind-radio", timeout=WAIT)
    settled(duo)
    pick_kind(duo, "Districts")
    duo.wait_for_element("#admin-districts-choose-button", timeout=WAIT)
    upload = duo.find_element("#admin-districts-file-upload input[type=file]")
    upload.send_keys(str(BOROUGHS))
    duo.wait_for_contains_text("#admin-districts-file-div", "BoroCode", timeout=WAIT)
    assert Select(duo.find_element("#admin-districts-code-select")).first_selected_option.text == (
        "BoroCode"
    )
    click(duo, "#admin-districts-import-button")
    duo.wait_for_contains_text("#admin-districts-feedback-div", "5 added", timeout=WAIT)
    duo.wait_for_contains_text("#admin-catalog-table-div", "Staten Island", timeout=WAIT)
    settled(duo)
    screenshot(duo, "admin-districts-1440", focus="#admin-districts-feedback-div")
    with web_env.database.session() as session:
        assert session.scalars(select(District.code).where(District.name == "Queens")).one() == "4"

    pick_kind(duo, "Data sources")
    duo.wait_for_element("#admin-source-name-input", timeout=WAIT)
    duo.find_element("#admin-source-name-input").send_keys("city311")
    duo.find_element("#admin-source-url-input").send_keys("https://311.example.gov/open311/v2")
    duo.find_element("#admin-source-timezone-input").send_keys("Mars/Olympus")
    click(duo, "#admin-source-save-button")
    duo.wait_for_contains_text("#admin-source-feedback-div", "not a time zone", timeout=WAIT)
    assert "is-invalid" in duo.find_element("#admin-source-timezone-input").get_attribute("class")
    assert duo.find_element("#admin-source-url-input").get_attribute("value").startswith("https")
    serious = axe.blocking(axe.violations(duo.driver))
    assert serious == [], axe.describe(serious)

    pick_kind(duo, "Problems")
    duo.wait_for_text_to_equal("#admin-catalog-form-title", "Add a problem", timeout=WAIT)
    settled(duo)
    serious = axe.blocking(axe.violations(duo.driver))
    assert serious == [], axe.describe(serious)
    duo.driver.set_window_size(*PHONE)
    title = duo.find_element("#admin-catalog-form-title")
    duo.driver.execute_script("arguments[0].scrollIntoView({behavior: 'instant'});", title)
    time.sleep(0.3)
    screenshot(duo, "admin-problem-form-390", size=PHONE)
    width = duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone ({width}px)"
    assert severe_logs(duo) == []


def test_bcat003_add_a_user_from_the_users_tab(app_duo, web_env) -> None:
    duo = app_duo
    sign_in(duo, "admin", next_path=quote("/admin?tab=users", safe="/"))
    duo.wait_for_element("#admin-user-add-button", timeout=WAIT)
    settled(duo)
    duo.find_element("#admin-user-add-username-input").send_keys("j.rivera")
    duo.find_element("#admin-user-add-name-input").send_keys("Jo Rivera")
    Select(duo.find_element("#admin-user-add-role-select")).select_by_value("analyst")
    duo.find_element("#admin-user-add-password-input").send_keys("short")
    click(duo, "#admin-user-add-button")
    duo.wait_for_contains_text("#admin-user-add-feedback-div", "at least 12", timeout=WAIT)
    assert duo.find_element("#admin-user-add-password-input").get_attribute("value") == ""
    assert duo.find_element("#admin-user-add-username-input").get_attribute("value") == "j.rivera"
    duo.find_element("#admin-user-add-password-input").send_keys("a-long-first-password")
    click(duo, "#admin-user-add-button")
    duo.wait_for_contains_text("#admin-user-add-feedback-div", "Added j.rivera", timeout=WAIT)
    duo.wait_for_contains_text("#admin-users-table-div", "Jo Rivera", timeout=WAIT)
    settled(duo)
    serious = axe.blocking(axe.violations(duo.driver))
    assert serious == [], axe.describe(serious)
    screenshot(duo, "admin-user-add-1440", focus="#admin-user-add-feedback-div")
    with web_env.database.session() as session:
        user = session.scalars(select(User).where(User.username == "j.rivera")).one()
        assert (user.role, user.display_name, user.active) == ("analyst", "Jo Rivera", True)
    assert severe_logs(duo) == []
