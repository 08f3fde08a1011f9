"""Administration, "Users and roles" tab: the form that adds a user (admins only).

The same rules as ``triage user add``: a username of lower-case letters and digits, a role, a
department for department heads, and a first password of at least 12 characters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids
from layouts.admin_catalog_feeds import NONE_VALUE
from layouts.components import button, form_actions, form_feedback, form_field, notice
from triage.security import MIN_PASSWORD_LENGTH

USER_FIELDS = ("username", "display_name", "role", "department", "password")


def add_user_form() -> html.Section:
    """Username, name, role, department and a first password, with an Add button."""
    return html.Section(
        [
            dcc.Store(id=ids.ADMIN_USER_ADD_SAVED_STORE, data=0),
            html.H3("Add a user", className="section-title"),
            html.P(
                "Give the person their first password in person; it is never shown again. "
                "Department heads see and update only their own department.",
                className="form-lead",
            ),
            html.Div(
                [
                    form_field(
                        "Username",
                        dbc.Input(
                            id=ids.ADMIN_USER_ADD_USERNAME_INPUT,
                            type="text",
                            maxlength=64,
                            autocomplete="off",
                        ),
                        "Lower-case letters, digits, '.', '_' or '-' (e.g. j.rivera).",
                    ),
                    form_field(
                        "Full name",
                        dbc.Input(
                            id=ids.ADMIN_USER_ADD_NAME_INPUT,
                            type="text",
                            maxlength=120,
                            autocomplete="off",
                        ),
                    ),
                    form_field(
                        "Role",
                        dbc.Select(
                            id=ids.ADMIN_USER_ADD_ROLE_SELECT,
                            options=[],
                            value=None,
                            placeholder="Choose one",
                        ),
                    ),
                    form_field(
                        "Department",
                        dbc.Select(
                            id=ids.ADMIN_USER_ADD_DEPARTMENT_SELECT,
                            options=[],
                            value=NONE_VALUE,
                        ),
                        "Required for a department head.",
                    ),
                    form_field(
                        "First password",
                        dbc.Input(
                            id=ids.ADMIN_USER_ADD_PASSWORD_INPUT,
                            type="password",
                            maxlength=200,
                            autocomplete="new-password",
                        ),
                        f"At least {MIN_PASSWORD_LENGTH} characters.",
                    ),
                ],
                className="form-grid",
            ),
            form_actions(button("Add the user", ids.ADMIN_USER_ADD_BUTTON)),
            form_feedback(ids.ADMIN_USER_ADD_FEEDBACK_DIV),
        ],
        className="form-card catalog-form user-add-form",
    )


def role_options(labels: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in labels.items()]


def department_options(departments: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """(code, name) pairs of departments not archived, after a "No department" choice."""
    return [{"label": "No department", "value": NONE_VALUE}] + [
        {"label": f"{code} – {name}", "value": code} for code, name in departments
    ]


def added_message(username: str, role_label: str) -> html.Div:
    return notice(f"Added {username} as {role_label}. They can sign in now.", "success")


def refused_message(message: str) -> html.Div:
    return notice(message, "danger")
