"""One problem: header, indicators, backward map, actors by sector, innovations, decisions.

``layout`` is a skeleton; ``problem_page`` presents the data the callback fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    humanize,
    loading,
    not_found,
    page_header,
    section,
    status_badge,
)
from layouts.figures import CHART_HEIGHT, indicator_history_figure

REACH_LABELS = {
    "controls": "City controls",
    "influences": "City influences",
    "outside": "Outside the city's reach",
}
REACH_TONES = {"controls": "success", "influences": "info", "outside": "neutral"}
SECTOR_LABELS = {
    "government_agency": "Government agencies",
    "elected_political": "Elected and political",
    "philanthropic": "Philanthropy",
    "corporate_civic": "Corporate and civic",
    "community": "Community groups",
    "nonprofit_social_enterprise": "Nonprofits and social enterprise",
    "labour": "Labour",
    "faith": "Faith groups",
    "media": "Media",
}


def parse_problem_id(raw: Any) -> int | None:
    """The problem id from the URL, or None when it is not a positive integer."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if value > 0 else None


def layout(problem_id: Any = None, **_kwargs: Any) -> html.Div:
    """Skeleton for ``/problems/<problem_id>``; a malformed id is "not found" straight away."""
    parsed = parse_problem_id(problem_id)
    if problem_id is not None and parsed is None:
        return not_found("Problem")
    return html.Div(
        [
            dcc.Store(id=ids.PROBLEM_ID_STORE, data=parsed),
            loading(
                html.Div(
                    html.P("Loading the problem…", className="loading-text"),
                    id=ids.PROBLEM_BODY_DIV,
                )
            ),
        ]
    )


@dataclass(frozen=True)
class ProblemPageData:
    """Everything the problem page shows, as plain data (frames as returned by ``db.queries``)."""

    title: str
    description: str
    desired_outcome: str
    policy_area: str  # its label, ready to show
    status: str
    lead_department: str | None
    owner: str | None
    districts: tuple[str, ...]
    indicators: pd.DataFrame
    histories: pd.DataFrame
    factors: pd.DataFrame
    links: pd.DataFrame
    engagements: pd.DataFrame
    innovations: pd.DataFrame
    decisions: pd.DataFrame
    sectors: tuple[str, ...]
    stages: tuple[str, ...]


def problem_page(data: ProblemPageData) -> html.Div:
    """The whole problem page body."""
    return html.Div(
        [
            problem_header(data),
            html.Div(
                [
                    section(
                        "Description",
                        html.P(data.description or "No description yet.", className="prose"),
                    ),
                    section(
                        "Desired outcome",
                        html.P(
                            data.desired_outcome or "No desired outcome stated yet.",
                            className="prose",
                        ),
                    ),
                ],
                className="two-col",
            ),
            section("Indicators", indicator_cards(data.indicators, data.histories)),
            section(
                "Backward map",
                backward_map(data.factors, data.links, data.engagements),
            ),
            section("Who is engaged", engagements_by_sector(data.engagements, data.sectors)),
            section("Innovations", innovations_by_stage(data.innovations, data.stages)),
            section("Recent decisions", decision_list(data.decisions)),
        ]
    )


def problem_header(data: ProblemPageData) -> html.Div:
    facts = [
        ("Status", status_badge(data.status)),
        ("Policy area", data.policy_area),
        ("Lead department", data.lead_department or "None assigned"),
        ("Owner", data.owner or "No owner"),
        ("Districts", ", ".join(data.districts) if data.districts else "Citywide"),
    ]
    return page_header(
        data.title,
        extra=html.Dl(
            [
                html.Div([html.Dt(label), html.Dd(value)], className="fact")
                for label, value in facts
            ],
            className="fact-list",
        ),
    )


def _direction_text(direction: Any) -> str:
    return "Higher is better" if direction == "up" else "Lower is better"


