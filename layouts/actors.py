"""Actors and funding: the directory by sector, who engages where, funding flows, missing sectors.

Every filter lives in the query string (``/actors?sector=philanthropic&q=fund&measure=funding
&min_sectors=3``) so a view can be shared; ``layout`` is a skeleton and the callbacks fill it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.components import (
    Column,
    chart_block,
    data_table,
    empty_state,
    flag,
    format_date,
    humanize,
    kpi_card,
    kpi_row,
    lazy_fold,
    loading,
    page_header,
    section,
    status_badge,
)
from layouts.components import pager as components_pager
from layouts.figures import SECTOR_COLOURS, engagement_heatmap_figure, funding_sankey_figure
from triage.backward_map import core_sectors_missing
from triage.vocabulary import ALL_SECTORS, SECTOR_LABELS

ALL_VALUE = "all"
MEASURES = {"count": "Number of engagements", "funding": "Committed funding (USD)"}
MIN_SECTOR_CHOICES = (2, 3, 4, 5, 6)
DEFAULT_MIN_SECTORS = 3
TOP_PRIORITY = 10
DIRECTORY_ROWS = 25  # actors on a page of the directory
SANKEY_PROBLEMS = 15
ROLE_WORDS = {
    "funding": "funds",
    "delivering": "delivers",
    "advocating": "advocates",
    "authorising": "authorises",
    "convening": "convenes",
}


def query_text(value: Any, limit: int = 100) -> str:
    """A query-string value as a short plain string (it is user input: never trusted)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()[:limit]


def clean_sector(value: Any) -> str | None:
    text = query_text(value)
    return text if text in ALL_SECTORS else None


def clean_measure(value: Any) -> str:
    text = query_text(value)
    return text if text in MEASURES else "count"


def clean_min_sectors(value: Any) -> int:
    text = query_text(value)
    return int(text) if text.isdigit() and int(text) in MIN_SECTOR_CHOICES else DEFAULT_MIN_SECTORS


def actors_href(
    sector: str | None, search: str = "", measure: str = "count", min_sectors: int = 3
) -> str:
    """The address of this page with the given filters (defaults left out)."""
    params: dict[str, Any] = {}
    if sector:
        params["sector"] = sector
    if search:
        params["q"] = search
    if measure != "count":
        params["measure"] = measure
    if min_sectors != DEFAULT_MIN_SECTORS:
        params["min_sectors"] = min_sectors
    return "/actors" + (f"?{urlencode(params)}" if params else "")


