"""Administration, "City setup" tab: the city's departments, indicators, problems and actors
(create, edit, archive, restore), its district boundaries (upload), renamed 311 categories
and new data sources.

One form and one table serve the four catalogue kinds; the fields follow the city pack's
columns, so what the page accepts is exactly what ``triage city import`` accepts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.admin_catalog_feeds import NONE_VALUE, district_form, source_form
from layouts.admin_catalog_renames import rename_form
from layouts.components import (
    Column,
    button,
    data_table,
    empty_state,
    form_actions,
    form_feedback,
    humanize,
    loading,
    notice,
    section,
)
from triage.citypack import CADENCES, PROBLEM_STATUSES, SECTORS

PAGE_SIZE = 25
KINDS: tuple[tuple[str, str], ...] = (
    ("department", "Departments"),
    ("indicator", "Indicators"),
    ("problem", "Problems"),
    ("actor", "Actors"),
    ("district", "Districts"),
    ("rename", "Renamed categories"),
    ("source", "Data sources"),
)
SINGULAR = {
    "department": "department",
    "indicator": "indicator",
    "problem": "problem",
    "actor": "actor",
    "district": "district",
    "rename": "renamed category",
    "source": "data source",
}
DIRECTION_CHOICES = (("up", "Higher is better"), ("down", "Lower is better"))
NONE_LABEL = "No lead department yet"
CHECKLIST_CLASS = "catalog-checklist"


def _dom_id(component_id: Mapping[str, Any]) -> str:
    """The DOM id Dash gives a dict ID (sorted keys, compact JSON), for ``label for=``."""
    return json.dumps(dict(component_id), sort_keys=True, separators=(",", ":"))


def _pairs(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in pairs]


# ---------------------------------------------------------------- the panel (skeleton)


def panel() -> html.Div:
    """The tab: what to set up, then that kind's form and its table (filled by callbacks)."""
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_CATALOG_SAVED_STORE, data=0),
            dcc.Store(id=ids.ADMIN_CATALOG_EDITING_STORE, data=None),
            dcc.Store(id=ids.ADMIN_CATALOG_QUERY_STORE, data=None),
            dcc.Store(id=ids.ADMIN_DISTRICTS_SAVED_STORE, data=0),
            dcc.Store(id=ids.ADMIN_SOURCE_SAVED_STORE, data=0),
            dcc.Store(id=ids.ADMIN_RENAME_SAVED_STORE, data=0),
            html.P(
                "Set up the city as its departments, indicators, problems and actors, its "
                "district boundaries and its data feeds. Every change is checked by the same "
                "rules as a city pack import and recorded in the audit log.",
                className="section-note",
            ),
            html.Fieldset(
                [
                    html.Legend("What to set up", className="form-label legend-label"),
                    dbc.RadioItems(
                        id=ids.ADMIN_CATALOG_KIND_RADIO,
                        options=_pairs(KINDS),
                        value="department",
                        inline=True,
                        className="catalog-kinds",
                    ),
                ],
                className="form-field catalog-kind-field",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            catalogue_form(),
                            district_form(),
                            rename_form(),
                            source_form(),
                        ],
                        className="catalog-forms",
                    ),
                    section(
                        "Existing records",
                        html.Div(
                            [
                                html.P(
                                    "Choose a name to edit it. Records are archived, never "
                                    "deleted: an archived one leaves the pickers and the "
                                    "weekly ranking but keeps its history, and can be "
                                    "restored (tick “Show archived”).",
                                    className="section-note",
                                ),
                                html.P(id=ids.ADMIN_CATALOG_TABLE_TITLE, className="table-count"),
                                table_tools(),
                                loading(
                                    html.Div(id=ids.ADMIN_CATALOG_TABLE_DIV, className="table-slot")
                                ),
                                html.Div(
                                    [
                                        html.Button(
                                            "Previous page",
                                            id=ids.ADMIN_CATALOG_PREV_BUTTON,
                                            type="button",
                                            className="btn btn-outline-secondary btn-sm",
                                            n_clicks=0,
                                            disabled=True,
                                        ),
                                        html.Button(
                                            "Next page",
                                            id=ids.ADMIN_CATALOG_NEXT_BUTTON,
                                            type="button",
                                            className="btn btn-outline-secondary btn-sm",
                                            n_clicks=0,
                                            disabled=True,
                                        ),
                                    ],
                                    className="button-row catalog-pager",
                                ),
                            ]
                        ),
                        class_name="catalog-list",
                    ),
                ],
                className="catalog-layout",
            ),
        ]
    )


