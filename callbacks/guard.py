"""Deny by default: a Flask ``before_request`` guard in front of every route, Dash's included.

Without a session only the sign-in page, ``/healthz`` and static files answer. With one, every
state-changing request needs the CSRF token, and a callback POST needs the capability that
``callbacks.policy`` recorded for its output (unknown outputs are refused).
"""

from __future__ import annotations

from typing import Any

import dash
import flask
import flask_login
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from callbacks import auth
from callbacks.policy import (
    PRINCIPAL_ATTR,
    current_database,
    current_settings,
    required_capability,
)
from triage.security import PermissionDenied, Principal, role_allows

PUBLIC_PATHS = frozenset({"/login", "/healthz", "/_favicon.ico"})
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
UPDATE_COMPONENT_PATH = "/_dash-update-component"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_public(path: str) -> bool:
    """True for the few paths that answer without a session."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def _json_error(status: int, error: str, message: str) -> flask.Response:
    response = flask.jsonify(error=error, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _is_page_request(request: flask.Request) -> bool:
    """A browser asking for a page (not Dash's JSON endpoints, not an API client)."""
    if request.method not in {"GET", "HEAD"} or request.path.startswith("/_"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "text/html"


def session_principal() -> Principal | None:
    """The principal behind the request's session (reloaded from the database), or None."""
    user = flask_login.current_user
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "principal", None)


def callback_output(request: flask.Request) -> str | None:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None
    output = body.get("output")
    return output if isinstance(output, str) else None


def make_guard(app: dash.Dash):
    """The before_request function for ``app`` (it needs the app's callback registry)."""

    def guard() -> Any:
        request = flask.request
        if is_public(request.path):
            return None
        principal = session_principal()
        if principal is None:
            if _is_page_request(request):
                target = request.full_path.rstrip("?")
                return flask.redirect(flask.url_for("login", next=auth.safe_next(target)))
            return _json_error(401, "unauthenticated", "Please sign in.")
        flask.g.setdefault(PRINCIPAL_ATTR, principal)
        if request.method not in SAFE_METHODS:
            auth.check_csrf()
        if request.path == UPDATE_COMPONENT_PATH:
            output = callback_output(request)
            capability = required_capability(app, output) if output else None
            if capability is None:
                return _json_error(403, "forbidden", "Unknown callback.")
            if not role_allows(principal.role, capability):
                return _json_error(403, "forbidden", "Your role may not do this.")
        return None

    return guard


def healthz() -> Any:
    """Liveness and database check: ``{"status": "ok"}`` or 503."""
    try:
        with current_database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return _json_error(503, "unavailable", "The database does not answer.")
    response = flask.jsonify(status="ok")
    response.headers["Cache-Control"] = "no-store"
    return response


def content_security_policy(app: dash.Dash) -> str:
    """Only our own origin; inline scripts by hash (Dash's renderer bootstrap), no eval."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def make_after_request(app: dash.Dash):
    def after_request(response: flask.Response) -> flask.Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", content_security_policy(app))
        request = flask.request
        if not is_public(request.path) or request.path == "/login":
            response.headers.setdefault("Cache-Control", "no-store")
        token = flask.session.get(auth.CSRF_SESSION_KEY)
        if token and request.cookies.get(auth.CSRF_COOKIE) != token:
            response.set_cookie(
                auth.CSRF_COOKIE,
                token,
                path="/",
                samesite="Lax",
                secure=current_settings().secure_cookies,
                httponly=False,  # the Dash renderer must read it to send the header
            )
        return response

    return after_request


def permission_denied(error: PermissionDenied) -> flask.Response:
    """A refused action (role or department scope) is a 403 and nothing is changed."""
    return _json_error(403, "forbidden", str(error) or "Not allowed.")


def too_large(_error: RequestEntityTooLarge) -> flask.Response:
    limit = current_settings().max_upload_bytes
    return _json_error(413, "too_large", f"The request is larger than {limit:,} bytes.")


def install(app: dash.Dash) -> None:
    """Register the guard, the health check, the error handlers and the response headers."""
    server = app.server
    server.before_request(make_guard(app))
    server.after_request(make_after_request(app))
    server.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    server.register_error_handler(PermissionDenied, permission_denied)
    server.register_error_handler(RequestEntityTooLarge, too_large)
