"""The "City setup" tab and the "Add a user" form: presenters (pure), the callbacks called
directly on a copy of the demo city, forged posts through the real Dash endpoint from every
other role (refused, nothing changed), and a city from zero (the NYC example pack).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pandas as pd
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import admin_catalog as cb
from db import accounts, migrate
from db.catalog import import_pack
from db.models import AuditLog, DataSource, Department, District, Indicator, Problem, User
from db.session import Database
from layouts import admin, ids
from layouts import admin_catalog as view
from tests import webutil
from tests.clock import TODAY
from tests.webutil import TEST_SECRET, WebEnv, demo_password, find_ids, post_callback, texts
from triage.citypack import read_pack
from triage.security import PermissionDenied, Principal, Role
from triage.settings import REPO_ROOT, Settings

NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
BOROUGHS = REPO_ROOT / "tests" / "data" / "nyc_boroughs.geojson"
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
INDICATOR = {
    "code": "TEST-1",
    "name": "Days to fix a streetlight",
    "department": None,  # filled from the demo city
    "unit": "days",
    "direction": "down",
    "cadence": "monthly",
    "target": "3",
    "warning": "5",
    "critical": "8",
    "description": "",
    "source": "",
}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


def _department(database: Database) -> str:
    """The code of a department that has indicators."""
    with database.session() as session:
        return str(
            session.scalar(
                select(Department.code)
                .join(Indicator, Indicator.department_id == Department.id)
                .order_by(Department.code)
                .limit(1)
            )
        )


def _fields(kind: str, values: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    from db.catalog_admin import FIELDS

    names = list(FIELDS[kind])
    return [values.get(n) for n in names], [ids.admin_catalog_field(n) for n in names]


def _count(env: WebEnv, model: Any, *where: Any) -> int:
    with env.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ---------------------------------------------------------------- presenters (pure)


def test_acat001_filter_sort_page_and_archived_rows() -> None:
    frame = pd.DataFrame(
        {
            "id": range(60),
            "code": [f"C{i:02d}" for i in range(60)],
            "name": [("Heat " if i % 3 == 0 else "Noise ") + str(i) for i in range(60)],
            "used": [i % 7 for i in range(60)],
            "archived": [i == 3 for i in range(60)],
        }
    )
    rows, total, page, pages = view.filter_sort_page(
        frame, text="heat", sort="code", page=1, archived=False
    )
    assert total == 19 and pages == 1 and "Heat 3" not in set(rows["name"])
    rows, total, _, _ = view.filter_sort_page(frame, text="HEAT", sort="", page=1, archived=True)
    assert total == 20
    rows, total, page, pages = view.filter_sort_page(
        frame, text="", sort="used", page=9, archived=False
    )
    assert (total, page, pages, len(rows)) == (59, 3, 3, 9)  # clamped to the last page
    assert list(rows["used"])[:1] == [0]  # most used first, so the last page holds the zeros
    assert view.count_text("indicator", 59, 3, 3) == "59 indicators, page 3 of 3"
    assert view.count_text("source", 1, 1, 1) == "1 data source"


def test_acat002_tables_forms_and_empty_states_show_text_as_text() -> None:
    empty = pd.DataFrame(columns=["id", "name", "sector", "contact", "archived"])
    assert "No actors yet." in texts(view.catalogue_table("actor", empty, 0, 0))
    assert "No actors match." in texts(view.catalogue_table("actor", empty, 0, 3))
    rows = pd.DataFrame(
        [{"id": 7, "name": XSS, "sector": "community", "contact": "", "archived": True}]
    )
    table = view.catalogue_table("actor", rows, 1, 1)
    assert XSS in texts(table) and "Archived" in texts(table)
    assert ids.admin_catalog_edit_button(7) in find_ids(table)
    form = view.form_fields(
        "indicator", None, {"department": [("DPW", "Public works")]}, editing=False
    )
    found = find_ids(form)
    for name in ("code", "name", "department", "direction", "target", "critical"):
        assert ids.admin_catalog_field(name) in found and ids.admin_catalog_error(name) in found
    editing = view.form_fields("department", {"code": "DPW", "name": "Works"}, {}, editing=True)
    assert "cannot change" in texts(editing)
    assert "readonly=True" in str(editing).replace(" ", "")
    assert view.form_title("problem", {"title": "Potholes", "archived": True}) == (
        "Edit problem: Potholes (archived)"
    )
    errors, classes = view.field_errors(["code", "indicators"], {"indicators": "Pick one."})
    assert errors[0] == "" and "Pick one." in texts(errors[1])
    assert classes == ["", "catalog-checklist is-invalid"]


def test_acat003_the_tab_is_for_admins_only_and_in_the_validation_layout() -> None:
    assert "setup" in [t.key for t in admin.allowed_tabs(Role.ADMIN)]
    for role in (Role.CHIEF_OF_STAFF, Role.MAYOR, Role.ANALYST, Role.DEPARTMENT_HEAD):
        assert "setup" not in [t.key for t in admin.allowed_tabs(role)]
    validation = find_ids(admin.layout())
    for component_id in (
        ids.ADMIN_CATALOG_TABLE_DIV,
        ids.ADMIN_DISTRICTS_UPLOAD,
        ids.ADMIN_SOURCE_SAVE_BUTTON,
        ids.ADMIN_USER_ADD_BUTTON,
    ):
        assert component_id in validation
    chief = admin.layout(tab="setup", viewer_role=Role.CHIEF_OF_STAFF)
    assert "for administrators only" in texts(chief)
    assert ids.ADMIN_CATALOG_TABLE_DIV not in find_ids(chief)


# ---------------------------------------------------------------- callbacks, called directly


def test_acat010_create_edit_archive_restore_an_indicator(env: WebEnv) -> None:
    admin_user = env.principal("admin")
    department = _department(env.database)
    values, field_ids = _fields(
        "indicator", {**INDICATOR, "department": department, "direction": "sideways"}
    )
    feedback, errors, classes, saved = cb.catalogue_save(
        1,
        0,
        0,
        values,
        field_ids,
        None,
        "indicator",
        4,
        principal=admin_user,
        triggered_id=ids.ADMIN_CATALOG_SAVE_BUTTON,
    )
    assert saved is dash.no_update  # nothing written; the form (and its input) stays
    direction = [f["index"] for f in field_ids].index("direction")
    assert "Direction 'sideways' is not one of up, down." in texts(errors[direction])
    assert classes[direction] == "is-invalid" and "1 field needs attention" in texts(feedback)
    assert _count(env, Indicator, Indicator.code == "TEST-1") == 0

    values, field_ids = _fields("indicator", {**INDICATOR, "department": department})
    feedback, errors, _, saved = cb.catalogue_save(
        1,
        0,
        0,
        values,
        field_ids,
        None,
        "indicator",
        4,
        principal=admin_user,
        triggered_id=ids.ADMIN_CATALOG_SAVE_BUTTON,
    )
    assert saved == 5 and "Added the indicator" in texts(feedback) and set(errors) == {""}
    with env.database.session() as session:
        indicator = session.scalars(select(Indicator).where(Indicator.code == "TEST-1")).one()
        indicator_id = indicator.id
        assert (indicator.target, indicator.direction) == (3.0, "down")
    title, fields, editing, cancel_hidden, archive_hidden, restore_hidden = cb.catalogue_form(
        "indicator",
        [1],
        0,
        5,
        principal=admin_user,
        triggered_id=ids.admin_catalog_edit_button(indicator_id),
        triggered_value=1,
    )
    assert title == "Edit indicator: Days to fix a streetlight"
    assert editing == {"kind": "indicator", "id": indicator_id}
    assert (cancel_hidden, archive_hidden, restore_hidden) == (False, False, True)
    assert "value='Days to fix a streetlight'" in str(fields)
    hidden, text = cb.archive_confirm(
        1, 0, editing, principal=admin_user, triggered_id=ids.ADMIN_CATALOG_ARCHIVE_BUTTON
    )
    assert not hidden and "its history" in text
    feedback, *_rest, saved = cb.catalogue_save(
        0,
        1,
        0,
        values,
        field_ids,
        editing,
        "indicator",
        5,
        principal=admin_user,
        triggered_id=ids.ADMIN_CATALOG_CONFIRM_BUTTON,
    )
    assert "Archived the indicator" in texts(feedback) and saved == 6
    query = cb.table_query(
        0,
        0,
        "indicator",
        "TEST-1",
        [],
        "code",
        None,
        principal=admin_user,
        triggered_id=ids.ADMIN_CATALOG_FILTER_INPUT,
    )
    table, count, _, _ = cb.catalogue_list(query, 6, 0, 0, principal=admin_user)
    assert "No indicators match." in texts(table) and count.startswith("0 indicators")
    query["archived"] = True
    table, count, _, _ = cb.catalogue_list(query, 6, 0, 0, principal=admin_user)
    assert "Archived" in texts(table) and count == "1 indicator"
    cb.catalogue_save(
        0,
        0,
        1,
        values,
        field_ids,
        editing,
        "indicator",
        6,
        principal=admin_user,
        triggered_id=ids.ADMIN_CATALOG_RESTORE_BUTTON,
    )
    with env.database.session() as session:
        actions = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.entity == "indicator", AuditLog.entity_id == str(indicator_id))
            .order_by(AuditLog.id)
        ).all()
    assert actions == ["create", "archive", "restore"]


def test_acat011_other_roles_are_refused_by_the_writes_themselves(env: WebEnv) -> None:
    values, field_ids = _fields("department", {"code": "NEW", "name": "New department"})
    for username in ("chief", "mayor", "analyst", env.head_username()):
        with pytest.raises(PermissionDenied):
            cb.catalogue_save(
                1,
                0,
                0,
                values,
                field_ids,
                None,
                "department",
                0,
                principal=env.principal(username),
                triggered_id=ids.ADMIN_CATALOG_SAVE_BUTTON,
            )
    with pytest.raises(PreventUpdate):
        cb.catalogue_save(
            0,
            0,
            1,
            values,
            field_ids,
            None,
            "department",
            0,
            principal=env.principal("admin"),
            triggered_id=ids.ADMIN_CATALOG_RESTORE_BUTTON,
        )


def test_acat012_district_upload_and_a_data_source_and_a_user(env: WebEnv) -> None:
    admin_user = env.principal("admin")
    data = BOROUGHS.read_bytes()
    contents = "data:application/geo+json;base64," + base64.b64encode(data).decode()
    summary, options, code, _, name, _, population = cb.district_file(
        contents, "../../boroughs.geojson", principal=admin_user
    )
    assert (code, name, population) == ("BoroCode", "BoroName", "(none)")
    assert [o["value"] for o in options] == ["BoroCode", "BoroName"]
    assert "Properties found: BoroCode, BoroName" in texts(summary)
    feedback, saved = cb.district_import(
        1, contents, "boroughs.geojson", "BoroCode", "BoroName", "(none)", 0, principal=admin_user
    )
    assert saved == 1 and "5 added" in texts(feedback) and "moved" in texts(feedback)
    assert _count(env, District, District.name == "Staten Island") == 1
    refused, saved = cb.district_import(
        1, "data:x;base64,@@", "x", "BoroCode", "", "", 1, principal=admin_user
    )
    assert saved is dash.no_update and "damaged" in texts(refused)

    feedback, *invalid, saved = cb.source_save(
        1,
        "city311",
        "open311",
        "https://311.example.gov/open311/v2",
        "json",
        "",
        None,
        "",
        "",
        0,
        principal=admin_user,
    )
    assert saved is dash.no_update and invalid[view_source_index("timezone")]
    assert "time zone" in texts(feedback)
    feedback, *invalid, saved = cb.source_save(
        1,
        "city311",
        "open311",
        "https://311.example.gov/open311/v2",
        "json",
        "",
        None,
        "America/Chicago",
        "30",
        0,
        principal=admin_user,
    )
    assert saved == 1 and not any(invalid) and _count(env, DataSource, DataSource.name == "city311")

    roles, departments = cb.user_form_options(0, principal=admin_user)
    assert {"label": "Department head", "value": "department_head"} in roles
    feedback, password, added = cb.user_add(
        1,
        "new.head",
        "New Head",
        "department_head",
        "(none)",
        "long-enough-password",
        0,
        principal=admin_user,
    )
    assert "needs a department" in texts(feedback) and password == "" and added is dash.no_update
    department = departments[1]["value"]
    feedback, password, added = cb.user_add(
        1,
        "new.head",
        "New Head",
        "department_head",
        department,
        "long-enough-password",
        0,
        principal=admin_user,
    )
    assert "Added new.head as Department head" in texts(feedback) and added == 1
    assert _count(env, User, User.username == "new.head") == 1


def view_source_index(field: str) -> int:
    from layouts.admin_catalog_feeds import SOURCE_FIELDS

    return SOURCE_FIELDS.index(field)


# ---------------------------------------------------------------- forged posts, real endpoint


@pytest.fixture
def http_env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    web.client().get("/healthz")
    yield web
    web.dispose()


def _save_body(deps: dict[str, dict], values: dict[str, Any], kind: str) -> dict[str, Any]:
    output = next(o for o in deps if "admin-catalog-feedback-div" in o)
    body = webutil.callback_body(
        deps[output],
        {
            "admin-catalog-save-button.n_clicks": 1,
            "admin-catalog-kind-radio.value": kind,
            "admin-catalog-saved-store.data": 0,
        },
    )
    names = list(values)
    body["outputs"] = [
        {"id": ids.ADMIN_CATALOG_FEEDBACK_DIV, "property": "children"},
        [{"id": ids.admin_catalog_error(n), "property": "children"} for n in names],
        [{"id": ids.admin_catalog_field(n), "property": "className"} for n in names],
        {"id": ids.ADMIN_CATALOG_SAVED_STORE, "property": "data"},
    ]
    body["state"][0] = [
        {"id": ids.admin_catalog_field(n), "property": "value", "value": values[n]} for n in names
    ]
    body["state"][1] = [
        {"id": ids.admin_catalog_field(n), "property": "id", "value": ids.admin_catalog_field(n)}
        for n in names
    ]
    return body


def test_acat020_forged_posts_from_other_roles_are_refused_and_change_nothing(
    http_env: WebEnv,
) -> None:
    admin_client = webutil.signed_in_client(http_env, "admin")
    deps = {d["output"]: d for d in webutil.dependencies(admin_client)}
    body = _save_body(deps, {"code": "FORGED", "name": "Forged department"}, "department")
    source = webutil.callback_body(
        deps[next(o for o in deps if "admin-source-feedback-div" in o)],
        {
            "admin-source-save-button.n_clicks": 1,
            "admin-source-name-input.value": "forged",
            "admin-source-kind-select.value": "csv",
            "admin-source-url-input.value": "/etc/passwd",
            "admin-source-layout-select.value": "nyc",
        },
    )
    user = webutil.callback_body(
        deps[next(o for o in deps if "admin-user-add-feedback-div" in o)],
        {
            "admin-user-add-button.n_clicks": 1,
            "admin-user-add-username-input.value": "forged",
            "admin-user-add-role-select.value": "admin",
            "admin-user-add-password-input.value": "a-forged-password-123",
        },
    )
    audit_before = _audit_rows(http_env)
    for username in ("chief", "mayor", "analyst", http_env.head_username()):
        client = webutil.signed_in_client(http_env, username)
        for forged in (body, source, user):
            response = post_callback(client, forged)
            assert response.status_code == 403, (username, forged["output"][:60])
    with http_env.database.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(User).where(User.username == "forged"))
            == 0
        )
        assert (
            session.scalar(
                select(func.count()).select_from(DataSource).where(DataSource.name == "forged")
            )
            == 0
        )
    assert _audit_rows(http_env) == audit_before + 0  # sign-ins add "login" rows only
    response = post_callback(admin_client, body)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Added the department" in response.get_data(as_text=True)
    response = post_callback(admin_client, source)
    assert response.status_code == 200 and "Added the data source" in response.get_data(
        as_text=True
    )


def _audit_rows(env: WebEnv) -> int:
    with env.database.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action != "login")
            )
            or 0
        )


# ---------------------------------------------------------------- any city: the NYC pack


def test_acat030_city_from_zero_with_the_nyc_pack(tmp_path: Path) -> None:
    import app as composition_root

    url = f"sqlite:///{tmp_path / 'nyc.sqlite3'}"
    migrate.upgrade(url)
    database = Database(url)
    with database.session(write=True) as session:
        import_pack(
            session, Principal.system("test"), read_pack(NYC_PACK), city_tz="America/New_York"
        )
        accounts.create_user(
            session, Principal.system("test"), "admin", "admin", demo_password("admin")
        )
    settings = Settings(
        database_url=url,
        mode="development",
        secret_key=TEST_SECRET,
        today_override=TODAY,
        timezone="America/New_York",
    )
    nyc = WebEnv(composition_root.create_app(settings, database), database, settings)
    try:
        with nyc.app.server.test_request_context():
            admin_user = nyc.principal("admin")
            query = cb.table_query(
                0, 0, "problem", "", [], "title", None, principal=admin_user, triggered_id="x"
            )
            table, count, _, _ = cb.catalogue_list(query, 0, 0, 0, principal=admin_user)
            assert "Homes without heat or hot water" in texts(table)
            query = cb.table_query(
                0, 0, "district", "311", [], "code", None, principal=admin_user, triggered_id="x"
            )
            table, count, _, _ = cb.catalogue_list(query, 0, 0, 0, principal=admin_user)
            assert "Brooklyn Community District 11" in texts(table) and count == "1 district"
            values, field_ids = _fields(
                "indicator", {**INDICATOR, "department": _department(database)}
            )
            feedback, *_, saved = cb.catalogue_save(
                1,
                0,
                0,
                values,
                field_ids,
                None,
                "indicator",
                0,
                principal=admin_user,
                triggered_id=ids.ADMIN_CATALOG_SAVE_BUTTON,
            )
            assert saved == 1, texts(feedback)
            _, fields, *_ = cb.catalogue_form(
                "problem", [], 0, 1, principal=admin_user, triggered_id=ids.ADMIN_CATALOG_KIND_RADIO
            )
            assert "TEST-1" in str(fields)  # the new indicator is offered to problems
            values, field_ids = _fields(
                "problem",
                {
                    "code": "STREETLIGHTS",
                    "title": "Dark streets",
                    "lead_department": "(none)",
                    "indicators": ["TEST-1"],
                    "categories": "Street Light Condition",
                    "status": "watch",
                },
            )
            feedback, *_, saved = cb.catalogue_save(
                1,
                0,
                0,
                values,
                field_ids,
                None,
                "problem",
                1,
                principal=admin_user,
                triggered_id=ids.ADMIN_CATALOG_SAVE_BUTTON,
            )
            assert saved == 2 and "Added the problem" in texts(feedback)
            with database.session() as session:
                problem = session.scalars(
                    select(Problem).where(Problem.code == "STREETLIGHTS")
                ).one()
                assert problem.lead_department_id is None
    finally:
        database.dispose()
