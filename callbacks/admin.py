"""Administration callbacks: scoring weights (form, live preview, save), the category mapping,
and data sources with scheduled jobs. The users tab is ``callbacks.admin_users``.

Weights and mapping need CONFIGURE (chief of staff, admin); so does the sources tab, whose
readers (admin and chief of staff) are exactly the CONFIGURE roles.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import dash
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks import button_sets
from callbacks.policy import current_database, local_today, secured_callback
from db.cache import VersionedCache, cached
from db.catalog_admin import data_sources
from db.category_mappings import (
    MAPPING_REPORT_DAYS,
    add_category_mapping,
    category_mappings,
    mapping_choices,
    mapping_weight,
    remove_category_mapping,
    set_category_mapping_weight,
)
from db.jobs import last_job_runs, recent_runs
from db.models import utcnow
from db.scores import load_scoring_inputs, load_weights, set_scoring_weights
from layouts import admin, ids
from triage.schedule import SCHEDULED_JOBS
from triage.scoring import (
    IMPORTANCE_PARTS,
    TRACTABILITY_PARTS,
    ScoringInputs,
    ScoringWeights,
    combine,
    iso_week,
    problem_components,
    ranking_sensitivity,
    top_n_stability,
)
from triage.security import Capability, Principal
from triage.validation import ValidationError, record_id

# The component columns ``combine`` and ``ranking_sensitivity`` read, each with its range.
COMPONENT_PARTS = (*IMPORTANCE_PARTS, *TRACTABILITY_PARTS, "uncovered", "sectors_absent")
COMPONENT_COLUMNS = (
    *(f"{part}{suffix}" for part in COMPONENT_PARTS for suffix in ("", "_low", "_high")),
    "funding_score",
)
SENSITIVITY_RUNS = 500
SENSITIVITY_SPREAD = 0.25


# ---------------------------------------------------------------- scoring weights


def components_to_store(components: pd.DataFrame, week: str) -> dict[str, Any]:
    """What the preview needs of ``problem_components``, as JSON keyed by the ISO week."""
    return {
        "week": week,
        "problem_id": [int(i) for i in components.index],
        "title": [str(t) for t in components["title"]],
        "columns": {
            c: [float(v) for v in components[c].to_numpy(dtype=float)] for c in COMPONENT_COLUMNS
        },
    }


def components_from_store(data: Any) -> tuple[pd.DataFrame, str] | None:
    """The components frame back from the browser's store, or None when it is not usable.

    The store comes back from the client, so its shape is checked; a tampered store can only
    change this user's own preview, never what is saved.
    """
    if not isinstance(data, dict):
        return None
    try:
        problem_ids = [int(i) for i in data["problem_id"]]
        titles = [str(t) for t in data["title"]]
        columns = {c: [float(v) for v in data["columns"][c]] for c in COMPONENT_COLUMNS}
        week = str(data["week"])[:8]
    except (KeyError, TypeError, ValueError):
        return None
    if len(titles) != len(problem_ids) or any(len(v) != len(problem_ids) for v in columns.values()):
        return None
    if any(not math.isfinite(x) for v in columns.values() for x in v):
        return None
    frame = pd.DataFrame(
        {"title": titles, **columns}, index=pd.Index(problem_ids, name="problem_id")
    )
    return frame, week


def weights_from_inputs(values: Any, input_ids: Any) -> dict[str, Any]:
    """``{name: value}`` from the pattern-matched inputs (unknown names ignored)."""
    names = set(ScoringWeights.names())
    result: dict[str, Any] = {}
    for component_id, value in zip(input_ids or [], values or [], strict=False):
        name = component_id.get("index") if isinstance(component_id, dict) else None
        if name in names:
            result[name] = value
    return result


def proposed_weights(values: Any, input_ids: Any) -> ScoringWeights:
    """Validated weights from the form; ``ValidationError`` names the field in words."""
    data = weights_from_inputs(values, input_ids)
    missing = [n for n in ScoringWeights.names() if n not in data]
    if missing:
        raise ValidationError("The form is incomplete; reload the page.")
    for name in ScoringWeights.names():
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            label = admin.WEIGHT_LABELS.get(name, name)
            raise ValidationError(f"Enter a number from 0 to 100 for “{label}”.")
    return ScoringWeights.from_dict(data)


def preview_frame(
    components: pd.DataFrame, saved: ScoringWeights, proposed: ScoringWeights, as_of: Any
) -> tuple[pd.DataFrame, float]:
    """Current and proposed rank of every problem, and the top-15 stability of the proposal.

    Out: problem_id, title, current_rank, proposed_rank, current_priority, proposed_priority,
    top_share; and the expected share of the proposed top 15 still there under ±25% weights.
    """
    current = combine(components, saved)
    new = combine(components, proposed)
    sensitivity = ranking_sensitivity(
        ScoringInputs(),
        proposed,
        as_of,
        runs=SENSITIVITY_RUNS,
        spread=SENSITIVITY_SPREAD,
        top_n=admin.PREVIEW_TOP,
        components=components,
    )
    share = dict(zip(sensitivity["problem_id"], sensitivity["top_n_share"], strict=True))
    frame = pd.DataFrame(
        {
            "problem_id": components.index.to_numpy(),
            "title": components["title"].to_numpy(),
            "current_rank": current["rank"].to_numpy(),
            "proposed_rank": new["rank"].to_numpy(),
            "current_priority": current["priority"].to_numpy(),
            "proposed_priority": new["priority"].to_numpy(),
            "top_share": [float(share.get(p, np.nan)) for p in components.index],
        }
    )
    return frame, top_n_stability(sensitivity, admin.PREVIEW_TOP)


def weights_form(
    _page: Any, defaults_clicks: Any, *, principal: Principal, triggered_id: Any = None
) -> Any:
    """The form, filled with the saved weights; with the defaults after "Restore the defaults"
    (nothing is saved until Save)."""
    if triggered_id is None and ctx.triggered:
        triggered_id = ctx.triggered_id
    if triggered_id == ids.ADMIN_WEIGHTS_DEFAULTS_BUTTON and defaults_clicks:
        return admin.weights_form(ScoringWeights().to_dict())
    with current_database().session() as session:
        saved = load_weights(session)
    return admin.weights_form(saved.to_dict())


def weights_components(_page: Any, *, principal: Principal) -> dict[str, Any]:
    """Every problem's score components on this week's inputs.

    The expensive part of scoring, so it is computed once per day and data version
    (``db.cache``) and shared by every visit until the next write; the preview only
    re-weights them.
    """
    today = local_today()
    with current_database().session() as session:
        return cached(
            session,
            "admin.weights_components",
            today,
            lambda: components_to_store(
                problem_components(load_scoring_inputs(session, today), today), iso_week(today)
            ),
        )


def _store_key(data: dict[str, Any]) -> str:
    """A digest of the components store, so previews of equal stores share one result."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# Previews already computed, per (components digest, saved and proposed weights, day); the
