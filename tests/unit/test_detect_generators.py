"""The detector benchmark's generators, its scoring and the real labelled 311 events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from triage.bench.detect import TARGETS, Options, check, run_real, score
from triage.bench.generators import (
    EVAL_START,
    GENERATORS,
    HELD_OUT_SEEDS,
    START,
    TUNING_SEEDS,
    Generated,
    generator,
)

NAMES = [g.name for g in GENERATORS]


@pytest.mark.parametrize("name", NAMES)
def test_gen001_each_generator_is_reproducible_and_plants_problems(name: str) -> None:
    first = generator(name).make(60, 2.0, 5)
    again = generator(name).make(60, 2.0, 5)
    np.testing.assert_array_equal(first.counts, again.counts)
    assert first.counts.shape[1] == 730 and len(first.names) >= 60
    counts = first.counts[~np.isnan(first.counts)]
    assert (counts >= 0).all() and (counts == np.round(counts)).all()
    events = first.events
    assert len(events) > 10
    assert (events["start"] >= EVAL_START).all() and (events["end"] > events["start"]).all()
    assert (events["relative"] > 0).all()
    long = first.long()
    assert list(long.columns) == ["series", "date", "value"]
    assert long["date"].min() == pd.Timestamp(START)


def test_gen002_tuning_and_held_out_seeds_are_apart() -> None:
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)
    with pytest.raises(KeyError, match="known: reference"):
        generator("nope")


def test_gen003_holidays_are_low_and_caught_up_on_the_next_weekday() -> None:
    gen = generator("holidays").make(300, 2.0, 3)
    per_day = gen.counts.sum(axis=0)
    christmas = (pd.Timestamp("2022-12-25") - pd.Timestamp(START)).days
    july4 = (pd.Timestamp("2022-07-04") - pd.Timestamp(START)).days  # a Monday
    usual = np.median(per_day[july4 - 28 : july4 : 7])  # the four Mondays before
    assert per_day[july4] < 0.6 * usual
    assert per_day[july4 + 1] > 1.2 * np.median(per_day[july4 - 27 : july4 + 1 : 7])
    assert per_day[christmas] < per_day[christmas - 7]


def test_gen004_zero_inflated_series_have_many_empty_days() -> None:
    gen = generator("zero_inflated").make(200, 2.0, 4)
    zeros = (gen.counts == 0).mean(axis=1)
    assert np.median(zeros) > 0.4
    assert gen.traits["zero_share"].between(0.2, 0.7).all()


def test_gen005_renamed_categories_carry_on_under_a_new_name_zero_filled() -> None:
    gen = generator("renames_and_shifts").make(200, 3.0, 6)
    successors = [i for i, n in enumerate(gen.names) if n.endswith("-renamed")]
    assert len(successors) > 20 and not gen.sparse
    for i in successors[:10]:
        old = list(gen.names).index(gen.names[i].removesuffix("-renamed"))
        first = int(np.flatnonzero(gen.counts[i] > 0)[0])
        assert gen.counts[i, :first].sum() == 0 and first > 60  # explicit leading zeros
        assert gen.counts[old, first + 30 :].sum() == 0  # the old name is retired
    assert not gen.events["row"].isin(successors).any()


def test_gen006_spikes_add_their_excess_on_one_or_three_days() -> None:
    gen = generator("seasonal").make(400, 3.0, 8)
    spikes = gen.events[gen.events["kind"].isin(["spike", "burst"])]
    assert set(spikes["kind"]) == {"spike", "burst"}
    lengths = (spikes["end"] - spikes["start"]).groupby(spikes["kind"]).max()
    assert lengths["spike"] == 1 and lengths["burst"] == 3


def test_gen007_score_counts_an_alert_inside_until_a_week_after_the_last_excess_day() -> None:
    n_days = 7 * 80
    counts = np.zeros((2, n_days))
    events = pd.DataFrame(
        {"row": [0], "kind": ["spike"], "start": [420], "end": [421], "size_sd": [5.0],
         "relative": [3.0], "low_count": [True]}
    )  # fmt: skip
    gen = Generated(counts, np.array(["a", "b"], dtype=object), START, events, pd.DataFrame())
    alerts = np.zeros((2, n_days), dtype=bool)
    alerts[0, [423, 427]] = True  # 3 and 7 days after the spike (weeks 60, 61): inside
    alerts[0, 441] = True  # three weeks later: outside
    alerts[1, 400] = True  # a clean series: a false alarm
    result = score(alerts, gen)
    assert result.sensitivity == 1.0 and result.median_delay == 3.0
    assert result.alerted_weeks == 4 and result.true_weeks == 2
    assert result.false_weeks == 1 and result.clean_weeks == 28 + 8  # weeks 52-79; 52-59
    # Where precision's losses fall: one week on a clean series, one after the event.
    assert result.false_positive_weeks == {"clean_series": 1, "before_event": 0, "after_event": 1}
    alerts[0, 380] = True  # before the event (week 54)
    assert score(alerts, gen).false_positive_weeks["before_event"] == 1


def test_gen008_check_marks_each_target() -> None:
    good = {"sensitivity": 0.95, "median_delay_days": 5.0, "false_alarm_rate": 0.004,
            "precision": 0.9}  # fmt: skip
    assert check(good) == dict.fromkeys(("sensitivity", "median_delay", "false_alarms",
                                         "precision"), True)  # fmt: skip
    bad = {**good, "false_alarm_rate": 0.011, "median_delay_days": None}
    assert check(bad) == {"sensitivity": True, "median_delay": False, "false_alarms": False,
                          "precision": True}  # fmt: skip
    assert TARGETS["false_alarm_rate_max"] == 0.01


def test_gen009_real_storms_are_detected_and_dry_seasons_stay_quiet() -> None:
    real = run_real(Options(workers=1))
    assert real["available"]
    events = {e["onset"]: e for e in real["events"]}
    assert len(events) == 15
    for onset in ("2009-10-13", "2012-12-02", "2014-12-02", "2016-03-06"):
        assert events[onset]["detected"] and events[onset]["delay_days"] <= 1
    dry = [c for c in real["clean"] if c["category"] == "Sewer Issues"]
    assert len(dry) == 8 and sum(c["alerted_weeks"] for c in dry) == 0
    assert real["false_alarm_rate"] <= TARGETS["false_alarm_rate_max"]
