"""The one way to register a callback: ``secured_callback(app, capability, ...)``.

Each registration records ``output → Capability`` on the app (the guard refuses a callback POST
whose output is unknown or whose capability the role lacks) and wraps the function so that it
resolves the signed-in Principal and calls ``triage.security.require`` before running.

A malformed callback POST (``callback_request_error``) or a ``ValidationError`` out of a callback
is a 400, never a 500.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import functools
import inspect
import json
import math
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import dash
import flask
from dash.development.base_component import Component
from werkzeug.exceptions import BadRequest

from db.session import Database
from triage.security import Capability, PermissionDenied, Principal, require
from triage.settings import Settings
from triage.validation import ValidationError

POLICY_KEY = "triage_policy"
DATABASE_KEY = "triage_db"
SETTINGS_KEY = "triage_settings"
PRINCIPAL_ATTR = "triage_principal"
# Dash Pages' router: registered by Dash on the first request; it only renders page skeletons
# (each page layout is itself gated by role in ``layouts.gated_layout``).
PAGES_ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
PAGES_TITLE_OUTPUT = "_pages_dummy.children"
COMPONENTS_KEY = "triage_components"
BODY_ATTR = "triage_callback_body"

# Limits of a callback POST (the body as a whole is capped by MAX_CONTENT_LENGTH, a 413).
MAX_JSON_DEPTH = 32  # a real request nests about 8 deep; Python's parser gives up near 1000
MAX_TEXT_LENGTH = 20_000  # characters in one input value (the longest field we keep is 20,000)
MAX_ITEMS = 10_000  # items in one list value, and entries of a pattern-matching input
MAX_SAFE_INTEGER = 2**53  # a browser cannot send a larger integer exactly
# Component properties that carry data rather than what a person typed: no size limit of
# their own (stores round-trip what our callbacks wrote; an upload is capped by the body).
UNBOUNDED_PROPERTIES = frozenset({("Store", "data"), ("Upload", "contents")})
# Types of properties of components a callback creates (pattern-matching ids), which the
# validation layout cannot show: the convention of Dash's own components.
NUMBER = int | float
PROPERTY_TYPES: dict[str, Any] = {
    "n_clicks": NUMBER | None,
    "submit_n_clicks": NUMBER | None,
    "cancel_n_clicks": NUMBER | None,
    "id": str | dict,
    "value": str | NUMBER | bool | list[str | NUMBER | bool] | None,
}
NUMBER_TYPES = frozenset(
    {
        float,
        complex,
        typing.SupportsFloat,
        typing.SupportsInt,
        typing.SupportsComplex,
    }
)


@dataclass(frozen=True)
class CallbackRule:
    """What a POST to one callback output requires; clientside callbacks never run on the server."""

    output: str
    capability: Capability | None
    function: str
    clientside: bool = False
    # (component id, property) → the type its value must have (e.g. ``list[int] | None`` for
    # a store); other inputs take the type their component declares for that property.
    expect: Mapping[tuple[str, str], Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Holds:
    """A condition on a value beyond its type: ``Annotated[str, Holds(str.isdigit)]``."""

    test: Callable[[Any], bool]


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
        try:
            return function(*args, principal=principal, **kwargs)
        except ValidationError as error:
            # Input the callback could not use; Dash passes the exception on to Flask, which
            # answers an HTTPException with its response (PreventUpdate would be a 204).
            raise bad_request(str(error)) from error

    return wrapper


def bad_request(message: str) -> BadRequest:
    """A 400 whose JSON body matches the guard's other refusals."""
    if not flask.has_app_context():
        return BadRequest(message)
    response = flask.jsonify(error="bad_request", message=message)
    response.status_code = 400
    response.headers["Cache-Control"] = "no-store"
    return BadRequest(message, response=response)


