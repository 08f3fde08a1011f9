"""Administration: users and roles, scoring weights with a live preview, the category-to-problem
mapping, and data sources with the scheduled jobs.

Each tab is a link (``/admin?tab=weights``) so every tab has its own address; the page shows
only the tabs the signed-in role may use, and each tab's callbacks check that role again.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import admin_users, ids
from layouts.components import (
    Column,
    button,
    data_table,
    empty_state,
    flag,
    form_actions,
    form_feedback,
    form_field,
    format_date,
    humanize,
    kpi_card,
    kpi_row,
    loading,
    notice,
    page_header,
    section,
)
from triage.security import Capability, Role, role_allows


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    capability: Capability


TABS: tuple[Tab, ...] = (
    Tab("users", "Users and roles", Capability.MANAGE_USERS),
    Tab("weights", "Scoring weights", Capability.CONFIGURE),
    Tab("mapping", "Category mapping", Capability.CONFIGURE),
    Tab("sources", "Data sources and jobs", Capability.CONFIGURE),
    Tab("setup", "City setup", Capability.MANAGE_CATALOGUE),
)
TAB_BY_KEY = {tab.key: tab for tab in TABS}

# The weights form: (name, label, help), grouped as the scoring combines them.
WEIGHT_GROUPS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "Priority",
        "Exponents of the weighted geometric mean: how much each lens counts.",
        (
            ("importance", "Importance", "Size of the gap, people, concern, equity."),
            ("tractability", "Tractability", "Reach, capacity, ideas, authority."),
            ("neglectedness", "Neglectedness", "What nobody is working on yet."),
        ),
    ),
    (
        "Importance",
        "Parts of importance (only their ratios matter).",
        (
            ("gap", "Gap to target", "How far indicators are from target."),
            ("worsening", "Worsening trend", "How fast they get worse."),
            ("people", "People affected", "Share of residents in scope."),
            ("concern", "Citizen concern", "311 reports, adjusted for habits."),
            ("equity", "Equity", "Need of the districts it falls on."),
        ),
    ),
    (
        "Tractability",
        "Parts of tractability (only their ratios matter).",
        (
            ("reach", "Reach of the causal map", "Causes the city controls or influences."),
            ("capacity", "Actor capacity", "Sectors engaged, money, alignment."),
            ("pipeline", "Innovation pipeline", "Promising ideas in play."),
            ("authority", "City authority", "How much the city can act."),
            ("political_capital", "Political capital", "Support for acting."),
        ),
    ),
    (
        "Neglectedness",
        "Parts of neglectedness (only their ratios matter).",
        (
            ("uncovered", "Uncovered causes", "Causal factors nobody works on."),
            ("sectors_absent", "Absent sectors", "Sectors not engaged."),
            ("funding_gap", "Funding gap", "Money short of what importance calls for."),
        ),
    ),
)
WEIGHT_LABELS = {name: label for _, _, fields in WEIGHT_GROUPS for name, label, _ in fields}
PREVIEW_TOP = 15


def query_text(value: Any, limit: int = 32) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()[:limit]


def allowed_tabs(role: Role | str | None) -> list[Tab]:
    """The tabs a role may open; every tab when the role is unknown (the validation pass)."""
    if role is None:
        return list(TABS)
    return [tab for tab in TABS if role_allows(role, tab.capability)]


def layout(tab: Any = None, viewer_role: Role | str | None = None, **_kwargs: Any) -> html.Div:
    """The page: its tab links and the chosen tab's skeleton (all of them without a viewer).

    ``viewer_role`` is passed by the page gate (never taken from the address); without it the
    page is being built for Dash's callback validation, which needs every tab at once.
    """
    tabs = allowed_tabs(viewer_role)
    requested = query_text(tab)
    selected = next((t for t in tabs if t.key == requested), tabs[0] if tabs else None)
    children: list[Any] = [
        page_header(
            "Administration",
            "Who can sign in, how problems are scored, how 311 categories feed the problems, "
            "and whether the data keeps arriving.",
        ),
        _tab_nav(tabs, selected),
    ]
    if requested in TAB_BY_KEY and (selected is None or selected.key != requested):
        children.append(
            notice(
                f"“{TAB_BY_KEY[requested].label}” is for administrators only; "
                "ask one if you need it.",
                "warning",
            )
        )
    panels = TABS if viewer_role is None else ((selected,) if selected else ())
    for panel in panels:
        children.append(html.Div(PANELS[panel.key](), className="admin-panel"))
    return html.Div(children)


def _tab_nav(tabs: Sequence[Tab], selected: Tab | None) -> html.Nav:
    items = []
    for tab in tabs:
        current = selected is not None and tab.key == selected.key
        items.append(
            html.Li(
                dbc.NavLink(tab.label, href=f"/admin?tab={tab.key}", active=current),
                className="nav-item",
            )
        )
    return html.Nav(
        html.Ul(items, className="nav nav-tabs admin-tabs"),
        id=ids.ADMIN_TAB_NAV,
        className="admin-tab-nav",
        **{"aria-label": "Administration sections"},
    )


# ---------------------------------------------------------------- users


def users_panel() -> Any:
    return admin_users.panel()


# ---------------------------------------------------------------- scoring weights


def weights_panel() -> html.Div:
    """Skeleton: the form (filled with the saved weights by callback) beside the preview."""
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_WEIGHTS_PAGE_STORE, data=1),
            dcc.Store(id=ids.ADMIN_WEIGHTS_COMPONENTS_STORE),
            dcc.Store(id=ids.ADMIN_WEIGHTS_SAVED_STORE, data=0),
            html.P(
                "Change a weight to preview how this week's ranking would move; nothing "
                "changes for anyone until you save. Saving is recorded in the audit log.",
                className="section-note",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            loading(html.Div(id=ids.ADMIN_WEIGHTS_FORM_DIV)),
                            form_actions(
                                button("Save weights", ids.ADMIN_WEIGHTS_SAVE_BUTTON),
                                button(
                                    "Restore the defaults",
                                    ids.ADMIN_WEIGHTS_DEFAULTS_BUTTON,
                                    tone="secondary",
                                    outline=True,
                                ),
                                class_name="button-row",
                            ),
                            form_feedback(ids.ADMIN_WEIGHTS_FEEDBACK_DIV),
                        ],
                        className="form-card weights-form",
                    ),
                    section(
                        "Preview: this week's top 15",
                        html.Div(
                            loading(
                                html.Div(id=ids.ADMIN_WEIGHTS_PREVIEW_DIV, className="table-slot")
                            ),
                            **{"aria-live": "polite"},
                        ),
                        class_name="weights-preview",
                    ),
                ],
                className="split weights-split",
            ),
        ]
    )


def weights_form(weights: Mapping[str, float]) -> html.Div:
    """One fieldset per group, one labelled number input per weight."""
    groups = []
    for title, help_text, fields in WEIGHT_GROUPS:
        inputs = []
        for name, label, hint in fields:
            input_id = ids.admin_weight_input(name)
            inputs.append(
                html.Div(
                    [
                        # The hint sits inside the label so that it is part of the field's name.
                        dbc.Label(
                            [
                                html.Span(label, className="weight-name"),
                                html.Span(hint, className="weight-hint"),
                            ],
                            html_for=_dom_id(input_id),
                            className="weight-label",
                        ),
                        dbc.Input(
                            id=input_id,
                            type="number",
                            min=0,
                            max=100,
                            step="any",
                            value=weights.get(name),
                            debounce=400,
                            inputMode="decimal",
                            className="weight-input",
                        ),
                    ],
                    className="weight-field",
                )
            )
        groups.append(
            html.Fieldset(
                [
                    html.Legend(title, className="weight-legend"),
                    html.P(help_text, className="weight-group-help"),
                    html.Div(inputs, className="weight-grid"),
                ],
                className="weight-group",
            )
        )
    return html.Div(groups)


def _dom_id(component_id: dict[str, Any]) -> str:
    """The DOM id Dash gives a dict ID (sorted keys, compact JSON), for ``label for=``."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))


