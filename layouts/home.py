"""Home page: the city's problems with headline figures, filterable by policy area and status.

The filters live in the query string (``?area=...&status=...``) so a filtered view can be shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    format_number,
    humanize,
    kpi_card,
    kpi_row,
    loading,
    page_header,
    section,
    status_badge,
)

ALL_AREAS_LABEL = "All policy areas"
ALL_STATUSES_LABEL = "All statuses"
ALL_VALUE = "all"  # not "": dbc.Select keeps a hidden placeholder option with the empty value


def _query_value(value: Any) -> str:
    """A query-string value as a short plain string (it is user input: never trusted)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "")[:100]


def layout(area: Any = None, status: Any = None, **_kwargs: Any) -> html.Div:
    """Skeleton: filters preset from the query string; KPIs and the table arrive by callback."""
    area_value = _query_value(area) or ALL_VALUE
    status_value = _query_value(status) or ALL_VALUE
    return html.Div(
        [
            dcc.Store(id=ids.HOME_PAGE_STORE, data={"area": area_value, "status": status_value}),
            dcc.Store(id=ids.HOME_QUERY_STORE),
            page_header(
                "Problems",
                "The conditions the city is watching, with their indicators and what residents "
                "report.",
            ),
            section(
                "At a glance",
                loading(html.Div(id=ids.HOME_KPI_DIV, className="kpi-slot")),
                class_name="visually-hidden-heading",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("Policy area", html_for=ids.HOME_AREA_SELECT),
                            dbc.Select(
                                id=ids.HOME_AREA_SELECT,
                                options=filter_options(
                                    [] if area_value == ALL_VALUE else [area_value], ""
                                ),
                                value=area_value,
                            ),
                        ],
                        className="filter-field",
                    ),
                    html.Div(
                        [
                            dbc.Label("Status", html_for=ids.HOME_STATUS_SELECT),
                            dbc.Select(
                                id=ids.HOME_STATUS_SELECT,
                                options=filter_options(
                                    [] if status_value == ALL_VALUE else [status_value], "status"
                                ),
                                value=status_value,
                            ),
                        ],
                        className="filter-field",
                    ),
                ],
                className="filter-bar",
                role="search",
                **{"aria-label": "Filter problems"},
            ),
            loading(html.Div(id=ids.HOME_TABLE_DIV, className="table-slot")),
        ]
    )


def filter_options(
    values: Sequence[str], kind: str, labels: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """Options for a filter select: "All ..." (value ``all``) then each value, humanised."""
    first = ALL_STATUSES_LABEL if kind == "status" else ALL_AREAS_LABEL
    options = [{"label": first, "value": ALL_VALUE}]
    labels = labels or {}
    options += [{"label": labels.get(v) or humanize(v), "value": str(v)} for v in values]
    return options


def kpi_cards(
    problems_by_status: Sequence[tuple[str, int]],
    indicators_total: int,
    indicators_overdue: int,
    reports_last_7_days: int,
    reports_previous_7_days: int,
) -> html.Div:
    """Headline cards: problems by status, overdue indicators, reports this week vs last."""
    total = sum(n for _, n in problems_by_status)
    by_status = ", ".join(f"{n} {humanize(s).lower()}" for s, n in problems_by_status if n)
    change = reports_last_7_days - reports_previous_7_days
    if reports_previous_7_days:
        pct = change / reports_previous_7_days * 100
        trend = f"{'+' if change >= 0 else '−'}{abs(pct):.0f}% on the previous 7 days"
    else:
        trend = "no reports in the previous 7 days"
    overdue_tone = "warning" if indicators_overdue else "success"
    return kpi_row(
        [
            kpi_card("Problems", format_number(total), by_status or "none recorded yet"),
            kpi_card(
                "In focus",
                format_number(dict(problems_by_status).get("focus", 0)),
                f"{dict(problems_by_status).get('emerging', 0)} emerging",
                tone="info",
            ),
            kpi_card(
                "Indicators overdue",
                format_number(indicators_overdue),
                f"of {indicators_total} indicators",
                tone=overdue_tone,
            ),
            kpi_card(
                "Reports, last 7 days",
                format_number(reports_last_7_days),
                f"{format_number(reports_previous_7_days)} before; {trend}",
            ),
        ]
    )


def problems_table(
    frame: pd.DataFrame, *, filtered: bool, area_labels: Mapping[str, str] | None = None
) -> Any:
    """The problems table, each title a link to its page; an empty state when nothing matches."""
    if frame.empty:
        if filtered:
            return empty_state(
                "No problems match these filters.", "Choose another policy area or status."
            )
        return empty_state(
            "No problems recorded yet.",
            "Problems appear here once the office records them (or the demo city is seeded).",
        )
    rows = []
    for row in frame.itertuples(index=False):
        off = int(row.off_target_count)
        rows.append(
            {
                "title": dcc.Link(row.title, href=f"/problems/{int(row.id)}"),
                "policy_area": (area_labels or {}).get(row.policy_area)
                or humanize(row.policy_area),
                "status": status_badge(row.status),
                "lead_department": row.lead_department or "—",
                "indicator_count": format_number(row.indicator_count),
                "off_target_count": flag(str(off), "danger") if off else "0",
                "reports_30d": format_number(row.reports_30d),
            }
        )
    count = len(frame)
    return html.Div(
        [
            html.P(
                f"{count} problem{'s' if count != 1 else ''}",
                className="table-count",
                role="status",
            ),
            data_table(
                [
                    Column("Problem", "title"),
                    Column("Policy area", "policy_area"),
                    Column("Status", "status"),
                    Column("Lead department", "lead_department"),
                    Column("Indicators", "indicator_count", numeric=True),
                    Column("Off target", "off_target_count", numeric=True),
                    Column("Reports (30 days)", "reports_30d", numeric=True),
                ],
                rows,
                caption="Problems, the ones needing attention first",
                row_header="title",
                stack_on_phone=True,  # status and counts were off the screen to the right
            ),
        ]
    )
