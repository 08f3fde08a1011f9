"""Shared presentational pieces: page headers, KPI cards, tables, badges, empty and error states.

Everything here renders text as text (plain ``html.*`` children), never as HTML.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html
from plotly.utils import PlotlyJSONEncoder

from layouts import ids
from triage import plain

UNITLESS = frozenset({"count", "number", "#", "n"})
STATUS_TONES = {
    # problem statuses
    "watch": "neutral",
    "emerging": "warning",
    "focus": "info",
    "monitoring": "neutral",
    "resolved": "success",
    # indicator statuses
    "on_track": "success",
    "at_risk": "warning",
    "off_track": "danger",
    # users
    "active": "success",
    "disabled": "neutral",
}
SEVERITY_TONES = {"critical": "danger", "warning": "warning", "info": "info"}


@dataclass(frozen=True)
class Column:
    """One table column: its header text and the row key it shows."""

    header: str
    key: str
    numeric: bool = False


def humanize(code: object) -> str:
    """``"off_track"`` → ``"Off track"``; empty values become an em dash."""
    if code is None or (isinstance(code, float) and math.isnan(code)) or code == "":
        return "—"
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def format_number(value: object, unit: str = "", digits: int = 1) -> str:
    """A readable number with its unit (``"82.5 %"``, ``"1,204 reports"``); missing → ``"—"``."""
    if value is None:
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if math.isnan(number):
        return "—"
    text = f"{number:,.0f}" if number.is_integer() else f"{number:,.{digits}f}"
    if not unit or unit.strip().lower() in UNITLESS:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_date(value: object) -> str:
    """ISO date for a date or datetime; missing → ``"—"``."""
    if value is None or bool(pd.isna(value)):
        return "—"
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()  # type: ignore[union-attr]
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text not in {"NaT", "nan", "None"} else "—"


def page_header(title: str, lead: str | None = None, extra: Any = None) -> html.Div:
    """The page's single ``h1`` with an optional one-line lead paragraph."""
    children: list[Any] = [html.H1(title, className="page-title")]
    if lead:
        children.append(html.P(lead, className="page-lead"))
    if extra is not None:
        children.append(extra)
    return html.Div(children, className="page-header")


def section(title: str, children: Any, *, level: int = 2, class_name: str = "") -> html.Section:
    """A titled section of a page (``h2`` by default) for the document outline."""
    heading = html.H2 if level == 2 else html.H3
    return html.Section(
        [heading(title, className="section-title"), children],
        className=f"page-section {class_name}".strip(),
    )


def kpi_card(label: str, value: str, detail: str | None = None, tone: str = "neutral") -> html.Div:
    """A key figure: a label, a large value and an optional detail line."""
    children: list[Any] = [
        html.P(label, className="kpi-label"),
        html.P(value, className="kpi-value"),
    ]
    if detail:
        children.append(html.P(detail, className="kpi-detail"))
    return html.Div(children, className=f"kpi-card kpi-{tone}")


def kpi_row(cards: Sequence[html.Div]) -> html.Div:
    return html.Div(list(cards), className="kpi-row")


def status_badge(status: object) -> html.Span:
    """A coloured label for a problem, indicator or user status (text, never colour alone)."""
    key = str(status) if status is not None else ""
    tone = STATUS_TONES.get(key, "neutral")
    return html.Span(humanize(status), className=f"status-badge tone-{tone}")


def score_band(value: object, low: object = None, high: object = None) -> html.Span:
    """A 0-1 score as the mayor reads it: "High", "Medium" or "Low", with the number and its
    likely range in the hover and, for screen readers, in hidden text beside it."""
    band = plain.score_band(value)  # type: ignore[arg-type]
    hint = plain.band_hint(value, low, high)  # type: ignore[arg-type]
    if band is None:
        return html.Span("—", title=hint, className="score-band score-band-none")
    return html.Span(
        [band, html.Span(f", {hint}", className="visually-hidden")],
        title=hint,
        className=f"score-band score-band-{band.lower()}",
    )


