"""My department: a department's indicators (overdue first), the form to record a new value and
the bulk upload of a CSV or XLSX file (preview, row-level rejections, all-or-nothing commit).

Department heads see their own department only; the chief of staff and admins choose one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.components import (
    Column,
    button,
    data_table,
    empty_state,
    flag,
    form_feedback,
    form_field,
    format_date,
    format_number,
    humanize,
    loading,
    notice,
    page_header,
    section,
    status_badge,
)
from triage.indicators import CADENCE_TEXT, direction_text, next_period, status_from_value

NO_STATUS = "unchanged"  # not "": dbc.Select keeps a hidden placeholder option with that value
STATUS_CHOICES = (
    (NO_STATUS, "Work it out from the target"),
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("off_track", "Off track"),
)
# An upload travels base64-encoded inside a JSON callback body (4/3 of the file), twice (preview
# and commit) and under the server's request limit (5 MiB by default).
UPLOAD_MAX_BYTES = 2 * 1024 * 1024
UPLOAD_MAX_ROWS = 5000
UPLOAD_EXTENSIONS = (".csv", ".xlsx")
# The preview lists this many valid rows (and rejected rows): every valid row is recorded, but
# a few hundred rows of table would make the page, and its callback, slow.
UPLOAD_ROWS_SHOWN = 100
REJECTED_ROWS_SHOWN = 200
TEMPLATE_COLUMNS = ("indicator", "period", "value", "status", "note", "indicator_name", "unit")
ACTION_LABELS = {"added": "Added", "updated": "Correction", "unchanged": "Unchanged"}
ACTION_TONES = {"added": "success", "updated": "warning", "unchanged": "neutral"}


def layout(**_kwargs: Any) -> html.Div:
    """Skeleton: department choice, indicator table, update form, recent entries."""
    return html.Div(
        [
            dcc.Store(id=ids.DEPARTMENT_PAGE_STORE, data=True),
            dcc.Store(id=ids.DEPARTMENT_SAVED_STORE, data=0),
            dcc.Store(id=ids.DEPARTMENT_CONFIRM_STORE, data=None),
            dcc.Store(id=ids.DEPARTMENT_ALERT_CHANGED_STORE, data=0),
            html.Div(
                [
                    page_header(
                        "My department",
                        "Keep your indicators current: answer the alerts on them, record each "
                        "new value, its status and a note.",
                    ),
                    html.Div(
                        [
                            dbc.Label("Department", html_for=ids.DEPARTMENT_SELECT),
                            dbc.Select(id=ids.DEPARTMENT_SELECT, options=[], value=None),
                        ],
                        className="filter-field department-choice",
                    ),
                ],
                className="page-header-row",
            ),
            section("Alerts and overdue values", alerts_section(), class_name="alerts-card"),
            html.Div(
                [
                    section(
                        "Indicators",
                        loading(html.Div(id=ids.DEPARTMENT_INDICATORS_DIV, className="table-slot")),
                        class_name="main-col",
                    ),
                    html.Div(
                        [
                            section("Record a new value", update_form(), class_name="form-card"),
                            section(
                                "Recently entered",
                                loading(html.Div(id=ids.DEPARTMENT_RECENT_DIV)),
                            ),
                        ],
                        className="side-col",
                    ),
                ],
                className="split",
            ),
            section("Upload many values", upload_section(), class_name="upload-card"),
        ]
    )


def update_form() -> html.Div:
    """The indicator update form; every field has a visible label."""
    return html.Div(
        [
            form_field(
                "Indicator",
                dbc.Select(
                    id=ids.DEPARTMENT_INDICATOR_SELECT,
                    options=[],
                    value=None,
                    placeholder="Choose an indicator",
                ),
            ),
            html.Div(
                indicator_details_empty(),
                id=ids.DEPARTMENT_INDICATOR_DETAILS_DIV,
                className="indicator-details",
                **{"aria-live": "polite"},
            ),
            html.Div(
                [
                    form_field(
                        "Period",
                        dbc.Input(
                            id=ids.DEPARTMENT_PERIOD_INPUT,
                            type="date",
                            value=None,
                        ),
                    ),
                    form_field(
                        "Value",
                        dbc.Input(
                            id=ids.DEPARTMENT_VALUE_INPUT,
                            type="text",
                            inputmode="decimal",
                            autocomplete="off",
                            placeholder="e.g. 82.5",
                        ),
                    ),
                ],
                className="form-pair",
            ),
            form_field(
                "Status",
                dbc.Select(
                    id=ids.DEPARTMENT_STATUS_SELECT,
                    options=[{"label": label, "value": value} for value, label in STATUS_CHOICES],
                    value=NO_STATUS,
                ),
            ),
            form_field(
                "Note (optional)",
                dbc.Textarea(
                    id=ids.DEPARTMENT_NOTE_TEXTAREA,
                    rows=2,
                    maxlength=2000,
                    placeholder="What changed, and why",
                ),
            ),
            dbc.Button("Save value", id=ids.DEPARTMENT_SAVE_BUTTON, color="primary", n_clicks=0),
            form_feedback(ids.DEPARTMENT_FEEDBACK_DIV),
        ],
        className="update-form",
    )


def department_options(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Select options for departments (``frame`` has id, code, name)."""
    return [
        {"label": f"{row.name} ({row.code})", "value": str(int(row.id))}
        for row in frame.itertuples(index=False)
    ]


