"""Administration callbacks of the "City setup" tab (departments, indicators, problems, actors,
district boundaries, renamed categories, data sources) and of the "Add a user" form on the
Users tab.

Every callback needs MANAGE_CATALOGUE (administrators) or, for users, MANAGE_USERS; the writes
in ``db.catalog_admin`` and ``db.accounts`` check that again before changing anything.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.policy import current_database, current_settings, secured_callback
from db import accounts, catalog_admin
from db.catalog import district_report_counts
from db.catalog_admin import data_sources
from layouts import admin_catalog as view
from layouts import admin_catalog_feeds as feeds
from layouts import admin_catalog_renames as renames
from layouts import admin_user_form, ids
from triage.citypack import read_district_file
from triage.security import ROLE_LABELS, Capability, Principal
from triage.validation import ValidationError
from triage.vocabulary import CATALOGUE_KINDS

CATALOGUE = Capability.MANAGE_CATALOGUE
DISTRICT_HINTS = {
    "code": ("code", "boro_cd", "borocd", "district", "id"),
    "name": ("name", "label"),
    "population": ("population", "pop"),
}


def _kind(value: Any) -> str:
    kinds = {k for k, _ in view.KINDS}
    return value if isinstance(value, str) and value in kinds else "department"


def _trigger(triggered_id: Any, triggered_value: Any = None) -> tuple[Any, Any]:
    if triggered_id is None and ctx.triggered:
        return ctx.triggered_id, ctx.triggered[0].get("value")
    return triggered_id, triggered_value


def _chosen(value: Any) -> str | None:
    """A select's value, None for its "None" choice (or nothing chosen)."""
    if not isinstance(value, str) or value in ("", feeds.NONE_VALUE):
        return None
    return value


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


# ---------------------------------------------------------------- kind, query and table


def kind_view(kind: Any, *, principal: Principal) -> tuple[Any, ...]:
    """Sort choices of the chosen kind; which of the four forms shows."""
    kind = _kind(kind)
    options = view.sort_options(kind)
    return (
        options,
        options[0]["value"],
        kind not in CATALOGUE_KINDS,
        kind != "district",
        kind != "source",
        kind != "rename",
    )


def table_query(
    _prev: Any,
    _next: Any,
    kind: Any,
    text: Any,
    archived: Any,
    sort: Any,
    query: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
) -> dict[str, Any]:
    """What the table shows: a page moves with Previous/Next, anything else starts at page 1."""
    triggered_id, _ = _trigger(triggered_id)
    page = _count((query or {}).get("page")) if isinstance(query, dict) else 0
    if triggered_id == ids.ADMIN_CATALOG_NEXT_BUTTON:
        page += 1
    elif triggered_id == ids.ADMIN_CATALOG_PREV_BUTTON:
        page -= 1
    else:
        page = 1
    return {
        "kind": _kind(kind),
        "text": str(text or "")[:100],
        "archived": bool(archived),
        "sort": str(sort or ""),
        "page": max(1, page),
    }


def catalogue_list(
    query: Any,
    _saved: Any,
    _districts: Any,
    _sources: Any,
    _renames: Any = 0,
    *,
    principal: Principal,
) -> tuple[Any, str, bool, bool]:
    """One page of the chosen kind's records, its count line and the pager's state."""
    query = query if isinstance(query, dict) else {}
    kind = _kind(query.get("kind"))
    with current_database().session() as session:
        if kind == "district":
            frame = district_report_counts(session)
        elif kind == "source":
            frame = data_sources(session)
        elif kind == "rename":
            frame = catalog_admin.category_renames(session)
        else:
            frame = catalog_admin.catalogue_frame(session, kind)
    everything = len(frame)
    rows, total, page, pages = view.filter_sort_page(
        frame,
        text=str(query.get("text") or ""),
        sort=str(query.get("sort") or ""),
        page=_count(query.get("page")) or 1,
        archived=bool(query.get("archived")),
    )
    if kind == "district":
        table = feeds.districts_table(rows, total, everything)
    elif kind == "source":
        table = feeds.sources_list(rows, total, everything)
    elif kind == "rename":
        table = renames.renames_table(rows, total, everything)
    else:
        table = view.catalogue_table(kind, rows, total, everything)
    return table, view.count_text(kind, total, page, pages), page <= 1, page >= pages


# ---------------------------------------------------------------- the form