def money(value: Any) -> str:
    """USD for tables: ``$1,250,000``; nothing → ``—``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if number != number:  # NaN
        return "—"
    return f"${number:,.0f}"


def sector_label(sector: Any) -> str:
    return SECTOR_LABELS.get(str(sector), humanize(sector))


def layout(
    sector: Any = None, q: Any = None, measure: Any = None, min_sectors: Any = None, **_kw: Any
) -> html.Div:
    """Skeleton with the filters preset from the query string; sections arrive by callback."""
    sector_value = clean_sector(sector) or ALL_VALUE
    search_value = query_text(q)
    measure_value = clean_measure(measure)
    min_value = clean_min_sectors(min_sectors)
    return html.Div(
        [
            dcc.Store(id=ids.ACTORS_QUERY_STORE),
            page_header(
                "Actors and funding",
                "Who works on the city's problems, by sector; where the money flows; and which "
                "sectors are missing where they matter most.",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("Sector", html_for=ids.ACTORS_SECTOR_SELECT),
                            dbc.Select(
                                id=ids.ACTORS_SECTOR_SELECT,
                                options=sector_options(),
                                value=sector_value,
                            ),
                        ],
                        className="filter-field",
                    ),
                    html.Div(
                        [
                            dbc.Label("Search actors by name", html_for=ids.ACTORS_SEARCH_INPUT),
                            dbc.Input(
                                id=ids.ACTORS_SEARCH_INPUT,
                                type="search",
                                value=search_value,
                                debounce=True,
                                maxLength=100,
                                placeholder="e.g. foundation",
                                autoComplete="off",
                            ),
                        ],
                        className="filter-field",
                    ),
                    html.Fieldset(
                        [
                            html.Legend("Heat map shows", className="form-label"),
                            dbc.RadioItems(
                                id=ids.ACTORS_MEASURE_RADIO,
                                options=[{"label": v, "value": k} for k, v in MEASURES.items()],
                                value=measure_value,
                                inline=True,
                            ),
                        ],
                        className="filter-field filter-fieldset",
                    ),
                ],
                className="filter-bar",
                role="search",
                **{"aria-label": "Filter actors"},
            ),
            dcc.Store(id=ids.ACTORS_PAGE_STORE, data=1),
            section(
                "Directory by sector",
                html.Div(
                    [
                        loading(html.Div(id=ids.ACTORS_DIRECTORY_DIV, className="table-slot")),
                        pager(),
                    ]
                ),
            ),
            section(
                "Who engages where",
                loading(html.Div(id=ids.ACTORS_HEATMAP_DIV, className="chart-slot")),
            ),
            section(
                "Funding flows",
                loading(html.Div(id=ids.ACTORS_SANKEY_DIV, className="chart-slot")),
            ),
            section(
                "Missing sectors across the portfolio",
                html.Div(
                    [
                        html.Div(
                            [
                                dbc.Label(
                                    "Flag problems engaging fewer than",
                                    html_for=ids.ACTORS_MIN_SECTORS_SELECT,
                                ),
                                dbc.Select(
                                    id=ids.ACTORS_MIN_SECTORS_SELECT,
                                    options=[
                                        {"label": f"{n} sectors", "value": str(n)}
                                        for n in MIN_SECTOR_CHOICES
                                    ],
                                    value=str(min_value),
                                ),
                            ],
                            className="filter-field filter-inline",
                        ),
                        loading(html.Div(id=ids.ACTORS_GAPS_DIV, className="table-slot")),
                    ]
                ),
            ),
        ]
    )


def pager() -> html.Nav:
    """Previous and next page of the directory; its callback enables them and says which
    actors are shown."""
    return components_pager(
        ids.ACTORS_PREV_BUTTON,
        ids.ACTORS_PAGER_TEXT,
        ids.ACTORS_NEXT_BUTTON,
        label="Pages of actors",
        class_name="actors-pager",
    )


def directory_page(page: Any, total: int) -> tuple[int, int]:
    """The page to show (1-based, within the pages there are) and the number of pages."""
    pages = max(1, -(-total // DIRECTORY_ROWS))
    try:
        wanted = int(page)
    except (TypeError, ValueError):
        wanted = 1
    return min(max(1, wanted), pages), pages


def pager_state(page: int, total: int) -> tuple[str, bool, bool]:
    """The pager's words (``Actors 26–50 of 103, page 2 of 5``; empty when one page holds
    them all) and whether previous and next are disabled."""
    page, pages = directory_page(page, total)
    if pages == 1:
        return "", True, True
    first = (page - 1) * DIRECTORY_ROWS + 1
    last = min(total, page * DIRECTORY_ROWS)
    return (
        f"Actors {first:,}–{last:,} of {total:,}, page {page} of {pages}",
        page == 1,
        page == pages,
    )


def sector_options() -> list[dict[str, str]]:
    return [{"label": "All sectors", "value": ALL_VALUE}] + [
        {"label": SECTOR_LABELS[s], "value": s} for s in ALL_SECTORS
    ]


# ---------------------------------------------------------------- directory


def _sector_cards(summary: pd.DataFrame, selected: str | None, href: Any) -> html.Ul:
    by_sector = {str(row["sector"]): row for row in summary.to_dict("records")}
    cards = []
    for sector in ALL_SECTORS:
        row = by_sector.get(sector, {})
        actors = int(row.get("actors", 0))
        engagements = int(row.get("engagements", 0))
        funding = float(row.get("committed_funding", 0.0))
        detail = f"{engagements} engagement{'s' if engagements != 1 else ''}"
        if funding > 0:
            detail += f" · {money(funding)}"
        current = sector == selected
        cards.append(
            html.Li(
                dbc.NavLink(
                    [
                        html.Span(SECTOR_LABELS[sector], className="sector-card-name"),
                        html.Span(
                            f"{actors} actor{'s' if actors != 1 else ''}",
                            className="sector-card-count",
                        ),
                        html.Span(detail, className="sector-card-detail"),
                    ],
                    href=href(None if current else sector),
                    active=current,
                    class_name="sector-card",
                    # The sector's colour in the funding flows, so the two read together.
                    style={"borderLeftColor": SECTOR_COLOURS[sector]},
                ),
                className=f"sector-card-item sector-{sector}",
            )
        )
    return html.Ul(cards, className="sector-cards", **{"aria-label": "Sectors"})


def _engagement_list(actor_id: int, engagements: list[dict[str, Any]]) -> Any:
    if not engagements:
        return html.Span("No engagements recorded", className="muted")
    problems = len({row["problem_id"] for row in engagements})
    n = len(engagements)
    items = []
    for row in engagements:
        words = [ROLE_WORDS.get(str(row["role"]), humanize(row["role"]))]
        if float(row["committed_funding"] or 0) > 0:
            words.append(money(row["committed_funding"]))
        if row["stance"] and row["stance"] != "complementary":
            words.append(f"({humanize(row['stance']).lower()})")
        detail = " ".join(words)
        if isinstance(row["factor_title"], str) and row["factor_title"]:
            detail += f" · on “{row['factor_title']}”"
        if row.get("problem_archived"):
            detail += " · problem archived"
        items.append(
            html.Li(
                [
                    dcc.Link(row["problem_title"], href=f"/problems/{int(row['problem_id'])}"),
                    html.Span(f" — {detail}", className="engagement-detail"),
                ]
            )
        )
    return lazy_fold(
        f"{n} engagement{'s' if n != 1 else ''} on {problems} "
        f"problem{'s' if problems != 1 else ''}",
        html.Ul(items, className="engagement-list"),
        key=f"actor-{actor_id}-engagements",
        class_name="engagement-details",
    )


def directory(
    summary: pd.DataFrame,
    actors: pd.DataFrame,
    engagements: pd.DataFrame,
    *,
    sector: str | None,
    search: str,
    measure: str,
    min_sectors: int,
    page: int = 1,
) -> html.Div:
    """Headline figures, the nine sector cards (each a filter link) and one page of the actor
    table (``DIRECTORY_ROWS`` actors; ``page`` 1-based).

    ``summary``: ``sector_summary``; ``actors``: ``actor_directory`` (already filtered);
    ``engagements``: ``actor_engagements`` of the actors on that page.
    """

    def href(chosen: str | None) -> str:
        return actors_href(chosen, search, measure, min_sectors)

    n = len(actors)
    funding = float(actors["committed_funding"].sum()) if n else 0.0
    engaged = int(actors["engagements"].sum()) if n else 0
    sectors = actors["sector"].nunique() if n else 0
    scope = (f"in {sector_label(sector).lower()}" if sector else f"across {sectors} sectors") + (
        f", matching “{search}”" if search else ""
    )
    cards = kpi_row(
        [
            kpi_card("Actors", f"{n:,}", scope),
            kpi_card("Engagements", f"{engaged:,}", "on the city's problems"),
            kpi_card(
                "Funding committed",
                money(funding) if funding else "$0",
                "by these actors",
                tone="info" if funding else "neutral",
            ),
        ]
    )
    if actors.empty:
        body: Any = empty_state(
            "No actors match these filters.",
            "Choose another sector or clear the search."
            if (sector or search)
            else "Actors appear here once the office records who works on its problems.",
        )
    else:
        by_actor: dict[int, list[dict[str, Any]]] = {}
        for engagement in engagements.to_dict("records"):
            by_actor.setdefault(int(engagement["actor_id"]), []).append(engagement)
        rows = []
        page, pages = directory_page(page, n)
        start = (page - 1) * DIRECTORY_ROWS
        for row in actors.iloc[start : start + DIRECTORY_ROWS].to_dict("records"):
            name_cell: list[Any] = [html.Span(row["name"], className="actor-name")]
            if isinstance(row["description"], str) and row["description"]:
                name_cell.append(html.Span(row["description"], className="cell-meta"))
            funding = float(row["committed_funding"] or 0)
            rows.append(
                {
                    "name": html.Span(name_cell, className="cell-stack"),
                    "sector": html.Span(
                        sector_label(row["sector"]),
                        className=f"sector-tag sector-{row['sector']}",
                    ),
                    "engagements": _engagement_list(
                        int(row["id"]), by_actor.get(int(row["id"]), [])
                    ),
                    "funding": money(funding) if funding else "—",
                    "last_contact": format_date(row["last_contact"]),
                }
            )
        count_text = f"{n} actor{'s' if n != 1 else ''}"
        if pages > 1:
            count_text = (
                f"{n} actors, {DIRECTORY_ROWS} to a page (page {page} of {pages}): the buttons "
                "below the table turn the pages; choose a sector or search to narrow."
            )
        body = html.Div(
            [
                html.P(count_text, className="table-count", role="status"),
                data_table(
                    [
                        Column("Actor", "name"),
                        Column("Sector", "sector"),
                        Column("Engagements", "engagements"),
                        Column("Funding committed", "funding", numeric=True),
                        Column("Last contact", "last_contact"),
                    ],
                    rows,
                    caption="Actors with their engagements on the city's problems",
                    row_header="name",
                    # On a phone each actor is a card: its engagements (a disclosure) were
                    # off the screen to the right.
                    stack_on_phone=True,
                ),
            ]
        )
    return html.Div([cards, _sector_cards(summary, sector, href), body])


# ---------------------------------------------------------------- heat map


def heatmap(
    cells: pd.DataFrame, problems: pd.DataFrame, *, measure: str, sector: str | None
) -> Any:
    """The sector × problem heat map with a caption and a table of the same numbers.

    ``cells``: ``sector_problem_cells``; ``problems``: ``portfolio_problems`` (row order).
    """
    if problems.empty:
        return empty_state(
            "No open problems yet.", "The heat map fills in once problems are recorded."
        )
    money_view = measure == "funding"
    column = "committed_funding" if money_view else "engagements"
    sectors = [sector] if sector else list(ALL_SECTORS)
    values = cells.assign(value=cells[column].astype(float))
    unit = "USD committed" if money_view else "engagements"
    title = (
        "Funding committed by sector and problem (USD)"
        if money_view
        else "Engagements by sector and problem"
    )
    figure = engagement_heatmap_figure(
        values[["problem_id", "sector", "value"]],
        problems[["id", "title"]],
        sectors,
        title,
        unit,
        sector_labels=SECTOR_LABELS,
        money=money_view,
    )
    engaged = values[values["value"] > 0]
    per_problem = engaged.groupby("problem_id")["sector"].nunique()
    untouched = [int(i) for i in problems["id"] if int(i) not in per_problem.index]
    busiest = (
        engaged.groupby("sector")["value"].sum().sort_values(ascending=False)
        if not engaged.empty
        else pd.Series(dtype=float)
    )
    columns = f"the {sector_label(sector).lower()} sector" if sector else "the nine sectors"
    parts = [
        f"Rows are the {len(problems)} open problems, highest priority first; "
        f"columns are {columns}."
    ]
    if len(busiest):
        top = busiest.index[0]
        amount = money(busiest.iloc[0]) if money_view else f"{busiest.iloc[0]:,.0f} engagements"
        parts.append(f"{sector_label(top)} is the most present ({amount}).")
    if not untouched:
        parts.append(
            "Every open problem has at least one "
            + ("funder" if money_view else "engagement")
            + (f" from {sector_label(sector).lower()}" if sector else "")
            + "."
        )
    else:
        parts.append(
            f"{len(untouched)} problem{'s have' if len(untouched) != 1 else ' has'} "
            f"no {'funding' if money_view else 'engagement'}"
            + (f" from {sector_label(sector).lower()}" if sector else "")
            + "."
        )
    by_problem: dict[int, list[tuple[float, str]]] = {}
    for pid, sec, value in zip(
        engaged["problem_id"], engaged["sector"], engaged["value"], strict=True
    ):
        by_problem.setdefault(int(pid), []).append((float(value), str(sec)))
    rows = []
    for pid, problem_title in zip(problems["id"], problems["title"], strict=True):
        mine = sorted(by_problem.get(int(pid), []), reverse=True)
        listing = ", ".join(
            f"{sector_label(sec)} {money(value) if money_view else f'{value:,.0f}'}"
            for value, sec in mine
        )
        total = sum(value for value, _ in mine)
        rows.append(
            {
                "problem": dcc.Link(problem_title, href=f"/problems/{int(pid)}"),
                "sectors": listing or ("No funding recorded" if money_view else "No engagement"),
                "total": money(total) if money_view else f"{total:,.0f}",
            }
        )
    table = data_table(
        [
            Column("Problem", "problem"),
            Column("Sectors engaged", "sectors"),
            Column("Total", "total", numeric=True),
        ],
        rows,
        caption=title,
        row_header="problem",
    )
    # Problem names down the side take half the width: narrower, the cells cannot be read.
    return chart_block(figure, label=title, summary=" ".join(parts), table=table, min_width=640)


# ---------------------------------------------------------------- funding flows

NO_PARTNER = "No delivering partner recorded"
FLOWS_CAPTION = (
    "How the flows are drawn: each funding engagement (an actor funding a problem, with the "
    "money it committed) flows to the actors delivering on that problem, shared equally "
    "among them (only those on the same causal factor when the funding names one and someone "
    "delivers there; actors competing with the effort are left out). Money for a problem with "
    "nobody delivering flows through “No delivering partner recorded”. Colours are the "
    "funder's sector."
)


def _top_problems(flows: pd.DataFrame, limit: int) -> pd.DataFrame:
    totals = flows.groupby("problem")["amount"].sum().sort_values(ascending=False)
    if len(totals) <= limit:
        return flows
    keep = set(totals.index[:limit])
    others = len(totals) - limit
    return flows.assign(
        problem=flows["problem"].where(flows["problem"].isin(keep), f"{others} other problems")
    )


def sankey(flows: pd.DataFrame, *, sector: str | None, search: str) -> Any:
    """The funder → delivering actor → problem Sankey, its definition and a table of flows.

    ``flows``: ``db.actors.funding_flows`` output (already filtered).
    """
    if flows.empty:
        filtered = bool(sector or search)
        return html.Div(
            [
                empty_state(
                    "No funding recorded for these filters."
                    if filtered
                    else "No funding recorded yet.",
                    "Funding appears once an actor's engagement on a problem records the money "
                    "it committed.",
                ),
                html.P(FLOWS_CAPTION, className="chart-note"),
            ]
        )
    total = float(flows["amount"].sum())
    funders = flows["funder"].nunique()
    problems = flows["problem"].nunique()
    no_partner = flows[flows["actor"].isna()]
    drawn = _top_problems(flows, SANKEY_PROBLEMS)
    title = "Funding flows: funders → delivering actors → problems (USD)"
    summary = (
        f"{money(total)} committed by {funders} funder{'s' if funders != 1 else ''} to "
        f"{problems} problem{'s' if problems != 1 else ''}"
    )
    if len(no_partner):
        summary += (
            f"; {money(no_partner['amount'].sum())} goes to problems with no delivering "
            "partner recorded"
        )
    summary += ". " + FLOWS_CAPTION
    rows = [
        {
            "funder": r["funder"],
            "funder_sector": sector_label(r["funder_sector"]),
            "actor": r["actor"] if isinstance(r["actor"], str) else NO_PARTNER,
            "problem": dcc.Link(r["problem"], href=f"/problems/{int(r['problem_id'])}"),
            "amount": money(r["amount"]),
        }
        for r in flows.sort_values("amount", ascending=False).to_dict("records")
    ]
    table = data_table(
        [
            Column("Funder", "funder"),
            Column("Funder's sector", "funder_sector"),
            Column("Delivering actor", "actor"),
            Column("Problem", "problem"),
            Column("Amount", "amount", numeric=True),
        ],
        rows,
        caption="Funding flows, largest first",
        row_header="funder",
    )
    figure = funding_sankey_figure(drawn, title, sector_labels=SECTOR_LABELS)
    # Three columns of names: narrower than this, the labels run into one another.
    return chart_block(figure, label=title, summary=summary, table=table, min_width=720)


# ---------------------------------------------------------------- missing sectors


def _priority_basis(problems: pd.DataFrame, week: str | None) -> tuple[pd.DataFrame, str]:
    """The top-priority problems: the latest snapshot's top 10, else those in focus."""
    if week is not None and problems["rank"].notna().any():
        top = problems[problems["rank"].notna()].head(TOP_PRIORITY)
        return top, f"the top {len(top)} problems of the {week} ranking"
    focus = problems[problems["status"] == "focus"]
    if focus.empty:
        focus = problems.head(TOP_PRIORITY)
        return focus, "the first problems by status (no weekly ranking is stored yet)"
    return focus, (
        f"the {len(focus)} problems in focus (no weekly ranking is stored yet, so the office's "
        "own focus stands in)"
    )