# version is constant because a preview is a pure function of that key.
PREVIEWS = VersionedCache(max_entries=64)


def cached_preview(
    data: dict[str, Any],
    frame: pd.DataFrame,
    saved: ScoringWeights,
    proposed: ScoringWeights,
    as_of: Any,
) -> tuple[pd.DataFrame, float]:
    """:func:`preview_frame`, remembered: every visit first previews the saved weights, and
    the 500 sensitivity runs are most of a preview's time."""
    key = (
        _store_key(data),
        tuple(sorted(saved.to_dict().items())),
        tuple(sorted(proposed.to_dict().items())),
        str(as_of),
    )
    preview, stability = PREVIEWS.get(
        "admin.preview", key, (), lambda: preview_frame(frame, saved, proposed, as_of)
    )
    return preview.copy(), stability


def weights_preview(
    values: Any, components: Any, _saved: Any, input_ids: Any, *, principal: Principal
) -> Any:
    """How the top 15 would move under the weights in the form, against the saved ones.

    The saved weights are read afresh (a save by anyone shows at once); ``_saved`` only
    triggers the preview again after this user saves.
    """
    restored = components_from_store(components)
    if restored is None:
        return admin.weights_waiting()
    frame, week = restored
    try:
        proposed = proposed_weights(values, input_ids)
    except ValidationError as error:
        return admin.weights_invalid(str(error))
    with current_database().session() as session:
        current = load_weights(session)
    preview, stability = cached_preview(components, frame, current, proposed, local_today())
    return admin.weights_preview(
        preview, stability=stability, week=week, unchanged=proposed == current
    )


