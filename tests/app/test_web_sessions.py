"""Sessions end on the server: a cookie replayed after sign-out or a password change is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from db import accounts
from db.models import AuditLog
from tests import webutil
from tests.webutil import WebEnv, sign_in, signed_in_client

SESSION_COOKIE = "triage_session"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    yield web
    web.dispose()


def _replay(env: WebEnv, cookie: str) -> FlaskClient:
    """A new client (another machine) that presents a captured session cookie."""
    client = env.client()
    client.set_cookie(SESSION_COOKIE, cookie)
    return client


def _home_problems_body(env: WebEnv) -> dict:
    deps = webutil.dependencies(signed_in_client(env, "analyst"))
    return webutil.callback_body(webutil.find_dependency(deps, "home-problems-div"))


def _sign_out(client: FlaskClient) -> None:
    response = client.post("/logout", data={"csrf_token": webutil.csrf_from_session(client)})
    assert response.status_code == 302


def test_sess001_cookie_captured_before_logout_is_refused_after(env: WebEnv) -> None:
    body = _home_problems_body(env)
    client = signed_in_client(env, "mayor")
    assert client.get("/_dash-layout").status_code == 200
    captured = client.get_cookie(SESSION_COOKIE)
    assert captured is not None
    csrf = webutil.csrf_from_session(client)
    thief = _replay(env, captured.value)
    assert thief.get("/_dash-layout").status_code == 200  # the cookie works before sign-out
    _sign_out(client)
    assert client.get("/_dash-layout").status_code == 401
    thief = _replay(env, captured.value)
    assert thief.get("/_dash-layout").status_code == 401
    forged = thief.post(webutil.UPDATE_URL, json=body, headers={"X-CSRFToken": csrf or ""})
    assert forged.status_code == 401
    page = thief.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")


def test_sess002_signing_out_on_one_device_keeps_the_others(env: WebEnv) -> None:
    laptop = signed_in_client(env, "mayor")
    phone = signed_in_client(env, "mayor")
    _sign_out(laptop)
    assert laptop.get("/_dash-layout").status_code == 401
    assert phone.get("/_dash-layout").status_code == 200


def test_sess003_password_change_ends_every_session(env: WebEnv) -> None:
    laptop = signed_in_client(env, "analyst")
    phone = signed_in_client(env, "analyst")
    captured = laptop.get_cookie(SESSION_COOKIE)
    assert captured is not None
    new_password = "a-new-long-passphrase-42"
    with env.database.session(write=True) as session:
        accounts.set_password(
            session, env.principal("admin"), env.principal("analyst").user_id, new_password
        )
    for client in (laptop, phone, _replay(env, captured.value)):
        assert client.get("/_dash-layout").status_code == 401
    assert sign_in(env.client(), "analyst").status_code == 401  # the old password is gone
    assert sign_in(env.client(), "analyst", password=new_password).status_code == 302


def test_sess004_sign_in_and_sign_out_are_audited(env: WebEnv) -> None:
    client = signed_in_client(env, "chief")
    _sign_out(client)
    chief = env.principal("chief")
    with env.database.session() as session:
        actions = session.scalars(
            select(AuditLog.action)
            .where(AuditLog.user_id == chief.user_id, AuditLog.entity == "user")
            .order_by(AuditLog.id)
        ).all()
    assert actions[-2:] == ["login", "logout"]


def test_sess005_old_style_session_value_is_refused(env: WebEnv) -> None:
    """A session that names only ``<user_id>:<epoch>`` (forged with a leaked key) gets nothing."""
    client = env.client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{env.principal('admin').user_id}:0"
        session["_fresh"] = True
    assert client.get("/_dash-layout").status_code == 401
