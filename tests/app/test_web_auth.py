"""Sign-in, sign-out, CSRF, open redirects, lockout and session revocation (Flask test client)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db import accounts
from tests import webutil
from tests.webutil import WebEnv, sign_in, signed_in_client
from triage.security import Principal
from triage.settings import Settings, SettingsError


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    yield web
    web.dispose()


def test_auth001_login_page_is_accessible_form(env: WebEnv) -> None:
    response = env.client().get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert 'for="login-username-input"' in page and 'for="login-password-input"' in page
    assert "autofocus" in page
    assert 'aria-live="assertive"' in page
    assert "/assets/vendor/bootstrap.min.css" in page
    assert "https://" not in page  # nothing from a CDN
    assert response.headers["Cache-Control"] == "no-store"


def test_auth002_sign_in_redirects_and_opens_the_app(env: WebEnv) -> None:
    client = env.client()
    response = sign_in(client, "mayor")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200
    assert "Sign out" in layout.get_data(as_text=True)


def test_auth003_session_cookie_is_hardened(env: WebEnv) -> None:
    response = sign_in(env.client(), "mayor")
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("triage_session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie


def test_auth004_secure_cookies_when_configured(tmp_path: Path) -> None:
    env = WebEnv.create(tmp_path, secure_cookies=True)
    try:
        cookies = sign_in(env.client(), "mayor").headers.getlist("Set-Cookie")
        assert all("Secure" in c for c in cookies if c.startswith(("triage_session=", "_csrf")))
    finally:
        env.dispose()


def test_auth005_wrong_password_is_generic(env: WebEnv) -> None:
    wrong = sign_in(env.client(), "mayor", password="not-the-password")
    unknown = sign_in(env.client(), "nobody-at-all", password="whatever-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Unknown user or wrong password" in response.get_data(as_text=True)
    assert env.client().get("/_dash-layout").status_code == 401


def test_auth006_sixth_failure_is_locked_out(env: WebEnv) -> None:
    client = env.client()
    for _ in range(env.settings.login_max_failures):
        assert sign_in(client, "analyst", password="wrong-password-123").status_code == 401
    locked = sign_in(client, "analyst")  # even the right password is refused now
    assert locked.status_code == 401
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nSet-Cookie: x=y",
        "/logout",
    ],
)
def test_auth007_open_redirect_refused(env: WebEnv, target: str) -> None:
    response = sign_in(env.client(), "mayor", next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_auth008_local_next_is_followed(env: WebEnv) -> None:
    response = sign_in(env.client(), "mayor", next_path="/problems/1?x=1")
    assert response.headers["Location"] == "/problems/1?x=1"


def test_auth009_login_without_csrf_is_400(env: WebEnv) -> None:
    client = env.client()
    client.get("/login")
    response = client.post("/login", data={"username": "mayor", "password": "mayor-riverton-demo"})
    assert response.status_code == 400
    forged = client.post(
        "/login",
        data={"username": "mayor", "password": "mayor-riverton-demo", "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    assert client.get("/_dash-layout").status_code == 401


def test_auth010_logout_needs_post_and_csrf(env: WebEnv) -> None:
    client = signed_in_client(env, "mayor")
    client.get("/logout", headers={"Accept": "text/html"})  # a GET never signs anyone out
    assert client.post("/logout").status_code == 400
    assert client.get("/_dash-layout").status_code == 200
    token = webutil.csrf_from_session(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert client.get("/_dash-layout").status_code == 401


def test_auth011_disabled_user_session_stops_at_next_request(env: WebEnv) -> None:
    client = signed_in_client(env, "analyst")
    assert client.get("/_dash-layout").status_code == 200
    admin: Principal = env.principal("admin")
    with env.database.session(write=True) as session:
        accounts.set_user_active(session, admin, env.principal("analyst").user_id, False)
    assert client.get("/_dash-layout").status_code == 401
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_auth012_production_refuses_weak_secret_key(tmp_path: Path) -> None:
    import app as composition_root

    for key in ("", "dev", "short-key"):
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", mode="production", secret_key=key
        )
        with pytest.raises(SettingsError):
            composition_root.create_app(settings)


def test_auth013_signed_in_user_visiting_login_goes_home(env: WebEnv) -> None:
    client = signed_in_client(env, "mayor")
    response = client.get("/login?next=//evil.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_auth014_session_is_renewed_on_sign_in(env: WebEnv) -> None:
    client = env.client()
    before = webutil.login_page_token(client)
    sign_in(client, "mayor")
    after = webutil.csrf_from_session(client)
    assert after and after != before
