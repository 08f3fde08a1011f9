"""The problem drill-down at ``/problems/<id>``: a header with its scores, then one tab per view.

``layout`` is a skeleton (deep links: ``?tab=map`` opens a tab); the callbacks fill the header
and the active tab. Presenters here turn plain data into components; the backward map lives in
``layouts.problem_map`` and the chief of staff's editors in ``layouts.problem_edit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from dash import dcc, html

from layouts import ids, problem_edit
from layouts.components import (
    Column,
    data_table,
    empty_state,
    flag,
    format_date,
    format_number,
    humanize,
    kpi_card,
    kpi_row,
    loading,
    not_found,
    notice,
    page_header,
    section,
    status_badge,
)
from layouts.figures import (
    CHART_HEIGHT,
    TITLE_CHARACTERS,
    component_breakdown_figure,
    district_map_figure,
    indicator_history_figure,
    reports_over_time_figure,
)
from triage.plain import HIGH_FROM, MEDIUM_FROM, band_hint, score_band
from triage.vocabulary import SCALE_WORDS, SECTOR_LABELS

# (tab id, label): the order of the tabs; the first is the default.
TABS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("indicators", "Indicators"),
    ("reports", "Citizen reports"),
    ("map", "Backward map"),
    ("actors", "Actors"),
    ("innovations", "Innovations"),
    ("history", "Decisions and audit"),
)
DEFAULT_TAB = TABS[0][0]
TAB_PANELS: dict[str, str] = {
    "overview": ids.PROBLEM_OVERVIEW_DIV,
    "indicators": ids.PROBLEM_INDICATORS_DIV,
    "reports": ids.PROBLEM_REPORTS_DIV,
    "map": ids.PROBLEM_MAP_DIV,
    "actors": ids.PROBLEM_ACTORS_DIV,
    "innovations": ids.PROBLEM_INNOVATIONS_DIV,
    "history": ids.PROBLEM_HISTORY_DIV,
}
# The editor shown under a tab to those who may edit (see layouts.problem_edit).
TAB_EDITORS: dict[str, Any] = {
    "overview": problem_edit.problem_editor,
    "map": problem_edit.factor_editor,
    "actors": problem_edit.engagement_editor,
    "innovations": problem_edit.innovation_editor,
}
SCORE_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "importance": (
        ("gap", "Gap to target"),
        ("worsening", "Worsening"),
        ("people", "People affected"),
        ("concern", "Citizen concern"),
        ("equity", "Equity"),
    ),
    "tractability": (
        ("reach", "Within city reach"),
        ("capacity", "Actor capacity"),
        ("pipeline", "Innovation pipeline"),
        ("authority", "Authority"),
        ("political_capital", "Political capital"),
    ),
    "neglectedness": (
        ("uncovered", "Factors nobody works on"),
        ("sectors_absent", "Sectors absent"),
        ("funding_gap", "Funding gap"),
    ),
}
REPORT_SNIPPET = 160


def parse_problem_id(raw: Any) -> int | None:
    """The problem id from the URL, or None when it is not a positive integer."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if value > 0 else None


def parse_tab(raw: Any) -> str:
    """The tab named in the query string, or the default one for anything unknown."""
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    text = str(raw or "").strip().lower()
    return text if text in TAB_PANELS else DEFAULT_TAB


# ---------------------------------------------------------------- skeleton


def tab_button(tab_id: str, label: str, active: bool) -> html.Button:
    """One tab: a button (keyboard operable) with the ARIA tab semantics."""
    return html.Button(
        label,
        id=ids.problem_tab_button(tab_id),
        type="button",
        role="tab",
        n_clicks=0,
        className="nav-link active" if active else "nav-link",
        **{
            "aria-selected": "true" if active else "false",
            "aria-controls": ids.problem_tab_panel(tab_id),
        },
    )


def tab_panel_frame(tab_id: str, active: bool) -> html.Div:
    """The panel of one tab: its content (filled when opened) and, below, its editor."""
    children: list[Any] = [loading(html.Div(id=TAB_PANELS[tab_id], className="tab-body"))]
    editor = TAB_EDITORS.get(tab_id)
    if editor is not None:
        children.append(editor())
    return html.Div(
        children,
        id=ids.problem_tab_panel(tab_id),
        role="tabpanel",
        hidden=not active,
        className="tab-content-inner",
        **{"aria-labelledby": ids.problem_tab_button(tab_id)},
    )


