"""Sign-in and sign-out as plain Flask routes (``/login``, ``POST /logout``) with flask-login.

The signed cookie holds only a random session token; every request reloads the Principal
through ``db.accounts.load_session_principal``, so signing out (on the server), a new password
or disabling the user ends that session at the next request, wherever the cookie was copied.
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
from triage.security import Principal, Role

CSRF_SESSION_KEY = "csrf_token"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRFToken"
CSRF_COOKIE = "_csrf_token"  # read by the Dash renderer and echoed in the X-CSRFToken header
ASSETS_KEY = "triage_login_assets"
# Where each role lands from "/" (sign-in without a ``next``, or opening the root address).
ROLE_HOMES: dict[Role, str] = {Role.DEPARTMENT_HEAD: "/department"}
DEMO_USERNAMES = ("mayor", "chief", "analyst", "admin", "head-<department code>, e.g. head-pw")


class SessionUser(flask_login.UserMixin):
    """The flask-login user: a Principal plus the server-side session it is signed in under."""

    def __init__(self, principal: Principal, session_token: str) -> None:
        self.principal = principal
        self.session_token = session_token

    def get_id(self) -> str:
        return self.session_token


def load_session_user(session_token: str) -> SessionUser | None:
    """flask-login's user loader: a session token → a live SessionUser, or None."""
    token = str(session_token or "")
    if not 20 <= len(token) <= 128:
        return None
    with current_database().session() as session:
        principal = accounts.load_session_principal(session, token)
    return SessionUser(principal, token) if principal is not None else None


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


def landing_path(principal: Principal | None, path: str) -> str:
    """``path``, except that "/" becomes the role's home (a department head's is My department)."""
    if path != "/" or principal is None:
        return path
    return ROLE_HOMES.get(principal.role, path)


def role_home_redirect():
    """before_request: a signed-in role with a home of its own opening "/" is sent there."""
    request = flask.request
    if request.method != "GET" or request.path != "/":
        return None
    user = flask_login.current_user
    principal = getattr(user, "principal", None) if user and user.is_authenticated else None
    target = landing_path(principal, "/")
    return flask.redirect(target) if target != "/" else None


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
    if request.method != "POST":  # GET, and HEAD like GET
        if flask_login.current_user.is_authenticated:
            principal = getattr(flask_login.current_user, "principal", None)
            return flask.redirect(landing_path(principal, safe_next(request.args.get("next"))))
        return _render_login(next_path=request.args.get("next", "/"))
    check_csrf()
    settings = current_settings()
    username = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    next_path = safe_next(request.form.get("next"))
    # The client address is REMOTE_ADDR, rewritten only by the trusted proxy hops (ProxyFix).
    remote_addr = request.remote_addr or "unknown"
    with current_database().session(write=True) as session:
        result = accounts.authenticate(
            session,
            username,
            password,
            remote_addr,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        )
        token = None
        if result.ok and result.principal is not None:
            token = accounts.start_session(
                session,
                result.principal,
                result.session_epoch,
                lifetime=flask.current_app.permanent_session_lifetime,
                remote_addr=remote_addr,
            )
    if token is None or result.principal is None:
        return _render_login(result.message, username, next_path, status=401)
    # A fresh session on sign-in: no fixation, and a new CSRF token.
    flask.session.clear()
    flask_login.login_user(SessionUser(result.principal, token))
    csrf_token()
    return flask.redirect(landing_path(result.principal, next_path))


def logout():
    """POST only, with the CSRF token: end the session on the server and in the browser, then
    go back to the sign-in page."""
    check_csrf()
    user = flask_login.current_user
    token = getattr(user, "session_token", None)
    if token:
        with current_database().session(write=True) as session:
            accounts.end_session(session, token)
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
    server.before_request(role_home_redirect)
    return manager