def _mark(engaged: bool) -> html.Span:
    """A coverage cell: a tick or a dash, named in words for screen readers. One element (an
    image named by its label), not three: the matrix has a hundred of them."""
    if engaged:
        return html.Span("✓", role="img", className="coverage-yes", **{"aria-label": "engaged"})
    return html.Span("—", role="img", className="coverage-no", **{"aria-label": "missing"})


def _coverage_matrix(top: list[dict[str, Any]], engaged: dict[int, set[str]]) -> Any:
    """Top-priority problems × sectors: who is engaged, and how often each sector is absent."""
    if not top:
        return empty_state("No top-priority problems to check.")
    rows: list[dict[str, Any]] = []
    for row in top:
        have = engaged.get(int(row["id"]), set())
        cells: dict[str, Any] = {s: _mark(s in have) for s in ALL_SECTORS}
        cells["problem"] = dcc.Link(row["title"], href=f"/problems/{int(row['id'])}")
        cells["count"] = str(len(have & set(ALL_SECTORS)))
        rows.append(cells)
    absent: dict[str, Any] = {"problem": f"Absent from (of {len(top)})", "count": ""}
    for sector in ALL_SECTORS:
        missing = sum(1 for row in top if sector not in engaged.get(int(row["id"]), set()))
        tone = "danger" if missing * 2 > len(top) else "warning" if missing else "success"
        absent[sector] = flag(str(missing), tone)
    rows.append(absent)
    return html.Div(
        data_table(
            [
                Column("Problem", "problem"),
                *(Column(SECTOR_LABELS[s], s, numeric=True) for s in ALL_SECTORS),
                Column("Sectors", "count", numeric=True),
            ],
            rows,
            caption="Sectors engaged on each top-priority problem, and how often each is absent",
            row_header="problem",
        ),
        className="coverage-matrix",
    )


