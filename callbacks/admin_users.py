"""User administration callbacks: the user table and the enable/disable buttons (admins only)."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.policy import current_database, secured_callback
from db import accounts
from layouts import admin_users, ids
from triage.security import ROLE_LABELS, Capability, PermissionDenied, Principal


def users_table(_changed: Any, _added: Any = None, *, principal: Principal) -> Any:
    """Every user with an enable/disable button (none on the admin's own row)."""
    with current_database().session() as session:
        frame = accounts.list_users(session)
    labels = {role.value: label for role, label in ROLE_LABELS.items()}
    return admin_users.users_table(frame, labels, principal.user_id)


def _clicked_toggle(triggered_id: Any, triggered_value: Any) -> tuple[int, bool] | None:
    """(user id, make active?) from the clicked button's ID, or None for a non-click."""
    if not isinstance(triggered_id, dict) or not triggered_value:
        return None
    index, action = triggered_id.get("index"), triggered_id.get("action")
    if not isinstance(index, int) or isinstance(index, bool) or action not in {"enable", "disable"}:
        return None
    return index, action == "enable"


def toggle_user(
    _clicks: Any,
    changed: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[Any, Any]:
    """Enable or disable the user whose button was clicked; feedback and a refresh counter."""
    if triggered_id is None and ctx.triggered:
        triggered_id = ctx.triggered_id
        triggered_value = ctx.triggered[0].get("value")
    clicked = _clicked_toggle(triggered_id, triggered_value)
    if clicked is None:
        raise PreventUpdate
    user_id, active = clicked
    with current_database().session(write=True) as session:
        try:
            accounts.set_user_active(session, principal, user_id, active)
        except accounts.AccountError as error:
            return admin_users.refused_message(str(error)), dash.no_update
        except PermissionDenied as error:
            if principal.user_id == user_id:
                return admin_users.refused_message(str(error)), dash.no_update
            raise
        frame = accounts.list_users(session)
    match = frame[frame["id"] == user_id]
    name = str(match.iloc[0]["display_name"]) if not match.empty else f"User {user_id}"
    return admin_users.toggled_message(name, active), int(changed or 0) + 1


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.MANAGE_USERS,
        Output(ids.ADMIN_USERS_TABLE_DIV, "children"),
        Input(ids.ADMIN_USERS_CHANGED_STORE, "data"),
        Input(ids.ADMIN_USER_ADD_SAVED_STORE, "data"),
    )(users_table)
    secured_callback(
        app,
        Capability.MANAGE_USERS,
        Output(ids.ADMIN_USERS_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_USERS_CHANGED_STORE, "data"),
        Input(ids.admin_user_toggle(ALL, ALL), "n_clicks"),
        State(ids.ADMIN_USERS_CHANGED_STORE, "data"),
        prevent_initial_call=True,
    )(toggle_user)
