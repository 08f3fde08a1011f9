"""Weekly priorities, the landing page: the short list, the importance × tractability chart,
what changed this week, the decision per problem, and the CSV and PDF downloads.

``layout`` is a skeleton (week and view from ``?week=&show=``); the presenters below turn the
data a callback fetched into components. Stored text is always a text child, never HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from layouts import ids
from layouts.components import (
    SEVERITY_TONES,
    Column,
    data_table,
    empty_state,
    flag,
    form_feedback,
    form_field,
    format_date,
    format_number,
    kpi_card,
    kpi_row,
    lazy_fold,
    loading,
    notice,
    page_header,
    score_band,
    section,
)
from layouts.figures import TREND_STYLES, priority_quadrant_figure
from triage.plain import score_number
from triage.vocabulary import DECISION_WORDS, DECISIONS, NOTE_LIMIT
from triage.weeks import is_week_before, parse_week

if TYPE_CHECKING:
    from triage.attention import AttentionItem, AttentionList
    from triage.page_data import WeekChanges, WeekPriorities

SHOW_TOP = "top"
SHOW_ALL = "all"
TOP_N = 10
# Notes are cut to this many characters in the list (the dialog shows them whole).
NOTE_PREVIEW = 160
DECISION_HINTS = {
    "focus": "The mayor's office leads on it this week.",
    "delegate": "A department leads and reports back.",
    "convene": "Bring the actors around it together to act.",
    "monitor": "Watch the indicators; act if they turn.",
    "drop": "Take it off the office's list for now.",
}
# (value, label, hint) for each decision the dialog offers, in the vocabulary's order.
DECISION_CHOICES: tuple[tuple[str, str, str], ...] = tuple(
    (value, DECISION_WORDS[value], DECISION_HINTS[value]) for value in DECISIONS
)
DECISION_LABELS = DECISION_WORDS
DECISION_TONES = {
    "focus": "info",
    "delegate": "neutral",
    "convene": "info",
    "monitor": "neutral",
    "drop": "warning",
}
MOVEMENT_MARKS = {"up": "▲", "down": "▼", "same": "●", "new": "★"}
SIZE_LABEL = "citizen reports, last 90 days (adjusted)"
# What "new" means here, as on the attention list and in the brief (triage.attention).
# The alerts the "What changed" panel shows by name, worst first; the rest are one click away.
CHANGE_LIST_LIMIT = 5
NEW_ALERTS_NOTE = (
    "First seen this week, about this week's data. Late indicator data goes to its department "
    "(below), not here."
)
QUADRANT_NAMES = {
    (True, True): "important and tractable",
    (False, True): "tractable, less important",
    (True, False): "important, harder to move",
    (False, False): "less important, harder to move",
}


def _records(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """Rows as objects with one attribute per column: much faster than ``itertuples`` on
    wide frames with extension dtypes (pandas 3 extracts every column per call)."""
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [
        SimpleNamespace(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)
    ]


def parse_show(raw: Any) -> str:
    """``all`` to list every ranked problem; anything else is the top ten."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    return SHOW_ALL if str(raw or "").strip().lower() == SHOW_ALL else SHOW_TOP


