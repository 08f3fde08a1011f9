"""Sign-in, user administration and indicator updates against a real database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.accounts import (
    GENERIC_FAILURE,
    AccountError,
    authenticate,
    create_user,
    list_users,
    load_principal,
    set_user_active,
)
from db.indicators import record_observation
from db.models import AuditLog, Department, IndicatorStatusUpdate, LoginAttempt, Observation
from db.scores import load_weights, set_scoring_weights
from db.session import Database
from tests.clock import TODAY
from tests.db.factories import PASSWORD, make_world
from triage.scoring import ScoringWeights
from triage.security import PermissionDenied, Principal, Role
from triage.validation import ValidationError

ADMIN = Principal.system("test-admin")
T0 = dt.datetime(2026, 11, 20, 9, 0)


def _auth(s, username: str, password: str, now: dt.datetime = T0, addr: str = "10.0.0.1"):
    return authenticate(s, username, password, addr, max_failures=5, window_seconds=900, now=now)


def test_acct001_sign_in_success_and_generic_failures(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session(write=True) as s:
        ok = _auth(s, "HEAD-PRK ", PASSWORD)
        wrong = _auth(s, "head-prk", "wrong password here")
        unknown = _auth(s, "nobody", PASSWORD)
    assert ok.ok and ok.principal == world.head_parks and ok.session_epoch == 0
    assert (wrong.ok, wrong.message) == (False, GENERIC_FAILURE)
    assert (unknown.ok, unknown.message) == (False, GENERIC_FAILURE)
    with database.session() as s:
        attempts = s.execute(select(LoginAttempt.username, LoginAttempt.success)).all()
        assert sorted(attempts) == [("head-prk", False), ("head-prk", True), ("nobody", False)]
        logins = s.scalar(select(func.count()).where(AuditLog.action == "login"))
        assert logins == 1


def test_acct002_lockout_after_five_failures_then_window_passes(database: Database) -> None:
    with database.session(write=True) as s:
        make_world(s)
    with database.session(write=True) as s:
        for i in range(5):
            assert not _auth(s, "chief", f"bad-{i}", T0 + dt.timedelta(seconds=i)).ok
        locked = _auth(s, "chief", PASSWORD, T0 + dt.timedelta(minutes=1))
        assert not locked.ok and "Too many failed attempts" in locked.message
        assert "14 minutes" in locked.message
        later = _auth(s, "chief", PASSWORD, T0 + dt.timedelta(minutes=16))
        assert later.ok


def test_acct003_disable_ends_sessions(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    user_id = world.head_parks.user_id
    with database.session() as s:
        assert load_principal(s, user_id, 0) == world.head_parks
    with database.session(write=True) as s:
        set_user_active(s, ADMIN, user_id, False)
    with database.session(write=True) as s:
        assert load_principal(s, user_id, 0) is None
        assert not _auth(s, "head-prk", PASSWORD).ok
    with database.session(write=True) as s:
        set_user_active(s, ADMIN, user_id, True)
    with database.session() as s:
        # Re-enabling does not revive the old session: its epoch is gone for good.
        assert load_principal(s, user_id, 0) is None
        assert load_principal(s, user_id, 2) == world.head_parks
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity == "user")).all()
        assert actions == ["disable", "enable"]


def test_acct004_only_admins_manage_users(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with pytest.raises(PermissionDenied), database.session(write=True) as s:
        set_user_active(s, world.chief, world.head_parks.user_id, False)
    with pytest.raises(PermissionDenied), database.session(write=True) as s:
        create_user(s, world.chief, "mallory", "admin", "a-long-enough-password")


@pytest.mark.parametrize(
    ("username", "role", "password", "dept", "message"),
    [
        ("Bad Name!", "mayor", "a-long-enough-password", None, "Usernames are"),
        ("newbie", "emperor", "a-long-enough-password", None, "Unknown role"),
        ("newbie", "department_head", "a-long-enough-password", None, "needs a department"),
        ("newbie", "department_head", "a-long-enough-password", "XYZ", "Unknown department"),
        ("newbie", "mayor", "short", None, "at least 12"),
        ("chief", "mayor", "a-long-enough-password", None, "already exists"),
    ],
)
def test_acct005_create_user_rejections(
    database: Database, username: str, role: str, password: str, dept: str | None, message: str
) -> None:
    with database.session(write=True) as s:
        make_world(s)
    with pytest.raises(AccountError, match=message), database.session(write=True) as s:
        create_user(s, ADMIN, username, role, password, department_code=dept)
    with database.session() as s:
        assert len(list_users(s)) == 2


def test_acct006_create_user_hashes_and_audits_without_secret(database: Database) -> None:
    with database.session(write=True) as s:
        make_world(s)
    with database.session(write=True) as s:
        new_id = create_user(
            s, ADMIN, "Head-PW", "department_head", "pothole-patrol-2026", department_code="pw"
        )
    with database.session(write=True) as s:
        expected = Principal(new_id, "head-pw", Role.DEPARTMENT_HEAD, _dept_id(s, "PW"))
        assert _auth(s, "head-pw", "pothole-patrol-2026").principal == expected
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "create")).one()
        assert audit.after["username"] == "head-pw"
        assert "password_hash" not in audit.after
        users = list_users(s)
        assert users.loc[users.username == "head-pw", "department_code"].item() == "PW"


def _dept_id(s, code: str) -> int:
    return s.scalar(select(Department.id).where(Department.code == code))


def _observation_count(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Observation))


def test_obs001_head_updates_own_indicator_with_status_and_audit(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with database.session(write=True) as s:
        obs_id = record_observation(
            s,
            world.head_parks,
            world.parks_indicator_id,
            "2026-10-31",
            "84.5",
            status="at_risk",
            note="Two play structures closed for repair.",
            today=dt.date(2026, 11, 20),
        )
    with database.session() as s:
        obs = s.get(Observation, obs_id)
        assert (obs.period, obs.value, obs.entered_by_id) == (
            dt.date(2026, 10, 31),
            84.5,
            world.head_parks.user_id,
        )
        status = s.scalars(select(IndicatorStatusUpdate)).one()
        assert (status.status, status.note) == ("at_risk", "Two play structures closed for repair.")
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "observation")).one()
        assert audit.username == "head-prk" and audit.after["value"] == 84.5


def test_obs002_head_refused_on_other_department_and_nothing_written(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with pytest.raises(PermissionDenied, match="own department"), database.session(write=True) as s:
        record_observation(
            s, world.head_parks, world.works_indicator_id, "2026-11-01", 90, today=TODAY
        )
    assert _observation_count(database) == 0
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditLog)) == 0


@pytest.mark.parametrize(
    ("period", "value", "status", "message"),
    [
        ("2026-12-01", 50, None, "in the future"),
        ("1989-12-31", 50, None, "before 1990"),
        ("31/10/2026", 50, None, "not a date"),
        ("2026-10-31", "lots", None, "not a number"),
        ("2026-10-31", "nan", None, "finite"),
        ("2026-10-31", 140, None, "between 0 and 100"),
        ("2026-10-31", 50, "fine", "Status must be"),
        ("", 50, None, "period is required"),
    ],
)
def test_obs003_validation_rejections_write_nothing(
    database: Database, period: str, value: object, status: str | None, message: str
) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    with pytest.raises(ValidationError, match=message), database.session(write=True) as s:
        record_observation(
            s,
            world.head_parks,
            world.parks_indicator_id,
            period,
            value,
            status=status,
            today=dt.date(2026, 11, 20),
        )
    assert _observation_count(database) == 0


def test_wts001_weights_are_validated_stored_and_audited(database: Database) -> None:
    with database.session(write=True) as s:
        world = make_world(s)
    data = ScoringWeights().to_dict()
    data["importance"] = 2.0
    with database.session(write=True) as s:
        set_scoring_weights(s, world.chief, data)
    with database.session() as s:
        assert load_weights(s).importance == 2.0
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "app_setting")).one()
        assert audit.before is None and audit.after["importance"] == 2.0
    with pytest.raises(PermissionDenied), database.session(write=True) as s:
        set_scoring_weights(s, world.head_parks, ScoringWeights().to_dict())
    with pytest.raises(ValidationError), database.session(write=True) as s:
        set_scoring_weights(s, world.chief, {**data, "tractability": -1})
    with database.session() as s:
        assert load_weights(s).importance == 2.0
        assert s.scalar(select(func.count()).where(AuditLog.entity == "app_setting")) == 1
