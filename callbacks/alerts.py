"""Early-warnings callbacks: filter choices, the feed, the chosen alert's evidence, the actions,
opening a problem from an alert, and the address bar. Every filter is checked against the
database first; actions need ``MANAGE_ALERTS`` (and a new problem ``EDIT_PROBLEMS`` too), which
the guard checks before the callback runs and ``db.alerts.actions`` checks again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.policy import (
    current_database,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from callbacks.query_sync import query_sync_js
from db import attention as attention_service
from db import lookups
from db.alerts.actions import act_on_alert
from db.alerts.evidence import alert_evidence
from db.alerts.feed import (
    AlertFilters,
    FeedPage,
    alert_feed_page,
    alert_row,
    empty_feed_reason,
    problems_concerned,
)
from db.cache import cached
from db.pages.data_health import PLACEMENT_DAYS, data_health
from db.problems import decision_subject
from layouts import alerts, ids
from layouts.data_health import data_health_section
from triage.security import Capability, Principal
from triage.validation import ValidationError
from triage.weeks import iso_week

SYNC_QUERY_JS = query_sync_js(
    [
        ("severity", "all"),
        ("department", "all"),
        ("district", "all"),
        ("category", "all"),
        ("problem", "all"),
        ("state", "open"),
        ("alert", None),
        ("page", "1"),
    ]
)

# The feed's pages: "Previous"/"Next" step the page; a filter changing goes back to page 1.
# In the browser (no round trip); the server clamps the page to the pages there are.
PAGE_JS = """
function (prev, next, ...rest) {
    const page = Number(rest[rest.length - 1]) || 1;
    const fired = (dash_clientside.callback_context.triggered || []).map((t) => t.prop_id);
    if (fired.includes("PREV.n_clicks") && prev) { return Math.max(1, page - 1); }
    if (fired.includes("NEXT.n_clicks") && next) { return page + 1; }
    return page === 1 ? dash_clientside.no_update : 1;
}
""".replace("PREV", ids.ALERTS_PREV_BUTTON).replace("NEXT", ids.ALERTS_NEXT_BUTTON)


@dataclass(frozen=True)
class Resolved:
    """The filters as the database understands them, and what was dropped on the way."""

    filters: AlertFilters
    state: str
    notes: tuple[str, ...]


def _match(frame: pd.DataFrame, column: str, value: str) -> pd.Series | None:
    found = frame[frame[column].astype(str) == value]
    return None if found.empty else found.iloc[0]


def resolve_filters(
    session: Any,
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
) -> Resolved:
    """Turn raw filter values (user input) into ``AlertFilters``; unknown values are dropped
    with a note rather than trusted."""
    notes: list[str] = []
    chosen_severity = alerts.clean_severity(severity)
    chosen_state = alerts.clean_state(state)
    if severity and alerts.query_text(severity, 32).lower() not in (chosen_severity,):
        notes.append("The severity in the address is unknown, so every severity is shown.")
    if state and alerts.query_text(state, 32).lower() not in (chosen_state,):
        notes.append("The state in the address is unknown, so open alerts are shown.")
    ids_found: dict[str, int | None] = {}
    # An address may name an archived department or problem (a saved link): history, so kept.
    for key, raw, known, column, limit in (
        ("department", department, _with_archived(lookups.departments), "code", 16),
        ("district", district, lookups.districts, "code", 16),
        ("category", category, lookups.categories, "code", 64),
        ("problem", problem, _with_archived(lookups.problems), "id", 12),
    ):
        text = alerts.query_text(raw, limit)
        ids_found[key] = None
        if text and text != alerts.ALL_VALUE:
            row = _match(known(session), column, text)
            if row is None:
                notes.append(f"The {key} in the address is unknown, so every {key} is shown.")
            else:
                ids_found[key] = int(row["id"])
    filters = AlertFilters(
        severity=None if chosen_severity == alerts.ALL_VALUE else chosen_severity,
        department_id=ids_found["department"],
        district_id=ids_found["district"],
        category_id=ids_found["category"],
        problem_id=ids_found["problem"],
        states=alerts.states_for(chosen_state),
    )
    return Resolved(filters, chosen_state, tuple(notes))


def _with_archived(lookup: Any) -> Any:
    return lambda session: lookup(session, archived=True)


def link_options(problems: pd.DataFrame, alert: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The problems an alert may be linked to (archived ones are not in ``problems``); an
    alert already linked to an archived problem shows it, marked and not selectable."""
    options: list[dict[str, Any]] = [
        {"label": str(t), "value": str(i)}
        for i, t in zip(problems["id"], problems["title"], strict=True)
    ]
    if alert is None or pd.isna(alert["problem_id"]):
        return options
    linked = str(int(alert["problem_id"]))
    if all(option["value"] != linked for option in options):
        options.append({"label": str(alert["problem"]), "value": linked, "disabled": True})
    return options