def layout(week: Any = None, show: Any = None, **_kwargs: Any) -> html.Div:
    """Skeleton: toolbar (week, view, downloads), summary, short list, chart, what changed."""
    requested = parse_week(week)
    view = parse_show(show)
    return html.Div(
        [
            dcc.Store(id=ids.PRIORITIES_PAGE_STORE, data={"week": requested, "show": view}),
            dcc.Store(id=ids.PRIORITIES_QUERY_STORE),
            dcc.Store(id=ids.PRIORITIES_SAVED_STORE, data=0),
            dcc.Store(id=ids.PRIORITIES_DECISION_PROBLEM_STORE),
            dcc.Store(id=ids.PRIORITIES_DECIDE_CLICK_STORE),
            dcc.Store(id=ids.PRIORITIES_OPEN_CLICK_STORE),
            dcc.Store(id=ids.PRIORITIES_OPENED_STORE, data=0),
            dcc.Location(id=ids.PRIORITIES_LOCATION, refresh="callback-nav"),
            dcc.Download(id=ids.PRIORITIES_CSV_DOWNLOAD),
            dcc.Download(id=ids.PRIORITIES_BRIEF_DOWNLOAD),
            page_header(
                "Weekly priorities",
                "The few problems that most deserve the office's attention this week, what "
                "changed since last week, and the decision on each.",
            ),
            toolbar(requested, view),
            html.Div(id=ids.PRIORITIES_WEEK_NOTICE_DIV, className="priorities-notice"),
            html.Div(
                id=ids.PRIORITIES_DECISION_STATUS_DIV,
                className="priorities-status",
                role="status",
            ),
            section(
                "What needs you this week",
                html.Div(
                    [
                        html.Div(
                            id=ids.PRIORITIES_ATTENTION_FEEDBACK_DIV,
                            className="attention-feedback",
                            role="status",
                        ),
                        loading(html.Div(id=ids.PRIORITIES_ATTENTION_DIV, className="attention")),
                    ]
                ),
                class_name="attention-section",
            ),
            section(
                "This week at a glance",
                loading(html.Div(id=ids.PRIORITIES_SUMMARY_DIV, className="kpi-slot")),
                class_name="visually-hidden-heading",
            ),
            section(
                "The short list",
                loading(html.Div(id=ids.PRIORITIES_LIST_DIV, className="table-slot")),
            ),
            html.Div(
                [
                    section(
                        "Importance and tractability",
                        html.Div(
                            [
                                loading(
                                    html.Div(
                                        dcc.Graph(
                                            id=ids.PRIORITIES_QUADRANT_GRAPH,
                                            figure=priority_quadrant_figure(
                                                pd.DataFrame(),
                                                title="Importance and tractability",
                                                size_label=SIZE_LABEL,
                                            ),
                                            config={"displayModeBar": False, "responsive": True},
                                            className="quadrant-graph",
                                        ),
                                        className="chart-graph",
                                        role="img",
                                        **{
                                            "aria-label": "Chart of every ranked problem by "
                                            "importance and tractability; the same facts are "
                                            "in the text and the table below it."
                                        },
                                    )
                                ),
                                html.Div(id=ids.PRIORITIES_QUADRANT_TEXT_DIV),
                            ],
                            className="chart-block",
                        ),
                    ),
                    section(
                        "What changed this week",
                        loading(html.Div(id=ids.PRIORITIES_CHANGES_DIV, className="table-slot")),
                    ),
                ],
                className="split priorities-split",
            ),
            decision_dialog(),
        ],
        className="priorities-page",
    )


def toolbar(week: str | None, show: str) -> html.Div:
    """Week and view choices (both in the address) and the two downloads."""
    week_options = [{"label": week, "value": week}] if week else []
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label("Week", html_for=ids.PRIORITIES_WEEK_SELECT),
                            dbc.Select(
                                id=ids.PRIORITIES_WEEK_SELECT, options=week_options, value=None
                            ),
                        ],
                        className="filter-field priorities-week",
                    ),
                    html.Div(
                        [
                            dbc.Label("Show", html_for=ids.PRIORITIES_SHOW_SELECT),
                            dbc.Select(
                                id=ids.PRIORITIES_SHOW_SELECT,
                                options=[
                                    {"label": f"The top {TOP_N}", "value": SHOW_TOP},
                                    {"label": "Every ranked problem", "value": SHOW_ALL},
                                ],
                                value=show,
                            ),
                        ],
                        className="filter-field priorities-show",
                    ),
                ],
                className="priorities-filters",
                role="group",
                **{"aria-label": "Week and view"},
            ),
            html.Div(
                [
                    html.Button(
                        "Download ranking (CSV)",
                        id=ids.PRIORITIES_CSV_BUTTON,
                        type="button",
                        className="btn btn-outline-primary",
                        n_clicks=0,
                    ),
                    html.Button(
                        "Download weekly brief (PDF)",
                        id=ids.PRIORITIES_BRIEF_BUTTON,
                        type="button",
                        className="btn btn-primary",
                        n_clicks=0,
                    ),
                ],
                className="priorities-downloads",
                role="group",
                **{"aria-label": "Downloads"},
            ),
        ],
        className="filter-bar priorities-toolbar",
    )