def layout(problem_id: Any = None, tab: Any = None, **_kwargs: Any) -> html.Div:
    """Skeleton for ``/problems/<problem_id>?tab=<tab>``; a malformed id is "not found" at once.

    The editors are part of the skeleton but hidden; the header callback shows them to those
    who may edit, so nobody else ever triggers their callbacks.
    """
    parsed = parse_problem_id(problem_id)
    if problem_id is not None and parsed is None:
        return not_found("Problem")
    active = parse_tab(tab)
    return html.Div(
        [
            dcc.Store(id=ids.PROBLEM_ID_STORE, data=parsed),
            dcc.Store(id=ids.PROBLEM_TAB_STORE, data=active),
            dcc.Store(id=ids.PROBLEM_VERSION_STORE),
            dcc.Store(id=ids.PROBLEM_EDITOR_STORE),
            dcc.Store(id=ids.PROBLEM_EDIT_SAVED_STORE, data=0),
            dcc.Store(id=ids.PROBLEM_FACTOR_SAVED_STORE, data=0),
            dcc.Store(id=ids.PROBLEM_ENGAGEMENT_SAVED_STORE, data=0),
            dcc.Store(id=ids.PROBLEM_INNOVATION_SAVED_STORE, data=0),
            loading(
                html.Div(
                    html.P("Loading the problem…", className="loading-text"),
                    id=ids.PROBLEM_HEADER_DIV,
                    className="problem-header-slot",
                )
            ),
            html.Div(
                [
                    html.Div(
                        [tab_button(tab_id, label, tab_id == active) for tab_id, label in TABS],
                        id=ids.PROBLEM_TABS,
                        role="tablist",
                        className="nav nav-tabs problem-tabs",
                        **{"aria-label": "Sections of this problem"},
                    ),
                    *(tab_panel_frame(tab_id, tab_id == active) for tab_id, _label in TABS),
                ],
                id=ids.PROBLEM_SECTIONS_DIV,
                hidden=True,
            ),
        ],
        id=ids.PROBLEM_BODY_DIV,
    )


def tab_section(tab_id: str, content: Any) -> html.Section:
    """A tab's content under an h2 named like the tab (hidden: the tab shows the name)."""
    label = dict(TABS).get(tab_id, humanize(tab_id))
    return section(label, content, class_name="visually-hidden-heading tab-section")


# ---------------------------------------------------------------- header and scores


ARCHIVED_NOTE = (
    "This problem is archived: it is left out of the pickers and the weekly ranking; "
    "its history stays here. An administrator can restore it."
)


@dataclass(frozen=True)
class HeaderData:
    """What the header shows: the record's facts and, when ranked, this week's scores."""

    title: str
    status: str
    policy_area: str  # its label, ready to show
    lead_department: str | None
    owner: str | None
    districts: tuple[str, ...]
    week: str
    score: Any | None  # db.scores.ProblemScore
    archived: bool = False


def _band(value: float | None) -> str:
    return score_band(value) or "—"