def alerts_filters(_page: Any, *, principal: Principal) -> tuple[list, list, list, list]:
    """The choices of the department, district, category and problem selects (archived
    departments and problems are not offered)."""
    with current_database().session() as session:
        departments = lookups.departments(session)
        districts = lookups.districts(session)
        categories = lookups.categories(session)
        problems = lookups.problems(session)
    return (
        alerts.select_options(
            list(zip(departments["code"], departments["name"], strict=True)), "Every department"
        ),
        alerts.select_options(
            list(zip(districts["code"], districts["name"], strict=True)), "Every district"
        ),
        alerts.select_options(
            list(zip(categories["code"], categories["name"], strict=True)), "Every category"
        ),
        alerts.select_options(
            [(str(i), str(t)) for i, t in zip(problems["id"], problems["title"], strict=True)],
            "Every problem",
        ),
    )


def alerts_data_health(_page: Any, *, principal: Principal) -> Any:
    """The "Data health" section (late indicators by department, unplaced reports) for the
    roles that run the data (``layouts.alerts.shows_data_health``); nothing for the others."""
    if not alerts.shows_data_health(principal.role):
        raise PreventUpdate
    with current_database().session() as session:
        health = data_health(session, local_today())
    return data_health_section(health, days=PLACEMENT_DAYS)


def feed_page(
    session: Any,
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
    selected: Any,
    page: Any,
) -> tuple[Resolved, FeedPage, list[int]]:
    """The checked filters, the page of the feed they give, and the ids it lists: the page's,
    plus the chosen alert when it matches the filters but sits on another page (a saved link
    to it still shows its evidence). The feed and the action form both start from it, so they
    agree on the shown alert (:func:`layouts.alerts.effective_alert` of those ids)."""
    number = alerts.parse_id(page) or 1
    chosen = resolve_filters(session, severity, department, district, category, problem, state)
    # Served from the data-version cache while nothing is written (any write, an action on an
    # alert included, changes the version).
    found = cached(
        session,
        "alerts.feed_page",
        (chosen.filters, number),
        lambda: alert_feed_page(session, chosen.filters, page=number),
    )
    shown = [int(i) for i in found.rows["id"]]
    wanted = alerts.parse_id(selected)
    if wanted is not None and wanted not in shown and wanted in found.ids:
        shown.append(wanted)
    return chosen, found, shown


def alerts_feed(
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
    selected: Any,
    page: Any,
    _changed: Any,
    _created: Any,
    *,
    principal: Principal,
) -> tuple[Any, ...]:
    """Headline cards (over every matching alert), one page of the feed (the shown alert
    highlighted), the ids it lists, the pager (its text, previous and next disabled, hidden
    when there is one page), and the
    shown alert's evidence with its id (:func:`alerts_detail`).

    The listed ids are the page's, plus the chosen alert when it matches the filters but sits
    on another page (a saved link to it still shows its evidence). The evidence comes in the
    same answer as the feed: one round trip on load, not a feed and then its evidence."""
    with current_database().session() as session:
        chosen, found, shown = feed_page(
            session, severity, department, district, category, problem, state, selected, page
        )
        concerned = cached(
            session,
            "alerts.concerned",
            chosen.filters,
            lambda: problems_concerned(session, chosen.filters),
        )
        empty = empty_feed_reason(session, chosen.filters) if found.total == 0 else "filters"
    feed = found.rows
    current = alerts.effective_alert(selected, shown)
    view, shown_id = alerts_detail(current, shown, 0, 0, principal=principal)
    return (
        alerts.summary(
            feed,
            found.total,
            state=chosen.state,
            notes=chosen.notes,
            on_problems=len(concerned),
            counts=(found.critical, found.new, found.linked),
        ),
        alerts.feed_table(feed, found.total, current, first=found.first, empty_reason=empty),
        shown,
        alerts.pager_text(found.first, found.last, found.total, found.page, found.pages),
        found.page <= 1,
        found.page >= found.pages,
        found.pages <= 1,
        *evidence_outputs(view),
        shown_id,
    )


