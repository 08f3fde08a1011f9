"""Hostile values in every input of every callback (the role matrix's list), and malformed
bodies: 200, 204 or 400, never a 500 or a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import flask
import pytest
from dash._utils import stringify_id
from flask.testing import FlaskClient
from werkzeug.exceptions import BadRequest

from callbacks import policy
from tests import webutil
from tests.app.test_security_matrix import CALLBACK_VALUES, CLIENTSIDE, EXPECTED_CALLBACKS
from tests.webutil import CSRF_HEADER, UPDATE_URL, WebEnv, csrf_from_session, signed_in_client
from triage.security import Capability, Principal, Role
from triage.validation import ValidationError

SERVER_CALLBACKS = sorted(o for o, roles in EXPECTED_CALLBACKS.items() if roles != CLIENTSIDE)


def _short(output: str) -> str:
    """A test id: the callback's first output."""
    return output.strip(".").split("...")[0]


ALLOWED = (200, 204, 400)
CLICKS = ("n_clicks", "submit_n_clicks")


def _nested(depth: int, kind: str) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


# Sent as JSON: NaN and Infinity go out as the bare tokens Python's parser accepts.
HOSTILE: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**31,
    10**30,
    1e308,
    0.5,
    float("nan"),
    float("inf"),
    "",
    "x" * 100_000,
    "NaN",
    "-Infinity",
    "1e999",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "%{customdata}",
    "\x00\ud800",
    [],
    [None],
    ["a", 1, None],
    list(range(20_000)),
    {},
    {"a": 1},
    {"points": [{"customdata": ["x"]}]},
    _nested(20, "list"),
    _nested(20, "dict"),
    _nested(40, "list"),
    _nested(40, "dict"),
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("fuzz"))
    web.client().get("/healthz")  # Dash registers its Pages callbacks on the first request
    yield web
    web.dispose()


@pytest.fixture(scope="module")
def clients(env: WebEnv) -> dict[Role, FlaskClient]:
    usernames = {Role.ADMIN: "admin", Role.CHIEF_OF_STAFF: "chief"}
    return {role: signed_in_client(env, name) for role, name in usernames.items()}


@pytest.fixture(scope="module")
def deps(clients: dict[Role, FlaskClient]) -> dict[str, dict]:
    return {d["output"]: d for d in webutil.dependencies(clients[Role.ADMIN])}


def _client(clients: dict[Role, FlaskClient], output: str) -> FlaskClient:
    """The chief of staff where she may run the callback (she may also act on alerts and
    decide, so the values reach the writes behind it), else the administrator."""
    roles = EXPECTED_CALLBACKS[output]
    assert roles != CLIENTSIDE
    return clients[Role.CHIEF_OF_STAFF] if Role.CHIEF_OF_STAFF in roles else clients[Role.ADMIN]


def _post(client: FlaskClient, body: Any) -> Any:
    """POST raw JSON (``allow_nan``: a hostile client sends the tokens too)."""
    headers = {CSRF_HEADER: csrf_from_session(client) or "", "Content-Type": "application/json"}
    return client.post(UPDATE_URL, data=json.dumps(body), headers=headers)


