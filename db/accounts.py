"""User accounts: sign-in with back-off, server-side sessions, and user administration."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from db.audit import row_state, write_audit
from db.frames import query_frame
from db.models import Department, LoginAttempt, User, UserSession, utcnow
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
from triage.vocabulary import ENDED_SESSION_RETENTION_DAYS, LOGIN_ATTEMPT_RETENTION_DAYS

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
GENERIC_FAILURE = "Unknown user or wrong password."
# Failures older than this no longer count towards a wait (nor does anything before a success).
FAILURE_MEMORY = dt.timedelta(hours=24)
# Each failure beyond the allowance doubles the wait, up to 2**BACKOFF_DOUBLINGS first waits.
BACKOFF_DOUBLINGS = 2
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
) -> tuple[int, dt.datetime | None]:
    """Failures for this username from this address since ``since`` and since the pair's last
    success: how many, and when the latest was."""
    pair = (LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            *pair, LoginAttempt.success.is_(True), LoginAttempt.at >= since
        )
    )
    after = LoginAttempt.at >= since if last_success is None else LoginAttempt.at > last_success
    count, latest = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            *pair, LoginAttempt.success.is_(False), after
        )
    ).one()
    return int(count or 0), latest


def backoff_wait(failures: int, *, max_failures: int, window_seconds: int) -> dt.timedelta:
    """How long after its latest failure a (username, address) pair must wait: nothing for the
    first ``max_failures`` failures, then ``window_seconds``, doubling with each further one up
    to ``2**BACKOFF_DOUBLINGS`` times that."""
    if failures < max_failures:
        return dt.timedelta(0)
    doublings = min(failures - max_failures, BACKOFF_DOUBLINGS)
    return dt.timedelta(seconds=window_seconds * 2**doublings)


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

    Throttling is per (username, client address), so that neither an attacker elsewhere nor
    a colleague behind the same address can lock anyone out: after ``max_failures`` failures
    for the pair, its next attempt waits (see ``backoff_wait``; capped, never a hard lock), and
    attempts during the wait are refused without checking the password or being recorded.
    The message never says whether the username exists.
    """
    now = now or utcnow()
    username = (username or "").strip().lower()[:64]
    remote_addr = (remote_addr or "unknown")[:64]
    failures, latest = recent_failures(session, username, remote_addr, now - FAILURE_MEMORY)
    wait = backoff_wait(failures, max_failures=max_failures, window_seconds=window_seconds)
    if latest is not None and now < latest + wait:
        minutes = max(1, round((latest + wait - now).total_seconds() / 60))
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session,
    principal: Principal,
    session_epoch: int,
    *,
    lifetime: dt.timedelta,
    remote_addr: str = "",
    now: dt.datetime | None = None,
) -> str:
    """Record a new signed-in browser for ``principal``; returns its random token (for the
    signed cookie only). The user's expired and revoked sessions are cleared out on the way."""
    if principal.user_id is None:
        raise AccountError("Only stored users can sign in.")
    now = now or utcnow()
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == principal.user_id,
            or_(UserSession.expires_at <= now, UserSession.revoked_at.is_not(None)),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=principal.user_id,
            session_epoch=session_epoch,
            remote_addr=(remote_addr or "")[:64],
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def load_session_principal(
    session: Session, token: str, now: dt.datetime | None = None
) -> Principal | None:
    """The principal behind a session token, or None when the session was signed out, has
    expired, or its user is gone, disabled or re-keyed (password change)."""
    if not token:
        return None
    now = now or utcnow()
    user = session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == _token_hash(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            UserSession.session_epoch == User.session_epoch,
            User.active.is_(True),
        )
    )
    return _principal(user) if user is not None else None


def end_session(session: Session, token: str, now: dt.datetime | None = None) -> None:
    """Sign one browser out on the server (its cookie is useless from now on); audited."""
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = now or utcnow()
    user = session.get(User, row.user_id)
    if user is not None:
        write_audit(session, _principal(user), "logout", "user", user.id)


def _revoke_sessions(session: Session, user_id: int, now: dt.datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def set_password(session: Session, actor: Principal, user_id: int, password: str) -> None:
    """Give a user a new password (an administrator, or the user herself); every open session
    of that user ends. Audited without the password or its hash."""
    if actor.user_id != user_id:
        require(actor, Capability.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"No user with id {user_id}.")
    try:
        validate_password(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    before = {"session_epoch": user.session_epoch}
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    _revoke_sessions(session, user.id, utcnow())
    write_audit(
        session,
        actor,
        "password",
        "user",
        user.id,
        before=before,
        after={"session_epoch": user.session_epoch},
    )


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
    _revoke_sessions(session, user.id, utcnow())
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
    statement = (
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
    )
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
    users = query_frame(session, statement, columns)
    for column in ("department_code", "department_name"):
        users[column] = users[column].fillna("").astype(str)
    return users


def prune_sign_in_records(
    session: Session,
    now: dt.datetime,
    *,
    attempt_days: int = LOGIN_ATTEMPT_RETENTION_DAYS,
    session_days: int = ENDED_SESSION_RETENTION_DAYS,
) -> dict[str, int]:
    """Delete sign-in attempts older than ``attempt_days`` and sessions that ended (signed
    out or expired) more than ``session_days`` ago; live sessions are never touched.

    The back-off reads only the last day of attempts (``FAILURE_MEMORY``), so pruning never
    shortens anyone's wait.
    Returns how many rows of each went.
    """
    attempts = session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=attempt_days))
    )
    cutoff = now - dt.timedelta(days=session_days)
    sessions = session.execute(
        delete(UserSession).where(
            or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff)
        )
    )
    return {"login_attempts": attempts.rowcount or 0, "sessions": sessions.rowcount or 0}


def user_display_name(session: Session, user_id: int) -> str | None:
    """A user's display name, or None when there is no such user."""
    return session.scalar(select(User.display_name).where(User.id == user_id))


def department_heads(session: Session) -> dict[int, list[str]]:
    """Active department heads' display names per department id."""
    heads: dict[int, list[str]] = {}
    for department_id, name in session.execute(
        select(User.department_id, User.display_name)
        .where(User.role == "department_head", User.active.is_(True))
        .order_by(User.display_name)
    ):
        if department_id is not None:
            heads.setdefault(int(department_id), []).append(str(name))
    return heads