def indicator_options(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Select options for the form: overdue indicators are marked in the label."""
    return [
        {
            "label": f"{row.code} · {row.name}" + (" (overdue)" if row.overdue else ""),
            "value": str(int(row.id)),
        }
        for row in frame.itertuples(index=False)
    ]


def shown_text(value: Any) -> str:
    """A stored text as shown: missing (None, NaN) → ""."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def status_cell(reported: Any, computed: str | None) -> Any:
    """The reported status; when the numbers say otherwise, both, each labelled."""
    reported_text = shown_text(reported)
    if not reported_text:
        if computed is None:
            return "—"
        return html.Span(
            [status_badge(computed), html.Span("from the numbers", className="cell-meta")],
            className="cell-stack",
        )
    if computed is None or computed == reported_text:
        return status_badge(reported_text)
    return html.Span(
        [
            status_badge(reported_text),
            html.Span(
                f"Reported {humanize(reported_text).lower()}; the numbers say "
                f"{humanize(computed).lower()}",
                className="cell-meta status-disagrees",
            ),
        ],
        className="cell-stack",
    )


def computed_status(row: Any) -> str | None:
    """The status the latest value gives against the target (see ``status_from_value``)."""
    return status_from_value(
        row.latest_value,
        row.target,
        row.direction,
        row.critical_threshold,
        row.warning_threshold,
    )


def indicator_table(frame: pd.DataFrame, department_name: str) -> Any:
    """A department's indicators, overdue first: latest value, target and which way is better,
    status (with the numbers' verdict when it differs) and due date."""
    if frame.empty:
        return empty_state(f"{department_name} has no indicators yet.")
    rows = []
    for row in frame.itertuples(index=False):
        unit = shown_text(row.unit)
        due_text = "Never reported" if row.latest_period is None else format_date(row.due_by)
        rows.append(
            {
                "name": html.Span(
                    [html.Span(row.name), html.Span(row.code, className="cell-meta")],
                    className="cell-stack",
                ),
                "latest": html.Span(
                    [
                        html.Span(format_number(row.latest_value, unit)),
                        html.Span(format_date(row.latest_period), className="cell-meta"),
                    ],
                    className="cell-stack",
                ),
                "target": html.Span(
                    [
                        html.Span(format_number(row.target, unit)),
                        html.Span(direction_text(row.direction), className="cell-meta"),
                    ],
                    className="cell-stack",
                ),
                "status": status_cell(row.latest_status, computed_status(row)),
                "due": html.Span(
                    [
                        flag("Overdue", "danger") if row.overdue else None,
                        html.Span(due_text, className="cell-meta" if row.overdue else None),
                    ],
                    className="cell-stack",
                ),
            }
        )
    overdue = int(frame["overdue"].sum())
    return html.Div(
        [
            html.P(
                f"{len(frame)} indicators; {overdue} overdue.",
                className="table-count",
            ),
            data_table(
                [
                    Column("Indicator", "name"),
                    Column("Latest value", "latest", numeric=True),
                    Column("Target (which way is better)", "target", numeric=True),
                    Column("Status", "status"),
                    Column("Update due by", "due"),
                ],
                rows,
                caption=f"Indicators of {department_name}, overdue first",
                row_header="name",
                stack_on_phone=True,  # status and due date were off the screen to the right
            ),
        ]
    )


def indicator_details_empty() -> html.P:
    """The details slot before an indicator is chosen."""
    return html.P(
        "Choose an indicator to see its unit, target, last value and the period due.",
        className="form-hint",
    )


def indicator_details(row: Any, due: dt.date) -> html.Dl:
    """What a person needs before typing a value: unit, which way is better, the last value
    and its period, the target, the cadence and the period due (``row``: indicator_status)."""
    unit = shown_text(row.unit)
    last = (
        "Never reported"
        if row.latest_period is None
        else f"{format_number(row.latest_value, unit)} for {format_date(row.latest_period)}"
    )
    due_text = format_date(due) + (" (overdue)" if row.overdue else "")
    if row.latest_period is not None and row.latest_period >= due:
        due_text = f"Up to date; the next period is {format_date(next_period(due, row.cadence))}"
    pairs = (
        ("Unit", unit or "a plain number"),
        ("Which way is better", direction_text(row.direction)),
        ("Last value", last),
        ("Target", format_number(row.target, unit)),
        ("Reported", CADENCE_TEXT.get(shown_text(row.cadence), humanize(row.cadence))),
        ("Period due", due_text),
    )
    children: list[Any] = []
    for term, detail in pairs:
        children.append(html.Div([html.Dt(term), html.Dd(detail)], className="fact"))
    return html.Dl(children, className="fact-list indicator-detail-list")


def recent_list(frame: pd.DataFrame) -> Any:
    """Values entered most recently for the department, newest first."""
    if frame.empty:
        return empty_state("Nothing entered yet.")
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        f"{row.indicator_code}: {format_number(row.value, shown_text(row.unit))}",
                        className="recent-value",
                    ),
                    html.Span(
                        f"for {format_date(row.period)}, entered "
                        f"{format_date(_as_date(row.entered_at))}" + _entered_by(row.entered_by),
                        className="recent-meta",
                    ),
                ],
                className="recent-item",
            )
            for row in frame.itertuples(index=False)
        ],
        className="recent-list",
    )


