"""Early-warnings callbacks: filter choices, the feed, the chosen alert's evidence, the actions,
opening a problem from an alert, and the address bar. Every filter is checked against the
database first; actions need ``MANAGE_ALERTS`` (and a new problem ``EDIT_PROBLEMS`` too), which
the guard checks before the callback runs and ``db.alert_writes`` checks again."""

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
from db import alert_writes, queries_alerts, queries_priorities
from db import attention as attention_service
from db.queries_alerts import AlertFilters
from layouts import alerts, ids
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
    ]
)


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
        ("department", department, _with_archived(queries_alerts.departments), "code", 16),
        ("district", district, queries_alerts.districts, "code", 16),
        ("category", category, queries_alerts.categories, "code", 64),
        ("problem", problem, _with_archived(queries_alerts.problems), "id", 12),
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
        departments = queries_alerts.departments(session)
        districts = queries_alerts.districts(session)
        categories = queries_alerts.categories(session)
        problems = queries_alerts.problems(session)
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


def alerts_feed(
    severity: Any,
    department: Any,
    district: Any,
    category: Any,
    problem: Any,
    state: Any,
    selected: Any,
    _changed: Any,
    _created: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any, list[int]]:
    """Headline cards, the feed (the shown alert highlighted) and the ids it lists."""
    with current_database().session() as session:
        chosen = resolve_filters(session, severity, department, district, category, problem, state)
        feed, total = queries_alerts.alert_feed(session, chosen.filters)
        concerned = queries_alerts.problems_concerned(session, chosen.filters)
    shown = [int(i) for i in feed["id"]]
    current = alerts.effective_alert(selected, shown)
    return (
        alerts.summary(
            feed, total, state=chosen.state, notes=chosen.notes, on_problems=len(concerned)
        ),
        alerts.feed_table(feed, total, current),
        shown,
    )


# A row's "Evidence" button chooses that alert (kept in the address as ``alert=``). It runs in
# the browser: the feed's buttons arriving (all at 0 clicks) fire it on every load, and a server
# round trip there held the evidence panel back by one more request. The server never trusts the
# id it sets: ``alerts_detail`` shows only an alert of the feed.
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
) -> tuple[Any, int | None]:
    """The shown alert's message, facts and evidence chart; its id for the action form."""
    current = alerts.effective_alert(selected, shown)
    if current is None:
        return alerts.evidence_panel(None), None
    with current_database().session() as session:
        evidence = queries_alerts.alert_evidence(session, current, local_today())
    return alerts.evidence_panel(evidence), current if evidence is not None else None


def action_form_state(
    current: Any, _changed: Any, _created: Any, *, principal: Principal
) -> tuple[Any, ...]:
    """What the action form allows for the shown alert's state; the problems to link to
    (not archived ones, see :func:`link_options`).

    Outputs: context, acknowledge/reopen/link/dismiss disabled, link options and value, reason.
    """
    alert_id = alerts.parse_id(current)
    with current_database().session() as session:
        alert = queries_alerts.alert_row(session, alert_id) if alert_id else None
        problems = queries_alerts.problems(session)
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
            state = alert_writes.act_on_alert(
                session, principal, current, action, reason=reason, problem_id=problem
            )
            alert = queries_alerts.alert_row(session, int(current))
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


def new_problem_defaults(current: Any, *, principal: Principal) -> tuple[str, list, Any]:
    """A starting title from the shown alert, and the policy areas to choose from."""
    alert_id = alerts.parse_id(current)
    with current_database().session() as session:
        alert = queries_alerts.alert_row(session, alert_id) if alert_id else None
        areas = queries_alerts.policy_areas(session)
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
            subject = queries_priorities.decision_subject(session, problem_id, week)
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
        Output(ids.ALERTS_SUMMARY_DIV, "children"),
        Output(ids.ALERTS_FEED_DIV, "children"),
        Output(ids.ALERTS_SHOWN_STORE, "data"),
        *filters,
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        *refresh,
    )(alerts_feed)
    secured_clientside_callback(
        app,
        SELECT_ALERT_JS,
        Output(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.alerts_select_button(ALL), "n_clicks"),
        prevent_initial_call=True,
    )
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.ALERTS_DETAIL_DIV, "children"),
        Output(ids.ALERTS_CURRENT_STORE, "data"),
        Input(ids.ALERTS_SELECTED_STORE, "data"),
        Input(ids.ALERTS_SHOWN_STORE, "data"),
        *refresh,
        expect={(ids.ALERTS_SHOWN_STORE, "data"): list[int] | None},  # the feed's alert ids
    )(alerts_detail)
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
        Input(ids.ALERTS_CURRENT_STORE, "data"),
        *refresh,
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
        Input(ids.ALERTS_CURRENT_STORE, "data"),
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
        prevent_initial_call=True,
    )
