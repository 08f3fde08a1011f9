"""Every component ID in the app, kebab-case ``<page>-<thing>-<kind>``, plus pattern-ID helpers.

Layouts and callbacks import IDs from here only, so a renamed component cannot drift apart.
"""

from __future__ import annotations

from typing import Any

# Shell (navigation bar, main landmark, sign-out form)
SHELL_SKIP_LINK = "shell-skip-link"
SHELL_HEADER = "shell-top-header"
SHELL_NAV = "shell-main-nav"
SHELL_MAIN = "shell-main-region"
SHELL_USER_TEXT = "shell-user-text"
SHELL_ROLE_BADGE = "shell-role-badge"
SHELL_LOGOUT_FORM = "shell-logout-form"
SHELL_CSRF_INPUT = "shell-csrf-input"
SHELL_LOGOUT_BUTTON = "shell-logout-button"

# Home: the city's problems
HOME_PAGE_STORE = "home-page-store"
HOME_AREA_SELECT = "home-area-select"
HOME_STATUS_SELECT = "home-status-select"
HOME_KPI_DIV = "home-kpi-div"
HOME_TABLE_DIV = "home-problems-div"
HOME_QUERY_STORE = "home-query-store"

# One problem
PROBLEM_ID_STORE = "problem-id-store"
PROBLEM_BODY_DIV = "problem-body-div"
PROBLEM_INDICATOR_GRAPH_TYPE = "problem-indicator-graph"

# My department
DEPARTMENT_PAGE_STORE = "department-page-store"
DEPARTMENT_SELECT = "department-dept-select"
DEPARTMENT_INDICATORS_DIV = "department-indicators-div"
DEPARTMENT_RECENT_DIV = "department-recent-div"
DEPARTMENT_INDICATOR_SELECT = "department-indicator-select"
DEPARTMENT_PERIOD_INPUT = "department-period-input"
DEPARTMENT_VALUE_INPUT = "department-value-input"
DEPARTMENT_STATUS_SELECT = "department-status-select"
DEPARTMENT_NOTE_TEXTAREA = "department-note-textarea"
DEPARTMENT_SAVE_BUTTON = "department-save-button"
DEPARTMENT_FEEDBACK_DIV = "department-feedback-div"
DEPARTMENT_SAVED_STORE = "department-saved-store"

# User administration
ADMIN_USERS_TABLE_DIV = "admin-users-table-div"
ADMIN_USERS_FEEDBACK_DIV = "admin-users-feedback-div"
ADMIN_USERS_CHANGED_STORE = "admin-users-changed-store"
ADMIN_USERS_TOGGLE_TYPE = "admin-users-toggle-button"


def admin_user_toggle(user_id: Any, action: Any) -> dict[str, Any]:
    """The enable/disable button of one user; ``action`` is ``"enable"`` or ``"disable"``.

    Pass ``dash.ALL`` for both to address the whole family in a callback.
    """
    return {"type": ADMIN_USERS_TOGGLE_TYPE, "index": user_id, "action": action}


def indicator_chart(indicator_id: Any) -> dict[str, Any]:
    """The history chart of one indicator on the problem page."""
    return {"type": PROBLEM_INDICATOR_GRAPH_TYPE, "index": indicator_id}