def _entered_by(name: Any) -> str:
    return f" by {shown_text(name)}" if shown_text(name) else ""


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


def saved_message(
    indicator_label: str,
    value_text: str,
    period: dt.date | str,
    *,
    status_note: str = "",
    still_overdue: str = "",
    replaced: str = "",
) -> html.Div:
    """After a save: what was saved, the value it replaced (if the period had one), the status
    it carries, and whether the indicator is still overdue (an older period saved does not
    bring it up to date)."""
    lines: list[Any] = [html.P(f"Saved {value_text} for {indicator_label} ({period}).")]
    if replaced:
        lines.append(html.P(replaced))
    if status_note:
        lines.append(html.P(status_note))
    if still_overdue:
        lines.append(html.P(still_overdue, className="notice-strong"))
    return notice(html.Div(lines), "warning" if still_overdue else "success")


def status_note(given: str | None, computed: str | None, target_text: str, direction: str) -> str:
    """The sentence about the saved status: worked out, agreeing, or disagreeing (both shown)."""
    if computed is None:
        return f"Status: {humanize(given).lower()}." if given else ""
    against = f"against the target of {target_text} ({direction.lower()})"
    if not given:
        return f"Status worked out from the numbers: {humanize(computed).lower()}, {against}."
    if given == computed:
        return f"Status: {humanize(given).lower()}, as the numbers say {against}."
    return (
        f"You marked it {humanize(given).lower()}; the numbers say "
        f"{humanize(computed).lower()} {against}. Both are kept: your status and note stand."
    )


