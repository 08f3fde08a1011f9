"""Weekly priorities callbacks: the week choice, the attention list and opening a problem from
a surge on it, the page body, the chart click, the decision dialog and the two downloads.

Pages read stored snapshots; the current week is ranked and stored once (through
``db.ranking.rank_week``) the first time anybody opens it. Recording a decision needs
``Capability.DECIDE``: the guard refuses the dialog's callback to every other role, and
``db.problems.record_decision`` checks again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from callbacks import button_sets
from callbacks.policy import (
    current_database,
    current_settings,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from db import attention as attention_service
from db import brief as brief_service
from db.cache import cached
from db.pages.priorities import ranking_export, week_changes, week_priorities
from db.problems import decision_subject, problem_title, record_decision
from db.ranking import rank_week
from db.scores import has_snapshot, latest_snapshot_week, load_snapshot, snapshot_weeks
from db.session import Database
from layouts import ids, priorities
from layouts.components import empty_state
from triage.brief import weekly_brief_pdf
from triage.export import safe_csv
from triage.page_data import WeekPriorities
from triage.scoring import iso_week, previous_week
from triage.security import Capability, Principal, role_allows
from triage.validation import ValidationError
from triage.vocabulary import DECISIONS

log = logging.getLogger(__name__)

# Keeps the address bar in step with the week and the view without reloading the page (and
# without a history entry); the current week is the first option and stays out of the address.
SYNC_QUERY_JS = """
function(week, show, options) {
    const params = new URLSearchParams();
    const current = options && options.length ? options[0].value : null;
    if (week && week !== current) { params.set("week", week); }
    if (show === "all") { params.set("show", "all"); }
    const query = params.toString();
    const url = window.location.pathname + (query ? "?" + query : "");
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return query;
}
"""


# ---------------------------------------------------------------- the week


def ensure_week_stored(database: Database, today: dt.date) -> str:
    """Store this week's ranking once (and, on a database with no stored week at all, last
    week's too, so movement has a baseline); returns the current ISO week.

    Two requests racing to store the same week are harmless: the loser's insert fails on the
    unique (week, problem) key and the winner's rows are read instead.
    """
    week = iso_week(today)
    with database.session() as session:
        if has_snapshot(session, week):
            return week
        baseline = latest_snapshot_week(session, before=week) is None
    try:
        if baseline:
            rank_week(database, previous_week(week), today)
        rank_week(database, week, today)
    except (IntegrityError, OperationalError):
        log.info("another request stored %s first", week)
    return week


def week_choice(page: Any, *, principal: Principal) -> tuple[list, str, Any]:
    """Options and value of the week select (the week in the address when stored, otherwise
    the current week) and a notice when the address asked for a week that is not stored."""
    database = current_database()
    current = ensure_week_stored(database, local_today())
    requested = priorities.parse_week((page or {}).get("week") if isinstance(page, dict) else None)
    with database.session() as session:
        weeks = snapshot_weeks(session)
    options = priorities.week_options(weeks, current)
    values = {o["value"] for o in options}
    if requested and requested not in values:
        return options, current, priorities.week_fallback_notice(requested, current)
    return options, requested or current, None


# ---------------------------------------------------------------- shared per data version


def _copied(data: WeekPriorities) -> WeekPriorities:
    """A copy whose frames the caller may change without touching the cached value."""
    return dataclasses.replace(
        data,
        ranking=data.ranking.copy(),
        alerts=data.alerts.copy(),
        overdue=data.overdue.copy(),
        owners=data.owners.copy(),
    )


def week_data(session: Session, week: str, today: dt.date) -> WeekPriorities:
    """``week_priorities``, computed once per data version and shared by
    the page body and both downloads (and by every user and request until the next write)."""
    data = cached(
        session,
        "priorities.week",
        (week, today),
        lambda: week_priorities(session, week, today=today),
    )
    return _copied(data)


# ---------------------------------------------------------------- the page body


def _known_week(week: Any) -> str:
    parsed = priorities.parse_week(week)
    if parsed is None:
        raise PreventUpdate
    return parsed


def priorities_view(
    week: Any, show: Any, _saved: Any, _opened: Any = None, *, principal: Principal
) -> tuple[Any, Any, Any, Any, Any]:
    """Summary cards, the short list, the quadrant chart and its text, and what changed
    (built once per data version, week, view and whether the viewer may decide)."""
    chosen = _known_week(week)
    view = priorities.parse_show(show)
    today = local_today()
    can_decide = role_allows(principal.role, Capability.DECIDE)
    with current_database().session() as session:
        return cached(
            session,
            "priorities.view",
            (chosen, view, can_decide, today),
            lambda: view_content(
                week_data(session, chosen, today), chosen, view, can_decide, today
            ),
        )


def view_content(
    data: WeekPriorities,
    chosen: str,
    view: Any,
    can_decide: bool,
    today: dt.date,
) -> tuple[Any, Any, Any, Any, Any]:
    """The five parts of the page body for one week's data."""
    changes = week_changes(data)
    if data.ranking.empty:
        nothing = (
            empty_state(
                "No problems to rank yet.",
                "The ranking appears once the office records problems and their indicators.",
            )
            if chosen == iso_week(today)
            else empty_state(f"No ranking is stored for {chosen}.", "Choose another week.")
        )
        return (
            nothing,
            priorities.priorities_table(
                data.ranking,
                week=chosen,
                show=view,
                compared=False,
                can_decide=False,
                decidable=False,
            ),
            priorities.quadrant_figure(data.ranking, chosen),
            priorities.quadrant_text(data.ranking, chosen),
            priorities.changes_panel(changes, compared=False, previous_week=None),
        )
    return (
        priorities.summary_cards(data, changes),
        priorities.priorities_table(
            data.ranking,
            week=chosen,
            show=view,
            compared=data.compared,
            can_decide=can_decide,
            decidable=chosen == iso_week(today),
        ),
        priorities.quadrant_figure(data.ranking, chosen),
        priorities.quadrant_text(data.ranking, chosen),
        priorities.changes_panel(changes, compared=data.compared, previous_week=data.previous_week),
    )


