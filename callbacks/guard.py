"""Deny by default: a Flask ``before_request`` guard in front of every route, Dash's included.

Without a session only the sign-in page, ``/healthz`` and real static files answer (anything
else under a static prefix is a 404, never Dash's catch-all page). With one, every
state-changing request needs the CSRF token, and a callback POST needs the capability that
``callbacks.policy`` recorded for its output (unknown outputs are refused).
"""

from __future__ import annotations

import os
from typing import Any

import dash
import flask
import flask_login
from dash.fingerprint import check_fingerprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.security import safe_join

from callbacks import auth
from callbacks.policy import (
    BODY_ATTR,
    PRINCIPAL_ATTR,
    bad_request,
    callback_request_error,
    current_database,
    current_settings,
    json_bounds_error,
    required_capability,
)
from triage.security import PermissionDenied, Principal, role_allows

PUBLIC_PATHS = frozenset({"/login", "/healthz", "/_favicon.ico"})
ASSETS_PREFIX = "/assets/"
COMPONENT_SUITES_PREFIX = "/_dash-component-suites/"
PUBLIC_PREFIXES = (ASSETS_PREFIX, COMPONENT_SUITES_PREFIX)
UPDATE_COMPONENT_PATH = "/_dash-update-component"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
}
# Sent only when the app is configured for TLS (secure cookies): a year, this host only.
HSTS_VALUE = "max-age=31536000"
# 'unsafe-inline' for styles stays, measured in Chromium (tests/browser/test_csp.py): Dash 4's
# renderer and dcc bundles, dash-cytoscape and plotly.js inject <style> elements whose text is
# fixed per release, and plotly.js also sets style attributes through setAttribute (chart
# titles, legends and hover labels vanish without them). Neither a nonce (the bundles do not
# take one) nor hashes (attributes would need 'unsafe-hashes' and change with the data) fit.
# Scripts stay strict: no inline script runs without its hash.
CSP_STYLE_SOURCES = "'self' 'unsafe-inline'"


def is_public(path: str) -> bool:
    """True for the few paths that answer without a session (under the static prefixes the
    guard answers only for real files: ``is_static_file``)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_static_file(app: dash.Dash, path: str) -> bool:
    """True when ``path`` names a file Dash really serves: one in the assets folder, or a
    component-suite resource Dash registered (``_setup_server`` has run by the guard's turn)."""
    if path.startswith(ASSETS_PREFIX):
        relative = path[len(ASSETS_PREFIX) :]
        target = safe_join(app.config.assets_folder, relative) if relative else None
        return target is not None and os.path.isfile(target)
    if path.startswith(COMPONENT_SUITES_PREFIX):
        package, _, fingerprinted = path[len(COMPONENT_SUITES_PREFIX) :].partition("/")
        resource, _ = check_fingerprint(fingerprinted)
        # ``.get``: registered_paths is a defaultdict, and a lookup must not add packages.
        return bool(fingerprinted) and resource in app.registered_paths.get(package, ())
    return False


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


def callback_body(request: flask.Request) -> Any:
    """A callback POST's JSON body (None if it is not JSON), parsed once per request; a 400
    when it nests deeper than any page of ours sends (Python's parser would raise
    RecursionError near 1000 levels) or holds numbers no browser sends."""
    if BODY_ATTR not in flask.g:
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise bad_request("The request is nested too deeply.") from None
        problem = json_bounds_error(body)
        if problem:
            raise bad_request(problem)
        setattr(flask.g, BODY_ATTR, body)
    return getattr(flask.g, BODY_ATTR)


def callback_output(request: flask.Request) -> str | None:
    body = callback_body(request)
    if not isinstance(body, dict):
        return None
    output = body.get("output")
    return output if isinstance(output, str) else None


def make_guard(app: dash.Dash):
    """The before_request function for ``app`` (it needs the app's callback registry)."""

    def guard() -> Any:
        request = flask.request
        if request.path.startswith(PUBLIC_PREFIXES):
            if is_static_file(app, request.path):
                return None
            return _json_error(404, "not_found", "No such file.")
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
            problem = callback_request_error(app, callback_body(request))
            if problem:
                return _json_error(400, "bad_request", problem)
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
            f"style-src {CSP_STYLE_SOURCES}",
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
        if current_settings().secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
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
