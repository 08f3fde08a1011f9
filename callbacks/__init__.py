"""Callbacks: the single wiring point of every Dash callback (each module has one ``register``).

Callbacks are registered on the app passed in (never through the global ``dash.callback``), and
only through ``callbacks.policy.secured_callback``, so each one declares its capability.
"""

from __future__ import annotations

import dash

from callbacks import (
    actors,
    admin,
    admin_users,
    alerts,
    department,
    home,
    lazy_folds,
    policy,
    priorities,
    problem,
    problem_edit,
    reports,
)


def register_callbacks(app: dash.Dash) -> None:
    """Register every page's callbacks plus the rules for Dash's own Pages callbacks."""
    policy.register_builtin_rules(app)
    priorities.register(app)
    home.register(app)
    alerts.register(app)
    problem.register(app)
    problem_edit.register(app)
    department.register(app)
    admin_users.register(app)
    actors.register(app)
    reports.register(app)
    admin.register(app)
    lazy_folds.register(app)
