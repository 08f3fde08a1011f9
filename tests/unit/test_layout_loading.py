"""Both kinds of import layout (311 portal exports, indicator files) load the same way: a
built-in by name, or a TOML mapping file, with the same clear messages when neither fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.ingest.errors import IngestError
from triage.ingest.indicators import INDICATOR_LAYOUTS, load_indicator_layout
from triage.ingest.portal_csv import LAYOUTS, load_layout

LOADERS = [
    pytest.param(
        load_layout,
        LAYOUTS,
        "[columns]\nid = 'Ticket'\nrequested = 'Opened'\ncategory = 'Type'\n",
        "id",
        id="portal",
    ),
    pytest.param(
        load_indicator_layout,
        INDICATOR_LAYOUTS,
        "[columns]\nindicator = ['Metric', 'KPI']\n",
        "indicator",
        id="indicators",
    ),
]


@pytest.mark.parametrize(("load", "built_in", "toml", "field"), LOADERS)
def test_lay001_built_in_by_name_and_toml_by_path(
    load, built_in, toml: str, field: str, tmp_path: Path
) -> None:
    for name, layout in built_in.items():
        assert load(name) is layout
    path = tmp_path / "my-city.toml"
    path.write_text(toml, encoding="utf-8")
    layout = load(str(path))
    assert layout.name == "my-city"
    assert layout.columns[field][0] in {"ticket", "metric"}


@pytest.mark.parametrize(("load", "built_in", "toml", "field"), LOADERS)
def test_lay002_neither_a_name_nor_a_toml_file_is_refused_clearly(
    load, built_in, toml: str, field: str, tmp_path: Path
) -> None:
    names = ", ".join(built_in)
    with pytest.raises(IngestError) as refused:
        load("paris")
    assert str(refused.value) == (
        f"Unknown layout 'paris': use one of {names} or a .toml mapping file."
    )
    with pytest.raises(IngestError) as unreadable:
        load(str(tmp_path / "missing.toml"))
    assert str(unreadable.value).startswith("Cannot read the layout file missing.toml: ")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b"[columns]\nid = '\xe9'\n")
    with pytest.raises(IngestError, match=r"^Cannot read the layout file latin1\.toml: "):
        load(str(bad))
