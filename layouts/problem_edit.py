"""The chief of staff's editors on the problem page: the problem, its factors, engagements and
innovations, each a form in the page skeleton (hidden unless the viewer may edit).

Each form has a "which record" select (``new`` adds one), labelled fields whose IDs come from
``ids.problem_field(form, field)``, Save and Remove buttons and a live feedback region.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.components import form_feedback, form_field, humanize, notice
from triage.vocabulary import (
    ENGAGEMENT_FORM_FIELDS,
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    FACTOR_FORM_FIELDS,
    INNOVATION_FORM_FIELDS,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    INNOVATION_TYPES,
    PROBLEM_FORM_FIELDS,
    PROBLEM_STATUSES,
    SCALE_WORDS,
    STANCES,
)

NEW = "new"  # the "add a new one" choice of each form's record select
NONE = "none"  # "no value" in optional selects (dbc.Select keeps "" for its placeholder)
WHOLE_PROBLEM = "problem"  # an engagement on the problem as a whole, not one factor

PROBLEM_FIELDS = PROBLEM_FORM_FIELDS
FACTOR_FIELDS = FACTOR_FORM_FIELDS
ENGAGEMENT_FIELDS = ENGAGEMENT_FORM_FIELDS
INNOVATION_FIELDS = INNOVATION_FORM_FIELDS
REACH_CHOICES = (
    ("controls", "The city controls it"),
    ("influences", "The city can influence it"),
    ("outside", "Outside the city's reach"),
)
SCALE_CHOICES = tuple((str(n), f"{n} – {word}") for n, word in enumerate(SCALE_WORDS))


def _options(values: Sequence[str]) -> list[dict[str, str]]:
    return [{"label": humanize(v), "value": v} for v in values]


def _pairs(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in pairs]


def _field(form: str, name: str, label: str, control: Any, hint: str | None = None) -> html.Div:
    if control.id != ids.problem_field(form, name):
        raise ValueError(f"the {name} control of the {form} form has another id")
    return form_field(label, control, hint)


def _group(label: str, control: Any, hint: str | None = None) -> html.Fieldset:
    """Radio buttons and checkboxes are named by a legend, not a label."""
    children: list[Any] = [html.Legend(label, className="form-label legend-label"), control]
    if hint:
        children.append(dbc.FormText(hint))
    return html.Fieldset(children, className="form-field")


def _text(form: str, name: str, *, max_length: int = 200) -> dbc.Input:
    return dbc.Input(
        id=ids.problem_field(form, name), type="text", maxlength=max_length, autocomplete="off"
    )


def _area(form: str, name: str, rows: int = 3) -> dbc.Textarea:
    return dbc.Textarea(id=ids.problem_field(form, name), rows=rows, maxlength=4000)


def _select(
    form: str,
    name: str,
    options: list[dict[str, str]] | None = None,
    placeholder: str | None = None,
) -> dbc.Select:
    return dbc.Select(
        id=ids.problem_field(form, name), options=options or [], placeholder=placeholder
    )


def _buttons(save_id: str, save_label: str, remove: tuple[str, str, str] | None) -> html.Div:
    children: list[Any] = [dbc.Button(save_label, id=save_id, color="primary", n_clicks=0)]
    if remove is not None:
        confirm_id, button_id, message = remove
        children.append(
            dcc.ConfirmDialogProvider(
                dbc.Button("Remove…", id=button_id, color="danger", outline=True, disabled=True),
                id=confirm_id,
                message=message,
            )
        )
    return html.Div(children, className="form-actions")


def _editor(
    panel_id: str, title: str, lead: str, body: list[Any], feedback_id: str
) -> html.Section:
    return html.Section(
        [
            html.H3(title, className="section-title"),
            html.P(lead, className="form-lead"),
            *body,
            form_feedback(feedback_id),
        ],
        id=panel_id,
        hidden=True,
        className="form-card editor-panel",
    )


def _choice(select_id: str, label: str) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=select_id),
            dbc.Select(id=select_id, options=[], value=NEW),
        ],
        className="form-field record-choice",
    )


def problem_editor() -> html.Section:
    """Edit the problem itself: title, status, description, outcome, authority, capital."""
    form = "edit"
    return _editor(
        ids.PROBLEM_EDIT_PANEL,
        "Edit the problem",
        "Changes are saved against the version you loaded: if someone else saved first, "
        "you are told, and nothing is overwritten.",
        [
            html.Div(
                [
                    _field(form, "title", "Title", _text(form, "title")),
                    _field(
                        form,
                        "status",
                        "Status",
                        _select(form, "status", _options(PROBLEM_STATUSES)),
                    ),
                ],
                className="form-grid",
            ),
            _field(form, "description", "Description", _area(form, "description", 4)),
            _field(
                form,
                "desired_outcome",
                "Desired outcome",
                _area(form, "desired_outcome"),
                "The state the city wants, in terms residents would notice.",
            ),
            html.Div(
                [
                    _field(
                        form,
                        "authority",
                        "Authority to act (0–5)",
                        _select(form, "authority", _pairs(SCALE_CHOICES)),
                    ),
                    _field(
                        form,
                        "political_capital",
                        "Political capital (0–5)",
                        _select(form, "political_capital", _pairs(SCALE_CHOICES)),
                    ),
                    _field(
                        form, "authority_notes", "Authority notes", _area(form, "authority_notes")
                    ),
                    _field(
                        form, "political_notes", "Political notes", _area(form, "political_notes")
                    ),
                ],
                className="form-grid",
            ),
            _buttons(ids.PROBLEM_EDIT_SAVE_BUTTON, "Save the problem", None),
        ],
        ids.PROBLEM_EDIT_FEEDBACK_DIV,
    )


def factor_editor() -> html.Section:
    """Add, change or remove a causal factor and say what it feeds into."""
    form = "factor"
    return _editor(
        ids.PROBLEM_FACTOR_PANEL,
        "Edit the backward map",
        "Add a causal factor, or choose one to change or remove. A factor feeds the problem "
        "directly unless you tick the factors it feeds into.",
        [
            _choice(ids.PROBLEM_FACTOR_SELECT, "Causal factor"),
            html.Div(
                [
                    _field(form, "title", "Title", _text(form, "title")),
                    _field(
                        form,
                        "evidence",
                        "Evidence",
                        _select(form, "evidence", _options(EVIDENCE_LEVELS)),
                    ),
                    _field(
                        form,
                        "weight",
                        "Causal weight (0–1)",
                        dbc.Input(
                            id=ids.problem_field(form, "weight"),
                            type="number",
                            min=0,
                            max=1,
                            step=0.05,
                        ),
                        "How much of what it feeds into it explains.",
                    ),
                    _field(form, "indicator_id", "Measured by", _select(form, "indicator_id")),
                ],
                className="form-grid",
            ),
            _field(form, "description", "Description", _area(form, "description")),
            html.Div(
                [
                    _group(
                        "The city's reach",
                        dbc.RadioItems(
                            id=ids.problem_field(form, "reach"), options=_pairs(REACH_CHOICES)
                        ),
                    ),
                    _group(
                        "Feeds into",
                        dbc.Checklist(id=ids.problem_field(form, "parent_ids"), options=[]),
                        "Leave all unticked if it feeds the problem directly.",
                    ),
                ],
                className="form-grid",
            ),
            _buttons(
                ids.PROBLEM_FACTOR_SAVE_BUTTON,
                "Save factor",
                (
                    ids.PROBLEM_FACTOR_REMOVE_CONFIRM,
                    ids.PROBLEM_FACTOR_REMOVE_BUTTON,
                    "Remove this causal factor? Its links go, factors under it then feed what "
                    "remains, and actors on it stay engaged on the problem as a whole.",
                ),
            ),
        ],
        ids.PROBLEM_FACTOR_FEEDBACK_DIV,
    )


def engagement_editor() -> html.Section:
    """Add, change or remove who is engaged, on which factor, how, with what money."""
    form = "engagement"
    return _editor(
        ids.PROBLEM_ENGAGEMENT_PANEL,
        "Edit who is engaged",
        "Record an actor's engagement on the problem or on one causal factor, or choose one "
        "to change or remove.",
        [
            _choice(ids.PROBLEM_ENGAGEMENT_SELECT, "Engagement"),
            html.Div(
                [
                    _field(
                        form,
                        "actor_id",
                        "Actor",
                        _select(form, "actor_id", None, "Choose an actor"),
                    ),
                    _field(form, "factor_id", "Working on", _select(form, "factor_id")),
                    _field(
                        form,
                        "role",
                        "Role",
                        _select(form, "role", _options(ENGAGEMENT_ROLES), "Choose a role"),
                    ),
                    _field(form, "stance", "Stance", _select(form, "stance", _options(STANCES))),
                    _field(
                        form,
                        "committed_funding",
                        "Committed funding (USD)",
                        dbc.Input(
                            id=ids.problem_field(form, "committed_funding"),
                            type="text",
                            inputmode="decimal",
                            autocomplete="off",
                            placeholder="e.g. 250,000",
                        ),
                    ),
                    _field(
                        form,
                        "last_contact",
                        "Last contact",
                        dbc.Input(id=ids.problem_field(form, "last_contact"), type="date"),
                    ),
                    _field(
                        form,
                        "authorisation",
                        "Authorisation",
                        _area(form, "authorisation", 2),
                        "Who supports this work, and with what mandate.",
                    ),
                    _field(
                        form,
                        "strings",
                        "Strings attached",
                        _area(form, "strings", 2),
                        "Conditions on the money or the support.",
                    ),
                ],
                className="form-grid",
            ),
            _buttons(
                ids.PROBLEM_ENGAGEMENT_SAVE_BUTTON,
                "Save engagement",
                (
                    ids.PROBLEM_ENGAGEMENT_REMOVE_CONFIRM,
                    ids.PROBLEM_ENGAGEMENT_REMOVE_BUTTON,
                    "Remove this engagement? The actor stays in the city's list of actors.",
                ),
            ),
        ],
        ids.PROBLEM_ENGAGEMENT_FEEDBACK_DIV,
    )


def innovation_editor() -> html.Section:
    """Add, change or remove an innovation: origin, kind, stage, lead, evidence, cost."""
    form = "innovation"
    return _editor(
        ids.PROBLEM_INNOVATION_PANEL,
        "Edit the innovations",
        "Add an idea to the portfolio, or choose one to move along its stages, record new "
        "evidence or remove it.",
        [
            _choice(ids.PROBLEM_INNOVATION_SELECT, "Innovation"),
            html.Div(
                [
                    _field(form, "title", "Title", _text(form, "title")),
                    _field(
                        form,
                        "origin",
                        "Origin",
                        _select(form, "origin", _options(INNOVATION_ORIGINS), "Choose an origin"),
                    ),
                    _field(
                        form,
                        "kind",
                        "Kind",
                        _select(form, "kind", _options(INNOVATION_TYPES), "Choose a kind"),
                    ),
                    _field(
                        form, "stage", "Stage", _select(form, "stage", _options(INNOVATION_STAGES))
                    ),
                    _field(form, "lead_actor_id", "Lead actor", _select(form, "lead_actor_id")),
                    _field(
                        form,
                        "evidence",
                        "Evidence",
                        _select(form, "evidence", _options(EVIDENCE_LEVELS)),
                    ),
                    _field(
                        form,
                        "cost",
                        "Cost (USD)",
                        dbc.Input(
                            id=ids.problem_field(form, "cost"),
                            type="text",
                            inputmode="decimal",
                            autocomplete="off",
                            placeholder="leave empty if unknown",
                        ),
                    ),
                ],
                className="form-grid",
            ),
            _field(form, "description", "Description", _area(form, "description")),
            _field(
                form,
                "evidence_note",
                "Evidence note",
                _area(form, "evidence_note", 2),
                "Where it was tried and what happened.",
            ),
            _buttons(
                ids.PROBLEM_INNOVATION_SAVE_BUTTON,
                "Save innovation",
                (
                    ids.PROBLEM_INNOVATION_REMOVE_CONFIRM,
                    ids.PROBLEM_INNOVATION_REMOVE_BUTTON,
                    "Remove this innovation from the portfolio? Its history stays in the audit "
                    "trail.",
                ),
            ),
        ],
        ids.PROBLEM_INNOVATION_FEEDBACK_DIV,
    )


# ---------------------------------------------------------------- options and values


def record_options(frame: pd.DataFrame, new_label: str, label_of: Any) -> list[dict[str, str]]:
    """The "which record" select: add a new one, then each existing one."""
    options = [{"label": new_label, "value": NEW}]
    options += [
        {"label": label_of(row), "value": str(int(row.id))} for row in frame.itertuples(index=False)
    ]
    return options


def factor_label(row: Any) -> str:
    return f"Change: {row.title}"


def engagement_label(row: Any) -> str:
    on = f" on {row.factor_title}" if row.factor_title else ""
    return f"Change: {row.actor_name} ({humanize(row.role).lower()}{on})"


def innovation_label(row: Any) -> str:
    return f"Change: {row.title} ({humanize(row.stage).lower()})"


def parent_options(factors: pd.DataFrame, factor_id: int | None) -> list[dict[str, str]]:
    """Factors a factor may feed into: every other factor of the map."""
    return [
        {"label": str(row.title), "value": str(int(row.id))}
        for row in factors.itertuples(index=False)
        if factor_id is None or int(row.id) != factor_id
    ]


def optional_options(
    frame: pd.DataFrame, none_label: str, label_of: Any, none_value: str = NONE
) -> list[dict[str, str]]:
    """A select of records with a first "none" choice."""
    return [{"label": none_label, "value": none_value}] + [
        {"label": label_of(row), "value": str(int(row.id))} for row in frame.itertuples(index=False)
    ]


def actor_options(actors: pd.DataFrame) -> list[dict[str, str]]:
    return [
        {"label": f"{row.name} ({humanize(row.sector).lower()})", "value": str(int(row.id))}
        for row in actors.itertuples(index=False)
    ]


def id_value(value: Any) -> str:
    """A stored id as a select value, "none" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return NONE
    return str(int(value))


def money_value(value: Any) -> str:
    """A stored amount as the text field shows it (``250000`` → ``"250,000"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"


def date_value(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


# ---------------------------------------------------------------- messages


def saved_message(text: str) -> html.Div:
    return notice(text, "success")


def rejected_message(problems: Sequence[str]) -> html.Div:
    """Why nothing was saved (announced at once: role=alert)."""
    body: Any = (
        html.P(problems[0]) if len(problems) == 1 else html.Ul([html.Li(p) for p in problems])
    )
    return notice(body, "danger", title="Not saved")


def conflict_message(text: str, reload_href: str) -> html.Div:
    """Someone else saved first: say so, keep nothing, offer to reload the latest version."""
    return notice(
        html.Div(
            [
                html.P(text),
                html.A("Reload the latest version", href=reload_href, className="btn btn-primary"),
            ],
            className="conflict-body",
        ),
        "danger",
        title="Someone else changed this problem",
    )
