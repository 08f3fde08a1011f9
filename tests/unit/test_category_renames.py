"""Renamed categories without a database: the merge of a renamed category's counts into its
successor's, and the ``continues`` column of a pack's ``categories.csv`` read and written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from triage.citypack import read_pack, write_pack
from triage.detection import report_count_series
from triage.detection.categories import merge_renamed_categories, renamed_category_heads


def counts(rows: list[tuple[str, int, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["day", "category_id", "district_id", "count"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def test_renu001_a_chain_of_renames_folds_into_its_newest_name() -> None:
    assert renamed_category_heads({2: 1, 3: 2, 9: 8}) == {1: 3, 2: 3, 8: 9}
    merged = merge_renamed_categories(
        counts(
            [
                ("2014-05-31", 1, 7, 4),
                ("2014-06-01", 1, 7, 1),  # the old name's stragglers the day of the rename
                ("2014-06-01", 2, 7, 5),
                ("2014-06-02", 3, 7, 6),
                ("2014-06-02", 5, 7, 2),  # not renamed: untouched
            ]
        ),
        {2: 1, 3: 2},
    )
    rows = sorted(
        (d.date().isoformat(), c, n)
        for d, c, n in zip(merged["day"], merged["category_id"], merged["count"], strict=True)
    )
    assert rows == [
        ("2014-05-31", 3, 4),
        ("2014-06-01", 3, 6),
        ("2014-06-02", 3, 6),
        ("2014-06-02", 5, 2),
    ]
    assert list(merged.columns) == ["day", "category_id", "district_id", "count"]
    series = report_count_series(merged)
    assert set(series["series"]) == {"reports:3:7", "reports:3:all", "reports:5:7", "reports:5:all"}


def test_renu002_bad_maps_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot continue itself"):
        renamed_category_heads({1: 1})
    with pytest.raises(ValueError, match="continued by both"):
        renamed_category_heads({2: 1, 3: 1})
    with pytest.raises(ValueError, match="form a cycle"):
        renamed_category_heads({2: 1, 1: 2})
    frame = counts([("2014-06-01", 1, 7, 4)])
    assert merge_renamed_categories(frame, {}) is frame


def pack(folder: Path, categories: str) -> Path:
    folder.mkdir()
    (folder / "city.toml").write_text('name = "Gotham"\ntimezone = "America/New_York"\n')
    (folder / "departments.csv").write_text("code,name\nHPD,Housing\n")
    (folder / "indicators.csv").write_text("code,name,department,unit,direction,cadence\n")
    (folder / "problems.csv").write_text("code,title,lead_department,indicators,categories\n")
    (folder / "categories.csv").write_text(categories)
    return folder


def test_renu003_continues_is_read_checked_and_written_back(tmp_path: Path) -> None:
    read = read_pack(
        pack(
            tmp_path / "in",
            "category,department,continues\n"
            "HEAT/HOT WATER,,HEATING\n"  # a department may be left empty with continues
            "PLUMBING,,\n"  # line 3: not without
            "HEATING,HPD,heating\n",  # line 4: itself, whatever the case
        )
    )
    assert [(r.line, r.reason) for r in read.rejects] == [
        (3, "department is empty"),
        (4, "continues: the category 'HEATING' cannot continue itself"),
    ]
    (spec,) = read.categories
    assert (spec.name, spec.department, spec.continues) == ("HEAT/HOT WATER", "", "HEATING")
    write_pack(tmp_path / "out", read)
    assert (tmp_path / "out" / "categories.csv").read_text().splitlines() == [
        "category,department,code,continues",
        "HEAT/HOT WATER,,,HEATING",
    ]
    assert read_pack(tmp_path / "out").categories == read.categories


def test_renu004_the_day_type_is_kept() -> None:
    frame = counts([("2014-06-01", 1, 7, 4), ("2014-06-01", 2, 7, 1)])
    merged = merge_renamed_categories(frame, {2: 1})
    assert merged["day"].tolist() == [pd.Timestamp(dt.date(2014, 6, 1))]
    assert merged["count"].tolist() == [5] and merged["category_id"].dtype == "int64"
