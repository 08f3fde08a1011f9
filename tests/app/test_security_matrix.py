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

from callbacks import department, policy
from db.frames import count_rows
from db.models import Alert, AuditLog, Observation
from tests import webutil
from tests.clock import TODAY
from tests.webutil import WebEnv, post_callback, signed_in_client
from triage.scoring import iso_week
from triage.security import CAPABILITY_ROLES, Role

ALL = frozenset(Role)
INDICATOR_EDITORS = frozenset({Role.DEPARTMENT_HEAD, Role.CHIEF_OF_STAFF, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
DECIDERS = frozenset({Role.MAYOR, Role.CHIEF_OF_STAFF})
CONFIGURERS = frozenset({Role.CHIEF_OF_STAFF, Role.ADMIN})
PROBLEM_EDITORS = frozenset({Role.CHIEF_OF_STAFF, Role.ADMIN})  # edit problems and their maps
ALERT_MANAGERS = frozenset({Role.MAYOR, Role.CHIEF_OF_STAFF, Role.ANALYST})
CLIENTSIDE = "clientside"  # runs in the browser; the server refuses every POST to it

# Every route of the Flask server: "public" answers without a session, "session" does not.
EXPECTED_ROUTES: dict[str, str] = {
    "/": "session",
    "/<path:path>": "session",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "public",
    # The trimmed plotly.js where Dash's graphs fetch it (app.serve_plotly_bundle).
    "/_dash-component-suites/plotly/package_data/<filename>": "public",
    "/_dash-dependencies": "session",
    "/_dash-layout": "session",
    "/_dash-update-component": "session",
    "/_favicon.ico": "public",
    "/_reload-hash": "session",
    "/admin/users": "session",  # redirects to /admin (the Users tab)
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
    '{"key":["MATCH"],"type":"lazy-fold-body"}.children': CLIENTSIDE,
    '{"key":["MATCH"],"type":"deferred-chart-body"}.children': CLIENTSIDE,
    "..problem-header-div.children...problem-sections-div.hidden...problem-version-store.data"
    "...problem-editor-store.data...problem-edit-panel-div.hidden...problem-factor-panel-div.hidden"
    "...problem-engagement-panel-div.hidden...problem-innovation-panel-div.hidden..": ALL,
    "..problem-overview-div.children...problem-indicators-div.children"
    "...problem-reports-div.children...problem-map-div.children...problem-actors-div.children"
    "...problem-innovations-div.children...problem-history-div.children..": ALL,
    '{"index":["MATCH"],"type":"problem-map-detail-div"}.children': CLIENTSIDE,
    "..problem-tab-store.data...problem-overview-tab-button.className"
    "...problem-indicators-tab-button.className...problem-reports-tab-button.className"
    "...problem-map-tab-button.className...problem-actors-tab-button.className"
    "...problem-innovations-tab-button.className...problem-history-tab-button.className"
    "...problem-overview-tab-button.aria-selected...problem-indicators-tab-button.aria-selected"
    "...problem-reports-tab-button.aria-selected...problem-map-tab-button.aria-selected"
    "...problem-actors-tab-button.aria-selected...problem-innovations-tab-button.aria-selected"
    "...problem-history-tab-button.aria-selected...problem-overview-tab-panel.hidden"
    "...problem-indicators-tab-panel.hidden...problem-reports-tab-panel.hidden"
    "...problem-map-tab-panel.hidden...problem-actors-tab-panel.hidden"
    "...problem-innovations-tab-panel.hidden...problem-history-tab-panel.hidden..": CLIENTSIDE,
    "..problem-edit-title-field.value...problem-edit-status-field.value"
    "...problem-edit-description-field.value...problem-edit-desired-outcome-field.value"
    "...problem-edit-authority-field.value...problem-edit-authority-notes-field.value"
    "...problem-edit-political-capital-field.value...problem-edit-political-notes-field.value..": (
        PROBLEM_EDITORS
    ),
    "..problem-edit-feedback-div.children...problem-edit-saved-store.data..": PROBLEM_EDITORS,
    "..problem-factor-choice-select.options...problem-factor-choice-select.value"
    "...problem-factor-title-field.value...problem-factor-description-field.value"
    "...problem-factor-reach-field.value...problem-factor-evidence-field.value"
    "...problem-factor-weight-field.value...problem-factor-parent-ids-field.value"
    "...problem-factor-indicator-id-field.value...problem-factor-parent-ids-field.options"
    "...problem-factor-indicator-id-field.options...problem-factor-remove-button.disabled..": (
        PROBLEM_EDITORS
    ),
    "..problem-factor-feedback-div.children...problem-factor-saved-store.data..": PROBLEM_EDITORS,
    "..problem-engagement-choice-select.options...problem-engagement-choice-select.value"
    "...problem-engagement-actor-id-field.value...problem-engagement-factor-id-field.value"
    "...problem-engagement-role-field.value...problem-engagement-stance-field.value"
    "...problem-engagement-committed-funding-field.value"
    "...problem-engagement-last-contact-field.value...problem-engagement-authorisation-field.value"
    "...problem-engagement-strings-field.value...problem-engagement-actor-id-field.options"
    "...problem-engagement-factor-id-field.options...problem-engagement-remove-button.disabled..": (
        PROBLEM_EDITORS
    ),
    "..problem-engagement-feedback-div.children...problem-engagement-saved-store.data..": (
        PROBLEM_EDITORS
    ),
    "..problem-innovation-choice-select.options...problem-innovation-choice-select.value"
    "...problem-innovation-title-field.value...problem-innovation-origin-field.value"
    "...problem-innovation-kind-field.value...problem-innovation-stage-field.value"
    "...problem-innovation-lead-actor-id-field.value...problem-innovation-evidence-field.value"
    "...problem-innovation-cost-field.value...problem-innovation-description-field.value"
    "...problem-innovation-evidence-note-field.value...problem-innovation-lead-actor-id-field.options"
    "...problem-innovation-remove-button.disabled..": PROBLEM_EDITORS,
    "..problem-innovation-feedback-div.children...problem-innovation-saved-store.data..": (
        PROBLEM_EDITORS
    ),
    "..department-dept-select.options...department-dept-select.value"
    "...department-dept-select.disabled...department-period-input.max..": INDICATOR_EDITORS,
    "..department-indicator-details-div.children"
    "...department-period-input.value..": INDICATOR_EDITORS,
    "..department-alerts-div.children...department-alert-select.options..": INDICATOR_EDITORS,
    "..department-alert-feedback-div.children...department-alert-changed-store.data"
    "...department-alert-note-textarea.value..": INDICATOR_EDITORS,
    "..department-indicators-div.children...department-indicator-select.options"
    "...department-recent-div.children..": INDICATOR_EDITORS,
    "..department-feedback-div.children...department-saved-store.data"
    "...department-value-input.value...department-note-textarea.value"
    "...department-confirm-store.data..": INDICATOR_EDITORS,
    "..department-upload-gate-store.data...department-upload-file-upload.contents"
    "...department-upload-size-div.children..": CLIENTSIDE,
    "..department-upload-preview-div.children...department-upload-commit-button.children"
    "...department-upload-commit-button.disabled...department-upload-reason-text.children"
    "...department-upload-digest-store.data...department-upload-result-div.children"
    "...department-upload-committed-store.data..": INDICATOR_EDITORS,
    "department-upload-template-download.data": INDICATOR_EDITORS,
    "admin-users-table-div.children": ADMINS,
    # City setup and Add a user (callbacks.admin_catalog): administrators only.
    "..admin-catalog-sort-select.options...admin-catalog-sort-select.value"
    "...admin-catalog-form-section.hidden...admin-districts-section.hidden"
    "...admin-source-section.hidden...admin-rename-section.hidden..": ADMINS,
    "..admin-rename-new-select.options...admin-rename-old-select.options..": ADMINS,
    "..admin-rename-feedback-div.children...admin-rename-new-select.invalid"
    "...admin-rename-old-select.invalid...admin-rename-saved-store.data..": ADMINS,
    "admin-catalog-query-store.data": ADMINS,
    "..admin-catalog-table-div.children...admin-catalog-table-title.children"
    "...admin-catalog-prev-button.disabled...admin-catalog-next-button.disabled..": ADMINS,
    "..admin-catalog-form-title.children...admin-catalog-fields-div.children"
    "...admin-catalog-editing-store.data...admin-catalog-cancel-button.hidden"
    "...admin-catalog-archive-button.hidden...admin-catalog-restore-button.hidden..": ADMINS,
    "..admin-catalog-confirm-div.hidden...admin-catalog-confirm-text.children..": ADMINS,
    '..admin-catalog-feedback-div.children...{"index":["ALL"],"type":"admin-catalog-error-text"}'
    '.children...{"index":["ALL"],"type":"admin-catalog-field-input"}.className'
    "...admin-catalog-saved-store.data..": ADMINS,
    "..admin-districts-file-div.children...admin-districts-code-select.options"
    "...admin-districts-code-select.value...admin-districts-name-select.options"
    "...admin-districts-name-select.value...admin-districts-population-select.options"
    "...admin-districts-population-select.value..": ADMINS,
    "..admin-districts-feedback-div.children...admin-districts-saved-store.data..": ADMINS,
    "..admin-source-open311-div.hidden...admin-source-file-div.hidden"
    "...admin-source-layout-select.options...admin-source-url-label.children..": ADMINS,
    "..admin-source-feedback-div.children...admin-source-name-input.invalid"
    "...admin-source-kind-select.invalid...admin-source-url-input.invalid"
    "...admin-source-format-select.invalid...admin-source-layout-select.invalid"
    "...admin-source-timezone-input.invalid...admin-source-poll-input.invalid"
    "...admin-source-saved-store.data..": ADMINS,
    "..admin-user-add-role-select.options...admin-user-add-department-select.options..": ADMINS,
    "..admin-user-add-feedback-div.children...admin-user-add-password-input.value"
    "...admin-user-add-saved-store.data..": ADMINS,
    "..admin-users-feedback-div.children...admin-users-changed-store.data..": ADMINS,
    "..actors-directory-div.children...actors-pager-text.children"
    "...actors-prev-page-button.disabled...actors-next-page-button.disabled"
    "...actors-heatmap-div.children...actors-sankey-div.children...actors-gaps-div.children..": (
        ALL
    ),
    "actors-page-store.data": CLIENTSIDE,
    "actors-query-store.data": CLIENTSIDE,
    "..reports-category-select.options...reports-district-select.options"
    "...reports-problem-select.options...reports-from-input.value...reports-to-input.value"
    "...reports-summary-div.children...reports-trend-div.children"
    "...reports-categories-div.children...reports-districts-div.children"
    "...reports-recent-div.children..": ALL,
    "reports-query-store.data": CLIENTSIDE,
    "admin-weights-form-div.children": CONFIGURERS,
    "admin-weights-components-store.data": CONFIGURERS,
    "admin-weights-preview-div.children": CONFIGURERS,
    "..admin-weights-feedback-div.children...admin-weights-saved-store.data..": CONFIGURERS,
    "..admin-mapping-table-div.children...admin-mapping-category-select.options"
    "...admin-mapping-problem-select.options..": CONFIGURERS,
    "..admin-mapping-feedback-div.children...admin-mapping-changed-store.data..": CONFIGURERS,
    "..admin-mapping-category-select.value...admin-mapping-problem-select.value"
    "...admin-mapping-weight-input.value..": CONFIGURERS,
    "admin-mapping-remove-click-store.data": CLIENTSIDE,
    "admin-mapping-edit-click-store.data": CLIENTSIDE,
    "..admin-sources-table-div.children...admin-jobs-table-div.children..": CONFIGURERS,
    "..priorities-week-select.options...priorities-week-select.value"
    "...priorities-week-notice-div.children...priorities-summary-div.children"
    "...priorities-list-div.children"
    "...priorities-quadrant-graph.figure...priorities-quadrant-text-div.children"
    "...priorities-changes-div.children...priorities-attention-div.children..": ALL,
    "priorities-nav-location.href": ALL,
    "..priorities-decision-modal.is_open...priorities-decision-title.children"
    "...priorities-decision-context-div.children...priorities-decision-problem-store.data"
    "...priorities-decision-choice-radio.value...priorities-decision-note-textarea.value"
    "...priorities-decision-feedback-div.children...priorities-saved-store.data"
    "...priorities-decision-status-div.children..": DECIDERS,
    "priorities-decide-click-store.data": CLIENTSIDE,
    "priorities-open-click-store.data": CLIENTSIDE,
    "..priorities-attention-feedback-div.children...priorities-opened-store.data..": (
        PROBLEM_EDITORS
    ),
    "priorities-csv-download.data": ALL,
    "priorities-brief-download.data": ALL,
    "priorities-query-store.data": CLIENTSIDE,
    "..alerts-department-select.options...alerts-district-select.options"
    "...alerts-category-select.options...alerts-problem-select.options..": ALL,
    "..alerts-summary-div.children...alerts-feed-div.children...alerts-shown-store.data"
    "...alerts-pager-text.children...alerts-prev-page-button.disabled"
    "...alerts-next-page-button.disabled...alerts-pager-nav.hidden...alerts-detail-div.children"
    "...alerts-evidence-graph.figure...alerts-evidence-figure.hidden"
    "...alerts-evidence-img.aria-label...alerts-evidence-caption.children"
    "...alerts-evidence-table-div.children...alerts-evidence-analyst-div.children"
    "...alerts-current-store.data..": ALL,
    "alerts-data-health-div.children": ALL,  # shown to the roles running the data only
    "alerts-feed-page-store.data": CLIENTSIDE,
    "alerts-selected-store.data": CLIENTSIDE,
    "..alerts-actions-context-div.children...alerts-acknowledge-button.disabled"
    "...alerts-reopen-button.disabled...alerts-link-button.disabled"
    "...alerts-dismiss-button.disabled...alerts-link-problem-select.options"
    "...alerts-link-problem-select.value...alerts-reason-textarea.value..": ALERT_MANAGERS,
    "..alerts-action-feedback-div.children...alerts-changed-store.data..": ALERT_MANAGERS,
    "..alerts-new-title-input.value...alerts-new-area-select.options"
    "...alerts-new-area-select.value..": PROBLEM_EDITORS,
    "..alerts-new-feedback-div.children...alerts-created-store.data..": PROBLEM_EDITORS,
    "alerts-query-store.data": CLIENTSIDE,
}

# Values that make a request meaningful (everything else is sent as None / []).
CALLBACK_VALUES = {
    "department-upload-template-button.n_clicks": 1,
    "_pages_location.pathname": "/",
    "_pages_location.search": "",
    "problem-id-store.data": 1,
    "priorities-week-select.value": iso_week(TODAY),
    "priorities-show-select.value": "all",
    "priorities-csv-button.n_clicks": 1,
    "priorities-brief-button.n_clicks": 1,
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
    period = (TODAY - dt.timedelta(days=1)).isoformat()
    values = {
        "department-save-button.n_clicks": 1,
        "department-indicator-select.value": str(indicator_id),
        "department-period-input.value": period,
        "department-value-input.value": "42",
        "department-status-select.value": "at_risk",
        "department-note-textarea.value": "matrix test",
        "department-saved-store.data": 0,
        # 42 may be implausible for the indicator: the confirmation of exactly this value
        "department-confirm-store.data": department.confirm_key(indicator_id, period, 42.0),
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


def _new_alert(env: WebEnv, indicator_id: int, tag: str) -> int:
    with env.database.session(write=True) as session:
        alert = Alert(
            dedupe_key=f"stale|matrix-{indicator_id}-{tag}",
            kind="stale",
            method="test",
            severity="warning",
            series_key=f"indicator:{indicator_id}",
            indicator_id=indicator_id,
            first_detected=TODAY,
            last_detected=TODAY,
            message="Late.",
            state="new",
            state_reason="",
        )
        session.add(alert)
        session.flush()
        return alert.id


def _answer_body(deps: dict[str, dict], alert_id: int, button: str) -> dict:
    output = next(o for o in deps if "department-alert-feedback-div" in o)
    values = {
        f"department-alert-{button}-button.n_clicks": 1,
        "department-alert-select.value": str(alert_id),
        "department-alert-note-textarea.value": "value corrected",
        "department-alert-changed-store.data": 0,
    }
    body = webutil.callback_body(deps[output], values)
    body["changedPropIds"] = [f"department-alert-{button}-button.n_clicks"]
    return body


def _alert_state(env: WebEnv, alert_id: int) -> tuple[str, str, int]:
    with env.database.session() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        audits = session.query(AuditLog).filter(AuditLog.entity_id == str(alert_id)).count()
        return alert.state, alert.state_reason, audits


@pytest.mark.parametrize("button", ["ack", "answer"])
def test_matrix009_head_cannot_answer_another_departments_alert(
    env: WebEnv, clients: dict[Role, FlaskClient], deps: dict[str, dict], button: str
) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    alert = _new_alert(env, foreign, button)
    before = _alert_state(env, alert)
    response = post_callback(clients[Role.DEPARTMENT_HEAD], _answer_body(deps, alert, button))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert _alert_state(env, alert) == before == ("new", "", 0)


def test_matrix010_head_answers_her_own_alert(
    env: WebEnv, clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    head = env.principal(env.head_username())
    assert head.department_id is not None
    own = env.indicator_ids(department_id=head.department_id, own=True)[-1]
    alert = _new_alert(env, own, "own")
    response = post_callback(clients[Role.DEPARTMENT_HEAD], _answer_body(deps, alert, "answer"))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert "Answer saved" in response.get_data(as_text=True)
    assert _alert_state(env, alert) == ("acknowledged", "value corrected", 1)
