"""My department callbacks: which department, its indicators, and recording a new value.

Scope is enforced here on the server: a department head always gets her own department, and a
write to another department's indicator raises PermissionDenied (403, nothing written).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from callbacks.policy import current_database, local_today, secured_callback
from db import queries, writes
from layouts import department, ids
from layouts.components import empty_state, format_number
from triage.security import Capability, Principal, Role, require_department
from triage.validation import INDICATOR_STATUSES, ValidationError, parse_period, parse_value


def _as_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def scoped_department_id(principal: Principal, requested: Any) -> int | None:
    """The department this principal may work on: a head's own, otherwise the one requested."""
    if principal.role == Role.DEPARTMENT_HEAD:
        return principal.department_id
    return _as_id(requested)


def department_choices(_page: Any, *, principal: Principal) -> tuple[list, str | None, bool]:
    """Options, value and disabled flag of the department select."""
    with current_database().session() as session:
        frame = queries.departments(session)
    if principal.role == Role.DEPARTMENT_HEAD:
        frame = frame[frame["id"] == principal.department_id]
        value = str(principal.department_id) if principal.department_id else None
        return department.department_options(frame), value, True
    options = department.department_options(frame)
    return options, (options[0]["value"] if options else None), False


def department_view(requested: Any, _saved: Any, *, principal: Principal) -> tuple[Any, list, Any]:
    """The indicator table, the form's indicator options and the recent entries."""
    department_id = scoped_department_id(principal, requested)
    if department_id is None:
        empty = empty_state("Choose a department to see its indicators.")
        return empty, [], empty_state("Nothing to show yet.")
    with current_database().session() as session:
        names = queries.departments(session)
        match = names[names["id"] == department_id]
        if match.empty:
            missing = empty_state("There is no such department.")
            return missing, [], empty_state("Nothing to show yet.")
        frame = queries.department_indicators(session, department_id, today=local_today())
        recent = queries.recent_observations(session, department_id)
    name = str(match.iloc[0]["name"])
    return (
        department.indicator_table(frame, name),
        department.indicator_options(frame),
        department.recent_list(recent),
    )


def form_problems(indicator: Any, period: Any, value: Any, status: Any) -> list[str]:
    """Every reason the form cannot be saved as filled in (empty when it looks right)."""
    problems = []
    if _as_id(indicator) is None:
        problems.append("Choose the indicator this value is for.")
    for parse in (lambda: parse_period(period), lambda: parse_value(value)):
        try:
            parse()
        except ValidationError as error:
            problems.append(str(error))
    if status not in (None, "", department.NO_STATUS, *INDICATOR_STATUSES):
        problems.append("Status must be on track, at risk or off track.")
    return problems


def record_value(
    n_clicks: Any,
    indicator: Any,
    period: Any,
    value: Any,
    status: Any,
    note: Any,
    saved: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any, Any, Any]:
    """Validate and record one observation; returns feedback, saved counter, value and note."""
    if not n_clicks:
        raise PreventUpdate
    problems = form_problems(indicator, period, value, status)
    if problems:
        return department.rejected_message(problems), no_update, no_update, no_update
    indicator_id = _as_id(indicator)
    assert indicator_id is not None
    with current_database().session(write=True) as session:
        owner = queries.indicator_department_id(session, indicator_id)
        if owner is None:
            return (
                department.rejected_message(["That indicator does not exist any more."]),
                no_update,
                no_update,
                no_update,
            )
        require_department(principal, owner)
        try:
            writes.record_observation(
                session,
                principal,
                indicator_id,
                period,
                value,
                status=status if status in INDICATOR_STATUSES else None,
                note=str(note or ""),
                today=local_today(),
            )
        except ValidationError as error:
            return department.rejected_message([str(error)]), no_update, no_update, no_update
        row = queries.indicator_status(
            session, today=local_today(), indicator_ids=[indicator_id]
        ).iloc[0]
    message = department.saved_message(
        f"{row['code']} {row['name']}",
        format_number(parse_value(value), str(row["unit"] or "")),
        parse_period(period).isoformat(),
    )
    return message, int(saved or 0) + 1, "", ""


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_SELECT, "options"),
        Output(ids.DEPARTMENT_SELECT, "value"),
        Output(ids.DEPARTMENT_SELECT, "disabled"),
        Input(ids.DEPARTMENT_PAGE_STORE, "data"),
    )(department_choices)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_INDICATORS_DIV, "children"),
        Output(ids.DEPARTMENT_INDICATOR_SELECT, "options"),
        Output(ids.DEPARTMENT_RECENT_DIV, "children"),
        Input(ids.DEPARTMENT_SELECT, "value"),
        Input(ids.DEPARTMENT_SAVED_STORE, "data"),
    )(department_view)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_FEEDBACK_DIV, "children"),
        Output(ids.DEPARTMENT_SAVED_STORE, "data"),
        Output(ids.DEPARTMENT_VALUE_INPUT, "value"),
        Output(ids.DEPARTMENT_NOTE_TEXTAREA, "value"),
        Input(ids.DEPARTMENT_SAVE_BUTTON, "n_clicks"),
        State(ids.DEPARTMENT_INDICATOR_SELECT, "value"),
        State(ids.DEPARTMENT_PERIOD_INPUT, "value"),
        State(ids.DEPARTMENT_VALUE_INPUT, "value"),
        State(ids.DEPARTMENT_STATUS_SELECT, "value"),
        State(ids.DEPARTMENT_NOTE_TEXTAREA, "value"),
        State(ids.DEPARTMENT_SAVED_STORE, "data"),
        prevent_initial_call=True,
    )(record_value)
