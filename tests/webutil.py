"""Helpers for the web tests: a seeded demo city per test, sign-in, and Dash callback requests.

The demo city is seeded once per test session into a template SQLite file; each test gets a copy.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from db import migrate
from db.models import Department, Indicator, User
from db.session import Database
from layouts import ids
from tests.clock import TODAY
from triage.security import Principal, Role
from triage.settings import Settings

DEMO_USERS = ("mayor", "chief", "analyst", "admin")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
CSRF_HEADER = "X-CSRFToken"
UPDATE_URL = "/_dash-update-component"


def demo_password(username: str) -> str:
    return f"{username}-riverton-demo"


@functools.cache
def seeded_template() -> Path:
    """A migrated SQLite file holding the small demo city (built once per test process)."""
    from db.seed import seed_demo_city
    from triage.jobs.demo_history import store_demo_history

    folder = Path(tempfile.mkdtemp(prefix="triage-web-template-"))
    path = folder / "triage.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    database = Database(url)
    try:
        summary = seed_demo_city(database, seed=7, scale="small", today=TODAY)
        store_demo_history(database, summary.today)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        database.dispose()
    return path


def fresh_database(folder: Path) -> Database:
    """A private copy of the seeded demo city."""
    target = folder / "triage.sqlite3"
    shutil.copyfile(seeded_template(), target)
    return Database(f"sqlite:///{target}")


@dataclass
class WebEnv:
    """An app over a private demo database."""

    app: Any
    database: Database
    settings: Settings

    @classmethod
    def create(cls, folder: Path, **overrides: Any) -> WebEnv:
        import app as composition_root

        database = fresh_database(folder)
        values: dict[str, Any] = {
            "database_url": database.url,
            "mode": "development",
            "secret_key": TEST_SECRET,
            "today_override": TODAY,
        }
        values.update(overrides)
        settings = Settings(**values)
        return cls(composition_root.create_app(settings, database), database, settings)

    def client(self) -> FlaskClient:
        return self.app.server.test_client()

    def principal(self, username: str) -> Principal:
        with self.database.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None, username
            return Principal(user.id, user.username, Role(user.role), user.department_id)

    def head_username(self) -> str:
        """A department head of the demo city (the first by username)."""
        with self.database.session() as session:
            name = session.scalar(
                select(User.username)
                .where(User.role == Role.DEPARTMENT_HEAD.value, User.active.is_(True))
                .order_by(User.username)
            )
            assert name is not None
            return name

    def indicator_ids(self, *, department_id: int, own: bool) -> list[int]:
        """Indicators of that department (own=True) or of every other one (own=False)."""
        with self.database.session() as session:
            clause = (
                Indicator.department_id == department_id
                if own
                else Indicator.department_id != department_id
            )
            return list(session.scalars(select(Indicator.id).where(clause).order_by(Indicator.id)))

    def department_ids(self) -> list[int]:
        with self.database.session() as session:
            return list(session.scalars(select(Department.id).order_by(Department.id)))

    def dispose(self) -> None:
        self.database.dispose()


def csrf_from_session(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("csrf_token")


def login_page_token(client: FlaskClient, next_path: str | None = None) -> str:
    """GET /login and return the CSRF token from the rendered form."""
    url = "/login" if next_path is None else f"/login?next={next_path}"
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "sign-in form has no CSRF field"
    return match.group(1)


def sign_in(
    client: FlaskClient, username: str, password: str | None = None, next_path: str = "/"
) -> Any:
    """Post the sign-in form like a browser does; returns the response (not followed)."""
    token = login_page_token(client)
    return client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": username,
            "password": demo_password(username) if password is None else password,
            "next": next_path,
        },
    )


def signed_in_client(env: WebEnv, username: str) -> FlaskClient:
    client = env.client()
    response = sign_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def dependencies(client: FlaskClient) -> list[dict[str, Any]]:
    response = client.get("/_dash-dependencies")
    assert response.status_code == 200
    return response.get_json()


def _spec_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def _is_wildcard(spec_id: Any) -> bool:
    return isinstance(spec_id, dict) and any(isinstance(v, list) for v in spec_id.values())


def callback_body(dependency: dict[str, Any], values: dict[str, Any] | None = None) -> dict:
    """A syntactically valid ``/_dash-update-component`` body for one dependency.

    ``values`` maps ``"<id>.<property>"`` to a value (default None; wildcard inputs get []).
    """
    values = values or {}

    def entry(spec: dict[str, Any]) -> Any:
        spec_id = _spec_id(spec["id"])
        if _is_wildcard(spec_id):
            return values.get(f"{spec['id']}.{spec['property']}", [])
        return {
            "id": spec_id,
            "property": spec["property"],
            "value": values.get(f"{spec['id']}.{spec['property']}"),
        }

    output = dependency["output"]
    if output.startswith(".."):
        parts = [p for p in output.strip(".").split("...") if p]
        outputs: Any = [
            # A wildcard output is a list of the components it matched (none, here).
            []
            if _is_wildcard(_spec_id(p.rsplit(".", 1)[0]))
            else {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]}
            for p in parts
        ]
    else:
        outputs = {"id": output.rsplit(".", 1)[0], "property": output.rsplit(".", 1)[1]}
    inputs = [entry(spec) for spec in dependency["inputs"]]
    changed = [
        f"{spec['id']}.{spec['property']}"
        for spec in dependency["inputs"][:1]
        if not _is_wildcard(_spec_id(spec["id"]))
    ]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "state": [entry(spec) for spec in dependency["state"]],
        "changedPropIds": changed,
    }


def post_callback(client: FlaskClient, body: dict[str, Any], *, csrf: bool = True) -> Any:
    headers = {}
    token = csrf_from_session(client)
    if csrf and token:
        headers[CSRF_HEADER] = token
    return client.post(UPDATE_URL, json=body, headers=headers)


def find_dependency(deps: list[dict[str, Any]], output_fragment: str) -> dict[str, Any]:
    matches = [d for d in deps if output_fragment in d["output"]]
    assert len(matches) == 1, (output_fragment, [d["output"] for d in deps])
    return matches[0]


def texts(component: Any) -> str:
    """All text in a Dash component tree, joined by spaces (for assertions on presenters).

    A lazy fold's content (``layouts.components.lazy_fold``: JSON text in a store until the
    fold is opened) counts as the text it draws."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(texts(c) for c in component)
    folded = unfolded(component)
    if folded is not None:
        return texts(folded)
    return texts(getattr(component, "children", None))