# ---------------------------------------------------------------- the attention list


def attention_view(week: Any, _opened: Any, _saved: Any, *, principal: Principal) -> Any:
    """The attention list of the chosen week; the actions offered depend on the viewer's role
    (decided here, on the server; each action's callback checks the role again)."""
    chosen = _known_week(week)
    today = local_today()
    can_open = all(
        role_allows(principal.role, c) for c in (Capability.EDIT_PROBLEMS, Capability.MANAGE_ALERTS)
    )
    can_map = role_allows(principal.role, Capability.CONFIGURE)
    with current_database().session() as session:
        attention = cached(
            session,
            "priorities.attention",
            (chosen, today, can_open, can_map),
            lambda: attention_service.week_attention(
                session,
                chosen,
                today=today,
                viewer=principal,
                week_data=week_data(session, chosen, today),
            ),
        )
    return priorities.attention_panel(attention)


SHOW_INPUT = f"{ids.PRIORITIES_SHOW_SELECT}.value"
PAGE_INPUT = f"{ids.PRIORITIES_PAGE_STORE}.data"


def priorities_page(
    page: Any,
    week: Any,
    show: Any,
    saved: Any,
    opened: Any,
    *,
    principal: Principal,
    triggered: set[str] | None = None,
) -> tuple[Any, ...]:
    """The week select, the ranking's five parts and the attention list in one answer: on
    load one round trip and one re-render where a chain of three callbacks (the week's
    choice, then the body and the list) took two round trips and three. The week select is
    both input and output: on load (and when the address changes, ``page``) the week comes
    from ``week_choice``; after that from the select. When only the view (``show``) changed
    (``triggered``: the changed inputs as ``"id.property"``, from the callback context when
    not given), the attention list stays as it is.

    Outputs: week options, week, week notice, the five parts of ``priorities_view``, the
    attention list."""
    if triggered is None:
        fired = {t["prop_id"] for t in ctx.triggered if t.get("prop_id")}
        triggered = fired - {"."}
    if not triggered or PAGE_INPUT in triggered:
        choice: tuple[Any, ...] = week_choice(page, principal=principal)
        week = choice[1]
    else:
        choice = (no_update,) * 3
    view = priorities_view(week, show, saved, opened, principal=principal)
    if triggered and triggered <= {SHOW_INPUT}:
        return (*choice, *view, no_update)
    return (*choice, *view, attention_view(week, opened, saved, principal=principal))


