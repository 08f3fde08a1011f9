"""``triage bench detect``: the quick run's JSON (generators train vs held out, real sets apart)."""

from __future__ import annotations

import contextlib
import io
import json
import math

import pytest

from triage.bench.detect import HEADLINE, TARGETS, quick_options, summary, worst
from triage.bench.generators import GENERATORS, HELD_OUT_SEEDS, TUNING_SEEDS

REAL_SETS = {"sf_311_10000", "nyc_311_dohmh_animals_2010_2025"}


@pytest.fixture(scope="module")
def quick() -> dict[str, object]:
    """``triage bench detect --quick --json`` through the real entry point: the last line."""
    from triage.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["bench", "detect", "--quick", "--json", "--workers", "1"])
    assert code == 0, err.getvalue()
    lines = out.getvalue().strip().splitlines()
    assert any(line.startswith("Per generator") for line in lines)  # the table comes first
    return json.loads(lines[-1])


def test_bdj001_quick_options_are_small_and_keep_both_roles() -> None:
    options = quick_options()
    assert options.quick and options.skip_pynssp and options.pynssp_series == 0
    assert options.series == 300 and options.generator_series == 80
    assert options.tuning_seeds == (TUNING_SEEDS[0],) and options.seeds == (HELD_OUT_SEEDS[0],)
    assert set(options.tuning_seeds).isdisjoint(options.seeds)


def test_bdj002_json_is_strict_and_names_every_generator_and_real_set(quick) -> None:
    text = json.dumps(quick, allow_nan=False, sort_keys=True)  # no NaN reaches the JSON
    again = json.loads(text)
    assert again["quick"] is True
    assert again["generator_seeds"] == {
        "tuned_on": list(TUNING_SEEDS),
        "train": [TUNING_SEEDS[0]],
        "held_out": [HELD_OUT_SEEDS[0]],
    }
    short = again["summary"]
    assert set(short["generators"]) == {spec.name for spec in GENERATORS}
    assert set(short["real_event_sets"]) == REAL_SETS
    for roles in short["generators"].values():
        assert set(roles) == {"train", "held_out"}
        for figures in roles.values():
            assert set(figures) == {*HEADLINE, "pass"}
            assert 0.0 <= figures["sensitivity"] <= 1.0
            assert 0.0 <= figures["false_alarm_rate"] <= 1.0
            assert 0.0 <= figures["precision"] <= 1.0
            assert 0.0 <= figures["median_delay_days"] < 28.0
    assert short["pass"] == again["pass"]
    assert set(short["reference"]) == {*HEADLINE, "pass"}


def test_bdj003_seeds_carry_their_role_and_only_held_out_seeds_decide(quick) -> None:
    for entry in quick["generators"].values():
        seeds = entry["seeds"]
        assert {k: v["role"] for k, v in seeds.items()} == {
            str(TUNING_SEEDS[0]): "train",
            str(HELD_OUT_SEEDS[0]): "held_out",
        }
        held = seeds[str(HELD_OUT_SEEDS[0])]
        # With one seed per role, the worst over seeds is that seed's figures.
        for key in HEADLINE:
            assert entry["held_out"][key] == held[key]
            assert entry["train"][key] == seeds[str(TUNING_SEEDS[0])][key]
        assert entry["pass"] == all(held["checks"].values())


def test_bdj004_real_sets_are_scored_apart_from_their_own_events(quick) -> None:
    real = quick["real_events"]
    sets = real["sets"]
    assert set(sets) == REAL_SETS
    sf = [e for e in real["events"] if e["source"] == "sf_311_10000"]
    assert sets["sf_311_10000"]["labelled_events"] == len(sf) == 15
    assert sets["sf_311_10000"]["sensitivity"] == round(sum(e["detected"] for e in sf) / len(sf), 3)
    nyc = sets["nyc_311_dohmh_animals_2010_2025"]
    # A clean period only: no events, so no sensitivity, and judged on false alarms alone.
    assert nyc["labelled_events"] == 0 and nyc["sensitivity"] is None
    assert nyc["precision"] is None and set(nyc["checks"]) == {"false_alarms"}
    nyc_clean = [c for c in real["clean"] if c["source"] == "nyc_311_dohmh_animals_2010_2025"]
    weeks = sum(c["weeks"] for c in nyc_clean)
    alerted = sum(c["alerted_weeks"] for c in nyc_clean)
    assert nyc["clean_series_weeks"] == weeks == 469
    assert nyc["false_alarm_rate"] == round(alerted / weeks, 5)
    # Pooled, labelled-week precision mixes one set's events with another's clean weeks: it
    # is shown but not judged; every set is judged on its own.
    assert "precision" not in real["checks"] and set(sets["sf_311_10000"]["checks"]) == {
        "sensitivity",
        "median_delay",
        "false_alarms",
        "precision",
    }
    assert real["pass"] == (all(real["checks"].values()) and all(s["pass"] for s in sets.values()))


def test_bdj005_worst_takes_the_bad_side_of_each_figure() -> None:
    a = {"sensitivity": 0.95, "median_delay_days": 5.0, "false_alarm_rate": 0.004,
         "precision": 0.91}  # fmt: skip
    b = {"sensitivity": 0.92, "median_delay_days": 8.0, "false_alarm_rate": 0.002,
         "precision": 0.85}  # fmt: skip
    out = worst([a, b])
    assert (out["sensitivity"], out["median_delay_days"]) == (0.92, 8.0)
    assert (out["false_alarm_rate"], out["precision"]) == (0.004, 0.85)
    assert out["seeds"] == 2
    assert out["checks"] == {"sensitivity": True, "median_delay": False, "false_alarms": True,
                             "precision": True}  # fmt: skip
    assert worst([{**a, "median_delay_days": None}])["checks"]["median_delay"] is False


def test_bdj006_summary_marks_a_failing_generator(quick) -> None:
    copy = json.loads(json.dumps(quick))
    name = GENERATORS[0].name
    copy["generators"][name]["held_out"] = {
        **copy["generators"][name]["held_out"],
        "precision": TARGETS["precision_min"] - 0.1,
        "checks": {"precision": False},
    }
    short = summary(copy)
    assert short["generators"][name]["held_out"]["pass"] is False
    assert math.isclose(
        short["generators"][name]["held_out"]["precision"], TARGETS["precision_min"] - 0.1
    )
