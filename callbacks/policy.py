"""The one way to register a callback: ``secured_callback(app, capability, ...)``.

Each registration records ``output → Capability`` on the app (the guard refuses a callback POST
whose output is unknown or whose capability the role lacks) and wraps the function so that it
resolves the signed-in Principal and calls ``triage.security.require`` before running.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash
import flask

from db.session import Database
from triage.security import Capability, PermissionDenied, Principal, require
from triage.settings import Settings

POLICY_KEY = "triage_policy"
DATABASE_KEY = "triage_db"
SETTINGS_KEY = "triage_settings"
PRINCIPAL_ATTR = "triage_principal"
# Dash Pages' router: registered by Dash on the first request; it only renders page skeletons
# (each page layout is itself gated by role in ``layouts.gated_layout``).
PAGES_ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
PAGES_TITLE_OUTPUT = "_pages_dummy.children"


@dataclass(frozen=True)
class CallbackRule:
    """What a POST to one callback output requires; clientside callbacks never run on the server."""

    output: str
    capability: Capability | None
    function: str
    clientside: bool = False


def _registry(app: dash.Dash) -> dict[str, CallbackRule]:
    return app.server.extensions.setdefault(POLICY_KEY, {})


def rules(app: dash.Dash) -> dict[str, CallbackRule]:
    """A copy of the app's callback registry: output string → rule."""
    return dict(_registry(app))


def required_capability(app: dash.Dash, output: str) -> Capability | None:
    """The capability a server callback needs, or None when no server callback has that output."""
    rule = _registry(app).get(output)
    if rule is None or rule.clientside:
        return None
    return rule.capability


def _new_outputs(app: dash.Dash, before: set[str]) -> list[str]:
    added = [key for key in app.callback_map if key not in before]
    if not added:
        raise RuntimeError("registering the callback added nothing to app.callback_map")
    return added


def current_principal() -> Principal | None:
    """The signed-in principal the guard resolved for this request, or None."""
    if not flask.has_request_context():
        return None
    return flask.g.get(PRINCIPAL_ATTR)


def current_database() -> Database:
    """The app's Database (one per process), reached through the Flask app."""
    return flask.current_app.extensions[DATABASE_KEY]


def current_settings() -> Settings:
    return flask.current_app.extensions[SETTINGS_KEY]


def local_today() -> dt.date:
    """Today in the city's time zone (the zone is checked when the app starts)."""
    return current_settings().today()


def secured(capability: Capability, function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``function`` so it runs only for a principal holding ``capability``.

    The wrapped function receives that principal as the keyword argument ``principal``.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal = current_principal()
        if principal is None:
            raise PermissionDenied("Please sign in.")
        require(principal, capability)
        return function(*args, principal=principal, **kwargs)

    return wrapper


def secured_callback(
    app: dash.Dash, capability: Capability, *args: Any, **kwargs: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``app.callback(*args, **kwargs)`` guarded by ``capability``.

    Returns the undecorated function so that tests can call it directly.
    """
    if capability is Capability.PUBLIC:
        raise ValueError("Dash callbacks always need a session; PUBLIC is for the sign-in page")

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        before = set(app.callback_map)
        app.callback(*args, **kwargs)(secured(capability, function))
        for output in _new_outputs(app, before):
            _registry(app)[output] = CallbackRule(
                output, capability, f"{function.__module__}.{function.__name__}"
            )
        return function

    return decorator


def secured_clientside_callback(app: dash.Dash, function: str, *args: Any, **kwargs: Any) -> None:
    """A clientside callback: it runs in the browser only, so the server refuses posts to it."""
    before = set(app.callback_map)
    app.clientside_callback(function, *args, **kwargs)
    for output in _new_outputs(app, before):
        _registry(app)[output] = CallbackRule(output, None, "clientside", clientside=True)


def register_builtin_rules(app: dash.Dash) -> None:
    """Rules for the callbacks Dash Pages registers itself on the first request."""
    registry = _registry(app)
    registry[PAGES_ROUTER_OUTPUT] = CallbackRule(
        PAGES_ROUTER_OUTPUT, Capability.VIEW_CITY, "dash.pages.router"
    )
    registry[PAGES_TITLE_OUTPUT] = CallbackRule(
        PAGES_TITLE_OUTPUT, None, "dash.pages.title", clientside=True
    )