def still_overdue_message(latest: dt.date, due_by: dt.date | None, due: dt.date) -> str:
    """Plain words for an indicator that a save left overdue."""
    deadline = f" It counted as current only until {format_date(due_by)}." if due_by else ""
    return (
        f"This indicator is still overdue: its newest value is for {format_date(latest)}."
        f"{deadline} Record the value for {format_date(due)} to bring it up to date."
    )


def confirm_message(doubt: str | None, replaces: str | None = None) -> html.Div:
    """Ask before saving (pressing Save again confirms): the value looks implausible
    (``doubt``) and/or it replaces the value recorded for the same period (``replaces``)."""
    if doubt:
        title = "Is this value right? Nothing was saved yet."
        advice = (
            "Check the value and its unit. If it is right, press Save value again to "
            + ("replace the recorded value" if replaces else "record it")
            + "; otherwise correct it first."
        )
    else:
        title = "Replace the recorded value? Nothing was saved yet."
        advice = (
            "Press Save value again to replace it (the old value stays in the history); "
            "otherwise change the period."
        )
    lines = [html.P(text) for text in (replaces, doubt) if text]
    return notice(html.Div([*lines, html.P(advice)]), "warning", title=title)


def rejected_message(problems: Sequence[str]) -> html.Div:
    """Every reason the form was refused, as a list the person can work through."""
    return notice(
        html.Ul([html.Li(p) for p in problems]),
        "danger",
        title="The value was not saved:",
    )


