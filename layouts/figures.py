"""Figure builders: pure functions from plain data to Plotly figures (no database, no callbacks).

Plotly reads HTML tags and ``%{...}`` templates in text: stored text goes through ``plotly_text``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

SERIES_COLOUR = "#1d4f91"
TARGET_COLOUR = "#1e7d45"
WARNING_COLOUR = "#a15c00"
CRITICAL_COLOUR = "#b3261e"
CHART_HEIGHT = 240
MARKER_POINTS = 60  # a line chart marks each value only up to this many
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


# What Plotly would read in user text, as character references plotly.js decodes when it draws
# (it decodes &amp; &lt; &gt; and numeric ones, but not &quot;, so quotes stay as typed).
# ``%`` starts a ``%{...}`` template in hover templates (and in titles, legends and annotations
# when the figure has ``meta``); the template pass runs before decoding, so ``&#37;{`` is inert.
# ``$`` would start TeX if MathJax were ever loaded.
PLOTLY_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;", "$": "&#36;"})


def plotly_text(value: object) -> str:
    """User text for any Plotly text (titles, names, ticks, hovers, customdata shown in a
    hover): shown exactly as typed, never read as markup, a ``%{...}`` template or TeX."""
    return str(value if value is not None else "").translate(PLOTLY_ESCAPES)


# One light template for every figure, in place of Plotly's default ("plotly"): that one adds
# 6.5 kB to each figure and turns on ``automargin`` for every axis, so plotly.js draws each
# chart, measures its labels, widens the margins and draws it again (1.4 s of main-thread
# work on a problem's indicators tab). This keeps the default's look for what our figures do
# not set themselves, with automargin off: each figure sets its margins, and ``label_margin``
# sizes the one beside long category labels.
_AXIS_DEFAULTS: dict[str, Any] = {
    "automargin": False,
    "gridcolor": "white",
    "linecolor": "white",
    "ticks": "",
    "title": {"standoff": 15},
    "zerolinecolor": "white",
    "zerolinewidth": 2,
}
LIGHT_TEMPLATE: dict[str, Any] = {
    # Bars keep the default's hatching (drawn over the bar's colour) and thin outline.
    "data": {
        "bar": [
            {
                "type": "bar",
                "marker": {
                    "line": {"color": "#E5ECF6", "width": 0.5},
                    "pattern": {"fillmode": "overlay", "size": 10, "solidity": 0.2},
                },
                "error_x": {"color": "#2a3f5f"},
                "error_y": {"color": "#2a3f5f"},
            }
        ]
    },
    "layout": {
        "autotypenumbers": "strict",
        "hovermode": "closest",
        "hoverlabel": {"align": "left"},
        "xaxis": _AXIS_DEFAULTS,
        "yaxis": _AXIS_DEFAULTS,
        "annotationdefaults": {"arrowcolor": "#2a3f5f", "arrowhead": 0, "arrowwidth": 1},
        "shapedefaults": {"line": {"color": "#2a3f5f"}},
        "coloraxis": {"colorbar": {"outlinewidth": 0, "ticks": ""}},
    },
}
# Average width of a character of the house font at 12 px, with a margin for wide letters:
# DejaVu Sans (the fallback on Linux) runs near 7 px, so a smaller figure clips long labels.
CHARACTER_PX = 7.3


def label_margin(labels: Sequence[object], *, pad: int = 16, limit: int = 320) -> int:
    """Pixels of margin for a column of tick labels (estimated from their longest line), so
    that axis needs no ``automargin``; at most ``limit``."""
    longest = max((len(line) for label in labels for line in str(label).split("<br>")), default=0)
    return min(limit, int(longest * CHARACTER_PX) + pad)


BAR_LABEL_LINE = 20  # characters on a line of a bar's label before it wraps onto a second


def two_lines(label: str, width: int = BAR_LABEL_LINE) -> str:
    """An escaped label longer than ``width`` split at the space that best balances two lines
    ("Overflowing<br>public litter bin"): beside bars on a phone, one long line took half the
    chart's width from the bars. A label without a space stays whole."""
    if len(label) <= width:
        return label
    spaces = [i for i, c in enumerate(label) if c == " "]
    if not spaces:
        return label
    cut = min(spaces, key=lambda i: max(i, len(label) - i - 1))
    return f"{label[:cut]}<br>{label[cut + 1 :]}"


