"""The "Renamed categories" part of the City setup tab, through its callbacks on the demo city:
the pickers list the categories, a link is saved with its message and shows in the table, a
cycle is refused naming the picker at fault, a department head is refused by the guard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from callbacks import admin_catalog as cb
from db.models import AuditLog, ReportCategory
from layouts import ids
from tests.webutil import WebEnv, texts


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


def test_adren001_link_show_refuse_and_remove(env: WebEnv) -> None:
    admin = env.principal("admin")
    assert cb.kind_view("rename", principal=admin)[2:] == (True, True, True, False)
    new_options, old_options = cb.rename_options("rename", 0, principal=admin)
    assert new_options == old_options and len(new_options) >= 2
    (new, new_name), (old, old_name) = [(o["value"], o["label"]) for o in new_options[:2]]
    with pytest.raises(PreventUpdate):
        cb.rename_save(0, 0, new, old, 0, principal=admin, triggered_id="elsewhere")

    feedback, new_bad, old_bad, saved = cb.rename_save(
        1, 0, new, old, 0, principal=admin, triggered_id=ids.ADMIN_RENAME_SAVE_BUTTON
    )
    assert texts(feedback).startswith(f"{new_name} now continues {old_name}")
    assert (new_bad, old_bad, saved) == (False, False, 1)
    query = cb.table_query(
        0,
        0,
        "rename",
        "",
        [],
        "category",
        None,
        principal=admin,
        triggered_id=ids.ADMIN_CATALOG_KIND_RADIO,
    )
    table, count, _, _ = cb.catalogue_list(query, 0, 0, 0, 1, principal=admin)
    assert count == "1 renamed category"
    assert f"{new_name} {old_name}" in texts(table)

    feedback, new_bad, old_bad, saved = cb.rename_save(
        2, 0, old, new, 1, principal=admin, triggered_id=ids.ADMIN_RENAME_SAVE_BUTTON
    )
    assert "would make a cycle" in texts(feedback)
    assert (new_bad, old_bad) == (False, True) and saved is cb.dash.no_update
    feedback, _, old_bad, _ = cb.rename_save(
        3, 0, old, None, 1, principal=admin, triggered_id=ids.ADMIN_RENAME_SAVE_BUTTON
    )
    assert texts(feedback) == "Choose the old name." and old_bad is True

    feedback, _, _, saved = cb.rename_save(
        3, 1, new, None, 1, principal=admin, triggered_id=ids.ADMIN_RENAME_REMOVE_BUTTON
    )
    assert texts(feedback) == f"{new_name} no longer continues {old_name}." and saved == 2
    table, count, _, _ = cb.catalogue_list(query, 0, 0, 0, 2, principal=admin)
    assert count == "0 renamed categories" and "No renamed categories." in texts(table)
    with env.database.session() as session:
        assert (
            session.scalar(select(ReportCategory.continues_id).where(ReportCategory.id == int(new)))
            is None
        )
        trail = session.scalars(
            select(AuditLog.after).where(AuditLog.entity == "report_category").order_by(AuditLog.id)
        ).all()
    assert trail[-2:] == [{"continues": old_name}, {"continues": None}]


def test_adren002_names_are_text_not_markup() -> None:
    import pandas as pd

    from layouts.admin_catalog_renames import category_options, renames_table

    options = category_options([(3, "<b>Heat</b>")])
    assert options == [{"label": "<b>Heat</b>", "value": "3"}]
    frame = pd.DataFrame([{"id": 1, "category": "<script>x</script>", "continues": "Old"}])
    assert "<script>x</script> Old" in texts(renames_table(frame, 1, 1))