def _movement(current: int, proposed: int, top: int) -> Any:
    if current > top >= proposed:
        return flag(f"New in top {top} (was {current})", "info")
    change = current - proposed
    if change > 0:
        return flag(f"Up {change}", "success")
    if change < 0:
        return flag(f"Down {-change}", "danger")
    return html.Span("No change", className="muted")


def weights_preview(
    preview: pd.DataFrame,
    *,
    stability: float,
    week: str,
    unchanged: bool,
    top: int = PREVIEW_TOP,
) -> html.Div:
    """The proposed top ``top`` beside the current ranking, with movement and stability.

    ``preview``: problem_id, title, current_rank, proposed_rank, current_priority,
    proposed_priority, top_share (share of ±25% weight draws keeping it in the top ``top``).
    """
    if preview.empty:
        return empty_state(
            "No problems to rank yet.", "The preview appears once open problems are recorded."
        )
    ranked = preview.sort_values("proposed_rank")
    shown = ranked[ranked["proposed_rank"] <= top]
    leaving = preview[(preview["current_rank"] <= top) & (preview["proposed_rank"] > top)]
    entering = shown[shown["current_rank"] > top]
    moves = (shown["current_rank"] - shown["proposed_rank"]).abs()
    biggest = shown.loc[moves.idxmax()] if len(shown) and moves.max() > 0 else None
    cards = kpi_row(
        [
            kpi_card(
                f"Top-{top} stability",
                f"{stability:.0%}",
                f"of the proposed top {top} stays there when every weight moves ±25%",
                tone="success" if stability >= 0.8 else "warning",
            ),
            kpi_card(
                f"Changes in the top {top}",
                f"{len(entering)} in, {len(leaving)} out",
                "against the saved weights",
                tone="info" if len(entering) else "neutral",
            ),
            kpi_card(
                "Largest move",
                "No move" if biggest is None else _move_words(biggest),
                None if biggest is None else str(biggest["title"]),
            ),
        ]
    )
    rows = [
        {
            "proposed": str(int(r.proposed_rank)),
            "title": dcc.Link(r.title, href=f"/problems/{int(r.problem_id)}"),
            "current": str(int(r.current_rank)),
            "movement": _movement(int(r.current_rank), int(r.proposed_rank), top),
            "priority": html.Span(
                [
                    html.Span(f"{r.proposed_priority:.3f}"),
                    html.Span(f"saved {r.current_priority:.3f}", className="cell-meta"),
                ],
                className="cell-stack",
            ),
            "stable": f"{r.top_share:.0%}",
        }
        for r in shown.itertuples(index=False)
    ]
    table = data_table(
        [
            Column("New rank", "proposed", numeric=True),
            Column("Problem", "title"),
            Column("Saved rank", "current", numeric=True),
            Column("Move", "movement"),
            Column("Priority", "priority", numeric=True),
            Column(f"Stays in top {top}", "stable", numeric=True),
        ],
        rows,
        caption=f"The top {top} problems under the proposed weights, against the saved weights",
        row_header="title",
    )
    children: list[Any] = []
    if unchanged:
        children.append(
            notice(
                "These are the saved weights: change a value to see how the ranking would move.",
                "info",
            )
        )
    children += [cards, table]
    if len(leaving):
        children.append(
            html.P(
                [
                    html.Strong(f"Leaving the top {top}: "),
                    "; ".join(
                        f"{r.title} ({int(r.current_rank)} → {int(r.proposed_rank)})"
                        for r in leaving.sort_values("current_rank").itertuples(index=False)
                    ),
                ],
                className="section-note",
            )
        )
    children.append(
        html.P(
            f"Computed from the inputs of {week}: the same scores as the weekly ranking, with "
            "only the weights changed. “Stays in top 15” is the share of 500 random draws, each "
            "weight moved up to ±25%, that keep the problem in the top 15.",
            className="section-note",
        )
    )
    return html.Div(children)


