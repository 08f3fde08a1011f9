"""The chief of staff's editors on the problem page: load each form, save or remove with the
version the page loaded (``db.problems.update_problem`` and ``db.backward_map``).

Every callback needs EDIT_PROBLEMS and fires only on an editor's action: the forms load when
the header callback signals an editor (``PROBLEM_EDITOR_STORE``), never for anyone else.
A conflict or a rejected input is reported in the form; nothing is written then (the write
runs inside ``session(write=True)`` and the exception ends the block, so it rolls back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash
from dash import Input, Output, State, callback_context, no_update
from dash.exceptions import PreventUpdate

from callbacks.policy import current_database, local_today, secured_callback
from db.backward_map import (
    actor_choices,
    add_engagement,
    add_factor,
    add_innovation,
    clean_problem_changes,
    engagement_details,
    innovation_details,
    map_frames,
    remove_engagement,
    remove_factor,
    remove_innovation,
    update_engagement,
    update_factor,
    update_innovation,
)
from db.problems import EditConflict, problem_indicator_choices, problem_record, update_problem
from layouts import ids, problem_edit
from layouts.problem import parse_problem_id
from layouts.problem_edit import NEW, NONE, WHOLE_PROBLEM
from triage.security import Capability, Principal
from triage.validation import ValidationError

FormResult = tuple[Any, Any]  # (feedback, saved counter)


def _as_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _version(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def reload_href(problem_id: int, tab: str) -> str:
    return f"/problems/{problem_id}?tab={tab}"


def _fields(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(names, values, strict=True))


def _optional(value: Any, *none_values: str) -> Any:
    """A select's value, None for its "none" choices."""
    return None if value in (None, "", NONE, *none_values) else value


def _write(
    problem_id: Any,
    version: Any,
    saved: Any,
    tab: str,
    write: Callable[[Any, int, int], str],
) -> FormResult:
    """Run ``write(session, problem_id, version)`` in one transaction; report the outcome.

    ``write`` returns the sentence to show on success. ``ValidationError`` and
    ``EditConflict`` leave the ``with`` block, so the transaction is rolled back.
    """
    parsed = parse_problem_id(problem_id)
    loaded = _version(version)
    if parsed is None:
        raise PreventUpdate
    if loaded is None:
        return (
            problem_edit.rejected_message(["The page has not finished loading; try again."]),
            no_update,
        )
    try:
        with current_database().session(write=True) as session:
            message = write(session, parsed, loaded)
    except EditConflict as error:
        return problem_edit.conflict_message(str(error), reload_href(parsed, tab)), no_update
    except ValidationError as error:
        return problem_edit.rejected_message([str(error)]), no_update
    count = saved if isinstance(saved, int) and not isinstance(saved, bool) else 0
    return problem_edit.saved_message(message), count + 1


def _triggered() -> str | None:
    triggered = callback_context.triggered_id
    return triggered if isinstance(triggered, str) else None


# ---------------------------------------------------------------- the problem


def problem_form(_signal: Any, problem_id: Any, *, principal: Principal) -> tuple[Any, ...]:
    """The problem's saved values into the form (on page load and after every save)."""
    parsed = parse_problem_id(problem_id)
    if parsed is None:
        raise PreventUpdate
    with current_database().session() as session:
        record = problem_record(session, parsed)
    if record is None:
        raise PreventUpdate
    values = {
        "title": record.title,
        "status": record.status,
        "description": record.description,
        "desired_outcome": record.desired_outcome,
        "authority": str(record.authority),
        "authority_notes": record.authority_notes,
        "political_capital": str(record.political_capital),
        "political_notes": record.political_notes,
    }
    return tuple(values[name] for name in problem_edit.PROBLEM_FIELDS)


def save_problem(n_clicks: Any, *state: Any, principal: Principal) -> FormResult:
    """Save the problem's fields that changed, if nobody saved since the page loaded."""
    if not n_clicks:
        raise PreventUpdate
    *values, version, problem_id, saved = state
    fields = _fields(problem_edit.PROBLEM_FIELDS, tuple(values))

    def write(session: Any, pid: int, loaded: int) -> str:
        clean = clean_problem_changes(fields)
        record = problem_record(session, pid)
        if record is None:
            raise ValidationError("This problem no longer exists.")
        changes = {k: v for k, v in clean.items() if getattr(record, k) != v}
        if record.version != loaded:
            raise EditConflict("problem", pid, loaded, record.version)
        if not changes:
            return "Nothing to save: the form matches the saved problem."
        update_problem(session, principal, pid, loaded, changes)
        named = ", ".join(k.replace("_", " ") for k in changes)
        return f"Saved the problem ({named})."

    return _write(problem_id, version, saved, "overview", write)