def table_tools() -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    dbc.Label("Filter", html_for=ids.ADMIN_CATALOG_FILTER_INPUT),
                    dbc.Input(
                        id=ids.ADMIN_CATALOG_FILTER_INPUT,
                        type="search",
                        placeholder="Code, name or any word",
                        debounce=300,
                        maxlength=100,
                        autocomplete="off",
                    ),
                ],
                className="form-field filter-field",
            ),
            html.Div(
                [
                    dbc.Label("Sort by", html_for=ids.ADMIN_CATALOG_SORT_SELECT),
                    dbc.Select(id=ids.ADMIN_CATALOG_SORT_SELECT, options=[], value=None),
                ],
                className="form-field filter-field",
            ),
            dbc.Checklist(
                id=ids.ADMIN_CATALOG_ARCHIVED_CHECK,
                options=[{"label": "Show archived", "value": "archived"}],
                value=[],
                switch=True,
                className="catalog-archived-check",
            ),
        ],
        className="filter-bar catalog-tools",
    )


def catalogue_form() -> html.Section:
    """The form of a department, indicator, problem or actor (fields drawn by callback)."""
    return html.Section(
        [
            html.H3(id=ids.ADMIN_CATALOG_FORM_TITLE, className="section-title"),
            html.Div(id=ids.ADMIN_CATALOG_FIELDS_DIV),
            form_actions(
                button("Save", ids.ADMIN_CATALOG_SAVE_BUTTON),
                button(
                    "Cancel",
                    ids.ADMIN_CATALOG_CANCEL_BUTTON,
                    tone="secondary",
                    outline=True,
                    hidden=True,
                ),
                button(
                    "Archive…",
                    ids.ADMIN_CATALOG_ARCHIVE_BUTTON,
                    tone="danger",
                    outline=True,
                    hidden=True,
                ),
                button("Restore", ids.ADMIN_CATALOG_RESTORE_BUTTON, outline=True, hidden=True),
            ),
            html.Div(
                [
                    html.P(id=ids.ADMIN_CATALOG_CONFIRM_TEXT),
                    form_actions(
                        button("Yes, archive", ids.ADMIN_CATALOG_CONFIRM_BUTTON, tone="danger"),
                        button(
                            "Keep it", ids.ADMIN_CATALOG_KEEP_BUTTON, tone="secondary", outline=True
                        ),
                    ),
                ],
                id=ids.ADMIN_CATALOG_CONFIRM_DIV,
                hidden=True,
                role="group",
                className="catalog-confirm notice tone-warning",
                **{"aria-label": "Confirm archiving"},
            ),
            form_feedback(ids.ADMIN_CATALOG_FEEDBACK_DIV),
        ],
        id=ids.ADMIN_CATALOG_FORM_SECTION,
        className="form-card catalog-form",
    )


# ---------------------------------------------------------------- the catalogue form's fields


def _input(name: str, value: Any, *, max_length: int = 200, readonly: bool = False, **kw: Any):
    return dbc.Input(
        id=ids.admin_catalog_field(name),
        type="text",
        value="" if value is None else str(value),
        maxlength=max_length,
        autocomplete="off",
        readonly=readonly,
        **kw,
    )


def _area(name: str, value: Any, rows: int = 3) -> dbc.Textarea:
    return dbc.Textarea(
        id=ids.admin_catalog_field(name),
        value="" if value is None else str(value),
        rows=rows,
        maxlength=10_000,
    )


def _select(name: str, value: Any, options: list[dict[str, str]], placeholder: str | None):
    return dbc.Select(
        id=ids.admin_catalog_field(name),
        options=options,
        value=value if value not in (None, "") else None,
        placeholder=placeholder,
    )


def _field(name: str, label: str, control: Any, hint: str | None = None) -> html.Div:
    """A labelled control with its hint and an (empty) inline error under it."""
    children: list[Any] = [
        dbc.Label(label, html_for=_dom_id(ids.admin_catalog_field(name))),
        control,
    ]
    if hint:
        children.append(dbc.FormText(hint))
    children.append(
        html.Div(id=ids.admin_catalog_error(name), className="field-error", role="status")
    )
    return html.Div(children, className="form-field")