def decision_dialog() -> dbc.Modal:
    """The decision form (opened from a problem's "Record decision" button): one choice of
    five, an optional note of up to 2,000 characters."""
    return dbc.Modal(
        [
            dbc.ModalHeader(
                dbc.ModalTitle("Record a decision", id=ids.PRIORITIES_DECISION_TITLE),
                close_button=True,
            ),
            dbc.ModalBody(
                [
                    html.Div(id=ids.PRIORITIES_DECISION_CONTEXT_DIV, className="decision-context"),
                    html.Fieldset(
                        [
                            html.Legend("Decision for this week", className="form-label"),
                            dbc.RadioItems(
                                id=ids.PRIORITIES_DECISION_RADIO,
                                options=[
                                    {
                                        "label": html.Span(
                                            [
                                                html.Strong(label),
                                                html.Span(f" {hint}", className="muted"),
                                            ]
                                        ),
                                        "value": value,
                                    }
                                    for value, label, hint in DECISION_CHOICES
                                ],
                                value=None,
                                # One name makes the five one radio group: a single tab stop,
                                # arrow keys move between the choices.
                                name="priorities-decision",
                                class_name="decision-choices",
                            ),
                        ],
                        className="form-field decision-fieldset",
                    ),
                    form_field(
                        f"Note (optional, up to {NOTE_LIMIT:,} characters)",
                        dbc.Textarea(
                            id=ids.PRIORITIES_DECISION_NOTE_TEXTAREA,
                            rows=4,
                            maxlength=NOTE_LIMIT,
                            placeholder="Who does what by when; what would change the call",
                        ),
                    ),
                    form_feedback(ids.PRIORITIES_DECISION_FEEDBACK_DIV),
                ]
            ),
            dbc.ModalFooter(
                [
                    html.Button(
                        "Cancel",
                        id=ids.PRIORITIES_DECISION_CANCEL_BUTTON,
                        type="button",
                        className="btn btn-outline-secondary",
                        n_clicks=0,
                    ),
                    html.Button(
                        "Save decision",
                        id=ids.PRIORITIES_DECISION_SAVE_BUTTON,
                        type="button",
                        className="btn btn-primary",
                        n_clicks=0,
                    ),
                ]
            ),
        ],
        id=ids.PRIORITIES_DECISION_MODAL,
        is_open=False,
        centered=True,
        size="lg",
        labelledby=ids.PRIORITIES_DECISION_TITLE,
    )


# ---------------------------------------------------------------- week choice


def week_options(weeks: Sequence[str], current_week: str) -> list[dict[str, str]]:
    """The current week first (labelled), then every stored week, newest first."""
    options = [{"label": f"{current_week} (this week)", "value": current_week}]
    options += [
        {"label": w, "value": w} for w in sorted(set(weeks), reverse=True) if w != current_week
    ]
    return options


def week_fallback_notice(requested: str, shown: str) -> html.Div:
    return notice(
        f"No ranking is stored for {requested}; showing {shown} instead.",
        "warning",
    )


# ---------------------------------------------------------------- the attention list

ATTENTION_KIND_LABELS = {
    "uncovered_surge": "Surge nobody covers",
    "emerging": "New warning",
    "moved": "Moved",
    "decision_due": "Decision due",
    "standing": "Changed",
}
ATTENTION_KIND_TONES = {
    "uncovered_surge": "danger",
    "emerging": "warning",
    "moved": "info",
    "decision_due": "neutral",
    "standing": "info",
}


def _attention_actions(item: AttentionItem) -> list[Any]:
    actions: list[Any] = []
    for action in item.actions:
        if action.key == "open_problem" and item.alert_id is not None:
            actions.append(
                html.Button(
                    action.label,
                    id=ids.priorities_open_problem_button(item.alert_id),
                    type="button",
                    className="btn btn-sm btn-primary",
                    n_clicks=0,
                )
            )
        elif action.link:
            actions.append(
                dcc.Link(action.label, href=action.link, className="btn btn-sm btn-outline-primary")
            )
    return actions


