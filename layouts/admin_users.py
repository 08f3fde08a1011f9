"""User administration (admins only): who can sign in, with buttons to enable or disable them.

Shown as the "Users and roles" tab of ``layouts.admin``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import dcc, html

from layouts import admin_user_form, ids
from layouts.components import (
    Column,
    data_table,
    empty_state,
    format_date,
    loading,
    notice,
    status_badge,
)


def panel() -> html.Div:
    """The "Users and roles" tab of the administration page: feedback line and user table."""
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_USERS_CHANGED_STORE, data=0),
            html.H2("Users and roles", className="section-title"),
            html.P(
                [
                    "Disabling an account ends its open sessions at once; enabling it lets the "
                    "person sign in again. Add an account with the form below (or ",
                    html.Code("triage user add NAME --role ROLE [--department CODE]"),
                    ").",
                ],
                className="section-note",
            ),
            html.Div(id=ids.ADMIN_USERS_FEEDBACK_DIV, **{"aria-live": "polite"}),
            loading(html.Div(id=ids.ADMIN_USERS_TABLE_DIV, className="table-slot")),
            admin_user_form.add_user_form(),
        ]
    )


def users_table(
    frame: pd.DataFrame, role_labels: dict[str, str], current_user_id: int | None
) -> Any:
    """All users with their role, department, status and an enable/disable button.

    ``frame`` has the columns of ``db.accounts.list_users``. Nobody can disable themselves.
    """
    if frame.empty:
        return empty_state("No users yet.")
    rows = []
    for row in frame.itertuples(index=False):
        active = bool(row.active)
        name = row.display_name or row.username
        if current_user_id is not None and int(row.id) == current_user_id:
            action: Any = html.Span("You", className="muted")
        else:
            verb = "Disable" if active else "Enable"
            action = html.Button(
                verb,
                id=ids.admin_user_toggle(int(row.id), verb.lower()),
                type="button",
                className="btn btn-sm " + ("btn-outline-danger" if active else "btn-primary"),
                n_clicks=0,
                **{"aria-label": f"{verb} {name}"},
            )
        department = row.department_name if isinstance(row.department_name, str) else None
        rows.append(
            {
                "name": name,
                "username": row.username,
                "role": role_labels.get(row.role, row.role),
                "department": department or "—",
                "status": status_badge("active" if active else "disabled"),
                "last_login": format_date(row.last_login_at),
                "action": action,
            }
        )
    return data_table(
        [
            Column("Name", "name"),
            Column("Username", "username"),
            Column("Role", "role"),
            Column("Department", "department"),
            Column("Status", "status"),
            Column("Last sign-in", "last_login"),
            Column("Action", "action"),
        ],
        rows,
        caption="Users of Triage",
        row_header="name",
        stack_on_phone=True,  # each account a card, its action button on the screen
    )


def toggled_message(name: str, active: bool) -> html.Div:
    verb = "enabled" if active else "disabled"
    detail = "" if active else " Their open sessions have ended."
    return notice(f"{name} is now {verb}.{detail}", "success")


def refused_message(message: str) -> html.Div:
    return notice(message, "danger")