def _clicked_alert(triggered_id: Any, triggered_value: Any) -> int | None:
    if not isinstance(triggered_id, dict) or not triggered_value:
        return None
    if triggered_id.get("type") != ids.PRIORITIES_OPEN_PROBLEM_BUTTON_TYPE:
        return None
    try:
        return int(triggered_id.get("index"))
    except (TypeError, ValueError):
        return None


def open_problem_from_list(
    _clicks: Any,
    opened: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[Any, Any]:
    """Open a problem from an uncovered surge on the list: the problem is created and linked
    (``db.attention.open_problem_from_surge``), scored at once and ranked in this week.
    Outputs: the feedback, the opened counter (the list and the ranking refresh on it)."""
    if triggered_id is None and ctx.triggered:
        triggered_id = ctx.triggered_id
        triggered_value = ctx.triggered[0].get("value")
    if triggered_id == ids.PRIORITIES_OPEN_CLICK_STORE:
        # A button of the list, relayed by the browser (see callbacks.button_sets).
        triggered_id, triggered_value = button_sets.clicked(triggered_value)
    alert_id = _clicked_alert(triggered_id, triggered_value)
    if alert_id is None:
        raise PreventUpdate
    today = local_today()
    week = iso_week(today)
    with current_database().session(write=True) as session:
        try:
            title = attention_service.surge_problem_title(session, alert_id)
            problem_id = attention_service.open_problem_from_surge(
                session,
                principal,
                alert_id,
                title=title,
                policy_area=attention_service.default_policy_area(session, alert_id),
                today=today,
            )
        except ValidationError as error:
            return priorities.problem_not_opened([str(error)]), no_update
        subject = decision_subject(session, problem_id, week)
    rank = subject.rank if subject is not None else None
    return priorities.problem_opened(title, problem_id, rank, week), int(opened or 0) + 1


def open_clicked_problem(click: Any, *, principal: Principal) -> str:
    """A click on a bubble opens that problem (its id is the point's first customdata)."""
    try:
        problem_id = int(click["points"][0]["customdata"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        raise PreventUpdate from None
    if problem_id <= 0:
        raise PreventUpdate
    return f"/problems/{problem_id}"


# ---------------------------------------------------------------- the decision dialog


def _clicked_problem(triggered_id: Any, triggered_value: Any) -> int | None:
    if not isinstance(triggered_id, dict) or not triggered_value:
        return None
    if triggered_id.get("type") != ids.PRIORITIES_DECIDE_BUTTON_TYPE:
        return None
    try:
        return int(triggered_id.get("index"))
    except (TypeError, ValueError):
        return None


def open_decision(problem_id: int, week: str) -> tuple[Any, ...]:
    """Open the dialog on a problem, preset with the decision in force this week (if any)."""
    with current_database().session() as session:
        subject = decision_subject(session, problem_id, week)
    if subject is None:
        raise PreventUpdate
    return (
        True,
        priorities.decision_title(subject.title),
        priorities.decision_context(subject, week),
        problem_id,
        subject.decision,
        subject.decision_note or "",
        None,
        no_update,
        no_update,
    )


def save_decision(
    problem_id: Any, week: Any, decision: Any, note: Any, saved: Any, principal: Principal
) -> tuple[Any, ...]:
    """Record the decision for the current week; the dialog closes and the list refreshes."""
    problems = []
    current = iso_week(local_today())
    chosen = priorities.parse_week(week)
    if chosen != current:
        problems.append(f"Decisions are recorded for the current week ({current}) only.")
    if decision not in DECISIONS:
        problems.append("Choose one of the five decisions.")
    note_text = str(note or "")
    if len(note_text.strip()) > priorities.NOTE_LIMIT:
        problems.append(f"Shorten the note to {priorities.NOTE_LIMIT:,} characters.")
    try:
        problem_key = int(problem_id)
    except (TypeError, ValueError):
        problems.append("Open the dialog from a problem's button.")
        problem_key = 0
    if problems:
        return (no_update,) * 6 + (priorities.decision_rejected(problems), no_update, no_update)
    with current_database().session(write=True) as session:
        try:
            record_decision(session, principal, problem_key, current, decision, note_text)
        except ValidationError as error:
            return (no_update,) * 6 + (
                priorities.decision_rejected([str(error)]),
                no_update,
                no_update,
            )
        title = problem_title(session, problem_key)
    return (
        False,
        no_update,
        no_update,
        None,
        None,
        "",
        None,
        int(saved or 0) + 1,
        priorities.decision_saved(title, decision, current),
    )


def decision_dialog(
    _decide: Any,
    _cancel: Any,
    _save: Any,
    problem_id: Any,
    week: Any,
    decision: Any,
    note: Any,
    saved: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[Any, ...]:
    """Open (a problem's button), cancel, or save the decision dialog.

    Outputs: open?, title, context, problem id, decision, note, feedback, saved counter,
    page status message.
    """
    if triggered_id is None and ctx.triggered:
        triggered_id = ctx.triggered_id
        triggered_value = ctx.triggered[0].get("value")
    if triggered_id == ids.PRIORITIES_DECIDE_CLICK_STORE:
        # A decide button, relayed by the browser (see callbacks.button_sets).
        triggered_id, triggered_value = button_sets.clicked(triggered_value)
    if not triggered_value:
        raise PreventUpdate
    if triggered_id == ids.PRIORITIES_DECISION_CANCEL_BUTTON:
        return (False, no_update, no_update, None, None, "", None, no_update, no_update)
    if triggered_id == ids.PRIORITIES_DECISION_SAVE_BUTTON:
        return save_decision(problem_id, week, decision, note, saved, principal)
    clicked = _clicked_problem(triggered_id, triggered_value)
    if clicked is None:
        raise PreventUpdate
    return open_decision(clicked, _known_week(week))


# ---------------------------------------------------------------- downloads


def ranking_csv(n_clicks: Any, week: Any, *, principal: Principal) -> dict[str, Any]:
    """The week's ranking as formula-safe CSV (every component, movement and decision)."""
    if not n_clicks:
        raise PreventUpdate
    chosen = _known_week(week)
    today = local_today()

    def export() -> str:
        data = week_data(session, chosen, today)
        return safe_csv(ranking_export(data, load_snapshot(session, chosen)))

    with current_database().session() as session:
        text = cached(session, "priorities.csv", (chosen, today), export)
    return dcc.send_string(text, f"priorities-{chosen}.csv", type="text/csv")


def weekly_brief(n_clicks: Any, week: Any, *, principal: Principal) -> dict[str, Any]:
    """The weekly brief of the chosen week as a PDF."""
    if not n_clicks:
        raise PreventUpdate
    chosen = _known_week(week)
    settings = current_settings()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    today = local_today()
    with current_database().session() as session:
        # Everything but the time of printing is the same until the next write.
        data = cached(
            session,
            "priorities.brief",
            (chosen, today, settings.city_name),
            lambda: brief_service.brief_data(
                session,
                chosen,
                today=today,
                city_name=settings.city_name,
                generated_at=now,
                week_data=week_data(session, chosen, today),
            ),
        )
    pdf = weekly_brief_pdf(dataclasses.replace(data, generated_at=now), font_dir=None)
    return dcc.send_bytes(pdf, f"weekly-brief-{chosen}.pdf", type="application/pdf")


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PRIORITIES_WEEK_SELECT, "options"),
        Output(ids.PRIORITIES_WEEK_SELECT, "value"),
        Output(ids.PRIORITIES_WEEK_NOTICE_DIV, "children"),
        Output(ids.PRIORITIES_SUMMARY_DIV, "children"),
        Output(ids.PRIORITIES_LIST_DIV, "children"),
        Output(ids.PRIORITIES_QUADRANT_GRAPH, "figure"),
        Output(ids.PRIORITIES_QUADRANT_TEXT_DIV, "children"),
        Output(ids.PRIORITIES_CHANGES_DIV, "children"),
        Output(ids.PRIORITIES_ATTENTION_DIV, "children"),
        Input(ids.PRIORITIES_PAGE_STORE, "data"),
        Input(ids.PRIORITIES_WEEK_SELECT, "value"),
        Input(ids.PRIORITIES_SHOW_SELECT, "value"),
        Input(ids.PRIORITIES_SAVED_STORE, "data"),
        Input(ids.PRIORITIES_OPENED_STORE, "data"),
    )(priorities_page)
    secured_callback(
        app,
        Capability.EDIT_PROBLEMS,
        Output(ids.PRIORITIES_ATTENTION_FEEDBACK_DIV, "children"),
        Output(ids.PRIORITIES_OPENED_STORE, "data"),
        Input(ids.PRIORITIES_OPEN_CLICK_STORE, "data"),
        State(ids.PRIORITIES_OPENED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.PRIORITIES_OPEN_CLICK_STORE, "data"): dict | None},
    )(open_problem_from_list)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PRIORITIES_LOCATION, "href"),
        Input(ids.PRIORITIES_QUADRANT_GRAPH, "clickData"),
        prevent_initial_call=True,
    )(open_clicked_problem)
    secured_callback(
        app,
        Capability.DECIDE,
        Output(ids.PRIORITIES_DECISION_MODAL, "is_open"),
        Output(ids.PRIORITIES_DECISION_TITLE, "children"),
        Output(ids.PRIORITIES_DECISION_CONTEXT_DIV, "children"),
        Output(ids.PRIORITIES_DECISION_PROBLEM_STORE, "data"),
        Output(ids.PRIORITIES_DECISION_RADIO, "value"),
        Output(ids.PRIORITIES_DECISION_NOTE_TEXTAREA, "value"),
        Output(ids.PRIORITIES_DECISION_FEEDBACK_DIV, "children"),
        Output(ids.PRIORITIES_SAVED_STORE, "data"),
        Output(ids.PRIORITIES_DECISION_STATUS_DIV, "children"),
        Input(ids.PRIORITIES_DECIDE_CLICK_STORE, "data"),
        Input(ids.PRIORITIES_DECISION_CANCEL_BUTTON, "n_clicks"),
        Input(ids.PRIORITIES_DECISION_SAVE_BUTTON, "n_clicks"),
        State(ids.PRIORITIES_DECISION_PROBLEM_STORE, "data"),
        State(ids.PRIORITIES_WEEK_SELECT, "value"),
        State(ids.PRIORITIES_DECISION_RADIO, "value"),
        State(ids.PRIORITIES_DECISION_NOTE_TEXTAREA, "value"),
        State(ids.PRIORITIES_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.PRIORITIES_DECIDE_CLICK_STORE, "data"): dict | None},
    )(decision_dialog)
    button_sets.relay_clicks(
        app, ids.priorities_decide_button(ALL), ids.PRIORITIES_DECIDE_CLICK_STORE
    )
    button_sets.relay_clicks(
        app, ids.priorities_open_problem_button(ALL), ids.PRIORITIES_OPEN_CLICK_STORE
    )
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PRIORITIES_CSV_DOWNLOAD, "data"),
        Input(ids.PRIORITIES_CSV_BUTTON, "n_clicks"),
        State(ids.PRIORITIES_WEEK_SELECT, "value"),
        prevent_initial_call=True,
    )(ranking_csv)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PRIORITIES_BRIEF_DOWNLOAD, "data"),
        Input(ids.PRIORITIES_BRIEF_BUTTON, "n_clicks"),
        State(ids.PRIORITIES_WEEK_SELECT, "value"),
        prevent_initial_call=True,
    )(weekly_brief)
    secured_clientside_callback(
        app,
        SYNC_QUERY_JS,
        Output(ids.PRIORITIES_QUERY_STORE, "data"),
        Input(ids.PRIORITIES_WEEK_SELECT, "value"),
        Input(ids.PRIORITIES_SHOW_SELECT, "value"),
        State(ids.PRIORITIES_WEEK_SELECT, "options"),
        prevent_initial_call=True,
    )