def indicator_cards(indicators: pd.DataFrame, histories: pd.DataFrame) -> Any:
    """One card per indicator: latest value against target and thresholds, status, a chart."""
    if indicators.empty:
        return empty_state(
            "No indicators linked yet.", "Link indicators so progress on this problem is counted."
        )
    cards = []
    for row in indicators.itertuples(index=False):
        history = histories[histories["indicator_id"] == row.id][["period", "value"]]
        unit = row.unit or ""
        flags = []
        if row.off_target:
            flags.append(flag("Off target", "danger"))
        if row.overdue:
            flags.append(flag("Overdue", "warning"))
        stats = [
            (
                "Latest",
                f"{format_number(row.latest_value, unit)}"
                + (f" ({format_date(row.latest_period)})" if row.latest_period else ""),
            ),
            ("Target", format_number(row.target, unit)),
            (
                "Thresholds",
                f"warning {format_number(row.warning_threshold, unit)}, "
                f"critical {format_number(row.critical_threshold, unit)}",
            ),
            ("Direction", _direction_text(row.direction)),
        ]
        if row.latest_status:
            status_line: list[Any] = [
                html.Span("Latest status: ", className="label"),
                status_badge(row.latest_status),
            ]
            if row.latest_note:
                status_line.append(html.Span(row.latest_note, className="status-note"))
        else:
            status_line = [html.Span("No status reported yet.", className="muted")]
        cards.append(
            html.Article(
                [
                    html.Div(
                        [
                            html.H3(row.name, className="card-title"),
                            html.Span(f"{row.code} · {row.department_name}", className="card-meta"),
                            html.Div(flags, className="flag-row") if flags else None,
                        ],
                        className="indicator-card-head",
                    ),
                    html.Dl(
                        [
                            html.Div([html.Dt(label), html.Dd(value)], className="stat")
                            for label, value in stats
                        ],
                        className="stat-list",
                    ),
                    html.Div(status_line, className="status-line"),
                    dcc.Graph(
                        id=ids.indicator_chart(int(row.id)),
                        figure=indicator_history_figure(
                            history,
                            name=f"{row.name} over time",
                            unit=unit,
                            target=row.target,
                            warning_threshold=row.warning_threshold,
                            critical_threshold=row.critical_threshold,
                        ),
                        config={"displayModeBar": False},
                        style={"height": f"{CHART_HEIGHT}px"},
                        className="indicator-graph",
                    ),
                ],
                className="indicator-card",
            )
        )
    return html.Div(cards, className="card-grid")


def _actors_by_factor(engagements: pd.DataFrame) -> dict[int, list[str]]:
    actors: dict[int, list[str]] = {}
    if engagements.empty:
        return actors
    for row in engagements.itertuples(index=False):
        if row.factor_id is None or pd.isna(row.factor_id):
            continue
        label = f"{row.actor_name} ({SECTOR_LABELS.get(row.sector, humanize(row.sector))}, "
        label += f"{humanize(row.role).lower()})"
        actors.setdefault(int(row.factor_id), []).append(label)
    return actors


def backward_map(factors: pd.DataFrame, links: pd.DataFrame, engagements: pd.DataFrame) -> Any:
    """The causal chain as a nested list, from the problem back to its contributing factors.

    Each factor shows its reach, evidence and the actors astride it; "No actor" is flagged.
    """
    if factors.empty:
        return empty_state(
            "No causal factors mapped yet.",
            "Map backward from the condition to what contributes to it.",
        )
    by_id = {int(r.id): r for r in factors.itertuples(index=False)}
    children: dict[int, list[int]] = {}
    has_parent: set[int] = set()
    for link in links.itertuples(index=False):
        factor, parent = int(link.factor_id), int(link.parent_id)
        if factor in by_id and parent in by_id:
            children.setdefault(parent, []).append(factor)
            has_parent.add(factor)
    actors = _actors_by_factor(engagements)
    order = {fid: i for i, fid in enumerate(by_id)}

    def item(fid: int, path: frozenset[int]) -> html.Li:
        row = by_id[fid]
        astride = actors.get(fid, [])
        parts: list[Any] = [
            html.Span(row.title, className="factor-title"),
            html.Span(
                REACH_LABELS.get(row.reach, humanize(row.reach)),
                className=f"flag tone-{REACH_TONES.get(row.reach, 'neutral')}",
            ),
            html.Span(
                f"Evidence: {humanize(row.evidence).lower()} · weight {row.weight:.2f}",
                className="factor-meta",
            ),
            html.Div(
                ["Actors: ", "; ".join(astride)]
                if astride
                else [flag("No actor", "danger"), " nobody is working on this factor"],
                className="factor-actors",
            ),
        ]
        kids = sorted(children.get(fid, []), key=order.__getitem__)
        kids = [k for k in kids if k not in path]
        if kids:
            parts.append(html.Ul([item(k, path | {k}) for k in kids], className="factor-tree"))
        return html.Li(parts, className="factor-node")

    roots = [fid for fid in by_id if fid not in has_parent] or list(by_id)
    uncovered = sum(1 for fid in by_id if fid not in actors)
    summary = f"{len(by_id)} factors; {uncovered} with no actor working on them."
    return html.Div(
        [
            html.P(summary, className="muted"),
            html.Ul([item(fid, frozenset({fid})) for fid in roots], className="factor-tree root"),
        ]
    )