def size_text(size: int) -> str:
    """A file size as people say it: ``2 MB``, ``2.5 MB``, ``120 KB``."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


def upload_section() -> html.Div:
    """Bulk upload: limits and columns, a template, the file picker, the commit button, results.

    The drop zone holds a real button, so the file dialog opens by keyboard (Enter or Space) as
    well as by click; the limits are stated before anyone picks a file.
    """
    help_text = (
        "Columns: indicator (code or name), period (YYYY-MM-DD), value, and optionally status "
        "(on track, at risk or off track) and note. A CSV or XLSX file of at most "
        f"{size_text(UPLOAD_MAX_BYTES)} and {UPLOAD_MAX_ROWS:,} rows. Nothing is recorded until "
        "you have checked the preview and pressed the record button; if any row is rejected, "
        "nothing is recorded."
    )
    return html.Div(
        [
            dcc.Store(id=ids.DEPT_UPLOAD_GATE_STORE, data=None),
            dcc.Store(id=ids.DEPT_UPLOAD_DIGEST_STORE, data=None),
            dcc.Store(id=ids.DEPT_UPLOAD_COMMITTED_STORE, data=0),
            dcc.Download(id=ids.DEPT_UPLOAD_TEMPLATE_DOWNLOAD),
            html.P(help_text, id=ids.DEPT_UPLOAD_HELP_TEXT, className="upload-help"),
            html.Div(
                [
                    dcc.Upload(
                        html.Div(
                            [
                                html.Button(
                                    "Choose a CSV or XLSX file",
                                    id=ids.DEPT_UPLOAD_CHOOSE_BUTTON,
                                    type="button",
                                    className="btn btn-outline-primary",
                                    **{"aria-describedby": ids.DEPT_UPLOAD_HELP_TEXT},
                                ),
                                html.Span("or drop it here", className="upload-drop-hint"),
                            ],
                            className="upload-zone-inner",
                        ),
                        id=ids.DEPT_UPLOAD_FILE_UPLOAD,
                        accept=",".join(UPLOAD_EXTENSIONS),
                        multiple=False,
                        className="upload-zone",
                        className_active="upload-zone-active",
                        className_reject="upload-zone-reject",
                    ),
                    button(
                        "Download a CSV template",
                        ids.DEPT_UPLOAD_TEMPLATE_BUTTON,
                        tone="secondary",
                        outline=True,
                    ),
                ],
                className="upload-row",
            ),
            html.Div(id=ids.DEPT_UPLOAD_SIZE_DIV, className="upload-size-message"),
            html.Div(
                [
                    button(
                        "Record values",
                        ids.DEPT_UPLOAD_COMMIT_BUTTON,
                        disabled=True,
                        **{"aria-describedby": ids.DEPT_UPLOAD_REASON_TEXT},
                    ),
                    html.P(
                        "Choose a file to see what would be recorded.",
                        id=ids.DEPT_UPLOAD_REASON_TEXT,
                        className="upload-reason",
                        **{"aria-live": "polite"},
                    ),
                ],
                className="upload-commit-row",
            ),
            loading(html.Div(id=ids.DEPT_UPLOAD_RESULT_DIV, **{"aria-live": "polite"})),
            loading(html.Div(id=ids.DEPT_UPLOAD_PREVIEW_DIV, className="upload-preview")),
        ],
        className="upload-body",
    )


def upload_empty() -> html.Div:
    """The preview before any file is chosen."""
    return empty_state(
        "No file chosen yet.",
        "The rows of your file will be listed here, with what recording each would do.",
    )


def upload_recorded(filename: str, recorded: int) -> html.Div:
    """The preview after a commit: the file is done."""
    return empty_state(
        f"{filename or 'The file'} is recorded ({recorded:,} "
        f"{'value' if recorded == 1 else 'values'}).",
        "Choose another file to record more values.",
    )


def upload_unreadable(message: str) -> html.Div:
    """A file that could not be read at all (wrong type, too large, missing a column)."""
    return notice(html.P(message), "danger", title="The file could not be read:")


def _action_label(action: str, previous: Any, unit: str) -> html.Span:
    """What recording a row does, as one label (a correction names the value it replaces)."""
    label = ACTION_LABELS.get(action, humanize(action))
    if action == "updated" and previous is not None and not pd.isna(previous):
        label = f"{label} (was {format_number(previous, unit)})"
    return flag(label, ACTION_TONES.get(action, "neutral"))


def _shown(frame: pd.DataFrame, limit: int, what: str) -> tuple[pd.DataFrame, Any]:
    if len(frame) <= limit:
        return frame, None
    note = html.P(f"Showing the first {limit:,} of {len(frame):,} {what}.", className="table-count")
    return frame.head(limit), note


def rejected_table(rejected: pd.DataFrame) -> Any:
    """Rejected rows: row number, what the row said and why it was refused.

    ``rejected`` has columns row, field, reason, value (``Rejection.as_dict``).
    """
    shown, note = _shown(rejected, REJECTED_ROWS_SHOWN, "rejected rows")
    rows = [
        {
            "row": str(int(r.row)),
            "field": humanize(r.field) if r.field else "Row",
            "value": str(r.value) if str(r.value) else "—",
            "reason": _sentence(str(r.reason)),
        }
        for r in shown.itertuples(index=False)
    ]
    return html.Div(
        [
            html.H3(f"Rejected rows ({len(rejected):,})", className="upload-table-title"),
            note,
            data_table(
                [
                    Column("Row", "row", numeric=True),
                    Column("Field", "field"),
                    Column("As written", "value"),
                    Column("Why it was rejected", "reason"),
                ],
                rows,
                caption="Rejected rows of the uploaded file, with the reason for each",
                row_header="row",
            ),
        ],
        className="upload-rejected",
    )


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "—"
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def planned_table(planned: pd.DataFrame) -> Any:
    """The valid rows and what recording each would do (added, correction, unchanged).

    ``planned`` has columns row, indicator_code, indicator_name, unit, period, value, status,
    note, action, previous (``db.ingest.PlannedObservation`` fields).
    """
    shown, note = _shown(planned, UPLOAD_ROWS_SHOWN, "valid rows; every valid row will be recorded")
    rows = []
    for r in shown.itertuples(index=False):
        unit = str(r.unit or "")
        rows.append(
            {
                "row": str(int(r.row)),
                "indicator": f"{r.indicator_code} · {r.indicator_name}",
                "period": format_date(r.period),
                "value": format_number(r.value, unit),
                "status": humanize(r.status) if r.status else "—",
                "note": str(r.note) if r.note else "—",
                "action": _action_label(str(r.action), r.previous, unit),
            }
        )
    return html.Div(
        [
            html.H3(f"Valid rows ({len(planned):,})", className="upload-table-title"),
            note,
            data_table(
                [
                    Column("Row", "row", numeric=True),
                    Column("Indicator", "indicator"),
                    Column("Period", "period"),
                    Column("Value", "value", numeric=True),
                    Column("Status", "status"),
                    Column("Note", "note"),
                    Column("What will happen", "action"),
                ],
                rows,
                caption="Valid rows of the uploaded file and what recording each would do",
                row_header="row",
            ),
        ],
        className="upload-planned",
    )


def upload_preview(
    filename: str, planned: pd.DataFrame, rejected: pd.DataFrame, skipped: int = 0
) -> html.Div:
    """The preview of an upload: rejected rows first (they block the commit), then the rest."""
    parts: list[Any] = []
    if skipped:
        parts.append(
            html.P(
                f"{skipped:,} template rows with no period, value, status or note were skipped.",
                className="table-count",
            )
        )
    if not rejected.empty:
        parts.append(rejected_table(rejected))
    if not planned.empty:
        parts.append(planned_table(planned))
    if planned.empty and rejected.empty:
        parts.append(empty_state(f"{filename or 'The file'} has no rows to record."))
    return html.Div(parts)


def upload_summary(
    filename: str, added: int, updated: int, unchanged: int, rejected: int
) -> tuple[str, bool, str]:
    """The commit button's label, whether it is disabled, and the sentence that says why."""
    to_record = added + updated
    counts = (
        f"{filename or 'The file'}: {added:,} to add, {updated:,} "
        f"{'correction' if updated == 1 else 'corrections'}, {unchanged:,} unchanged, "
        f"{rejected:,} rejected."
    )
    label = f"Record {to_record:,} {'value' if to_record == 1 else 'values'}"
    if rejected:
        return (
            label,
            True,
            f"{counts} Nothing can be recorded while any row is rejected: fix the "
            f"{'row' if rejected == 1 else f'{rejected:,} rows'} listed below and upload the "
            "file again.",
        )
    if not to_record:
        return label, True, f"{counts} Nothing to record: every row matches a stored value."
    return label, False, f"{counts} Every row is valid; they will be recorded together."