def _group(name: str, label: str, control: Any, hint: str | None = None) -> html.Fieldset:
    children: list[Any] = [html.Legend(label, className="form-label legend-label"), control]
    if hint:
        children.append(dbc.FormText(hint))
    children.append(
        html.Div(id=ids.admin_catalog_error(name), className="field-error", role="status")
    )
    return html.Fieldset(children, className="form-field")


def _code(kind: str, values: Mapping[str, Any], editing: bool, max_length: int) -> html.Div:
    hint = (
        "The code cannot change: city packs find the record by it."
        if editing
        else "Short and stable (e.g. HPD): city pack files refer to it."
    )
    return _field(
        "code",
        "Code",
        _input("code", values.get("code"), max_length=max_length, readonly=editing),
        hint,
    )


def form_fields(
    kind: str,
    values: Mapping[str, Any] | None,
    choices: Mapping[str, Sequence[tuple[str, str]]],
    *,
    editing: bool,
) -> html.Div:
    """The fields of ``kind`` filled with ``values`` (empty for a new record).

    ``choices``: ``db.catalog_admin.choices`` (departments, indicators, categories not archived).
    """
    values = values or {}
    departments = [{"label": f"{c} – {n}", "value": c} for c, n in choices.get("department", [])]
    if kind == "department":
        fields: list[Any] = [
            _code(kind, values, editing, 16),
            _field("name", "Name", _input("name", values.get("name"), max_length=120)),
        ]
    elif kind == "indicator":
        fields = [
            _code(kind, values, editing, 32),
            _field("name", "Name", _input("name", values.get("name"))),
            _field(
                "department",
                "Department",
                _select("department", values.get("department"), departments, "Choose one"),
                "The department that reports it.",
            ),
            _field(
                "unit",
                "Unit",
                _input("unit", values.get("unit"), max_length=32),
                "For example %, days or reports. Leave empty for a plain count.",
            ),
            _field(
                "direction",
                "Which way is better",
                _select(
                    "direction", values.get("direction"), _pairs(DIRECTION_CHOICES), "Choose one"
                ),
            ),
            _field(
                "cadence",
                "How often it is measured",
                _select(
                    "cadence",
                    values.get("cadence") or "monthly",
                    [{"label": humanize(c), "value": c} for c in CADENCES],
                    None,
                ),
            ),
            html.Div(
                [
                    _field(
                        "target",
                        "Target",
                        _input("target", values.get("target"), max_length=40, inputMode="decimal"),
                    ),
                    _field(
                        "warning",
                        "Warning level",
                        _input(
                            "warning", values.get("warning"), max_length=40, inputMode="decimal"
                        ),
                    ),
                    _field(
                        "critical",
                        "Critical level",
                        _input(
                            "critical", values.get("critical"), max_length=40, inputMode="decimal"
                        ),
                    ),
                ],
                className="form-grid catalog-thresholds",
            ),
            _field("description", "Description", _area("description", values.get("description"))),
            _field(
                "source",
                "Source",
                _input("source", values.get("source")),
                "Where the numbers come from.",
            ),
        ]
    elif kind == "problem":
        chosen = list(values.get("indicators") or [])
        indicator_options = [
            {"label": f"{c} – {n}", "value": c} for c, n in choices.get("indicator", [])
        ]
        known = {o["value"] for o in indicator_options}
        indicator_options += [
            {"label": f"{c} (archived)", "value": c, "disabled": True}
            for c in chosen
            if c not in known
        ]
        categories = values.get("categories") or []
        fields = [
            _code(kind, values, editing, 32),
            _field("title", "Title", _input("title", values.get("title"))),
            _field(
                "lead_department",
                "Lead department",
                _select(
                    "lead_department",
                    values.get("lead_department") or NONE_VALUE,
                    [{"label": NONE_LABEL, "value": NONE_VALUE}, *departments],
                    None,
                ),
            ),
            _field(
                "status",
                "Status",
                _select(
                    "status",
                    values.get("status") or "watch",
                    [{"label": humanize(s), "value": s} for s in PROBLEM_STATUSES],
                    None,
                ),
            ),
            _group(
                "indicators",
                "Indicators that measure it",
                dbc.Checklist(
                    id=ids.admin_catalog_field("indicators"),
                    options=indicator_options,
                    value=chosen,
                    className=CHECKLIST_CLASS,
                ),
                None if indicator_options else "No indicators yet: add them under Indicators.",
            ),
            _field(
                "categories",
                "311 categories that feed it",
                _input(
                    "categories",
                    "; ".join(categories) if isinstance(categories, list) else categories,
                    max_length=4000,
                ),
                "Category names as the 311 data spells them, separated by semicolons "
                "(e.g. HEAT/HOT WATER; PLUMBING).",
            ),
            _field(
                "policy_area",
                "Policy area",
                _input("policy_area", values.get("policy_area"), max_length=64),
            ),
            _field("description", "Description", _area("description", values.get("description"))),
            _field(
                "desired_outcome",
                "Desired outcome",
                _area("desired_outcome", values.get("desired_outcome")),
                "The state the city wants, in terms residents would notice.",
            ),
        ]
    else:
        fields = [
            _field("name", "Name", _input("name", values.get("name"))),
            _field(
                "sector",
                "Sector",
                _select(
                    "sector",
                    values.get("sector"),
                    [{"label": humanize(s), "value": s} for s in SECTORS],
                    "Choose one",
                ),
            ),
            _field("contact", "Contact", _input("contact", values.get("contact"))),
            _field("description", "Description", _area("description", values.get("description"))),
        ]
    return html.Div(fields)


