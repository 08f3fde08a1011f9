"""Figures on a real city's names and a phone: one bar per row, zero drawn white, short titles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest

from layouts import figures, problem
from tests.webutil import unfolded

# New York's names: equal in their first 30 characters, so cutting them at the end made the
# district chart draw Staten Island's three districts as one bar of 0.165 + 0.098 + 0.044.
STATEN = [f"Staten Island Community District {n}" for n in (1, 2, 3)]
MANHATTAN = [f"Manhattan Community District {n}" for n in (1, 10, 11, 12)]


def _valid(figure: go.Figure) -> dict[str, Any]:
    """Plotly's full validation of a builder's output (the builders skip it for speed)."""
    return go.Figure(figure.to_dict()).to_dict()


def _bars_by_label(trace: dict[str, Any]) -> dict[str, float | None]:
    assert len(set(trace["y"])) == len(trace["y"]), trace["y"]  # no two rows on one category
    return dict(zip(trace["y"], trace["x"], strict=True))


def test_figlab001_unique_labels_keep_the_end_that_tells_names_apart() -> None:
    names = [*STATEN, *MANHATTAN, "Brooklyn Community District 6"]
    labels = figures.unique_labels(names, 30)
    assert len(set(labels)) == len(names)
    assert all(len(label) <= 30 for label in labels)
    assert labels[:3] == [
        "Staten Island… District 1",
        "Staten Island… District 2",
        "Staten Island… District 3",
    ]
    # Names that fit stay whole; of the longer ones, only those that fell equal change style.
    assert labels[3] == "Manhattan Community District 1"
    assert labels[4:7] == [
        "Manhattan… District 10",
        "Manhattan… District 11",
        "Manhattan… District 12",
    ]
    assert labels[7] == "Brooklyn Community District 6"
    assert figures.unique_labels(["Illegal Animal Kept as Pet, in a flat"], 30) == [
        "Illegal Animal Kept as Pet, i…"
    ]  # alone, a long name is cut at its end as before


def test_figlab002_unique_labels_part_equal_names_and_escape() -> None:
    same = "<b>Same</b> & a very long name shared by two"
    labels = figures.unique_labels([same, same, "x" * 60 + "A", "x" * 60 + "B"], 30)
    assert len(set(labels)) == 4
    assert labels[1].endswith(" (2)")
    assert labels[0].startswith("&lt;b&gt;Same&lt;/b&gt; &amp;")  # escaped after cutting
    assert labels[2].endswith("xA") and labels[3].endswith("xB")  # a difference in one word
    assert figures.unique_labels([None, ""], 30) == ["", " (2)"]


def test_figlab003_district_chart_draws_one_bar_per_district_with_its_value() -> None:
    names = ["Brooklyn Community District 6", *STATEN, *MANHATTAN]
    raw = [0.19, 0.165, 0.098, 0.044, 0.12, 0.2, 0.1, 0.05]
    adjusted = [0.17, 0.15, 0.09, 0.04, None, 0.18, 0.09, 0.04]
    frame = pd.DataFrame({"name": names, "raw_per_1k": raw, "adjusted_per_1k": adjusted})
    spec = _valid(figures.district_rates_figure(frame, "Rates"))
    as_reported, adjusted_trace = spec["data"]
    staten = {k: v for k, v in _bars_by_label(as_reported).items() if "Staten" in k}
    # Cut to stay apart, then on two lines (beside bars on a phone one long line took half
    # the chart's width).
    assert staten == {
        "Staten Island…<br>District 1": 0.165,
        "Staten Island…<br>District 2": 0.098,
        "Staten Island…<br>District 3": 0.044,
    }
    labels = [figures.two_lines(label) for label in figures.unique_labels(names, 30)]
    assert _bars_by_label(as_reported) == dict(zip(labels, raw, strict=True))
    assert _bars_by_label(adjusted_trace) == dict(zip(labels, adjusted, strict=True))
    # The hover shows each full name, in the bars' order.
    assert list(as_reported["customdata"]) == names
    assert as_reported["hovertemplate"].startswith("%{customdata}<br>")
    assert spec["layout"]["yaxis"]["type"] == "category"


def test_figlab004_category_chart_draws_one_bar_per_category() -> None:
    names = [
        "Noise - Residential: Loud Music/Party",
        "Noise - Residential: Loud Music/Party (late night)",
        "Noise - Residential: Loud Music/Party (early morning)",
    ]
    frame = pd.DataFrame({"name": names, "count": [40, 25, 5], "last_year": [30.0, 20.0, 9.0]})
    spec = _valid(figures.category_bars_figure(frame, "Top"))
    selected, last_year = spec["data"]
    bars = _bars_by_label(selected)
    assert len(bars) == 3 and list(bars.values()) == [40.0, 25.0, 5.0]
    assert list(_bars_by_label(last_year).values()) == [30.0, 20.0, 9.0]
    # It fits in 38 characters and stays whole, on two lines.
    assert "Noise - Residential:<br>Loud Music/Party" in bars
    assert any(label.endswith("(late night)") for label in bars)
    assert list(selected["customdata"]) == names


def test_figlab005_heat_map_rows_legend_and_sankey_nodes_stay_apart() -> None:
    long = "Homes without heat or hot water in the winter months of "
    titles = [long + "2025", long + "2026"]
    heat = figures.engagement_heatmap_figure(
        pd.DataFrame({"problem_id": [1, 2], "sector": ["community"] * 2, "value": [3.0, 1.0]}),
        pd.DataFrame({"id": [1, 2], "title": titles}),
        ["community"],
        "Heat",
        "engagements",
    ).data[0]
    assert heat.y[0].endswith("2025 · #1") and heat.y[1].endswith("2026 · #2")
    day = dt.date(2026, 11, 20)
    series = pd.DataFrame(
        {
            "period_end": [day, day, day],
            "category": [*STATEN[:2], "Potholes"],
            "raw": [1.0, 2.0, 3.0],
            "adjusted": [1.0, 2.0, 3.0],
        }
    )
    traces = figures.reports_over_time_figure(series).data
    groups = list(dict.fromkeys(t.legendgroup for t in traces))
    assert len(groups) == 3  # toggling one category never hides another
    hovers = [t.hovertemplate for t in traces if t.name.startswith("Staten")]
    assert hovers[0].startswith(f"{STATEN[0]}, as reported")  # the full name
    assert hovers[2].startswith(f"{STATEN[1]}, as reported")
    flows = pd.DataFrame(
        {
            "funder": ["Fund for the City of New York, Staten Island"] * 2,
            "funder_sector": ["philanthropic"] * 2,
            "actor": [STATEN[0] + " Board", STATEN[1] + " Board"],
            "actor_sector": ["community"] * 2,
            "problem": ["Potholes", "Rats"],
            "amount": [100.0, 50.0],
        }
    )
    node = figures.funding_sankey_figure(flows, "Flows").data[0].node
    actors = [
        label for label, full in zip(node.label, node.customdata, strict=True) if "Board" in full
    ]
    assert len(actors) == 2 and actors[0] != actors[1]
    assert all(len(label) <= 34 for label in node.label)


def test_figlab006_heat_map_draws_zero_white_whatever_the_data() -> None:
    problems = pd.DataFrame({"id": [1, 2], "title": ["Heat", "Noise"]})
    sectors = ["community", "media"]
    assert figures.HEAT_COLOURSCALE[0] == [0.0, "#ffffff"]
    none = pd.DataFrame({"problem_id": [], "sector": [], "value": []})
    empty = _valid(figures.engagement_heatmap_figure(none, problems, sectors, "H", "engagements"))
    trace = empty["data"][0]
    # With zmin alone Plotly scaled to the data: all zeros ran -0.5..0.5, zero drawn mid-blue.
    assert (trace["zauto"], trace["zmin"], trace["zmax"]) == (False, 0, 1.0)
    assert trace["showscale"] is False and trace["z"] == [[0.0, 0.0], [0.0, 0.0]]
    cells = pd.DataFrame({"problem_id": [1, 2], "sector": sectors, "value": [250.0, 4.0]})
    some = _valid(figures.engagement_heatmap_figure(cells, problems, sectors, "H", "USD"))
    trace = some["data"][0]
    assert (trace["zauto"], trace["zmin"], trace["zmax"]) == (False, 0, 250.0)
    assert trace["showscale"] is True and trace["z"] == [[250.0, 0.0], [0.0, 4.0]]


def _breakdown() -> tuple[pd.DataFrame, dict[str, Any]]:
    components = {
        "importance": {
            "gap": {"value": 0.9, "low": 0.8, "high": 1.0},
            "concern": {"value": 0.4, "low": 0.1, "high": 0.7},
        },
        "tractability": {"reach": {"value": 0.5, "low": 0.5, "high": 0.5}},
        "neglectedness": {"uncovered": {"value": 0.2, "low": 0.1, "high": 0.3}},
        "missing": ["concern"],
        "weights": {"gap": 0.35, "concern": 0.2, "reach": 0.3, "uncovered": 0.5},
    }
    parts = problem.breakdown_frame(components)
    return parts, _valid(figures.component_breakdown_figure(parts))


def test_figlab007_score_breakdown_keeps_its_width_for_the_bars_on_a_phone() -> None:
    parts, spec = _breakdown()
    layout = spec["layout"]
    title = layout["title"]["text"]
    assert len(title) <= figures.TITLE_CHARACTERS and "0 = low, 1 = high" in title
    # No margin of names (it took a 390 px screen's whole width): names go above the bars.
    assert layout["margin"]["l"] <= 24 and layout["margin"]["r"] <= 32
    assert layout["yaxis"]["visible"] is False
    texts = [a["text"] for a in layout["annotations"]]
    assert texts[:3] == [
        "<b>Importance</b>",
        "Gap to target: 0.90",
        "Citizen concern: 0.40 (no data)",
    ]
    assert "<b>Tractability</b>" in texts and "<b>Neglectedness</b>" in texts
    scored = parts[parts["value"].map(figures._is_number)]
    bars = [(y, x) for trace in spec["data"] for y, x in zip(trace["y"], trace["x"], strict=True)]
    assert [x for _, x in bars] == pytest.approx(list(scored["value"]))
    # Each name sits right on top of its bar: the bar's top edge, on an axis counted downwards.
    names = [a for a in layout["annotations"] if not a["text"].startswith("<b>")]
    half = figures.BREAKDOWN_BAR_ROWS / 2
    assert [a["y"] for a in names] == pytest.approx([y - half for y, _ in bars])
    assert all(a["yanchor"] == "bottom" and a["x"] == 0 for a in names)
    assert layout["yaxis"]["range"][0] > max(y for y, _ in bars) + half  # reversed, all shown
    assert all(trace["width"] == figures.BREAKDOWN_BAR_ROWS for trace in spec["data"])
    assert layout["barmode"] == "overlay"  # bars of one group are not shifted aside
    hover = spec["data"][0]["hovertemplate"]
    assert hover.startswith("%{customdata[4]}: ") and spec["data"][0]["customdata"][0][4] == (
        "Gap to target"
    )
    # The figure grows with its rows, 40 px per component: 4 components and 3 headings.
    rows = 4 + 3 * figures.BREAKDOWN_HEADING_ROWS
    plot = layout["height"] - layout["margin"]["t"] - layout["margin"]["b"]
    assert plot == pytest.approx(rows * figures.BREAKDOWN_ROW_PX, abs=1)


def test_fig008_report_page_titles_fit_a_phone() -> None:
    """The walk-through found "Top categories: reports in the selected per…" and "Reports per
    1,000 residents by district, 17…" cut on a phone: chart titles now fit 36 characters and
    the whole wording stays in the chart's label."""
    from dash import dcc

    from layouts import reports

    assert figures.fit_title("x" * 36) == "x" * 36
    assert (
        figures.fit_title("Reports per week: " + "y" * 40) == "Reports per week: " + "y" * 17 + "…"
    )
    # Cut after a whole word when that keeps two thirds of the room (the trend chart's title
    # read "Reports per week: all categories ci…" on a 1440-pixel screen).
    assert (
        figures.fit_title("Reports per week: all categories citywide")
        == "Reports per week: all categories…"
    )
    assert figures.fit_title("Reports per week, all categories: citywide") == (
        "Reports per week, all categories…"
    )
    frame = pd.DataFrame({"name": ["Noise"], "count": [12], "last_year": [10.0]})
    block = reports.categories(frame, total=12)
    graphs = [c for c in _walk(block) if isinstance(c, dcc.Graph)]
    title = go.Figure(graphs[0].figure).layout.title.text
    assert len(title) <= figures.TITLE_CHARACTERS, title