def catalogue_form(
    kind: Any,
    _edit: Any,
    _cancel: Any,
    _saved: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
    triggered_value: Any = None,
) -> tuple[Any, ...]:
    """The form: empty for a new record, or filled with the record whose Edit was clicked."""
    triggered_id, triggered_value = _trigger(triggered_id, triggered_value)
    kind = _kind(kind)
    if kind not in CATALOGUE_KINDS:
        return "", [], None, True, True, True
    record_id = None
    if isinstance(triggered_id, dict) and triggered_id.get("type") == ids.ADMIN_CATALOG_EDIT_TYPE:
        if not triggered_value:
            raise PreventUpdate
        index = triggered_id.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise PreventUpdate
        record_id = index
    with current_database().session() as session:
        values = catalog_admin.record_values(session, kind, record_id) if record_id else None
        choices = catalog_admin.choices(session)
    editing = values is not None
    fields = view.form_fields(kind, values, choices, editing=editing)
    archived = bool(values and values.get("archived"))
    return (
        view.form_title(kind, values),
        fields,
        {"kind": kind, "id": record_id} if editing else None,
        not editing,
        not editing or archived,
        not archived,
    )


def archive_confirm(
    _archive: Any, _keep: Any, editing: Any, *, principal: Principal, triggered_id: Any = None
) -> tuple[bool, str]:
    """Show the confirmation after "Archive…"; hide it otherwise (Keep it, another record)."""
    triggered_id, _ = _trigger(triggered_id)
    if triggered_id != ids.ADMIN_CATALOG_ARCHIVE_BUTTON or not isinstance(editing, dict):
        return True, ""
    kind = _kind(editing.get("kind"))
    record_id = editing.get("id")
    if kind not in CATALOGUE_KINDS or not isinstance(record_id, int):
        return True, ""
    with current_database().session() as session:
        values = catalog_admin.record_values(session, kind, record_id)
    if values is None:
        return True, ""
    name = str(values.get("title") or values.get("name") or values.get("code"))
    return False, view.confirm_text(kind, name)


def _shown_fields(names: list[str]) -> tuple[list[Any], list[Any]]:
    """The fields whose error and class this request updates, in the order Dash expects: as
    the request lists them (it may differ from the form's state), else the form's fields."""
    try:
        errors, classes = ctx.outputs_list[1], ctx.outputs_list[2]
        return [o["id"]["index"] for o in errors], [o["id"]["index"] for o in classes]
    except Exception:  # called directly, outside a Dash request
        return names, names