def _move_words(row: pd.Series) -> str:
    change = int(row["current_rank"]) - int(row["proposed_rank"])
    return f"{'Up' if change > 0 else 'Down'} {abs(change)}"


def weights_invalid(message: str) -> html.Div:
    return notice(message, "danger", title="These weights cannot be used")


def weights_waiting() -> html.Div:
    return empty_state("Scoring this week's problems…", "The preview appears in a moment.")


def weights_saved(changed: Sequence[str]) -> html.Div:
    if not changed:
        return notice("Saved. The weights were already these; nothing changed.", "success")
    names = ", ".join(WEIGHT_LABELS.get(n, n) for n in changed)
    return notice(
        f"Saved: {names}. The next weekly ranking uses these weights.",
        "success",
    )


# ---------------------------------------------------------------- category mapping


def mapping_panel() -> html.Div:
    """Skeleton: the add/change form beside an explanation, then the table of categories."""
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_MAPPING_CHANGED_STORE, data=0),
            dcc.Store(id=ids.ADMIN_MAPPING_REMOVE_CLICK_STORE),
            dcc.Store(id=ids.ADMIN_MAPPING_EDIT_CLICK_STORE),
            html.P(
                "A 311 category's reports count as citizen concern for the problems it is "
                "mapped to, scaled by the weight (the share of its reports that speak to the "
                "problem, from above 0 to 1). Unmapped categories are listed first: their "
                "reports count for nothing yet.",
                className="section-note",
            ),
            html.Div(
                [
                    html.H2("Map a category to a problem", className="section-title"),
                    html.Div(
                        [
                            form_field(
                                "Category",
                                dbc.Select(
                                    id=ids.ADMIN_MAPPING_CATEGORY_SELECT,
                                    options=[],
                                    placeholder="Choose a category",
                                    value="",
                                ),
                            ),
                            form_field(
                                "Problem",
                                dbc.Select(
                                    id=ids.ADMIN_MAPPING_PROBLEM_SELECT,
                                    options=[],
                                    placeholder="Choose a problem",
                                    value="",
                                ),
                            ),
                            html.Div(
                                [
                                    dbc.Label(
                                        "Weight (0 to 1)", html_for=ids.ADMIN_MAPPING_WEIGHT_INPUT
                                    ),
                                    dbc.Input(
                                        id=ids.ADMIN_MAPPING_WEIGHT_INPUT,
                                        type="number",
                                        min=0,
                                        max=1,
                                        step="any",
                                        value=1,
                                        inputMode="decimal",
                                    ),
                                ],
                                className="form-field mapping-weight",
                            ),
                            html.Div(
                                html.Button(
                                    "Save mapping",
                                    id=ids.ADMIN_MAPPING_SAVE_BUTTON,
                                    type="button",
                                    className="btn btn-primary",
                                    n_clicks=0,
                                ),
                                className="form-field mapping-submit",
                            ),
                        ],
                        className="mapping-form",
                    ),
                    html.P(
                        "Saving a pair that is already mapped changes its weight.",
                        className="weight-hint",
                    ),
                    form_feedback(ids.ADMIN_MAPPING_FEEDBACK_DIV),
                ],
                className="form-card",
            ),
            section(
                "Categories and their problems",
                loading(html.Div(id=ids.ADMIN_MAPPING_TABLE_DIV, className="table-slot")),
            ),
        ]
    )


