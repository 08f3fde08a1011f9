"""Sign-in throttling per (username, client address); addresses from trusted proxies only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from db.models import LoginAttempt
from tests.webutil import WebEnv, sign_in
from triage.settings import Settings, SettingsError

ATTACKER = "203.0.113.66"
CITY_HALL = "198.51.100.10"
PROXY = "10.0.0.2"
WRONG = "not-the-password-at-all"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    yield web
    web.dispose()


def _client_at(env: WebEnv, address: str) -> FlaskClient:
    client = env.client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _recorded_addresses(env: WebEnv, username: str) -> list[str]:
    with env.database.session() as session:
        return list(
            session.scalars(
                select(LoginAttempt.remote_addr)
                .where(LoginAttempt.username == username)
                .order_by(LoginAttempt.id)
            )
        )


def test_thr001_failures_from_one_address_do_not_block_others_behind_it(
    env: WebEnv,
) -> None:
    office = _client_at(env, CITY_HALL)  # everyone at city hall shares one address
    for username in ("analyst", "admin", "intern", "clerk", "visitor"):
        for _ in range(5):
            assert sign_in(office, username, password=WRONG).status_code == 401
    assert len(_recorded_addresses(env, "analyst")) == 5
    throttled = sign_in(office, "analyst")
    assert "Too many failed attempts" in throttled.get_data(as_text=True)
    colleague = _client_at(env, CITY_HALL)
    assert sign_in(colleague, "chief").status_code == 302


def test_thr002_an_attacker_cannot_lock_the_mayor_out_of_her_own_address(env: WebEnv) -> None:
    attacker = _client_at(env, ATTACKER)
    for _ in range(env.settings.login_max_failures):
        assert sign_in(attacker, "mayor", password=WRONG).status_code == 401
    assert "Too many failed attempts" in sign_in(attacker, "mayor").get_data(as_text=True)
    mayor = _client_at(env, CITY_HALL)
    assert sign_in(mayor, "mayor").status_code == 302


def test_thr003_forwarded_for_is_ignored_without_trusted_proxies(env: WebEnv) -> None:
    assert env.settings.proxy_hops == 0
    client = _client_at(env, ATTACKER)
    for n in range(env.settings.login_max_failures):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{n + 1}"
        assert sign_in(client, "analyst", password=WRONG).status_code == 401
    # A fresh made-up X-Forwarded-For does not make the attacker a new client.
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "192.0.2.200"
    assert "Too many failed attempts" in sign_in(client, "analyst").get_data(as_text=True)
    assert set(_recorded_addresses(env, "analyst")) == {ATTACKER}


def test_thr004_forwarded_for_is_honoured_behind_one_trusted_proxy(tmp_path: Path) -> None:
    env = WebEnv.create(tmp_path, proxy_hops=1)
    try:
        attacker = _client_at(env, PROXY)
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.7, {ATTACKER}"
        for _ in range(env.settings.login_max_failures):
            assert sign_in(attacker, "mayor", password=WRONG).status_code == 401
        assert "Too many failed attempts" in sign_in(attacker, "mayor").get_data(as_text=True)
        mayor = _client_at(env, PROXY)  # the same proxy, a different client behind it
        mayor.environ_base["HTTP_X_FORWARDED_FOR"] = CITY_HALL
        assert sign_in(mayor, "mayor").status_code == 302
        # Only the hop the proxy appended is believed, not what the client wrote before it.
        assert set(_recorded_addresses(env, "mayor")) == {ATTACKER, CITY_HALL}
    finally:
        env.dispose()


def test_thr005_proxy_hops_come_from_the_environment_and_are_checked() -> None:
    assert Settings.from_env({}).proxy_hops == 0
    assert Settings.from_env({"TRIAGE_PROXY_HOPS": " 2 "}).proxy_hops == 2
    for bad in ("one", "-1", "1.5"):
        with pytest.raises(SettingsError, match="TRIAGE_PROXY_HOPS"):
            Settings.from_env({"TRIAGE_PROXY_HOPS": bad})
    with pytest.raises(SettingsError, match="TRIAGE_PROXY_HOPS"):
        Settings(proxy_hops=9).validated()