def _range_text(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "range unknown"
    return f"range {low:.2f} to {high:.2f}"


def group_range(components: Mapping[str, Any], group: str) -> tuple[float | None, float | None]:
    """The low and high end of a score (importance, tractability, neglectedness) from the
    stored components: the same weighted mean at every component's low and high end."""
    parts = components.get(group) or {}
    weights = components.get("weights") or {}
    low = high = total = 0.0
    for name, value in parts.items():
        weight = float(weights.get(name, 0.0) or 0.0)
        if not isinstance(value, Mapping) or value.get("low") is None or weight <= 0:
            continue
        low += weight * float(value["low"])
        high += weight * float(value.get("high", value["low"]))
        total += weight
    if total <= 0:
        return None, None
    return low / total, high / total


def problem_header(data: HeaderData) -> html.Div:
    """The page's h1, its facts and this week's scores with their ranges and confidence."""
    facts = [
        ("Status", status_badge(data.status)),
        ("Policy area", data.policy_area),
        ("Lead department", data.lead_department or "Not assigned"),
        ("Owner", data.owner or "No owner"),
        ("Districts", ", ".join(data.districts) if data.districts else "Citywide"),
    ]
    fact_list = html.Dl(
        [html.Div([html.Dt(label), html.Dd(value)], className="fact") for label, value in facts],
        className="fact-list",
    )
    archived = [notice(ARCHIVED_NOTE, "info", title="Archived")] if data.archived else []
    return page_header(data.title, extra=html.Div([*archived, fact_list, score_cards(data)]))


def score_cards(data: HeaderData) -> Any:
    """Rank, priority, the three scores and confidence as key figures (or why there are none)."""
    score = data.score
    if score is None:
        reason = (
            "Resolved problems are left out of the weekly ranking."
            if data.status == "resolved"
            else f"It is not in the stored ranking of week {data.week} yet; it will be "
            "scored in the next weekly ranking."
        )
        return html.Div(
            notice(reason, "info", title="Not ranked this week"), className="score-strip"
        )
    components = score.components or {}
    cards = [
        kpi_card(
            "Rank this week",
            f"#{score.rank} of {score.ranked}",
            f"Priority {_band(score.priority)}: "
            f"{band_hint(score.priority, score.priority_low, score.priority_high)}",
            tone="info",
        )
    ]
    for name in ("importance", "tractability", "neglectedness"):
        low, high = group_range(components, name)
        cards.append(
            kpi_card(
                name.capitalize(),
                _band(getattr(score, name)),
                band_hint(getattr(score, name), low, high),
            )
        )
    cards.append(
        kpi_card(
            "Confidence",
            f"{score.confidence:.0%}",
            "How complete its indicators, reports and map are",
            tone="success" if score.confidence >= 0.6 else "warning",
        )
    )
    computed = f", computed {format_date(score.computed_at)} UTC" if score.computed_at else ""
    return html.Div(
        [
            html.H2("This week's scores", className="visually-hidden"),
            kpi_row(cards),
            html.P(
                f"Scores from the weekly ranking of {score.week}{computed}. High is "
                f"{HIGH_FROM:.1f} or more on a scale of 0 to 1, Medium from {MEDIUM_FROM:.1f}; "
                "the glossary explains each score.",
                className="score-note",
            ),
        ],
        className="score-strip",
    )


# ---------------------------------------------------------------- overview


def breakdown_frame(components: Mapping[str, Any]) -> pd.DataFrame:
    """The stored components as rows for :func:`layouts.figures.component_breakdown_figure`.

    Columns: group, name, label, value, low, high, weight (share of its group), missing.
    """
    weights = components.get("weights") or {}
    missing = set(components.get("missing") or ())
    rows = []
    for group, parts in SCORE_PARTS.items():
        stored = components.get(group) or {}
        total = sum(float(weights.get(name, 0.0) or 0.0) for name, _ in parts) or 1.0
        for name, label in parts:
            value = stored.get(name) or {}
            rows.append(
                {
                    "group": group,
                    "name": name,
                    "label": label,
                    "value": _float(value.get("value")),
                    "low": _float(value.get("low")),
                    "high": _float(value.get("high")),
                    "weight": float(weights.get(name, 0.0) or 0.0) / total,
                    "missing": name in missing,
                }
            )
    return pd.DataFrame(
        rows, columns=["group", "name", "label", "value", "low", "high", "weight", "missing"]
    )


def _float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def breakdown_sentences(score: Any, parts: pd.DataFrame) -> list[str]:
    """One plain sentence per score: its value and range, and what lifts and holds it back."""
    sentences = [
        f"It ranks #{score.rank} of {score.ranked} this week with a {_band(score.priority)} "
        f"priority of {score.priority:.2f} "
        f"({_range_text(score.priority_low, score.priority_high)}): "
        "priority combines importance, tractability and neglectedness, so a problem must be "
        "both important and tractable to rank high."
    ]
    for group in SCORE_PARTS:
        rows = parts[(parts["group"] == group) & parts["value"].notna() & (parts["weight"] > 0)]
        if rows.empty:
            continue
        ordered = rows.sort_values("value", ascending=False)
        top, bottom = ordered.iloc[0], ordered.iloc[-1]
        low, high = group_range(score.components or {}, group)
        text = (
            f"{group.capitalize()} is {_band(getattr(score, group))}, "
            f"{getattr(score, group):.2f} ({_range_text(low, high)}): "
            f"highest part {top['label'].lower()} ({top['value']:.2f})"
        )
        if len(ordered) > 1:
            text += f", lowest {bottom['label'].lower()} ({bottom['value']:.2f})"
        sentences.append(text + ".")
    missing = parts[parts["missing"]]
    if not missing.empty:
        names = ", ".join(label.lower() for label in missing["label"])
        sentences.append(
            f"No data yet for {names}: typical values were assumed (hatched bars), "
            "which widens the ranges and lowers confidence."
        )
    return sentences


def breakdown_table(parts: pd.DataFrame) -> html.Details:
    """The numbers behind the breakdown chart, as a table (the chart's text alternative)."""
    rows = [
        {
            "part": f"{row.group.capitalize()}: {row.label}",
            "value": "—" if math.isnan(row.value) else f"{row.value:.2f}",
            "range": "—"
            if math.isnan(row.low) or math.isnan(row.high)
            else f"{row.low:.2f} to {row.high:.2f}",
            "weight": f"{row.weight:.0%}",
            "data": "No data: typical value assumed" if row.missing else "Measured",
        }
        for row in parts.itertuples(index=False)
    ]
    return html.Details(
        [
            html.Summary("The numbers behind the chart"),
            data_table(
                [
                    Column("Component", "part"),
                    Column("Score", "value", numeric=True),
                    Column("Range", "range", numeric=True),
                    Column("Weight in its group", "weight", numeric=True),
                    Column("Data", "data"),
                ],
                rows,
                caption="Score components with their ranges and weights",
                row_header="part",
            ),
        ],
        className="chart-numbers",
    )


@dataclass(frozen=True)
class OverviewData:
    """The overview tab: why it ranks where it does, and the problem as the office states it."""

    score: Any | None  # db.scores.ProblemScore
    description: str
    desired_outcome: str
    authority: int
    authority_notes: str
    political_capital: int
    political_notes: str


def _scale(value: int) -> str:
    word = SCALE_WORDS[value] if 0 <= value < len(SCALE_WORDS) else "unknown"
    return f"{value} of 5 ({word})"


def overview_section(data: OverviewData) -> html.Div:
    """Why it ranks here (chart, sentences, numbers), description, outcome, authority."""
    if data.score is None:
        why: Any = empty_state(
            "Not in this week's ranking.",
            "Once the weekly ranking includes it, its score breakdown appears here.",
        )
    else:
        parts = breakdown_frame(data.score.components or {})
        sentences = breakdown_sentences(data.score, parts)
        why = html.Div(
            [
                html.P(data.score.explanation, className="prose explanation")
                if data.score.explanation
                else None,
                html.Ul([html.Li(s) for s in sentences], className="sentence-list"),
                html.Figure(
                    [
                        dcc.Graph(
                            figure=component_breakdown_figure(parts),
                            config={"displayModeBar": False},
                            className="breakdown-graph",
                        ),
                        html.Figcaption(
                            "Bars show each component from 0 (low) to 1 (high); whiskers show "
                            "its range; hatched bars had no data, so a typical value was assumed.",
                            className="chart-caption",
                        ),
                    ],
                    className="chart-figure",
                ),
                breakdown_table(parts),
            ]
        )
    return html.Div(
        [
            section("Why it ranks here", why, level=3),
            html.Div(
                [
                    section(
                        "Description",
                        html.P(data.description or "No description yet.", className="prose"),
                        level=3,
                    ),
                    section(
                        "Desired outcome",
                        html.P(
                            data.desired_outcome or "No desired outcome stated yet.",
                            className="prose",
                        ),
                        level=3,
                    ),
                    section(
                        "Authority to act",
                        html.Div(
                            [
                                html.P(_scale(data.authority), className="scale-value"),
                                html.P(data.authority_notes or "No notes.", className="prose"),
                            ]
                        ),
                        level=3,
                    ),
                    section(
                        "Political capital",
                        html.Div(
                            [
                                html.P(_scale(data.political_capital), className="scale-value"),
                                html.P(data.political_notes or "No notes.", className="prose"),
                            ]
                        ),
                        level=3,
                    ),
                ],
                className="two-col",
            ),
        ]
    )


# ---------------------------------------------------------------- indicators


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
            ("Target", _set_or_none(row.target, unit)),
            (
                "Thresholds",
                "Not set"
                if _missing_number(row.warning_threshold)
                and _missing_number(row.critical_threshold)
                else f"warning {format_number(row.warning_threshold, unit)}, "
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
                    _indicator_chart(row, history, unit),
                ],
                className="indicator-card",
            )
        )
    return html.Div(cards, className="card-grid")


