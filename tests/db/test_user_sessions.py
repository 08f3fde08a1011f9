"""Server-side sessions and sign-in back-off against a real database (explicit times, no clock)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db.accounts import (
    AccountError,
    authenticate,
    end_session,
    load_session_principal,
    set_password,
    set_user_active,
    start_session,
)
from db.models import AuditLog, User, UserSession
from db.session import Database
from tests.db.factories import PASSWORD, make_world
from triage.security import PermissionDenied, Principal

ADMIN = Principal.system("test-admin")
T0 = dt.datetime(2026, 11, 20, 9, 0)
LIFETIME = dt.timedelta(hours=12)
WINDOW = 900


def _auth(s, username: str, password: str, now: dt.datetime, addr: str = "10.0.0.1"):
    return authenticate(s, username, password, addr, max_failures=5, window_seconds=WINDOW, now=now)


def _start(s, principal: Principal, now: dt.datetime = T0) -> str:
    return start_session(s, principal, 0, lifetime=LIFETIME, remote_addr="10.0.0.1", now=now)


def test_usess001_a_session_lives_until_signed_out_and_only_that_one_ends(
    database: Database,
) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session(write=True) as s:
        laptop = _start(s, world.chief)
        phone = _start(s, world.chief)
    assert laptop != phone and len(laptop) >= 40
    with database.session() as s:
        assert load_session_principal(s, laptop, T0) == world.chief
        assert load_session_principal(s, "no-such-token", T0) is None
        stored = s.scalars(select(UserSession.token_hash)).all()
        assert laptop not in stored and phone not in stored  # only a digest is stored
    with database.session(write=True) as s:
        end_session(s, laptop, T0 + dt.timedelta(minutes=5))
    with database.session() as s:
        assert load_session_principal(s, laptop, T0 + dt.timedelta(minutes=6)) is None
        assert load_session_principal(s, phone, T0 + dt.timedelta(minutes=6)) == world.chief
        logout = s.scalars(select(AuditLog).where(AuditLog.action == "logout")).one()
        assert (logout.user_id, logout.entity) == (world.chief.user_id, "user")


def test_usess002_a_session_expires_on_the_server(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        token = _start(s, world.chief)
    with database.session() as s:
        assert load_session_principal(s, token, T0 + LIFETIME - dt.timedelta(seconds=1))
        assert load_session_principal(s, token, T0 + LIFETIME) is None


def test_usess003_password_change_ends_every_session_of_that_user(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        chief_token = _start(s, world.chief)
        head_token = _start(s, world.head_parks)
    with database.session(write=True) as s:
        set_password(s, ADMIN, world.chief.user_id, "a-brand-new-passphrase")
    with database.session(write=True) as s:
        assert load_session_principal(s, chief_token, T0) is None
        assert load_session_principal(s, head_token, T0) == world.head_parks
        assert s.get(User, world.chief.user_id).session_epoch == 1
        assert not _auth(s, "chief", PASSWORD, T0).ok
        assert _auth(s, "chief", "a-brand-new-passphrase", T0).ok
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "password")).one()
        assert "password_hash" not in (audit.after or {}) and "password" not in (audit.after or {})


def test_usess004_password_rules_and_who_may_change_it(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with pytest.raises(AccountError, match="at least 12"), database.session(write=True) as s:
        set_password(s, ADMIN, world.chief.user_id, "short")
    with pytest.raises(PermissionDenied), database.session(write=True) as s:
        set_password(s, world.head_parks, world.chief.user_id, "hijacked-the-chief-1")
    with database.session(write=True) as s:  # anyone may change her own password
        set_password(s, world.head_parks, world.head_parks.user_id, "my-own-new-passphrase")
    with pytest.raises(AccountError, match="No user"), database.session(write=True) as s:
        set_password(s, ADMIN, 99999, "a-long-enough-password")


def test_usess005_disabling_ends_sessions_even_after_re_enabling(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
        token = _start(s, world.head_parks)
    with database.session(write=True) as s:
        set_user_active(s, ADMIN, world.head_parks.user_id, False)
    with database.session(write=True) as s:
        set_user_active(s, ADMIN, world.head_parks.user_id, True)
    with database.session() as s:
        assert load_session_principal(s, token, T0) is None


def test_thr101_back_off_per_username_and_address_doubles_and_is_capped(
    database: Database,
) -> None:
    with database.session(write=True) as s:
        make_world(s)
    with database.session(write=True) as s:
        for i in range(5):
            assert not _auth(s, "chief", "bad-password", T0 + dt.timedelta(seconds=i)).ok
        last = T0 + dt.timedelta(seconds=4)
        waiting = _auth(s, "chief", PASSWORD, last + dt.timedelta(minutes=14))
        assert not waiting.ok and "Too many failed attempts" in waiting.message
        # The same user from another address, and another user from this one, are not held.
        assert _auth(s, "chief", PASSWORD, last, addr="10.9.9.9").ok
        assert _auth(s, "head-prk", PASSWORD, last).ok
        # One more failure after the wait: the next wait doubles (30 min), then 60, then stays.
        t = last + dt.timedelta(minutes=15, seconds=1)
        waits = []
        for _ in range(4):
            assert not _auth(s, "chief", "bad-password", t).ok
            refused = _auth(s, "chief", PASSWORD, t + dt.timedelta(seconds=1))
            assert not refused.ok
            waits.append(refused.message)
            minutes = {0: 30, 1: 60}.get(len(waits) - 1, 60)
            t += dt.timedelta(minutes=minutes, seconds=1)
        assert [w.split(" in ")[-1] for w in waits] == [
            "30 minutes.",
            "60 minutes.",
            "60 minutes.",
            "60 minutes.",
        ]
        # Never locked for good: after the capped wait the right password opens the door.
        assert _auth(s, "chief", PASSWORD, t).ok


def test_thr102_success_resets_and_old_failures_are_forgotten(database: Database) -> None:
    with database.session(write=True) as s:
        make_world(s)
    with database.session(write=True) as s:
        for i in range(4):
            assert not _auth(s, "chief", "bad-password", T0 + dt.timedelta(seconds=i)).ok
        assert _auth(s, "chief", PASSWORD, T0 + dt.timedelta(seconds=10)).ok
        for i in range(4):  # four more after a success: still no wait
            assert not _auth(s, "chief", "bad-password", T0 + dt.timedelta(seconds=20 + i)).ok
        assert _auth(s, "chief", PASSWORD, T0 + dt.timedelta(seconds=30)).ok
        day = T0 + dt.timedelta(days=1)
        for i in range(5):
            assert not _auth(s, "head-prk", "bad-password", day + dt.timedelta(seconds=i)).ok
        assert not _auth(s, "head-prk", PASSWORD, day + dt.timedelta(minutes=1)).ok
        # A day later those five no longer count: one more slip does not start a wait.
        later = day + dt.timedelta(days=1, minutes=1)
        assert not _auth(s, "head-prk", "bad-password", later).ok
        assert _auth(s, "head-prk", PASSWORD, later + dt.timedelta(seconds=1)).ok