def evidence_outputs(view: alerts.EvidenceView) -> tuple[Any, ...]:
    """The evidence slots' values: head, figure, chart hidden, chart label, caption, table,
    details for analysts. Without a chart the graph gets the blank figure and is hidden."""
    return (
        view.head,
        alerts.placeholder_figure() if view.figure is None else view.figure,
        view.figure is None,
        view.label,
        view.caption,
        view.table,
        view.analyst,
    )


# A row's "Evidence" button chooses that alert (kept in the address as ``alert=``). It runs in
# the browser: the feed's buttons arriving (all at 0 clicks) fire it on every load, and a server
# round trip there held the evidence panel back by one more request. The server never trusts the
# id it sets: ``alerts_feed`` shows the evidence of an alert of the feed only.
SELECT_ALERT_JS = """
function (clicks) {
    const triggered = (dash_clientside.callback_context.triggered || [])[0];
    if (!triggered || !triggered.value) { return dash_clientside.no_update; }
    const raw = triggered.prop_id.slice(0, triggered.prop_id.lastIndexOf("."));
    let index;
    try { index = Number(JSON.parse(raw).index); } catch (e) { return dash_clientside.no_update; }
    return Number.isInteger(index) && index > 0 ? index : dash_clientside.no_update;
}
"""


def alerts_detail(
    selected: Any, shown: Any, _changed: Any, _created: Any, *, principal: Principal
) -> tuple[alerts.EvidenceView, int | None]:
    """The shown alert's message, facts and evidence chart; its id for the action form. Only
    an alert of ``shown`` (the feed's) is shown, else the first; the chart is drawn for that
    one alert only."""
    current = alerts.effective_alert(selected, shown)
    if current is None:
        return alerts.evidence_view(None), None
    with current_database().session() as session:
        today = local_today()
        evidence = cached(
            session,
            "alerts.evidence",
            (current, today),
            lambda: alert_evidence(session, current, today),
        )
    view = alerts.evidence_view(evidence, details=alerts.shows_details(principal.role))
    return view, current if evidence is not None else None


def action_form_state(
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
    selected: Any,
    page: Any,
    _changed: Any,
    _created: Any,
    *,
    principal: Principal,
) -> tuple[Any, ...]:
    """What the action form allows for the shown alert's state; the problems to link to
    (not archived ones, see :func:`link_options`).

    It takes the feed's inputs and finds the shown alert as the feed does (:func:`feed_page`),
    so on load it runs beside the feed rather than after it (one round trip, not two in a row).

    Outputs: context, acknowledge/reopen/link/dismiss disabled, link options and value, reason.
    """
    with current_database().session() as session:
        _chosen, _found, shown = feed_page(
            session, severity, department, district, category, problem, state, selected, page
        )
        alert_id = alerts.effective_alert(selected, shown)
        alert = alert_row(session, alert_id) if alert_id else None
        problems = lookups.problems(session)
    options = link_options(problems, alert)
    if alert is None:
        return (alerts.action_context(None), True, True, True, True, options, None, "")
    state = str(alert["state"])
    linked = None if pd.isna(alert["problem_id"]) else str(int(alert["problem_id"]))
    return (
        alerts.action_context(alert),
        state != "new",
        state not in ("resolved", "dismissed"),
        state not in ("new", "acknowledged"),
        state in ("resolved", "dismissed"),
        options,
        linked,
        "",
    )


ACTION_BUTTONS = {
    ids.ALERTS_ACK_BUTTON: "acknowledge",
    ids.ALERTS_LINK_BUTTON: "link",
    ids.ALERTS_DISMISS_BUTTON: "dismiss",
    ids.ALERTS_REOPEN_BUTTON: "reopen",
}


def act(
    action: str,
    current: Any,
    problem: Any,
    reason: Any,
    changed: Any,
    principal: Principal,
) -> tuple[Any, Any]:
    """Apply one action; a refused one leaves everything as it was and says why."""
    try:
        with current_database().session(write=True) as session:
            state = act_on_alert(
                session, principal, current, action, reason=reason, problem_id=problem
            )
            alert = alert_row(session, int(current))
    except ValidationError as error:
        return alerts.action_rejected([str(error)]), no_update
    title = None if alert is None or pd.isna(alert["problem"]) else str(alert["problem"])
    return alerts.action_done(int(current), state, title), int(changed or 0) + 1