def _is_number(value: object) -> bool:
    try:
        return value is not None and not math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def indicator_history_figure(
    history: pd.DataFrame,
    *,
    name: str,
    unit: str,
    target: float | None = None,
    warning_threshold: float | None = None,
    critical_threshold: float | None = None,
) -> go.Figure:
    """A compact line chart of one indicator: its values over time, target and thresholds.

    ``history`` has columns ``period`` (date) and ``value`` (float), one row per period.
    """
    unit_label = plotly_text(unit)
    frame = history.sort_values("period") if not history.empty else history
    observed = {
        "type": "scatter",
        "x": list(frame["period"]) if not frame.empty else [],
        "y": list(frame["value"]) if not frame.empty else [],
        # A marker per value only while they can be told apart: each is an SVG element of
        # its own (a weekly figure over three years is 160), the line alone draws fast.
        "mode": "lines+markers" if len(frame) <= MARKER_POINTS else "lines",
        "name": "Observed",
        "line": {"color": SERIES_COLOUR, "width": 2},
        "marker": {"size": 5},
        "hovertemplate": "%{x|%Y-%m-%d}: %{y:,.4~g} " + unit_label + "<extra></extra>",
    }
    # Labels sit at different ends so that close lines do not print on top of each other.
    # The figure is built in one go: add_hline and update_* cost 10-25 ms each in Plotly 7.
    # Of the two thresholds (both at the right), the higher is labelled above its line and the
    # lower below its own, so close thresholds never print over each other.
    critical_higher = (
        _is_number(warning_threshold)
        and _is_number(critical_threshold)
        and float(critical_threshold) > float(warning_threshold)  # type: ignore[arg-type]
    )
    lines = (
        (target, "Target", TARGET_COLOUR, "dash", (0, "left", "bottom")),
        (
            warning_threshold,
            "Warning",
            WARNING_COLOUR,
            "dot",
            (1, "right", "top" if critical_higher else "bottom"),
        ),
        (
            critical_threshold,
            "Critical",
            CRITICAL_COLOUR,
            "dot",
            (1, "right", "bottom" if critical_higher else "top"),
        ),
    )
    shapes, labels = [], []
    for value, label, colour, dash, (x, xanchor, yanchor) in lines:
        if _is_number(value):
            level = float(value)  # type: ignore[arg-type]
            shapes.append(
                {
                    "type": "line",
                    "xref": "x domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": "y",
                    "y0": level,
                    "y1": level,
                    "line": {"color": colour, "dash": dash, "width": 1.5},
                }
            )
            labels.append(
                {
                    "text": f"{label} {level:,.4g}",
                    "xref": "x domain",
                    "x": x,
                    "xanchor": xanchor,
                    "yref": "y",
                    "y": level,
                    "yanchor": yanchor,
                    "showarrow": False,
                    "font": {"color": colour, "size": 11},
                }
            )
    if frame.empty:
        labels.append(
            {
                "text": "No observations yet",
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 13, "color": "#5b6776"},
            }
        )
    layout = {
        "template": LIGHT_TEMPLATE,
        "shapes": shapes,
        "annotations": labels,
        "title": {
            "text": plotly_text(fit_title(name)),
            "font": {"size": 14},
            "x": 0,
            "xanchor": "left",
        },
        "height": CHART_HEIGHT,
        "margin": {"l": 56, "r": 16, "t": 40, "b": 36},
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#1b2430"},
        "hoverlabel": {"bgcolor": "#ffffff"},
        "xaxis": {"showgrid": False, "linecolor": "#c9d1dc", "ticks": "outside"},
        "yaxis": {
            "title": {"text": unit_label, "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "zeroline": False,
        },
    }
    return _figure([observed], layout)


# ---------------------------------------------------------------- maps, heat maps, flows, reports
# Added for the actors, citizen reports and administration pages (and reused by the drill-down).

MAP_COLOURSCALE: list[list[Any]] = [
    [0.0, "#f1f5fb"],
    [0.25, "#c6d8ef"],
    [0.5, "#7fa6d6"],
    [0.75, "#3b6fb0"],
    [1.0, "#13294b"],
]
NO_DATA_COLOUR = "#d9dde3"
MAP_HEIGHT = 520
MUTED_COLOUR = "#8a94a3"
NOTE_COLOUR = "#5b6776"  # secondary text on white: 5.8:1 contrast
# Colour-blind safe (Okabe-Ito, plus a grey and a deep blue), one per sector, fixed order.
SECTOR_COLOURS: dict[str, str] = {
    "government_agency": "#0072b2",
    "elected_political": "#cc79a7",
    "philanthropic": "#e69f00",
    "corporate_civic": "#56b4e9",
    "community": "#009e73",
    "nonprofit_social_enterprise": "#d55e00",
    "labour": "#6f4e37",
    "faith": "#7a7a7a",
    "media": "#13294b",
}
OTHER_COLOUR = "#9aa5b4"


def house_layout(title: str, *, height: int, legend: bool = True) -> dict[str, Any]:
    """The house look as a layout dict (build a figure in one ``go.Figure(data, layout)``
    call where speed matters: each ``update_*`` call costs 10-25 ms in Plotly 7)."""
    return {
        "template": LIGHT_TEMPLATE,
        "title": {"text": plotly_text(title), "font": {"size": 15}, "x": 0, "xanchor": "left"},
        "height": height,
        "margin": {"l": 16, "r": 16, "t": 48, "b": 16},
        "showlegend": legend,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "xanchor": "left"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#1b2430"},
        "hoverlabel": {"bgcolor": "#ffffff"},
    }


def _base_layout(figure: go.Figure, title: str, *, height: int, legend: bool = True) -> None:
    """The house look: left-aligned escaped title, system font, white plot, horizontal legend."""
    figure.update_layout(house_layout(title, height=height, legend=legend))


def _empty_note(figure: go.Figure, text: str) -> go.Figure:
    figure.add_annotation(
        text=plotly_text(text),
        showarrow=False,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        font={"size": 13, "color": "#5b6776"},
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _layout(title: str, *, height: int, legend: bool = True, **extra: Any) -> dict[str, Any]:
    """The house look as a plain layout dict (see :func:`_figure`)."""
    layout = house_layout(title, height=height, legend=legend)
    layout.update(extra)
    return layout


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plain dicts without Plotly's property validation, which costs tens of
    milliseconds per chart; the tests validate every builder's output once instead."""
    return go.Figure(data=traces, layout=layout, _validate=False)


def _empty_figure(layout: dict[str, Any], text: str) -> go.Figure:
    layout.update(
        annotations=[
            {
                "text": plotly_text(text),
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 13, "color": "#5b6776"},
            }
        ],
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return _figure([], layout)


def _rings(geometry: Any) -> list[list[tuple[float, float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon as (lon, lat) lists (holes dropped)."""
    if not isinstance(geometry, Mapping):
        return []
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    rings = []
    for polygon in polygons:
        if polygon and len(polygon[0]) >= 3:
            rings.append([(float(point[0]), float(point[1])) for point in polygon[0]])
    return rings


def _ring_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Area-weighted centroid of a ring and its absolute area (shoelace formula)."""
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-15:
        xs, ys = zip(*ring, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys), 0.0
    return cx / (3 * area), cy / (3 * area), abs(area) / 2


def district_shapes(districts: Any) -> list[dict[str, Any]]:
    """Districts as plain dicts: id, code, name and rings (outer rings, lon/lat).

    Accepts a GeoJSON FeatureCollection (properties ``id``/``code``/``name``), a DataFrame with
    a ``geometry`` column (GeoJSON geometry dicts) beside ``id``/``code``/``name``, or a list of
    such records. Districts without a usable geometry are left out.
    """
    if isinstance(districts, pd.DataFrame):
        records = districts.to_dict("records")
    elif isinstance(districts, Mapping) and districts.get("type") == "FeatureCollection":
        records = [
            {**(feature.get("properties") or {}), "geometry": feature.get("geometry")}
            for feature in districts.get("features") or []
        ]
    else:
        records = list(districts or [])
    shapes = []
    for record in records:
        rings = _rings(record.get("geometry"))
        if rings:
            shapes.append(
                {
                    "id": record.get("id"),
                    "code": record.get("code"),
                    "name": str(record.get("name") or record.get("code") or ""),
                    "rings": rings,
                }
            )
    return shapes


def _lookup(values: Mapping[Any, Any], shape: dict[str, Any]) -> float | None:
    for key in ("id", "code", "name"):
        candidate = shape.get(key)
        if candidate is None:
            continue
        for probe in (candidate, str(candidate)):
            if probe in values and _is_number(values[probe]):
                return float(values[probe])
    return None


def district_map_figure(
    districts: Any,
    values: Mapping[Any, Any] | pd.Series,
    title: str,
    unit: str,
    *,
    height: int = MAP_HEIGHT,
    value_format: str = ",.1f",
) -> go.Figure:
    """A choropleth of districts drawn from their own boundaries: no tiles, fully offline.

    ``districts``: see :func:`district_shapes`. ``values`` maps a district's id, code or name
    to its number (a dict or a Series); districts without one are grey ("No data"). Each
    district is a filled ``go.Scatter`` polygon on lon/lat axes kept to scale; a marker at each
    centroid carries the hover text and the colour bar (titled with ``unit``).
    """
    layout = _layout(title, height=height)
    shapes = district_shapes(districts)
    if not shapes:
        return _empty_figure(layout, "No district boundaries recorded")
    lookup = dict(values.items()) if isinstance(values, pd.Series) else dict(values or {})
    numbers = [_lookup(lookup, shape) for shape in shapes]
    known = [n for n in numbers if n is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    span = high - low if high > low else 1.0
    colours = sample_colorscale(
        MAP_COLOURSCALE, [(n - low) / span if n is not None else 0.0 for n in numbers]
    )
    unit_label = plotly_text(unit)
    traces: list[dict[str, Any]] = []
    missing_shown = False
    centroids: list[tuple[float, float, str, float | None]] = []
    for shape, number, colour in zip(shapes, numbers, colours, strict=True):
        lons: list[float | None] = []
        lats: list[float | None] = []
        for ring in shape["rings"]:
            lons += [p[0] for p in ring] + [None]
            lats += [p[1] for p in ring] + [None]
        name = plotly_text(shape["name"])
        if number is None:
            colour, text = NO_DATA_COLOUR, f"{name}: no data"
        else:
            text = f"{name}: {format(number, value_format)} {unit_label}"
        show_missing = number is None and not missing_shown
        missing_shown = missing_shown or show_missing
        traces.append(
            {
                "type": "scatter",
                "x": lons,
                "y": lats,
                "mode": "lines",
                "fill": "toself",
                "fillcolor": colour,
                "line": {"color": "#ffffff", "width": 1.2},
                "hoveron": "fills",
                "hoverinfo": "text",
                "text": text,
                "name": "No data" if show_missing else name,
                "showlegend": show_missing,
            }
        )
        x, y, _ = max((_ring_centroid(ring) for ring in shape["rings"]), key=lambda c: c[2])
        centroids.append((x, y, name, number))
    marked = [c for c in centroids if c[3] is not None]
    traces.append(
        {
            "type": "scatter",
            "x": [c[0] for c in marked],
            "y": [c[1] for c in marked],
            "mode": "markers",
            "marker": {
                "size": 7,
                "color": [c[3] for c in marked],
                "colorscale": MAP_COLOURSCALE,
                "cmin": low,
                "cmax": high if high > low else low + 1,
                "line": {"color": "#ffffff", "width": 1.5},
                "showscale": bool(marked),
                "colorbar": {
                    "title": {"text": unit_label, "side": "right"},
                    "thickness": 14,
                    "len": 0.75,
                    "outlinewidth": 0,
                    "ticks": "",
                },
            },
            "customdata": [c[2] for c in marked],
            "hovertemplate": "%{customdata}: %{marker.color:"
            + value_format
            + "} "
            + unit_label
            + "<extra></extra>",
            "name": unit_label,
            "showlegend": False,
        }
    )
    mean_lat = sum(c[1] for c in centroids) / len(centroids)
    layout.update(
        # Room for the colour bar, its numbers and unit: it does not push the margin then.
        margin={**layout["margin"], "r": 96},
        plot_bgcolor="rgba(0,0,0,0)",
        dragmode=False,
        xaxis={
            "visible": False,
            "scaleanchor": "y",
            "scaleratio": math.cos(math.radians(mean_lat)),
            "constrain": "domain",
            "fixedrange": True,
        },
        yaxis={"visible": False, "constrain": "domain", "fixedrange": True},
    )
    return _figure(traces, layout)


HEAT_COLOURSCALE: list[list[Any]] = [
    [0.0, "#ffffff"],
    [0.0001, "#e4edf9"],
    [0.5, "#6f9bd1"],
    [1.0, "#13294b"],
]
LABEL_CHARACTERS = 46
# A chart title fits a phone's column at this many characters (390 px screen, title font); the
# whole wording goes in the chart's label and table caption.
TITLE_CHARACTERS = 36
# A subtitle is set smaller (12 px against 15): this many characters fit a phone's chart.
SUBTITLE_CHARACTERS = 52
SUBTITLE_ROOM = 18  # px of top margin (and height) a subtitle's line takes


def fit_title(text: str, limit: int = TITLE_CHARACTERS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (not escaped: titles are escaped
    where the figure is built): after a whole word when that keeps two thirds of the room
    ("Reports per week: all categories…", not "…all categories ci…")."""
    if len(text) <= limit:
        return text
    room = limit - 1
    space = text.rfind(" ", 0, room + 1)
    end = space if space >= room * 2 // 3 else room
    return text[:end].rstrip(" :,;–-") + "…"


def short_label(value: object, limit: int = LABEL_CHARACTERS) -> str:
    """Stored text escaped for Plotly and cut to ``limit`` characters (with an ellipsis).

    For the names of a category axis, a legend or nodes use :func:`unique_labels` instead:
    cut names can fall equal, and Plotly draws equal categories as one bar."""
    return plotly_text(_end_cut(str(value if value is not None else ""), limit))


def _end_cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _shared_start(first: str, second: str) -> int:
    size = 0
    while size < min(len(first), len(second)) and first[size] == second[size]:
        size += 1
    return size


def _middle_cut(text: str, differs_at: int, limit: int) -> str:
    """``text`` cut in the middle, keeping its end from the word that holds character
    ``differs_at`` (with the word before it when short): "Staten Island… District 1"."""
    start = text.rfind(" ", 0, differs_at) + 1
    before = text.rfind(" ", 0, max(start - 1, 0)) + 1
    if start > 0 and len(text) - before <= limit // 2:
        start = before
    tail = text[start:]
    room = limit - 2 - len(tail)  # for the head: an ellipsis and a space go before the tail
    if room < 4:  # a long last word: from a few characters before the difference
        tail = text[max(differs_at - 6, start) :]
        room = limit - 2 - len(tail)
        if room < 4:
            return _end_cut(text[:4].rstrip() + "… " + tail, limit)
    head = text[:room].rstrip()
    word_end = head.rfind(" ")
    if text[room] != " " and word_end >= room // 2:
        head = head[:word_end].rstrip()  # whole words, where that keeps most of the room
    return f"{head}… {tail}"


def unique_labels(values: Sequence[object], limit: int = LABEL_CHARACTERS) -> list[str]:
    """Names as labels for a category axis, a legend or nodes: escaped for Plotly, at most
    ``limit`` characters and all different, so that no two rows are drawn as one.

    A name that fits is kept; a longer one is cut at its end, unless that makes it equal to
    another label: then the cut keeps the end that tells it apart ("Staten Island… District
    1"). Equal names (the same name twice) get " (2)", " (3)"… Labels may be cut, so hovers
    should show the full names (``plotly_text`` of each)."""
    texts = [str(v if v is not None else "") for v in values]
    labels = [_end_cut(t, limit) for t in texts]
    groups: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    for members in groups.values():
        names = sorted({texts[i] for i in members})
        if len(names) < 2:
            continue
        # Where each name parts from its nearest neighbour (in sorted order, the neighbours
        # share the longest starts).
        differs_at = {
            name: max(
                _shared_start(name, other)
                for other in names[max(k - 1, 0) : k + 2]
                if other != name
            )
            for k, name in enumerate(names)
        }
        for i in members:
            if len(texts[i]) > limit:
                labels[i] = _middle_cut(texts[i], differs_at[texts[i]], limit)
    taken: set[str] = set()
    for index, label in enumerate(labels):
        candidate, number = label, 1
        while candidate in taken:
            number += 1
            suffix = f" ({number})"
            candidate = _end_cut(label, limit - len(suffix)) + suffix
        taken.add(candidate)
        labels[index] = candidate
    return [plotly_text(label) for label in labels]


def money_text(value: float) -> str:
    """``$1.2M``, ``$350k``, ``$900``; zero or missing → an empty string."""
    if not _is_number(value) or float(value) == 0:
        return ""
    number = float(value)
    if abs(number) >= 1e6:
        return f"${number / 1e6:.1f}M"
    if abs(number) >= 1e3:
        return f"${number / 1e3:.0f}k"
    return f"${number:,.0f}"


def engagement_heatmap_figure(
    cells: pd.DataFrame,
    problems: pd.DataFrame,
    sectors: Sequence[str],
    title: str,
    unit: str,
    *,
    sector_labels: Mapping[str, str] | None = None,
    money: bool = False,
) -> go.Figure:
    """A sector × problem heat map: problems as rows (in the order given), sectors as columns.

    ``cells``: problem_id, sector, value (engagement count or USD); ``problems``: id, title,
    one row per problem to show (problems with no cell stay as an empty row, which is the
    point). Zero cells are white and unlabelled; others print their value.
    """
    layout = _layout(title, height=max(260, 26 * len(problems) + 150), legend=False)
    if problems.empty or not sectors:
        return _empty_figure(layout, "No problems to show")
    labels = sector_labels or {}
    values = {
        (int(p), str(s)): float(v)
        for p, s, v in zip(cells["problem_id"], cells["sector"], cells["value"], strict=True)
        if _is_number(v)
    }
    problem_ids = [int(i) for i in problems["id"]]
    titles = [str(t) for t in problems["title"]]
    z = [[values.get((pid, sector), 0.0) for sector in sectors] for pid in problem_ids]
    text = [[money_text(v) if money else (f"{v:,.0f}" if v else "") for v in row] for row in z]
    x_labels = [plotly_text(labels.get(s, s.replace("_", " "))) for s in sectors]
    # Rows carry the problem id so that two problems with one title stay apart.
    y_labels = [
        f"{label} · #{pid}" for label, pid in zip(unique_labels(titles), problem_ids, strict=True)
    ]
    hover_unit = plotly_text(unit)
    # Both ends of the scale are set: with zmin alone Plotly scales to the data, so a map of
    # zeros ran -0.5..0.5 and drew zero mid-blue. With nothing above zero there is no scale.
    highest = max((v for row in z for v in row), default=0.0)
    trace = {
        "type": "heatmap",
        "z": z,
        "x": x_labels,
        "y": y_labels,
        "text": text,
        "texttemplate": "%{text}",
        "textfont": {"size": 11},
        "customdata": [[plotly_text(t)] * len(sectors) for t in titles],
        "colorscale": HEAT_COLOURSCALE,
        "zauto": False,
        "zmin": 0,
        "zmax": highest if highest > 0 else 1.0,
        "showscale": highest > 0,
        "xgap": 2,
        "ygap": 2,
        "hovertemplate": "%{customdata}<br>%{x}: %{z:,.0f} " + hover_unit + "<extra></extra>",
        "colorbar": {
            "title": {"text": hover_unit, "side": "right"},
            "thickness": 14,
            "outlinewidth": 0,
            "ticks": "",
        },
    }
    # Fixed margins (no automargin, see LIGHT_TEMPLATE): the problem names on the left, the
    # sector names slanted at the top (half their length rises) under the title, and the
    # colour bar with its numbers and unit on the right.
    layout.update(
        margin={
            "l": label_margin(y_labels, limit=420),
            "r": 96,
            "t": 64 + label_margin(x_labels, pad=0) // 2,
            "b": 16,
        },
        xaxis={"side": "top", "tickangle": -30, "showgrid": False, "fixedrange": True},
        yaxis={"autorange": "reversed", "showgrid": False, "fixedrange": True},
        # Zero cells are white: the gaps between cells, in grey, outline them.
        plot_bgcolor="#e6eaf0",
    )
    # The title at the top (by default it sits halfway down the tall top margin).
    layout["title"].update(y=1, yref="container", yanchor="top", pad={"t": 12})
    return _figure([trace], layout)


def _rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    red, green, blue = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def funding_sankey_figure(
    flows: pd.DataFrame,
    title: str,
    *,
    sector_labels: Mapping[str, str] | None = None,
    no_partner_label: str = "No delivering partner recorded",
) -> go.Figure:
    """Funding as a Sankey: funders (left) → delivering actors (middle) → problems (right).

    ``flows``: funder, funder_sector, actor (None when the problem has no delivering actor),
    actor_sector, problem, amount (USD). Nodes of each column are keyed separately, so an
    actor that both funds and delivers appears twice. Every label is escaped.
    """
    if not flows.empty:
        flows = flows[flows["amount"].map(_is_number)]
        flows = flows[flows["amount"].astype(float) > 0]
    height = max(320, min(900, 22 * max(len(flows), 1) + 160))
    layout = _layout(title, height=height)
    if flows.empty:
        return _empty_figure(layout, "No funding recorded for these filters")
    labels = sector_labels or {}
    keys: dict[tuple[str, str], int] = {}
    node_colours: list[str] = []

    def node(column: str, name: str, colour: str) -> int:
        key = (column, name)
        if key not in keys:
            keys[key] = len(node_colours)
            node_colours.append(colour)
        return keys[key]

    sources, targets, amounts, link_colours = [], [], [], []
    for row in flows.to_dict("records"):
        funder_colour = SECTOR_COLOURS.get(str(row["funder_sector"]), OTHER_COLOUR)
        funder = node("funder", str(row["funder"]), funder_colour)
        actor = row["actor"]
        if isinstance(actor, str) and actor:
            middle = node(
                "actor", actor, SECTOR_COLOURS.get(str(row["actor_sector"]), OTHER_COLOUR)
            )
        else:
            middle = node("actor", no_partner_label, "#c3c9d2")
        problem = node("problem", str(row["problem"]), "#3d4754")
        for source, target in ((funder, middle), (middle, problem)):
            sources.append(source)
            targets.append(target)
            amounts.append(float(row["amount"]))
            link_colours.append(_rgba(funder_colour, 0.35))
    node_full = [plotly_text(name) for _, name in keys]
    # Short labels stay apart within each column (one name may sit in two columns).
    node_labels = [""] * len(keys)
    for column in ("funder", "actor", "problem"):
        members = [(index, name) for (side, name), index in keys.items() if side == column]
        for (index, _), label in zip(
            members, unique_labels([name for _, name in members], 34), strict=True
        ):
            node_labels[index] = label
    traces: list[dict[str, Any]] = [
        {
            "type": "sankey",
            "arrangement": "snap",
            "valueformat": "$,.0f",
            "node": {
                "label": node_labels,
                "customdata": node_full,
                "color": node_colours,
                "pad": 12,
                "thickness": 14,
                "line": {"color": "#ffffff", "width": 0.5},
                "hovertemplate": "%{customdata}<br>%{value:$,.0f}<extra></extra>",
            },
            "link": {
                "source": sources,
                "target": targets,
                "value": amounts,
                "color": link_colours,
                "customdata": [
                    f"{node_full[s]} → {node_full[t]}"
                    for s, t in zip(sources, targets, strict=True)
                ],
                "hovertemplate": "%{customdata}<br>%{value:$,.0f}<extra></extra>",
            },
        }
    ]
    # Sankey traces have no legend of their own: empty scatter traces name the sector colours.
    present = set(flows["funder_sector"]) | set(flows["actor_sector"])
    for sector in (s for s in SECTOR_COLOURS if s in present):
        traces.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": {"size": 10, "color": SECTOR_COLOURS[sector], "symbol": "square"},
                "name": plotly_text(labels.get(sector, sector.replace("_", " "))),
                "hoverinfo": "skip",
            }
        )
    layout.update(
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 16, "r": 16, "t": 48, "b": 56},
        legend={**layout["legend"], "yanchor": "top", "y": -0.02, "font": {"size": 11}},
        xaxis={"visible": False, "fixedrange": True},
        yaxis={"visible": False, "fixedrange": True},
    )
    return _figure(traces, layout)


def weekly_reports_figure(
    weekly: pd.DataFrame, title: str, unit: str = "reports", *, subtitle: str = ""
) -> go.Figure:
    """Weekly report counts for the chosen weeks against the same weeks a year earlier.

    ``weekly``: week_start (date, a Monday), count, last_year (count 52 weeks earlier, NaN when
    unknown), days (days of the week inside the chosen range; fewer than 7 is a partial week).
    ``subtitle`` (what the counts cover, e.g. a category and a district) goes on a smaller line
    of its own under the title, so a long one does not cut the title short.
    """
    extra = SUBTITLE_ROOM if subtitle else 0
    layout = _layout(title, height=320 + extra)
    if subtitle:
        # Title and subtitle at the top of the figure, the legend's rows (two on a phone)
        # under them: left to Plotly, the title sits mid-margin and the legend overlaps it.
        layout["title"].update(
            subtitle={
                "text": plotly_text(fit_title(subtitle, SUBTITLE_CHARACTERS)),
                "font": {"size": 12, "color": NOTE_COLOUR},
            },
            y=1,
            yref="container",
            yanchor="top",
            pad={"t": 10},
        )
    if weekly.empty:
        return _empty_figure(layout, "No reports match these filters")
    unit_label = plotly_text(unit)
    frame = weekly.sort_values("week_start")
    weeks = [d.isoformat() if hasattr(d, "isoformat") else str(d) for d in frame["week_start"]]
    partial = [f" (partial week: {int(d)} of 7 days)" if int(d) < 7 else "" for d in frame["days"]]
    last_year = [None if not _is_number(v) else float(v) for v in frame["last_year"]]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": weeks,
            "y": [float(v) for v in frame["count"]],
            "mode": "lines+markers",
            "name": "Selected weeks",
            "line": {"color": SERIES_COLOUR, "width": 2.5},
            "marker": {"size": 6},
            "customdata": partial,
            "hovertemplate": "Week of %{x|%Y-%m-%d}: %{y:,.0f} "
            + unit_label
            + "%{customdata}<extra></extra>",
        },
    ]
    if any(v is not None for v in last_year):
        traces.append(
            {
                "type": "scatter",
                "x": weeks,
                "y": last_year,
                "mode": "lines",
                "name": "Same weeks last year",
                "line": {"color": MUTED_COLOUR, "width": 2, "dash": "dash"},
                "hovertemplate": "Same week last year: %{y:,.0f} " + unit_label + "<extra></extra>",
            }
        )
    layout.update(
        # Room for the legend on two rows under the title: on a phone the plot is too narrow
        # for both names on one row (with 64 the second row rose into the title).
        margin={"l": 56, "r": 16, "t": 84 + extra, "b": 40},
        hovermode="x unified",
        xaxis={
            "type": "date",
            "showgrid": False,
            "linecolor": "#c9d1dc",
            "ticks": "outside",
            "fixedrange": True,
        },
        yaxis={
            "title": {"text": f"{unit_label} per week", "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "rangemode": "tozero",
            "fixedrange": True,
        },
    )
    return _figure(traces, layout)


def _bar_traces(
    names: Sequence[object],
    limit: int,
    series: Sequence[tuple[str, list[float | None], str, str]],
    unit_label: str,
    value_format: str,
) -> list[dict[str, Any]]:
    """One horizontal bar per row and series: rows are labelled by :func:`unique_labels` (never
    two rows on one category) and hovers show the full names."""
    labels = [two_lines(label) for label in unique_labels(names, limit)]
    full = [plotly_text(n) for n in names]
    return [
        {
            "type": "bar",
            "y": labels,
            "x": values,
            "orientation": "h",
            "name": label,
            "marker": {"color": colour},
            "customdata": full,
            "hovertemplate": "%{customdata}<br>"
            + hover_name
            + ": %{x:"
            + value_format
            + "} "
            + unit_label
            + "<extra></extra>",
        }
        for label, values, colour, hover_name in series
    ]


def _bar_layout(layout: dict[str, Any], unit_label: str, names: Sequence[str]) -> dict[str, Any]:
    layout.update(
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        # Room for the legend on two rows between the title and the bars: beside long
        # category names on a phone, it has only the bars' width and wraps. The names get a
        # fixed margin of their own (no automargin, see LIGHT_TEMPLATE).
        margin={"l": label_margin(names, limit=240), "r": 16, "t": 88, "b": 48},
        xaxis={
            "title": {"text": unit_label, "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "rangemode": "tozero",
            "fixedrange": True,
        },
        yaxis={"type": "category", "autorange": "reversed", "fixedrange": True},
    )
    return layout


def category_bars_figure(frame: pd.DataFrame, title: str, unit: str = "reports") -> go.Figure:
    """Top categories as horizontal bars, largest first, with the same period a year earlier.

    ``frame``: name, count, last_year (NaN when unknown), in the order to draw.
    """
    layout = _layout(title, height=max(260, 34 * len(frame) + 130))
    if frame.empty:
        return _empty_figure(layout, "No reports match these filters")
    unit_label = plotly_text(unit)
    counts: list[float | None] = [float(v) for v in frame["count"]]
    series = [("Selected period", counts, SERIES_COLOUR, "Selected")]
    if any(_is_number(v) for v in frame["last_year"]):
        last_year = [float(v) if _is_number(v) else None for v in frame["last_year"]]
        series.append(("Same period last year", last_year, "#a9bcd6", "Last year"))
    traces = _bar_traces(list(frame["name"]), 38, series, unit_label, ",.0f")
    return _figure(traces, _bar_layout(layout, unit_label, traces[0]["y"]))


ADJUSTED_COLOUR = "#b35806"


def district_rates_figure(
    frame: pd.DataFrame, title: str, unit: str = "reports per 1,000 residents"
) -> go.Figure:
    """Reports per 1,000 residents by district, raw beside adjusted for reporting habits.

    ``frame``: name, raw_per_1k, adjusted_per_1k, in the order to draw.
    """
    layout = _layout(title, height=max(280, 40 * len(frame) + 130))
    if frame.empty:
        return _empty_figure(layout, "No districts recorded")
    unit_label = plotly_text(unit)

    def numbers(column: str) -> list[float | None]:
        return [float(v) if _is_number(v) else None for v in frame[column]]

    traces = _bar_traces(
        list(frame["name"]),
        30,
        (
            ("As reported", numbers("raw_per_1k"), SERIES_COLOUR, "Raw"),
            (
                "Adjusted for reporting habits",
                numbers("adjusted_per_1k"),
                ADJUSTED_COLOUR,
                "Adjusted",
            ),
        ),
        unit_label,
        ",.1f",
    )
    return _figure(traces, _bar_layout(layout, unit_label, traces[0]["y"]))


# ---------------------------------------------------------------- problem drill-down

SCORE_GROUP_COLOURS: dict[str, str] = {
    "importance": "#1d4f91",
    "tractability": "#1e7d45",
    "neglectedness": "#8a4f00",
}
CATEGORY_COLOURS = ("#1d4f91", "#b3261e", "#1e7d45", "#7a4500", "#6a3d9a", "#00707a")


# The breakdown is drawn for a phone's width first (the same figure serves a desk): each
# component's name sits on a line of its own above its bar, the groups head their rows, so the
# bars keep the whole width (names in a left margin took all of a 390 px screen). Heights in
# rows of BREAKDOWN_ROW_PX: a name (0.45 of a row), its bar (0.4) and a gap.
BREAKDOWN_TITLE = "Score breakdown (0 = low, 1 = high)"  # short enough for a phone's width
BREAKDOWN_ROW_PX = 40
BREAKDOWN_HEADING_ROWS = 0.8
BREAKDOWN_BAR_ROWS = 0.4


def component_breakdown_figure(parts: pd.DataFrame) -> go.Figure:
    """Horizontal bars of every score component (0..1) with its range, grouped by score.

    ``parts``: group (importance, tractability or neglectedness), label (the component's
    name), value, low, high (0..1; NaN when unknown), weight (its share of the group, 0..1)
    and missing (bool: no data, so a typical value was assumed; drawn hatched), in display
    order. Each group is headed by its name and each bar by its component's name, so there
    is no legend and no margin of names.
    """
    rows = parts[parts["value"].map(_is_number)] if not parts.empty else parts
    layout = _layout(BREAKDOWN_TITLE, height=130, legend=False)
    if rows.empty:
        return _empty_figure(layout, "Not scored yet")
    traces = []
    annotations: list[dict[str, Any]] = []
    top = 0.0  # the top of the next row, in rows from the top of the plot
    for group, colour in SCORE_GROUP_COLOURS.items():
        frame = rows[rows["group"] == group]
        if frame.empty:
            continue
        annotations.append(
            {
                "text": f"<b>{group.capitalize()}</b>",
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": top + BREAKDOWN_HEADING_ROWS / 2,
                "yanchor": "middle",
                "showarrow": False,
                "font": {"size": 13, "color": colour},
            }
        )
        top += BREAKDOWN_HEADING_ROWS
        labels = [plotly_text(v) for v in frame["label"]]
        values = [float(v) for v in frame["value"]]
        missing = [bool(m) for m in frame["missing"]]
        bar_tops = [top + k + 0.45 for k in range(len(frame))]
        top += len(frame)
        # The value beside the name (at the bar's end it ran into the whisker), and "no data"
        # in words as well as by hatching.
        annotations += [
            {
                "text": f"{label}: {value:.2f}" + (" (no data)" if gap else ""),
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": bar_top,
                "yanchor": "bottom",
                "yshift": 1,
                "showarrow": False,
                "bgcolor": "#ffffff",
                "font": {"size": 12},
            }
            for label, value, gap, bar_top in zip(labels, values, missing, bar_tops, strict=True)
        ]
        low = [float(v) if _is_number(v) else p for v, p in zip(frame["low"], values, strict=True)]
        high = [
            float(v) if _is_number(v) else p for v, p in zip(frame["high"], values, strict=True)
        ]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "x": values,
                "y": [t + BREAKDOWN_BAR_ROWS / 2 for t in bar_tops],
                "width": BREAKDOWN_BAR_ROWS,
                "name": group.capitalize(),
                "marker": {
                    "color": colour,
                    "pattern": {
                        "shape": ["/" if m else "" for m in missing],
                        "fgcolor": "#ffffff",
                        "size": 7,
                    },
                },
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [max(h - v, 0.0) for h, v in zip(high, values, strict=True)],
                    "arrayminus": [max(v - lo, 0.0) for v, lo in zip(values, low, strict=True)],
                    "color": "#1b2430",
                    "thickness": 1.2,
                    "width": 4,
                },
                "cliponaxis": False,
                "customdata": [
                    [
                        lo,
                        hi,
                        float(w) * 100,
                        "no data, typical value assumed" if m else "measured",
                        label,
                    ]
                    for lo, hi, w, m, label in zip(
                        low, high, frame["weight"], missing, labels, strict=True
                    )
                ],
                "hovertemplate": "%{customdata[4]}: %{x:.2f} (range %{customdata[0]:.2f} to "
                "%{customdata[1]:.2f})<br>weight %{customdata[2]:.0f}% of "
                + group
                + ", %{customdata[3]}<extra></extra>",
            }
        )
    margin = {"l": 16, "r": 24, "t": 48, "b": 52}
    layout.update(
        height=margin["t"] + margin["b"] + math.ceil(top * BREAKDOWN_ROW_PX),
        margin=margin,
        barmode="overlay",
        annotations=annotations,
        xaxis={
            "range": [0, 1.04],
            "tickvals": [0, 0.25, 0.5, 0.75, 1],
            "title": {"text": "component score (whiskers: range)", "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "zeroline": False,
            "fixedrange": True,
        },
        # Rows counted down from the top; the axis itself is not drawn.
        yaxis={"range": [top, 0], "visible": False, "fixedrange": True},
    )
    return _figure(traces, layout)


def reports_over_time_figure(series: pd.DataFrame, *, window_days: int = 7) -> go.Figure:
    """Citizen reports per window and category: as reported (solid) and adjusted for each
    district's reporting habits (dotted, same colour).

    ``series``: period_end (date, the last day of each window), category (name), raw and
    adjusted (reports in the window).
    """
    layout = _layout(f"Citizen reports every {window_days} days, by category", height=360)
    if series.empty:
        return _empty_figure(layout, "No reports in this problem's categories yet")
    frame = series.sort_values(["category", "period_end"])
    categories = list(dict.fromkeys(frame["category"]))
    traces = []
    # Legend names (and groups) stay apart even where long names share their start.
    for index, (category, name) in enumerate(
        zip(categories, unique_labels(categories, 40), strict=True)
    ):
        colour = CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
        rows = frame[frame["category"] == category]
        full = plotly_text(category)
        for column, dash, label in (
            ("raw", "solid", "as reported"),
            ("adjusted", "dot", "adjusted"),
        ):
            traces.append(
                {
                    "type": "scatter",
                    "x": list(rows["period_end"]),
                    "y": [float(v) for v in rows[column]],
                    "mode": "lines+markers"
                    if column == "raw" and len(rows) <= MARKER_POINTS
                    else "lines",
                    "name": f"{name} ({label})",
                    "legendgroup": name,
                    "line": {"color": colour, "width": 2 if column == "raw" else 2.5, "dash": dash},
                    "marker": {"size": 4},
                    "hovertemplate": f"{full}, {label}: %{{y:,.0f}} reports in the {window_days} "
                    "days to %{x|%Y-%m-%d}<extra></extra>",
                }
            )
    layout.update(
        margin={"l": 56, "r": 16, "t": 48, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        xaxis={"showgrid": False, "linecolor": "#c9d1dc", "ticks": "outside", "fixedrange": True},
        yaxis={
            "title": {"text": f"reports per {window_days} days", "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "rangemode": "tozero",
            "fixedrange": True,
        },
    )
    return _figure(traces, layout)


# ---------------------------------------------------------------- weekly priorities quadrant

# Trend of a problem: label, colour and marker shape (shape too, so colour is never alone).
TREND_STYLES: dict[str, tuple[str, str, str]] = {
    "worsening": ("Worsening", "#b3261e", "triangle-up"),
    "steady": ("Steady", "#4f5b6b", "circle"),
    "improving": ("Improving", "#1e7d45", "triangle-down"),
}
QUADRANT_HEIGHT = 480
QUADRANT_MAX_DIAMETER = 46
# Corner labels on two short lines, so that the two of one edge fit side by side on a phone.
QUADRANT_LABELS = (
    (1.0, 1.0, "right", "top", "Important<br>and tractable"),
    (0.0, 1.0, "left", "top", "Tractable,<br>less important"),
    (1.0, 0.0, "right", "bottom", "Important,<br>harder to move"),
    (0.0, 0.0, "left", "bottom", "Less important,<br>harder to move"),
)


def _axis_range(values: pd.Series) -> list[float]:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty:
        return [0.0, 1.0]
    low, high = float(numbers.min()), float(numbers.max())
    pad = max(0.06, (high - low) * 0.12)
    return [max(0.0, low - pad), min(1.0, high + pad)]


def priority_quadrant_figure(
    points: pd.DataFrame,
    *,
    title: str,
    size_label: str,
    label_top: int = 10,
) -> go.Figure:
    """Importance (x) against tractability (y), one bubble per problem, with median lines.

    ``points``: problem_id, title, rank, importance, tractability, priority, size (the
    bubble's quantity, >= 0, e.g. adjusted citizen reports) and trend (worsening, steady,
    improving: colour and marker shape). ``size_label`` names the size quantity in the legend
    and the hover. Bubbles of the top ``label_top`` carry their rank. Each point's customdata
    starts with the problem id, so a click can open the problem.
    """
    layout = house_layout(title, height=QUADRANT_HEIGHT)
    layout["title"]["subtitle"] = {
        "text": "Bubble area: " + plotly_text(size_label),
        "font": {"size": 12, "color": "#4f5b6b"},
    }
    layout.update(
        margin={"l": 64, "r": 24, "t": 64, "b": 120},
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.3,
            "x": 0,
            "xanchor": "left",
            "title": {"text": "Trend:"},
            "itemsizing": "constant",
        },
        dragmode=False,
    )
    if points.empty:
        layout.update(
            annotations=[
                {
                    "text": "No problems ranked for this week",
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 13, "color": "#5b6776"},
                }
            ],
            xaxis={"visible": False},
            yaxis={"visible": False},
        )
        return go.Figure(data=[], layout=layout, _validate=False)
    sizes = pd.to_numeric(points["size"], errors="coerce").fillna(0.0).clip(lower=0.0)
    biggest = float(sizes.max()) or 1.0
    size_ref = 2.0 * biggest / (QUADRANT_MAX_DIAMETER**2)
    size_unit = plotly_text(size_label)
    traces: list[dict[str, Any]] = []
    for trend, (label, colour, symbol) in TREND_STYLES.items():
        rows = points[points["trend"] == trend]
        if rows.empty:
            continue
        ranks = [int(r) for r in rows["rank"]]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": label,
                "x": [float(v) for v in rows["importance"]],
                "y": [float(v) for v in rows["tractability"]],
                "text": [str(r) if r <= label_top else "" for r in ranks],
                "textposition": "top center",
                "textfont": {"size": 11, "color": "#1b2430"},
                "marker": {
                    "size": [float(v) for v in sizes.loc[rows.index]],
                    "sizemode": "area",
                    "sizeref": size_ref,
                    "sizemin": 7,
                    "color": colour,
                    "symbol": symbol,
                    "opacity": 0.78,
                    "line": {"color": "#ffffff", "width": 1},
                },
                "customdata": [
                    [int(pid), plotly_text(name), rank, float(priority), float(size)]
                    for pid, name, rank, priority, size in zip(
                        rows["problem_id"],
                        rows["title"],
                        ranks,
                        rows["priority"],
                        sizes.loc[rows.index],
                        strict=True,
                    )
                ],
                "hovertemplate": "<b>#%{customdata[2]} %{customdata[1]}</b><br>"
                "Importance %{x:.2f} · tractability %{y:.2f}<br>"
                "Priority %{customdata[3]:.2f}<br>"
                + size_unit
                + ": %{customdata[4]:,.0f}<br>"
                + f"Trend: {label.lower()} · click to open<extra></extra>",
            }
        )
    x_mid = float(pd.to_numeric(points["importance"]).median())
    y_mid = float(pd.to_numeric(points["tractability"]).median())
    line = {"color": "#8a94a3", "width": 1, "dash": "dash"}
    layout["shapes"] = [
        {"type": "line", "xref": "x", "yref": "paper", "x0": x_mid, "x1": x_mid, "y0": 0,
         "y1": 1, "line": line},
        {"type": "line", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": y_mid,
         "y1": y_mid, "line": line},
    ]  # fmt: skip
    annotations = [
        {
            "text": label,
            "xref": "paper",
            "yref": "paper",
            "x": x,
            "y": y,
            "xanchor": xanchor,
            "yanchor": yanchor,
            "showarrow": False,
            "font": {"size": 11, "color": "#4f5b6b"},
        }
        for x, y, xanchor, yanchor, label in QUADRANT_LABELS
    ]
    annotations += [
        # Upright along its line: lying flat it runs into the corner labels on a phone.
        {"text": f"median {x_mid:.2f}", "xref": "x", "yref": "paper", "x": x_mid, "y": 0,
         "xanchor": "left", "yanchor": "bottom", "textangle": -90, "showarrow": False,
         "font": {"size": 10, "color": "#4f5b6b"}},
        {"text": f"median {y_mid:.2f}", "xref": "paper", "yref": "y", "x": 1, "y": y_mid,
         "xanchor": "right", "yanchor": "bottom", "showarrow": False,
         "font": {"size": 10, "color": "#4f5b6b"}},
    ]  # fmt: skip
    layout["annotations"] = annotations
    axis = {"gridcolor": "#e6eaf0", "zeroline": False, "fixedrange": True, "ticks": "outside"}
    layout["xaxis"] = {
        **axis,
        # Two lines: on one, the title is wider than a phone and is cut at both ends.
        "title": {"text": "Importance (score 0 to 1:<br>bigger gap, more people, worsening)"},
        "range": _axis_range(points["importance"]),
    }
    layout["yaxis"] = {
        **axis,
        "title": {"text": "Tractability (score 0 to 1)"},
        "range": _axis_range(points["tractability"]),
    }
    return go.Figure(data=traces, layout=layout, _validate=False)