def form_title(kind: str, values: Mapping[str, Any] | None) -> str:
    if not values:
        noun = SINGULAR[kind]
        return f"Add {'an' if noun[0] in 'aeiou' else 'a'} {noun}"
    name = values.get("title") or values.get("name") or values.get("code") or ""
    archived = " (archived)" if values.get("archived") else ""
    return f"Edit {SINGULAR[kind]}: {name}{archived}"


def confirm_text(kind: str, name: str) -> str:
    return (
        f"Archive the {SINGULAR[kind]} “{name}”? It leaves the pickers and the weekly ranking; "
        "its history (values, reports, decisions, audit) stays, and you can restore it."
    )


def field_errors(names: Sequence[str], errors: Mapping[str, str]) -> tuple[list[Any], list[str]]:
    """Error text and the control's class for every field, in ``names`` order."""
    texts = [html.Span(errors[n], className="error-text") if n in errors else "" for n in names]
    base = {"indicators": CHECKLIST_CLASS}
    classes = [
        " ".join(filter(None, (base.get(n, ""), "is-invalid" if n in errors else "")))
        for n in names
    ]
    return texts, classes


def saved_message(kind: str, name: str, *, created: bool, changed: bool) -> html.Div:
    if created:
        return notice(f"Added the {SINGULAR[kind]} “{name}”.", "success")
    if not changed:
        return notice(f"Nothing to save: “{name}” is unchanged.", "info")
    return notice(f"Saved the changes to “{name}” (recorded in the audit log).", "success")


def archived_message(kind: str, name: str, archived: bool) -> html.Div:
    if archived:
        return notice(
            f"Archived the {SINGULAR[kind]} “{name}”. It no longer appears in pickers or the "
            "ranking; tick “Show archived” to find it again.",
            "success",
        )
    return notice(f"Restored the {SINGULAR[kind]} “{name}”.", "success")


def error_message(message: str, count: int = 0) -> html.Div:
    title = (
        f"{count} field{'s' if count != 1 else ''} need{'s' if count == 1 else ''} attention"
        if count
        else None
    )
    return notice(message, "danger", title=title)


# ---------------------------------------------------------------- the table


SORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "department": (("code", "Code"), ("name", "Name"), ("used", "Most indicators")),
    "indicator": (
        ("code", "Code"),
        ("name", "Name"),
        ("department", "Department"),
        ("used", "Most problems"),
    ),
    "problem": (
        ("code", "Code"),
        ("title", "Title"),
        ("lead_department", "Lead department"),
        ("status", "Status"),
    ),
    "actor": (("name", "Name"), ("sector", "Sector")),
    "district": (("code", "Code"), ("name", "Name"), ("reports", "Most reports")),
    "rename": (("category", "New name"), ("continues", "Old name")),
    "source": (("name", "Name"), ("kind", "Kind")),
}


def sort_options(kind: str) -> list[dict[str, str]]:
    return _pairs(SORTS.get(kind, ()))