def _mapping_item(category_id: int, category: str, mapping: dict[str, Any]) -> html.Li:
    problem_id = int(mapping["problem_id"])
    title = str(mapping["problem_title"])
    return html.Li(
        [
            dcc.Link(title, href=f"/problems/{problem_id}"),
            html.Span(f" weight {float(mapping['weight']):g}", className="mapping-weight-text"),
            html.Span(
                [
                    html.Button(
                        "Change",
                        id=ids.admin_mapping_button("edit", category_id, problem_id),
                        type="button",
                        className="btn btn-sm btn-link",
                        n_clicks=0,
                        **{"aria-label": f"Change the weight of {category} for {title}"},
                    ),
                    html.Button(
                        "Remove",
                        id=ids.admin_mapping_button("remove", category_id, problem_id),
                        type="button",
                        className="btn btn-sm btn-outline-danger",
                        n_clicks=0,
                        **{"aria-label": f"Remove the mapping of {category} to {title}"},
                    ),
                ],
                className="mapping-actions",
            ),
        ],
        className="mapping-item",
    )


def mapping_table(frame: pd.DataFrame, *, days: int) -> Any:
    """Categories with their mapped problems (weight, change and remove buttons).

    ``frame``: ``db.category_mappings.category_mappings`` (unmapped first).
    """
    if frame.empty:
        return empty_state(
            "No report categories yet.",
            [
                "Categories arrive with the first 311 reports (for example ",
                html.Code("triage ingest open311 URL"),
                ") and can then be mapped here.",
            ],
        )
    groups: dict[int, list[dict[str, Any]]] = {}
    for record in frame.to_dict("records"):
        groups.setdefault(int(record["category_id"]), []).append(record)
    rows = []
    unmapped = 0
    for category_id, records in groups.items():
        first = records[0]
        mapped = [r for r in records if not pd.isna(r["problem_id"])]
        if not mapped:
            unmapped += 1
            problems_cell: Any = flag("Unmapped", "warning")
        else:
            problems_cell = html.Ul(
                [_mapping_item(category_id, str(first["name"]), r) for r in mapped],
                className="mapping-list",
            )
        rows.append(
            {
                "category": html.Span(
                    [html.Span(first["name"]), html.Span(first["code"], className="cell-meta")],
                    className="cell-stack",
                ),
                "department": first["department"] if isinstance(first["department"], str) else "—",
                "reports": f"{int(first['reports_recent']):,}",
                "problems": problems_cell,
            }
        )
    categories = len(rows)
    return html.Div(
        [
            html.P(
                f"{categories} categories, {unmapped} unmapped.",
                className="table-count",
                role="status",
            ),
            data_table(
                [
                    Column("Category", "category"),
                    Column("Department", "department"),
                    Column(f"Reports, last {days} days", "reports", numeric=True),
                    Column("Mapped to", "problems"),
                ],
                rows,
                caption="Report categories and the problems they are mapped to",
                row_header="category",
            ),
        ]
    )


