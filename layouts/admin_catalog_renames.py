"""Administration, "City setup" tab: renamed 311 categories (which category continues which).

When the city renames a category (New York: HEATING became HEAT/HOT WATER), the new name is
linked to the old one here or in a city pack's ``categories.csv`` (``continues``); early
warnings then read both as one series and problems fed by one are fed by both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from layouts import ids
from layouts.components import (
    Column,
    button,
    data_table,
    empty_state,
    form_actions,
    form_feedback,
    form_field,
    notice,
)


def category_options(pairs: Sequence[tuple[int, str]]) -> list[dict[str, str]]:
    """Select options from (id, name) pairs; names are text, never markup."""
    return [{"label": str(name), "value": str(int(i))} for i, name in pairs]


def rename_form() -> html.Section:
    """Link a category to the one it was renamed from, or remove that link."""
    return html.Section(
        [
            html.H3("Link a renamed category", className="section-title"),
            html.P(
                "When the city renames a 311 category, link the new name to the old one. "
                "Early warnings then count both as one series: the rename itself raises no "
                "warning, and a real rise after it is still found against the old name's "
                "history. Problems fed by either name are fed by both.",
                className="form-lead",
            ),
            html.Div(
                [
                    form_field(
                        "New name (the category used now)",
                        dbc.Select(
                            id=ids.ADMIN_RENAME_NEW_SELECT,
                            options=[],
                            value=None,
                            placeholder="Choose a category",
                        ),
                    ),
                    form_field(
                        "Old name (the category it continues)",
                        dbc.Select(
                            id=ids.ADMIN_RENAME_OLD_SELECT,
                            options=[],
                            value=None,
                            placeholder="Choose a category",
                        ),
                        "Each category can be continued by one other; no loops.",
                    ),
                ],
                className="form-grid",
            ),
            form_actions(
                button("Link the two names", ids.ADMIN_RENAME_SAVE_BUTTON),
                button(
                    "Remove the new name's link",
                    ids.ADMIN_RENAME_REMOVE_BUTTON,
                    tone="secondary",
                    outline=True,
                ),
                class_name="form-actions button-row",
            ),
            form_feedback(ids.ADMIN_RENAME_FEEDBACK_DIV),
        ],
        id=ids.ADMIN_RENAME_SECTION,
        hidden=True,
        className="form-card catalog-form",
    )


def renames_table(rows: pd.DataFrame, total: int, everything: int) -> Any:
    """The stored renames (``db.catalog_admin.category_renames`` rows)."""
    if everything == 0:
        return empty_state(
            "No renamed categories.",
            "Link a new category name to the old one when the city renames a category.",
        )
    if total == 0:
        return empty_state("No renamed categories match.", "Change the filter.")
    shown = [
        {"category": str(r["category"]), "continues": str(r["continues"])}
        for r in rows.to_dict("records")
    ]
    return data_table(
        [Column("New name", "category"), Column("Continues (old name)", "continues")],
        shown,
        caption="Renamed 311 categories and the names they continue",
        row_header="category",
    )


def rename_saved(message: str) -> html.Div:
    return notice(message, "success")


def rename_refused(message: str) -> html.Div:
    return notice(message, "danger")
