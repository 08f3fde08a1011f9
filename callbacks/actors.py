"""Actors page callbacks: directory, heat map, funding flows, missing sectors, and the URL.

Each part is built once per data version and filters (``db.cache``) and then re-used."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State

from callbacks.policy import current_database, secured_callback, secured_clientside_callback
from callbacks.query_sync import query_sync_js
from db.actors import (
    actor_directory,
    actor_engagements,
    funding_engagements,
    funding_flows,
    portfolio_problems,
    sector_coverage,
    sector_problem_cells,
    sector_summary,
)
from db.cache import cached
from layouts import actors, ids
from triage.security import Capability, Principal

# Keeps the address bar in step with the filters (``replaceState``: no reload, no history).
SYNC_QUERY_JS = query_sync_js(
    [("sector", "all"), ("q", None), ("measure", "count"), ("min_sectors", "3")]
)


def directory_part(
    sector: Any, search: Any, measure: Any, min_sectors: Any, page: Any = 1
) -> tuple[Any, str, bool, bool]:
    """KPIs, sector cards and one page of the actor table for the chosen sector and name
    search, with the pager's words and whether previous and next are disabled."""
    chosen = actors.clean_sector(sector)
    text = actors.query_text(search)
    shown_measure = actors.clean_measure(measure)
    fewest = actors.clean_min_sectors(min_sectors)
    # A whole number of pages at most (the cache keeps one entry per page asked for).
    wanted = min(page, 1000) if isinstance(page, int) and not isinstance(page, bool) else 1

    def content() -> tuple[Any, str, bool, bool]:
        summary = sector_summary(session)
        directory = actor_directory(session, sector=chosen, search=text)
        shown_page, _pages = actors.directory_page(wanted, len(directory))
        start = (shown_page - 1) * actors.DIRECTORY_ROWS
        shown = [int(i) for i in directory["id"].iloc[start : start + actors.DIRECTORY_ROWS]]
        engagements = actor_engagements(session, shown)
        table = actors.directory(
            summary,
            directory,
            engagements,
            sector=chosen,
            search=text,
            measure=shown_measure,
            min_sectors=fewest,
            page=shown_page,
        )
        return (table, *actors.pager_state(shown_page, len(directory)))

    with current_database().session() as session:
        return cached(
            session, "actors.directory", (chosen, text, shown_measure, fewest, wanted), content
        )


def actors_directory(
    sector: Any, search: Any, measure: Any, min_sectors: Any, page: Any = 1, *, principal: Principal
) -> Any:
    """KPIs, sector cards and one page of the actor table for the chosen sector and search."""
    return directory_part(sector, search, measure, min_sectors, page)[0]


def actors_heatmap(sector: Any, measure: Any, *, principal: Principal) -> Any:
    """The sector × problem heat map (engagement counts or committed funding)."""
    chosen = actors.clean_sector(sector)
    shown_measure = actors.clean_measure(measure)

    def content() -> Any:
        problems, _week = portfolio_problems(session)
        cells = sector_problem_cells(session, sector=chosen)
        return actors.heatmap(cells, problems, measure=shown_measure, sector=chosen)

    with current_database().session() as session:
        return cached(session, "actors.heatmap", (chosen, shown_measure), content)


def actors_sankey(sector: Any, search: Any, *, principal: Principal) -> Any:
    """Funding flows from funders through delivering actors to problems."""
    chosen = actors.clean_sector(sector)
    text = actors.query_text(search)

    def content() -> Any:
        engagements = funding_engagements(session)
        flows = funding_flows(engagements, sector=chosen, search=text)
        return actors.sankey(flows, sector=chosen, search=text)

    with current_database().session() as session:
        return cached(session, "actors.sankey", (chosen, text), content)


def actors_gaps(min_sectors: Any, *, principal: Principal) -> Any:
    """Sectors missing from the top-priority problems; problems engaging too few sectors."""
    fewest = actors.clean_min_sectors(min_sectors)

    def content() -> Any:
        problems, week = portfolio_problems(session)
        coverage = sector_coverage(session)
        return actors.portfolio_gaps(problems, coverage, week=week, min_sectors=fewest)

    with current_database().session() as session:
        return cached(session, "actors.gaps", fewest, content)


