"""The app layout function: the shell for the signed-in user (name, role, links, CSRF token).

Dash calls it for ``/_dash-layout`` (behind the guard) and once, without a user, to validate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask

from callbacks import auth
from callbacks.policy import current_database, current_principal
from db.accounts import user_display_name
from layouts import nav_items
from layouts.shell import ShellContext, shell_layout
from triage.security import ROLE_LABELS, Role


def viewer_role() -> Role | None:
    """The role of the signed-in user for this request (None outside a signed-in request)."""
    principal = current_principal()
    return principal.role if principal is not None else None


def make_layout(city_name: str) -> Callable[[], Any]:
    """``app.layout`` for a city: resolves the viewer per request, never at import."""

    def layout():
        principal = current_principal()
        if principal is None:
            return shell_layout(ShellContext(city_name=city_name))
        display_name = principal.username
        if principal.user_id is not None:
            with current_database().session() as session:
                display_name = user_display_name(session, principal.user_id) or principal.username
        return shell_layout(
            ShellContext(
                city_name=city_name,
                display_name=display_name,
                role_label=ROLE_LABELS.get(principal.role, str(principal.role)),
                csrf_token=flask.session.get(auth.CSRF_SESSION_KEY) or auth.csrf_token(),
                nav=tuple((item.label, item.href) for item in nav_items(principal.role)),
            )
        )

    return layout