_NAMESPACES = {
    "dash_html_components": "dash.html",
    "dash_core_components": "dash.dcc",
    "dash_bootstrap_components": "dash_bootstrap_components",
}


def from_json(value: Any) -> Any:
    """A component tree back from the JSON the renderer reads (lists and text as they are)."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not (isinstance(value, dict) and {"type", "namespace", "props"} <= set(value)):
        return value
    module = importlib.import_module(_NAMESPACES[value["namespace"]])
    props = dict(value["props"])
    if "children" in props:
        props["children"] = from_json(props["children"])
    return getattr(module, value["type"])(**props)


def unfolded(component: Any) -> Any:
    """A lazy fold's or a deferred chart's content (``layouts.components.lazy_fold`` and
    ``deferred``: JSON text in a store until the fold is first opened or the chart's place
    comes near the screen) as components; None for any other component."""
    key = getattr(component, "id", None)
    if isinstance(key, dict) and key.get("type") in (ids.LAZY_FOLD_STORE, ids.DEFERRED_STORE):
        return from_json(json.loads(component.data))
    return None


def find_ids(component: Any) -> list[Any]:
    """Every component ID in a tree."""
    found: list[Any] = []
    if isinstance(component, list | tuple):
        for child in component:
            found += find_ids(child)
        return found
    if component is None or isinstance(component, str | int | float):
        return found
    component_id = getattr(component, "id", None)
    if component_id is not None:
        found.append(component_id)
    return found + find_ids(getattr(component, "children", None))