def engagements_by_sector(engagements: pd.DataFrame, sectors: Sequence[str]) -> Any:
    """Actors engaged, grouped by sector, and the sectors nobody from is engaged yet."""
    present = set(engagements["sector"]) if not engagements.empty else set()
    missing = [SECTOR_LABELS.get(s, humanize(s)) for s in sectors if s not in present]
    blocks: list[Any] = []
    if engagements.empty:
        blocks.append(empty_state("Nobody is engaged on this problem yet."))
    else:
        rows = []
        for row in engagements.itertuples(index=False):
            rows.append(
                {
                    "sector": SECTOR_LABELS.get(row.sector, humanize(row.sector)),
                    "actor": row.actor_name,
                    "role": humanize(row.role),
                    "stance": humanize(row.stance),
                    "funding": format_number(row.committed_funding, "USD", 0)
                    if row.committed_funding
                    else "—",
                    "factor": row.factor_title or "The problem as a whole",
                }
            )
        blocks.append(
            data_table(
                [
                    Column("Sector", "sector"),
                    Column("Actor", "actor"),
                    Column("Role", "role"),
                    Column("Stance", "stance"),
                    Column("Committed funding", "funding", numeric=True),
                    Column("Working on", "factor"),
                ],
                rows,
                caption="Actors engaged on this problem, by sector",
                row_header="actor",
            )
        )
    if missing:
        blocks.append(
            html.P(
                [html.Strong("Sectors not engaged: "), ", ".join(missing) + "."],
                className="missing-sectors",
            )
        )
    else:
        blocks.append(html.P("Every sector is engaged.", className="muted"))
    return html.Div(blocks)


def innovations_by_stage(innovations: pd.DataFrame, stages: Sequence[str]) -> Any:
    """Innovations in columns by stage (idea → pilot → evaluating → scaling → retired)."""
    if innovations.empty:
        return empty_state(
            "No innovations in play.",
            "Record ideas tested elsewhere, home-grown or reclaimed, and try the promising ones.",
        )
    columns = []
    for stage in stages:
        items = innovations[innovations["stage"] == stage]
        entries = [
            html.Li(
                [
                    html.Span(row.title, className="innovation-title"),
                    html.Span(
                        f"{humanize(row.origin)} · {humanize(row.kind).lower()} · "
                        f"evidence {humanize(row.evidence).lower()}"
                        + (f" · led by {row.lead_actor}" if row.lead_actor else ""),
                        className="innovation-meta",
                    ),
                ]
            )
            for row in items.itertuples(index=False)
        ]
        columns.append(
            html.Div(
                [
                    html.H3(f"{humanize(stage)} ({len(entries)})", className="stage-title"),
                    html.Ul(entries, className="stage-list")
                    if entries
                    else html.P("None", className="muted"),
                ],
                className="stage-column",
            )
        )
    return html.Div(columns, className="stage-board")


def decision_list(decisions: pd.DataFrame) -> Any:
    """The latest weekly decisions on the problem."""
    if decisions.empty:
        return empty_state("No decisions recorded yet.")
    rows = [
        {
            "week": row.week,
            "decision": humanize(row.decision),
            "note": row.note or "—",
            "author": row.author or "—",
        }
        for row in decisions.itertuples(index=False)
    ]
    return data_table(
        [
            Column("Week", "week"),
            Column("Decision", "decision"),
            Column("Note", "note"),
            Column("By", "author"),
        ],
        rows,
        caption="Recent decisions on this problem",
        row_header="week",
    )