def _missing_number(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _set_or_none(value: Any, unit: str) -> str:
    """A target or threshold with its unit, or "Not set" (not a bare dash)."""
    return "Not set" if _missing_number(value) else format_number(value, unit)


def _chart_title(name: str) -> str:
    """The title of an indicator's chart: "Paramedic vacancies over time", or "Over time"
    for a name too long for it (the card's heading names the indicator in full)."""
    title = f"{name} over time"
    return title if len(title) <= TITLE_CHARACTERS else "Over time"


def _indicator_chart(row: Any, history: pd.DataFrame, unit: str) -> Any:
    """The indicator's values over time against its target, or, with no value yet, a sentence
    instead of an empty chart with meaningless axes."""
    if history.empty:
        when = f" {row.cadence}" if isinstance(row.cadence, str) and row.cadence else ""
        return empty_state(
            "No values recorded yet.",
            f"{row.department_name} reports it{when}, on My department.",
        )
    return dcc.Graph(
        id=ids.indicator_chart(int(row.id)),
        figure=indicator_history_figure(
            history,
            name=_chart_title(row.name),
            unit=unit,
            target=row.target,
            warning_threshold=row.warning_threshold,
            critical_threshold=row.critical_threshold,
        ),
        config={"displayModeBar": False},
        style={"height": f"{CHART_HEIGHT}px"},
        className="indicator-graph",
    )


# ---------------------------------------------------------------- citizen reports


@dataclass(frozen=True)
class ReportsData:
    """The citizen-reports tab, computed from the daily aggregate (see callbacks.problem)."""

    categories: tuple[str, ...]
    series: pd.DataFrame  # period_end, category, raw, adjusted
    window_days: int
    totals: pd.DataFrame  # category, raw, adjusted, last_window, previous_window
    districts: pd.DataFrame  # id, name, geometry, population, in_scope, raw, adjusted, per_1k...
    concern_days: int
    recent: pd.DataFrame  # as db.reports.newest_in_categories
    # Reports in 90 days (raw, adjusted) as this week's ranking counted them: the overview's
    # figure (``db.scores.ProblemScore.reports``); None when the week is not scored.
    scored: tuple[float, float] | None = None
    scored_week: str = ""


def reports_section(data: ReportsData) -> html.Div:
    """Counts over time (raw and adjusted), a district map of the burden, recent reports."""
    if not data.categories:
        return empty_state(
            "No 311 category is linked to this problem.",
            "Map report categories to it (Administration, category mapping) so that what "
            "residents report counts as evidence.",
        )
    raw = float(data.totals["raw"].sum()) if not data.totals.empty else 0.0
    adjusted = float(data.totals["adjusted"].sum()) if not data.totals.empty else 0.0
    if raw == 0 and (data.scored is None or data.scored[0] == 0):
        # Flat lines at zero, an empty map and a table of zeros say nothing: say it in words,
        # with when the last report came, and keep the newest reports.
        return html.Div(
            [
                empty_state(
                    f"No reports in {_listing(data.categories)} in the last "
                    f"{data.concern_days} days.",
                    _latest_report_text(data.recent),
                ),
                section("Most recent reports", recent_reports_table(data.recent), level=3),
            ]
        )
    filed = (
        f"{raw:,.0f} reports as filed in the last {data.concern_days} days in "
        f"{_listing(data.categories)} ({adjusted:,.0f} after adjusting for how readily each "
        "district reports)"
    )
    if data.scored is not None:
        scored_raw, scored_adjusted = data.scored
        leads = [
            f"Residents filed {scored_raw:,.0f} reports in 90 days ({scored_adjusted:,.0f} "
            f"adjusted), as the ranking of {data.scored_week} counts them, each category "
            "weighted by how much it concerns this problem.",
            f"Counted unweighted, the charts and tables below show {filed}.",
        ]
    else:
        leads = [f"Residents filed {filed}."]
    return html.Div(
        [
            *(html.P(lead, className="section-lead") for lead in leads),
            section(
                "Reports over time",
                html.Div(
                    [
                        html.Figure(
                            [
                                dcc.Graph(
                                    figure=reports_over_time_figure(
                                        data.series, window_days=data.window_days
                                    ),
                                    config={"displayModeBar": False},
                                ),
                                html.Figcaption(
                                    "Solid lines: reports as filed. Dotted lines: adjusted for "
                                    "each district's reporting habits (districts that report "
                                    "less than their population and need predict count more).",
                                    className="chart-caption",
                                ),
                            ],
                            className="chart-figure",
                        ),
                        category_totals_table(data.totals, data.window_days, data.concern_days),
                    ]
                ),
                level=3,
            ),
            section(
                "Where residents report it",
                html.Div(
                    [
                        html.Figure(
                            [
                                dcc.Graph(
                                    figure=district_map_figure(
                                        data.districts,
                                        _district_values(data.districts),
                                        "Reports per 1,000 residents, adjusted, last "
                                        f"{data.concern_days} days",
                                        "per 1,000 residents",
                                    ),
                                    config={"displayModeBar": False},
                                ),
                                html.Figcaption(
                                    "Districts drawn from their boundaries; darker means more "
                                    "adjusted reports per 1,000 residents. Grey: outside this "
                                    "problem's districts or no reports. The table gives every "
                                    "number.",
                                    className="chart-caption",
                                ),
                            ],
                            className="chart-figure",
                        ),
                        district_table(data.districts),
                    ],
                    className="report-split",
                ),
                level=3,
            ),
            section("Recent reports", recent_reports_table(data.recent), level=3),
        ]
    )


def _latest_report_text(recent: pd.DataFrame) -> str:
    """When the newest report in the categories was filed, in words."""
    if recent.empty:
        return "No report has ever been filed in these categories."
    newest = pd.to_datetime(recent["requested_at"], errors="coerce").max()
    if pd.isna(newest):
        return ""
    return f"The most recent was filed on {format_date(newest.date())}."


def _listing(names: Sequence[str]) -> str:
    quoted = [f"“{n}”" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def _district_values(districts: pd.DataFrame) -> dict[Any, float]:
    if districts.empty:
        return {}
    rows = districts[districts["in_scope"] & (districts["raw"] > 0)]
    return {int(r.id): float(r.adjusted_per_1k) for r in rows.itertuples(index=False)}


def category_totals_table(totals: pd.DataFrame, window_days: int, concern_days: int) -> Any:
    """Per category: reports over the concern window, raw and adjusted, and the last windows."""
    if totals.empty:
        return empty_state("No reports in these categories yet.")
    rows = [
        {
            "category": row.category,
            "raw": format_number(row.raw),
            "adjusted": format_number(round(float(row.adjusted))),
            "last": format_number(row.last_window),
            "previous": format_number(row.previous_window),
        }
        for row in totals.itertuples(index=False)
    ]
    return data_table(
        [
            Column("Category", "category"),
            Column(f"Reports as filed, {concern_days} days", "raw", numeric=True),
            Column("Adjusted", "adjusted", numeric=True),
            Column(f"Last {window_days} days", "last", numeric=True),
            Column(f"{window_days} days before", "previous", numeric=True),
        ],
        rows,
        caption="Reports by category, as filed (unweighted) and adjusted",
        row_header="category",
    )


def _rate(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


def district_table(districts: pd.DataFrame) -> Any:
    """The map's numbers: reports and burden per district (the map's text alternative)."""
    if districts.empty:
        return empty_state("No districts recorded.")
    shown = districts[districts["in_scope"]].sort_values("adjusted_per_1k", ascending=False)
    rows = [
        {
            "district": row.name,
            "raw": format_number(row.raw),
            "per_1k": _rate(row.raw_per_1k),
            "adjusted_per_1k": _rate(row.adjusted_per_1k),
            "factor": f"×{row.adjustment:.2f}",
        }
        for row in shown.itertuples(index=False)
    ]
    return html.Div(
        [
            data_table(
                [
                    Column("District", "district"),
                    Column("Reports", "raw", numeric=True),
                    Column("Per 1,000", "per_1k", numeric=True),
                    Column("Adjusted", "adjusted_per_1k", numeric=True),
                    Column("Factor", "factor", numeric=True),
                ],
                rows,
                caption="Reports per district, per 1,000 residents, raw and adjusted",
                row_header="district",
            ),
            html.P(
                "Per 1,000 residents. Factor: how much each district's reports count after "
                "adjusting for how readily its residents report (above 1: under-reporting).",
                className="chart-caption",
            ),
        ]
    )


def recent_reports_table(recent: pd.DataFrame) -> Any:
    """The newest reports in the problem's categories (descriptions are plain text, cut short)."""
    if recent.empty:
        return empty_state("No reports yet in this problem's categories.")
    rows = []
    for row in recent.itertuples(index=False):
        text = str(row.description or "").strip()
        if len(text) > REPORT_SNIPPET:
            text = text[: REPORT_SNIPPET - 1].rstrip() + "…"
        rows.append(
            {
                "when": format_date(row.requested_at),
                "category": row.category,
                "district": row.district or "—",
                "status": humanize(row.status),
                "description": text or "—",
            }
        )
    return data_table(
        [
            Column("Filed", "when"),
            Column("Category", "category"),
            Column("District", "district"),
            Column("Status", "status"),
            Column("What the resident wrote", "description"),
        ],
        rows,
        caption=f"The {len(rows)} most recent reports in this problem's categories",
        row_header="when",
        stack_on_phone=True,  # the last columns were off a phone's screen
    )


# ---------------------------------------------------------------- actors


def _money(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or not float(value):
        return "—"
    return format_number(float(value), "USD", 0)


def actors_section(
    engagements: pd.DataFrame,
    missing_sectors: Sequence[str],
    *,
    other_missing: Sequence[str] = (),
) -> html.Div:
    """Actors engaged, grouped by sector: role, stance, money, authorisation; sectors missing."""
    blocks: list[Any] = []
    if engagements.empty:
        blocks.append(
            empty_state(
                "Nobody is engaged on this problem yet.",
                "Record who funds, delivers, advocates, authorises or convenes on it.",
            )
        )
    else:
        sectors = (
            engagements.assign(allied=engagements["stance"] != "competing")
            .groupby("sector", sort=False)
            .agg(
                actors=("actor_id", "nunique"),
                funding=("committed_funding", "sum"),
                allied=("allied", "any"),
            )
        )
        summary = [
            kpi_card(
                SECTOR_LABELS.get(sector, humanize(sector)),
                f"{int(row.actors)} actor{'s' if int(row.actors) != 1 else ''}",
                (f"{_money(row.funding)} committed" if float(row.funding) else "no money committed")
                + ("" if row.allied else "; competing, so not counted as engaged"),
                tone="neutral" if row.allied else "warning",
            )
            for sector, row in sectors.iterrows()
        ]
        blocks.append(kpi_row(summary))
        rows = []
        for row in engagements.itertuples(index=False):
            stance = humanize(row.stance)
            rows.append(
                {
                    "actor": html.Span(
                        [
                            html.Span(row.actor_name),
                            html.Span(
                                SECTOR_LABELS.get(row.sector, humanize(row.sector)),
                                className="cell-meta",
                            ),
                        ],
                        className="cell-stack",
                    ),
                    "role": humanize(row.role),
                    "stance": flag(stance, "danger") if row.stance == "competing" else stance,
                    "funding": _money(row.committed_funding),
                    "factor": row.factor_title or "The problem as a whole",
                    "authorisation": _authorisation(row.authorisation, row.strings),
                    "contact": format_date(row.last_contact),
                }
            )
        blocks.append(
            data_table(
                [
                    Column("Actor", "actor"),
                    Column("Role", "role"),
                    Column("Stance", "stance"),
                    Column("Committed funding", "funding", numeric=True),
                    Column("Working on", "factor"),
                    Column("Authorisation and strings", "authorisation"),
                    Column("Last contact", "contact"),
                ],
                rows,
                caption="Actors engaged on this problem, by sector",
                row_header="actor",
                stack_on_phone=True,  # the last columns were off a phone's screen
            )
        )
    if missing_sectors:
        names = [SECTOR_LABELS.get(s, humanize(s)) for s in missing_sectors]
        blocks.append(
            notice(
                ", ".join(names) + ".",
                "warning",
                title=f"Sectors not engaged ({len(names)} of the core six)",
            )
        )
    else:
        blocks.append(html.P("Every sector of the core six is engaged.", className="muted"))
    if other_missing:
        others = ", ".join(SECTOR_LABELS.get(s, humanize(s)) for s in other_missing)
        blocks.append(
            html.P(f"Beyond the core six, also not engaged: {others}.", className="muted")
        )
    return html.Div(blocks, className="stack")


def _authorisation(authorisation: Any, strings: Any) -> Any:
    parts = []
    if authorisation:
        parts.append(html.Span(str(authorisation)))
    if strings:
        parts.append(html.Span(f"Strings: {strings}", className="cell-meta"))
    return html.Span(parts, className="cell-stack") if parts else "—"


# ---------------------------------------------------------------- innovations


def innovations_section(innovations: pd.DataFrame, stages: Sequence[str]) -> Any:
    """Innovations in columns by stage, each with its origin, kind, evidence, lead and cost."""
    if innovations.empty:
        return empty_state(
            "No innovations in play.",
            "Record ideas tested elsewhere, home-grown or reclaimed, and try the promising ones.",
        )
    origins = innovations["origin"].value_counts()
    summary = "; ".join(f"{n} {humanize(o).lower()}" for o, n in origins.items())
    columns = []
    for stage in stages:
        items = innovations[innovations["stage"] == stage]
        entries = []
        for row in items.itertuples(index=False):
            meta = (
                f"{humanize(row.origin)} · {humanize(row.kind).lower()} · "
                f"evidence {humanize(row.evidence).lower()}"
            )
            details = []
            if isinstance(row.lead_actor, str) and row.lead_actor.strip():
                details.append(f"Led by {row.lead_actor}")
            if row.cost is not None and not pd.isna(row.cost):
                details.append(f"cost {_money(row.cost)}")
            entries.append(
                html.Li(
                    [
                        html.Span(row.title, className="innovation-title"),
                        html.Span(meta, className="innovation-meta"),
                        html.Span(", ".join(details), className="innovation-meta")
                        if details
                        else None,
                        html.Span(row.evidence_note, className="innovation-note")
                        if isinstance(row.evidence_note, str) and row.evidence_note.strip()
                        else None,
                    ]
                )
            )
        columns.append(
            html.Div(
                [
                    html.H3(f"{humanize(stage)} ({len(entries)})", className="stage-title"),
                    html.Ul(entries, className="stage-list")
                    if entries
                    else html.P("Nothing at this stage", className="muted"),
                ],
                className="stage-column",
            )
        )
    return html.Div(
        [
            html.P(f"{len(innovations)} innovations by origin: {summary}.", className="muted"),
            html.Div(columns, className="stage-board"),
        ]
    )


# ---------------------------------------------------------------- decisions and audit trail


def decision_table(decisions: pd.DataFrame) -> Any:
    """The weekly decisions on the problem, newest first."""
    if decisions.empty:
        return empty_state("No decisions recorded yet.")
    rows = [
        {
            "week": row.week,
            "decision": humanize(row.decision),
            "note": row.note or "—",
            "author": row.author or "—",
            "when": format_date(row.created_at),
        }
        for row in decisions.itertuples(index=False)
    ]
    return data_table(
        [
            Column("Week", "week"),
            Column("Decision", "decision"),
            Column("Note", "note"),
            Column("By", "author"),
            Column("Recorded", "when"),
        ],
        rows,
        caption="Decisions on this problem, newest first",
        row_header="week",
        stack_on_phone=True,  # the last columns were off a phone's screen
    )


ENTITY_WORDS = {
    "problem": "the problem",
    "causal_factor": "causal factor",
    "engagement": "engagement",
    "innovation": "innovation",
    "decision": "decision",
}
ACTION_WORDS = {"create": "added", "update": "changed", "delete": "removed"}
HIDDEN_AUDIT_KEYS = frozenset({"id", "problem_id"})
AUDIT_VALUE_LENGTH = 80


def _audit_value(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    text = str(value)
    return text if len(text) <= AUDIT_VALUE_LENGTH else text[: AUDIT_VALUE_LENGTH - 1] + "…"


def audit_sentence(row: Any) -> str:
    """One audit row as a plain sentence: who did what to which record, old → new values."""
    before = row.before if isinstance(row.before, Mapping) else {}
    after = row.after if isinstance(row.after, Mapping) else {}
    noun = ENTITY_WORDS.get(row.entity, humanize(row.entity).lower())
    if row.entity == "decision" and after.get("decision"):
        week = f" for {after['week']}" if after.get("week") else ""
        note = f": {_audit_value(after['note'])}" if after.get("note") else ""
        return f"{row.username} recorded the decision “{humanize(after['decision'])}”{week}{note}."
    if row.entity != "problem":
        name = getattr(row, "name", None)
        if not isinstance(name, str) or not name:
            name = after.get("title") or before.get("title")
        if not name:
            noun += f" #{row.entity_id}"
        elif row.entity == "engagement":
            noun = f"the engagement of {name}"
        else:
            noun += f" “{name}”"
    verb = ACTION_WORDS.get(row.action, humanize(row.action).lower())
    text = f"{row.username} {verb} {noun}"
    if row.action == "update":
        changes = [
            f"{humanize(key).lower()} {_audit_value(before.get(key))} → {_audit_value(value)}"
            for key, value in after.items()
            if key not in HIDDEN_AUDIT_KEYS and before.get(key) != value
        ]
        if changes:
            text += ": " + "; ".join(changes)
    return text + "."


def audit_list(trail: pd.DataFrame, limit: int) -> Any:
    """The audit trail, newest first, as plain text."""
    if trail.empty:
        return empty_state("No changes recorded yet.")
    items = [
        html.Li(
            [
                html.Time(format_date(row.at), className="audit-time"),
                html.Span(audit_sentence(row), className="audit-text"),
            ],
            className="audit-item",
        )
        for row in trail.itertuples(index=False)
    ]
    note = (
        html.P(f"The latest {limit} changes are shown.", className="muted")
        if len(trail) >= limit
        else None
    )
    return html.Div([html.Ol(items, className="audit-list"), note])


def history_section(decisions: pd.DataFrame, trail: pd.DataFrame, limit: int) -> html.Div:
    """Decision history and the audit trail of the problem and everything on its map."""
    return html.Div(
        [
            section("Decisions", decision_table(decisions), level=3),
            section(
                "Audit trail",
                html.Div(
                    [
                        html.P(
                            "Every change to the problem, its causal factors, engagements, "
                            "innovations and decisions, newest first (times in UTC).",
                            className="muted",
                        ),
                        audit_list(trail, limit),
                    ]
                ),
                level=3,
            ),
        ]
    )
