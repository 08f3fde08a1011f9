"""Figure builders: pure functions from plain data to Plotly figures (no database, no callbacks).

Plotly interprets a few HTML tags in text, so every piece of stored text is escaped first.
"""

from __future__ import annotations

import html as html_text
import math

import pandas as pd
import plotly.graph_objects as go

SERIES_COLOUR = "#1d4f91"
TARGET_COLOUR = "#1e7d45"
WARNING_COLOUR = "#a15c00"
CRITICAL_COLOUR = "#b3261e"
CHART_HEIGHT = 240
FONT_FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def plotly_text(value: object) -> str:
    """Stored text made inert for Plotly labels (which read ``<a>``, ``<b>``, ``<br>``)."""
    return html_text.escape(str(value if value is not None else ""), quote=True)


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
    figure = go.Figure()
    frame = history.sort_values("period") if not history.empty else history
    figure.add_trace(
        go.Scatter(
            x=list(frame["period"]) if not frame.empty else [],
            y=list(frame["value"]) if not frame.empty else [],
            mode="lines+markers",
            name="Observed",
            line={"color": SERIES_COLOUR, "width": 2},
            marker={"size": 5},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.4~g} " + unit_label + "<extra></extra>",
        )
    )
    # Labels sit at different ends so that close lines do not print on top of each other.
    lines = (
        (target, "Target", TARGET_COLOUR, "dash", "top left"),
        (warning_threshold, "Warning", WARNING_COLOUR, "dot", "top right"),
        (critical_threshold, "Critical", CRITICAL_COLOUR, "dot", "bottom right"),
    )
    for value, label, colour, dash, position in lines:
        if _is_number(value):
            figure.add_hline(
                y=float(value),  # type: ignore[arg-type]
                line={"color": colour, "dash": dash, "width": 1.5},
                annotation_text=f"{label} {float(value):,.4g}",  # type: ignore[arg-type]
                annotation_position=position,
                annotation_font={"color": colour, "size": 11},
            )
    figure.update_layout(
        title={"text": plotly_text(name), "font": {"size": 14}, "x": 0, "xanchor": "left"},
        height=CHART_HEIGHT,
        margin={"l": 56, "r": 16, "t": 40, "b": 36},
        showlegend=False,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        font={"family": FONT_FAMILY, "size": 12, "color": "#1b2430"},
        hoverlabel={"bgcolor": "#ffffff"},
    )
    figure.update_xaxes(showgrid=False, linecolor="#c9d1dc", ticks="outside")
    figure.update_yaxes(
        title={"text": unit_label, "font": {"size": 12}},
        gridcolor="#e6eaf0",
        zeroline=False,
    )
    if frame.empty:
        figure.add_annotation(
            text="No observations yet",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            font={"size": 13, "color": "#5b6776"},
        )
    return figure
