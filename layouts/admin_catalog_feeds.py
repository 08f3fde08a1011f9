"""Administration, "City setup" tab: district boundaries (upload a GeoJSON file) and new data
sources (an Open311 feed or a file the scheduler re-reads), with their tables.
"""

from __future__ import annotations

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
    form_actions,
    form_feedback,
    form_field,
    notice,
)

DISTRICT_UPLOAD_MAX_BYTES = 3_500_000  # under the server's 5 MiB body limit once in base64
# (value, label) for each kind of source: the values are triage.vocabulary.SOURCE_KINDS.
SOURCE_KIND_CHOICES = (
    ("open311", "Open311 feed (GeoReport v2)"),
    ("csv", "Portal CSV export"),
    ("indicators", "Indicator file"),
)
NONE_LABEL = "Not in the file"
# The source form's fields that an error can point at, in the order of their outputs.
SOURCE_FIELDS = ("name", "kind", "url", "format", "layout", "timezone", "poll_minutes")
NONE_VALUE = "(none)"  # dbc.Select shows an empty value as blank, not as "None"


def _pairs(pairs: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": value} for value, label in pairs]


def districts_table(rows: pd.DataFrame, total: int, everything: int) -> Any:
    """Districts with their reports (``db.catalog.district_report_counts`` rows)."""
    if everything == 0:
        return empty_state(
            "No districts yet.",
            "Upload the city's boundary file: reports are then placed in their districts.",
        )
    if total == 0:
        return empty_state("No districts match.", "Change the filter.")
    shown = [
        {
            "code": str(r["code"]),
            "name": str(r["name"]),
            "population": f"{int(r['population']):,}" if pd.notna(r["population"]) else "—",
            "reports": f"{int(r['reports']):,}",
            "boundary": "Yes" if bool(r["bounded"]) else flag("No boundary", "neutral"),
        }
        for r in rows.to_dict("records")
    ]
    return data_table(
        [
            Column("Code", "code"),
            Column("Name", "name"),
            Column("Population", "population", numeric=True),
            Column("Reports", "reports", numeric=True),
            Column("Boundary", "boundary"),
        ],
        shown,
        caption="Districts of the city and their 311 reports",
        row_header="name",
    )


def sources_list(rows: pd.DataFrame, total: int, everything: int) -> Any:
    """Data sources, briefly (the Data sources tab shows their freshness and jobs)."""
    if everything == 0:
        return empty_state("No data sources yet.", "Add the city's 311 feed or files here.")
    if total == 0:
        return empty_state("No data sources match.", "Change the filter.")
    shown = [
        {
            "name": str(r["name"]),
            "kind": dict(SOURCE_KIND_CHOICES).get(str(r["kind"]), str(r["kind"])),
            "url": str(r["url"] or "—"),
            "schedule": f"every {int(r['poll_minutes'])} min"
            if pd.notna(r["poll_minutes"])
            else "by hand",
        }
        for r in rows.to_dict("records")
    ]
    return data_table(
        [
            Column("Name", "name"),
            Column("Kind", "kind"),
            Column("Address or file", "url"),
            Column("Schedule", "schedule"),
        ],
        shown,
        caption="Data sources of the city",
        row_header="name",
    )


# ---------------------------------------------------------------- districts (upload)


def district_form() -> html.Section:
    """Upload a GeoJSON boundary file, choose the property holding each district's code."""
    help_text = (
        "A GeoJSON FeatureCollection of Polygon or MultiPolygon boundaries in longitude and "
        f"latitude (EPSG:4326), at most {DISTRICT_UPLOAD_MAX_BYTES / 1_000_000:.1f} MB. "
        "Districts are matched by code: a new code adds a district, a known one updates its "
        "name and boundary, and stored reports are placed again. Districts missing from the "
        "file are kept."
    )
    return html.Section(
        [
            html.H3("Upload district boundaries", className="section-title"),
            html.P(help_text, id="admin-districts-help-text", className="form-lead"),
            dcc.Upload(
                html.Div(
                    [
                        html.Button(
                            "Choose a GeoJSON file",
                            id=ids.ADMIN_DISTRICTS_CHOOSE_BUTTON,
                            type="button",
                            className="btn btn-outline-primary",
                            **{"aria-describedby": "admin-districts-help-text"},
                        ),
                        html.Span("or drop it here", className="upload-drop-hint"),
                    ],
                    className="upload-zone-inner",
                ),
                id=ids.ADMIN_DISTRICTS_UPLOAD,
                accept=".geojson,.json,application/geo+json,application/json",
                max_size=DISTRICT_UPLOAD_MAX_BYTES,
                multiple=False,
                className="upload-zone",
                className_active="upload-zone upload-zone-active",
                className_reject="upload-zone upload-zone-reject",
            ),
            html.Div(id=ids.ADMIN_DISTRICTS_FILE_DIV, role="status", className="catalog-file"),
            html.Div(
                [
                    form_field(
                        "Property holding the district code",
                        dbc.Select(
                            id=ids.ADMIN_DISTRICTS_CODE_SELECT,
                            options=[],
                            value=None,
                            placeholder="Upload a file first",
                        ),
                        "Numbers are fine (e.g. BoroCD 311).",
                    ),
                    form_field(
                        "Property holding the name (optional)",
                        dbc.Select(id=ids.ADMIN_DISTRICTS_NAME_SELECT, options=[], value=None),
                    ),
                    form_field(
                        "Property holding the population (optional)",
                        dbc.Select(
                            id=ids.ADMIN_DISTRICTS_POPULATION_SELECT, options=[], value=None
                        ),
                    ),
                ],
                className="form-grid",
            ),
            form_actions(button("Import the districts", ids.ADMIN_DISTRICTS_IMPORT_BUTTON)),
            form_feedback(ids.ADMIN_DISTRICTS_FEEDBACK_DIV),
        ],
        id=ids.ADMIN_DISTRICTS_SECTION,
        hidden=True,
        className="form-card catalog-form",
    )


def property_options(names: Sequence[str], *, optional: bool) -> list[dict[str, str]]:
    options = [{"label": name, "value": name} for name in names]
    return [{"label": NONE_LABEL, "value": NONE_VALUE}, *options] if optional else options


def guess_property(names: Sequence[str], hints: Sequence[str]) -> str:
    """The first property whose name contains one of ``hints`` (case-insensitive), or ``""``.

    An optional select shows ``NONE_VALUE`` for ``""``."""
    for hint in hints:
        for name in names:
            if hint in name.casefold():
                return name
    return ""


def file_summary(filename: str, size: int, properties: Sequence[str]) -> html.P:
    shown = ", ".join(properties[:8]) + ("…" if len(properties) > 8 else "")
    return html.P(f"{filename or 'The file'} ({size:,} bytes). Properties found: {shown}.")


def district_result(result: Any, rejects: Sequence[Any]) -> html.Div:
    """What an upload did (``db.catalog_admin.DistrictImport``), with every reject's reason."""
    parts = [f"{result.added} added", f"{result.updated} updated", f"{result.unchanged} unchanged"]
    lines: list[Any] = [html.P("Districts: " + ", ".join(parts) + ".")]
    if result.placement is not None and result.placement.checked:
        placement = result.placement
        lines.append(
            html.P(
                f"{placement.checked:,} reports with a point placed again: {placement.moved:,} "
                f"moved, {placement.outside:,} outside every district."
            )
        )
    for note in result.notes[:20]:
        lines.append(html.P(str(note)))
    tone = "success"
    if rejects:
        tone = "warning"
        lines.append(html.P(f"{len(rejects)} feature(s) left out:", className="notice-title"))
        lines.append(html.Ul([html.Li(str(r)) for r in rejects[:50]], className="compact-list"))
    return notice(html.Div(lines), tone)


# ---------------------------------------------------------------- data sources


def source_form() -> html.Section:
    """Register an Open311 feed or a file the scheduler re-reads."""
    return html.Section(
        [
            html.H3("Add a data source", className="section-title"),
            html.P(
                "Once added, the scheduler polls it at the interval given (leave the interval "
                "empty to bring data in by hand with triage ingest). Its freshness shows on the "
                "Data sources and jobs tab.",
                className="form-lead",
            ),
            html.Div(
                [
                    form_field(
                        "Name",
                        dbc.Input(
                            id=ids.ADMIN_SOURCE_NAME_INPUT,
                            type="text",
                            maxlength=64,
                            autocomplete="off",
                        ),
                        "A short name, e.g. city311.",
                    ),
                    form_field(
                        "Kind",
                        dbc.Select(
                            id=ids.ADMIN_SOURCE_KIND_SELECT,
                            options=_pairs(SOURCE_KIND_CHOICES),
                            value="open311",
                        ),
                    ),
                ],
                className="form-grid",
            ),
            html.Div(
                [
                    dbc.Label(
                        "Endpoint address",
                        id=ids.ADMIN_SOURCE_URL_LABEL,
                        html_for=ids.ADMIN_SOURCE_URL_INPUT,
                    ),
                    dbc.Input(
                        id=ids.ADMIN_SOURCE_URL_INPUT,
                        type="text",
                        maxlength=500,
                        autocomplete="off",
                    ),
                    dbc.FormText(
                        "Open311: the GeoReport v2 base address (https://…/open311/v2). "
                        "Files: the full path on the server."
                    ),
                ],
                className="form-field",
            ),
            html.Div(
                [
                    form_field(
                        "Format",
                        dbc.Select(
                            id=ids.ADMIN_SOURCE_FORMAT_SELECT,
                            options=_pairs((("json", "JSON"), ("xml", "XML"))),
                            value="json",
                        ),
                    ),
                    form_field(
                        "Jurisdiction (optional)",
                        dbc.Input(
                            id=ids.ADMIN_SOURCE_JURISDICTION_INPUT,
                            type="text",
                            maxlength=64,
                            autocomplete="off",
                        ),
                    ),
                ],
                id=ids.ADMIN_SOURCE_OPEN311_DIV,
                className="form-grid",
            ),
            html.Div(
                form_field(
                    "Layout",
                    dbc.Select(
                        id=ids.ADMIN_SOURCE_LAYOUT_SELECT,
                        options=[],
                        value=None,
                        placeholder="Choose one",
                    ),
                    "How the file's columns map to reports or indicator values.",
                ),
                id=ids.ADMIN_SOURCE_FILE_DIV,
                hidden=True,
            ),
            html.Div(
                [
                    form_field(
                        "Time zone of its times",
                        dbc.Input(
                            id=ids.ADMIN_SOURCE_TIMEZONE_INPUT,
                            type="text",
                            maxlength=64,
                            autocomplete="off",
                            placeholder="e.g. America/New_York",
                        ),
                        "Required for Open311: times without a zone are read in it.",
                    ),
                    form_field(
                        "Minutes between polls (optional)",
                        dbc.Input(
                            id=ids.ADMIN_SOURCE_POLL_INPUT,
                            type="text",
                            maxlength=6,
                            inputMode="numeric",
                            autocomplete="off",
                        ),
                        "5 to 10,080 (a week); empty: by hand only.",
                    ),
                ],
                className="form-grid",
            ),
            form_actions(button("Add the data source", ids.ADMIN_SOURCE_SAVE_BUTTON)),
            form_feedback(ids.ADMIN_SOURCE_FEEDBACK_DIV),
        ],
        id=ids.ADMIN_SOURCE_SECTION,
        hidden=True,
        className="form-card catalog-form",
    )


def upload_refused(message: str) -> html.Div:
    return notice(message, "danger")


def safe_file_name(filename: object) -> str:
    """The uploaded file's name as rejects quote it: its last part, plain characters only."""
    text = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in text if c.isalnum() or c in "._- ")[:80].strip(" .")
    return kept or "upload.geojson"


def source_refused(message: str) -> html.Div:
    return notice(message, "danger")


def source_added(name: str) -> html.Div:
    return notice(
        f"Added the data source “{name}”. It shows on the Data sources and jobs tab; the "
        "scheduler runs it at its interval.",
        "success",
    )