def secured_callback(
    app: dash.Dash,
    capability: Capability,
    *args: Any,
    expect: Mapping[tuple[str, str], Any] | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: ``app.callback(*args, **kwargs)`` guarded by ``capability``.

    ``expect`` maps ``(component id, property)`` of an input or state to the type its value
    must have, for properties whose component declares none of use (a store's ``data``).
    Returns the undecorated function so that tests can call it directly.
    """
    if capability is Capability.PUBLIC:
        raise ValueError("Dash callbacks always need a session; PUBLIC is for the sign-in page")

    def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
        before = set(app.callback_map)
        app.callback(*args, **kwargs)(secured(capability, function))
        for output in _new_outputs(app, before):
            callback = app.callback_map[output]
            declared = {(s["id"], s["property"]) for s in callback["inputs"] + callback["state"]}
            if set(expect or {}) - declared:
                raise ValueError(f"expect= names no input of {output}: {set(expect or {})}")
            _registry(app)[output] = CallbackRule(
                output,
                capability,
                f"{function.__module__}.{function.__name__}",
                expect=dict(expect or {}),
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
    prefix = str(app.config.requests_pathname_prefix or "/")
    # The router takes a path under the app's prefix: a null pathname, or one outside the
    # prefix, was a 500 inside Dash.
    pathname = typing.Annotated[str, Holds(lambda path: path.startswith(prefix))]
    registry[PAGES_ROUTER_OUTPUT] = CallbackRule(
        PAGES_ROUTER_OUTPUT,
        Capability.VIEW_CITY,
        "dash.pages.router",
        expect={
            ("_pages_location", "pathname"): pathname,
            ("_pages_location", "search"): str | None,
        },
    )
    registry[PAGES_TITLE_OUTPUT] = CallbackRule(
        PAGES_TITLE_OUTPUT, None, "dash.pages.title", clientside=True
    )


# ---------------------------------------------------------------- malformed callback requests


def json_bounds_error(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON value is out of bounds (too deep, a non-finite or unsafe number, text
    no database stores), or None. Iterative, so that no nesting can exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return f"The request is nested more than {max_depth} levels deep."
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, float) and not math.isfinite(item):
            return "The request holds a number that is not finite."
        elif isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            return "The request holds an integer too large to be exact."
        elif isinstance(item, str) and not _storable(item):
            return "The request holds text with a NUL or an unpaired surrogate."
    return None


def _storable(text: str) -> bool:
    """Text that UTF-8 and both databases take (PostgreSQL refuses NUL in text)."""
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def conforms(value: Any, annotation: Any) -> bool:
    """True when a JSON value fits a type annotation (as Dash components declare them).

    Numbers are ints or floats (never booleans); sequences are JSON arrays, checked item by
    item; mappings and TypedDicts are objects. Anything else (a component, a forward
    reference) is not checked here.
    """
    if annotation is Any or annotation is object:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        conditions = [m for m in annotation.__metadata__ if isinstance(m, Holds)]
        return conforms(value, args[0]) and all(c.test(value) for c in conditions)
    if origin is typing.Union or origin is types.UnionType:
        return any(conforms(value, option) for option in args)
    if origin is typing.Literal:
        return any(value == option and type(value) is type(option) for option in args)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in NUMBER_TYPES:
        return isinstance(value, int | float) and not isinstance(value, bool)
    container = origin or annotation
    if container in (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence):
        if not isinstance(value, list):
            return False
        return not args or all(conforms(item, args[0]) for item in value)
    if container in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return isinstance(value, dict)
    if typing.is_typeddict(annotation):
        return isinstance(value, dict)
    return True


def _walk(node: Any) -> Iterator[Component]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Component):
            yield item
            stack.extend(getattr(item, name, None) for name in item._prop_names)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def _component_classes(app: dash.Dash) -> dict[str, type[Component]]:
    """Component class by id in the validation layout (a pattern-matching id by its type)."""
    classes = app.server.extensions.get(COMPONENTS_KEY)
    if classes is None:
        layout = app.validation_layout
        if callable(layout):
            layout = layout()
        classes = {}
        for component in _walk(layout):
            component_id = getattr(component, "id", None)
            if isinstance(component_id, dict):
                component_id = component_id.get("type")
            if isinstance(component_id, str):
                classes.setdefault(component_id, type(component))
        app.server.extensions[COMPONENTS_KEY] = classes
    return classes


@functools.cache
def _property_type(component: type[Component], prop: str) -> Any:
    parameter = inspect.signature(component.__init__).parameters.get(prop)
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return PROPERTY_TYPES.get(prop, Any)
    return parameter.annotation


def _pattern(raw_id: str) -> dict[str, Any] | None:
    if not raw_id.startswith("{"):
        return None
    pattern = json.loads(raw_id)
    return pattern if isinstance(pattern, dict) else None


def _id_matches(sent: Any, raw_id: str, pattern: dict[str, Any] | None) -> bool:
    if pattern is None:
        return sent == raw_id
    if not isinstance(sent, dict) or set(sent) != set(pattern):
        return False
    for key, wanted in pattern.items():
        value = sent[key]
        if isinstance(value, dict | list) or value is None:
            return False
        if not isinstance(wanted, list) and value != wanted:
            return False
    return True


def _entry_error(spec: Mapping[str, str], entry: Any, pattern: dict[str, Any] | None) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("property"), str):
        return "is not an input entry"
    if entry["property"].split("@")[0] != spec["property"].split("@")[0]:
        return "names another property"
    if not _id_matches(entry.get("id"), spec["id"], pattern):
        return "names another component"
    return ""


def _expected_type(
    app: dash.Dash, rule: CallbackRule, spec: Mapping[str, str], pattern: dict[str, Any] | None
) -> tuple[Any, bool]:
    """The type a value must have and whether its size is limited."""
    key = (spec["id"], spec["property"])
    if key in rule.expect:
        return rule.expect[key], True
    name = pattern.get("type") if pattern else spec["id"]
    component = _component_classes(app).get(name) if isinstance(name, str) else None
    if component is None:
        return PROPERTY_TYPES.get(spec["property"], Any), True
    bounded = (component.__name__, spec["property"]) not in UNBOUNDED_PROPERTIES
    return _property_type(component, spec["property"]), bounded


def input_types(app: dash.Dash) -> dict[tuple[str, str, str], Any]:
    """(output, component id, property) → the type each input and state value of each server
    callback must have (what ``callback_request_error`` checks)."""
    types_by_input: dict[tuple[str, str, str], Any] = {}
    for output, rule in _registry(app).items():
        callback = app.callback_map.get(output)
        if rule.clientside or callback is None:
            continue
        for spec in callback["inputs"] + callback["state"]:
            expected, _bounded = _expected_type(app, rule, spec, _pattern(spec["id"]))
            types_by_input[(output, spec["id"], spec["property"])] = expected
    return types_by_input


def _size_error(value: Any) -> str | None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and len(item) > MAX_TEXT_LENGTH:
            return f"is longer than {MAX_TEXT_LENGTH:,} characters"
        if isinstance(item, list | dict):
            if len(item) > MAX_ITEMS:
                return f"has more than {MAX_ITEMS:,} items"
            stack.extend(item.values() if isinstance(item, dict) else item)
    return None


def _value_errors(
    app: dash.Dash, rule: CallbackRule, specs: list[dict[str, str]], entries: Any, kind: str
) -> Iterator[str]:
    if not isinstance(entries, list) or len(entries) != len(specs):
        yield f"The {kind} do not match the callback."
        return
    for spec, sent in zip(specs, entries, strict=True):
        label = f"{spec['id']}.{spec['property']}"
        pattern = _pattern(spec["id"])
        many = pattern is not None and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())
        if many and (not isinstance(sent, list) or len(sent) > MAX_ITEMS):
            yield f"The {kind} entry for {label} is not a list of entries."
            continue
        expected, bounded = _expected_type(app, rule, spec, pattern)
        for entry in sent if many else [sent]:
            problem = _entry_error(spec, entry, pattern)
            if problem:
                yield f"The {kind} entry for {label} {problem}."
                break
            value = entry.get("value")
            if not conforms(value, expected):
                yield f"The value of {label} has the wrong type."
                break
            size = _size_error(value) if bounded else None
            if size:
                yield f"The value of {label} {size}."
                break


def _output_errors(callback: Mapping[str, Any], sent: Any) -> Iterator[str]:
    if callback.get("no_output"):
        return
    registered = callback["output"]
    many = isinstance(registered, list | tuple)
    specs = list(registered) if many else [registered]
    entries = sent if many else [sent]
    if not isinstance(entries, list) or len(entries) != len(specs):
        yield "The outputs do not match the callback."
        return
    for output, entry in zip(specs, entries, strict=True):
        raw_id = output.component_id_str()
        spec = {"id": raw_id, "property": output.component_property}
        pattern = _pattern(raw_id)
        for item in entry if isinstance(entry, list) and pattern else [entry]:
            if _entry_error(spec, item, pattern):
                yield f"The output {raw_id}.{output.component_property} does not match."
                return


def callback_request_error(app: dash.Dash, body: Any) -> str | None:
    """Why a ``/_dash-update-component`` body is malformed for its callback, or None.

    Checked: outputs, inputs and state as the callback declares them (ids, properties, lists
    for pattern-matching ones), each value's JSON type and size, ``changedPropIds``. Dash
    itself would answer most of these with a 500 (or hand the callback a value of a type
    it never expects).
    """
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return "The request names no callback."
    output = body["output"]
    callback = app.callback_map.get(output)
    rule = _registry(app).get(output)
    if callback is None or rule is None:
        return "The request names no callback."
    problems = [
        *_output_errors(callback, body.get("outputs")),
        *_value_errors(app, rule, callback["inputs"], body.get("inputs", []), "inputs"),
        *_value_errors(app, rule, callback["state"], body.get("state", []), "state"),
    ]
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or len(changed) > MAX_ITEMS:
        problems.append("changedPropIds is not a list.")
    elif not all(isinstance(c, str) and len(c) <= MAX_TEXT_LENGTH for c in changed):
        problems.append("changedPropIds holds something other than property names.")
    return problems[0] if problems else None