def filter_sort_page(
    frame: pd.DataFrame, *, text: str, sort: str, page: int, archived: bool
) -> tuple[pd.DataFrame, int, int, int]:
    """The rows to show: filtered (any cell containing ``text``, case-insensitive; archived
    rows only when asked), sorted by ``sort`` and cut to ``page`` (1-based, clamped).

    Returns (rows, matching rows, the page shown, pages).
    """
    if "archived" in frame.columns and not archived:
        frame = frame[~frame["archived"].astype(bool)]
    needle = text.strip().casefold()
    if needle and not frame.empty:
        cells = frame.drop(columns=[c for c in ("id",) if c in frame.columns]).astype(str)
        mask = cells.apply(lambda column: column.str.casefold().str.contains(needle, regex=False))
        frame = frame[mask.any(axis=1)]
    if sort in frame.columns and not frame.empty:
        descending = sort in {"used", "reports"}
        key = frame[sort]
        frame = frame.assign(_key=key if descending else key.astype(str).str.casefold())
        frame = frame.sort_values("_key", ascending=not descending, kind="stable").drop(
            columns="_key"
        )
    total = len(frame)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    return frame.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], total, page, pages


def _state(archived: Any) -> html.Span:
    if bool(archived):
        return html.Span("Archived", className="status-badge tone-neutral")
    return html.Span("Active", className="status-badge tone-success")


def _edit(record_id: int, name: str) -> html.Button:
    """The record's name as a button that opens it in the form (the row's header)."""
    return html.Button(
        [html.Span("Edit ", className="visually-hidden"), name],
        id=ids.admin_catalog_edit_button(int(record_id)),
        type="button",
        className="btn btn-link catalog-edit",
        n_clicks=0,
        title=f"Edit {name}",
    )


def catalogue_table(kind: str, rows: pd.DataFrame, total: int, everything: int) -> Any:
    """One page of records of ``kind`` (``db.catalog_admin.catalogue_frame`` rows)."""
    plural = dict(KINDS)[kind].lower()
    if everything == 0:
        return empty_state(
            f"No {plural} yet.",
            "Add the first one with the form, or import a city pack "
            "(triage city import FOLDER) to bring in many at once.",
        )
    if total == 0:
        return empty_state(f"No {plural} match.", "Change the filter, or show archived ones.")
    records = rows.to_dict("records")
    if kind == "department":
        columns = [
            Column("Code", "code"),
            Column("Name", "name"),
            Column("Indicators", "used", numeric=True),
        ]
        header = "name"
    elif kind == "indicator":
        columns = [
            Column("Code", "code"),
            Column("Name", "name"),
            Column("Department", "department"),
            Column("Target", "target"),
            Column("Problems", "used", numeric=True),
        ]
        header = "name"
    elif kind == "problem":
        columns = [
            Column("Code", "code"),
            Column("Title", "title"),
            Column("Lead", "lead_department"),
            Column("Status", "status"),
            Column("Indicators", "indicators"),
            Column("Categories", "categories"),
        ]
        header = "title"
    else:
        columns = [Column("Name", "name"), Column("Sector", "sector"), Column("Contact", "contact")]
        header = "name"
    shown = []
    for record in records:
        row = {c.key: record.get(c.key) for c in columns}
        if kind == "indicator" and record.get("target"):
            better = {"up": "higher", "down": "lower"}.get(record["direction"], "")
            unit = f" {record['unit']}" if record.get("unit") else ""
            row["target"] = f"{record['target']}{unit}, {better} is better".strip(", ")
        if kind == "problem":
            row["status"] = humanize(record["status"])
            row["indicators"] = ", ".join(record["indicators"]) or "—"
            row["categories"] = f"{len(record['categories'])}"
        if kind == "actor":
            row["sector"] = humanize(record["sector"])
        for key, value in row.items():
            if value in ("", None):
                row[key] = "—"
            elif not isinstance(value, str):
                row[key] = str(value)
        if row.get("code") not in (None, "—"):
            row["code"] = html.Span(row["code"], className="catalog-code")
        row["state"] = _state(record.get("archived"))
        name = str(record.get("title") or record.get("name") or record.get("code"))
        row[header] = _edit(int(record["id"]), name)
        shown.append(row)
    columns.append(Column("State", "state"))
    return data_table(columns, shown, caption=f"{dict(KINDS)[kind]} of the city", row_header=header)


def count_text(kind: str, total: int, page: int, pages: int) -> str:
    plural = dict(KINDS)[kind].lower()
    text = f"{total:,} {plural if total != 1 else SINGULAR[kind]}"
    return text + (f", page {page} of {pages}" if pages > 1 else "")
