"""The attention list as a pure function: at most seven items, impact ordering (a big surge
nobody covers outranks a late monthly figure), late data never listed, "new" only for data of
this week, plain sentences, and everything else counted in groups."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

from triage.attention import (
    ATTENTION_LIMIT,
    AlertEpisode,
    AttentionInputs,
    RankedProblem,
    attention_list,
    attention_text,
    episode_impact,
    is_new,
)

WEEK = "2026-W49"
MONDAY = dt.date(2026, 11, 30)
SUNDAY = dt.date(2026, 12, 6)
# No bare 0-1 scores, method names or detector internals in a sentence the mayor reads.
JARGON = re.compile(r"\b0\.\d+\b|FDR|false discovery|surge-\d+d|mann-kendall|p-value|q-value", re.I)


def _snow(**overrides: object) -> AlertEpisode:
    """615 'Street not plowed' reports in the 7 days to Dec 5 against about 2: stored as a
    mere warning, in a category no problem covers."""
    values: dict[str, object] = {
        "alert_id": 101,
        "kind": "surge",
        "severity": "warning",
        "state": "new",
        "first_seen": dt.date(2026, 12, 1),
        "last_seen": dt.date(2026, 12, 5),
        "data_date": dt.date(2026, 12, 5),
        "subject": "Street not plowed",
        "observed": 615.0,
        "expected": 1.6,
        "window_days": 7,
        "category_id": 40,
        "unit": "reports",
    }
    values.update(overrides)
    return AlertEpisode(**values)  # type: ignore[arg-type]


def _late_monthly(**overrides: object) -> AlertEpisode:
    """A critical threshold on a monthly value for June, first seen this week."""
    values: dict[str, object] = {
        "alert_id": 202,
        "kind": "threshold",
        "severity": "critical",
        "state": "new",
        "first_seen": dt.date(2026, 12, 2),
        "last_seen": dt.date(2026, 12, 2),
        "data_date": dt.date(2026, 6, 30),
        "period": dt.date(2026, 6, 1),
        "cadence": "monthly",
        "subject": "Homicides",
        "observed": 9.0,
        "expected": 6.2,
        "indicator_id": 7,
        "direction": "down",
        "problem_ids": (3,),
        "problem_titles": ("Gun violence",),
    }
    values.update(overrides)
    return AlertEpisode(**values)  # type: ignore[arg-type]


def _stale(alert_id: int = 303, problem_id: int = 3) -> AlertEpisode:
    return AlertEpisode(
        alert_id=alert_id,
        kind="stale",
        severity="critical",
        state="new",
        first_seen=dt.date(2026, 12, 1),
        last_seen=dt.date(2026, 12, 1),
        data_date=dt.date(2026, 9, 30),
        subject="Encampment reports",
        observed=64.0,
        expected=14.0,
        indicator_id=8,
        problem_ids=(problem_id,),
        problem_titles=("Homelessness",),
    )


def _ranking(count: int = 12, **by_id: dict[str, object]) -> tuple[RankedProblem, ...]:
    problems = []
    for number in range(1, count + 1):
        values: dict[str, object] = {
            "problem_id": number,
            "title": f"Problem {number}",
            "rank": number,
            "movement": "same",
            "rank_change": 0,
            "previous_rank": number,
            "decision": "focus",
        }
        values.update(by_id.get(str(number), {}))
        problems.append(RankedProblem(**values))  # type: ignore[arg-type]
    return tuple(problems)


def _inputs(**overrides: object) -> AttentionInputs:
    values: dict[str, object] = {
        "week": WEEK,
        "week_start": MONDAY,
        "week_end": SUNDAY,
        "ranking": _ranking(),
        "episodes": (),
        "compared": True,
        "previous_week": "2026-W48",
    }
    values.update(overrides)
    return AttentionInputs(**values)  # type: ignore[arg-type]


def test_att001_at_most_seven_items_and_the_rest_grouped() -> None:
    surges = tuple(
        _snow(alert_id=500 + n, category_id=60 + n, subject=f"Category {n}", observed=50.0 + n)
        for n in range(6)
    )
    undecided: dict[str, dict[str, object]] = {str(n): {"decision": None} for n in range(1, 11)}
    undecided["4"] = {"decision": None, "movement": "up", "rank_change": 6, "previous_rank": 10}
    ranking = _ranking(**undecided)
    result = attention_list(_inputs(ranking=ranking, episodes=surges))
    assert len(result.items) == ATTENTION_LIMIT
    groups = {g.key: g.count for g in result.groups}
    assert groups["more"] >= 3 and groups["decisions"] >= 1
    assert all(g.link.startswith("/") for g in result.groups)


def test_att002_big_uncovered_surge_outranks_a_late_monthly_figure() -> None:
    snow, late = _snow(), _late_monthly()
    assert episode_impact(snow) > episode_impact(late)
    # Even when the monthly figure is fresh (about this week), the surge comes first.
    fresh = _late_monthly(
        alert_id=203, data_date=dt.date(2026, 11, 30), period=dt.date(2026, 11, 1)
    )
    result = attention_list(_inputs(episodes=(late, fresh, snow)))
    kinds = [(i.kind, i.alert_id) for i in result.items]
    assert kinds[0] == ("uncovered_surge", 101)
    assert ("emerging", 203) in kinds and ("emerging", 202) not in kinds
    first = result.items[0]
    assert first.reason.startswith(
        "615 'Street not plowed' reports in the 7 days to Dec 5, against about 2 usually"
    )
    assert first.problem_id is None and first.category_id == 40


def test_att003_late_data_is_never_listed_only_counted() -> None:
    stale = tuple(_stale(alert_id=300 + n, problem_id=n) for n in range(1, 6))
    result = attention_list(_inputs(episodes=stale, late_indicators=5))
    assert result.items == ()
    assert {g.key: g.count for g in result.groups}["late_data"] == 5
    with_more = attention_list(_inputs(episodes=(*stale, _snow())))
    assert [i.kind for i in with_more.items] == ["uncovered_surge"]
    assert all(i.alert_id not in {e.alert_id for e in stale} for i in with_more.items)


def test_att004_new_means_first_seen_this_week_about_data_of_this_week() -> None:
    fresh = _late_monthly(
        kind="threshold",
        cadence="weekly",
        period=dt.date(2026, 11, 23),
        data_date=dt.date(2026, 11, 29),
    )
    months_old = _late_monthly()
    seen_before = dataclasses.replace(fresh, alert_id=204, first_seen=dt.date(2026, 11, 25))
    assert is_new(fresh, MONDAY, SUNDAY)
    assert not is_new(months_old, MONDAY, SUNDAY)
    assert not is_new(seen_before, MONDAY, SUNDAY)
    listed = {i.alert_id for i in attention_list(_inputs(episodes=(fresh,))).items}
    assert listed == {fresh.alert_id}
    assert attention_list(_inputs(episodes=(months_old,))).items == ()
    assert attention_list(_inputs(episodes=(seen_before,))).items == ()
    # An uncovered surge about data of weeks ago is not listed either.
    old_surge = _snow(data_date=dt.date(2026, 10, 31), last_seen=dt.date(2026, 10, 31))
    assert attention_list(_inputs(episodes=(old_surge,))).items == ()


def test_att005_reasons_are_plain_sentences_with_numbers_in_units() -> None:
    fresh = _late_monthly(
        alert_id=205, cadence="weekly", period=dt.date(2026, 11, 23), data_date=SUNDAY
    )
    ranking = _ranking(
        **{"2": {"decision": None, "last_decision": "monitor", "last_decision_week": "2026-W48"}},
        **{"5": {"movement": "up", "rank_change": 4, "previous_rank": 9}},
    )
    result = attention_list(_inputs(ranking=ranking, episodes=(_snow(), fresh)))
    assert {i.kind for i in result.items} == {
        "uncovered_surge",
        "emerging",
        "decision_due",
        "moved",
    }
    for item in result.items:
        assert item.reason.endswith(".") and item.reason.count(". ") == 0, item.reason
        assert not JARGON.search(item.reason), item.reason
        assert not JARGON.search(item.title), item.title
    texts = {i.kind: i.reason for i in result.items}
    assert texts["emerging"] == (
        "Homicides was 9 in the week of Nov 23, above its critical level of 6.2 (lower is better)."
    )
    assert texts["moved"] == "Up 4 places to #5 since 2026-W48."
    assert texts["decision_due"] == (
        "Ranked #2 this week and no decision is recorded yet; last decision: Monitor (2026-W48)."
    )
    payload = json.loads(json.dumps(result.as_dict()))
    assert {"kind", "title", "reason"} <= set(payload["attention"][0])
    assert "impact" not in payload["attention"][0]
    assert "What needs the mayor, 2026-W49 (Nov 30 to Dec 6):" in attention_text(result)


def test_att006_one_item_per_problem_and_category_actions_by_role() -> None:
    district = _snow(alert_id=102, district="Millbrook", observed=300.0, expected=1.0)
    twin = _late_monthly(
        alert_id=206, cadence="weekly", period=dt.date(2026, 11, 23), data_date=SUNDAY
    )
    trend = dataclasses.replace(twin, alert_id=207, kind="trend", severity="warning")
    plain = attention_list(_inputs(episodes=(_snow(), district, twin, trend)))
    assert [i.kind for i in plain.items] == ["uncovered_surge", "emerging"]
    assert "also rising in Millbrook" in plain.items[0].reason
    assert "1 other new warning on it" in plain.items[1].reason
    assert plain.items[0].actions == ()
    allowed = attention_list(
        _inputs(episodes=(_snow(),), can_open_problem=True, can_map_category=True)
    )
    actions = {a.key: a for a in allowed.items[0].actions}
    assert set(actions) == {"open_problem", "map_category"}
    assert actions["map_category"].link == "/admin?tab=mapping"
    handled = attention_list(_inputs(episodes=(_snow(state="acknowledged"),)))
    assert handled.items[0].impact < allowed.items[0].impact


def test_att007_standing_items_only_when_they_changed() -> None:
    steady = attention_list(_inputs())
    assert steady.items == ()
    worse = attention_list(_inputs(ranking=_ranking(**{"1": {"trend": "worsening"}})))
    assert [(i.kind, i.problem_id) for i in worse.items] == [("standing", 1)]
    assert worse.items[0].reason == "Still #1, and worse than last week."
    no_history = attention_list(
        _inputs(compared=False, ranking=_ranking(**{"1": {"trend": "worsening"}}))
    )
    assert no_history.items == ()


def test_att008_a_tied_ranking_asks_for_data_not_for_decisions_in_file_order() -> None:
    """New York's first week: seven problems with no values and no reports share one score.
    "Decide #1, #2, #3" would only repeat the pack file's order, so the list says once that
    the ranking cannot tell them apart yet."""
    undecided = {str(n): {"decision": None, "priority": 0.4291} for n in range(1, 8)}
    tied = attention_list(_inputs(ranking=_ranking(7, **undecided), compared=False))
    due = [i for i in tied.items if i.kind == "decision_due"]
    assert [(i.title, i.problem_id, i.link) for i in due] == [
        ("The ranking cannot tell the top problems apart yet", None, "/problems")
    ]
    assert due[0].reason.startswith("7 problems share the top score this week")
    # Two tied at the top still get their own decisions: the ranking tells them from the rest.
    spread = {
        str(n): {"decision": None, "priority": 0.6 if n <= 2 else 0.6 - 0.05 * n}
        for n in range(1, 8)
    }
    ranked = attention_list(_inputs(ranking=_ranking(7, **spread), compared=False))
    assert [i.problem_id for i in ranked.items if i.kind == "decision_due"] == [1, 2, 3]
