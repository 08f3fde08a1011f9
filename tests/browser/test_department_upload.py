"""My department in headless Chromium: a department head uploads a file with bad rows and sees
which rows and why, fixes it and records it all at once; a forged request for another
department's indicator, sent from her signed-in browser, is refused and changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from dash.testing.wait import until
from openpyxl import Workbook
from sqlalchemy import func, select

from db.indicators import indicator_status
from db.models import AuditLog, Indicator, Observation
from layouts import ids
from layouts.components import format_number
from tests import webutil
from tests.browser import axe
from tests.browser.browserutil import screenshot, severe_logs, sign_in
from tests.clock import TODAY
from tests.webutil import WebEnv

pytestmark = pytest.mark.browser
WAIT = 20

POST_FROM_PAGE = """
const [body, done] = [arguments[0], arguments[arguments.length - 1]];
const token = (document.cookie.split('; ').find(c => c.startsWith('_csrf_token=')) || '')
    .split('=').slice(1).join('=');
fetch('/_dash-update-component', {
    method: 'POST',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': decodeURIComponent(token)},
    body: JSON.stringify(body),
}).then(r => r.text().then(t => done({status: r.status, text: t})))
  .catch(e => done({status: 0, text: String(e)}));
"""


def stored(env: WebEnv) -> tuple[int, int]:
    with env.database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Observation)) or 0,
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.entity == "observation")
            )
            or 0,
        )


def codes_of(env: WebEnv, department_id: int | None, *, own: bool) -> list[str]:
    with env.database.session() as session:
        clause = (
            Indicator.department_id == department_id
            if own
            else Indicator.department_id != department_id
        )
        return list(session.scalars(select(Indicator.code).where(clause).order_by(Indicator.code)))


def plausible(env: WebEnv, codes: list[str]) -> dict[str, float]:
    """A value for each indicator that the upload accepts without a question: a little under
    its latest value, else its target, else 50 (the upload refuses values that look wrong)."""
    with env.database.session() as session:
        frame = indicator_status(session, today=TODAY)
    usual: dict[str, float] = {}
    for row in frame.itertuples(index=False):
        for candidate in (row.latest_value, row.target, 50.0):
            if candidate is not None and not pd.isna(candidate):
                usual[row.code] = round(float(candidate) * 0.98, 2)
                break
    return {code: usual.get(code, 50.0) for code in codes}


def choose_file(duo, path: Path) -> None:
    """Give the upload's file input a file, as the file dialog would."""
    field = duo.driver.find_element("css selector", f"#{ids.DEPT_UPLOAD_FILE_UPLOAD} input")
    # The input is display:none (the visible button opens the dialog); Selenium needs it shown.
    duo.driver.execute_script("arguments[0].style.display = 'block';", field)
    field.send_keys(str(path))
    duo.driver.execute_script("arguments[0].style.display = '';", field)