# Which inputs each part reads: a change redraws only the parts that read it.
SECTOR, SEARCH, MEASURE, MIN_SECTORS, PAGE = (
    f"{ids.ACTORS_SECTOR_SELECT}.value",
    f"{ids.ACTORS_SEARCH_INPUT}.value",
    f"{ids.ACTORS_MEASURE_RADIO}.value",
    f"{ids.ACTORS_MIN_SECTORS_SELECT}.value",
    f"{ids.ACTORS_PAGE_STORE}.data",
)
PART_INPUTS = (
    {SECTOR, SEARCH, MEASURE, MIN_SECTORS, PAGE},  # the directory (its links keep the filters)
    {SECTOR, MEASURE},  # the heat map
    {SECTOR, SEARCH},  # the funding flows
    {MIN_SECTORS},  # the missing sectors
)

# The directory's pages: "Previous"/"Next" step the page; a new sector or search goes back to
# page 1. In the browser (no round trip); the server keeps the page within the pages there are.
PAGE_JS = """
function (prev, next, sector, search, page) {
    const current = Number(page) || 1;
    const fired = (dash_clientside.callback_context.triggered || []).map((t) => t.prop_id);
    if (fired.includes("PREV.n_clicks") && prev) { return Math.max(1, current - 1); }
    if (fired.includes("NEXT.n_clicks") && next) { return current + 1; }
    return current === 1 ? dash_clientside.no_update : 1;
}
""".replace("PREV", ids.ACTORS_PREV_BUTTON).replace("NEXT", ids.ACTORS_NEXT_BUTTON)


def actors_page(
    sector: Any,
    search: Any,
    measure: Any,
    min_sectors: Any,
    page: Any = 1,
    *,
    principal: Principal,
    triggered: set[str] | None = None,
) -> tuple[Any, ...]:
    """The four parts of the page (and the directory's pager) in one answer: on load all of
    them (one round trip and one re-render instead of four, each of which re-ran every
    mounted component's selectors); after a change only the parts that read it
    (``triggered``: the changed inputs as ``"id.property"``, from the callback context when
    not given). Outputs: directory, pager text, previous and next disabled, heat map, funding
    flows, missing sectors."""
    if triggered is None:
        fired = {t["prop_id"] for t in dash.callback_context.triggered if t.get("prop_id")}
        triggered = fired - {"."}
    everything = not triggered
    nothing = (dash.no_update,) * 4
    directory = (
        directory_part(sector, search, measure, min_sectors, page)
        if everything or PART_INPUTS[0] & triggered
        else nothing
    )
    parts = (
        lambda: actors_heatmap(sector, measure, principal=principal),
        lambda: actors_sankey(sector, search, principal=principal),
        lambda: actors_gaps(min_sectors, principal=principal),
    )
    return (
        *directory,
        *(
            part() if everything or reads & triggered else dash.no_update
            for part, reads in zip(parts, PART_INPUTS[1:], strict=True)
        ),
    )


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ACTORS_DIRECTORY_DIV, "children"),
        Output(ids.ACTORS_PAGER_TEXT, "children"),
        Output(ids.ACTORS_PREV_BUTTON, "disabled"),
        Output(ids.ACTORS_NEXT_BUTTON, "disabled"),
        Output(ids.ACTORS_HEATMAP_DIV, "children"),
        Output(ids.ACTORS_SANKEY_DIV, "children"),
        Output(ids.ACTORS_GAPS_DIV, "children"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_SEARCH_INPUT, "value"),
        Input(ids.ACTORS_MEASURE_RADIO, "value"),
        Input(ids.ACTORS_MIN_SECTORS_SELECT, "value"),
        Input(ids.ACTORS_PAGE_STORE, "data"),
        expect={(ids.ACTORS_PAGE_STORE, "data"): int | None},
    )(actors_page)
    secured_clientside_callback(
        app,
        PAGE_JS,
        Output(ids.ACTORS_PAGE_STORE, "data"),
        Input(ids.ACTORS_PREV_BUTTON, "n_clicks"),
        Input(ids.ACTORS_NEXT_BUTTON, "n_clicks"),
        Input(ids.ACTORS_SECTOR_SELECT, "value"),
        Input(ids.ACTORS_SEARCH_INPUT, "value"),
        State(ids.ACTORS_PAGE_STORE, "data"),
        prevent_initial_call=True,
    )
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