def flag(text: str, tone: str = "warning") -> html.Span:
    """A short inline marker such as "Overdue" or "No actor"."""
    return html.Span(text, className=f"flag tone-{tone}")


def empty_state(title: str, message: str = "") -> html.Div:
    """What a section shows when it has nothing to show, and why."""
    children: list[Any] = [html.P(title, className="empty-title")]
    if message:
        children.append(html.P(message, className="empty-message"))
    return html.Div(children, className="empty-state")


def notice(message: Any, tone: str = "info", *, title: str | None = None) -> html.Div:
    """A message box; errors use role=alert so screen readers announce them at once."""
    role = "alert" if tone == "danger" else "status"
    children: list[Any] = []
    if title:
        children.append(html.P(title, className="notice-title"))
    children.append(message if not isinstance(message, str) else html.P(message))
    return html.Div(children, className=f"notice tone-{tone}", role=role)


def form_field(label: str, control: Any, hint: str | None = None) -> html.Div:
    """A labelled form control: the label names the control (``for`` = its id), hint below.

    The control must have a string ``id``: a label that points nowhere fails WCAG 1.3.1.
    """
    control_id = getattr(control, "id", None)
    if not isinstance(control_id, str) or not control_id:
        raise ValueError("form_field needs a control with a string id for its label")
    children: list[Any] = [dbc.Label(label, html_for=control_id), control]
    if hint:
        children.append(dbc.FormText(hint))
    return html.Div(children, className="form-field")


def form_feedback(component_id: str) -> html.Div:
    """Where a form's outcome appears; screen readers announce it when it changes."""
    return html.Div(id=component_id, className="form-feedback", **{"aria-live": "polite"})


BUTTON_TONES = ("primary", "secondary", "danger")


def button(
    label: str,
    component_id: str,
    *,
    tone: str = "primary",
    outline: bool = False,
    small: bool = False,
    **props: Any,
) -> html.Button:
    """A form's button in the design system: ``tone`` primary, secondary or danger, ``outline``
    for the lesser actions, ``small`` for a pager or a row's button; a plain button (never
    submits a form), counted from 0. ``props`` go to the button (``disabled``, ``hidden``...)."""
    if tone not in BUTTON_TONES:
        raise ValueError(f"button tone must be one of {BUTTON_TONES}, not {tone!r}")
    variant = f"btn-outline-{tone}" if outline else f"btn-{tone}"
    size = " btn-sm" if small else ""
    return html.Button(
        label,
        id=component_id,
        type="button",
        className=f"btn{size} {variant}",
        n_clicks=0,
        **props,
    )


def pager(
    prev_id: str, text_id: str, next_id: str, *, label: str, class_name: str, **props: Any
) -> html.Nav:
    """Previous and next page of a long list (plain buttons: keyboard reachable), with the
    line that says which rows are shown read out when it changes. The list's callback enables
    the buttons and writes the line. ``label`` names the landmark ("Pages of alerts");
    ``props`` go to the nav (``id``, ``hidden``)."""
    return html.Nav(
        [
            button("Previous page", prev_id, outline=True, small=True, disabled=True),
            html.Span(id=text_id, className="pager-text", role="status"),
            button("Next page", next_id, outline=True, small=True, disabled=True),
        ],
        className=f"{class_name} form-actions",
        **{"aria-label": label},
        **props,
    )


def form_actions(*buttons: Any, class_name: str = "form-actions") -> html.Div:
    """A form's row of buttons, the main action first (``button-row`` for a row inside a
    card's body); put ``form_feedback`` after it."""
    return html.Div(list(buttons), className=class_name)


def loading(children: Any) -> dcc.Loading:
    """A spinner shown while a callback fills ``children`` (after a short delay, no flicker)."""
    return dcc.Loading(children, type="circle", delay_show=250, color="var(--tri-accent)")