def attention_item(item: AttentionItem) -> html.Li:
    """One item: what kind, the title (a link where there is one), the reason, the actions."""
    # The kind's flag says "New warning" or "Decision due"; the title need not say it again.
    text = item.title.removeprefix("New warning: ").removeprefix("Decide: ")
    title: Any = (
        dcc.Link(text, href=item.link, className="attention-title-link") if item.link else text
    )
    children: list[Any] = [
        html.Div(
            [
                flag(
                    ATTENTION_KIND_LABELS.get(item.kind, item.kind),
                    ATTENTION_KIND_TONES.get(item.kind, "neutral"),
                ),
                html.Span(title, className="attention-title"),
            ],
            className="attention-head",
        ),
        html.P(item.reason, className="attention-reason"),
    ]
    actions = _attention_actions(item)
    if actions:
        children.append(
            html.Div(
                actions,
                className="attention-actions",
                role="group",
                **{"aria-label": f"Actions for {item.title}"},
            )
        )
    return html.Li(children, className=f"attention-item attention-{item.kind}")


def attention_panel(attention: AttentionList) -> html.Div:
    """The attention list (at most seven items) and everything else, counted, one click away."""
    if attention.items:
        body: Any = html.Ol(
            [attention_item(item) for item in attention.items], className="attention-list"
        )
    else:
        body = empty_state(
            "Nothing needs you this week beyond the short list.",
            "No surge, new warning, big move or decision due.",
        )
    parts: list[Any] = [body]
    if attention.groups:
        parts.append(
            html.Div(
                [
                    html.P("Everything else, one click away", className="attention-more-title"),
                    html.Ul(
                        [
                            html.Li(dcc.Link(f"{group.label}: {group.count:,}", href=group.link))
                            for group in attention.groups
                        ],
                        className="attention-groups",
                    ),
                ],
                className="attention-more",
            )
        )
    return html.Div(parts)


def problem_opened(title: str, problem_id: int, rank: int | None, week: str) -> html.Div:
    """Said after a problem was opened from a surge: where it ranks now, and its page."""
    where = f"it ranks #{rank} in {week}" if rank else f"it is scored for {week}"
    return notice(
        html.P(
            [
                f"Opened the problem “{title}”; {where}. ",
                dcc.Link("Open its page", href=f"/problems/{int(problem_id)}"),
                " to map its causes and actors.",
            ]
        ),
        "success",
    )


def problem_not_opened(messages: Sequence[str]) -> html.Div:
    """Why a problem could not be opened from a surge."""
    return notice(html.Ul([html.Li(m) for m in messages]), "danger", title="Not opened")


# ---------------------------------------------------------------- summary


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"


def summary_cards(data: WeekPriorities, changes: WeekChanges, top_n: int = TOP_N) -> html.Div:
    """Headline figures: problems ranked, decisions taken, active alerts, overdue indicators."""
    ranking = data.ranking
    ranked = len(ranking)
    top = min(top_n, ranked)
    decided = int(ranking.loc[ranking["rank"] <= top_n, "decision"].notna().sum()) if ranked else 0
    compared = (
        f"movement since {data.previous_week}"
        if data.previous_week
        else "no earlier week to compare with"
    )
    alerts = len(data.on_alert)
    new_alerts = len(changes.new_alerts)
    departments = len(changes.owners)
    return kpi_row(
        [
            kpi_card(
                "Problems ranked",
                format_number(ranked),
                f"as of {format_date(data.as_of)}; {compared}",
            ),
            kpi_card(
                "Decisions this week",
                f"{decided} of {top}",
                "every problem of the short list decided"
                if top and decided == top
                else f"{top - decided} due on the short list",
                tone="success" if top and decided == top else "info",
            ),
            kpi_card(
                "Problems on alert",
                format_number(alerts),
                f"{_plural(new_alerts, 'new alert')} this week",
                tone="warning" if alerts else "neutral",
            ),
            kpi_card(
                "Indicators overdue",
                format_number(changes.overdue_count),
                f"in {_plural(departments, 'department')}"
                if changes.overdue_count
                else "every indicator is current",
                tone="warning" if changes.overdue_count else "success",
            ),
        ]
    )


# ---------------------------------------------------------------- the short list


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def movement_text(movement: Any, change: Any) -> str:
    """``Up 2``, ``Down 1``, ``No change``, ``New``; "" when nothing is known."""
    if movement == "new":
        return "New"
    if movement in {"up", "down"} and not _is_missing(change):
        return f"{str(movement).capitalize()} {abs(int(change))}"
    if movement == "same":
        return "No change"
    return ""