def _check(response: Any, what: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code in ALLOWED, (what, response.status_code, text[:500])
    assert "Traceback" not in text and 'File "' not in text, (what, text[:500])
    if response.status_code == 400:
        assert response.get_json()["error"] == "bad_request", (what, text[:300])


def _concrete(raw_id: str) -> Any:
    """A component id for a spec: a pattern-matching id gets plausible values."""
    if not raw_id.startswith("{"):
        return raw_id
    pattern = json.loads(raw_id)
    return {
        k: (1 if k == "index" else "x") if isinstance(v, list) else v for k, v in pattern.items()
    }


def _baseline(dep: dict) -> dict[str, Any]:
    """Values that let a callback run past its first checks: clicks of 1, known values."""
    values = dict(CALLBACK_VALUES)
    for spec in dep["inputs"] + dep["state"]:
        key = f"{spec['id']}.{spec['property']}"
        if spec["property"] in CLICKS and not spec["id"].startswith("{"):
            values.setdefault(key, 1)
    return values


def _body(dep: dict, index: int | None, hostile: Any) -> dict:
    """A request for ``dep`` with ``hostile`` as the value of spec ``index`` (None: all)."""
    body = webutil.callback_body(dep, _baseline(dep))
    specs = dep["inputs"] + dep["state"]
    targets = range(len(specs)) if index is None else [index]
    changed = []
    for i in targets:
        spec = specs[i]
        component_id = _concrete(spec["id"])
        entry = {"id": component_id, "property": spec["property"], "value": hostile}
        many = spec["id"].startswith("{") and '["ALL"]' in spec["id"]
        place = ("inputs", i) if i < len(dep["inputs"]) else ("state", i - len(dep["inputs"]))
        body[place[0]][place[1]] = [entry] if many else entry
        if place[0] == "inputs":
            changed.append(f"{stringify_id(component_id)}.{spec['property']}")
    body["changedPropIds"] = changed[:1] or body["changedPropIds"]
    return body


@pytest.mark.parametrize("output", SERVER_CALLBACKS, ids=_short)
def test_fuzz001_hostile_value_in_each_input_of_each_callback(
    clients: dict[Role, FlaskClient], deps: dict[str, dict], output: str
) -> None:
    dep = deps[output]
    client = _client(clients, output)
    for index, spec in enumerate(dep["inputs"] + dep["state"]):
        for hostile in HOSTILE:
            response = _post(client, _body(dep, index, hostile))
            _check(response, f"{spec['id']}.{spec['property']} = {repr(hostile)[:60]}")


@pytest.mark.parametrize("output", SERVER_CALLBACKS, ids=_short)
def test_fuzz002_hostile_values_in_every_input_at_once_and_wrong_shapes(
    clients: dict[Role, FlaskClient], deps: dict[str, dict], output: str
) -> None:
    dep = deps[output]
    client = _client(clients, output)
    for hostile in HOSTILE:
        _check(_post(client, _body(dep, None, hostile)), f"every input = {repr(hostile)[:60]}")
    valid = webutil.callback_body(dep, _baseline(dep))
    broken: list[dict[str, Any]] = [
        {"inputs": None},
        {"inputs": "x"},
        {"inputs": [*valid["inputs"], valid["inputs"][0] if valid["inputs"] else {}]},
        {"inputs": [None] * len(valid["inputs"])},
        {"inputs": [[] if isinstance(e, dict) else {} for e in valid["inputs"]]},
        {"state": {"a": 1}},
        {"state": [*valid["state"], {"id": "x", "property": "y", "value": 1}]},
        {"outputs": None},
        {"outputs": []},
        {"outputs": {"id": ["x"], "property": 1}},
        {"changedPropIds": "x"},
        {"changedPropIds": [None, {}]},
    ]
    for change in broken:
        response = _post(client, {**valid, **change})
        _check(response, f"body with {change}")
        assert response.status_code == 400, (change, response.get_data(as_text=True)[:300])


def test_fuzz003_deeply_nested_and_non_finite_bodies_are_400(
    clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    client = clients[Role.ADMIN]
    headers = {CSRF_HEADER: csrf_from_session(client) or "", "Content-Type": "application/json"}
    output = next(o for o in SERVER_CALLBACKS if "home-problems-div" in o)
    valid = webutil.callback_body(deps[output], CALLBACK_VALUES)
    deep = "[" * 100_000 + "]" * 100_000  # RecursionError in Python's JSON parser: was a 500
    bodies = [
        deep,
        '{"output": ' + deep + "}",
        json.dumps({**valid, "extra": _nested(40, "dict")}),
        json.dumps(valid).replace('"inputs": [', '"inputs": [NaN, ', 1),
        json.dumps({**valid, "changedPropIds": [10**40]}),
    ]
    for body in bodies:
        response = client.post(UPDATE_URL, data=body, headers=headers)
        _check(response, body[:80])
        assert response.status_code == 400, body[:80]
    assert _post(client, valid).status_code == 200  # the same callback, well formed


def test_fuzz004_null_pathname_and_wrong_types_are_400_not_200(
    clients: dict[Role, FlaskClient], deps: dict[str, dict]
) -> None:
    client = clients[Role.ADMIN]
    router = deps[policy.PAGES_ROUTER_OUTPUT]
    null_path = webutil.callback_body(router, {**CALLBACK_VALUES, "_pages_location.pathname": None})
    assert _post(client, null_path).status_code == 400  # was a 500 inside Dash's router
    assert _post(client, webutil.callback_body(router, CALLBACK_VALUES)).status_code == 200
    cases = {
        "home-problems-div": {"home-area-select.value": {"a": 1}},
        "reports-recent-div": {"reports-from-input.value": ["2026-01-01"]},
        "alerts-summary-div": {"alerts-selected-store.data": {"id": 1}},
        "alerts-feed-div": {"alerts-feed-page-store.data": "2"},
        "department-feedback-div": {"department-note-textarea.value": 5},
        "priorities-nav-location": {"priorities-quadrant-graph.clickData": "x"},
    }
    for fragment, values in cases.items():
        dep = webutil.find_dependency(list(deps.values()), fragment)
        response = _post(client, webutil.callback_body(dep, {**CALLBACK_VALUES, **values}))
        assert response.status_code == 400, (fragment, response.get_data(as_text=True)[:300])
        assert response.get_json()["error"] == "bad_request"


def test_fuzz005_validation_error_out_of_a_callback_is_a_400(env: WebEnv) -> None:
    def refuses(*_args: Any, principal: Principal) -> None:
        raise ValidationError("That week does not exist.")

    wrapped = policy.secured(Capability.VIEW_CITY, refuses)
    with env.app.server.test_request_context("/_dash-update-component", method="POST"):
        flask.g.setdefault(policy.PRINCIPAL_ATTR, env.principal("mayor"))
        with pytest.raises(BadRequest) as raised:
            wrapped("2026-W99")
    response = raised.value.get_response()
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": "That week does not exist."}


def test_fuzz006_unknown_component_suite_package_is_404(env: WebEnv) -> None:
    client = env.client()
    for path in ("/_dash-component-suites/unknown/x.js", "/_dash-component-suites/os/x.js"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "Traceback" not in response.get_data(as_text=True)


def test_fuzz007_every_input_of_every_callback_has_a_checked_type(env: WebEnv) -> None:
    """A new input whose type cannot be known (a property of a component made by a callback,
    missing from ``policy.PROPERTY_TYPES``) fails here: declare it with ``expect=``."""
    types = policy.input_types(env.app)
    assert {output for output, _id, _prop in types} == set(SERVER_CALLBACKS)
    untyped = [key for key, expected in types.items() if expected is Any]
    assert not untyped, untyped
    feed = next(o for o in SERVER_CALLBACKS if o.startswith("..alerts-summary-div"))
    assert types[(feed, "alerts-selected-store", "data")] == int | None
    assert types[(feed, "alerts-feed-page-store", "data")] == int | None


def test_fuzz008_conforms_reads_dash_component_types() -> None:
    path = Annotated[str, policy.Holds(lambda p: p.startswith("/"))]
    cases: list[tuple[Any, Any, bool]] = [
        (1, int | float | None, True),
        (True, int | float | None, False),
        ("1", int | float | None, False),
        (None, str | None, True),
        (["a", 2], list[str | int], True),
        (["a", None], list[str | int], False),
        ("abc", list[str], False),
        ({"a": 1}, dict, True),
        ([], dict, False),
        ("/x", path, True),
        ("x", path, False),
        (None, path, False),
        (3, list[int] | None, False),
    ]
    for value, annotation, expected in cases:
        assert policy.conforms(value, annotation) is expected, (value, annotation)
    assert policy.json_bounds_error({"a": [[[1]]]}) is None
    assert "nested" in (policy.json_bounds_error([[[[1]]]], max_depth=3) or "")
    assert "finite" in (policy.json_bounds_error([float("nan")]) or "")
    assert "NUL" in (policy.json_bounds_error({"a": "x\x00"}) or "")
    assert "NUL" in (policy.json_bounds_error(["\ud800"]) or "")