# ---------------------------------------------------------------- causal factors


def factor_form(
    _signal: Any, choice: Any, problem_id: Any, *, principal: Principal
) -> tuple[Any, ...]:
    """The factor select's options and the chosen factor's values (blank for a new one)."""
    parsed = parse_problem_id(problem_id)
    if parsed is None:
        raise PreventUpdate
    with current_database().session() as session:
        frames = map_frames(session, parsed)
        indicators = problem_indicator_choices(session, parsed)
    factors = frames.factors
    chosen = _as_id(choice)
    rows = factors[factors["id"] == chosen] if chosen is not None else factors.iloc[0:0]
    if rows.empty:
        chosen = None
        values: dict[str, Any] = {
            "title": "",
            "description": "",
            "reach": None,
            "evidence": "moderate",
            "weight": 0.5,
            "parent_ids": [],
            "indicator_id": NONE,
        }
    else:
        row = rows.iloc[0]
        links = frames.links
        values = {
            "title": row["title"],
            "description": row["description"] or "",
            "reach": row["reach"],
            "evidence": row["evidence"],
            "weight": float(row["weight"]),
            "parent_ids": [str(int(p)) for p in links[links["factor_id"] == chosen]["parent_id"]],
            "indicator_id": problem_edit.id_value(row["indicator_id"]),
        }
    return (
        problem_edit.record_options(factors, "Add a new causal factor", problem_edit.factor_label),
        str(chosen) if chosen is not None else NEW,
        *(values[name] for name in problem_edit.FACTOR_FIELDS),
        problem_edit.parent_options(factors, chosen),
        problem_edit.optional_options(indicators, "No indicator", lambda r: f"{r.code} · {r.name}"),
        chosen is None,
    )


def write_factor(
    save_clicks: Any, remove_clicks: Any, choice: Any, *state: Any, principal: Principal
) -> FormResult:
    """Add, change or remove the chosen factor (the Remove button asks to confirm first)."""
    trigger = _triggered()
    if trigger is None or not (save_clicks or remove_clicks):
        raise PreventUpdate
    *values, version, problem_id, saved = state
    fields = _fields(problem_edit.FACTOR_FIELDS, tuple(values))
    fields["indicator_id"] = _optional(fields["indicator_id"])
    fields["parent_ids"] = list(fields["parent_ids"] or [])
    factor_id = _as_id(choice)
    title = str(fields.get("title") or "").strip()

    def write(session: Any, pid: int, loaded: int) -> str:
        if trigger == ids.PROBLEM_FACTOR_REMOVE_CONFIRM:
            if factor_id is None:
                raise ValidationError("Choose the factor to remove.")
            remove_factor(session, principal, factor_id, loaded)
            return "Removed the causal factor."
        if factor_id is None:
            add_factor(session, principal, pid, loaded, fields)
            return f"Added the causal factor “{title}”."
        update_factor(session, principal, factor_id, loaded, fields)
        return f"Saved the causal factor “{title}”."

    return _write(problem_id, version, saved, "map", write)


# ---------------------------------------------------------------- engagements


def engagement_form(
    _signal: Any, choice: Any, problem_id: Any, *, principal: Principal
) -> tuple[Any, ...]:
    """The engagement select, the actor and factor choices, and the chosen one's values."""
    parsed = parse_problem_id(problem_id)
    if parsed is None:
        raise PreventUpdate
    with current_database().session() as session:
        engagements = engagement_details(session, parsed)
        factors = map_frames(session, parsed).factors
        actors = actor_choices(session)
    chosen = _as_id(choice)
    rows = engagements[engagements["id"] == chosen] if chosen is not None else engagements[:0]
    if rows.empty:
        chosen = None
        values: dict[str, Any] = {
            "actor_id": None,
            "factor_id": WHOLE_PROBLEM,
            "role": None,
            "stance": "complementary",
            "committed_funding": "",
            "last_contact": None,
            "authorisation": "",
            "strings": "",
        }
    else:
        row = rows.iloc[0]
        factor = problem_edit.id_value(row["factor_id"])
        values = {
            "actor_id": str(int(row["actor_id"])),
            "factor_id": WHOLE_PROBLEM if factor == NONE else factor,
            "role": row["role"],
            "stance": row["stance"],
            "committed_funding": problem_edit.money_value(row["committed_funding"]),
            "last_contact": problem_edit.date_value(row["last_contact"]),
            "authorisation": row["authorisation"] or "",
            "strings": row["strings"] or "",
        }
    return (
        problem_edit.record_options(
            engagements, "Add a new engagement", problem_edit.engagement_label
        ),
        str(chosen) if chosen is not None else NEW,
        *(values[name] for name in problem_edit.ENGAGEMENT_FIELDS),
        problem_edit.actor_options(actors),
        problem_edit.optional_options(
            factors, "The problem as a whole", lambda r: str(r.title), WHOLE_PROBLEM
        ),
        chosen is None,
    )