def committed_message(filename: str, added: int, updated: int) -> html.Div:
    """After a commit: how many values were recorded."""
    total = added + updated
    if not total:
        return notice("Nothing new to record: every row matches a stored value.", "info")
    return notice(
        f"Recorded {total:,} {'value' if total == 1 else 'values'} from {filename or 'the file'}: "
        f"{added:,} added, {updated:,} {'correction' if updated == 1 else 'corrections'}.",
        "success",
    )


def commit_refused_message(reason: str) -> html.Div:
    """A commit that recorded nothing, and why."""
    return notice(html.P(reason), "danger", title="Nothing was recorded.")


# ---------- Alerts on the department's own indicators ----------

ALERT_STATE_TEXT = {"new": "Not yet answered", "acknowledged": "Acknowledged", "linked": "Linked"}


def alerts_section() -> html.Div:
    """The department's open alerts (late data first, as overdue items) and the answer form."""
    return html.Div(
        [
            loading(html.Div(id=ids.DEPARTMENT_ALERTS_DIV, className="table-slot")),
            html.Div(
                [
                    form_field(
                        "Alert to answer",
                        dbc.Select(
                            id=ids.DEPARTMENT_ALERT_SELECT,
                            options=[],
                            value=None,
                            placeholder="Choose an alert",
                        ),
                    ),
                    form_field(
                        "Answer (optional to acknowledge)",
                        dbc.Textarea(
                            id=ids.DEPARTMENT_ALERT_NOTE_TEXTAREA,
                            rows=2,
                            maxlength=2000,
                            placeholder="e.g. value corrected; late because the survey closes "
                            "on the 15th",
                        ),
                    ),
                    html.Div(
                        [
                            dbc.Button(
                                "Acknowledge",
                                id=ids.DEPARTMENT_ALERT_ACK_BUTTON,
                                color="primary",
                                outline=True,
                                n_clicks=0,
                            ),
                            dbc.Button(
                                "Send answer",
                                id=ids.DEPARTMENT_ALERT_ANSWER_BUTTON,
                                color="primary",
                                n_clicks=0,
                            ),
                        ],
                        className="button-row",
                    ),
                    form_feedback(ids.DEPARTMENT_ALERT_FEEDBACK_DIV),
                ],
                className="update-form alert-answer-form",
            ),
        ],
        className="department-alerts",
    )


