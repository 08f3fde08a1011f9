"""``triage user add|set-password|disable|enable|list``: accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from typing import Any

from db.accounts import (
    AccountError,
    create_user,
    find_user_id,
    list_users,
    set_password,
    set_user_active,
)
from triage.cli.common import COMMAND_HELP, CommandError, open_database, settings_from
from triage.security import Principal
from triage.vocabulary import Role


def _read_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The new user's password and whether it was generated (and so must be printed)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if args.generate_password:
        return secrets.token_urlsafe(18), True
    if not sys.stdin.isatty():
        raise CommandError(
            "No terminal to ask for a password: use --password-stdin or --generate-password."
        )
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandError("The two passwords differ; nothing was changed.")
    return first, False


def cmd_user_add(args: argparse.Namespace) -> int:
    password, generated = _read_password(args)
    database = open_database(settings_from(args))
    try:
        with database.session(write=True) as session:
            user_id = create_user(
                session,
                Principal.system("cli"),
                args.name,
                args.role,
                password,
                display_name=args.display_name,
                department_code=args.department,
            )
    except AccountError as exc:
        raise CommandError(f"{exc} Nothing was changed.") from None
    finally:
        database.dispose()
    print(f"Created user {args.name.lower()!r} (id {user_id}, role {args.role}).")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    database = open_database(settings_from(args))
    try:
        with database.session(write=True) as session:
            set_user_active(
                session, Principal.system("cli"), find_user_id(session, args.name), active
            )
    except AccountError as exc:
        raise CommandError(str(exc)) from None
    finally:
        database.dispose()
    state = "enabled" if active else "disabled; their open sessions have ended"
    print(f"User {args.name.lower()!r} is {state}.")
    return 0


def cmd_user_set_password(args: argparse.Namespace) -> int:
    password, generated = _read_password(args)
    database = open_database(settings_from(args))
    try:
        with database.session(write=True) as session:
            set_password(
                session, Principal.system("cli"), find_user_id(session, args.name), password
            )
    except AccountError as exc:
        raise CommandError(f"{exc} Nothing was changed.") from None
    finally:
        database.dispose()
    print(f"Set a new password for {args.name.lower()!r}; their open sessions have ended.")
    if generated:
        print(f"Generated password (shown once): {password}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_user_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_user_list(args: argparse.Namespace) -> int:
    database = open_database(settings_from(args))
    try:
        with database.session() as session:
            users = list_users(session)
    finally:
        database.dispose()
    if users.empty:
        print("No users yet: add one with `triage user add NAME --role ROLE`.")
        return 0
    for row in users.itertuples():
        state = "active" if row.active else "disabled"
        dept = row.department_code or "-"
        print(f"{row.username:<20} {row.role:<16} {dept:<6} {state}")
    return 0


def register(commands: Any, bench: Any) -> None:
    """Add ``user`` (add, set-password, disable, enable, list) to ``commands``."""
    del bench
    user = commands.add_parser("user", help=COMMAND_HELP["user"]).add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--department", metavar="CODE", help="department code (department heads)")
    add.add_argument("--display-name")
    source = add.add_mutually_exclusive_group()
    source.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    source.add_argument(
        "--generate-password", action="store_true", help="generate a password and print it once"
    )
    add.set_defaults(func=cmd_user_add)
    reset = user.add_parser(
        "set-password", help="give a user a new password (ends all of their sessions)"
    )
    reset.add_argument("name")
    given = reset.add_mutually_exclusive_group()
    given.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    given.add_argument(
        "--generate-password", action="store_true", help="generate one and print it once"
    )
    reset.set_defaults(func=cmd_user_set_password)
    for name, func, text in (
        ("disable", cmd_user_disable, "disable a user (ends their sessions)"),
        ("enable", cmd_user_enable, "enable a disabled user"),
    ):
        sub = user.add_parser(name, help=text)
        sub.add_argument("name")
        sub.set_defaults(func=func)
    user.add_parser("list", help="list users").set_defaults(func=cmd_user_list)