def write_engagement(
    save_clicks: Any, remove_clicks: Any, choice: Any, *state: Any, principal: Principal
) -> FormResult:
    """Add, change or remove the chosen engagement."""
    trigger = _triggered()
    if trigger is None or not (save_clicks or remove_clicks):
        raise PreventUpdate
    *values, version, problem_id, saved = state
    fields = _fields(problem_edit.ENGAGEMENT_FIELDS, tuple(values))
    fields["factor_id"] = _optional(fields["factor_id"], WHOLE_PROBLEM)
    fields["actor_id"] = _optional(fields["actor_id"])
    engagement_id = _as_id(choice)

    def write(session: Any, pid: int, loaded: int) -> str:
        if trigger == ids.PROBLEM_ENGAGEMENT_REMOVE_CONFIRM:
            if engagement_id is None:
                raise ValidationError("Choose the engagement to remove.")
            remove_engagement(session, principal, engagement_id, loaded)
            return "Removed the engagement."
        if engagement_id is None:
            add_engagement(session, principal, pid, loaded, fields, today=local_today())
            return "Added the engagement."
        update_engagement(session, principal, engagement_id, loaded, fields, today=local_today())
        return "Saved the engagement."

    return _write(problem_id, version, saved, "actors", write)


# ---------------------------------------------------------------- innovations


def innovation_form(
    _signal: Any, choice: Any, problem_id: Any, *, principal: Principal
) -> tuple[Any, ...]:
    """The innovation select, the lead-actor choices, and the chosen one's values."""
    parsed = parse_problem_id(problem_id)
    if parsed is None:
        raise PreventUpdate
    with current_database().session() as session:
        innovations = innovation_details(session, parsed)
        actors = actor_choices(session)
    chosen = _as_id(choice)
    rows = innovations[innovations["id"] == chosen] if chosen is not None else innovations[:0]
    if rows.empty:
        chosen = None
        values: dict[str, Any] = {
            "title": "",
            "origin": None,
            "kind": None,
            "stage": "idea",
            "lead_actor_id": NONE,
            "evidence": "weak",
            "cost": "",
            "description": "",
            "evidence_note": "",
        }
    else:
        row = rows.iloc[0]
        values = {
            "title": row["title"],
            "origin": row["origin"],
            "kind": row["kind"],
            "stage": row["stage"],
            "lead_actor_id": problem_edit.id_value(row["lead_actor_id"]),
            "evidence": row["evidence"],
            "cost": problem_edit.money_value(row["cost"]),
            "description": row["description"] or "",
            "evidence_note": row["evidence_note"] or "",
        }
    return (
        problem_edit.record_options(
            innovations, "Add a new innovation", problem_edit.innovation_label
        ),
        str(chosen) if chosen is not None else NEW,
        *(values[name] for name in problem_edit.INNOVATION_FIELDS),
        problem_edit.optional_options(actors, "No lead actor", lambda r: str(r.name)),
        chosen is None,
    )


def write_innovation(
    save_clicks: Any, remove_clicks: Any, choice: Any, *state: Any, principal: Principal
) -> FormResult:
    """Add, change or remove the chosen innovation."""
    trigger = _triggered()
    if trigger is None or not (save_clicks or remove_clicks):
        raise PreventUpdate
    *values, version, problem_id, saved = state
    fields = _fields(problem_edit.INNOVATION_FIELDS, tuple(values))
    fields["lead_actor_id"] = _optional(fields["lead_actor_id"])
    innovation_id = _as_id(choice)
    title = str(fields.get("title") or "").strip()

    def write(session: Any, pid: int, loaded: int) -> str:
        if trigger == ids.PROBLEM_INNOVATION_REMOVE_CONFIRM:
            if innovation_id is None:
                raise ValidationError("Choose the innovation to remove.")
            remove_innovation(session, principal, innovation_id, loaded)
            return "Removed the innovation."
        if innovation_id is None:
            add_innovation(session, principal, pid, loaded, fields)
            return f"Added the innovation “{title}”."
        update_innovation(session, principal, innovation_id, loaded, fields)
        return f"Saved the innovation “{title}”."

    return _write(problem_id, version, saved, "innovations", write)


