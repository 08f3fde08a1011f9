"""A signed-in client that loads a page as the Dash renderer does and times each callback.

``bench_ui`` fires the page's callbacks in the order the renderer would (a callback runs once
its inputs exist and no pending callback still writes them), applying every response to the
page so that chained callbacks see real values; ``bench_load`` does the same over HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from triage.cli.bench_common import BenchError

UPDATE_URL = "/_dash-update-component"
CSRF_HEADER = "X-CSRFToken"
CSRF_SESSION_KEY = "csrf_token"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")
# A page whose callbacks keep triggering each other is cut off after this many requests.
MAX_REQUESTS_PER_LOAD = 60


# ---------------------------------------------------------------- the page as the renderer sees it


def _key(component_id: Any) -> str:
    """Dash's string form of an id (dict ids as compact JSON with sorted keys)."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def _spec_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def _is_component(value: Any) -> bool:
    return isinstance(value, dict) and "props" in value and "type" in value


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every component in a layout tree, props included (options may hold components)."""
    if _is_component(value):
        yield value
        for prop in value["props"].values():
            yield from _walk(prop)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)


def _index(tree: Any) -> dict[str, dict[str, Any]]:
    return {_key(c["props"]["id"]): c for c in _walk(tree) if c["props"].get("id") is not None}


def _matches(pattern: Any, component_id: Any) -> bool:
    if not isinstance(pattern, dict):
        return pattern == component_id
    if not isinstance(component_id, dict) or set(pattern) != set(component_id):
        return False
    return all(isinstance(v, list) or component_id[k] == v for k, v in pattern.items())


def _output_specs(dependency: dict[str, Any]) -> list[tuple[Any, str]]:
    output = dependency["output"]
    parts = (
        [p for p in output.strip(".").split("...") if p] if output.startswith("..") else [output]
    )
    specs = []
    for part in parts:
        raw, prop = part.rsplit(".", 1)
        specs.append((_spec_id(raw.split("@")[0]), prop.split("@")[0]))
    return specs


@dataclass
class _Callback:
    dependency: dict[str, Any]
    inputs: list[tuple[Any, str]]
    state: list[tuple[Any, str]]
    outputs: list[tuple[Any, str]]

    @property
    def name(self) -> str:
        return self.dependency["output"]


def _callbacks(dependencies: Sequence[dict[str, Any]]) -> list[_Callback]:
    found = []
    for dependency in dependencies:
        if dependency.get("clientside_function") or dependency["output"] == ROUTER_OUTPUT:
            continue
        found.append(
            _Callback(
                dependency,
                [(_spec_id(s["id"]), s["property"]) for s in dependency["inputs"]],
                [(_spec_id(s["id"]), s["property"]) for s in dependency["state"]],
                _output_specs(dependency),
            )
        )
    return found


class _Page:
    """The layout tree of one loaded page, with the callbacks that may fire on it."""

    def __init__(self, shell: Any, callbacks: list[_Callback]) -> None:
        self.tree = shell
        self.index = _index(shell)
        self.callbacks = callbacks

    def ids(self) -> list[Any]:
        return [c["props"]["id"] for c in self.index.values()]

    def value(self, component_id: Any, prop: str) -> Any:
        component = self.index.get(_key(component_id))
        return None if component is None else component["props"].get(prop)

    def present(self, pattern: Any) -> list[Any]:
        return [i for i in self.ids() if _matches(pattern, i)]

    def set(self, component_id: Any, prop: str, value: Any) -> set[str]:
        """Apply one prop; returns the keys of components that the change added."""
        component = self.index.get(_key(component_id))
        if component is None:
            return set()
        component["props"][prop] = value
        before = set(self.index)
        if _is_component(value) or isinstance(value, list | dict):
            self.index = _index(self.tree)
        return set(self.index) - before

    def invocations(self, callback: _Callback) -> list[dict[str, Any]]:
        """Request bodies for a callback on this page (one per MATCH value), or [] if an input
        is missing."""
        match_values: list[dict[str, Any]] = [{}]
        for pattern, _prop in callback.inputs:
            if isinstance(pattern, dict) and any(v == ["MATCH"] for v in pattern.values()):
                keys = [k for k, v in pattern.items() if v == ["MATCH"]]
                match_values = [{k: i[k] for k in keys} for i in self.present(pattern)]
                break
        bodies = []
        for fixed in match_values:
            body = self._body(callback, fixed)
            if body is not None:
                bodies.append(body)
        return bodies

    def _entry(self, pattern: Any, prop: str, fixed: dict[str, Any]) -> Any:
        if isinstance(pattern, dict) and any(isinstance(v, list) for v in pattern.values()):
            concrete = {k: (fixed.get(k, v) if v == ["MATCH"] else v) for k, v in pattern.items()}
            if all(not isinstance(v, list) for v in concrete.values()):
                if _key(concrete) not in self.index:
                    return None
                return {"id": concrete, "property": prop, "value": self.value(concrete, prop)}
            return [
                {"id": i, "property": prop, "value": self.value(i, prop)}
                for i in self.present(concrete)
            ]
        if _key(pattern) not in self.index:
            return None
        return {"id": pattern, "property": prop, "value": self.value(pattern, prop)}

    def _body(self, callback: _Callback, fixed: dict[str, Any]) -> dict[str, Any] | None:
        inputs = [self._entry(p, prop, fixed) for p, prop in callback.inputs]
        if any(entry is None for entry in inputs):
            return None
        state = [self._entry(p, prop, fixed) for p, prop in callback.state]
        if any(entry is None for entry in state):
            return None
        outputs = [self._entry(p, prop, fixed) for p, prop in callback.outputs]
        if any(entry is None for entry in outputs):
            return None
        shaped = [
            [{"id": e["id"], "property": e["property"]} for e in o]
            if isinstance(o, list)
            else {"id": o["id"], "property": o["property"]}
            for o in outputs
        ]
        return {
            "output": callback.name,
            "outputs": shaped if callback.name.startswith("..") else shaped[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": [],
        }


# ---------------------------------------------------------------- one signed-in browser


class PageVisitor:
    """A signed-in test client that loads pages and records how long each callback took."""

    def __init__(
        self, client: Any, timings: dict[str, list[float]], token: str | None = None
    ) -> None:
        """``token``: the CSRF token, when the client is not Flask's test client (whose
        session it is read from otherwise)."""
        self.client = client
        self.timings = timings
        self.cpu: dict[str, list[float]] = {}
        self.requests = 0
        response = client.get("/_dash-layout")
        if response.status_code != 200:
            raise BenchError(f"/_dash-layout answered {response.status_code}")
        self.shell = response.get_json()
        deps = client.get("/_dash-dependencies")
        if deps.status_code != 200:
            raise BenchError(f"/_dash-dependencies answered {deps.status_code}")
        self.dependencies = deps.get_json()
        self.router = next(d for d in self.dependencies if d["output"] == ROUTER_OUTPUT)
        self.callbacks = _callbacks(self.dependencies)
        if token is None:
            with client.session_transaction() as session:
                token = session.get(CSRF_SESSION_KEY)
        self.token = token

    def post(self, body: dict[str, Any], label: str) -> Any:
        self.requests += 1
        started, cpu_started = time.perf_counter(), time.process_time()
        response = self.client.post(UPDATE_URL, json=body, headers={CSRF_HEADER: self.token})
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu.setdefault(label, []).append((time.process_time() - cpu_started) * 1000)
        if response.status_code not in (200, 204):
            raise BenchError(
                f"{label} answered {response.status_code}: {response.get_data(as_text=True)[:200]}"
            )
        self.timings.setdefault(label, []).append(elapsed)
        return response.get_json() if response.status_code == 200 else None

    def load(self, path: str, clicks: Sequence[str]) -> None:
        pathname, _, search = path.partition("?")
        page = _Page(json.loads(json.dumps(self.shell)), self.callbacks)
        router = {
            "output": ROUTER_OUTPUT,
            "outputs": [
                {"id": "_pages_content", "property": "children"},
                {"id": "_pages_store", "property": "data"},
            ],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {
                    "id": "_pages_location",
                    "property": "search",
                    "value": f"?{search}" if search else "",
                },
            ],
            "state": [],
            "changedPropIds": ["_pages_location.pathname"],
        }
        result = self.post(router, "pages router")
        added = set()
        for key, props in (result or {}).get("response", {}).items():
            for prop, value in props.items():
                added |= page.set(_spec_id(key), prop, value)
        queue = [
            c
            for c in self.callbacks
            if not c.dependency.get("prevent_initial_call")
            and any(_key(i) in added for p, _ in c.inputs for i in page.present(p))
        ]
        self._drain(page, queue)
        for button in clicks:
            if _key(button) not in page.index:
                continue
            page.set(button, "n_clicks", 1)
            self._drain(page, self._listeners(page, button, "n_clicks"))

    def _listeners(self, page: _Page, component_id: Any, prop: str) -> list[_Callback]:
        return [
            c
            for c in self.callbacks
            if any(p == prop and _matches(i, component_id) for i, p in c.inputs)
        ]

    def _drain(self, page: _Page, queue: list[_Callback]) -> None:
        sent = 0
        while queue and sent < MAX_REQUESTS_PER_LOAD:
            ready = next((c for c in queue if not self._waits(c, queue)), queue[0])
            queue.remove(ready)
            for body in page.invocations(ready):
                first, prop = ready.inputs[0]
                body["changedPropIds"] = [f"{_key(first)}.{prop}"]
                sent += 1
                result = self.post(body, ready.name)
                for key, props in (result or {}).get("response", {}).items():
                    component_id = _spec_id(key)
                    for prop_name, value in props.items():
                        added = page.set(component_id, prop_name, value)
                        triggered = self._listeners(page, component_id, prop_name)
                        triggered += [
                            c
                            for c in self.callbacks
                            if not c.dependency.get("prevent_initial_call")
                            and any(_key(i) in added for p, _ in c.inputs for i in page.present(p))
                        ]
                        # As the renderer: a callback's own outputs never call it again.
                        queue += [c for c in triggered if c not in queue and c is not ready]

    @staticmethod
    def _waits(callback: _Callback, queue: Sequence[_Callback]) -> bool:
        """True while another queued callback still writes one of this one's inputs (the
        renderer holds a callback back until its inputs have settled)."""
        inputs = {(_key(i), p) for i, p in callback.inputs}
        return any(
            (_key(o), p) in inputs
            for other in queue
            if other is not callback
            for o, p in other.outputs
        )