def _walk(component: object):
    yield component
    drawn = unfolded(component)  # a deferred chart's content
    if drawn is not None:
        yield from _walk(drawn)
    children = getattr(component, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, list | tuple) else [children]:
        yield from _walk(child)


def test_fig010_indicator_chart_titles_fit_a_phone_and_weekly_legends_clear_the_title() -> None:
    """At 390 px the indicator chart's title read "90th-percentile EMS response time, life-threa"
    (clipped, no ellipsis), and the weekly trend's legend, wrapped on two rows, rose into its
    title."""
    history = pd.DataFrame({"period": [pd.Timestamp("2026-11-30")], "value": [14.6]})
    name = "90th-percentile EMS response time, life-threatening calls"
    title = figures.indicator_history_figure(history, name=name, unit="minutes").layout.title.text
    assert title == "90th-percentile EMS response time…"
    assert len(title) <= figures.TITLE_CHARACTERS
    weekly = pd.DataFrame(
        {
            "week_start": pd.to_datetime(["2026-11-23", "2026-11-30"]).date,
            "count": [700, 1745],
            "last_year": [650.0, 1200.0],
            "days": [7, 7],
        }
    )
    trend = figures.weekly_reports_figure(weekly, "Reports per week")
    # Two legend rows (about 20 px each) and the title (about 24 px) above the plot.
    assert trend.layout.margin.t >= 84 and trend.layout.showlegend is not False
    # What the counts cover is a smaller line of its own: the title is never cut for it, a
    # long scope is cut at a word on its own line, and the plot keeps its height.
    scope = "Street light out or flickering in Northeast Neighbourhood Planning Area 7 <b>"
    scoped = figures.weekly_reports_figure(weekly, "Reports per week", subtitle=scope)
    assert scoped.layout.title.text == "Reports per week"
    subtitle = scoped.layout.title.subtitle.text
    assert subtitle == "Street light out or flickering in Northeast…"
    assert len(subtitle) <= figures.SUBTITLE_CHARACTERS
    assert scoped.layout.margin.t == trend.layout.margin.t + figures.SUBTITLE_ROOM
    plot_height = trend.layout.height - trend.layout.margin.t - trend.layout.margin.b
    assert scoped.layout.height - scoped.layout.margin.t - scoped.layout.margin.b == plot_height
    short = figures.weekly_reports_figure(weekly, "Reports per week", subtitle="Pothole <i>")
    assert short.layout.title.subtitle.text == "Pothole &lt;i&gt;"


def test_fig011_bar_labels_wrap_onto_two_balanced_lines_and_the_margin_follows() -> None:
    assert figures.two_lines("Pothole") == "Pothole"
    assert figures.two_lines("Overflowing public litter bin") == "Overflowing<br>public litter bin"
    assert figures.two_lines("Abcdefghijklmnopqrstuvwxyz") == "Abcdefghijklmnopqrstuvwxyz"
    frame = pd.DataFrame(
        {
            "name": ["Overflowing public litter bin", "Pothole"],
            "count": [9, 4],
            "last_year": [1.0, 2.0],
        }
    )
    bars = figures.category_bars_figure(frame, "Top")
    assert list(bars.data[0].y) == ["Overflowing<br>public litter bin", "Pothole"]
    assert list(bars.data[0].customdata) == ["Overflowing public litter bin", "Pothole"]
    # The margin is the longest line's, not the whole name's: 80 px more for the bars.
    assert bars.layout.margin.l == figures.label_margin(["public litter bin"])
    assert bars.layout.margin.l < figures.label_margin(["Overflowing public litter bin"]) - 60
