"""My department callbacks: which department, its indicators, the alerts on them and the head's
answers, recording a new value (details of the chosen indicator, period due, plausibility
question, status from the numbers), and the bulk upload (preview, then an all-or-nothing
commit that re-reads the file on the server).

Scope is enforced on the server, once per rule: a department head always gets her own
department here; a write to another department's indicator raises PermissionDenied in the write
itself (``db.indicators.record_form_value``: 403, nothing written), which also makes the domain's
checks; an uploaded row for another department's indicator is rejected and blocks the whole
upload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, fields
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from callbacks.policy import (
    current_database,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from db import lookups
from db.alerts.actions import alert_department_id, answer_indicator_alert
from db.alerts.feed import department_alerts
from db.indicators import (
    ImplausibleValue,
    department_indicators,
    indicator_status,
    recent_observations,
    record_form_value,
)
from db.ingest import (
    PlannedObservation,
    UpsertCounts,
    count_planned,
    import_observations,
    plan_observations,
)
from layouts import department, ids
from layouts.components import empty_state, format_number
from triage.export import safe_csv
from triage.indicators import direction_text, period_due, period_to_fill
from triage.ingest.errors import IngestError, Rejection
from triage.ingest.indicators import read_indicator_file
from triage.security import Capability, Principal, Role
from triage.validation import (
    INDICATOR_STATUSES,
    ValidationError,
    parse_period,
    parse_value,
)

# The first data row of an uploaded spreadsheet is row 2 (the header is row 1): the reader
# numbers data rows from 1, the person sees the numbers her spreadsheet shows.
SPREADSHEET_ROW_OFFSET = 1


def _as_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def scoped_department_id(principal: Principal, requested: Any) -> int | None:
    """The department this principal may work on: a head's own, otherwise the one requested."""
    if principal.role == Role.DEPARTMENT_HEAD:
        return principal.department_id
    return _as_id(requested)


def department_choices(_page: Any, *, principal: Principal) -> tuple[list, str | None, bool, str]:
    """Options, value and disabled flag of the department select; the period field's latest
    allowed date (the city's today, not the browser's or the server's). The period's value
    follows the chosen indicator (``indicator_details_view``)."""
    today = local_today().isoformat()
    with current_database().session() as session:
        frame = lookups.departments(session)
    if principal.role == Role.DEPARTMENT_HEAD:
        frame = frame[frame["id"] == principal.department_id]
        value = str(principal.department_id) if principal.department_id else None
        return department.department_options(frame), value, True, today
    options = department.department_options(frame)
    return options, (options[0]["value"] if options else None), False, today


def _indicator_row(session: Any, indicator_id: int) -> Any:
    """The indicator's row of ``indicator_status`` (None when there is none)."""
    frame = indicator_status(session, today=local_today(), indicator_ids=[indicator_id])
    return None if frame.empty else next(frame.itertuples(index=False))


def indicator_details_view(indicator: Any, _saved: Any, *, principal: Principal) -> tuple[Any, Any]:
    """The chosen indicator's unit, direction, last value, target, cadence and period due; the
    period field set to the period due, or emptied when the indicator is up to date (never an
    already-filled period: a correction is typed on purpose). Refreshed after each save."""
    indicator_id = _as_id(indicator)
    if indicator_id is None:
        return department.indicator_details_empty(), no_update
    with current_database().session() as session:
        row = _indicator_row(session, indicator_id)
    if row is None or (
        principal.role == Role.DEPARTMENT_HEAD and row.department_id != principal.department_id
    ):
        return department.indicator_details_empty(), no_update
    today = local_today()
    due = period_due(row.latest_period, str(row.cadence), today)
    start = period_to_fill(row.latest_period, str(row.cadence), today)
    return department.indicator_details(row, due), start.isoformat() if start else None


def department_view(
    requested: Any, _saved: Any, _uploaded: Any = None, *, principal: Principal
) -> tuple[Any, list, Any]:
    """The indicator table, the form's indicator options and the recent entries (refreshed
    after a value is saved or an upload is recorded)."""
    department_id = scoped_department_id(principal, requested)
    if department_id is None:
        empty = empty_state("Choose a department to see its indicators.")
        return empty, [], empty_state("Nothing to show yet.")
    with current_database().session() as session:
        names = lookups.departments(session)
        match = names[names["id"] == department_id]
        if match.empty:
            missing = empty_state("There is no such department.")
            return missing, [], empty_state("Nothing to show yet.")
        frame = department_indicators(session, department_id, today=local_today())
        recent = recent_observations(session, department_id)
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


