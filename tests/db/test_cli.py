"""The ``triage`` console script, run as a real subprocess against a SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from db import migrate
from db.models import AuditLog, Department, User
from db.session import Database
from tests.clock import TODAY

TRIAGE = [sys.executable, "-m", "triage.cli"]


def run(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_TODAY"] = TODAY.isoformat()
    return subprocess.run(
        [*TRIAGE, "--db", db_url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def test_cli001_init_creates_schema_idempotently(db_url: str) -> None:
    first = run(db_url, "init")
    assert first.returncode == 0, first.stderr
    assert f"revision {migrate.head_revision()}" in first.stdout
    assert run(db_url, "init").returncode == 0
    assert migrate.is_current(db_url)


def test_cli002_user_add_disable_enable_list(db_url: str) -> None:
    assert run(db_url, "init").returncode == 0
    database = Database(db_url)
    with database.session(write=True) as s:
        s.add(Department(code="PW", name="Public Works"))
    added = run(
        db_url,
        "user",
        "add",
        "Head-PW",
        "--role",
        "department_head",
        "--department",
        "pw",
        "--password-stdin",
        stdin="potholes-are-forever\n",
    )
    assert added.returncode == 0, added.stderr
    assert "Created user 'head-pw'" in added.stdout
    generated = run(db_url, "user", "add", "boss", "--role", "admin", "--generate-password")
    assert "Generated password (shown once): " in generated.stdout
    disabled = run(db_url, "user", "disable", "head-pw")
    assert disabled.returncode == 0 and "sessions have ended" in disabled.stdout
    listing = run(db_url, "user", "list").stdout.splitlines()
    assert [line.split() for line in listing] == [
        ["boss", "admin", "-", "active"],
        ["head-pw", "department_head", "PW", "disabled"],
    ]
    with database.session() as s:
        user = s.scalars(select(User).where(User.username == "head-pw")).one()
        assert (user.active, user.session_epoch) == (False, 1)
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["create", "create", "disable"]
        assert s.scalars(select(AuditLog.username)).all() == ["cli"] * 3
    database.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("user", "add", "xavier", "--role", "mayor", "--password-stdin"),
            "short\n",
            "at least 12",
        ),
        (
            ("user", "add", "hana", "--role", "department_head", "--password-stdin"),
            "long-enough-password\n",
            "needs a department",
        ),
        (("user", "add", "m", "--role", "mayor"), "", "No terminal to ask for a password"),
        (("user", "disable", "ghost"), "", "No user named 'ghost'"),
    ],
)
def test_cli003_clear_errors_exit_2_and_change_nothing(
    db_url: str, args: tuple[str, ...], stdin: str, message: str
) -> None:
    assert run(db_url, "init").returncode == 0
    result = run(db_url, *args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    database = Database(db_url)
    with database.session() as s:
        assert s.scalars(select(User)).all() == []
        assert s.scalars(select(AuditLog)).all() == []
    database.dispose()


def test_cli004_bad_role_is_refused_by_the_parser(db_url: str) -> None:
    result = run(db_url, "user", "add", "x", "--role", "emperor", "--generate-password")
    assert result.returncode == 2 and "invalid choice: 'emperor'" in result.stderr


def test_cli005_serve_refuses_unmigrated_database_and_weak_production_key(db_url: str) -> None:
    unmigrated = run(db_url, "serve", "--port", "8999")
    assert unmigrated.returncode == 2 and "triage init" in unmigrated.stderr
    env_run = subprocess.run(
        [*TRIAGE, "--db", db_url, "serve"],
        capture_output=True,
        text=True,
        env={**_without_today(), "TRIAGE_MODE": "production", "SECRET_KEY": "dev"},
        timeout=60,
        check=False,
    )
    assert env_run.returncode == 2 and "strong SECRET_KEY" in env_run.stderr
    pinned = subprocess.run(
        [*TRIAGE, "--db", db_url, "serve"],
        capture_output=True,
        text=True,
        env={**os.environ, "TRIAGE_MODE": "production", "TRIAGE_TODAY": "2026-11-18"},
        timeout=60,
        check=False,
    )
    assert pinned.returncode == 2 and "TRIAGE_TODAY pins the city's date" in pinned.stderr


def _without_today() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TRIAGE_TODAY"}


def test_cli006_set_password_changes_it_ends_sessions_and_is_audited(db_url: str) -> None:
    from db.accounts import authenticate

    assert run(db_url, "init").returncode == 0
    added = run(db_url, "user", "add", "mayor", "--role", "mayor", "--password-stdin",
                stdin="old-password-long\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    short = run(db_url, "user", "set-password", "mayor", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
    done = run(db_url, "user", "set-password", "Mayor", "--password-stdin",
               stdin="new-password-longer\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "open sessions have ended" in done.stdout
    database = Database(db_url)
    try:
        with database.session(write=True) as s:
            user = s.scalars(select(User).where(User.username == "mayor")).one()
            assert user.session_epoch == 1
            limits = {"max_failures": 5, "window_seconds": 900}
            assert not authenticate(s, "mayor", "old-password-long", "127.0.0.1", **limits).ok
            assert authenticate(s, "mayor", "new-password-longer", "127.0.0.1", **limits).ok
            actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
            assert actions[:2] == ["create", "password"]
            changed = s.scalars(select(AuditLog).where(AuditLog.action == "password")).one()
            assert "new-password" not in str(changed.after) + str(changed.before)
    finally:
        database.dispose()
