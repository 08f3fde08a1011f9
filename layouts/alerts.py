"""Early warnings: the alert feed with its filters, each alert's evidence chart, and actions.

Every filter lives in the query string (``/alerts?severity=critical&department=SAN&district=D04
&category=illegal_dumping&problem=3&state=open&alert=21&page=2``; the feed is drawn 25
alerts a page); ``layout`` is a skeleton and
callbacks fill it. Alert messages come from the detector and are always text, never HTML.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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
    humanize,
    kpi_card,
    kpi_row,
    loading,
    notice,
    page_header,
    section,
)
from layouts.components import pager as components_pager
from layouts.figures import (
    CRITICAL_COLOUR,
    SERIES_COLOUR,
    TARGET_COLOUR,
    WARNING_COLOUR,
    fit_title,
    house_layout,
    plotly_text,
)
from layouts.reports import query_text
from triage.detection.surge_config import SurgeConfig
from triage.detection.surge_messages import analyst_details, plain_message, sureness
from triage.security import Capability, Role, role_allows
from triage.vocabulary import OPEN_ALERT_STATES

if TYPE_CHECKING:
    from triage.page_data import AlertEvidence

ALL_VALUE = "all"
OPEN_VALUE = "open"
SEVERITY_CHOICES = (
    (ALL_VALUE, "Every severity"),
    ("critical", "Critical"),
    ("warning", "Warning"),
    ("info", "Information"),
)
STATE_CHOICES = (
    (OPEN_VALUE, "Open (new, acknowledged or linked)"),
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
    ("linked", "Linked to a problem"),
    ("resolved", "Resolved"),
    ("dismissed", "Dismissed"),
    (ALL_VALUE, "Every state"),
)
STATE_TONES = {
    "new": "warning",
    "acknowledged": "info",
    "linked": "success",
    "resolved": "neutral",
    "dismissed": "neutral",
}
KIND_LABELS = {
    "threshold": "Threshold crossed",
    "trend": "Sustained deterioration",
    "seasonal": "Unusual for the time of year",
    "surge": "Surge in reports",
    "new_category": "New kind of report",
    "stale": "Indicator overdue",
}
REASON_LIMIT = 2000
TITLE_LIMIT = 200
EVIDENCE_HEIGHT = 300
EVIDENCE_LEGEND = 60  # px under the plot for the legend
EVIDENCE_LABEL = "Evidence chart of the chosen alert"
BAND_COLOUR = "rgba(29, 79, 145, 0.14)"
EXPECTED_COLOUR = "#4f5b6b"
DEPARTMENT_RULE = (
    "Department: an indicator alert belongs to the indicator's department, a report alert to "
    "the department handling its category (else the lead departments of the problems the "
    "category maps to). District: report alerts in that district only."
)


# ---------------------------------------------------------------- the address


def clean_choice(value: Any, choices: Sequence[tuple[str, str]], default: str) -> str:
    """A query-string value when it is one of ``choices``, else ``default``."""
    text = query_text(value, 32).lower()
    return text if text in {v for v, _ in choices} else default


def clean_severity(value: Any) -> str:
    return clean_choice(value, SEVERITY_CHOICES, ALL_VALUE)


def clean_state(value: Any) -> str:
    return clean_choice(value, STATE_CHOICES, OPEN_VALUE)


def states_for(state: str) -> tuple[str, ...] | None:
    """The alert states a state choice shows (None: every state)."""
    if state == ALL_VALUE:
        return None
    if state == OPEN_VALUE:
        return OPEN_ALERT_STATES
    return (state,)


def parse_id(value: Any) -> int | None:
    """A positive record id from the address or a select, or None."""
    text = query_text(value, 12)
    return int(text) if text.isdigit() and int(text) > 0 else None


def can_manage(role: Role | None) -> bool:
    """Whether the page shows the action form (the server checks again on every action)."""
    return role is None or role_allows(role, Capability.MANAGE_ALERTS)


def shows_details(role: Role | None) -> bool:
    """Whether the page shows the detector's internals (method, error rate, windows) in the
    "Details for analysts": only to roles holding ``VIEW_ANALYSIS``; the mayor and the chief
    of staff read plain words."""
    return role is not None and role_allows(role, Capability.VIEW_ANALYSIS)


# Who reads the data-health figure (late data, unplaced reports): the people who run the
# data, never the mayor (late data is a department-management matter).
DATA_HEALTH_ROLES = frozenset({Role.CHIEF_OF_STAFF, Role.ANALYST, Role.ADMIN})


def shows_data_health(role: Role | None) -> bool:
    """Whether the page carries the "Data health" section (None: every component, for Dash's
    validation layout)."""
    return role is None or role in DATA_HEALTH_ROLES


def can_open_problem(role: Role | None) -> bool:
    """Opening a new problem from an alert needs both managing alerts and editing problems."""
    return can_manage(role) and (role is None or role_allows(role, Capability.EDIT_PROBLEMS))


# ---------------------------------------------------------------- the skeleton


def _select(label: str, component_id: str, options: list[dict[str, str]], value: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=component_id),
            dbc.Select(id=component_id, options=options, value=value),
        ],
        className="filter-field",
    )


def _preset(value: str, first: str) -> list[dict[str, str]]:
    options = [{"label": first, "value": ALL_VALUE}]
    if value != ALL_VALUE:
        options.append({"label": value, "value": value})
    return options


def filter_bar(
    severity: str, department: str, district: str, category: str, problem: str, state: str
) -> html.Div:
    """The six filters; the choices of the four lists arrive from a callback."""
    return html.Div(
        [
            _select(
                "Severity",
                ids.ALERTS_SEVERITY_SELECT,
                [{"label": label, "value": value} for value, label in SEVERITY_CHOICES],
                severity,
            ),
            _select(
                "Department",
                ids.ALERTS_DEPARTMENT_SELECT,
                _preset(department, "Every department"),
                department,
            ),
            _select(
                "District",
                ids.ALERTS_DISTRICT_SELECT,
                _preset(district, "Every district"),
                district,
            ),
            _select(
                "Category",
                ids.ALERTS_CATEGORY_SELECT,
                _preset(category, "Every category"),
                category,
            ),
            _select(
                "Problem", ids.ALERTS_PROBLEM_SELECT, _preset(problem, "Every problem"), problem
            ),
            _select(
                "State",
                ids.ALERTS_STATE_SELECT,
                [{"label": label, "value": value} for value, label in STATE_CHOICES],
                state,
            ),
        ],
        className="filter-bar",
        role="search",
        **{"aria-label": "Filter the alerts"},
    )


def action_form(*, with_new_problem: bool) -> html.Div:
    """Acknowledge, link, dismiss (with a reason), reopen; and, for the chief of staff, open
    a new problem from the alert. Buttons a state does not allow are disabled by a callback."""
    children: list[Any] = [
        html.Div(id=ids.ALERTS_ACTIONS_CONTEXT_DIV, className="form-lead"),
        html.Div(
            [
                html.Button(
                    "Acknowledge",
                    id=ids.ALERTS_ACK_BUTTON,
                    type="button",
                    className="btn btn-primary",
                    n_clicks=0,
                    disabled=True,
                ),
                html.Button(
                    "Reopen",
                    id=ids.ALERTS_REOPEN_BUTTON,
                    type="button",
                    className="btn btn-outline-secondary",
                    n_clicks=0,
                    disabled=True,
                ),
            ],
            className="form-actions",
        ),
        html.Div(
            [
                dbc.Label("Link to a problem", html_for=ids.ALERTS_LINK_SELECT),
                dbc.Select(
                    id=ids.ALERTS_LINK_SELECT,
                    options=[],
                    value=None,
                    placeholder="Choose a problem",
                ),
                html.Div(
                    html.Button(
                        "Link",
                        id=ids.ALERTS_LINK_BUTTON,
                        type="button",
                        className="btn btn-outline-primary",
                        n_clicks=0,
                        disabled=True,
                    ),
                    className="form-actions",
                ),
            ],
            className="form-field",
        ),
        html.Div(
            [
                dbc.Label(
                    f"Reason for dismissing (required, up to {REASON_LIMIT:,} characters)",
                    html_for=ids.ALERTS_REASON_TEXTAREA,
                ),
                dbc.Textarea(
                    id=ids.ALERTS_REASON_TEXTAREA,
                    rows=3,
                    maxlength=REASON_LIMIT,
                    placeholder="e.g. a data-entry error, already handled by Sanitation",
                ),
                html.Div(
                    html.Button(
                        "Dismiss",
                        id=ids.ALERTS_DISMISS_BUTTON,
                        type="button",
                        className="btn btn-outline-danger",
                        n_clicks=0,
                        disabled=True,
                    ),
                    className="form-actions",
                ),
            ],
            className="form-field",
        ),
        form_feedback(ids.ALERTS_ACTION_FEEDBACK_DIV),
    ]
    if with_new_problem:
        children.append(
            html.Div(
                [
                    html.H3("Open a new problem from this alert", className="detail-heading"),
                    form_field(
                        "Title of the new problem",
                        dbc.Input(
                            id=ids.ALERTS_NEW_TITLE_INPUT,
                            type="text",
                            maxlength=TITLE_LIMIT,
                            autocomplete="off",
                        ),
                    ),
                    form_field(
                        "Policy area",
                        dbc.Select(id=ids.ALERTS_NEW_AREA_SELECT, options=[], value=None),
                    ),
                    html.Div(
                        html.Button(
                            "Open problem and link",
                            id=ids.ALERTS_NEW_BUTTON,
                            type="button",
                            className="btn btn-outline-primary",
                            n_clicks=0,
                        ),
                        className="form-actions",
                    ),
                    form_feedback(ids.ALERTS_NEW_FEEDBACK_DIV),
                ],
                className="alerts-new-problem",
            )
        )
    return html.Div(children)


def layout(
    severity: Any = None,
    department: Any = None,
    district: Any = None,
    category: Any = None,
    problem: Any = None,
    state: Any = None,
    alert: Any = None,
    viewer_role: Role | None = None,
    page: Any = None,
    **_kwargs: Any,
) -> html.Div:
    """Skeleton: filters preset from the query string, summary, feed, evidence, actions.

    ``viewer_role`` (from the gate, never the URL) leaves out the forms the role may not use.
    """
    detail: list[Any] = [section("Evidence", evidence_slot())]
    if can_manage(viewer_role):
        detail.append(
            section(
                "Act on this alert",
                action_form(with_new_problem=can_open_problem(viewer_role)),
                class_name="form-card",
            )
        )
    return html.Div(
        [
            dcc.Store(id=ids.ALERTS_PAGE_STORE, data=1),
            dcc.Store(id=ids.ALERTS_QUERY_STORE),
            dcc.Store(id=ids.ALERTS_SELECTED_STORE, data=parse_id(alert)),
            dcc.Store(id=ids.ALERTS_FEED_PAGE_STORE, data=parse_id(page) or 1),
            dcc.Store(id=ids.ALERTS_SHOWN_STORE, data=[]),
            dcc.Store(id=ids.ALERTS_CURRENT_STORE),
            dcc.Store(id=ids.ALERTS_CHANGED_STORE, data=0),
            dcc.Store(id=ids.ALERTS_CREATED_STORE, data=0),
            page_header(
                "Early warnings",
                "Signals that a problem may be emerging: indicators past their thresholds or "
                "drifting, and surges in what residents report. Acknowledge each one, link it "
                "to the problem it belongs to, or dismiss it with a reason.",
            ),
            *(
                [loading(html.Div(id=ids.ALERTS_HEALTH_DIV, className="kpi-slot"))]
                if shows_data_health(viewer_role)
                else []
            ),
            filter_bar(
                clean_severity(severity),
                query_text(department, 16) or ALL_VALUE,
                query_text(district, 16) or ALL_VALUE,
                query_text(category, 64) or ALL_VALUE,
                str(parse_id(problem) or ALL_VALUE),
                clean_state(state),
            ),
            html.P(DEPARTMENT_RULE, className="section-note alerts-rule"),
            loading(html.Div(id=ids.ALERTS_SUMMARY_DIV, className="kpi-slot")),
            html.Div(
                [
                    section(
                        "Alerts",
                        html.Div(
                            [
                                loading(html.Div(id=ids.ALERTS_FEED_DIV, className="table-slot")),
                                pager(),
                            ]
                        ),
                        class_name="alerts-feed",
                    ),
                    html.Div(
                        detail,
                        className="side-col alerts-side",
                        tabIndex="0",
                        role="region",
                        **{"aria-label": "The chosen alert"},
                    ),
                ],
                className="split",
            ),
        ],
        className="alerts-page",
    )


def pager() -> html.Nav:
    """Previous and next page of the feed; the feed's callback enables them, says which rows
    are shown, and shows the pager when there is more than one page."""
    return components_pager(
        ids.ALERTS_PREV_BUTTON,
        ids.ALERTS_PAGER_TEXT,
        ids.ALERTS_NEXT_BUTTON,
        label="Pages of alerts",
        class_name="alerts-pager",
        id=ids.ALERTS_PAGER_NAV,
        hidden=True,
    )


def pager_text(first: int, last: int, total: int, page: int, pages: int) -> str:
    """``Alerts 26–50 of 312 (page 2 of 13)``; empty when nothing matches."""
    if total == 0:
        return ""
    return f"Alerts {first:,}–{last:,} of {total:,} (page {page:,} of {pages:,})"


def select_options(values: Sequence[tuple[str, str]], first: str) -> list[dict[str, str]]:
    """``[(value, label), ...]`` as select options after an "Every ..." choice."""
    return [{"label": first, "value": ALL_VALUE}] + [
        {"label": label, "value": value} for value, label in values
    ]


# ---------------------------------------------------------------- summary and feed


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def summary(
    feed: pd.DataFrame,
    total: int,
    *,
    state: str,
    notes: Sequence[str] = (),
    on_problems: int | None = None,
    counts: tuple[int, int, int] | None = None,
) -> html.Div:
    """Headline cards for the alerts the filters match, with any correction of the filters.

    ``on_problems`` is how many problems those alerts concern (linked by hand, or through
    their category or indicator): the "problems on alert" of the priorities page."""
    states = dict(STATE_CHOICES)
    if counts is not None:  # (critical, new, linked) over every matching alert
        critical, new, linked = counts
        shown, among = f"{len(feed):,} a page", "of the alerts that match"
    else:
        critical = int((feed["severity"] == "critical").sum()) if total else 0
        new = int((feed["state"] == "new").sum()) if total else 0
        linked = int((feed["state"] == "linked").sum()) if total else 0
        shown = f"the first {len(feed):,} shown" if len(feed) < total else "all shown"
        among = "of the alerts shown"
    cards = [
        kpi_card("Alerts", f"{total:,}", f"{states.get(state, state)}; {shown}", tone="info"),
        kpi_card(
            "Critical",
            f"{critical:,}",
            among,
            tone="danger" if critical else "neutral",
        ),
        # Not "New": the priorities page's "new alerts this week" counts first seen this week.
        kpi_card(
            "Awaiting an answer",
            f"{new:,}",
            "state New: not yet acknowledged, linked or dismissed",
            tone="warning" if new else "neutral",
        ),
    ]
    if on_problems is not None:
        cards.append(
            kpi_card(
                "Problems on alert",
                f"{on_problems:,}",
                f"concerned by these alerts; {linked:,} linked by hand",
            )
        )
    else:
        cards.append(kpi_card("Linked", f"{linked:,}", "by hand to a problem"))
    children: list[Any] = []
    if notes:
        children.append(notice(html.Ul([html.Li(n) for n in notes]), "warning"))
    children.append(kpi_row(cards))
    return html.Div(children)


def subject_text(row: Any) -> str:
    """What an alert is about: an indicator, or a category citywide or in a district."""
    if not _missing(getattr(row, "indicator", None)):
        return str(row.indicator)
    if not _missing(getattr(row, "category", None)):
        where = "citywide" if _missing(row.district) else f"in {row.district}"
        return f"{row.category} reports {where}"
    if not _missing(getattr(row, "problem", None)):
        return str(row.problem)
    return str(getattr(row, "series", "") or "—")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def seen_text(first: Any, last: Any) -> str:
    """Since when, in words: ``Since 2026-12-01, latest 2026-12-05`` or ``On 2026-12-05``."""
    a, b = format_date(first), format_date(last)
    return f"On {a}" if a == b else f"Since {a}, latest {b}"


def detected_text(first: Any, last: Any) -> str:
    a, b = format_date(first), format_date(last)
    return a if a == b else f"{a} to {b}"


def state_cell(row: Any) -> html.Span:
    state = str(row.state)
    children: list[Any] = [
        html.Span(
            humanize(state), className=f"status-badge tone-{STATE_TONES.get(state, 'neutral')}"
        )
    ]
    if state == "linked" and not _missing(row.problem):
        children.append(
            dcc.Link(
                str(row.problem), href=f"/problems/{int(row.problem_id)}", className="cell-meta"
            )
        )
    if row.state_reason:
        children.append(html.Span(str(row.state_reason), className="cell-meta"))
    return html.Span(children, className="cell-stack")


# What an empty feed says, by ``db.alerts.feed.empty_feed_reason``.
EMPTY_FEED: dict[str, tuple[str, str]] = {
    "filters": (
        "No alerts match these filters.",
        "Choose another severity, department, district, category, problem or state.",
    ),
    "none_open": (
        "No open alerts.",
        "Every alert has been dismissed or resolved. Choose “Every state” under State to see them.",
    ),
    "never_checked": (
        "No alerts yet: the early-warning checks have not run on this city's data.",
        "They run every morning once the scheduler is on; an administrator can run them now "
        "with “triage jobs run detect-alerts”.",
    ),
    "nothing_found": (
        "No alerts: the early-warning checks found nothing unusual.",
        "They run again every morning, and within 15 minutes of new data.",
    ),
}


def feed_table(
    feed: pd.DataFrame,
    total: int,
    selected: int | None,
    *,
    first: int = 0,
    empty_reason: str = "filters",
) -> Any:
    """The alerts as a table, worst first; each row's button shows its evidence. ``first``
    (1-based) is the position of the first row when the feed is paged; ``empty_reason`` says
    why an empty feed is empty (:data:`EMPTY_FEED`)."""
    if feed.empty:
        return empty_state(*EMPTY_FEED.get(empty_reason, EMPTY_FEED["filters"]))
    rows = []
    for row in feed.itertuples(index=False):
        alert_id = int(row.id)
        chosen = alert_id == selected
        meta = " · ".join(
            part
            for part in (
                KIND_LABELS.get(str(row.kind), humanize(row.kind)),
                subject_text(row),
                ", ".join(row.departments) if row.departments else "",
                f"#{alert_id}",
            )
            if part
        )
        rows.append(
            {
                "severity": flag(
                    humanize(row.severity), SEVERITY_TONES.get(str(row.severity), "neutral")
                ),
                "alert": html.Span(
                    [
                        html.Span(plain_message(row.message), className="report-text"),
                        html.Span(meta, className="cell-meta"),
                    ],
                    className="cell-stack",
                ),
                "detected": detected_text(row.first_detected, row.last_detected),
                "state": state_cell(row),
                "evidence": html.Button(
                    "Evidence",
                    id=ids.alerts_select_button(alert_id),
                    type="button",
                    n_clicks=0,
                    className="btn btn-sm " + ("btn-primary" if chosen else "btn-outline-primary"),
                    **{
                        "aria-pressed": "true" if chosen else "false",
                        "aria-label": f"Evidence for alert #{alert_id}",
                    },
                ),
            }
        )
    if first and len(feed) < total:
        count = (
            f"{total:,} alerts match, the most severe and most recent first; "
            f"{first:,} to {first + len(feed) - 1:,} are listed."
        )
    elif len(feed) < total:
        count = f"{total:,} alerts match; the {len(feed):,} most severe and recent are listed."
    else:
        count = f"{_plural(total, 'alert')}, the most severe and most recent first."
    return html.Div(
        [
            html.P(count, className="table-count"),
            data_table(
                [
                    Column("Severity", "severity"),
                    Column("Alert", "alert"),
                    Column("Detected", "detected"),
                    Column("State", "state"),
                    Column("Evidence", "evidence"),
                ],
                rows,
                caption="Alerts matching the filters",
                row_header="alert",
                stack_on_phone=True,
            ),
        ]
    )


def effective_alert(selected: Any, shown: Sequence[Any]) -> int | None:
    """The alert the page shows: the chosen one when the feed lists it, else the first."""
    listed = [int(i) for i in shown or []]
    chosen = parse_id(selected)
    if chosen is not None and chosen in listed:
        return chosen
    return listed[0] if listed else None


# ---------------------------------------------------------------- evidence


def _values(series: pd.Series) -> list[float | None]:
    return [None if _missing(v) else float(v) for v in series]


def evidence_figure(
    series: pd.DataFrame,
    *,
    title: str,
    y_title: str,
    subtitle: str = "",
    unit: str = "",
    lines: Sequence[tuple[str, float]] = (),
    height: int = EVIDENCE_HEIGHT,
) -> go.Figure:
    """Observed values against the expected value and usual range, alerted days marked.

    ``series``: date, observed, expected, lower, upper (NaN where unknown), alerted (bool).
    A band drawn over several days shows the range per day; a range known on one day only is
    an error bar on that day. ``lines`` are reference levels (label, value) like thresholds.
    """
    layout = house_layout(title, height=height)
    if subtitle:
        layout["title"]["text"] = (
            f"{plotly_text(title)}<br><span style='font-size:12px'>{plotly_text(subtitle)}</span>"
        )
    unit_label = plotly_text(unit)
    frame = series.sort_values("date") if not series.empty else series
    if frame.empty or frame["observed"].notna().sum() == 0:
        layout.update(
            annotations=[
                {
                    "text": "No values to show for this alert's series",
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
            xaxis={"visible": False},
            yaxis={"visible": False},
        )
        return go.Figure(data=[], layout=layout, _validate=False)
    dates = [pd.Timestamp(d).date().isoformat() for d in frame["date"]]
    suffix = "%" if unit == "%" else (f" {unit_label}" if unit_label else "")
    traces: list[dict[str, Any]] = []
    band = frame["lower"].notna() & frame["upper"].notna()
    if int(band.sum()) > 1:
        traces.append(
            {
                "type": "scatter",
                "x": dates,
                "y": _values(frame["upper"]),
                "mode": "lines",
                "line": {"width": 0, "color": BAND_COLOUR},
                "hoverinfo": "skip",
                "showlegend": False,
                "connectgaps": False,
            }
        )
        traces.append(
            {
                "type": "scatter",
                "x": dates,
                "y": _values(frame["lower"]),
                "mode": "lines",
                "line": {"width": 0, "color": BAND_COLOUR},
                "fill": "tonexty",
                "fillcolor": BAND_COLOUR,
                "name": "Usual range (95%)",
                "hovertemplate": "Usual range from %{y:,.4~g}" + suffix + "<extra></extra>",
                "connectgaps": False,
            }
        )
    expected = frame["expected"].notna()
    if int(expected.sum()) > 1:
        traces.append(
            {
                "type": "scatter",
                "x": dates,
                "y": _values(frame["expected"]),
                "mode": "lines",
                "name": "Expected",
                "line": {"color": EXPECTED_COLOUR, "width": 1.5, "dash": "dash"},
                "hovertemplate": "Expected %{y:,.4~g}" + suffix + "<extra></extra>",
            }
        )
    elif int(expected.sum()) == 1:
        point = frame[expected]
        upper = _values(point["upper"] - point["expected"])
        lower = _values(point["expected"] - point["lower"])
        marker: dict[str, Any] = {
            "type": "scatter",
            "x": [pd.Timestamp(d).date().isoformat() for d in point["date"]],
            "y": _values(point["expected"]),
            "mode": "markers",
            "name": "Expected" + (" and usual range" if upper[0] is not None else ""),
            "marker": {"color": EXPECTED_COLOUR, "size": 9, "symbol": "line-ew-open"},
            "hovertemplate": "Expected %{y:,.4~g}" + suffix + "<extra></extra>",
        }
        if upper[0] is not None and lower[0] is not None:
            marker["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": upper,
                "arrayminus": lower,
                "color": EXPECTED_COLOUR,
            }
        traces.append(marker)
    for label, value, colour, dash in _reference_styles(lines):
        traces.append(
            {
                "type": "scatter",
                "x": [dates[0], dates[-1]],
                "y": [value, value],
                "mode": "lines",
                "name": f"{label} ({value:,.4g}{suffix})",
                "line": {"color": colour, "width": 1.5, "dash": dash},
                "hoverinfo": "skip",
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": dates,
            "y": _values(frame["observed"]),
            "mode": "lines+markers" if len(frame) <= 60 else "lines",
            "name": "Observed",
            "line": {"color": SERIES_COLOUR, "width": 2},
            "marker": {"size": 5},
            "hovertemplate": "%{x|%Y-%m-%d}: %{y:,.4~g}" + suffix + "<extra></extra>",
        }
    )
    alerted = frame[frame["alerted"].astype(bool) & frame["observed"].notna()]
    if len(alerted):
        traces.append(
            {
                "type": "scatter",
                "x": [pd.Timestamp(d).date().isoformat() for d in alerted["date"]],
                "y": _values(alerted["observed"]),
                "mode": "markers",
                "name": "Alerted",
                "marker": {
                    "color": CRITICAL_COLOUR,
                    "size": 8,
                    "symbol": "diamond",
                    "line": {"color": "#ffffff", "width": 1},
                },
                "hovertemplate": "Alerted %{x|%Y-%m-%d}: %{y:,.4~g}" + suffix + "<extra></extra>",
            }
        )
    layout.update(
        margin={"l": 56, "r": 16, "t": 72, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        hovermode="closest",
        xaxis={
            "type": "date",
            "showgrid": False,
            "linecolor": "#c9d1dc",
            "ticks": "outside",
            "fixedrange": True,
        },
        yaxis={
            "title": {"text": plotly_text(y_title), "font": {"size": 12}},
            "gridcolor": "#e6eaf0",
            "rangemode": "tozero" if unit in ("reports", "count", "") else "normal",
            "fixedrange": True,
        },
    )
    layout["height"] = height + EVIDENCE_LEGEND
    return go.Figure(data=traces, layout=layout, _validate=False)


def _reference_styles(lines: Sequence[tuple[str, float]]) -> list[tuple[str, float, str, str]]:
    styles = {
        "Target": (TARGET_COLOUR, "dash"),
        "Warning threshold": (WARNING_COLOUR, "dot"),
        "Critical threshold": (CRITICAL_COLOUR, "dot"),
    }
    return [
        (label, float(value), *styles.get(label, (EXPECTED_COLOUR, "dot")))
        for label, value in lines
    ]


def _num(value: Any) -> float | None:
    if _missing(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _day(value: Any) -> str:
    return "—" if _missing(value) else pd.Timestamp(value).date().isoformat()


def evidence_sentence(evidence: AlertEvidence) -> str:
    """The chart in one line: the span, the latest value against what was expected, and the
    alerted days (the text alternative of the chart)."""
    frame = evidence.series
    alert = evidence.alert
    unit = "" if evidence.unit.strip().lower() in ("", "count", "reports") else evidence.unit
    noun = f"{evidence.measure[:1].upper()}{evidence.measure[1:]}"
    known = frame[frame["observed"].notna()]
    if known.empty:
        return f"{noun}: no values between {evidence.start} and {evidence.end}."
    last = known.iloc[-1]
    parts = [
        f"{noun}, {_day(known['date'].iloc[0])} to {_day(last['date'])}: "
        f"{format_number(last['observed'], unit)} on the latest day shown"
    ]
    flagged = frame[frame["alerted"].astype(bool)]
    expected = _num(alert.get("expected"))
    if alert.get("kind") == "stale":
        parts.append(
            f"; the latest value is {format_number(alert.get('observed'))} days old, "
            f"{format_number(expected)} days are allowed"
        )
    elif expected is not None:
        low, high = _num(alert.get("lower")), _num(alert.get("upper"))
        when = format_date(alert.get("last_detected"))
        if alert.get("kind") == "threshold":
            parts.append(f"; the threshold crossed is {format_number(expected, unit)}")
        else:
            parts.append(
                f"; on {when} the detector expected about {format_number(expected, unit)}"
                + (
                    f" (usual range {format_number(low, unit)} to {format_number(high, unit)})"
                    if low is not None and high is not None
                    else ""
                )
                + f" and saw {format_number(alert.get('observed'), unit)}"
            )
    if len(flagged):
        parts.append(
            f"; {_plural(len(flagged), 'alerted point')} from {_day(flagged['date'].min())}"
        )
    return "".join(parts) + "."


def _fact(label: str, value: Any) -> html.Div:
    return html.Div([html.Dt(label), html.Dd(value)], className="fact")


def analyst_block(alert: dict[str, Any], band_note: str = "") -> html.Details:
    """The detector's internals (method, error rate, window, raw figures), folded in a
    "Details for analysts"; only roles holding ``VIEW_ANALYSIS`` get it."""
    facts = [_fact(label, value) for label, value in analyst_details(alert, SurgeConfig().fdr)]
    children: list[Any] = [
        html.Summary("Details for analysts"),
        html.Dl(facts, className="fact-list"),
    ]
    if band_note:
        children.append(html.P(band_note, className="section-note"))
    return html.Details(children, className="analyst-details")


@dataclass(frozen=True)
class EvidenceView:
    """The chosen alert as the evidence slots of the page take it (:func:`evidence_slot`):
    ``head`` its number, message and facts (or why there is nothing to show); ``figure`` its
    chart (None: no chart, the chart's box is hidden); ``label`` the chart's name as an image;
    ``caption`` the chart in words; ``table`` its numbers; ``analyst`` the details for
    analysts (or None)."""

    head: Any
    figure: go.Figure | None = None
    label: str = EVIDENCE_LABEL
    caption: str = ""
    table: Any = None
    analyst: Any = None

    @property
    def parts(self) -> list[Any]:
        """The text-bearing parts in page order (the chart's words, not its drawing)."""
        return [self.head, self.caption, self.table, self.analyst]


def evidence_view(evidence: AlertEvidence | None, *, details: bool = False) -> EvidenceView:
    """The chosen alert: its message (as text), facts in plain words (what, since when, how
    sure), and its evidence chart with the text alternative and the numbers as a table.
    ``details`` adds the detector's internals folded for analysts (:func:`shows_details`)."""
    if evidence is None:
        return EvidenceView(
            empty_state(
                "No alert chosen.", "Alerts matching the filters appear in the list; choose one."
            )
        )
    alert = evidence.alert
    row = pd.Series(alert)
    subject = subject_text(row)
    kind = KIND_LABELS.get(str(alert["kind"]), humanize(alert["kind"]))
    title = f"{subject}: {kind.lower()}"
    facts = html.Dl(
        [
            _fact(
                "Severity",
                flag(
                    humanize(alert["severity"]),
                    SEVERITY_TONES.get(str(alert["severity"]), "neutral"),
                ),
            ),
            _fact("State", humanize(alert["state"])),
            _fact("Seen", seen_text(alert["first_detected"], alert["last_detected"])),
            _fact("Department", ", ".join(alert["departments"]) or "—"),
            _fact("How sure", sureness(alert)),
        ],
        className="fact-list",
    )
    header = [
        html.H3(f"Alert #{int(alert['id'])}", className="detail-heading"),
        html.P(plain_message(alert["message"]), className="report-text"),
        facts,
    ]
    if evidence.series.empty:
        header.append(
            empty_state(
                "No series is stored for this alert.", "Its message says what was detected."
            )
        )
        return EvidenceView(html.Div(header), analyst=analyst_block(alert) if details else None)
    if evidence.unit == "reports":
        y_title = evidence.measure.replace(" to each day", "")
    elif evidence.unit and evidence.unit.lower() != "count":
        y_title = f"Value ({evidence.unit})"
    else:
        y_title = "Value (count)"
    figure = evidence_figure(
        evidence.series,
        # The whole subject is in the panel's heading and the chart's label; the title must
        # fit a phone's column (about 36 characters at the title's size).
        title=fit_title(subject),
        subtitle=f"{kind}: {evidence.measure}" if evidence.unit == "reports" else kind,
        y_title=y_title,
        unit="" if evidence.unit.lower() == "count" else evidence.unit,
        lines=evidence.lines,
    )
    notes = {
        "recomputed": "The shaded band is the usual range for each day; days without one are "
        "days with too little history before them to say what is usual.",
        "stored": "The expected value and its range are those the warning was judged against.",
        "none": "Reference lines show the indicator's target and thresholds where it has them.",
    }
    band_notes = {
        "recomputed": "The expected value and usual range per day come from rerunning the surge "
        "detector on this series alone: the expected value is the one it tested against; the "
        "range uses this series' own variability, so it can differ a little from the range in "
        "the message (the daily run also learns from the other series).",
    }
    table_rows = [
        {
            "date": _day(r.date),
            "observed": format_number(r.observed),
            "expected": format_number(r.expected),
            "range": "—"
            if _missing(r.lower) or _missing(r.upper)
            else f"{format_number(r.lower)} to {format_number(r.upper)}",
            "alerted": "Yes" if r.alerted else "",
        }
        for r in evidence.series.itertuples(index=False)
        if not _missing(r.observed)
    ]
    table = data_table(
        [
            Column("Date", "date"),
            Column("Observed", "observed", numeric=True),
            Column("Expected", "expected", numeric=True),
            Column("Usual range", "range", numeric=True),
            Column("Alerted", "alerted"),
        ],
        table_rows,
        caption=title,
        row_header="date",
    )
    return EvidenceView(
        html.Div(header),
        figure=figure,
        label=f"Evidence chart: {title}",
        caption=evidence_sentence(evidence) + " " + notes[evidence.band],
        table=table,
        analyst=analyst_block(alert, band_notes.get(evidence.band, "")) if details else None,
    )


def placeholder_figure() -> dict[str, Any]:
    """The chart's box before (or without) an alert: blank, at the chart's height. A plain
    dict (no template to merge): the browser draws it while the feed is being fetched, which
    also loads the charting library ahead of the evidence."""
    return {
        "data": [],
        "layout": {
            "height": EVIDENCE_HEIGHT + EVIDENCE_LEGEND,
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def evidence_slot() -> html.Div:
    """The evidence section's slots: the alert's head, then its chart (as one image with a
    caption and the numbers folded in a table), then the details for analysts.

    The chart (:func:`layouts.components.chart_block`'s structure, kept here) is in the page
    from the start with a blank figure at its final height; the feed's callback fills it. So
    the charting library loads while the feed is fetched, and the graph is drawn once with
    the evidence rather than created, drawn and redrawn to its box after the feed arrives."""
    graph = html.Div(
        dcc.Graph(
            id=ids.ALERTS_EVIDENCE_GRAPH,
            figure=placeholder_figure(),
            # A still image: no hover or drag layers to build (the numbers are in the table
            # below it); it still follows the column's width.
            config={"staticPlot": True, "displayModeBar": False, "responsive": True},
            style={"height": f"{EVIDENCE_HEIGHT + EVIDENCE_LEGEND}px"},
        ),
        id=ids.ALERTS_EVIDENCE_IMG,
        role="img",
        className="chart-graph",
        # Its height before the charting library has loaded too: nothing below it moves.
        style={"minHeight": f"{EVIDENCE_HEIGHT + EVIDENCE_LEGEND}px"},
        **{"aria-label": EVIDENCE_LABEL},
    )
    chart = html.Figure(
        [
            graph,
            html.Figcaption(id=ids.ALERTS_EVIDENCE_CAPTION, className="chart-caption"),
            html.Details(
                [
                    html.Summary("Show the numbers as a table"),
                    html.Div(id=ids.ALERTS_EVIDENCE_TABLE_DIV),
                ],
                className="chart-table",
            ),
        ],
        id=ids.ALERTS_EVIDENCE_FIGURE,
        className="chart-block",
    )
    return html.Div(
        [
            loading(html.Div(id=ids.ALERTS_DETAIL_DIV, className="chart-slot")),
            chart,
            html.Div(id=ids.ALERTS_EVIDENCE_ANALYST_DIV),
        ]
    )


# ---------------------------------------------------------------- actions


def action_context(alert: dict[str, Any] | None) -> html.P:
    if alert is None:
        return html.P("Choose an alert in the list to act on it.", className="muted")
    return html.P(
        f"Alert #{int(alert['id'])} is {humanize(alert['state']).lower()}. "
        + ALLOWED_HINTS.get(str(alert["state"]), ""),
        className="muted",
    )


ALLOWED_HINTS = {
    "new": "Acknowledge it, link it to a problem, or dismiss it with a reason.",
    "acknowledged": "Link it to a problem, or dismiss it with a reason.",
    "linked": "It is linked to a problem; dismiss it with a reason if it no longer applies.",
    "resolved": "It is no longer detected; reopen it to act on it again.",
    "dismissed": "Reopen it to act on it again.",
}

ACTION_DONE = {
    "acknowledged": "Acknowledged alert #{id}.",
    "linked": "Linked alert #{id} to “{problem}”.",
    "dismissed": "Dismissed alert #{id}; the reason is kept with it.",
    "new": "Reopened alert #{id}.",
}


def action_done(alert_id: int, state: str, problem: str | None = None) -> html.Div:
    text = ACTION_DONE.get(state, "Saved alert #{id}.").format(id=alert_id, problem=problem or "")
    return notice(text, "success")


def action_rejected(problems: Sequence[str]) -> html.Div:
    return notice(html.Ul([html.Li(p) for p in problems]), "danger", title="Not saved:")


def problem_opened(
    alert_id: int, problem_id: int, title: str, rank: int | None = None, week: str = ""
) -> html.Div:
    """The new problem, linked, and where it entered this week's ranking."""
    ranked = (
        f" It ranks #{rank} in {week}'s priorities."
        if rank is not None
        else " It is scored from the next weekly ranking."
    )
    return notice(
        html.P(
            [
                f"Opened a new problem from alert #{alert_id} and linked the alert to it: ",
                dcc.Link(title, href=f"/problems/{problem_id}"),
                "." + ranked,
            ]
        ),
        "success",
    )


def default_title(alert: dict[str, Any] | None) -> str:
    """A starting title for a problem opened from an alert (the person edits it)."""
    if alert is None:
        return ""
    subject = subject_text(pd.Series(alert))
    kind = str(alert.get("kind"))
    if kind == "surge":
        return f"Rising {subject}"[:TITLE_LIMIT]
    return f"{subject}: {KIND_LABELS.get(kind, humanize(kind)).lower()}"[:TITLE_LIMIT]
