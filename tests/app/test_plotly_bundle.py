"""The trimmed plotly.js bundle: served where Dash's graphs fetch plotly.js, of the plotly
Python package's plotly.js version, and holding every trace type the pages draw."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

import app as composition_root
from tests.webutil import WebEnv

ROOT = Path(__file__).resolve().parents[2]
BANNER = re.compile(rb"^/\*! plotly\.js (?P<version>[\d.]+) .*?traces: (?P<traces>[a-z0-9, ]+) \*/")
PLOTLY_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"


def _banner() -> re.Match[bytes]:
    head = composition_root.PLOTLY_BUNDLE.read_bytes()[:300]
    match = BANNER.match(head)
    assert match, head[:120]
    return match


def _bundled_traces() -> set[str]:
    return {t.strip() for t in _banner()["traces"].decode().split(",")}


@functools.cache
def _known_trace_types() -> frozenset[str]:
    """Every trace type plotly knows (``graph_objects`` loads its classes lazily)."""
    classes = [getattr(go, name, None) for name in dir(go)]
    known = frozenset(
        cls.__name__.lower()
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, BaseTraceType) and cls is not BaseTraceType
    )
    assert {"scatter", "sankey", "choroplethmap"} <= known
    return known


def _trace_types_in(source: str) -> set[str]:
    """Trace types a module builds: ``"type": "<trace>"`` in a dict literal, or ``go.<Trace>(``."""
    known = _known_trace_types()
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and value.value in known
                ):
                    found.add(value.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "go"
            and node.func.attr.lower() in known
        ):
            found.add(node.func.attr.lower())
    return found


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("plotly"))
    yield web
    web.dispose()


def test_plot001_the_bundle_is_the_plotly_python_packages_version() -> None:
    """A plotly upgrade changes the figures' schema: rebuild with scripts/build-plotly-bundle."""
    assert _banner()["version"].decode() == get_plotlyjs_version()


def test_plot002_every_trace_type_the_pages_draw_is_in_the_bundle() -> None:
    """A trace type missing from the bundle draws nothing, silently: every one the layouts and
    callbacks build must be bundled (add it to scripts/plotly-bundle/build.js and rebuild)."""
    used: set[str] = set()
    for folder in ("layouts", "callbacks"):
        for path in sorted((ROOT / folder).glob("*.py")):
            used |= _trace_types_in(path.read_text(encoding="utf-8"))
    assert {"scatter", "bar", "heatmap", "sankey"} <= used  # the scan finds what is there
    assert used <= _bundled_traces(), used - _bundled_traces()
    # And the scan sees a trace type it is not told about.
    assert _trace_types_in('go.Figure(data=[{"type": "choroplethmap", "z": [1]}])') == {
        "choroplethmap"
    }
    assert _trace_types_in("go.Scattergl(x=[1])") == {"scattergl"}


def test_plot003_dash_graphs_get_the_trimmed_bundle_with_or_without_a_fingerprint(
    env: WebEnv,
) -> None:
    client = env.client()
    bundle = composition_root.PLOTLY_BUNDLE.read_bytes()
    full = (Path(go.__file__).parents[1] / "package_data" / "plotly.min.js").stat().st_size
    assert len(bundle) < full / 2  # a third of the full bundle, give or take
    for path in (PLOTLY_URL, PLOTLY_URL.replace(".min.js", ".v4_4_1m1796641834.min.js")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.data == bundle
        assert response.mimetype == "text/javascript"
        etag = response.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
    # Other component-suite files are Dash's own, as before.
    other = client.get("/_dash-component-suites/plotly/package_data/nothing.min.js")
    assert other.status_code == 404