def data_table(
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    *,
    caption: str,
    row_header: str | None = None,
    stack_on_phone: bool = False,
) -> html.Div:
    """A plain HTML table in a ``scroll_region``; cells may be text or small components.

    ``caption`` names the table (and its scroll region) for screen readers; ``row_header`` makes
    that column's cells ``th scope=row`` so each row is announced by its name. With
    ``stack_on_phone`` each row becomes a card on a narrow screen, every cell under its column's
    name (``data-label``), so a row's actions stay on screen instead of scrolling sideways.
    """
    head = html.Thead(
        html.Tr(
            [
                html.Th(c.header, scope="col", className="num" if c.numeric else None)
                for c in columns
            ]
        )
    )
    body_rows = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            content = value if value is not None else "—"
            class_name = "num" if c.numeric else None
            label = {"data-label": c.header} if stack_on_phone else {}
            if c.key == row_header:
                cells.append(html.Th(content, scope="row", className=class_name, **label))
            else:
                cells.append(html.Td(content, className=class_name, **label))
        body_rows.append(html.Tr(cells))
    table = html.Table(
        [html.Caption(caption, className="visually-hidden"), head, html.Tbody(body_rows)],
        className="table table-hover align-middle data-table"
        + (" data-table-stack" if stack_on_phone else ""),
    )
    return scroll_region(table, caption)


def scroll_region(content: Any, label: str) -> html.Div:
    """A box that scrolls sideways when ``content`` (a table) is wider than the screen.

    On a phone the page itself must never scroll sideways, so wide content scrolls here; the
    box is in the tab order (arrow keys scroll it) and is a region named by ``label``, so a
    keyboard or screen-reader user can reach and recognise it (WCAG 2.1.1, 4.1.2).
    """
    return html.Div(
        content,
        className="table-responsive scroll-region",
        tabIndex="0",
        role="region",
        **{"aria-label": label},
    )


def access_denied() -> html.Div:
    """Shown instead of a page the signed-in role may not see."""
    return html.Div(
        [
            page_header("You don't have access to this page"),
            html.P(
                "Your account's role does not include this part of Triage. "
                "If you need it, ask an administrator.",
                className="page-lead",
            ),
            dcc.Link("Back to the problems", href="/problems", className="btn btn-primary"),
        ],
        className="state-page",
    )


def not_found(what: str = "Page") -> html.Div:
    """Shown for an unknown address or an unknown record."""
    return html.Div(
        [
            page_header(f"{what} not found"),
            html.P(
                f"There is no {what.lower()} at this address. It may have been removed, "
                "or the link may be mistyped.",
                className="page-lead",
            ),
            dcc.Link("Back to the problems", href="/problems", className="btn btn-primary"),
        ],
        className="state-page",
    )


def not_found_page(**_kwargs: Any) -> html.Div:
    """Layout of the catch-all 404 page."""
    return not_found("Page")


def chart_block(
    figure: Any,
    *,
    label: str,
    summary: str,
    table: Any = None,
    table_label: str = "Show the numbers as a table",
    height: int | None = None,
    min_width: int | None = None,
) -> html.Figure:
    """A chart with its text alternatives: an image label, a visible summary, a data table.

    The graph is one image to assistive technology (``role=img`` named by ``label``); the
    caption says what it shows in words and the table (folded in a ``details``) gives every
    number, so nothing depends on seeing or hovering the chart. The graph takes the width of
    its column; with ``min_width`` (px) it never gets narrower (a chart whose labels cannot
    shrink, like a Sankey) and scrolls sideways in a ``scroll_region`` on a narrower screen.
    The table's fold is keyed by ``label``: two charts of one page need different labels.
    """
    graph_props: dict[str, Any] = {"style": {"height": f"{height}px"}} if height else {}
    key = f"chart-{_fold_key(label)}"
    graph: Any = html.Div(
        deferred(
            dcc.Graph(
                figure=figure,
                config={"displayModeBar": False, "responsive": True},
                **graph_props,
            ),
            key=key,
            height=height or _figure_height(figure),
        ),
        role="img",
        className="chart-graph",
        style={"minWidth": f"{min_width}px"} if min_width else None,
        **{"aria-label": label},
    )
    if min_width:
        graph = scroll_region(graph, f"{label} (scrolls sideways)")
        graph.className = "chart-scroll scroll-region"
    children: list[Any] = [graph, html.Figcaption(summary, className="chart-caption")]
    if table is not None:
        children.append(lazy_fold(table_label, table, key=key))
    return html.Figure(children, className="chart-block")


