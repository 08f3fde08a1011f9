"""Actors page callbacks: directory, heat map, funding flows, missing sectors, and the URL.

Each part is built once per data version and filters (``db.cache``) and then re-used."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from callbacks.policy import current_database, secured_callback, secured_clientside_callback
from callbacks.query_sync import query_sync_js
from db import queries_actors
from db.cache import cached
from layouts import actors, ids
from triage.security import Capability, Principal

# Keeps the address bar in step with the filters (``replaceState``: no reload, no history).
SYNC_QUERY_JS = query_sync_js(
    [("sector", "all"), ("q", None), ("measure", "count"), ("min_sectors", "3")]
)


def actors_directory(
    sector: Any, search: Any, measure: Any, min_sectors: Any, *, principal: Principal
) -> Any:
    """KPIs, sector cards and the actor table for the chosen sector and name search."""
    chosen = actors.clean_sector(sector)
    text = actors.query_text(search)
    shown_measure = actors.clean_measure(measure)
    fewest = actors.clean_min_sectors(min_sectors)

    def content() -> Any:
        summary = queries_actors.sector_summary(session)
        directory = queries_actors.actor_directory(session, sector=chosen, search=text)
        shown = [int(i) for i in directory["id"].head(actors.DIRECTORY_ROWS)]
        engagements = queries_actors.actor_engagements(session, shown)
        return actors.directory(
            summary,
            directory,
            engagements,
            sector=chosen,
            search=text,
            measure=shown_measure,
            min_sectors=fewest,
        )

    with current_database().session() as session:
        return cached(session, "actors.directory", (chosen, text, shown_measure, fewest), content)


def actors_heatmap(sector: Any, measure: Any, *, principal: Principal) -> Any:
    """The sector × problem heat map (engagement counts or committed funding)."""
    chosen = actors.clean_sector(sector)
    shown_measure = actors.clean_measure(measure)

    def content() -> Any:
        problems, _week = queries_actors.portfolio_problems(session)
        cells = queries_actors.sector_problem_cells(session, sector=chosen)
        return actors.heatmap(cells, problems, measure=shown_measure, sector=chosen)

    with current_database().session() as session:
        return cached(session, "actors.heatmap", (chosen, shown_measure), content)


def actors_sankey(sector: Any, search: Any, *, principal: Principal) -> Any:
    """Funding flows from funders through delivering actors to problems."""
    chosen = actors.clean_sector(sector)
    text = actors.query_text(search)

    def content() -> Any:
        engagements = queries_actors.funding_engagements(session)
        flows = queries_actors.funding_flows(engagements, sector=chosen, search=text)
        return actors.sankey(flows, sector=chosen, search=text)

    with current_database().session() as session:
        return cached(session, "actors.sankey", (chosen, text), content)


def actors_gaps(min_sectors: Any, *, principal: Principal) -> Any:
    """Sectors missing from the top-priority problems; problems engaging too few sectors."""
    fewest = actors.clean_min_sectors(min_sectors)

    def content() -> Any:
        problems, week = queries_actors.portfolio_problems(session)
        coverage = queries_actors.sector_coverage(session)
        return actors.portfolio_gaps(problems, coverage, week=week, min_sectors=fewest)

    with current_database().session() as session:
        return cached(session, "actors.gaps", fewest, content)


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ACTORS_DIRECTORY_DIV, "children"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_SEARCH_INPUT, "value"),
        Input(ids.ACTORS_MEASURE_RADIO, "value"),
        Input(ids.ACTORS_MIN_SECTORS_SELECT, "value"),
    )(actors_directory)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ACTORS_HEATMAP_DIV, "children"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_MEASURE_RADIO, "value"),
    )(actors_heatmap)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ACTORS_SANKEY_DIV, "children"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_SEARCH_INPUT, "value"),
    )(actors_sankey)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ACTORS_GAPS_DIV, "children"),
        Input(ids.ACTORS_MIN_SECTORS_SELECT, "value"),
    )(actors_gaps)
    secured_clientside_callback(
        app,
        SYNC_QUERY_JS,
        Output(ids.ACTORS_QUERY_STORE, "data"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_SEARCH_INPUT, "value"),
        Input(ids.ACTORS_MEASURE_RADIO, "value"),
        Input(ids.ACTORS_MIN_SECTORS_SELECT, "value"),
        prevent_initial_call=True,
    )