def movement_badge(movement: Any, change: Any, *, compared: bool) -> Any:
    """An arrow with words (never colour alone); nothing when no earlier week is stored."""
    text = movement_text(movement, change) if compared else ""
    if not text:
        return None
    places = (
        "" if movement not in {"up", "down"} else " place" + ("" if abs(int(change)) == 1 else "s")
    )
    return html.Span(
        [
            html.Span(MOVEMENT_MARKS.get(str(movement), ""), **{"aria-hidden": "true"}),
            html.Span(f" {text}"),
            html.Span(f"{places} since last week", className="visually-hidden"),
        ],
        className=f"movement movement-{movement}",
    )


def _short(text: Any, limit: int = NOTE_PREVIEW) -> str:
    value = "" if _is_missing(text) else str(text).strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def decision_summary(decision: Any, note: Any) -> str:
    """``Focus — note`` (the note cut short), or just the decision."""
    label = DECISION_LABELS.get(str(decision), str(decision).capitalize())
    note_text = _short(note)
    return f"{label} — {note_text}" if note_text else label


def decision_cell(row: Any, *, week: str, can_decide: bool, decidable: bool) -> html.Div:
    """The decision in force this week (with its author), last week's, and the button."""
    children: list[Any] = []
    if not _is_missing(row.decision):
        decision = str(row.decision)
        tone = DECISION_TONES.get(decision, "neutral")
        children.append(
            html.Div(
                [
                    html.Span(
                        DECISION_LABELS.get(decision, decision),
                        className=f"status-badge tone-{tone}",
                    ),
                    html.Span(f" {_short(row.decision_note)}".rstrip()),
                ],
                className="decision-now",
            )
        )
        if not _is_missing(row.decision_author):
            children.append(html.Div(f"by {row.decision_author}", className="cell-meta"))
    else:
        children.append(html.Div("No decision yet", className="cell-meta decision-none"))
    if not _is_missing(row.last_decision):
        label = (
            "Last week"
            if is_week_before(str(row.last_decision_week), week)
            else f"Last decision ({row.last_decision_week})"
        )
        children.append(
            html.Div(
                f"{label}: {decision_summary(row.last_decision, row.last_decision_note)}",
                className="cell-meta decision-last",
            )
        )
    if can_decide and decidable:
        verb = "Change decision" if not _is_missing(row.decision) else "Record decision"
        children.append(
            html.Button(
                verb,
                id=ids.priorities_decide_button(int(row.problem_id)),
                type="button",
                n_clicks=0,
                className="btn btn-sm btn-outline-primary decide-button",
                **{"aria-label": f"{verb}: {row.title}"},
            )
        )
    return html.Div(children, className="decision-cell")


SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def first_sentence(text: Any) -> str:
    """The first sentence of an explanation (the scoring writes three: what is wrong, whom it
    touches, whether the city can act); the problem page and the brief show all three."""
    value = "" if _is_missing(text) else str(text).strip()
    return SENTENCE_END.split(value, maxsplit=1)[0] if value else ""


def problem_cell(row: Any) -> html.Div:
    return html.Div(
        [
            dcc.Link(
                str(row.title), href=f"/problems/{int(row.problem_id)}", className="problem-link"
            ),
            html.P(first_sentence(row.explanation), className="priority-explanation"),
        ],
        className="problem-cell",
    )


def score_list(row: Any) -> html.Dl:
    """Importance, tractability and neglectedness as bands in a small labelled list (the
    numbers are in each band's hover and in the chart's table)."""
    return html.Dl(
        [
            html.Div([html.Dt(label), html.Dd(score_band(value))], className="score-pair")
            for label, value in (
                ("Importance", row.importance),
                ("Tractability", row.tractability),
                ("Neglectedness", row.neglectedness),
            )
        ],
        className="score-list",
    )