def alert_label(row: Any) -> str:
    """How an alert is named in the list and the select: overdue or the indicator's alert."""
    kind = "Overdue" if row.overdue else humanize(row.kind)
    return f"{kind}: {row.indicator_code} · {row.indicator_name}"


def alert_badge(kind: object, method: object, severity: object) -> str:
    """The badge of one alert on the department's page. A threshold alert names the threshold
    its message speaks of ("Past critical threshold"): the stored severity ranks the alert for
    the whole city (size, reach, persistence) and may be lower, which read as a contradiction
    beside the message. Other alerts show their severity and kind."""
    level = str(method or "").removeprefix("threshold-")
    if kind == "threshold" and level in ("critical", "warning"):
        return f"Past {level} threshold"
    return f"{humanize(severity)} · {humanize(kind)}"


def alert_options(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Select options for the answer form, in the list's order."""
    return [
        {"label": alert_label(row), "value": str(int(row.id))}
        for row in frame.itertuples(index=False)
    ]


def alerts_list(frame: pd.DataFrame, department_name: str) -> Any:
    """Open alerts on the department's indicators: what, since when, and any answer given.

    ``frame`` has ``db.alerts.feed.DEPARTMENT_ALERT_COLUMNS``.
    """
    if frame.empty:
        return empty_state(
            f"No open alerts on the indicators of {department_name}.",
            "Late values and indicators past their thresholds will be listed here.",
        )
    overdue = int(frame["overdue"].sum())
    waiting = int((frame["state"] == "new").sum())
    items = []
    for row in frame.itertuples(index=False):
        answer = shown_text(row.state_reason)
        items.append(
            html.Li(
                [
                    html.Div(
                        [
                            flag("Overdue", "danger")
                            if row.overdue
                            else flag(alert_badge(row.kind, row.method, row.severity), "warning"),
                            " ",
                            html.Span(
                                f"{row.indicator_code} · {row.indicator_name}",
                                className="recent-value",
                            ),
                        ],
                        className="dept-alert-head",
                    ),
                    html.Span(shown_text(row.message), className="dept-alert-message"),
                    html.Span(
                        f"{ALERT_STATE_TEXT.get(str(row.state), humanize(row.state))}"
                        f" · first seen {format_date(row.first_detected)}",
                        className="recent-meta",
                    ),
                    html.Span(f"Your answer: {answer}", className="dept-alert-answer")
                    if answer
                    else None,
                ],
                className="recent-item dept-alert",
            )
        )
    return html.Div(
        [
            html.P(
                f"{len(frame)} open {'alert' if len(frame) == 1 else 'alerts'}; "
                f"{overdue} overdue {'value' if overdue == 1 else 'values'}; "
                f"{waiting} not yet answered.",
                className="table-count",
            ),
            html.Ul(items, className="recent-list dept-alert-list"),
        ]
    )


def alert_refused_message(reason: str) -> html.Div:
    """An answer that changed nothing, and why."""
    return notice(html.P(reason), "danger", title="The alert was not changed:")


def alert_answered_message(label: str, state: str, action: str) -> html.Div:
    """After an answer: what happened to the alert."""
    verb = "Answer saved on" if action == "answer" else "Acknowledged"
    return notice(f"{verb} {label} (now {humanize(state).lower()}).", "success")
