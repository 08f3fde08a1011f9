"""The frame around every page: skip link, top navigation, signed-in user, sign-out, main region.

The sign-out button is a real ``POST /logout`` form carrying the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import ids

INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        {%config%}
        {%scripts%}
        {%renderer%}
    </body>
</html>
"""


@dataclass(frozen=True)
class ShellContext:
    """What the shell needs to know about the request; empty for the validation pass."""

    city_name: str
    display_name: str = ""
    role_label: str = ""
    csrf_token: str = ""
    nav: Sequence[tuple[str, str]] = field(default_factory=tuple)


def _nav_links(nav: Sequence[tuple[str, str]]) -> html.Ul:
    return html.Ul(
        [
            html.Li(
                dbc.NavLink(label, href=href, active="exact", class_name="shell-nav-link"),
                className="shell-nav-item",
            )
            for label, href in nav
        ],
        className="shell-nav-list",
    )


def _user_block(context: ShellContext) -> html.Div:
    return html.Div(
        [
            html.Span(
                [
                    html.Span(context.display_name, id=ids.SHELL_USER_TEXT, className="shell-user"),
                    html.Span(context.role_label, id=ids.SHELL_ROLE_BADGE, className="shell-role"),
                ],
                className="shell-identity",
            ),
            dcc.Link(
                "Glossary",
                href="/glossary",
                className="shell-help-link",
                title="What the scores and words on these pages mean",
            ),
            html.Form(
                [
                    dcc.Input(
                        id=ids.SHELL_CSRF_INPUT,
                        type="hidden",
                        name="csrf_token",
                        value=context.csrf_token,
                    ),
                    html.Button(
                        "Sign out",
                        id=ids.SHELL_LOGOUT_BUTTON,
                        type="submit",
                        className="btn btn-sm shell-signout",
                    ),
                ],
                id=ids.SHELL_LOGOUT_FORM,
                action="/logout",
                method="POST",
                className="shell-signout-form",
            ),
        ],
        className="shell-user-block",
    )


def shell_layout(context: ShellContext) -> html.Div:
    """The whole app frame with Dash's page container inside the ``main`` landmark."""
    return html.Div(
        [
            html.A(
                "Skip to main content",
                id=ids.SHELL_SKIP_LINK,
                href=f"#{ids.SHELL_MAIN}",
                className="skip-link",
            ),
            html.Header(
                html.Div(
                    [
                        dcc.Link(
                            [
                                html.Span(context.city_name, className="shell-brand-city"),
                                html.Span("Triage", className="shell-brand-app"),
                            ],
                            href="/",
                            className="shell-brand",
                            title=f"{context.city_name} Triage: weekly priorities",
                        ),
                        html.Nav(
                            _nav_links(context.nav),
                            id=ids.SHELL_NAV,
                            className="shell-nav",
                            **{"aria-label": "Main"},
                        ),
                        _user_block(context),
                    ],
                    className="shell-bar",
                ),
                id=ids.SHELL_HEADER,
                className="shell-header",
            ),
            html.Main(
                dash.page_container,
                id=ids.SHELL_MAIN,
                tabIndex="-1",
                className="shell-main",
            ),
        ],
        className="shell",
    )