def lazy_fold(summary: Any, content: Any, *, key: str, class_name: str = "chart-table") -> Any:
    """A closed ``details`` whose ``content`` is drawn the first time it is opened.

    The content travels with the page as JSON text in a store, and a clientside callback
    (``callbacks/lazy_folds.py``) draws it on the first click or Enter on the summary. Drawn
    closed, hundreds of hidden cells cost every load: the tables of the Actors and Reports
    pages took 100-200 ms of each load's rendering (p50 at 1440x900, alternating runs).
    ``key`` must be unique on its page.
    """
    return html.Div(
        [
            html.Details(
                [
                    html.Summary(summary),
                    html.Div(id={"type": ids.LAZY_FOLD_BODY, "key": key}),
                ],
                id={"type": ids.LAZY_FOLD, "key": key},
                className=class_name,
            ),
            # As text: held as a component, even in a store's data, the renderer would
            # still walk it on every load.
            dcc.Store(
                id={"type": ids.LAZY_FOLD_STORE, "key": key},
                data=json.dumps(content, cls=PlotlyJSONEncoder),
            ),
        ],
        className="lazy-fold",
    )


def deferred(content: Any, *, key: str, height: int) -> html.Div:
    """``content`` (a chart) drawn when its place first comes near the screen.

    The content travels with the page as JSON text in a store, as a lazy fold's does; its
    place holds a quiet "Drawing the chart..." box of the chart's ``height`` (px) so the page
    does not jump when it is drawn. ``assets/deferred.js`` watches the places: one within
    half a screen of the visible part of the page (on load, on scroll, when a tab or fold
    shows it) sets its ``seen`` store, and a clientside callback (``callbacks/lazy_folds.py``)
    draws the content. A chart far down a long page then costs nothing until the reader gets
    there: at 1440x900 the Actors page settled in 700-810 ms (p50) with its heat map and
    funding flows drawn on load, 290-390 ms with them drawn on scrolling (about 300-450 ms
    after the reader reaches them; ``triage bench browser``'s "scroll p95"). ``key`` must be
    unique on its page.
    """
    return html.Div(
        [
            html.Div(
                html.Div(
                    "Drawing the chart…",
                    className="deferred-placeholder",
                    style={"height": f"{height}px"},
                    **{"data-deferred-key": key, "aria-hidden": "true"},
                ),
                id={"type": ids.DEFERRED_BODY, "key": key},
                # Kept while the drawn graph loads plotly (an empty box until then), so the
                # page below does not rise and bring the next places near too early.
                style={"minHeight": f"{height}px"},
            ),
            dcc.Store(
                id={"type": ids.DEFERRED_STORE, "key": key},
                data=json.dumps(content, cls=PlotlyJSONEncoder),
            ),
            dcc.Store(id={"type": ids.DEFERRED_SEEN, "key": key}),
        ],
        className="deferred",
    )


def _figure_height(figure: Any) -> int:
    """The height a figure asks for (px), or plotly's default of 450."""
    layout = figure.get("layout") if isinstance(figure, dict) else getattr(figure, "layout", None)
    height = layout.get("height") if isinstance(layout, dict) else getattr(layout, "height", None)
    return int(height) if isinstance(height, int | float) and height > 0 else 450


def _fold_key(label: str) -> str:
    """A chart's key for its table's ids: its label in lower-case words joined by hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", label.lower()))[:80] or "chart"