def confirm_key(indicator_id: int, period: Any, value: float) -> str:
    """What a confirmation of an implausible value is for: this indicator, period and value."""
    return f"{indicator_id}|{parse_period(period).isoformat()}|{value!r}"


def record_value(
    n_clicks: Any,
    indicator: Any,
    period: Any,
    value: Any,
    status: Any,
    note: Any,
    saved: Any,
    confirmed: Any = None,
    *,
    principal: Principal,
) -> tuple[Any, Any, Any, Any, Any]:
    """Validate and record one observation; returns feedback, saved counter, value, note and
    the pending confirmation.

    A value implausible against the indicator's history or, without enough of it, against its
    unit, target and thresholds (``value_doubt``), and a value for a period that already has
    one, are saved only when the same indicator, period and value are sent again (the
    confirmation); the saved message names the value replaced. Without a
    status the numbers' status is stored; a given status that disagrees is kept, and both are
    shown. An indicator still overdue after the save is said to be so.
    """
    if not n_clicks:
        raise PreventUpdate
    problems = form_problems(indicator, period, value, status)
    if problems:
        return department.rejected_message(problems), no_update, no_update, no_update, None
    indicator_id = _as_id(indicator)
    assert indicator_id is not None
    number = parse_value(value)
    key = confirm_key(indicator_id, period, number)
    today = local_today()
    with current_database().session(write=True) as session:
        try:  # scope, the domain's rules and the plausibility question: checked in the write
            recorded = record_form_value(
                session,
                principal,
                indicator_id,
                period,
                value,
                status=status if status in INDICATOR_STATUSES else None,
                note=str(note or ""),
                today=today,
                confirmed=confirmed == key,
            )
        except ImplausibleValue as question:
            message = department.confirm_message(question.doubt, question.replaces)
            return message, no_update, no_update, no_update, key
        except ValidationError as error:
            return department.rejected_message([str(error)]), no_update, no_update, no_update, None
        row = _indicator_row(session, indicator_id)
    given, computed = recorded.given_status, recorded.computed_status
    unit = department.shown_text(row.unit)
    still_overdue = ""
    if row.overdue and row.latest_period is not None:
        still_overdue = department.still_overdue_message(
            row.latest_period, row.due_by, period_due(row.latest_period, str(row.cadence), today)
        )
    message = department.saved_message(
        f"{row.code} {row.name}",
        format_number(number, unit),
        parse_period(period).isoformat(),
        status_note=department.status_note(
            given, computed, format_number(row.target, unit), direction_text(row.direction)
        ),
        still_overdue=still_overdue,
        replaced=recorded.replaced or "",
    )
    return message, int(saved or 0) + 1, "", "", None


# ---------- Alerts on the department's indicators ----------


def department_alerts_view(
    requested: Any, _changed: Any, _saved: Any, _uploaded: Any = None, *, principal: Principal
) -> tuple[Any, list]:
    """The open alerts on the department's indicators (late data first) and the answer
    form's choices."""
    department_id = scoped_department_id(principal, requested)
    if department_id is None:
        return empty_state("Choose a department to see its alerts."), []
    with current_database().session() as session:
        names = lookups.departments(session)
        match = names[names["id"] == department_id]
        if match.empty:
            return empty_state("There is no such department."), []
        frame = department_alerts(session, department_id)
    name = str(match.iloc[0]["name"])
    return department.alerts_list(frame, name), department.alert_options(frame)


def apply_alert_answer(
    action: str, alert: Any, note: Any, changed: Any, *, principal: Principal
) -> tuple[Any, Any, Any]:
    """Acknowledge or answer one alert (scope checked in the write: a head answering another
    department's alert raises PermissionDenied, a 403, and nothing changes). Returns the
    feedback, the changed counter (refreshes the list) and the cleared answer field."""
    try:
        with current_database().session(write=True) as session:
            state = answer_indicator_alert(session, principal, alert, action, note)
            alert_id = _as_id(alert) or 0
            frame = department_alerts(session, alert_department_id(session, alert_id) or 0)
    except ValidationError as error:
        return department.alert_refused_message(str(error)), no_update, no_update
    match = frame[frame["id"] == alert_id]
    label = (
        department.alert_label(next(match.itertuples(index=False))) if len(match) else "the alert"
    )
    return department.alert_answered_message(label, state, action), int(changed or 0) + 1, ""


