"""Composition root: ``create_app(settings, database) -> Dash``; nothing imports this module.

Importing it builds nothing. Under gunicorn use ``gunicorn 'app:wsgi()'`` (or ``app:server``,
which is built on first access through the module ``__getattr__``).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any

import dash
import flask
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import callbacks
from callbacks import auth, guard, policy
from callbacks.shell import make_layout, viewer_role
from db.city_settings import adopt_stored_city
from db.session import Database
from layouts import register_pages, validation_layout
from layouts.shell import INDEX_STRING, ShellContext, shell_layout
from triage.settings import Settings

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
SESSION_LIFETIME = dt.timedelta(hours=12)
SERVER_HEADER = "triage"  # what gunicorn and waitress say in ``Server:``: no product, no version
# plotly.js with only the trace types the pages draw (scripts/build-plotly-bundle): a third of the
# full bundle's size, so every page with a chart parses and compiles less. Served where Dash's
# graphs fetch plotly.js from (their URL is fixed in the renderer), with or without Dash's
# fingerprint in the file name.
PLOTLY_BUNDLE = ASSETS_DIR / "vendor" / "plotly-triage.min.js"
PLOTLY_FILE = re.compile(r"plotly(\.v[\w.]+)?\.min\.js")


def create_server(settings: Settings) -> Flask:
    """The Flask server: no static folder of its own (Dash serves /assets), hardened cookies,
    and the client address (and scheme) taken from exactly ``settings.proxy_hops`` trusted
    proxies: with 0, ``X-Forwarded-*`` headers are ignored, as any client can write them."""
    server = Flask(__name__, static_folder=None)
    if settings.proxy_hops:
        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops
        )
    server.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_NAME="triage_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
    )
    return server


def create_app(settings: Settings | None = None, database: Database | None = None) -> dash.Dash:
    """Build the whole app; refuses unsafe settings (e.g. production without a strong key)."""
    settings = (settings or Settings.from_env()).validated()
    database = database or Database(settings.database_url)
    settings = adopt_stored_city(settings, database)
    server = create_server(settings)
    server.extensions[policy.SETTINGS_KEY] = settings
    server.extensions[policy.DATABASE_KEY] = database
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        # Bootstrap is linked explicitly so it loads before our stylesheet (assets load A→Z).
        assets_path_ignore=["^vendor$"],
        external_stylesheets=["/assets/vendor/bootstrap.min.css"],
        serve_locally=True,
        suppress_callback_exceptions=False,
        title=f"{settings.city_name} Triage",
        update_title=None,
        index_string=INDEX_STRING,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    register_pages(app, viewer_role, city_name=settings.city_name)
    app.validation_layout = validation_layout(shell_layout(ShellContext(settings.city_name)))
    app.layout = make_layout(settings.city_name)
    auth.install(app)
    guard.install(app)
    serve_plotly_bundle(app)
    callbacks.register_callbacks(app)
    return app


def serve_plotly_bundle(app: dash.Dash) -> None:
    """Answer Dash's request for plotly.js with :data:`PLOTLY_BUNDLE` (revalidated by ETag).

    A route of its own: its static path segments take precedence over the ``<package_name>``
    of Dash's component-suite route, so no other request pays for the check."""

    def plotly_bundle(filename: str) -> flask.Response:
        if not PLOTLY_FILE.fullmatch(filename):
            flask.abort(404)
        return flask.send_file(
            PLOTLY_BUNDLE, mimetype="text/javascript", conditional=True, etag=True, max_age=None
        )

    app.server.add_url_rule(
        f"{app.config.routes_pathname_prefix}_dash-component-suites/plotly/package_data/<filename>",
        "plotly_bundle",
        plotly_bundle,
    )


def hide_gunicorn_version() -> None:
    """Gunicorn writes ``Server: gunicorn`` on every response from a module global; when this
    process is a gunicorn worker, name no product there (the master imports it before us)."""
    gunicorn_wsgi = sys.modules.get("gunicorn.http.wsgi")
    if gunicorn_wsgi is not None:
        gunicorn_wsgi.SERVER = SERVER_HEADER  # type: ignore[attr-defined]


def wsgi() -> Flask:
    """The WSGI application for gunicorn: ``gunicorn 'app:wsgi()'``."""
    hide_gunicorn_version()
    return create_app().server


def __getattr__(name: str) -> Any:
    if name == "server":
        return wsgi()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