def priorities_table(
    ranking: pd.DataFrame,
    *,
    week: str,
    show: str,
    compared: bool,
    can_decide: bool,
    decidable: bool,
    top_n: int = TOP_N,
) -> Any:
    """The ranked short list (top ``top_n`` unless ``show`` is ``all``), each row linking to its
    problem, with the priority's range, I/T/N, movement, alerts, staleness and decision."""
    if ranking.empty:
        return empty_state(
            "No problems are ranked for this week.",
            "Problems appear once the office records them (or the demo city is seeded).",
        )
    shown = ranking if show == SHOW_ALL else ranking[ranking["rank"] <= top_n]
    rows = []
    for row in _records(shown):
        alerts = int(row.active_alerts)
        overdue = int(row.overdue_indicators)
        rows.append(
            {
                "rank": html.Span(
                    [
                        html.Span(str(int(row.rank)), className="rank-number"),
                        movement_badge(row.movement, row.rank_change, compared=compared),
                    ],
                    className="cell-stack rank-cell",
                ),
                "problem": problem_cell(row),
                "priority": html.Span(
                    score_band(row.priority, row.priority_low, row.priority_high),
                    className="cell-stack priority-value",
                ),
                "scores": score_list(row),
                "signals": html.Span(
                    [
                        flag(_plural(alerts, "active alert"), "danger")
                        if alerts
                        else html.Span("No active alerts", className="cell-meta"),
                        flag(f"{_plural(overdue, 'indicator')} overdue", "warning")
                        if overdue
                        else flag("Indicators current", "success"),
                    ],
                    className="cell-stack signal-cell",
                ),
                "decision": decision_cell(
                    row, week=week, can_decide=can_decide, decidable=decidable
                ),
            }
        )
    total = len(ranking)
    count = (
        f"All {total} ranked problems."
        if show == SHOW_ALL or total <= top_n
        else f"The top {len(shown)} of {total} ranked problems. Choose “Every ranked problem” "
        "to see the rest."
    )
    return html.Div(
        [
            html.P(count, className="table-count"),
            data_table(
                [
                    Column("Rank", "rank"),
                    Column("Problem and why it ranks here", "problem"),
                    Column("Priority (range)", "priority", numeric=True),
                    Column("Scores", "scores"),
                    Column("Alerts and data", "signals"),
                    Column("Decision", "decision"),
                ],
                rows,
                caption=f"Weekly priorities for {week}, by rank",
                row_header="problem",
                stack_on_phone=True,
            ),
        ],
        className="priorities-table",
    )


# ---------------------------------------------------------------- the chart


def quadrant_points(ranking: pd.DataFrame) -> pd.DataFrame:
    """The chart's points: one per ranked problem, bubble size = adjusted citizen reports."""
    columns = ["problem_id", "title", "rank", "importance", "tractability", "priority", "trend"]
    if ranking.empty:
        return pd.DataFrame(columns=[*columns, "size"])
    return ranking[columns].assign(size=ranking["reports_adjusted"].astype(float).to_numpy())


def quadrant_figure(ranking: pd.DataFrame, week: str) -> go.Figure:
    return priority_quadrant_figure(
        quadrant_points(ranking),
        title=f"Importance and tractability, {week}",
        size_label=SIZE_LABEL,
    )


def _quadrants(ranking: pd.DataFrame) -> pd.Series:
    x_mid = float(ranking["importance"].median())
    y_mid = float(ranking["tractability"].median())
    return pd.Series(
        [
            QUADRANT_NAMES[(float(i) >= x_mid, float(t) >= y_mid)]
            for i, t in zip(ranking["importance"], ranking["tractability"], strict=True)
        ],
        index=ranking.index,
    )


def _no_spread(values: pd.Series) -> bool:
    """True when every value rounds to the same score as the page shows it (3 decimals)."""
    numbers = pd.to_numeric(values, errors="coerce").dropna().round(3)
    return numbers.nunique() <= 1


