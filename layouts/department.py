"""My department: a department's indicators (overdue first) and the form to record a new value.

Department heads see their own department only; the chief of staff and admins choose one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.components import (
    Column,
    data_table,
    empty_state,
    flag,
    format_date,
    format_number,
    loading,
    notice,
    page_header,
    section,
    status_badge,
)

NO_STATUS = "unchanged"  # not "": dbc.Select keeps a hidden placeholder option with that value
STATUS_CHOICES = (
    (NO_STATUS, "No status change"),
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("off_track", "Off track"),
)


def layout(**_kwargs: Any) -> html.Div:
    """Skeleton: department choice, indicator table, update form, recent entries."""
    return html.Div(
        [
            dcc.Store(id=ids.DEPARTMENT_PAGE_STORE, data=True),
            dcc.Store(id=ids.DEPARTMENT_SAVED_STORE, data=0),
            html.Div(
                [
                    page_header(
                        "My department",
                        "Keep your indicators current: record each new value, its status and "
                        "a note.",
                    ),
                    html.Div(
                        [
                            dbc.Label("Department", html_for=ids.DEPARTMENT_SELECT),
                            dbc.Select(id=ids.DEPARTMENT_SELECT, options=[], value=None),
                        ],
                        className="filter-field department-choice",
                    ),
                ],
                className="page-header-row",
            ),
            html.Div(
                [
                    section(
                        "Indicators",
                        loading(html.Div(id=ids.DEPARTMENT_INDICATORS_DIV, className="table-slot")),
                        class_name="main-col",
                    ),
                    html.Div(
                        [
                            section("Record a new value", update_form(), class_name="form-card"),
                            section(
                                "Recently entered",
                                loading(html.Div(id=ids.DEPARTMENT_RECENT_DIV)),
                            ),
                        ],
                        className="side-col",
                    ),
                ],
                className="split",
            ),
        ]
    )


def update_form() -> html.Div:
    """The indicator update form; every field has a visible label."""
    today = dt.date.today().isoformat()
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label("Indicator", html_for=ids.DEPARTMENT_INDICATOR_SELECT),
                    dbc.Select(
                        id=ids.DEPARTMENT_INDICATOR_SELECT,
                        options=[],
                        value=None,
                        placeholder="Choose an indicator",
                    ),
                ],
                className="form-field",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("Period", html_for=ids.DEPARTMENT_PERIOD_INPUT),
                            dbc.Input(
                                id=ids.DEPARTMENT_PERIOD_INPUT,
                                type="date",
                                value=today,
                                max=today,
                            ),
                        ],
                        className="form-field",
                    ),
                    html.Div(
                        [
                            dbc.Label("Value", html_for=ids.DEPARTMENT_VALUE_INPUT),
                            dbc.Input(
                                id=ids.DEPARTMENT_VALUE_INPUT,
                                type="text",
                                inputmode="decimal",
                                autocomplete="off",
                                placeholder="e.g. 82.5",
                            ),
                        ],
                        className="form-field",
                    ),
                ],
                className="form-pair",
            ),
            html.Div(
                [
                    dbc.Label("Status", html_for=ids.DEPARTMENT_STATUS_SELECT),
                    dbc.Select(
                        id=ids.DEPARTMENT_STATUS_SELECT,
                        options=[
                            {"label": label, "value": value} for value, label in STATUS_CHOICES
                        ],
                        value=NO_STATUS,
                    ),
                ],
                className="form-field",
            ),
            html.Div(
                [
                    dbc.Label("Note (optional)", html_for=ids.DEPARTMENT_NOTE_TEXTAREA),
                    dbc.Textarea(
                        id=ids.DEPARTMENT_NOTE_TEXTAREA,
                        rows=2,
                        maxlength=2000,
                        placeholder="What changed, and why",
                    ),
                ],
                className="form-field",
            ),
            dbc.Button("Save value", id=ids.DEPARTMENT_SAVE_BUTTON, color="primary", n_clicks=0),
            html.Div(
                id=ids.DEPARTMENT_FEEDBACK_DIV,
                className="form-feedback",
                **{"aria-live": "polite"},
            ),
        ],
        className="update-form",
    )


def department_options(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Select options for departments (``frame`` has id, code, name)."""
    return [
        {"label": f"{row.name} ({row.code})", "value": str(int(row.id))}
        for row in frame.itertuples(index=False)
    ]


def indicator_options(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Select options for the form: overdue indicators are marked in the label."""
    return [
        {
            "label": f"{row.code} · {row.name}" + (" (overdue)" if row.overdue else ""),
            "value": str(int(row.id)),
        }
        for row in frame.itertuples(index=False)
    ]


def indicator_table(frame: pd.DataFrame, department_name: str) -> Any:
    """A department's indicators, overdue first: latest value, target, status and due date."""
    if frame.empty:
        return empty_state(f"{department_name} has no indicators yet.")
    rows = []
    for row in frame.itertuples(index=False):
        unit = row.unit or ""
        due_text = "Never reported" if row.latest_period is None else format_date(row.due_by)
        rows.append(
            {
                "name": html.Span(
                    [html.Span(row.name), html.Span(row.code, className="cell-meta")],
                    className="cell-stack",
                ),
                "latest": html.Span(
                    [
                        html.Span(format_number(row.latest_value, unit)),
                        html.Span(format_date(row.latest_period), className="cell-meta"),
                    ],
                    className="cell-stack",
                ),
                "target": format_number(row.target, unit),
                "status": status_badge(row.latest_status) if row.latest_status else "—",
                "due": html.Span(
                    [
                        flag("Overdue", "danger") if row.overdue else None,
                        html.Span(due_text, className="cell-meta" if row.overdue else None),
                    ],
                    className="cell-stack",
                ),
            }
        )
    overdue = int(frame["overdue"].sum())
    return html.Div(
        [
            html.P(
                f"{len(frame)} indicators; {overdue} overdue.",
                className="table-count",
            ),
            data_table(
                [
                    Column("Indicator", "name"),
                    Column("Latest value", "latest", numeric=True),
                    Column("Target", "target", numeric=True),
                    Column("Status", "status"),
                    Column("Update due by", "due"),
                ],
                rows,
                caption=f"Indicators of {department_name}, overdue first",
                row_header="name",
            ),
        ]
    )


def recent_list(frame: pd.DataFrame) -> Any:
    """Values entered most recently for the department, newest first."""
    if frame.empty:
        return empty_state("Nothing entered yet.")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        f"{row.indicator_code}: {format_number(row.value, row.unit or '')}",
                        className="recent-value",
                    ),
                    html.Span(
                        f"for {format_date(row.period)}, entered "
                        f"{format_date(_as_date(row.entered_at))}"
                        + (f" by {row.entered_by}" if row.entered_by else ""),
                        className="recent-meta",
                    ),
                ],
                className="recent-item",
            )
            for row in frame.itertuples(index=False)
        ],
        className="recent-list",
    )


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def saved_message(indicator_label: str, value_text: str, period: dt.date | str) -> html.Div:
    return notice(f"Saved {value_text} for {indicator_label} ({period}).", "success")


def rejected_message(problems: Sequence[str]) -> html.Div:
    """Every reason the form was refused, as a list the person can work through."""
    return notice(
        html.Ul([html.Li(p) for p in problems]),
        "danger",
        title="The value was not saved:",
    )