def weights_save(
    n_clicks: Any, values: Any, input_ids: Any, saved: Any, *, principal: Principal
) -> tuple[Any, Any]:
    """Store the weights in the form (validated and audited by ``set_scoring_weights``)."""
    if not n_clicks:
        raise PreventUpdate
    try:
        proposed = proposed_weights(values, input_ids)
    except ValidationError as error:
        return admin.weights_invalid(str(error)), dash.no_update
    with current_database().session(write=True) as session:
        before = load_weights(session)
        set_scoring_weights(session, principal, proposed.to_dict())
    changed = [n for n in ScoringWeights.names() if getattr(before, n) != getattr(proposed, n)]
    return admin.weights_saved(changed), int(saved or 0) + 1


# ---------------------------------------------------------------- category mapping


def mapping_table(_changed: Any, *, principal: Principal) -> tuple[Any, list, list]:
    """The categories with their problems, and the options of the form's two selects."""
    with current_database().session() as session:
        frame = category_mappings(session, today=local_today())
        categories, problems = mapping_choices(session)
    return (
        admin.mapping_table(frame, days=MAPPING_REPORT_DAYS),
        admin.category_options(categories),
        admin.problem_options(problems),
    )


def _clicked(triggered_id: Any, triggered_value: Any) -> tuple[str, int, int] | None:
    """(kind, category id, problem id) of a clicked mapping button, or None."""
    if not isinstance(triggered_id, dict) or not triggered_value:
        return None
    kind = {ids.ADMIN_MAPPING_REMOVE_TYPE: "remove", ids.ADMIN_MAPPING_EDIT_TYPE: "edit"}.get(
        triggered_id.get("type")
    )
    category, problem = triggered_id.get("index"), triggered_id.get("problem")
    if kind is None or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (category, problem)
    ):
        return None
    return kind, category, problem


def _trigger(triggered_id: Any, triggered_value: Any) -> tuple[Any, Any]:
    if triggered_id is None and ctx.triggered:
        triggered_id, triggered_value = ctx.triggered_id, ctx.triggered[0].get("value")
    if triggered_id in (ids.ADMIN_MAPPING_REMOVE_CLICK_STORE, ids.ADMIN_MAPPING_EDIT_CLICK_STORE):
        # A remove or edit button, relayed by the browser (see callbacks.button_sets).
        return button_sets.clicked(triggered_value)
    return triggered_id, triggered_value