def _form_values(values: Any, field_ids: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for field_id, value in zip(field_ids or [], values or [], strict=False):
        name = field_id.get("index") if isinstance(field_id, dict) else None
        if isinstance(name, str):
            result[name] = None if value == feeds.NONE_VALUE else value
    return result


def catalogue_save(
    _save: Any,
    _confirm: Any,
    _restore: Any,
    values: Any,
    field_ids: Any,
    editing: Any,
    kind: Any,
    saved: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
) -> tuple[Any, list[Any], list[str], Any]:
    """Save the form, or archive or restore the record being edited.

    Feedback; each field's inline error and class (input kept on an error); the saved
    counter, bumped only when something was written (the form and table then reload).
    """
    triggered_id, _ = _trigger(triggered_id)
    names = [f.get("index") for f in field_ids or [] if isinstance(f, dict)]
    if not names:
        raise PreventUpdate  # no form on the screen: nothing to save
    shown = _shown_fields(names)
    kind = _kind(kind)
    target = editing if isinstance(editing, dict) else None
    record_id = target.get("id") if target else None
    if target is not None and (_kind(target.get("kind")) != kind or not isinstance(record_id, int)):
        target, record_id = None, None
    if kind not in CATALOGUE_KINDS:
        raise PreventUpdate
    try:
        with current_database().session(write=True) as session:
            if triggered_id in (ids.ADMIN_CATALOG_CONFIRM_BUTTON, ids.ADMIN_CATALOG_RESTORE_BUTTON):
                if record_id is None:
                    raise PreventUpdate
                archive = triggered_id == ids.ADMIN_CATALOG_CONFIRM_BUTTON
                name = catalog_admin.set_archived(session, principal, kind, record_id, archive)
                message = view.archived_message(kind, name, archive)
            elif triggered_id == ids.ADMIN_CATALOG_SAVE_BUTTON:
                form = _form_values(values, field_ids)
                result = catalog_admin.save_record(
                    session, principal, kind, form, record_id=record_id
                )
                name = str(form.get("title") or form.get("name") or form.get("code") or "")
                message = view.saved_message(
                    kind, name.strip(), created=result.created, changed=result.changed
                )
            else:
                raise PreventUpdate
    except catalog_admin.FieldError as error:
        errors = {error.field: str(error)} if error.field in names else {}
        texts = view.field_errors(shown[0], errors)[0]
        classes = view.field_errors(shown[1], errors)[1]
        return view.error_message(str(error), len(errors)), texts, classes, dash.no_update
    return (
        message,
        view.field_errors(shown[0], {})[0],
        view.field_errors(shown[1], {})[1],
        (_count(saved) + 1),
    )


# ---------------------------------------------------------------- districts


def _upload_bytes(contents: Any) -> bytes:
    """The bytes of a ``dcc.Upload`` data URL; ``ValidationError`` when it is not one."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValidationError("Choose a GeoJSON file first.")
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The upload was damaged; choose the file again.") from None
    if len(data) > feeds.DISTRICT_UPLOAD_MAX_BYTES:
        limit = feeds.DISTRICT_UPLOAD_MAX_BYTES / 1_000_000
        raise ValidationError(f"The file is larger than {limit:.1f} MB.")
    return data


def district_file(contents: Any, filename: Any, *, principal: Principal) -> tuple[Any, ...]:
    """After a file is chosen: its properties as the choices of code, name and population."""
    if not contents:
        raise PreventUpdate
    try:
        data = _upload_bytes(contents)
        names = catalog_admin.upload_properties(data)
    except ValidationError as error:
        empty: list[dict[str, str]] = []
        none = feeds.NONE_VALUE
        return feeds.upload_refused(str(error)), empty, None, empty, none, empty, none
    code = feeds.guess_property(names, DISTRICT_HINTS["code"]) or names[0]
    return (
        feeds.file_summary(str(filename or ""), len(data), names),
        feeds.property_options(names, optional=False),
        code,
        feeds.property_options(names, optional=True),
        feeds.guess_property([n for n in names if n != code], DISTRICT_HINTS["name"])
        or feeds.NONE_VALUE,
        feeds.property_options(names, optional=True),
        feeds.guess_property(names, DISTRICT_HINTS["population"]) or feeds.NONE_VALUE,
    )


def district_import(
    clicks: Any,
    contents: Any,
    filename: Any,
    code: Any,
    name: Any,
    population: Any,
    saved: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any]:
    """Import the uploaded boundaries (the pack's rules); report added, updated, rejects."""
    if not clicks:
        raise PreventUpdate
    try:
        data = _upload_bytes(contents)
        if not isinstance(code, str) or not code:
            raise ValidationError("Choose the property that holds the district code.")
        pack = read_district_file(
            data,
            code_property=code,
            name_property=_chosen(name),
            population_property=_chosen(population),
            file_name=feeds.safe_file_name(filename),
        )
        if not pack.districts:
            reasons = "; ".join(str(r) for r in pack.rejects[:3])
            raise ValidationError(f"No district could be read from the file. {reasons}")
        with current_database().session(write=True) as session:
            result = catalog_admin.import_district_upload(
                session, principal, pack, city_tz=current_settings().timezone
            )
    except ValidationError as error:
        return feeds.upload_refused(str(error)), dash.no_update
    return feeds.district_result(result, result.rejects), _count(saved) + 1


# ---------------------------------------------------------------- data sources


def source_kind(kind: Any, *, principal: Principal) -> tuple[Any, ...]:
    """Open311 fields or file fields, the layouts of that kind, and the address label."""
    layouts = catalog_admin.source_choices()
    if kind == "open311" or kind not in layouts:
        return False, True, [], "Endpoint address"
    options = [{"label": name, "value": name} for name in layouts[kind]]
    return True, False, options, "File path on the server"


def source_save(
    clicks: Any,
    name: Any,
    kind: Any,
    url: Any,
    fmt: Any,
    jurisdiction: Any,
    layout: Any,
    timezone: Any,
    poll: Any,
    saved: Any,
    *,
    principal: Principal,
) -> tuple[Any, ...]:
    """Add the data source; on an error the field at fault is marked and the input kept."""
    if not clicks:
        raise PreventUpdate
    try:
        with current_database().session(write=True) as session:
            catalog_admin.add_data_source(
                session,
                principal,
                name=name,
                kind=kind,
                url=url,
                fmt=fmt,
                jurisdiction_id=jurisdiction,
                layout=layout,
                timezone=timezone,
                poll_minutes=poll,
            )
    except catalog_admin.FieldError as error:
        invalid = [error.field == field for field in feeds.SOURCE_FIELDS]
        return (feeds.source_refused(str(error)), *invalid, dash.no_update)
    return (
        feeds.source_added(str(name).strip()),
        *([False] * len(feeds.SOURCE_FIELDS)),
        _count(saved) + 1,
    )


# ---------------------------------------------------------------- renamed categories


def rename_options(_kind: Any, _saved: Any, *, principal: Principal) -> tuple[list, list]:
    """Every report category, for both pickers of the rename form."""
    with current_database().session() as session:
        options = renames.category_options(catalog_admin.category_options(session))
    return options, options


def rename_save(
    _link: Any,
    _remove: Any,
    new: Any,
    old: Any,
    saved: Any,
    *,
    principal: Principal,
    triggered_id: Any = None,
) -> tuple[Any, bool, bool, Any]:
    """Link the new name to the old (or remove the new name's link); the message says what was
    done, or what is wrong and which picker is at fault."""
    triggered_id, _ = _trigger(triggered_id)
    if triggered_id not in (ids.ADMIN_RENAME_SAVE_BUTTON, ids.ADMIN_RENAME_REMOVE_BUTTON):
        raise PreventUpdate
    removing = triggered_id == ids.ADMIN_RENAME_REMOVE_BUTTON
    if not removing and new and not old:
        return renames.rename_refused("Choose the old name."), False, True, dash.no_update
    try:
        with current_database().session(write=True) as session:
            message = catalog_admin.set_category_continues(
                session, principal, new, None if removing else (old or "")
            )
    except catalog_admin.FieldError as error:
        new_bad = error.field == "category"
        return renames.rename_refused(str(error)), new_bad, not new_bad, dash.no_update
    return renames.rename_saved(message), False, False, _count(saved) + 1


# ---------------------------------------------------------------- users


def user_form_options(_added: Any, *, principal: Principal) -> tuple[list, list]:
    """The roles and the departments (not archived) a new user may have."""
    with current_database().session() as session:
        departments = catalog_admin.choices(session)["department"]
    labels = {role.value: label for role, label in ROLE_LABELS.items()}
    return admin_user_form.role_options(labels), admin_user_form.department_options(departments)


def user_add(
    clicks: Any,
    username: Any,
    display_name: Any,
    role: Any,
    department: Any,
    password: Any,
    added: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any, Any]:
    """Create the user (``db.accounts.create_user``: validated, audited, password hashed).

    The password field is emptied either way, so it never lingers on the screen.
    """
    if not clicks:
        raise PreventUpdate
    try:
        with current_database().session(write=True) as session:
            accounts.create_user(
                session,
                principal,
                str(username or ""),
                str(role or ""),
                str(password or ""),
                display_name=str(display_name or "").strip() or None,
                department_code=_chosen(department),
            )
    except accounts.AccountError as error:
        return admin_user_form.refused_message(str(error)), "", dash.no_update
    labels = {role.value: label for role, label in ROLE_LABELS.items()}
    message = admin_user_form.added_message(
        str(username).strip().lower(), labels.get(str(role), str(role))
    )
    return message, "", _count(added) + 1


# ---------------------------------------------------------------- wiring


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_SORT_SELECT, "options"),
        Output(ids.ADMIN_CATALOG_SORT_SELECT, "value"),
        Output(ids.ADMIN_CATALOG_FORM_SECTION, "hidden"),
        Output(ids.ADMIN_DISTRICTS_SECTION, "hidden"),
        Output(ids.ADMIN_SOURCE_SECTION, "hidden"),
        Output(ids.ADMIN_RENAME_SECTION, "hidden"),
        Input(ids.ADMIN_CATALOG_KIND_RADIO, "value"),
    )(kind_view)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_QUERY_STORE, "data"),
        Input(ids.ADMIN_CATALOG_PREV_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_NEXT_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_KIND_RADIO, "value"),
        Input(ids.ADMIN_CATALOG_FILTER_INPUT, "value"),
        Input(ids.ADMIN_CATALOG_ARCHIVED_CHECK, "value"),
        Input(ids.ADMIN_CATALOG_SORT_SELECT, "value"),
        State(ids.ADMIN_CATALOG_QUERY_STORE, "data"),
        expect={(ids.ADMIN_CATALOG_QUERY_STORE, "data"): dict | None},
    )(table_query)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_TABLE_DIV, "children"),
        Output(ids.ADMIN_CATALOG_TABLE_TITLE, "children"),
        Output(ids.ADMIN_CATALOG_PREV_BUTTON, "disabled"),
        Output(ids.ADMIN_CATALOG_NEXT_BUTTON, "disabled"),
        Input(ids.ADMIN_CATALOG_QUERY_STORE, "data"),
        Input(ids.ADMIN_CATALOG_SAVED_STORE, "data"),
        Input(ids.ADMIN_DISTRICTS_SAVED_STORE, "data"),
        Input(ids.ADMIN_SOURCE_SAVED_STORE, "data"),
        Input(ids.ADMIN_RENAME_SAVED_STORE, "data"),
        expect={(ids.ADMIN_CATALOG_QUERY_STORE, "data"): dict | None},
    )(catalogue_list)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_FORM_TITLE, "children"),
        Output(ids.ADMIN_CATALOG_FIELDS_DIV, "children"),
        Output(ids.ADMIN_CATALOG_EDITING_STORE, "data"),
        Output(ids.ADMIN_CATALOG_CANCEL_BUTTON, "hidden"),
        Output(ids.ADMIN_CATALOG_ARCHIVE_BUTTON, "hidden"),
        Output(ids.ADMIN_CATALOG_RESTORE_BUTTON, "hidden"),
        Input(ids.ADMIN_CATALOG_KIND_RADIO, "value"),
        Input(ids.admin_catalog_edit_button(ALL), "n_clicks"),
        Input(ids.ADMIN_CATALOG_CANCEL_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_SAVED_STORE, "data"),
    )(catalogue_form)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_CONFIRM_DIV, "hidden"),
        Output(ids.ADMIN_CATALOG_CONFIRM_TEXT, "children"),
        Input(ids.ADMIN_CATALOG_ARCHIVE_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_KEEP_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_EDITING_STORE, "data"),
        expect={(ids.ADMIN_CATALOG_EDITING_STORE, "data"): dict | None},
    )(archive_confirm)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_CATALOG_FEEDBACK_DIV, "children"),
        Output(ids.admin_catalog_error(ALL), "children"),
        Output(ids.admin_catalog_field(ALL), "className"),
        Output(ids.ADMIN_CATALOG_SAVED_STORE, "data"),
        Input(ids.ADMIN_CATALOG_SAVE_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_CONFIRM_BUTTON, "n_clicks"),
        Input(ids.ADMIN_CATALOG_RESTORE_BUTTON, "n_clicks"),
        State(ids.admin_catalog_field(ALL), "value"),
        State(ids.admin_catalog_field(ALL), "id"),
        State(ids.ADMIN_CATALOG_EDITING_STORE, "data"),
        State(ids.ADMIN_CATALOG_KIND_RADIO, "value"),
        State(ids.ADMIN_CATALOG_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={
            (ids.ADMIN_CATALOG_EDITING_STORE, "data"): dict | None,
            (ids.ADMIN_CATALOG_SAVED_STORE, "data"): int | None,
        },
    )(catalogue_save)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_DISTRICTS_FILE_DIV, "children"),
        Output(ids.ADMIN_DISTRICTS_CODE_SELECT, "options"),
        Output(ids.ADMIN_DISTRICTS_CODE_SELECT, "value"),
        Output(ids.ADMIN_DISTRICTS_NAME_SELECT, "options"),
        Output(ids.ADMIN_DISTRICTS_NAME_SELECT, "value"),
        Output(ids.ADMIN_DISTRICTS_POPULATION_SELECT, "options"),
        Output(ids.ADMIN_DISTRICTS_POPULATION_SELECT, "value"),
        Input(ids.ADMIN_DISTRICTS_UPLOAD, "contents"),
        State(ids.ADMIN_DISTRICTS_UPLOAD, "filename"),
        prevent_initial_call=True,
    )(district_file)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_DISTRICTS_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_DISTRICTS_SAVED_STORE, "data"),
        Input(ids.ADMIN_DISTRICTS_IMPORT_BUTTON, "n_clicks"),
        State(ids.ADMIN_DISTRICTS_UPLOAD, "contents"),
        State(ids.ADMIN_DISTRICTS_UPLOAD, "filename"),
        State(ids.ADMIN_DISTRICTS_CODE_SELECT, "value"),
        State(ids.ADMIN_DISTRICTS_NAME_SELECT, "value"),
        State(ids.ADMIN_DISTRICTS_POPULATION_SELECT, "value"),
        State(ids.ADMIN_DISTRICTS_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_DISTRICTS_SAVED_STORE, "data"): int | None},
    )(district_import)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_SOURCE_OPEN311_DIV, "hidden"),
        Output(ids.ADMIN_SOURCE_FILE_DIV, "hidden"),
        Output(ids.ADMIN_SOURCE_LAYOUT_SELECT, "options"),
        Output(ids.ADMIN_SOURCE_URL_LABEL, "children"),
        Input(ids.ADMIN_SOURCE_KIND_SELECT, "value"),
    )(source_kind)
    source_inputs = (
        ids.ADMIN_SOURCE_NAME_INPUT,
        ids.ADMIN_SOURCE_KIND_SELECT,
        ids.ADMIN_SOURCE_URL_INPUT,
        ids.ADMIN_SOURCE_FORMAT_SELECT,
        ids.ADMIN_SOURCE_LAYOUT_SELECT,
        ids.ADMIN_SOURCE_TIMEZONE_INPUT,
        ids.ADMIN_SOURCE_POLL_INPUT,
    )
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_SOURCE_FEEDBACK_DIV, "children"),
        *(Output(component, "invalid") for component in source_inputs),
        Output(ids.ADMIN_SOURCE_SAVED_STORE, "data"),
        Input(ids.ADMIN_SOURCE_SAVE_BUTTON, "n_clicks"),
        State(ids.ADMIN_SOURCE_NAME_INPUT, "value"),
        State(ids.ADMIN_SOURCE_KIND_SELECT, "value"),
        State(ids.ADMIN_SOURCE_URL_INPUT, "value"),
        State(ids.ADMIN_SOURCE_FORMAT_SELECT, "value"),
        State(ids.ADMIN_SOURCE_JURISDICTION_INPUT, "value"),
        State(ids.ADMIN_SOURCE_LAYOUT_SELECT, "value"),
        State(ids.ADMIN_SOURCE_TIMEZONE_INPUT, "value"),
        State(ids.ADMIN_SOURCE_POLL_INPUT, "value"),
        State(ids.ADMIN_SOURCE_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_SOURCE_SAVED_STORE, "data"): int | None},
    )(source_save)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_RENAME_NEW_SELECT, "options"),
        Output(ids.ADMIN_RENAME_OLD_SELECT, "options"),
        Input(ids.ADMIN_CATALOG_KIND_RADIO, "value"),
        Input(ids.ADMIN_RENAME_SAVED_STORE, "data"),
    )(rename_options)
    secured_callback(
        app,
        CATALOGUE,
        Output(ids.ADMIN_RENAME_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_RENAME_NEW_SELECT, "invalid"),
        Output(ids.ADMIN_RENAME_OLD_SELECT, "invalid"),
        Output(ids.ADMIN_RENAME_SAVED_STORE, "data"),
        Input(ids.ADMIN_RENAME_SAVE_BUTTON, "n_clicks"),
        Input(ids.ADMIN_RENAME_REMOVE_BUTTON, "n_clicks"),
        State(ids.ADMIN_RENAME_NEW_SELECT, "value"),
        State(ids.ADMIN_RENAME_OLD_SELECT, "value"),
        State(ids.ADMIN_RENAME_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_RENAME_SAVED_STORE, "data"): int | None},
    )(rename_save)
    secured_callback(
        app,
        Capability.MANAGE_USERS,
        Output(ids.ADMIN_USER_ADD_ROLE_SELECT, "options"),
        Output(ids.ADMIN_USER_ADD_DEPARTMENT_SELECT, "options"),
        Input(ids.ADMIN_USER_ADD_SAVED_STORE, "data"),
    )(user_form_options)
    secured_callback(
        app,
        Capability.MANAGE_USERS,
        Output(ids.ADMIN_USER_ADD_FEEDBACK_DIV, "children"),
        Output(ids.ADMIN_USER_ADD_PASSWORD_INPUT, "value"),
        Output(ids.ADMIN_USER_ADD_SAVED_STORE, "data"),
        Input(ids.ADMIN_USER_ADD_BUTTON, "n_clicks"),
        State(ids.ADMIN_USER_ADD_USERNAME_INPUT, "value"),
        State(ids.ADMIN_USER_ADD_NAME_INPUT, "value"),
        State(ids.ADMIN_USER_ADD_ROLE_SELECT, "value"),
        State(ids.ADMIN_USER_ADD_DEPARTMENT_SELECT, "value"),
        State(ids.ADMIN_USER_ADD_PASSWORD_INPUT, "value"),
        State(ids.ADMIN_USER_ADD_SAVED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.ADMIN_USER_ADD_SAVED_STORE, "data"): int | None},
    )(user_add)