def portfolio_gaps(
    problems: pd.DataFrame, coverage: pd.DataFrame, *, week: str | None, min_sectors: int
) -> Any:
    """Sectors absent from the top-priority problems, and problems engaging too few sectors.

    ``problems``: ``portfolio_problems``; ``coverage``: ``sector_coverage`` (allied sectors).
    """
    if problems.empty:
        return empty_state("No open problems yet.")
    engaged: dict[int, set[str]] = {}
    for pid, sector in zip(coverage["problem_id"], coverage["sector"], strict=True):
        engaged.setdefault(int(pid), set()).add(str(sector))
    top, basis = _priority_basis(problems, week)
    absent_table = _coverage_matrix(top.to_dict("records"), engaged)

    thin = []
    for row in problems.to_dict("records"):
        have = engaged.get(int(row["id"]), set())
        if len(have) >= min_sectors:
            continue
        missing_core = [SECTOR_LABELS[s] for s in core_sectors_missing(have)]
        thin.append(
            {
                "problem": dcc.Link(row["title"], href=f"/problems/{int(row['id'])}"),
                "rank": str(int(row["rank"])) if not pd.isna(row["rank"]) else "—",
                "status": status_badge(row["status"]),
                "sectors": flag(str(len(have)), "danger" if not have else "warning"),
                "missing": ", ".join(missing_core) or "All six engaged",
            }
        )
    thin_table: Any
    if thin:
        thin_table = data_table(
            [
                Column("Problem", "problem"),
                Column("Rank", "rank", numeric=True),
                Column("Status", "status"),
                Column("Sectors engaged", "sectors", numeric=True),
                Column("Core sectors missing", "missing"),
            ],
            thin,
            caption=f"Open problems engaging fewer than {min_sectors} sectors",
            row_header="problem",
        )
    else:
        thin_table = empty_state(f"Every open problem engages at least {min_sectors} sectors.")
    return html.Div(
        [
            html.P(
                f"Top priority here means {basis}. A sector counts as engaged when at least one "
                "of its actors works on the problem without competing with the effort.",
                className="section-note",
            ),
            html.H3("Sectors on the top-priority problems", className="subsection-title"),
            absent_table,
            html.H3(
                f"Problems engaging fewer than {min_sectors} sectors "
                f"({len(thin)} of {len(problems)})",
                className="subsection-title",
            ),
            thin_table,
        ]
    )