def answer_alert(
    ack_clicks: Any,
    answer_clicks: Any,
    alert: Any,
    note: Any,
    changed: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any, Any]:
    """The answer form's two buttons: Acknowledge, or Send answer (a note is needed)."""
    if not (ack_clicks or answer_clicks):
        raise PreventUpdate
    action = (
        "answer" if dash.ctx.triggered_id == ids.DEPARTMENT_ALERT_ANSWER_BUTTON else "acknowledge"
    )
    return apply_alert_answer(action, alert, note, changed, principal=principal)


# ---------- Bulk upload ----------

# Runs in the browser: a file over the limit never travels to the server (it would meet the
# request limit there); it is cleared and explained instead.
SIZE_GATE = """
function(contents, filename) {
    const noUpdate = window.dash_clientside.no_update;
    if (!contents) { return [null, noUpdate, null]; }
    const comma = contents.indexOf(",");
    const encoded = comma >= 0 ? contents.length - comma - 1 : contents.length;
    const size = Math.floor(encoded * 3 / 4);
    if (size > %(limit)d) {
        const mb = (size / 1048576).toFixed(1);
        const message = (filename || "The file") + " is " + mb + " MB; the limit is %(limit_text)s."
            + " Split it into smaller files and upload each.";
        return [null, null, {namespace: "dash_html_components", type: "Div",
                props: {className: "notice tone-danger", role: "alert", children: message}}];
    }
    return [{filename: filename || "", size: size, at: Date.now()}, noUpdate, null];
}
"""


def decode_upload(contents: Any, filename: Any) -> bytes:
    """The bytes of an uploaded file (a ``data:...;base64,...`` URL), or a ValidationError."""
    name = str(filename or "")
    if not name.lower().endswith(department.UPLOAD_EXTENSIONS):
        kind = f"a .{name.rsplit('.', 1)[-1]} file" if "." in name else "without an extension"
        raise ValidationError(
            f"Only .csv and .xlsx files can be uploaded; {name or 'this file'} is {kind}."
        )
    too_large = (
        f"The file is larger than {department.size_text(department.UPLOAD_MAX_BYTES)}, the limit."
    )
    text = contents if isinstance(contents, str) else ""
    head, _, encoded = text.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ValidationError("The upload could not be read; choose the file again.")
    if len(encoded) > (department.UPLOAD_MAX_BYTES * 4) // 3 + 8:
        raise ValidationError(too_large)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("The upload could not be read; choose the file again.") from None
    if len(data) > department.UPLOAD_MAX_BYTES:
        raise ValidationError(too_large)
    return data


def upload_digest(data: bytes, department_id: int | None) -> str:
    """What the preview showed: the file's content for one department."""
    return f"{department_id}:{hashlib.sha256(data).hexdigest()}"