def test_brup001_head_uploads_bad_rows_sees_why_then_records_all(
    app_duo, web_env: WebEnv, tmp_path: Path
) -> None:
    axe.axe_source()
    head = web_env.principal(web_env.head_username())
    own = codes_of(web_env, head.department_id, own=True)
    foreign = codes_of(web_env, head.department_id, own=False)[0]
    sign_in(app_duo, head.username, next_path="/department")
    app_duo.wait_for_element("#department-indicators-div table tbody tr", timeout=WAIT)
    app_duo.wait_for_contains_text(
        f"#{ids.DEPT_UPLOAD_PREVIEW_DIV}", "No file chosen", timeout=WAIT
    )
    commit = app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}")
    assert not commit.is_enabled()

    # The file dialog opens from a real button: it takes keyboard focus like any button.
    choose = app_duo.find_element(f"#{ids.DEPT_UPLOAD_CHOOSE_BUTTON}")
    app_duo.driver.execute_script("arguments[0].focus();", choose)
    assert app_duo.driver.switch_to.active_element.get_attribute("id") == (
        ids.DEPT_UPLOAD_CHOOSE_BUTTON
    )
    assert "at most 2 MB" in app_duo.find_element(f"#{ids.DEPT_UPLOAD_HELP_TEXT}").text

    future = (TODAY + dt.timedelta(days=30)).isoformat()
    values = plausible(web_env, own)
    bad = tmp_path / "week-with-mistakes.csv"
    bad.write_text(
        "indicator,period,value,status,note\n"
        f"{own[0]},2025-02-03,{values[own[0]]:g},on track,fine\n"
        f"{own[0]},{future},{values[own[0]]:g},,\n"
        f"NOT-A-CODE,2025-02-03,1,,\n"
        f"{foreign},2025-02-03,5,,\n"
        f"{own[-1]},2025-02-03,lots,,\n"
    )
    before = stored(web_env)
    choose_file(app_duo, bad)
    app_duo.wait_for_contains_text(f"#{ids.DEPT_UPLOAD_REASON_TEXT}", "4 rejected", timeout=WAIT)
    app_duo.wait_for_element(f"#{ids.DEPT_UPLOAD_PREVIEW_DIV} .upload-rejected table", timeout=WAIT)
    reason = app_duo.find_element(f"#{ids.DEPT_UPLOAD_REASON_TEXT}").text
    assert "Nothing can be recorded while any row is rejected" in reason
    assert not app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}").is_enabled()
    rows = app_duo.driver.execute_script(
        "return [...document.querySelectorAll('.upload-rejected tbody tr')]"
        ".map(tr => [...tr.children].map(c => c.textContent));"
    )
    # Numbered as the spreadsheet numbers them: header row 1, the first (valid) data row 2.
    assert [(r[0], r[3]) for r in rows] == [
        ("3", f"Period {future} is in the future."),
        ("4", "No indicator has this code or name."),
        ("5", "You may change only your own department's indicators."),
        ("6", "Value 'lots' is not a number."),
    ]
    planned = app_duo.find_element(f"#{ids.DEPT_UPLOAD_PREVIEW_DIV} .upload-planned").text
    assert own[0] in planned and "Added" in planned
    screenshot(app_duo, "brup001-department-upload-errors", focus=".upload-rejected")
    serious = axe.blocking(axe.violations(app_duo.driver))
    assert serious == [], axe.describe(serious)
    assert stored(web_env) == before

    # A file over the size limit never leaves the browser: it is cleared and explained.
    huge = tmp_path / "five-years.csv"
    row = f"{own[0]},2025-02-03,41,on track,{'x' * 60}\n"
    huge.write_text("indicator,period,value,status,note\n" + row * (2_600_000 // len(row)))
    choose_file(app_duo, huge)
    app_duo.wait_for_contains_text(
        f"#{ids.DEPT_UPLOAD_SIZE_DIV}", "five-years.csv is 2.5 MB; the limit is 2 MB", timeout=WAIT
    )
    app_duo.wait_for_contains_text(
        f"#{ids.DEPT_UPLOAD_PREVIEW_DIV}", "No file chosen", timeout=WAIT
    )
    assert not app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}").is_enabled()
    assert app_duo.find_element(f"#{ids.DEPT_UPLOAD_SIZE_DIV} [role=alert]")

    # The corrected file, as a spreadsheet: every row valid, recorded together.
    book = Workbook()
    sheet = book.active
    sheet.append(["indicator", "period", "value", "status", "note"])
    for week, code in enumerate(own):
        sheet.append(
            [
                code,
                dt.datetime(2025, 2, 3) + dt.timedelta(days=7 * week),
                values[code],
                "At risk",
                "from the browser",
            ]
        )
    good = tmp_path / "week-fixed.xlsx"
    book.save(good)
    choose_file(app_duo, good)
    app_duo.wait_for_text_to_equal(f"#{ids.DEPT_UPLOAD_SIZE_DIV}", "", timeout=WAIT)
    label = f"Record {len(own)} value" + ("s" if len(own) != 1 else "")
    app_duo.wait_for_text_to_equal(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}", label, timeout=WAIT)
    until(
        lambda: app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}").is_enabled(), timeout=WAIT
    )
    assert "0 rejected" in app_duo.find_element(f"#{ids.DEPT_UPLOAD_REASON_TEXT}").text
    app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}").click()
    app_duo.wait_for_contains_text(
        f"#{ids.DEPT_UPLOAD_RESULT_DIV}", f"Recorded {len(own)} value", timeout=WAIT
    )
    app_duo.wait_for_contains_text(
        f"#{ids.DEPT_UPLOAD_PREVIEW_DIV}", "week-fixed.xlsx is recorded", timeout=WAIT
    )
    assert not app_duo.find_element(f"#{ids.DEPT_UPLOAD_COMMIT_BUTTON}").is_enabled()
    assert stored(web_env) == (before[0] + len(own), before[1] + len(own))
    # The history beside the form shows the recorded values.
    app_duo.wait_for_contains_text(
        "#department-recent-div", f"{own[0]}: {format_number(values[own[0]])}", timeout=WAIT
    )
    screenshot(
        app_duo, "brup001-department-upload-recorded", focus=f"#{ids.DEPT_UPLOAD_RESULT_DIV}"
    )
    serious = axe.blocking(axe.violations(app_duo.driver))
    assert serious == [], axe.describe(serious)
    assert severe_logs(app_duo) == []


