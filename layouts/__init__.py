"""The pages: one explicit ``dash.register_page`` per page, each with the capability it needs.

A page the signed-in role may not see renders "You don't have access"; its callbacks are refused
on the server regardless (see ``callbacks.policy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash
import flask
from dash import html

from layouts import (
    actors,
    admin,
    alerts,
    components,
    department,
    glossary,
    home,
    priorities,
    problem,
    reports,
)
from triage.security import Capability, Role, role_allows

ViewerRole = Callable[[], Role | None]


@dataclass(frozen=True)
class PageSpec:
    """One page: where it lives, what it is called, who may see it, and whether it is in the nav."""

    module: str
    path: str
    title: str
    capability: Capability
    layout: Callable[..., Any]
    nav_label: str | None = None
    path_template: str | None = None
    # Old addresses that redirect here (e.g. /admin/users → /admin).
    redirect_from: tuple[str, ...] = ()
    # The layout takes ``viewer_role`` (set by the gate, never from the URL; None while Dash
    # builds its validation layout) to leave out parts the role may not use.
    role_aware: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "priorities",
        "/",
        "Weekly priorities",
        Capability.VIEW_CITY,
        priorities.layout,
        "Priorities",
    ),
    PageSpec("home", "/problems", "Problems", Capability.VIEW_CITY, home.layout, "Problems"),
    PageSpec(
        "alerts",
        "/alerts",
        "Early warnings",
        Capability.VIEW_CITY,
        alerts.layout,
        "Early warnings",
        role_aware=True,
    ),
    PageSpec(
        "problem",
        "/problems/<problem_id>",
        "Problem",
        Capability.VIEW_CITY,
        problem.layout,
        path_template="/problems/<problem_id>",
    ),
    PageSpec(
        "department",
        "/department",
        "My department",
        Capability.UPDATE_INDICATORS,
        department.layout,
        "My department",
    ),
    PageSpec(
        "actors",
        "/actors",
        "Actors and funding",
        Capability.VIEW_CITY,
        actors.layout,
        "Actors",
    ),
    PageSpec(
        "reports",
        "/reports",
        "Citizen reports",
        Capability.VIEW_CITY,
        reports.layout,
        "Reports",
    ),
    PageSpec(
        "admin",
        "/admin",
        "Administration",
        Capability.CONFIGURE,
        admin.layout,
        "Administration",
        redirect_from=("/admin/users",),
        role_aware=True,
    ),
    PageSpec(
        "glossary",
        "/glossary",
        "Glossary",
        Capability.VIEW_CITY,
        glossary.layout,  # linked beside "Sign out" on every page, not in the page nav
    ),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str


def nav_items(role: Role | None) -> list[NavItem]:
    """The navigation links a role may follow, in page order."""
    if role is None:
        return []
    return [
        NavItem(spec.nav_label, spec.path)
        for spec in PAGES
        if spec.nav_label and role_allows(role, spec.capability)
    ]


def gated_layout(spec: PageSpec, viewer_role: ViewerRole) -> Callable[..., Any]:
    """Wrap a page layout so that a role without the page's capability sees "no access".

    ``viewer_role()`` is None only outside a signed-in request: Dash computes its validation
    layout then (on the first request, before our guard runs), and that needs every page whole.
    """

    def layout(**kwargs: Any) -> Any:
        role = viewer_role()
        if role is not None and not role_allows(role, spec.capability):
            return components.access_denied()
        if spec.role_aware:
            kwargs["viewer_role"] = role
        return spec.layout(**kwargs)

    layout.__name__ = f"{spec.module}_layout"
    return layout


def validation_layout(shell: Any) -> html.Div:
    """The shell plus every page skeleton, so Dash can check all callback IDs up front."""
    return html.Div([shell, *(spec.layout() for spec in PAGES)])


def _redirect_view(target: str) -> Callable[[], Any]:
    """A view answering with a redirect to ``target`` (an old address kept working)."""

    def view() -> Any:
        return flask.redirect(target, code=302)

    return view


def register_pages(app: dash.Dash, viewer_role: ViewerRole, *, city_name: str) -> None:
    """Register every page explicitly (``pages_folder=""``: nothing is discovered by import).

    ``app`` must be the Dash app created with ``use_pages=True``: Dash keeps the registry
    beside it, so pages are registered after the app exists.
    """
    if not app.use_pages:
        raise ValueError("register_pages needs a Dash app created with use_pages=True")
    for spec in PAGES:
        dash.register_page(
            f"layouts.{spec.module}",
            path=None if spec.path_template else spec.path,
            path_template=spec.path_template,
            name=spec.title,
            title=f"{spec.title} · {city_name} Triage",
            layout=gated_layout(spec, viewer_role),
        )
        # Dash's own ``redirect_from`` adds the route to the first Dash app of the process
        # (``get_app()``), which breaks app factories; the route goes on this app instead.
        for old in spec.redirect_from:
            app.server.add_url_rule(
                app.get_relative_path(old),
                f"redirect{old.replace('/', '-')}",
                _redirect_view(app.get_relative_path(spec.path)),
            )
    dash.register_page(
        "layouts.not_found_404",
        path="/404",
        name="Page not found",
        title=f"Page not found · {city_name} Triage",
        layout=components.not_found_page,
    )