def mapping_change(
    save_clicks: Any,
    _remove_clicks: Any,
    category: Any,
    problem: Any,
    weight: Any,
    changed: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[Any, Any]:
    """Save the form (add a mapping, or change its weight) or remove a mapping."""
    triggered_id, triggered_value = _trigger(triggered_id, triggered_value)
    removing = _clicked(triggered_id, triggered_value)
    saving = triggered_id == ids.ADMIN_MAPPING_SAVE_BUTTON and bool(save_clicks)
    if removing is None and not saving:
        raise PreventUpdate
    with current_database().session(write=True) as session:
        try:
            if removing is not None:
                _, category_id, problem_id = removing
                if removing[0] != "remove":
                    raise PreventUpdate
                remove_category_mapping(session, principal, category_id, problem_id)
                message = "Removed the mapping; its reports no longer count for that problem."
            else:
                category_id = record_id(category, "a category")
                problem_id = record_id(problem, "a problem")
                existing = mapping_weight(session, category_id, problem_id)
                if existing is None:
                    add_category_mapping(session, principal, category_id, problem_id, weight)
                    message = "Mapped: the category's reports now count for the problem."
                else:
                    set_category_mapping_weight(session, principal, category_id, problem_id, weight)
                    message = f"Changed the weight from {existing:g} to {float(weight):g}."
        except ValidationError as error:
            return admin.mapping_message(str(error), "danger"), dash.no_update
    return admin.mapping_message(message), int(changed or 0) + 1


def mapping_edit(
    _edit_clicks: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[str, str, float]:
    """Fill the form with one mapping so that its weight can be changed."""
    triggered_id, triggered_value = _trigger(triggered_id, triggered_value)
    clicked = _clicked(triggered_id, triggered_value)
    if clicked is None or clicked[0] != "edit":
        raise PreventUpdate
    _, category_id, problem_id = clicked
    with current_database().session() as session:
        weight = mapping_weight(session, category_id, problem_id)
    if weight is None:
        raise PreventUpdate
    return str(category_id), str(problem_id), weight


# ---------------------------------------------------------------- data sources and jobs


def sources_overview(_page: Any, *, principal: Principal) -> tuple[Any, Any]:
    """Data sources with their freshness; scheduled jobs with their last and recent runs."""
    with current_database().session() as session:
        sources = data_sources(session)
        runs = last_job_runs(session)
        recent = recent_runs(session, limit=20)
    specs = [(job.job_id, job.description) for job in SCHEDULED_JOBS]
    return admin.sources_table(sources, utcnow()), admin.jobs_table(specs, runs, recent)


def register(app: dash.Dash) -> None:
    weight_inputs = ids.admin_weight_input(ALL)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_WEIGHTS_FORM_DIV, "children"),
        Input(ids.ADMIN_WEIGHTS_PAGE_STORE, "data"),
        Input(ids.ADMIN_WEIGHTS_DEFAULTS_BUTTON, "n_clicks"),
    )(weights_form)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_WEIGHTS_COMPONENTS_STORE, "data"),
        Input(ids.ADMIN_WEIGHTS_PAGE_STORE, "data"),
    )(weights_components)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_WEIGHTS_PREVIEW_DIV, "children"),
        Input(weight_inputs, "value"),
        Input(ids.ADMIN_WEIGHTS_COMPONENTS_STORE, "data"),
        Input(ids.ADMIN_WEIGHTS_SAVED_STORE, "data"),
        State(weight_inputs, "id"),
    )(weights_preview)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_WEIGHTS_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_WEIGHTS_SAVED_STORE, "data"),
        Input(ids.ADMIN_WEIGHTS_SAVE_BUTTON, "n_clicks"),
        State(weight_inputs, "value"),
        State(weight_inputs, "id"),
        State(ids.ADMIN_WEIGHTS_SAVED_STORE, "data"),
        prevent_initial_call=True,
    )(weights_save)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_MAPPING_TABLE_DIV, "children"),
        Output(ids.ADMIN_MAPPING_CATEGORY_SELECT, "options"),
        Output(ids.ADMIN_MAPPING_PROBLEM_SELECT, "options"),
        Input(ids.ADMIN_MAPPING_CHANGED_STORE, "data"),
    )(mapping_table)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_MAPPING_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_MAPPING_CHANGED_STORE, "data"),
        Input(ids.ADMIN_MAPPING_SAVE_BUTTON, "n_clicks"),
        Input(ids.ADMIN_MAPPING_REMOVE_CLICK_STORE, "data"),
        State(ids.ADMIN_MAPPING_CATEGORY_SELECT, "value"),
        State(ids.ADMIN_MAPPING_PROBLEM_SELECT, "value"),
        State(ids.ADMIN_MAPPING_WEIGHT_INPUT, "value"),
        State(ids.ADMIN_MAPPING_CHANGED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_MAPPING_REMOVE_CLICK_STORE, "data"): dict | None},
    )(mapping_change)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_MAPPING_CATEGORY_SELECT, "value"),
        Output(ids.ADMIN_MAPPING_PROBLEM_SELECT, "value"),
        Output(ids.ADMIN_MAPPING_WEIGHT_INPUT, "value"),
        Input(ids.ADMIN_MAPPING_EDIT_CLICK_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_MAPPING_EDIT_CLICK_STORE, "data"): dict | None},
    )(mapping_edit)
    for kind, store in (
        ("remove", ids.ADMIN_MAPPING_REMOVE_CLICK_STORE),
        ("edit", ids.ADMIN_MAPPING_EDIT_CLICK_STORE),
    ):
        button_sets.relay_clicks(app, ids.admin_mapping_button(kind, ALL, ALL), store)
    secured_callback(
        app,
        Capability.CONFIGURE,
        Output(ids.ADMIN_SOURCES_DIV, "children"),
        Output(ids.ADMIN_JOBS_DIV, "children"),
        Input(ids.ADMIN_SOURCES_PAGE_STORE, "data"),
    )(sources_overview)
    # The "City setup" tab and the "Add a user" form (``callbacks.admin_catalog``).
    from callbacks import admin_catalog

    admin_catalog.register(app)