def drop_unfilled(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Leave out template rows that name an indicator but give nothing else.

    A department head fills in the template's rows she has values for; the rest stay blank and
    are not mistakes. Returns the remaining rows and how many were left out.
    """
    if frame.empty:
        return frame, 0
    given = frame[["period", "value", "status", "note"]].astype(str)
    blank = given.apply(lambda column: column.str.strip() == "").all(axis=1)
    return frame[~blank].reset_index(drop=True), int(blank.sum())


@dataclass
class UploadPlan:
    """An upload read and checked for one department (nothing written)."""

    filename: str
    digest: str
    frame: pd.DataFrame
    planned: pd.DataFrame
    rejected: pd.DataFrame
    skipped: int
    counts: UpsertCounts


def _planned_frame(planned: list[PlannedObservation]) -> pd.DataFrame:
    columns = [f.name for f in fields(PlannedObservation)]
    return pd.DataFrame([[getattr(p, c) for c in columns] for p in planned], columns=columns)


def _rejected_frame(rejections: list[Rejection]) -> pd.DataFrame:
    ordered = sorted(rejections, key=lambda r: r.row)
    return pd.DataFrame([r.as_dict() for r in ordered], columns=["row", "field", "reason", "value"])


def read_upload(
    contents: Any, filename: Any, department_id: int
) -> tuple[pd.DataFrame, list[Rejection], int, str]:
    """Decode and parse an upload: rows, rows naming no indicator, blank template rows, digest.

    Raises ValidationError (or IngestError) with a sentence for the person when the file as a
    whole cannot be used.
    """
    data = decode_upload(contents, filename)
    frame, rejections = read_indicator_file(
        data, filename=str(filename), max_rows=department.UPLOAD_MAX_ROWS
    )
    frame, skipped = drop_unfilled(frame)
    return frame, rejections, skipped, upload_digest(data, department_id)


def plan_upload(
    session: Any, principal: Principal, contents: Any, filename: Any, department_id: int
) -> UploadPlan:
    """Read an upload and check every row against the form's rules and the principal's scope."""
    frame, unnamed, skipped, digest = read_upload(contents, filename, department_id)
    return _plan(session, principal, str(filename), digest, frame, unnamed, skipped, department_id)


def _plan(
    session: Any,
    principal: Principal,
    filename: str,
    digest: str,
    frame: pd.DataFrame,
    unnamed: list[Rejection],
    skipped: int,
    department_id: int,
) -> UploadPlan:
    planned, refused = plan_observations(
        session,
        principal,
        frame,
        today=local_today(),
        department_id=department_id,
        plausibility=True,
    )
    planned_rows = _planned_frame(sorted(planned, key=lambda p: p.row))
    rejected_rows = _rejected_frame([*unnamed, *refused])
    return UploadPlan(
        filename,
        digest,
        frame,
        planned_rows.assign(row=planned_rows["row"] + SPREADSHEET_ROW_OFFSET),
        rejected_rows.assign(row=rejected_rows["row"] + SPREADSHEET_ROW_OFFSET),
        skipped,
        count_planned(planned),
    )


def _preview_outputs(plan: UploadPlan) -> tuple[Any, str, bool, str, str]:
    label, disabled, reason = department.upload_summary(
        plan.filename,
        plan.counts.added,
        plan.counts.updated,
        plan.counts.unchanged,
        len(plan.rejected),
    )
    preview = department.upload_preview(plan.filename, plan.planned, plan.rejected, plan.skipped)
    return preview, label, disabled, reason, plan.digest


def _no_file(reason: str = "Choose a file to see what would be recorded.") -> tuple:
    return department.upload_empty(), "Record values", True, reason, None


def _unreadable(message: str) -> tuple:
    return (
        department.upload_unreadable(message),
        "Record values",
        True,
        "Nothing can be recorded from this file: choose another.",
        None,
    )


def preview_upload(
    contents: Any, filename: Any, requested: Any, *, principal: Principal
) -> tuple[Any, str, bool, str, str | None]:
    """Preview, commit button label and state, the reason sentence, and the previewed digest."""
    department_id = scoped_department_id(principal, requested)
    if department_id is None:
        return _no_file("Choose a department first.")
    if not contents:
        return _no_file()
    try:
        with current_database().session() as session:
            plan = plan_upload(session, principal, contents, filename, department_id)
    except (ValidationError, IngestError) as error:
        return _unreadable(str(error))
    return _preview_outputs(plan)


def commit_upload(
    contents: Any, filename: Any, requested: Any, previewed: Any, *, principal: Principal
) -> tuple[Any, tuple]:
    """Re-read the file on the server, re-check every row and record them all or none.

    Nothing from the preview is trusted: ``previewed`` (the digest the preview showed) only
    refuses a commit of a file or department other than the one previewed. Returns the result
    message and the preview outputs (see ``preview_upload``): cleared after a commit, the
    file's current preview when nothing was recorded.
    """
    department_id = scoped_department_id(principal, requested)
    if department_id is None or not contents:
        return department.commit_refused_message("Choose a file first."), _no_file()
    name = str(filename or "")
    try:
        with current_database().session(write=True) as session:
            frame, unnamed, skipped, digest = read_upload(contents, filename, department_id)
            if digest != previewed:
                message = department.commit_refused_message(
                    "The file or the department changed since the preview. Check the preview "
                    "below, then press the button again."
                )
            else:
                counts, refused = import_observations(
                    session,
                    principal,
                    frame,
                    today=local_today(),
                    department_id=department_id,
                    dry_run=bool(unnamed),
                    all_or_nothing=True,
                    plausibility=True,
                )
                rejected = len(unnamed) + len(refused)
                if not rejected:
                    recorded = counts.added + counts.updated
                    return (
                        department.committed_message(name, counts.added, counts.updated),
                        (
                            department.upload_recorded(name, recorded),
                            "Record values",
                            True,
                            "Choose a file to see what would be recorded.",
                            None,
                        ),
                    )
                message = department.commit_refused_message(
                    f"{rejected:,} {'row is' if rejected == 1 else 'rows are'} rejected "
                    "(listed below); fix them and upload the file again."
                )
            after = _plan(session, principal, name, digest, frame, unnamed, skipped, department_id)
    except (ValidationError, IngestError) as error:
        return department.commit_refused_message(str(error)), _unreadable(str(error))
    return message, _preview_outputs(after)


def upload_flow(
    _gate: Any,
    requested: Any,
    commit_clicks: Any,
    contents: Any,
    filename: Any,
    previewed: Any,
    committed: Any,
    *,
    principal: Principal,
) -> tuple[Any, ...]:
    """One callback for the upload's preview and commit (they share their outputs).

    Returns preview, button label, button disabled, reason, digest, result message and the
    commit counter (which refreshes the indicator table and the history).
    """
    if dash.ctx.triggered_id == ids.DEPT_UPLOAD_COMMIT_BUTTON:
        if not commit_clicks:
            raise PreventUpdate
        message, preview = commit_upload(
            contents, filename, requested, previewed, principal=principal
        )
        return (*preview, message, int(committed or 0) + 1)
    return (*preview_upload(contents, filename, requested, principal=principal), None, no_update)


def upload_template(n_clicks: Any, requested: Any, *, principal: Principal) -> dict[str, Any]:
    """A CSV template: one row per indicator of the department, with the expected columns."""
    if not n_clicks:
        raise PreventUpdate
    department_id = scoped_department_id(principal, requested)
    if department_id is None:
        raise PreventUpdate
    with current_database().session() as session:
        names = lookups.departments(session)
        frame = department_indicators(session, department_id, today=local_today())
    match = names[names["id"] == department_id]
    if match.empty:
        raise PreventUpdate
    code = str(match.iloc[0]["code"]).lower()
    template = pd.DataFrame(
        {
            "indicator": frame["code"].astype(str) if len(frame) else [],
            "period": "",
            "value": "",
            "status": "",
            "note": "",
            "indicator_name": frame["name"].astype(str) if len(frame) else [],
            "unit": frame["unit"].astype(str) if len(frame) else [],
        },
        columns=list(department.TEMPLATE_COLUMNS),
    ).sort_values("indicator")
    return dcc.send_string(safe_csv(template), f"{code}-indicators-template.csv", type="text/csv")


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_SELECT, "options"),
        Output(ids.DEPARTMENT_SELECT, "value"),
        Output(ids.DEPARTMENT_SELECT, "disabled"),
        Output(ids.DEPARTMENT_PERIOD_INPUT, "max"),
        Input(ids.DEPARTMENT_PAGE_STORE, "data"),
    )(department_choices)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_INDICATOR_DETAILS_DIV, "children"),
        Output(ids.DEPARTMENT_PERIOD_INPUT, "value"),
        Input(ids.DEPARTMENT_INDICATOR_SELECT, "value"),
        Input(ids.DEPARTMENT_SAVED_STORE, "data"),
    )(indicator_details_view)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_ALERTS_DIV, "children"),
        Output(ids.DEPARTMENT_ALERT_SELECT, "options"),
        Input(ids.DEPARTMENT_SELECT, "value"),
        Input(ids.DEPARTMENT_ALERT_CHANGED_STORE, "data"),
        Input(ids.DEPARTMENT_SAVED_STORE, "data"),
        Input(ids.DEPT_UPLOAD_COMMITTED_STORE, "data"),
    )(department_alerts_view)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_ALERT_FEEDBACK_DIV, "children"),
        Output(ids.DEPARTMENT_ALERT_CHANGED_STORE, "data"),
        Output(ids.DEPARTMENT_ALERT_NOTE_TEXTAREA, "value"),
        Input(ids.DEPARTMENT_ALERT_ACK_BUTTON, "n_clicks"),
        Input(ids.DEPARTMENT_ALERT_ANSWER_BUTTON, "n_clicks"),
        State(ids.DEPARTMENT_ALERT_SELECT, "value"),
        State(ids.DEPARTMENT_ALERT_NOTE_TEXTAREA, "value"),
        State(ids.DEPARTMENT_ALERT_CHANGED_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.DEPARTMENT_ALERT_CHANGED_STORE, "data"): int | None},
    )(answer_alert)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_INDICATORS_DIV, "children"),
        Output(ids.DEPARTMENT_INDICATOR_SELECT, "options"),
        Output(ids.DEPARTMENT_RECENT_DIV, "children"),
        Input(ids.DEPARTMENT_SELECT, "value"),
        Input(ids.DEPARTMENT_SAVED_STORE, "data"),
        Input(ids.DEPT_UPLOAD_COMMITTED_STORE, "data"),
    )(department_view)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPARTMENT_FEEDBACK_DIV, "children"),
        Output(ids.DEPARTMENT_SAVED_STORE, "data"),
        Output(ids.DEPARTMENT_VALUE_INPUT, "value"),
        Output(ids.DEPARTMENT_NOTE_TEXTAREA, "value"),
        Output(ids.DEPARTMENT_CONFIRM_STORE, "data"),
        Input(ids.DEPARTMENT_SAVE_BUTTON, "n_clicks"),
        State(ids.DEPARTMENT_INDICATOR_SELECT, "value"),
        State(ids.DEPARTMENT_PERIOD_INPUT, "value"),
        State(ids.DEPARTMENT_VALUE_INPUT, "value"),
        State(ids.DEPARTMENT_STATUS_SELECT, "value"),
        State(ids.DEPARTMENT_NOTE_TEXTAREA, "value"),
        State(ids.DEPARTMENT_SAVED_STORE, "data"),
        State(ids.DEPARTMENT_CONFIRM_STORE, "data"),
        prevent_initial_call=True,
        expect={(ids.DEPARTMENT_CONFIRM_STORE, "data"): str | None},
    )(record_value)
    secured_clientside_callback(
        app,
        SIZE_GATE
        % {
            "limit": department.UPLOAD_MAX_BYTES,
            "limit_text": department.size_text(department.UPLOAD_MAX_BYTES),
        },
        Output(ids.DEPT_UPLOAD_GATE_STORE, "data"),
        Output(ids.DEPT_UPLOAD_FILE_UPLOAD, "contents"),
        Output(ids.DEPT_UPLOAD_SIZE_DIV, "children"),
        Input(ids.DEPT_UPLOAD_FILE_UPLOAD, "contents"),
        State(ids.DEPT_UPLOAD_FILE_UPLOAD, "filename"),
    )
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPT_UPLOAD_PREVIEW_DIV, "children"),
        Output(ids.DEPT_UPLOAD_COMMIT_BUTTON, "children"),
        Output(ids.DEPT_UPLOAD_COMMIT_BUTTON, "disabled"),
        Output(ids.DEPT_UPLOAD_REASON_TEXT, "children"),
        Output(ids.DEPT_UPLOAD_DIGEST_STORE, "data"),
        Output(ids.DEPT_UPLOAD_RESULT_DIV, "children"),
        Output(ids.DEPT_UPLOAD_COMMITTED_STORE, "data"),
        Input(ids.DEPT_UPLOAD_GATE_STORE, "data"),
        Input(ids.DEPARTMENT_SELECT, "value"),
        Input(ids.DEPT_UPLOAD_COMMIT_BUTTON, "n_clicks"),
        State(ids.DEPT_UPLOAD_FILE_UPLOAD, "contents"),
        State(ids.DEPT_UPLOAD_FILE_UPLOAD, "filename"),
        State(ids.DEPT_UPLOAD_DIGEST_STORE, "data"),
        State(ids.DEPT_UPLOAD_COMMITTED_STORE, "data"),
    )(upload_flow)
    secured_callback(
        app,
        Capability.UPDATE_INDICATORS,
        Output(ids.DEPT_UPLOAD_TEMPLATE_DOWNLOAD, "data"),
        Input(ids.DEPT_UPLOAD_TEMPLATE_BUTTON, "n_clicks"),
        State(ids.DEPARTMENT_SELECT, "value"),
        prevent_initial_call=True,
    )(upload_template)
