"""Production refuses a low-entropy SECRET_KEY however long it is; random keys pass."""

from __future__ import annotations

import base64
import secrets

import pytest

from triage.settings import Settings, SettingsError


def _production(key: str) -> Settings:
    return Settings(database_url="sqlite://", mode="production", secret_key=key)


@pytest.mark.parametrize(
    "key",
    [
        "a" * 36,
        "a" * 200,
        "password" * 6,
        "passwordpasswordpasswordpassword1",
        "k" * 20 + "Z9" * 10,
        "test-only-" + "k" * 40,
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "0123456789" * 5,
        "ab" * 40,
    ],
)
def test_key001_long_but_predictable_keys_are_refused(key: str) -> None:
    with pytest.raises(SettingsError, match="strong SECRET_KEY"):
        _production(key).validated()


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(32),
        lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    ],
    ids=["token_urlsafe48", "token_urlsafe32", "token_hex32", "base64_32_bytes"],
)
def test_key002_random_keys_are_accepted(make) -> None:
    for _ in range(200):
        key = make()
        assert _production(key).validated().secret_key == key


def test_key003_other_modes_do_not_judge_the_key() -> None:
    assert Settings(mode="development", secret_key="a" * 36).validated().secret_key == "a" * 36
