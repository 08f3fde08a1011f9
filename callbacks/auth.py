"""Sign-in and sign-out as plain Flask routes (``/login``, ``POST /logout``) with flask-login.

The session holds ``"<user_id>:<session_epoch>"``; every request reloads the Principal through
``db.accounts.load_principal``, so disabling a user ends her session at the next request.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

import dash
import flask
import flask_login
from werkzeug.exceptions import BadRequest

from callbacks.policy import current_database, current_settings
from db import accounts
from layouts.login import LOGIN_TEMPLATE
from triage.security import Principal

CSRF_SESSION_KEY = "csrf_token"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
CSRF_COOKIE = "_csrf_token"  # read by the Dash renderer and echoed in the X-CSRFToken header
ASSETS_KEY = "triage_login_assets"
DEMO_USERNAMES = ("mayor", "chief", "analyst", "admin", "head-<department code>, e.g. head-pw")


class SessionUser(flask_login.UserMixin):
    """The flask-login user: a Principal plus the session epoch it was signed in under."""

    def __init__(self, principal: Principal, session_epoch: int) -> None:
        self.principal = principal
        self.session_epoch = session_epoch

    def get_id(self) -> str:
        return f"{self.principal.user_id}:{self.session_epoch}"


def load_session_user(session_id: str) -> SessionUser | None:
    """flask-login's user loader: ``"<user_id>:<epoch>"`` → a live SessionUser, or None."""
    user_part, _, epoch_part = str(session_id).partition(":")
    if not (user_part.isdigit() and epoch_part.lstrip("-").isdigit()):
        return None
    user_id, epoch = int(user_part), int(epoch_part)
    with current_database().session() as session:
        principal = accounts.load_principal(session, user_id, epoch)
    return SessionUser(principal, epoch) if principal is not None else None


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    token = flask.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session[CSRF_SESSION_KEY] = token
    return token


def csrf_valid(candidate: str | None) -> bool:
    expected = flask.session.get(CSRF_SESSION_KEY)
    return bool(expected and candidate) and hmac.compare_digest(str(expected), str(candidate))


def check_csrf() -> None:
    """Abort with 400 unless the request carries this session's token (form field or header)."""
    candidate = flask.request.headers.get(CSRF_HEADER) or flask.request.form.get(CSRF_FORM_FIELD)
    if not csrf_valid(candidate):
        raise BadRequest("Missing or invalid CSRF token; reload the page and try again.")


def safe_next(raw: str | None) -> str:
    """Only local absolute paths ("/..." but not "//..." or "/\\..."); anything else → "/"."""
    value = (raw or "").strip()
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ch in value for ch in ("\\", "\r", "\n", "\t")) or any(ord(c) < 32 for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith(("/login", "/logout")):
        return "/"
    return value


def _render_login(message: str = "", username: str = "", next_path: str = "/", status: int = 200):
    settings = current_settings()
    body = flask.render_template_string(
        LOGIN_TEMPLATE,
        city_name=settings.city_name,
        bootstrap_css=flask.current_app.extensions[ASSETS_KEY]["bootstrap"],
        app_css=flask.current_app.extensions[ASSETS_KEY]["app"],
        favicon=flask.current_app.extensions[ASSETS_KEY]["favicon"],
        action=flask.url_for("login"),
        csrf_token=csrf_token(),
        next_path=safe_next(next_path),
        message=message,
        username=username,
        demo_usernames=DEMO_USERNAMES if settings.mode == "demo" else (),
    )
    response = flask.make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def login():
    """GET: the sign-in form. POST: check CSRF, authenticate (rate-limited), start the session."""
    request = flask.request
    if request.method == "GET":
        if flask_login.current_user.is_authenticated:
            return flask.redirect(safe_next(request.args.get("next")))
        return _render_login(next_path=request.args.get("next", "/"))
    check_csrf()
    settings = current_settings()
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    next_path = safe_next(request.form.get("next"))
    with current_database().session(write=True) as session:
        result = accounts.authenticate(
            session,
            username,
            password,
            request.remote_addr or "unknown",
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
    if not result.ok or result.principal is None:
        return _render_login(result.message, username, next_path, status=401)
    # A fresh session on sign-in: no fixation, and a new CSRF token.
    flask.session.clear()
    flask_login.login_user(SessionUser(result.principal, result.session_epoch))
    csrf_token()
    return flask.redirect(next_path)


def logout():
    """POST only, with the CSRF token: end the session and go back to the sign-in page."""
    check_csrf()
    flask_login.logout_user()
    flask.session.clear()
    response = flask.redirect(flask.url_for("login"))
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def install(app: dash.Dash) -> flask_login.LoginManager:
    """Attach flask-login and the two routes to the app's Flask server."""
    server = app.server
    server.extensions[ASSETS_KEY] = {
        "bootstrap": app.get_asset_url("vendor/bootstrap.min.css"),
        "app": app.get_asset_url("triage.css"),
        "favicon": app.get_relative_path("/_favicon.ico"),
    }
    manager = flask_login.LoginManager()
    manager.session_protection = "basic"
    manager.user_loader(load_session_user)
    manager.init_app(server)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["POST"])
    return manager