# ---------------------------------------------------------------- wiring


def _field_outputs(form: str, names: tuple[str, ...]) -> list[Output]:
    return [Output(ids.problem_field(form, n), "value") for n in names]


def _field_states(form: str, names: tuple[str, ...]) -> list[State]:
    return [State(ids.problem_field(form, n), "value") for n in names]


def _save_states(saved_store: str) -> list[State]:
    return [
        State(ids.PROBLEM_VERSION_STORE, "data"),
        State(ids.PROBLEM_ID_STORE, "data"),
        State(saved_store, "data"),
    ]


def register(app: dash.Dash) -> None:
    edit = Capability.EDIT_PROBLEMS
    signal = Input(ids.PROBLEM_EDITOR_STORE, "data")
    secured_callback(
        app,
        edit,
        *_field_outputs("edit", problem_edit.PROBLEM_FIELDS),
        signal,
        State(ids.PROBLEM_ID_STORE, "data"),
        prevent_initial_call=True,
    )(problem_form)
    secured_callback(
        app,
        edit,
        Output(ids.PROBLEM_EDIT_FEEDBACK_DIV, "children"),
        Output(ids.PROBLEM_EDIT_SAVED_STORE, "data"),
        Input(ids.PROBLEM_EDIT_SAVE_BUTTON, "n_clicks"),
        *_field_states("edit", problem_edit.PROBLEM_FIELDS),
        *_save_states(ids.PROBLEM_EDIT_SAVED_STORE),
        prevent_initial_call=True,
    )(save_problem)

    forms = (
        (
            "factor",
            problem_edit.FACTOR_FIELDS,
            ids.PROBLEM_FACTOR_SELECT,
            ids.PROBLEM_FACTOR_REMOVE_BUTTON,
            [
                Output(ids.problem_field("factor", "parent_ids"), "options"),
                Output(ids.problem_field("factor", "indicator_id"), "options"),
            ],
            (
                ids.PROBLEM_FACTOR_SAVE_BUTTON,
                ids.PROBLEM_FACTOR_REMOVE_CONFIRM,
                ids.PROBLEM_FACTOR_FEEDBACK_DIV,
                ids.PROBLEM_FACTOR_SAVED_STORE,
            ),
            factor_form,
            write_factor,
        ),
        (
            "engagement",
            problem_edit.ENGAGEMENT_FIELDS,
            ids.PROBLEM_ENGAGEMENT_SELECT,
            ids.PROBLEM_ENGAGEMENT_REMOVE_BUTTON,
            [
                Output(ids.problem_field("engagement", "actor_id"), "options"),
                Output(ids.problem_field("engagement", "factor_id"), "options"),
            ],
            (
                ids.PROBLEM_ENGAGEMENT_SAVE_BUTTON,
                ids.PROBLEM_ENGAGEMENT_REMOVE_CONFIRM,
                ids.PROBLEM_ENGAGEMENT_FEEDBACK_DIV,
                ids.PROBLEM_ENGAGEMENT_SAVED_STORE,
            ),
            engagement_form,
            write_engagement,
        ),
        (
            "innovation",
            problem_edit.INNOVATION_FIELDS,
            ids.PROBLEM_INNOVATION_SELECT,
            ids.PROBLEM_INNOVATION_REMOVE_BUTTON,
            [Output(ids.problem_field("innovation", "lead_actor_id"), "options")],
            (
                ids.PROBLEM_INNOVATION_SAVE_BUTTON,
                ids.PROBLEM_INNOVATION_REMOVE_CONFIRM,
                ids.PROBLEM_INNOVATION_FEEDBACK_DIV,
                ids.PROBLEM_INNOVATION_SAVED_STORE,
            ),
            innovation_form,
            write_innovation,
        ),
    )
    for form, fields, select, remove_button, options, buttons, load, save in forms:
        save_button, remove_confirm, feedback, saved_store = buttons
        secured_callback(
            app,
            edit,
            Output(select, "options"),
            Output(select, "value"),
            *_field_outputs(form, fields),
            *options,
            Output(remove_button, "disabled"),
            signal,
            Input(select, "value"),
            State(ids.PROBLEM_ID_STORE, "data"),
            prevent_initial_call=True,
        )(load)
        secured_callback(
            app,
            edit,
            Output(feedback, "children"),
            Output(saved_store, "data"),
            Input(save_button, "n_clicks"),
            Input(remove_confirm, "submit_n_clicks"),
            State(select, "value"),
            *_field_states(form, fields),
            *_save_states(saved_store),
            prevent_initial_call=True,
        )(save)
