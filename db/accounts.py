"""User accounts: sign-in with rate limiting, session checks, and user administration."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import row_state, write_audit
from db.models import Department, LoginAttempt, User, utcnow
from triage.security import (
    Capability,
    PermissionDenied,
    Principal,
    Role,
    hash_password,
    require,
    validate_password,
    verify_password,
)

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
GENERIC_FAILURE = "Unknown user or wrong password."
# Verifying against a real hash for unknown users keeps response times alike (no user probing).
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


class AccountError(ValueError):
    """A user-administration request was invalid; the message says why."""


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    principal: Principal | None
    session_epoch: int
    message: str


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        department_id=user.department_id,
    )


def recent_failures(
    session: Session, username: str, remote_addr: str, since: dt.datetime
) -> tuple[int, int, dt.datetime | None]:
    """Failed attempts since ``since`` for this username and for this address, and the oldest."""
    by_user = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.username == username,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
        )
    ).one()
    by_addr = session.scalar(
        select(func.count()).where(
            LoginAttempt.remote_addr == remote_addr,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
        )
    )
    return int(by_user[0]), int(by_addr or 0), by_user[1]


def authenticate(
    session: Session,
    username: str,
    password: str,
    remote_addr: str,
    *,
    max_failures: int,
    window_seconds: int,
    now: dt.datetime | None = None,
) -> AuthResult:
    """Check a sign-in and record the attempt.

    After ``max_failures`` failures for a username within the window (or five times that from
    one address), further attempts are refused without checking the password until the window
    has passed. The message never says whether the username exists.
    """
    now = now or utcnow()
    username = (username or "").strip().lower()[:64]
    remote_addr = (remote_addr or "unknown")[:64]
    since = now - dt.timedelta(seconds=window_seconds)
    user_failures, addr_failures, oldest = recent_failures(session, username, remote_addr, since)
    if user_failures >= max_failures or addr_failures >= max_failures * 5:
        wait = window_seconds
        if oldest is not None:
            wait = max(
                60, int((oldest + dt.timedelta(seconds=window_seconds) - now).total_seconds())
            )
        minutes = max(1, round(wait / 60))
        return AuthResult(
            False, None, 0, f"Too many failed attempts; try again in {minutes} minutes."
        )
    user = session.scalar(select(User).where(User.username == username))
    valid = verify_password(user.password_hash if user else _DUMMY_HASH, password or "")
    ok = bool(user and valid and user.active)
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now, success=ok))
    if not ok or user is None:
        return AuthResult(False, None, 0, GENERIC_FAILURE)
    user.last_login_at = now
    principal = _principal(user)
    write_audit(session, principal, "login", "user", user.id, after={"remote_addr": remote_addr})
    return AuthResult(True, principal, user.session_epoch, "")


def load_principal(session: Session, user_id: int, session_epoch: int) -> Principal | None:
    """The principal behind a session, or None when the user is gone, disabled or re-keyed."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_epoch != session_epoch:
        return None
    return _principal(user)


def _department_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    dept_id = session.scalar(select(Department.id).where(Department.code == code.upper()))
    if dept_id is None:
        known = ", ".join(session.scalars(select(Department.code).order_by(Department.code)))
        raise AccountError(f"Unknown department {code!r}; known departments: {known}.")
    return dept_id


def create_user(
    session: Session,
    actor: Principal,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str | None = None,
    department_code: str | None = None,
) -> int:
    """Create an active user; department heads need a department. Returns the new id."""
    require(actor, Capability.MANAGE_USERS)
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "Usernames are 2-64 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    try:
        role_value = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise AccountError(f"Unknown role {role!r}; roles are: {roles}.") from None
    department_id = _department_id(session, department_code)
    if role_value == Role.DEPARTMENT_HEAD and department_id is None:
        raise AccountError("A department head needs a department (--department CODE).")
    try:
        validate_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:120],
        role=role_value.value,
        department_id=department_id,
        password_hash=hash_password(password),
        active=True,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    write_audit(session, actor, "create", "user", user.id, after=row_state(user))
    return user.id


def find_user_id(session: Session, username: str) -> int:
    """The id of ``username``, or ``AccountError`` when there is none."""
    user_id = session.scalar(select(User.id).where(User.username == username.strip().lower()))
    if user_id is None:
        raise AccountError(f"No user named {username!r}.")
    return user_id


def set_user_active(session: Session, actor: Principal, user_id: int, active: bool) -> None:
    """Enable or disable a user; either way the user's open sessions end."""
    require(actor, Capability.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"No user with id {user_id}.")
    if not active and actor.user_id == user.id:
        raise PermissionDenied("You cannot disable your own account.")
    before = {"active": user.active, "session_epoch": user.session_epoch}
    user.active = active
    user.session_epoch += 1
    write_audit(
        session,
        actor,
        "enable" if active else "disable",
        "user",
        user.id,
        before=before,
        after={"active": user.active, "session_epoch": user.session_epoch},
    )


def list_users(session: Session) -> pd.DataFrame:
    """All users: columns id, username, display_name, role, department_code,
    department_name ("" when none), active, last_login_at (ordered by username)."""
    rows = session.execute(
        select(
            User.id,
            User.username,
            User.display_name,
            User.role,
            Department.code.label("department_code"),
            Department.name.label("department_name"),
            User.active,
            User.last_login_at,
        )
        .outerjoin(Department, Department.id == User.department_id)
        .order_by(User.username)
    ).all()
    columns = [
        "id",
        "username",
        "display_name",
        "role",
        "department_code",
        "department_name",
        "active",
        "last_login_at",
    ]
    users = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for column in ("department_code", "department_name"):
        users[column] = users[column].fillna("").astype(str)
    return users
