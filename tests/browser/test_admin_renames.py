"""Renamed categories in City setup, in headless Chromium: an administrator links a new
category name to the old one, sees it in the table, is refused a loop next to the picker at
fault; axe finds no serious or critical violations; the form fits a 390 px phone."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from db.models import ReportCategory
from tests.browser import axe
from tests.browser.browserutil import screenshot, severe_logs, sign_in
from tests.browser.test_admin_catalog import PHONE, WAIT, click, pick_kind, settled

pytestmark = pytest.mark.browser

NEW = "Street not plowed"
OLD = "Pothole"


def test_bren001_link_a_renamed_category_and_refuse_a_loop(app_duo, web_env) -> None:
    duo = app_duo
    with web_env.database.session() as session:
        names = set(session.scalars(select(ReportCategory.name)))
    assert {NEW, OLD} <= names
    sign_in(duo, "admin", next_path=quote("/admin?tab=setup", safe="/"))
    duo.wait_for_element("#admin-catalog-kind-radio", timeout=WAIT)
    settled(duo)
    pick_kind(duo, "Renamed categories")
    duo.wait_for_contains_text("#admin-catalog-table-div", "No renamed categories", timeout=WAIT)
    settled(duo)
    Select(duo.find_element("#admin-rename-new-select")).select_by_visible_text(NEW)
    Select(duo.find_element("#admin-rename-old-select")).select_by_visible_text(OLD)
    click(duo, "#admin-rename-save-button")
    duo.wait_for_contains_text(
        "#admin-rename-feedback-div", f"{NEW} now continues {OLD}", timeout=WAIT
    )
    duo.wait_for_contains_text("#admin-catalog-table-div", NEW, timeout=WAIT)
    assert duo.find_element("#admin-catalog-table-title").text == "1 renamed category"
    settled(duo)
    screenshot(duo, "admin-renames-1440", focus="#admin-rename-feedback-div")

    Select(duo.find_element("#admin-rename-new-select")).select_by_visible_text(OLD)
    Select(duo.find_element("#admin-rename-old-select")).select_by_visible_text(NEW)
    click(duo, "#admin-rename-save-button")
    duo.wait_for_contains_text("#admin-rename-feedback-div", "would make a cycle", timeout=WAIT)
    assert "is-invalid" in duo.find_element("#admin-rename-old-select").get_attribute("class")
    serious = axe.blocking(axe.violations(duo.driver))
    assert serious == [], axe.describe(serious)
    with web_env.database.session() as session:
        new = session.scalars(select(ReportCategory).where(ReportCategory.name == NEW)).one()
        old = session.scalars(select(ReportCategory).where(ReportCategory.name == OLD)).one()
        assert (new.continues_id, old.continues_id) == (old.id, None)

    duo.driver.set_window_size(*PHONE)
    section = duo.find_element("#admin-rename-section")
    duo.driver.execute_script("arguments[0].scrollIntoView({behavior: 'instant'});", section)
    time.sleep(0.3)
    screenshot(duo, "admin-renames-390", size=PHONE)
    width = duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page scrolls sideways on a phone ({width}px)"
    assert severe_logs(duo) == []
