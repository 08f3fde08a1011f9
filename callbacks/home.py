"""Home page callbacks: headline figures, filter choices, the filtered problems table, the URL."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from callbacks.policy import (
    current_database,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from callbacks.query_sync import query_sync_js
from db import lookups
from db.cache import cached
from db.catalog import policy_area_labels
from db.models import PROBLEM_STATUSES
from db.pages.home import home_kpis, problem_overview
from layouts import home, ids
from triage.security import Capability, Principal

# Keeps the address bar in step with the filters without a page reload or a history entry
# (``replaceState`` fires no popstate, so the Pages router does not re-render the page).
SYNC_QUERY_JS = query_sync_js([("area", "all"), ("status", "all")])


def _clean_filter(value: Any, allowed: list[str] | tuple[str, ...]) -> str | None:
    """A filter value we know, or None (= all); anything else from the client is ignored."""
    text = str(value or "")
    return text if text in allowed else None


def home_overview(_page: Any, *, principal: Principal) -> tuple[Any, list, list]:
    """KPI cards plus the options of both filters."""
    today = local_today()
    with current_database().session() as session:
        kpis = cached(session, "home.kpis", today, lambda: home_kpis(session, today=today))
        areas = lookups.policy_areas(session)
        area_labels = policy_area_labels(session)
    cards = home.kpi_cards(
        kpis.problems_by_status,
        kpis.indicators_total,
        kpis.indicators_overdue,
        kpis.reports_last_7_days,
        kpis.reports_previous_7_days,
    )
    return (
        cards,
        home.filter_options(areas, "area", area_labels),
        home.filter_options(PROBLEM_STATUSES, "status"),
    )


def problems_table(area: Any, status: Any, *, principal: Principal) -> Any:
    """The problems table for the chosen policy area and status."""
    with current_database().session() as session:
        area_value = _clean_filter(area, lookups.policy_areas(session))
        status_value = _clean_filter(status, PROBLEM_STATUSES)
        today = local_today()
        frame = cached(
            session,
            "home.problems",
            (today, area_value, status_value),
            lambda: problem_overview(
                session, today=today, policy_area=area_value, status=status_value
            ),
        ).copy()
        area_labels = policy_area_labels(session)
    return home.problems_table(
        frame, filtered=bool(area_value or status_value), area_labels=area_labels
    )


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.HOME_KPI_DIV, "children"),
        Output(ids.HOME_AREA_SELECT, "options"),
        Output(ids.HOME_STATUS_SELECT, "options"),
        Input(ids.HOME_PAGE_STORE, "data"),
    )(home_overview)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.HOME_TABLE_DIV, "children"),
        Input(ids.HOME_AREA_SELECT, "value"),
        Input(ids.HOME_STATUS_SELECT, "value"),
    )(problems_table)
    secured_clientside_callback(
        app,
        SYNC_QUERY_JS,
        Output(ids.HOME_QUERY_STORE, "data"),
        Input(ids.HOME_AREA_SELECT, "value"),
        Input(ids.HOME_STATUS_SELECT, "value"),
        prevent_initial_call=True,
    )
