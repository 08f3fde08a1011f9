"""Callbacks: the single wiring point of every Dash callback (each module has one ``register``).

Callbacks are registered on the app passed in (never through the global ``dash.callback``), and
only through ``callbacks.policy.secured_callback``, so each one declares its capability.
"""

from __future__ import annotations

import dash

from callbacks import admin_users, department, home, policy, problem


def register_callbacks(app: dash.Dash) -> None:
    """Register every page's callbacks plus the rules for Dash's own Pages callbacks."""
    policy.register_builtin_rules(app)
    home.register(app)
    problem.register(app)
    department.register(app)
    admin_users.register(app)