def alert_action(
    _ack: Any,
    _link: Any,
    _dismiss: Any,
    _reopen: Any,
    current: Any,
    problem: Any,
    reason: Any,
    changed: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
) -> tuple[Any, Any]:
    """Acknowledge, link, dismiss or reopen the shown alert. Outputs: feedback, changed."""
    if triggered_id is None and ctx.triggered:
        triggered_id = ctx.triggered_id
        if not ctx.triggered[0].get("value"):
            raise PreventUpdate
    action = ACTION_BUTTONS.get(triggered_id)
    if action is None:
        raise PreventUpdate
    return act(action, current, problem, reason, changed, principal)


def new_problem_defaults(
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
    selected: Any,
    page: Any,
    _changed: Any,
    _created: Any,
    *,
    principal: Principal,
) -> tuple[str, list, Any]:
    """A starting title from the shown alert, and the policy areas to choose from. Like
    :func:`action_form_state` it finds the shown alert itself, beside the feed."""
    with current_database().session() as session:
        _chosen, _found, shown = feed_page(
            session, severity, department, district, category, problem, state, selected, page
        )
        alert_id = alerts.effective_alert(selected, shown)
        alert = alert_row(session, alert_id) if alert_id else None
        areas = lookups.policy_areas(session)
    options = [{"label": alerts.humanize(a), "value": a} for a in areas]
    return alerts.default_title(alert), options, areas[0] if areas else None


def open_problem(
    n_clicks: Any,
    current: Any,
    title: Any,
    area: Any,
    created: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any]:
    """Open a new problem from the shown alert, link the alert to it, map a surge's category
    to it (where the role may) and rank this week again, so the new problem is scored at once
    and can enter this week's priorities (``db.attention.open_problem_from_surge``, as the
    priorities page does). Outputs: feedback, created counter (the feed, the evidence and the
    form refresh on it)."""
    if not n_clicks:
        raise PreventUpdate
    today = local_today()
    week = iso_week(today)
    try:
        with current_database().session(write=True) as session:
            problem_id = attention_service.open_problem_from_surge(
                session, principal, current, title=title, policy_area=area, today=today
            )
            subject = decision_subject(session, problem_id, week)
    except ValidationError as error:
        return alerts.action_rejected([str(error)]), no_update
    rank = subject.rank if subject is not None else None
    return (
        alerts.problem_opened(int(current), problem_id, str(title).strip(), rank, week),
        int(created or 0) + 1,
    )


