"""User text in every Plotly figure builder is shown exactly as typed (never markup, a template).

``shown`` mimics plotly.js 4 (one ``%{...}`` pass, then entity decoding); the browser test checks.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from layouts import alerts, figures
from layouts.figures import plotly_text

# plotly.js 4.x: Lib.TEMPLATE_STRING_REGEX and svg_text_utils' entity table.
TEMPLATE = re.compile(r"%{([^\s%{}:]*)([:|][^}]*)?}")
ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
PLOTLY_ENTITIES = {
    "mu": "\u03bc",
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "nbsp": "\xa0",
    "times": "\xd7",
    "plusmn": "\xb1",
    "deg": "\xb0",
}
HOSTILE = (
    "%{customdata}%{x}%{y}",
    '"quoted" <b>x</b>',
    "it's &amp; 100%{y:.2f}",
    "<a href='https://x'>$x^2$</a>",
)
# Our own placeholders: anything else in a template came from user text.
OUR_PLACEHOLDERS = re.compile(r"^(x|y|z|text|value|customdata(\[\d\])?|marker\.color)$")


def _decode(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    return PLOTLY_ENTITIES.get(name, match.group(0))


def shown(text: str, values: dict[str, Any] | None = None) -> str:
    """What plotly.js draws for ``text`` (with ``values`` substituted as a hover template)."""
    if values is not None:
        text = TEMPLATE.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
    return ENTITY.sub(_decode, text)


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, key)


def test_figtxt001_plotly_text_round_trips_every_hostile_string() -> None:
    samples = [*HOSTILE, "", "plain", "a%", "%", "{x}", "&#39; &quot; &lt;", "Łódź – 50 %"]
    for text in samples:
        escaped = plotly_text(text)
        assert shown(escaped) == text, text
        assert shown(escaped, {"x": "X", "y": "Y", "customdata": "C"}) == text, text
        assert not TEMPLATE.search(escaped) and "<" not in escaped and ">" not in escaped
        assert "&quot;" not in escaped and "$" not in escaped
    assert plotly_text(None) == ""
    assert plotly_text(12) == "12"


def _geojson(name: str) -> dict[str, Any]:
    square = [[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]]]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": 1, "code": "D1", "name": name},
                "geometry": {"type": "Polygon", "coordinates": square},
            }
        ],
    }


def _builders(text: str) -> dict[str, Callable[[], go.Figure]]:
    """Every figure builder of the app, with ``text`` in each slot that takes user text."""
    day = dt.date(2026, 3, 2)
    days = [day, day + dt.timedelta(days=7)]
    return {
        "indicator_history": lambda: figures.indicator_history_figure(
            pd.DataFrame({"period": days, "value": [1.0, 2.0]}), name=text, unit=text, target=1
        ),
        "district_map": lambda: figures.district_map_figure(
            _geojson(text), {"D1": 3.0}, text, text
        ),
        "heatmap": lambda: figures.engagement_heatmap_figure(
            pd.DataFrame({"problem_id": [1], "sector": ["media"], "value": [2.0]}),
            pd.DataFrame({"id": [1], "title": [text]}),
            ["media"],
            text,
            text,
            sector_labels={"media": text},
        ),
        "sankey": lambda: figures.funding_sankey_figure(
            pd.DataFrame(
                [
                    {
                        "funder": text,
                        "funder_sector": "media",
                        "actor": text,
                        "actor_sector": "community",
                        "problem": text,
                        "amount": 10.0,
                    },
                    {
                        "funder": "Bank",
                        "funder_sector": "media",
                        "actor": None,
                        "actor_sector": None,
                        "problem": text,
                        "amount": 5.0,
                    },
                ]
            ),
            text,
            sector_labels={"media": text},
            no_partner_label=text,
        ),
        "weekly": lambda: figures.weekly_reports_figure(
            pd.DataFrame(
                {"week_start": days, "count": [3, 4], "last_year": [1.0, 2.0], "days": [7, 3]}
            ),
            text,
            text,
            subtitle=text,
        ),
        "category_bars": lambda: figures.category_bars_figure(
            pd.DataFrame({"name": [text], "count": [3], "last_year": [2.0]}), text, text
        ),
        "district_rates": lambda: figures.district_rates_figure(
            pd.DataFrame({"name": [text], "raw_per_1k": [1.0], "adjusted_per_1k": [2.0]}),
            text,
            text,
        ),
        "breakdown": lambda: figures.component_breakdown_figure(
            pd.DataFrame(
                {
                    "group": ["importance"],
                    "label": [text],
                    "value": [0.5],
                    "low": [0.4],
                    "high": [0.6],
                    "weight": [1.0],
                    "missing": [False],
                }
            )
        ),
        "reports_over_time": lambda: figures.reports_over_time_figure(
            pd.DataFrame(
                {
                    "period_end": days,
                    "category": [text, text],
                    "raw": [1.0, 2.0],
                    "adjusted": [1.5, 2.5],
                }
            )
        ),
        "quadrant": lambda: figures.priority_quadrant_figure(
            pd.DataFrame(
                {
                    "problem_id": [1],
                    "title": [text],
                    "rank": [1],
                    "importance": [0.5],
                    "tractability": [0.5],
                    "priority": [0.5],
                    "size": [3.0],
                    "trend": ["steady"],
                }
            ),
            title=text,
            size_label=text,
        ),
        "evidence": lambda: alerts.evidence_figure(
            pd.DataFrame(
                {
                    "date": days,
                    "observed": [1.0, 5.0],
                    "expected": [1.0, 1.5],
                    "lower": [0.5, 0.5],
                    "upper": [2.0, 2.5],
                    "alerted": [False, True],
                }
            ),
            title=text,
            y_title=text,
            subtitle=text,
            unit=text,
            lines=[("Target", 2.0)],
        ),
    }


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("builder", sorted(_builders("x")))
def test_figtxt002_every_figure_builder_escapes_user_text(builder: str, text: str) -> None:
    figure = _builders(text)[builder]()
    go.Figure(figure.to_dict())  # Plotly's own validation (builders skip it for speed)
    spec = figure.to_plotly_json()
    strings = list(_strings({"data": spec["data"], "layout": spec["layout"]}))
    assert any(plotly_text(text) in value for _, value in strings), "the text never arrived"
    for key, value in strings:
        assert "<b>x</b>" not in value and "<a " not in value, (key, value)
        assert "&quot;" not in value and "$x" not in value, (key, value)
        placeholders = [m.group(1) for m in TEMPLATE.finditer(value)]
        foreign = [p for p in placeholders if not OUR_PLACEHOLDERS.match(p)]
        assert not foreign, (key, value)
        if key not in ("hovertemplate", "texttemplate"):
            assert not placeholders, (key, value)


def test_figtxt003_a_hover_shows_the_category_as_typed() -> None:
    """The finding: a category named ``%{customdata}%{x}%{y}`` showed other data in a hover."""
    for text in HOSTILE:
        figure = _builders(text)["reports_over_time"]()
        trace = figure.to_plotly_json()["data"][0]
        hover = shown(trace["hovertemplate"], {"x": "2026-03-02", "y": "1", "customdata": "C"})
        assert hover.startswith(f"{text}, as reported: 1 reports"), hover
        assert shown(trace["name"]) == f"{text} (as reported)"


def test_figtxt004_figures_serialise_without_raw_markup() -> None:
    text = json.dumps(_builders(HOSTILE[1])["heatmap"]().to_plotly_json(), default=str)
    assert "<b>" not in text and "&quot;" not in text
