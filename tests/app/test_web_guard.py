"""The deny-by-default guard: anonymous requests, CSRF on callbacks, health, limits, headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from db.session import Database
from tests import webutil
from tests.webutil import WebEnv, post_callback, signed_in_client


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    yield web
    web.dispose()


@pytest.mark.parametrize("path", ["/", "/problems/1", "/department", "/admin/users", "/nope"])
def test_guard001_pages_redirect_to_login(env: WebEnv, path: str) -> None:
    response = env.client().get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_dash-layout"),
        ("GET", "/_dash-dependencies"),
        ("POST", "/_dash-update-component"),
        ("GET", "/_reload-hash"),
        ("GET", "/problems/1"),  # not a browser page request: JSON client
        ("POST", "/logout"),
    ],
)
def test_guard002_dash_endpoints_401_without_session(env: WebEnv, method: str, path: str) -> None:
    response = env.client().open(path, method=method, json={"output": "home-problems-div.children"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_guard003_healthz_checks_database(env: WebEnv, tmp_path: Path) -> None:
    response = env.client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    broken = Database(f"sqlite:///{tmp_path}")  # a directory: cannot be opened as a database
    env.app.server.extensions["triage_db"] = broken
    try:
        assert env.client().get("/healthz").status_code == 503
    finally:
        env.app.server.extensions["triage_db"] = env.database


def test_guard004_static_assets_are_public(env: WebEnv) -> None:
    client = env.client()
    assert client.get("/assets/triage.css").status_code == 200
    assert client.get("/assets/vendor/bootstrap.min.css").status_code == 200
    assert client.get("/_favicon.ico").status_code == 200
    missing = client.get("/_dash-component-suites/dash/no-such-file.js")
    assert missing.status_code == 404


def test_guard005_callback_post_needs_csrf_header(env: WebEnv) -> None:
    client = signed_in_client(env, "mayor")
    dep = webutil.find_dependency(webutil.dependencies(client), "home-problems-div")
    body = webutil.callback_body(dep)
    assert post_callback(client, body, csrf=False).status_code == 400
    forged = client.post(webutil.UPDATE_URL, json=body, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    assert post_callback(client, body).status_code == 200


def test_guard006_unknown_callback_output_is_403(env: WebEnv) -> None:
    client = signed_in_client(env, "admin")
    body = {
        "output": "made-up-div.children",
        "outputs": {"id": "made-up-div", "property": "children"},
        "inputs": [],
        "state": [],
        "changedPropIds": [],
    }
    assert post_callback(client, body).status_code == 403
    assert post_callback(client, {"no": "output"}).status_code == 403


def test_guard007_request_body_limit_is_413(tmp_path: Path) -> None:
    env = WebEnv.create(tmp_path, max_upload_bytes=4096)
    try:
        client = signed_in_client(env, "mayor")
        dep = webutil.find_dependency(webutil.dependencies(client), "home-problems-div")
        body = webutil.callback_body(dep)
        body["state"] = [{"id": "x", "property": "data", "value": "A" * 10_000}]
        assert post_callback(client, body).status_code == 413
        assert env.app.server.config["MAX_CONTENT_LENGTH"] == 4096
    finally:
        env.dispose()


def test_guard008_index_is_local_english_and_has_security_headers(env: WebEnv) -> None:
    client = signed_in_client(env, "mayor")
    response = client.get("/", headers={"Accept": "text/html"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert not re.search(r"(src|href)=\"https?://", page), "nothing may load from a CDN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp
    assert response.headers["Cache-Control"] == "no-store"


def test_guard009_csrf_cookie_mirrors_session_token(env: WebEnv) -> None:
    client = signed_in_client(env, "mayor")
    client.get("/_dash-layout")
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None
    assert cookie.value == webutil.csrf_from_session(client)
    assert not cookie.http_only


def test_guard010_validation_layout_is_complete_whoever_comes_first(env: WebEnv) -> None:
    head = env.head_username()
    client = signed_in_client(env, head)  # the first request of this app is a department head's
    client.get("/_dash-layout")
    validation = str(env.app.validation_layout)
    for component_id in ("admin-users-table-div", "department-save-button", "home-problems-div"):
        assert component_id in validation


def test_guard011_layout_is_per_user(env: WebEnv) -> None:
    mayor = signed_in_client(env, "mayor").get("/_dash-layout").get_data(as_text=True)
    admin = signed_in_client(env, "admin").get("/_dash-layout").get_data(as_text=True)
    assert '"Administration"' not in mayor and '"Mayor"' in mayor
    assert '"Administration"' in admin and '"Administrator"' in admin


def test_guard012_bootstrap_loads_once_and_before_our_css(env: WebEnv) -> None:
    page = signed_in_client(env, "mayor").get("/", headers={"Accept": "text/html"})
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.get_data(as_text=True))
    names = [link.split("?")[0] for link in links]
    assert names == ["/assets/vendor/bootstrap.min.css", "/assets/triage.css"]


NOT_STATIC_FILES = [
    "/assets/nope",
    "/assets/",
    "/assets/vendor/",
    "/assets/../app.py",
    "/_dash-component-suites/",
    "/_dash-component-suites/dash/",
    "/_dash-component-suites/nope/x.js",
    "/_dash-component-suites/dash/no-such-file.js",
    "/_dash-component-suites/dash/deps/../../app.py",
]


@pytest.mark.parametrize("path", NOT_STATIC_FILES)
@pytest.mark.parametrize("accept", ["text/html", "*/*"])
def test_guard013_anything_under_static_prefixes_that_is_not_a_file_is_404(
    env: WebEnv, path: str, accept: str
) -> None:
    response = env.client().get(path, headers={"Accept": accept})
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert len(body) < 1000
    for leak in ("_dash-", version("dash"), version("plotly"), "Administration"):
        assert leak not in body


def test_guard014_real_component_suite_files_still_load_without_a_session(env: WebEnv) -> None:
    page = signed_in_client(env, "mayor").get("/", headers={"Accept": "text/html"})
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page.get_data(as_text=True))
    assert len(scripts) >= 5
    anonymous = env.client()
    for src in scripts:
        assert anonymous.get(src).status_code == 200, src
    assert anonymous.get("/assets/triage.css").status_code == 200


def test_guard015_signed_in_unknown_package_is_404_not_500(env: WebEnv) -> None:
    client = signed_in_client(env, "admin")
    assert client.get("/_dash-component-suites/nope/x.js").status_code == 404
    assert client.get("/_dash-component-suites/dash/no-such-file.js").status_code == 404


def test_guard016_head_login_answers_like_get(env: WebEnv) -> None:
    client = env.client()
    head = client.head("/login")
    get = client.get("/login")
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.get_data() == b""


def test_guard017_permissions_policy_everywhere_and_no_hsts_without_tls(env: WebEnv) -> None:
    client = env.client()
    for response in (client.get("/login"), client.get("/healthz"), client.get("/_dash-layout")):
        policy = response.headers["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy
        assert "Strict-Transport-Security" not in response.headers


def test_guard018_hsts_when_served_over_tls(tmp_path: Path) -> None:
    env = WebEnv.create(tmp_path, secure_cookies=True)
    try:
        client = env.client()
        for response in (client.get("/login"), client.get("/healthz")):
            hsts = response.headers["Strict-Transport-Security"]
            max_age = int(re.search(r"max-age=(\d+)", hsts).group(1))
            assert max_age >= 365 * 24 * 3600
    finally:
        env.dispose()