def quadrant_text(ranking: pd.DataFrame, week: str) -> html.Div:
    """The chart in words and as a table: its text alternative."""
    if ranking.empty:
        return html.P(
            "No problems are ranked for this week, so the chart is empty.",
            className="chart-caption",
        )
    quadrant = _quadrants(ranking)
    best = ranking[quadrant == QUADRANT_NAMES[(True, True)]].sort_values("rank")
    named = "; ".join(f"#{int(r.rank)} {r.title}" for r in _records(best.head(3)))
    trends = ranking["trend"].value_counts()
    trend_text = ", ".join(
        f"{int(trends.get(key, 0))} {label.lower()}" for key, (label, _, _) in TREND_STYLES.items()
    )
    if (
        len(ranking) > 1
        and _no_spread(ranking["importance"])
        and _no_spread(ranking["tractability"])
    ):
        # Every bubble on one point: "above both medians" would be true of all and mean nothing.
        placed = (
            "They all have the same importance and tractability, so they sit on one point: "
            "the data does not yet tell them apart."
        )
    else:
        placed = f"{_plural(len(best), 'problem')} sit above both medians (important and " + (
            f"tractable), led by {named}." if named else "tractable)."
        )
    summary = (
        f"{_plural(len(ranking), 'problem')} ranked for {week}, placed by importance "
        f"(across) and tractability (up); the dashed lines are the medians. {placed}"
        f" Trend: {trend_text}. Bubble area shows {SIZE_LABEL}; "
        "click a bubble to open its problem."
    )
    rows = [
        {
            "problem": dcc.Link(f"#{int(r.rank)} {r.title}", href=f"/problems/{int(r.problem_id)}"),
            "importance": score_number(r.importance),
            "tractability": score_number(r.tractability),
            "quadrant": q.capitalize(),
            "trend": TREND_STYLES.get(str(r.trend), (str(r.trend),))[0],
            "reports": format_number(r.reports_adjusted, digits=0),
        }
        for r, q in zip(_records(ranking), quadrant, strict=True)
    ]
    table = data_table(
        [
            Column("Problem", "problem"),
            Column("Importance", "importance", numeric=True),
            Column("Tractability", "tractability", numeric=True),
            Column("Quadrant", "quadrant"),
            Column("Trend", "trend"),
            Column("Reports, 90 days (adjusted)", "reports", numeric=True),
        ],
        rows,
        caption=f"Importance and tractability of every ranked problem, {week}",
        row_header="problem",
    )
    return html.Div(
        [
            html.P(summary, className="chart-caption"),
            lazy_fold("Show the chart's numbers as a table", table, key="priorities-quadrant"),
        ]
    )


# ---------------------------------------------------------------- what changed


def _problem_link(rank: Any, title: Any, problem_id: Any) -> dcc.Link:
    return dcc.Link(f"#{int(rank)} {title}", href=f"/problems/{int(problem_id)}")


def _alert_items(alerts: pd.DataFrame, limit: int = CHANGE_LIST_LIMIT) -> list[html.Li]:
    """The ``limit`` worst alerts (the frame comes worst first), then one line that says how
    many more there are and where they all are: the mayor's page never lists them all."""
    items = []
    for row in _records(alerts.head(limit)):
        severity = str(row.severity)
        label = severity.capitalize()
        if not _is_missing(row.previous_severity) and row.previous_severity:
            label = f"{str(row.previous_severity).capitalize()} → {severity}"
        where = ", ".join(row.problems) if row.problems else "no problem linked yet"
        items.append(
            html.Li(
                [
                    flag(label, SEVERITY_TONES.get(severity, "neutral")),
                    html.Span(f" {row.message}"),
                    html.Span(f" · {where}", className="cell-meta"),
                ],
                className="change-item",
            )
        )
    if len(alerts) > limit:
        items.append(
            html.Li(
                [
                    f"and {len(alerts) - limit} more, ",
                    dcc.Link("all on Early warnings", href="/alerts"),
                    " (worst first, with their evidence).",
                ],
                className="change-item change-more",
            )
        )
    return items


def _change_block(title: str, count: int, body: Any, empty: str) -> html.Div:
    return html.Div(
        [
            html.H3(f"{title} ({count})", className="change-title"),
            body if count else html.P(empty, className="muted change-empty"),
        ],
        className="change-block",
    )