def test_brup002_forged_requests_from_the_heads_browser_change_nothing(
    app_duo, web_env: WebEnv
) -> None:
    head = web_env.principal(web_env.head_username())
    assert head.department_id is not None
    sign_in(app_duo, head.username, next_path="/department")
    app_duo.wait_for_element("#department-indicators-div table tbody tr", timeout=WAIT)
    admin = webutil.signed_in_client(web_env, "admin")
    deps = webutil.dependencies(admin)
    foreign_id = web_env.indicator_ids(department_id=head.department_id, own=False)[0]
    before = stored(web_env)

    # The single-value form, aimed at another department's indicator: 403.
    record = webutil.callback_body(
        webutil.find_dependency(deps, "department-feedback-div"),
        {
            "department-save-button.n_clicks": 1,
            "department-indicator-select.value": str(foreign_id),
            "department-period-input.value": (TODAY - dt.timedelta(days=1)).isoformat(),
            "department-value-input.value": "42",
            "department-status-select.value": "at_risk",
            "department-note-textarea.value": "forged",
            "department-saved-store.data": 0,
        },
    )
    answer = app_duo.driver.execute_async_script(POST_FROM_PAGE, record)
    assert answer["status"] == 403, answer
    assert json.loads(answer["text"])["error"] == "forbidden"

    # The upload commit with another department's rows and that department chosen: refused.
    foreign_codes = codes_of(web_env, head.department_id, own=False)[:5]
    text = "indicator,period,value\n" + "".join(f"{c},2025-01-06,50\n" for c in foreign_codes)
    contents = "data:text/csv;base64," + base64.b64encode(text.encode()).decode()
    other_department = next(d for d in web_env.department_ids() if d != head.department_id)
    upload = webutil.callback_body(
        webutil.find_dependency(deps, f"{ids.DEPT_UPLOAD_PREVIEW_DIV}.children"),
        {
            f"{ids.DEPT_UPLOAD_GATE_STORE}.data": {"filename": "f.csv", "at": 1},
            f"{ids.DEPARTMENT_SELECT}.value": str(other_department),
            f"{ids.DEPT_UPLOAD_COMMIT_BUTTON}.n_clicks": 1,
            f"{ids.DEPT_UPLOAD_FILE_UPLOAD}.contents": contents,
            f"{ids.DEPT_UPLOAD_FILE_UPLOAD}.filename": "f.csv",
            f"{ids.DEPT_UPLOAD_DIGEST_STORE}.data": None,
            f"{ids.DEPT_UPLOAD_COMMITTED_STORE}.data": 0,
        },
    )
    upload["changedPropIds"] = [f"{ids.DEPT_UPLOAD_COMMIT_BUTTON}.n_clicks"]
    answer = app_duo.driver.execute_async_script(POST_FROM_PAGE, upload)
    assert answer["status"] == 200, answer
    assert "Nothing was recorded." in answer["text"]
    assert stored(web_env) == before
