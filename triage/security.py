"""Roles, capabilities and password hashing: the one table that says who may do what."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from triage.vocabulary import Role

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD_LENGTH = 12


ROLE_LABELS: dict[Role, str] = {
    Role.MAYOR: "Mayor",
    Role.CHIEF_OF_STAFF: "Chief of staff",
    Role.DEPARTMENT_HEAD: "Department head",
    Role.ANALYST: "Analyst",
    Role.ADMIN: "Administrator",
}


class Capability(StrEnum):
    """What a callback or route needs; every callback declares exactly one."""

    VIEW_CITY = "view_city"  # read problems, priorities, indicators, reports, actors
    DECIDE = "decide"  # record the weekly decision on a problem
    EDIT_PROBLEMS = "edit_problems"  # problems, causal maps, engagements, innovations
    UPDATE_INDICATORS = "update_indicators"  # observations and status (own department)
    MANAGE_ALERTS = "manage_alerts"
    MANAGE_USERS = "manage_users"
    CONFIGURE = "configure"  # scoring weights, category mapping, data sources
    MANAGE_CATALOGUE = "manage_catalogue"  # problems, indicators, departments, actors, districts
    VIEW_ANALYSIS = "view_analysis"  # detector internals: methods, error rates, windows
    PUBLIC = "public"  # no session needed (sign-in page only)


ALL_ROLES = frozenset(Role)

CAPABILITY_ROLES: dict[Capability, frozenset[Role]] = {
    Capability.VIEW_CITY: ALL_ROLES,
    Capability.DECIDE: frozenset({Role.MAYOR, Role.CHIEF_OF_STAFF}),
    Capability.EDIT_PROBLEMS: frozenset({Role.CHIEF_OF_STAFF, Role.ADMIN}),
    Capability.UPDATE_INDICATORS: frozenset(
        {Role.DEPARTMENT_HEAD, Role.CHIEF_OF_STAFF, Role.ADMIN}
    ),
    Capability.MANAGE_ALERTS: frozenset({Role.MAYOR, Role.CHIEF_OF_STAFF, Role.ANALYST}),
    Capability.MANAGE_USERS: frozenset({Role.ADMIN}),
    Capability.CONFIGURE: frozenset({Role.CHIEF_OF_STAFF, Role.ADMIN}),
    Capability.MANAGE_CATALOGUE: frozenset({Role.ADMIN}),
    Capability.VIEW_ANALYSIS: frozenset({Role.ANALYST, Role.ADMIN}),
    Capability.PUBLIC: frozenset(),
}


class PermissionDenied(Exception):
    """The signed-in user may not do this; the message is safe to show to that user."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: enough to decide permissions and to write the audit trail."""

    user_id: int | None
    username: str
    role: Role
    department_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        """The identity of the CLI, the demo seeder and scheduled jobs."""
        return cls(user_id=None, username=name, role=Role.ADMIN, department_id=None)


def role_allows(role: Role | str, capability: Capability) -> bool:
    """True when ``role`` holds ``capability``; unknown roles hold nothing."""
    try:
        return Role(role) in CAPABILITY_ROLES[capability]
    except ValueError:
        return False


def require(principal: Principal, capability: Capability) -> None:
    """Raise ``PermissionDenied`` unless the principal's role holds the capability."""
    if not role_allows(principal.role, capability):
        label = ROLE_LABELS.get(principal.role, str(principal.role))
        action = capability.value.replace("_", " ")
        raise PermissionDenied(f"{label} accounts may not {action}.")


def require_department(principal: Principal, department_id: int | None) -> None:
    """A department head may change only her own department's data; other roles pass."""
    if principal.role == Role.DEPARTMENT_HEAD and (
        principal.department_id is None or principal.department_id != department_id
    ):
        raise PermissionDenied("You may change only your own department's indicators.")


def validate_password(password: str) -> None:
    """Raise ``ValueError`` for a password too weak to store."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if password.strip() != password or len(set(password)) < 5:
        raise ValueError("Password is too simple (too few distinct characters or padded spaces).")


def hash_password(password: str) -> str:
    """Hash with scrypt (memory-hard) and a random salt: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        ["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check; an account with no (or a malformed) hash never verifies."""
    if not password_hash:
        return False
    try:
        scheme, n, r, p, salt, digest = password_hash.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**27, dklen=32
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