def changes_panel(changes: WeekChanges, *, compared: bool, previous_week: str | None) -> html.Div:
    """New and escalated alerts, big movers, new problems, overdue indicators, decisions due."""
    blocks = [
        _change_block(
            "New alerts",
            len(changes.new_alerts),
            html.Div(
                [
                    html.P(NEW_ALERTS_NOTE, className="muted"),
                    html.Ul(_alert_items(changes.new_alerts), className="change-list"),
                ]
            ),
            "No new alerts this week (first seen this week, about this week's data).",
        ),
        _change_block(
            "Escalated alerts",
            len(changes.escalated_alerts),
            html.Ul(_alert_items(changes.escalated_alerts), className="change-list"),
            "No alert became more severe this week.",
        ),
    ]
    if compared:
        movers = [
            html.Li(
                [
                    _problem_link(r.rank, r.title, r.problem_id),
                    html.Span(
                        f" {'up' if int(r.rank_change) > 0 else 'down'} "
                        f"{abs(int(r.rank_change))} places",
                        className="cell-meta",
                    ),
                ],
                className="change-item",
            )
            for r in _records(changes.movers)
        ]
        blocks.append(
            _change_block(
                "Big movers",
                len(movers),
                html.Ul(movers, className="change-list"),
                f"No problem moved three places or more since {previous_week}.",
            )
        )
        new = [
            html.Li(_problem_link(r.rank, r.title, r.problem_id), className="change-item")
            for r in _records(changes.new_problems)
        ]
        blocks.append(
            _change_block(
                "New on the list",
                len(new),
                html.Ul(new, className="change-list"),
                f"Every problem was already ranked in {previous_week}.",
            )
        )
    else:
        blocks.append(
            html.P(
                "No earlier week is stored, so movers and new problems show from next week.",
                className="muted change-block",
            )
        )
    owners = [
        html.Li(
            [
                html.Strong(str(r.department)),
                html.Span(
                    f" ({', '.join(r.heads) if r.heads else 'no department head on record'})"
                ),
                html.Span(f": {r.overdue} overdue", className="cell-meta"),
            ],
            className="change-item",
        )
        for r in _records(changes.owners)
    ]
    blocks.append(
        _change_block(
            "Overdue indicators",
            changes.overdue_count,
            html.Div(
                [
                    html.P(
                        f"{_plural(changes.overdue_count, 'indicator')} in "
                        f"{_plural(len(owners), 'department')}, by owner:",
                        className="change-lead",
                    ),
                    html.Ul(owners, className="change-list"),
                ]
            ),
            "Every indicator is current.",
        )
    )
    due = [
        html.Li(_problem_link(r.rank, r.title, r.problem_id), className="change-item")
        for r in _records(changes.decisions_due)
    ]
    blocks.append(
        _change_block(
            "Decisions due",
            len(due),
            html.Ul(due, className="change-list"),
            "Every problem of the short list has a decision this week.",
        )
    )
    return html.Div(blocks, className="changes-panel")


# ---------------------------------------------------------------- the decision dialog


def decision_context(row: Any, week: str) -> html.Div:
    """What the dialog is about: the problem, its rank, and the decisions already taken.

    ``row`` has title, rank (or None), decision, decision_note, last_decision,
    last_decision_week and last_decision_note (a ranking row or a ``DecisionSubject``).
    """
    rank = "Not ranked" if _is_missing(row.rank) else f"Rank {int(row.rank)}"
    lines: list[Any] = [html.P(f"{rank} in week {week}.", className="decision-problem")]
    if not _is_missing(row.decision):
        lines.append(
            html.P(
                "In force this week: "
                + ended(decision_summary(row.decision, row.decision_note))
                + " Saving records a new decision that replaces it (both are kept).",
                className="muted",
            )
        )
    if not _is_missing(row.last_decision):
        lines.append(
            html.P(
                f"Decision of {row.last_decision_week}: "
                + decision_summary(row.last_decision, row.last_decision_note),
                className="muted",
            )
        )
    return html.Div(lines)


def ended(text: str) -> str:
    """``text`` as a sentence: a full stop added unless it already ends one (a note the user
    wrote often does: "Review first." must not read "Review first..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def decision_title(title: Any) -> str:
    return f"Decision on “{title}”"


def decision_rejected(problems: Sequence[str]) -> html.Div:
    return notice(html.Ul([html.Li(p) for p in problems]), "danger", title="Not saved:")


def decision_saved(title: Any, decision: str, week: str) -> html.Div:
    label = DECISION_LABELS.get(decision, decision)
    return notice(f"Recorded for {week}: {label} on “{title}”.", "success")