def register(app: dash.Dash) -> None:
    filters = (
        Input(ids.ALERTS_SEVERITY_SELECT, "value"),
        Input(ids.ALERTS_DEPARTMENT_SELECT, "value"),
        Input(ids.ALERTS_DISTRICT_SELECT, "value"),
        Input(ids.ALERTS_CATEGORY_SELECT, "value"),
        Input(ids.ALERTS_PROBLEM_SELECT, "value"),
        Input(ids.ALERTS_STATE_SELECT, "value"),
    )
    refresh = (
        Input(ids.ALERTS_CHANGED_STORE, "data"),
        Input(ids.ALERTS_CREATED_STORE, "data"),
    )
    # What the stores these callbacks read hold (alert ids, page numbers, counters): a post
    # with anything else is refused with a 400 before the callback runs.
    feed_types = {
        (store, "data"): int | None
        for store in (
            ids.ALERTS_SELECTED_STORE,
            ids.ALERTS_FEED_PAGE_STORE,
            ids.ALERTS_CHANGED_STORE,
            ids.ALERTS_CREATED_STORE,
        )
    }
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ALERTS_DEPARTMENT_SELECT, "options"),
        Output(ids.ALERTS_DISTRICT_SELECT, "options"),
        Output(ids.ALERTS_CATEGORY_SELECT, "options"),
        Output(ids.ALERTS_PROBLEM_SELECT, "options"),
        Input(ids.ALERTS_PAGE_STORE, "data"),
    )(alerts_filters)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ALERTS_HEALTH_DIV, "children"),
        Input(ids.ALERTS_PAGE_STORE, "data"),
    )(alerts_data_health)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ALERTS_SUMMARY_DIV, "children"),
        Output(ids.ALERTS_FEED_DIV, "children"),
        Output(ids.ALERTS_SHOWN_STORE, "data"),
        Output(ids.ALERTS_PAGER_TEXT, "children"),
        Output(ids.ALERTS_PREV_BUTTON, "disabled"),
        Output(ids.ALERTS_NEXT_BUTTON, "disabled"),
        Output(ids.ALERTS_PAGER_NAV, "hidden"),
        Output(ids.ALERTS_DETAIL_DIV, "children"),
        Output(ids.ALERTS_EVIDENCE_GRAPH, "figure"),
        Output(ids.ALERTS_EVIDENCE_FIGURE, "hidden"),
        Output(ids.ALERTS_EVIDENCE_IMG, "aria-label"),
        Output(ids.ALERTS_EVIDENCE_CAPTION, "children"),
        Output(ids.ALERTS_EVIDENCE_TABLE_DIV, "children"),
        Output(ids.ALERTS_EVIDENCE_ANALYST_DIV, "children"),
        Output(ids.ALERTS_CURRENT_STORE, "data"),
        *filters,
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.ALERTS_FEED_PAGE_STORE, "data"),
        *refresh,
        expect=feed_types,
    )(alerts_feed)
    secured_clientside_callback(
        app,
        PAGE_JS,
        Output(ids.ALERTS_FEED_PAGE_STORE, "data"),
        Input(ids.ALERTS_PREV_BUTTON, "n_clicks"),
        Input(ids.ALERTS_NEXT_BUTTON, "n_clicks"),
        *filters,
        State(ids.ALERTS_FEED_PAGE_STORE, "data"),
        prevent_initial_call=True,
    )
    secured_clientside_callback(
        app,
        SELECT_ALERT_JS,
        Output(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.alerts_select_button(ALL), "n_clicks"),
        prevent_initial_call=True,
    )
    secured_callback(
        app,
        Capability.MANAGE_ALERTS,
        Output(ids.ALERTS_ACTIONS_CONTEXT_DIV, "children"),
        Output(ids.ALERTS_ACK_BUTTON, "disabled"),
        Output(ids.ALERTS_REOPEN_BUTTON, "disabled"),
        Output(ids.ALERTS_LINK_BUTTON, "disabled"),
        Output(ids.ALERTS_DISMISS_BUTTON, "disabled"),
        Output(ids.ALERTS_LINK_SELECT, "options"),
        Output(ids.ALERTS_LINK_SELECT, "value"),
        Output(ids.ALERTS_REASON_TEXTAREA, "value"),
        *filters,
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.ALERTS_FEED_PAGE_STORE, "data"),
        *refresh,
        expect=feed_types,
    )(action_form_state)
    secured_callback(
        app,
        Capability.MANAGE_ALERTS,
        Output(ids.ALERTS_ACTION_FEEDBACK_DIV, "children"),
        Output(ids.ALERTS_CHANGED_STORE, "data"),
        Input(ids.ALERTS_ACK_BUTTON, "n_clicks"),
        Input(ids.ALERTS_LINK_BUTTON, "n_clicks"),
        Input(ids.ALERTS_DISMISS_BUTTON, "n_clicks"),
        Input(ids.ALERTS_REOPEN_BUTTON, "n_clicks"),
        State(ids.ALERTS_CURRENT_STORE, "data"),
        State(ids.ALERTS_LINK_SELECT, "value"),
        State(ids.ALERTS_REASON_TEXTAREA, "value"),
        State(ids.ALERTS_CHANGED_STORE, "data"),
        prevent_initial_call=True,
    )(alert_action)
    secured_callback(
        app,
        Capability.EDIT_PROBLEMS,
        Output(ids.ALERTS_NEW_TITLE_INPUT, "value"),
        Output(ids.ALERTS_NEW_AREA_SELECT, "options"),
        Output(ids.ALERTS_NEW_AREA_SELECT, "value"),
        *filters,
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.ALERTS_FEED_PAGE_STORE, "data"),
        *refresh,
        expect=feed_types,
    )(new_problem_defaults)
    secured_callback(
        app,
        Capability.EDIT_PROBLEMS,
        Output(ids.ALERTS_NEW_FEEDBACK_DIV, "children"),
        Output(ids.ALERTS_CREATED_STORE, "data"),
        Input(ids.ALERTS_NEW_BUTTON, "n_clicks"),
        State(ids.ALERTS_CURRENT_STORE, "data"),
        State(ids.ALERTS_NEW_TITLE_INPUT, "value"),
        State(ids.ALERTS_NEW_AREA_SELECT, "value"),
        State(ids.ALERTS_CREATED_STORE, "data"),
        prevent_initial_call=True,
    )(open_problem)
    secured_clientside_callback(
        app,
        SYNC_QUERY_JS,
        Output(ids.ALERTS_QUERY_STORE, "data"),
        *filters,
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.ALERTS_FEED_PAGE_STORE, "data"),
        prevent_initial_call=True,
    )