def category_options(categories: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {"label": f"{r.name} ({r.code})", "value": str(int(r.id))}
        for r in categories.itertuples(index=False)
    ]


def problem_options(problems: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {
            "label": r.title + ("" if r.status != "resolved" else " (resolved)"),
            "value": str(int(r.id)),
        }
        for r in problems.itertuples(index=False)
    ]


def mapping_message(text: str, tone: str = "success") -> html.Div:
    return notice(text, tone)


# ---------------------------------------------------------------- data sources and jobs


def sources_panel() -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_SOURCES_PAGE_STORE, data=1),
            section(
                "Data sources", loading(html.Div(id=ids.ADMIN_SOURCES_DIV, className="table-slot"))
            ),
            section(
                "Scheduled jobs", loading(html.Div(id=ids.ADMIN_JOBS_DIV, className="table-slot"))
            ),
        ]
    )


def age_text(then: Any, now: dt.datetime) -> str:
    """``"3 days ago"``, ``"5 hours ago"``, ``"just now"``; missing → ``"never"``."""
    if then is None or (isinstance(then, float) and math.isnan(then)) or pd.isna(then):
        return "never"
    moment = pd.Timestamp(then).to_pydatetime()
    seconds = max(0.0, (now - moment).total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def freshness(
    last_success: Any, poll_minutes: Any, active: bool, now: dt.datetime
) -> tuple[str, str]:
    """A source's state as (tone, words): fresh, late (more than two polls, or a day for files
    without a schedule, since the last good data), never, or paused."""
    if not active:
        return "neutral", "Paused"
    if last_success is None or pd.isna(last_success):
        return "danger", "No good data yet"
    age = (now - pd.Timestamp(last_success).to_pydatetime()).total_seconds() / 60
    limit = 2 * float(poll_minutes) if poll_minutes and not pd.isna(poll_minutes) else 24 * 60
    if age > limit:
        return "warning", f"Late: last good data {age_text(last_success, now)}"
    return "success", f"Last good data {age_text(last_success, now)}"


def sources_table(frame: pd.DataFrame, now: dt.datetime) -> Any:
    """Every data source with its freshness and last error (all plain text)."""
    if frame.empty:
        return empty_state(
            "No data sources yet.",
            [
                "An administrator adds one under City setup, Data sources; a source is also "
                "added the first time data is brought in from the command line: ",
                html.Code("triage ingest open311 https://city.example/open311/v2 --source city311"),
                " for an Open311 feed, ",
                html.Code("triage ingest csv export.csv --layout nyc --source portal"),
                " for a portal export, or ",
                html.Code("triage ingest indicators values.xlsx --source finance"),
                " for an indicator file.",
            ],
        )
    rows = []
    for r in frame.itertuples(index=False):
        tone, words = freshness(r.last_success_at, r.poll_minutes, bool(r.active), now)
        error = str(r.last_error or "").strip()
        rows.append(
            {
                "name": html.Span(
                    [html.Span(r.name), html.Span(r.url or "", className="cell-meta")],
                    className="cell-stack",
                ),
                "kind": humanize(r.kind) if r.kind != "open311" else "Open311",
                "schedule": f"every {int(r.poll_minutes)} min"
                if r.poll_minutes and not pd.isna(r.poll_minutes)
                else "when imported",
                "state": html.Span(words, className=f"status-badge tone-{tone}"),
                "success": format_date(r.last_success_at),
                "attempt": format_date(r.last_attempt_at),
                "error": html.Span(error[:300], className="error-text") if error else "—",
            }
        )
    return data_table(
        [
            Column("Source", "name"),
            Column("Kind", "kind"),
            Column("Schedule", "schedule"),
            Column("State", "state"),
            Column("Last success (UTC)", "success"),
            Column("Last attempt (UTC)", "attempt"),
            Column("Last error", "error"),
        ],
        rows,
        caption="Data sources and whether their data keeps arriving",
        row_header="name",
    )


OUTCOME_TONES = {"success": "success", "error": "danger", "running": "info", "skipped": "neutral"}


def jobs_table(specs: Sequence[tuple[str, str]], runs: pd.DataFrame, recent: pd.DataFrame) -> Any:
    """Scheduled jobs with their latest run, then the most recent runs of any job.

    ``specs``: (job_id, description); ``runs``: ``db.jobs.last_job_runs``;
    ``recent``: ``db.jobs.recent_runs``.
    """
    last = {str(r.job_id): r for r in runs.itertuples(index=False)}
    rows = []
    for job_id, description in specs:
        run = last.get(job_id)
        rows.append(
            {
                "job": html.Span(
                    [html.Span(job_id), html.Span(description, className="cell-meta")],
                    className="cell-stack",
                ),
                "runs": f"{int(run.runs):,}" if run is not None else "0",
                "last": format_date(run.started_at) if run is not None else "Never run",
                "outcome": status_badge_text(run.outcome) if run is not None else "—",
                "success": format_date(run.last_success_at) if run is not None else "—",
                "error": (
                    html.Span(str(run.error)[:300], className="error-text")
                    if run is not None and str(run.error or "").strip()
                    else "—"
                ),
            }
        )
    jobs = data_table(
        [
            Column("Job", "job"),
            Column("Runs", "runs", numeric=True),
            Column("Last run (UTC)", "last"),
            Column("Outcome", "outcome"),
            Column("Last success (UTC)", "success"),
            Column("Last error", "error"),
        ],
        rows,
        caption="Scheduled jobs and their last runs",
        row_header="job",
    )
    children: list[Any] = [jobs]
    if recent.empty:
        children.append(
            empty_state(
                "No job has run yet.",
                [
                    "Jobs run in the scheduler process (",
                    html.Code("triage scheduler"),
                    ", or ",
                    html.Code("triage serve --scheduler"),
                    " on a single machine); each run is listed here.",
                ],
            )
        )
    else:
        children.append(html.H3("Recent runs", className="subsection-title"))
        children.append(
            data_table(
                [
                    Column("Started (UTC)", "started"),
                    Column("Job", "job"),
                    Column("Outcome", "outcome"),
                    Column("Rows", "rows", numeric=True),
                    Column("Took", "took", numeric=True),
                ],
                [
                    {
                        "started": format_date(r.started_at),
                        "job": r.job_id,
                        "outcome": status_badge_text(r.outcome),
                        "rows": f"{int(r.rows or 0):,}",
                        "took": _duration(r.started_at, r.finished_at),
                    }
                    for r in recent.itertuples(index=False)
                ],
                caption="The most recent job runs",
                row_header="started",
            )
        )
    return html.Div(children)


def status_badge_text(outcome: Any) -> html.Span:
    return html.Span(
        humanize(outcome),
        className=f"status-badge tone-{OUTCOME_TONES.get(str(outcome), 'neutral')}",
    )


def _duration(start: Any, end: Any) -> str:
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return "—"
    seconds = (pd.Timestamp(end) - pd.Timestamp(start)).total_seconds()
    return f"{seconds:,.1f} s" if seconds < 120 else f"{seconds / 60:,.0f} min"


def setup_panel() -> Any:
    """The "City setup" tab (``layouts.admin_catalog``)."""
    from layouts import admin_catalog

    return admin_catalog.panel()


PANELS = {
    "users": users_panel,
    "weights": weights_panel,
    "mapping": mapping_panel,
    "sources": sources_panel,
    "setup": setup_panel,
}
