"""The backward map tab: an interactive Cytoscape graph (condition, causal factors, the actors
astride them) with a text legend, a detail panel, and the factor table as its text alternative.

Reach is colour-coded and also written out; gaps, contested factors and leverage points are
marked in the node labels, so nothing depends on colour alone. Labels are plain text.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import dash_cytoscape as cyto
from dash import html

from layouts import ids
from layouts.components import Column, data_table, empty_state, flag, humanize, notice, section
from layouts.figures import SECTOR_COLOURS
from triage.backward_map import BackwardMap, FactorNode
from triage.vocabulary import SECTOR_WORDS

# The graph's height comes from the stylesheet (--tri-map-height): lower on a phone, where a
# tall graph that takes every drag would leave no room to scroll past it.
GRAPH_HEIGHT = "var(--tri-map-height, 640px)"
REACH_STYLE: dict[str, tuple[str, str, str]] = {
    # reach: (label, fill, border); the fills keep dark text at AA contrast
    "controls": ("The city controls it", "#e3f2e8", "#1c6434"),
    "influences": ("The city can influence it", "#e4edf9", "#1d4f91"),
    "outside": ("Outside the city's reach", "#eceff3", "#3d4754"),
}
REACH_TONES = {"controls": "success", "influences": "info", "outside": "neutral"}
GAP_COLOUR = "#a3211a"
CONTESTED_COLOUR = "#7a4500"
LEVER_MARK = "Lever"
NO_ACTOR_MARK = "No actor"
CONTESTED_MARK = "Contested"


def _marks(node: FactorNode, levers: set[int]) -> list[str]:
    marks = []
    if node.id in levers:
        marks.append(LEVER_MARK)
    if not node.actors:
        marks.append(NO_ACTOR_MARK)
    if node.effort in {"competing", "mixed"}:
        marks.append(CONTESTED_MARK)
    return marks


def graph_elements(bmap: BackwardMap) -> list[dict[str, Any]]:
    """``bmap.elements()`` with a ``display`` label (the title plus its marks on a second
    line) and, on nodes, the ``detail`` lines the panel beside the graph shows."""
    levers = {lp.factor_id for lp in bmap.leverage_points}
    nodes = {f"factor-{f.id}": f for f in bmap.factors}
    elements = []
    for element in bmap.elements(include_actors=True):
        data = dict(element["data"])
        node = nodes.get(str(data.get("id")))
        if node is not None:
            marks = _marks(node, levers)
            data["display"] = node.title + (f"\n[{' · '.join(marks)}]" if marks else "")
        elif "label" in data:
            data["display"] = str(data["label"])
        if "source" not in data:
            data["detail"] = node_lines(bmap, str(data["id"]))
        elements.append({**element, "data": data})
    return elements


def stylesheet() -> list[dict[str, Any]]:
    """Cytoscape styles: reach as fill and border, gaps dashed red, levers with a double border."""
    styles: list[dict[str, Any]] = [
        {
            "selector": "node",
            "style": {
                "label": "data(display)",
                "font-family": "system-ui, sans-serif",
                "font-size": 13,
                "color": "#1b2430",
                "text-wrap": "wrap",
                "text-max-width": 140,
                "text-valign": "center",
                "text-halign": "center",
            },
        },
        {
            "selector": "node.problem",
            "style": {
                "shape": "round-rectangle",
                "background-color": "#13294b",
                "color": "#ffffff",
                "font-size": 13,
                "font-weight": "bold",
                "text-max-width": 220,
                "width": "label",
                "height": "label",
                "padding": 14,
            },
        },
        {
            "selector": "node.factor",
            "style": {
                "shape": "round-rectangle",
                "width": "label",
                "height": "label",
                "padding": 10,
                "border-width": 2,
            },
        },
        {
            "selector": "node.actor",
            "style": {
                "shape": "ellipse",
                "width": 16,
                "height": 16,
                "font-size": 10,
                "color": "#3d4754",
                "text-valign": "bottom",
                "text-margin-y": 4,
                "text-max-width": 110,
                "border-width": 1,
                "border-color": "#ffffff",
            },
        },
        {
            "selector": "node.uncovered",
            "style": {"border-color": GAP_COLOUR, "border-width": 3, "border-style": "dashed"},
        },
        {
            "selector": "node.contested",
            "style": {"border-color": CONTESTED_COLOUR, "border-width": 3},
        },
        {"selector": "node.leverage", "style": {"border-style": "double", "border-width": 6}},
        {
            "selector": "edge.cause",
            "style": {
                "width": 2,
                "line-color": "#7d8898",
                "target-arrow-color": "#7d8898",
                "target-arrow-shape": "triangle",
                "curve-style": "bezier",
            },
        },
        {
            "selector": "edge.engagement",
            "style": {"width": 1.2, "line-color": "#aab3c0", "line-style": "dotted"},
        },
        {
            "selector": "edge.stance-competing",
            "style": {"line-color": GAP_COLOUR, "line-style": "dashed", "width": 1.6},
        },
        {"selector": ":selected", "style": {"overlay-color": "#0b57d0", "overlay-opacity": 0.18}},
    ]
    for reach, (_label, fill, border) in REACH_STYLE.items():
        styles.insert(
            3,
            {
                "selector": f"node.reach-{reach}",
                "style": {"background-color": fill, "border-color": border},
            },
        )
    for sector, colour in SECTOR_COLOURS.items():
        styles.append({"selector": f"node.sector-{sector}", "style": {"background-color": colour}})
    return styles


def legend() -> html.Ul:
    """What the colours and marks mean, in words."""
    items = [
        html.Li(
            [
                html.Span(
                    className="legend-swatch",
                    style={"background": fill, "borderColor": border},
                    **{"aria-hidden": "true"},
                ),
                label,
            ]
        )
        for label, fill, border in REACH_STYLE.values()
    ]
    items += [
        html.Li(
            [
                html.Span(className="legend-swatch gap", **{"aria-hidden": "true"}),
                f"Dashed red border, [{NO_ACTOR_MARK}]: nobody works on it",
            ]
        ),
        html.Li(
            [
                html.Span(className="legend-swatch lever", **{"aria-hidden": "true"}),
                f"Double border, [{LEVER_MARK}]: a leverage point",
            ]
        ),
        html.Li(
            [
                html.Span(className="legend-swatch actor", **{"aria-hidden": "true"}),
                "Small circles: actors (coloured by sector); dotted lines: who works where",
            ]
        ),
        html.Li("Arrows point from a cause to what it feeds, back to the condition at the top."),
    ]
    return html.Ul(items, className="map-legend", **{"aria-label": "Legend of the graph"})


def graph(bmap: BackwardMap) -> Any:
    """The interactive graph (pan, zoom, select a node for details) with its legend."""
    return cyto.Cytoscape(
        id=ids.problem_map_graph(bmap.problem_id),
        elements=graph_elements(bmap),
        stylesheet=stylesheet(),
        layout={
            "name": "breadthfirst",
            "roots": f"#problem-{bmap.problem_id}",
            "directed": False,
            "spacingFactor": 0.95,
            "padding": 16,
            "avoidOverlap": True,
        },
        style={"width": "100%", "height": GRAPH_HEIGHT},
        # Low enough for the fit to show the whole map on a phone (the city demo's widest
        # needs 0.22 at 390 px); pinch or scroll to zoom in, the table below has every word.
        minZoom=0.1,
        maxZoom=2.5,
        wheelSensitivity=0.2,
        responsive=True,
        className="map-graph",
    )


def detail_placeholder() -> html.Div:
    return html.Div(
        [
            html.P("Select a factor or an actor in the graph to see it here.", className="muted"),
            html.P(
                "Everything in the graph is also in the table of causal factors below.",
                className="muted",
            ),
        ]
    )


def _actor_line(actor: Any) -> str:
    money = f", ${actor.committed_funding:,.0f} committed" if actor.committed_funding else ""
    return (
        f"{actor.name} ({SECTOR_WORDS.get(actor.sector, humanize(actor.sector))}): "
        f"{humanize(actor.role).lower()}, {humanize(actor.stance).lower()}{money}"
    )


def node_lines(bmap: BackwardMap, node_id: str) -> list[str]:
    """What the detail panel says about one node: a title line, then plain sentences.

    Computed here (server side) and carried in the node's data, so selecting a node needs no
    round trip; the browser shows the lines as text.
    """
    kind, _, raw = node_id.partition("-")
    if not raw.isdigit():
        return []
    number = int(raw)
    if kind == "problem":
        return [bmap.title or "The problem", *bmap.summary]
    if kind == "factor":
        node = next((f for f in bmap.factors if f.id == number), None)
        if node is None:
            return []
        lever = next((lp for lp in bmap.leverage_points if lp.factor_id == number), None)
        lines = [
            node.title,
            f"{REACH_STYLE.get(node.reach, (humanize(node.reach),))[0]}; evidence "
            f"{humanize(node.evidence).lower()}; causal weight {node.weight:.2f}, "
            f"{node.share:.0%} of the map's causal weight.",
            node.effort_note,
            *(_actor_line(a) + "." for a in node.actors),
        ]
        if lever is not None:
            lines.append(f"Leverage point: {lever.reason}")
        return lines
    if kind == "actor":
        engaged = [(f.title, a) for f in bmap.factors for a in f.actors if a.actor_id == number]
        engaged += [
            ("the problem as a whole", a) for a in bmap.problem_actors if a.actor_id == number
        ]
        if not engaged:
            return []
        first = engaged[0][1]
        return [
            first.name,
            SECTOR_WORDS.get(first.sector, humanize(first.sector)).capitalize() + ".",
            *(
                f"On {where}: {humanize(a.role).lower()}, {humanize(a.stance).lower()}"
                + (f", ${a.committed_funding:,.0f} committed" if a.committed_funding else "")
                + "."
                for where, a in engaged
            ),
        ]
    return []


def factor_table(bmap: BackwardMap) -> Any:
    """Every factor with what it feeds, reach, evidence, weight, share, actors and marks."""
    if not bmap.factors:
        return empty_state(
            "No causal factors mapped yet.",
            "Map backward from the condition: what contributes to it, and what to those?",
        )
    titles = {f.id: f.title for f in bmap.factors}
    feeds: dict[int, list[str]] = defaultdict(list)
    for edge in bmap.edges:
        feeds[edge.source].append(
            "The problem itself" if edge.target is None else titles.get(edge.target, "?")
        )
    levers = {lp.factor_id for lp in bmap.leverage_points}
    order = sorted(bmap.factors, key=lambda f: (f.depth, -f.causal_importance, f.id))
    rows = []
    for node in order:
        tones = {LEVER_MARK: "success", NO_ACTOR_MARK: "danger", CONTESTED_MARK: "warning"}
        marks = [flag(mark, tones[mark]) for mark in _marks(node, levers)]
        rows.append(
            {
                "factor": node.title,
                "feeds": "; ".join(feeds.get(node.id, ["The problem itself"])),
                "reach": flag(
                    REACH_STYLE.get(node.reach, (humanize(node.reach),))[0],
                    REACH_TONES.get(node.reach, "neutral"),
                ),
                "evidence": humanize(node.evidence),
                "weight": f"{node.weight:.2f}",
                "share": f"{node.share:.0%}",
                "actors": ", ".join(sorted({a.name for a in node.actors})) or "—",
                "marks": html.Span(marks, className="flag-row") if marks else "—",
            }
        )
    return data_table(
        [
            Column("Causal factor", "factor"),
            Column("Feeds into", "feeds"),
            Column("Reach", "reach"),
            Column("Evidence", "evidence"),
            Column("Weight", "weight", numeric=True),
            Column("Share of causal weight", "share", numeric=True),
            Column("Actors astride it", "actors"),
            Column("Marks", "marks"),
        ],
        rows,
        caption="Causal factors of the backward map (the graph as a table)",
        row_header="factor",
    )


def leverage_list(bmap: BackwardMap) -> Any:
    if not bmap.leverage_points:
        return empty_state(
            "No leverage points yet.",
            "A lever is a factor that matters, is within reach and has actors willing to act.",
        )
    return html.Ol([html.Li(lp.reason) for lp in bmap.leverage_points], className="lever-list")


def gaps(bmap: BackwardMap) -> Any:
    titles = {f.id: f.title for f in bmap.factors}
    items = []
    if bmap.uncovered:
        items.append(
            html.Li(
                "Nobody works on: " + "; ".join(titles[i] for i in bmap.uncovered if i in titles)
            )
        )
    if bmap.contested:
        items.append(
            html.Li(
                "Actors pull in opposite ways on: "
                + "; ".join(titles[i] for i in bmap.contested if i in titles)
            )
        )
    if bmap.missing_core_sectors:
        missing = bmap.missing_core_sectors
        items.append(
            html.Li(
                f"Sectors not engaged ({len(missing)} of the core six): "
                + ", ".join(SECTOR_WORDS.get(s, humanize(s)) for s in missing)
            )
        )
    if bmap.other_sectors_missing:
        items.append(
            html.Li(
                "Beyond the core six, also not engaged: "
                + ", ".join(SECTOR_WORDS.get(s, humanize(s)) for s in bmap.other_sectors_missing)
            )
        )
    if not items:
        return html.P("No gaps: every factor has someone on it and every sector is engaged.")
    return html.Ul(items, className="gap-list")


def map_section(bmap: BackwardMap, problem_message: str | None = None) -> html.Div:
    """The whole tab: summary, graph with legend and detail panel, factor table, levers, gaps.

    ``problem_message`` explains a map that could not be drawn as stored (a loop).
    """
    blocks: list[Any] = []
    if problem_message:
        blocks.append(notice(problem_message, "warning", title="The map needs fixing"))
    blocks.append(html.Ul([html.Li(line) for line in bmap.summary], className="sentence-list"))
    if bmap.factors:
        blocks.append(
            html.Div(
                [
                    html.Figure(
                        [
                            graph(bmap),
                            html.Figcaption(
                                "The backward map: the condition at the top, its causal factors "
                                "below it and the actors astride them. Drag to move, scroll or "
                                "pinch to zoom, select a node for details; the table below "
                                "lists the same factors.",
                                className="chart-caption",
                            ),
                        ],
                        className="chart-figure map-figure",
                    ),
                    html.Div(
                        [
                            html.H3("Legend", className="detail-heading"),
                            legend(),
                            html.H3("Selected", className="detail-heading"),
                            html.Div(
                                detail_placeholder(),
                                id=ids.problem_map_detail(bmap.problem_id),
                                className="map-detail",
                                **{"aria-live": "polite"},
                            ),
                        ],
                        className="map-side",
                    ),
                ],
                className="split map-split",
            )
        )
    blocks.append(section("Causal factors", factor_table(bmap), level=3))
    blocks.append(
        html.Div(
            [
                section("Leverage points", leverage_list(bmap), level=3),
                section("Gaps", gaps(bmap), level=3),
            ],
            className="two-col",
        )
    )
    return html.Div(blocks)
