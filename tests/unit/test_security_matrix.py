"""Role × callback and route × session matrices, discovered from the app and checked against tables.

A new route or callback without an entry in the tables below fails these tests: decide who may
use it, add it here, then it passes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from callbacks import policy
from db.models import Observation
from db.queries import count_rows
from tests import webutil
from tests.webutil import WebEnv, post_callback, signed_in_client
from triage.security import CAPABILITY_ROLES, Role

ALL = frozenset(Role)
INDICATOR_EDITORS = frozenset({Role.DEPARTMENT_HEAD, Role.CHIEF_OF_STAFF, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
CLIENTSIDE = "clientside"  # runs in the browser; the server refuses every POST to it

# Every route of the Flask server: "public" answers without a session, "session" does not.
EXPECTED_ROUTES: dict[str, str] = {
    "/": "session",
    "/<path:path>": "session",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "public",
    "/_dash-dependencies": "session",
    "/_dash-layout": "session",
    "/_dash-update-component": "session",
    "/_favicon.ico": "public",
    "/_reload-hash": "session",
    "/assets/<path:filename>": "public",
    "/healthz": "public",
    "/login": "public",
    "/logout": "session",
}

# Every Dash callback (by its output key) and the roles that may run it.
EXPECTED_CALLBACKS: dict[str, frozenset[Role] | str] = {
    policy.PAGES_ROUTER_OUTPUT: ALL,
    policy.PAGES_TITLE_OUTPUT: CLIENTSIDE,
    "..home-kpi-div.children...home-area-select.options...home-status-select.options..": ALL,
    "home-problems-div.children": ALL,
    "home-query-store.data": CLIENTSIDE,
    "problem-body-div.children": ALL,
    "..department-dept-select.options...department-dept-select.value"
    "...department-dept-select.disabled..": INDICATOR_EDITORS,
    "..department-indicators-div.children...department-indicator-select.options"
    "...department-recent-div.children..": INDICATOR_EDITORS,
    "..department-feedback-div.children...department-saved-store.data"
    "...department-value-input.value...department-note-textarea.value..": INDICATOR_EDITORS,
    "admin-users-table-div.children": ADMINS,
    "..admin-users-feedback-div.children...admin-users-changed-store.data..": ADMINS,
}

# Values that make a request meaningful (everything else is sent as None / []).
CALLBACK_VALUES = {
    "_pages_location.pathname": "/",
    "_pages_location.search": "",
    "problem-id-store.data": 1,
}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("matrix"))
    web.client().get("/healthz")  # Dash registers its Pages callbacks on the first request
    yield web
    web.dispose()


@pytest.fixture(scope="module")
def clients(env: WebEnv) -> dict[Role, FlaskClient]:
    usernames = {
        Role.MAYOR: "mayor",
        Role.CHIEF_OF_STAFF: "chief",
        Role.ANALYST: "analyst",
        Role.ADMIN: "admin",
        Role.DEPARTMENT_HEAD: env.head_username(),
    }
    return {role: signed_in_client(env, name) for role, name in usernames.items()}


@pytest.fixture(scope="module")
def deps(clients: dict[Role, FlaskClient]) -> dict[str, dict]:
    return {d["output"]: d for d in webutil.dependencies(clients[Role.ADMIN])}


def _sample_url(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: f"sample-{m.group(1)}", rule)


def test_matrix001_every_route_has_an_entry(env: WebEnv) -> None:
    routes = {rule.rule for rule in env.app.server.url_map.iter_rules()}
    assert routes == set(EXPECTED_ROUTES), (
        "routes changed: add the new ones to EXPECTED_ROUTES "
        f"(missing: {routes - set(EXPECTED_ROUTES)}, gone: {set(EXPECTED_ROUTES) - routes})"
    )


@pytest.mark.parametrize("rule", sorted(EXPECTED_ROUTES))
def test_matrix002_routes_without_session(env: WebEnv, rule: str) -> None:
    methods = next(r.methods for r in env.app.server.url_map.iter_rules() if r.rule == rule) - {
        "HEAD",
        "OPTIONS",
    }
    url = _sample_url(rule)
    client = env.client()
    for method in sorted(methods):
        for accept in ("text/html", "application/json"):
            response = client.open(url, method=method, headers={"Accept": accept}, json={})
            if EXPECTED_ROUTES[rule] == "public":
                assert response.status_code not in (302, 401), (method, url)
                continue
            page_request = method == "GET" and accept == "text/html" and not url.startswith("/_")
            expected = 302 if page_request else 401
            assert response.status_code == expected, (method, url, accept)
            if expected == 302:
                assert response.headers["Location"].startswith("/login?next=")


def test_matrix003_every_callback_has_an_entry(env: WebEnv) -> None:
    discovered = set(env.app.callback_map)
    assert discovered == set(EXPECTED_CALLBACKS), (
        "callbacks changed: add the new ones to EXPECTED_CALLBACKS "
        f"(missing: {discovered - set(EXPECTED_CALLBACKS)}, "
        f"gone: {set(EXPECTED_CALLBACKS) - discovered})"
    )


def test_matrix004_registry_agrees_with_the_table(env: WebEnv) -> None:
    rules = policy.rules(env.app)
    assert set(rules) == set(env.app.callback_map), "a callback bypassed secured_callback"
    for output, expected in EXPECTED_CALLBACKS.items():
        rule = rules[output]
        if expected == CLIENTSIDE:
            assert rule.clientside and rule.capability is None
        else:
            assert rule.capability is not None
            assert CAPABILITY_ROLES[rule.capability] == expected, output


@pytest.mark.parametrize("role", sorted(Role))
@pytest.mark.parametrize("output", sorted(EXPECTED_CALLBACKS))
def test_matrix005_role_by_callback(
    clients: dict[Role, FlaskClient], deps: dict[str, dict], output: str, role: Role
) -> None:
    body = webutil.callback_body(deps[output], CALLBACK_VALUES)
    response = post_callback(clients[role], body)
    expected = EXPECTED_CALLBACKS[output]
    if expected == CLIENTSIDE or role not in expected:
        assert response.status_code == 403, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code in (200, 204), response.get_data(as_text=True)[:300]


def _record_body(deps: dict[str, dict], indicator_id: int) -> dict:
    output = next(o for o in deps if "department-feedback-div" in o)
    period = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    values = {
        "department-save-button.n_clicks": 1,
        "department-indicator-select.value": str(indicator_id),
        "department-period-input.value": period,
        "department-value-input.value": "42",
        "department-status-select.value": "at_risk",
        "department-note-textarea.value": "matrix test",
        "department-saved-store.data": 0,
    }
    return webutil.callback_body(deps[output], values)


def test_matrix006_head_cannot_write_another_departments_indicator(
    env: WebEnv, clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    with env.database.session() as session:
        before = count_rows(session, Observation)
    response = post_callback(clients[Role.DEPARTMENT_HEAD], _record_body(deps, foreign))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    with env.database.session() as session:
        assert count_rows(session, Observation) == before


def test_matrix007_head_writes_her_own_indicator(
    env: WebEnv, clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    own = env.indicator_ids(department_id=head.department_id, own=True)[0]
    with env.database.session() as session:
        before = count_rows(session, Observation)
    response = post_callback(clients[Role.DEPARTMENT_HEAD], _record_body(deps, own))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Saved" in response.get_data(as_text=True)
    with env.database.session() as session:
        assert count_rows(session, Observation) == before + 1


def test_matrix008_mayor_cannot_write_any_indicator(
    env: WebEnv, clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    indicator = env.indicator_ids(department_id=env.department_ids()[0], own=True)[0]
    with env.database.session() as session:
        before = count_rows(session, Observation)
    assert post_callback(clients[Role.MAYOR], _record_body(deps, indicator)).status_code == 403
    with env.database.session() as session:
        assert count_rows(session, Observation) == before
