"""The problem drill-down without a browser: pure figure builders and presenters, and the page's
callbacks called directly on a copy of the small demo city."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import problem, problem_edit
from db.backward_map import add_factor
from db.models import AuditLog, CausalFactor, Engagement, Innovation, Problem, ScoreSnapshot
from layouts import figures, ids, problem_map
from layouts import problem as problem_layout
from layouts.problem_edit import NEW
from tests.webutil import WebEnv, find_ids, texts
from triage.backward_map import backward_map
from triage.scoring import iso_week
from triage.security import PermissionDenied

XSS = "<img src=x onerror=alert(1)><b>bold</b>"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


def _richest(env: WebEnv) -> int:
    with env.database.session() as session:
        return int(
            session.scalar(
                select(CausalFactor.problem_id)
                .group_by(CausalFactor.problem_id)
                .order_by(func.count().desc(), CausalFactor.problem_id)
            )
        )


def _version(env: WebEnv, problem_id: int) -> int:
    with env.database.session() as session:
        return int(session.scalar(select(Problem.version).where(Problem.id == problem_id)))


def _valid(figure: go.Figure) -> dict[str, Any]:
    """Plotly's full validation of a builder's output (the builders skip it for speed)."""
    return go.Figure(figure.to_dict()).to_dict()


# ---------------------------------------------------------------- figures and presenters


def _parts() -> pd.DataFrame:
    components = {
        "importance": {
            "gap": {"value": 0.9, "low": 0.8, "high": 1.0},
            "concern": {"value": 0.4, "low": 0.1, "high": 0.7},
        },
        "tractability": {"reach": {"value": 0.5, "low": 0.5, "high": 0.5}},
        "neglectedness": {"uncovered": {"value": 0.2, "low": 0.1, "high": 0.3}},
        "missing": ["concern"],
        "weights": {"gap": 0.35, "concern": 0.2, "reach": 0.3, "uncovered": 0.5},
    }
    return problem_layout.breakdown_frame(components)


def test_prob001_component_breakdown_figure() -> None:
    parts = _parts()
    figure = figures.component_breakdown_figure(parts)
    spec = _valid(figure)
    assert [t["name"] for t in spec["data"]] == ["Importance", "Tractability", "Neglectedness"]
    importance = spec["data"][0]
    names = [a["text"] for a in spec["layout"]["annotations"]][:3]
    assert names == ["<b>Importance</b>", "Gap to target: 0.90", "Citizen concern: 0.40 (no data)"]
    assert list(importance["marker"]["pattern"]["shape"]) == ["", "/"]  # concern had no data
    assert importance["error_x"]["arrayminus"][1] == pytest.approx(0.3)
    assert "0 = low, 1 = high" in spec["layout"]["title"]["text"]
    assert "whiskers" in spec["layout"]["xaxis"]["title"]["text"]
    assert parts.loc[parts["name"] == "gap", "weight"].item() == pytest.approx(0.35 / 0.55)
    empty = _valid(figures.component_breakdown_figure(parts.iloc[0:0]))
    assert empty["layout"]["annotations"][0]["text"] == "Not scored yet"


def test_prob002_reports_over_time_figure_escapes_and_pairs_lines() -> None:
    day = dt.date(2026, 11, 20)
    series = pd.DataFrame(
        {
            "period_end": [day - dt.timedelta(days=7), day] * 2,
            "category": [XSS, XSS, "Noise", "Noise"],
            "raw": [3.0, 4.0, 1.0, 0.0],
            "adjusted": [4.5, 6.0, 1.0, 0.0],
        }
    )
    spec = _valid(figures.reports_over_time_figure(series, window_days=7))
    names = [t["name"] for t in spec["data"]]
    assert len(names) == 4 and "Noise (as reported)" in names and "Noise (adjusted)" in names
    assert all("<img" not in n and "<b>" not in n for n in names)
    assert all("<img" not in t["hovertemplate"] for t in spec["data"])
    dotted = [t for t in spec["data"] if t["name"].endswith("(adjusted)")]
    assert all(t["line"]["dash"] == "dot" for t in dotted)
    assert spec["layout"]["yaxis"]["title"]["text"] == "reports per 7 days"
    empty = _valid(figures.reports_over_time_figure(series.iloc[0:0]))
    assert "No reports" in empty["layout"]["annotations"][0]["text"]


def test_prob003_indicator_chart_labels_thresholds_apart() -> None:
    history = pd.DataFrame({"period": [dt.date(2026, 1, 1)], "value": [5.0]})
    down = _valid(
        figures.indicator_history_figure(
            history, name="x", unit="%", target=3, warning_threshold=6, critical_threshold=7
        )
    )
    anchors = {a["text"].split()[0]: a["yanchor"] for a in down["layout"]["annotations"]}
    assert anchors == {"Target": "bottom", "Warning": "top", "Critical": "bottom"}
    up = _valid(
        figures.indicator_history_figure(
            history, name="x", unit="%", target=90, warning_threshold=80, critical_threshold=70
        )
    )
    anchors = {a["text"].split()[0]: a["yanchor"] for a in up["layout"]["annotations"]}
    assert anchors["Warning"] == "bottom" and anchors["Critical"] == "top"
    assert [s["y0"] for s in up["layout"]["shapes"]] == [90, 80, 70]


def _small_map(title: str = "Potholes") -> Any:
    factors = pd.DataFrame(
        [
            {"id": 1, "problem_id": 7, "title": "Heavy trucks", "reach": "influences",
             "evidence": "strong", "weight": 0.8, "indicator_id": None},
            {"id": 2, "problem_id": 7, "title": XSS, "reach": "controls",
             "evidence": "weak", "weight": 0.5, "indicator_id": None},
            {"id": 3, "problem_id": 7, "title": "Freeze-thaw", "reach": "outside",
             "evidence": "moderate", "weight": 0.4, "indicator_id": None},
        ]
    )  # fmt: skip
    links = pd.DataFrame({"factor_id": [2], "parent_id": [1]})
    engagements = pd.DataFrame(
        [
            {"id": 1, "actor_id": 10, "problem_id": 7, "factor_id": 1, "role": "funding",
             "stance": "complementary", "committed_funding": 5000.0},
            {"id": 2, "actor_id": 11, "problem_id": 7, "factor_id": 1, "role": "advocating",
             "stance": "competing", "committed_funding": 0.0},
            {"id": 3, "actor_id": 12, "problem_id": 7, "factor_id": None, "role": "convening",
             "stance": "complementary", "committed_funding": 0.0},
        ]
    )  # fmt: skip
    actors = pd.DataFrame(
        {
            "id": [10, 11, 12],
            "name": ["Road fund", "Trucking lobby", "Block club"],
            "sector": ["philanthropic", "corporate_civic", "community"],
        }
    )
    return backward_map(7, factors, links, engagements, actors, title=title)


def test_prob004_map_graph_marks_gaps_levers_and_contests_in_text() -> None:
    bmap = _small_map()
    elements = problem_map.graph_elements(bmap)
    nodes = {e["data"]["id"]: e for e in elements if "source" not in e["data"]}
    heavy = nodes["factor-1"]["data"]
    assert heavy["display"].startswith("Heavy trucks\n[") and "Contested" in heavy["display"]
    assert "contested" in nodes["factor-1"]["classes"]
    assert (
        "[No actor]" in nodes["factor-3"]["data"]["display"]
        or "No actor" in (nodes["factor-3"]["data"]["display"])
    )
    assert nodes["factor-2"]["data"]["display"].startswith(XSS)  # canvas text, never HTML
    assert nodes["factor-1"]["data"]["detail"][0] == "Heavy trucks"
    assert any("Road fund" in line for line in nodes["factor-1"]["data"]["detail"])
    assert nodes["actor-12"]["data"]["detail"][-1].startswith("On the problem as a whole")
    assert nodes["problem-7"]["data"]["detail"][0] == "Potholes"
    selectors = {rule["selector"] for rule in problem_map.stylesheet()}
    assert {"node.uncovered", "node.leverage", "node.reach-controls", "edge.cause"} <= selectors
    graph = problem_map.graph(bmap)
    assert graph.id == ids.problem_map_graph(7)
    assert problem_map.node_lines(bmap, "factor-99") == []
    assert problem_map.node_lines(bmap, "nonsense") == []


def test_prob005_map_section_is_readable_without_the_graph() -> None:
    bmap = _small_map()
    section = problem_map.map_section(bmap)
    text = texts(section)
    for expected in ("Heavy trucks", "Freeze-thaw", "Road fund", "Trucking lobby", "Leverage"):
        assert expected in text
    assert "The city can influence it" in text and "Outside the city's reach" in text
    assert "Sectors not engaged" in text
    assert XSS in text  # a text child (React escapes it), never markup
    assert ids.problem_map_detail(7) in find_ids(section)
    empty = problem_map.map_section(backward_map(7, None, None, None, None, title="Empty"))
    assert "No causal factors mapped yet" in texts(empty)


def test_prob006_layout_skeleton_deep_links_and_hidden_editors() -> None:
    skeleton = problem_layout.layout(problem_id="3", tab="map")
    found = find_ids(skeleton)
    for component_id in (
        ids.PROBLEM_HEADER_DIV,
        ids.PROBLEM_TAB_STORE,
        ids.PROBLEM_VERSION_STORE,
        ids.PROBLEM_FACTOR_SELECT,
        ids.problem_field("factor", "parent_ids"),
        ids.problem_field("engagement", "last_contact"),
        ids.problem_field("innovation", "evidence_note"),
        ids.problem_field("edit", "political_notes"),
    ):
        assert component_id in found, component_id
    rendered = str(skeleton)
    assert "data='map'" in rendered
    panels = {tab: _find(skeleton, ids.problem_tab_panel(tab)) for tab, _ in problem_layout.TABS}
    assert [tab for tab, panel in panels.items() if not panel.hidden] == ["map"]
    button = _find(skeleton, ids.problem_tab_button("map"))
    assert button.role == "tab" and getattr(button, "aria-selected") == "true"
    for panel_id in (
        ids.PROBLEM_EDIT_PANEL,
        ids.PROBLEM_FACTOR_PANEL,
        ids.PROBLEM_ENGAGEMENT_PANEL,
        ids.PROBLEM_INNOVATION_PANEL,
    ):
        assert _find(skeleton, panel_id).hidden is True
    assert problem_layout.parse_tab("<script>") == "overview"
    assert problem_layout.parse_tab(["history", "map"]) == "history"
    assert "Problem not found" in texts(problem_layout.layout(problem_id="3x"))


def _find(component: Any, component_id: Any) -> Any:
    if isinstance(component, list | tuple):
        for child in component:
            hit = _find(child, component_id)
            if hit is not None:
                return hit
        return None
    if component is None or isinstance(component, str | int | float):
        return None
    if getattr(component, "id", None) == component_id:
        return component
    return _find(getattr(component, "children", None), component_id)


def test_prob007a_header_says_why_a_problem_is_not_ranked() -> None:
    data = problem_layout.HeaderData(
        title=XSS,
        status="resolved",
        policy_area="Parks",
        lead_department=None,
        owner=None,
        districts=(),
        week="2026-W47",
        score=None,
    )
    text = texts(problem_layout.problem_header(data))
    assert XSS in text and "Not ranked this week" in text and "Resolved problems" in text
    assert "Citywide" in text and "Not assigned" in text
    watching = problem_layout.problem_header(data.__class__(**{**data.__dict__, "status": "watch"}))
    assert "next weekly ranking" in texts(watching)


def test_prob007_audit_sentences_are_plain_text() -> None:
    row = pd.Series(
        {
            "entity": "causal_factor",
            "entity_id": "4",
            "action": "update",
            "username": "chief",
            "before": {"title": "Old", "weight": 0.5, "problem_id": 1},
            "after": {"title": XSS, "weight": 0.7, "problem_id": 1},
        }
    )
    sentence = problem_layout.audit_sentence(row)
    assert sentence.startswith(f"chief changed causal factor “{XSS}”")
    assert "weight 0.5 → 0.7" in sentence and "problem id" not in sentence
    removed = row.copy()
    removed["action"], removed["after"] = "delete", None
    assert problem_layout.audit_sentence(removed) == "chief removed causal factor “Old”."
    trail = pd.DataFrame(
        [
            {
                "entity": "engagement",
                "entity_id": "5",
                "action": "update",
                "username": "chief",
                "before": {"stance": "complementary", "problem_id": 1},
                "after": {"stance": "competing", "problem_id": 1},
                "name": "City council",
            }
        ]
    )
    assert problem_layout.audit_sentence(next(trail.itertuples(index=False))) == (
        "chief changed the engagement of City council: stance complementary → competing."
    )
    decision = pd.Series(
        {
            "entity": "decision",
            "entity_id": "9",
            "action": "create",
            "username": "mayor",
            "before": None,
            "after": {"problem_id": 1, "week": "2026-W47", "decision": "convene", "note": XSS},
        }
    )
    assert problem_layout.audit_sentence(decision) == (
        f"mayor recorded the decision “Convene” for 2026-W47: {XSS}."
    )


# ---------------------------------------------------------------- report computations


def test_prob008_report_windows_burden_and_totals() -> None:
    today = dt.date(2026, 11, 20)
    days = pd.DataFrame(
        {
            "day": [today, today - dt.timedelta(days=6), today - dt.timedelta(days=7), today],
            "category_id": [1, 1, 1, 2],
            "district_id": [10, 20, 10, 20],
            "count": [2, 3, 5, 1],
        }
    )
    categories = pd.DataFrame({"category_id": [1, 2], "name": ["Potholes", "Noise"]})
    adjustment = {10: 2.0, 20: 0.5}
    series = problem.report_windows(days, categories, adjustment, today, windows=3)
    assert len(series) == 6  # every category in every window, zeros included
    latest = series[(series["period_end"] == today) & (series["category"] == "Potholes")]
    assert latest["raw"].item() == 5 and latest["adjusted"].item() == pytest.approx(5.5)
    previous = series[
        (series["period_end"] == today - dt.timedelta(days=7)) & (series["category"] == "Potholes")
    ]
    assert previous["raw"].item() == 5 and previous["adjusted"].item() == 10
    districts = pd.DataFrame(
        {"id": [10, 20, 30], "name": ["A", "B", "C"], "population": [1000, 2000, 0]}
    )
    burden = problem.district_burden(days, districts, (10, 20), adjustment)
    a = burden[burden["id"] == 10].iloc[0]
    assert a["raw"] == 7 and a["adjusted"] == 14 and a["raw_per_1k"] == 7
    assert a["adjusted_per_1k"] == 14 and a["adjustment"] == 2.0
    assert list(burden["in_scope"]) == [True, True, False]
    assert burden[burden["id"] == 30]["raw_per_1k"].item() == 0  # nobody lives there
    totals = problem.category_totals(days, series, categories, adjustment, today)
    assert list(totals["raw"]) == [10, 1] and list(totals["last_window"]) == [5, 1]
    assert list(totals["previous_window"]) == [5, 0]


# ---------------------------------------------------------------- callbacks on the demo city


def test_prob009_header_ranks_the_week_once_and_shows_scores(env: WebEnv) -> None:
    problem_id = _richest(env)
    this_week = select(func.count()).where(ScoreSnapshot.week == iso_week(env.settings.today()))
    with env.database.session() as session:
        past = session.scalar(select(func.count()).select_from(ScoreSnapshot))
        assert past > 0  # the demo city comes with past weeks' rankings
        assert session.scalar(this_week) == 0
    mayor = env.principal("mayor")
    header, hidden, version, editor, *panels = problem.problem_header(
        problem_id, 0, 0, 0, 0, principal=mayor
    )
    text = texts(header)
    assert "Rank this week" in text and "Importance" in text and "Confidence" in text
    assert (
        "likely between" in text
        and "High is 0.6" in text
        and hidden is False
        and version == _version(env, problem_id)
    )
    assert editor is dash.no_update and panels == [True, True, True, True]
    with env.database.session() as session:
        stored = session.scalar(select(func.count()).select_from(ScoreSnapshot))
        assert session.scalar(this_week) > 0
    assert stored > past
    chief = env.principal("chief")
    _header, _hidden, _loaded, signal, *panels = problem.problem_header(
        problem_id, 1, 0, 2, 0, principal=chief
    )
    assert signal == {"problem_id": problem_id, "version": version, "loads": 3}
    assert panels == [False, False, False, False]
    with env.database.session() as session:
        assert session.scalar(select(func.count()).select_from(ScoreSnapshot)) == stored


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("overview", ("Why it ranks here", "The numbers behind the chart", "Desired outcome")),
        ("indicators", ("Latest status",)),
        ("reports", ("Reports over time", "Where residents report it", "Recent reports")),
        ("map", ("Causal factors", "Leverage points", "Gaps")),
        ("actors", ("Authorisation and strings", "Sectors not engaged")),
        ("innovations", ("Idea", "Pilot", "Scaling")),
        ("history", ("Decisions", "Audit trail")),
    ],
)
def test_prob010_each_tab_is_filled_only_when_open(
    env: WebEnv, tab: str, expected: tuple[str, ...]
) -> None:
    problem_id = _richest(env)
    chief = env.principal("chief")
    problem.problem_header(problem_id, 0, 0, 0, 0, principal=chief)
    panels = problem.section_panels(tab, problem_id, principal=chief)
    order = list(problem_layout.TAB_PANELS)
    filled = panels[order.index(tab)]
    assert all(p is dash.no_update for i, p in enumerate(panels) if i != order.index(tab))
    text = texts(filled)
    for words in expected:
        assert words in text, (tab, words)
    json.dumps(filled, cls=_PlotlyJSON)  # serialisable, as Dash will send it


class _PlotlyJSON(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if hasattr(o, "to_plotly_json"):
            return o.to_plotly_json()
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        return super().default(o)


def test_prob011_sections_load_beside_the_header_and_rank_the_week(env: WebEnv) -> None:
    mayor = env.principal("mayor")
    for bad in ("nope", None, "-1"):
        with pytest.raises(PreventUpdate):
            problem.section_panels("map", bad, principal=mayor)
    # The tab no longer waits for the header, which ranks the week: opened first on a week
    # not yet ranked, the overview ranks it itself and shows the score, not "Not in this
    # week's ranking".
    problem_id = _richest(env)
    this_week = select(func.count()).where(ScoreSnapshot.week == iso_week(env.settings.today()))
    with env.database.session() as session:
        assert session.scalar(this_week) == 0
    panels = problem.section_panels("overview", problem_id, 0, 0, 0, 0, principal=mayor)
    overview = texts(panels[list(problem_layout.TAB_PANELS).index("overview")])
    assert "Why it ranks here" in overview and "Not in this week's ranking" not in overview
    with env.database.session() as session:
        assert session.scalar(this_week) > 0


def test_prob012_problem_form_saves_changes_and_refuses_stale_versions(env: WebEnv) -> None:
    problem_id = _richest(env)
    chief = env.principal("chief")
    values = list(problem_edit.problem_form({}, problem_id, principal=chief))
    fields = problem_layout.problem_edit.PROBLEM_FIELDS
    version = _version(env, problem_id)
    nothing, saved = problem_edit.save_problem(1, *values, version, problem_id, 0, principal=chief)
    assert "Nothing to save" in texts(nothing) and saved == 1
    values[fields.index("title")] = f"Renamed {XSS}"
    values[fields.index("authority")] = "4"
    feedback, saved = problem_edit.save_problem(1, *values, version, problem_id, 1, principal=chief)
    assert "Saved the problem (title, authority)" in texts(feedback) and saved == 2
    assert _version(env, problem_id) == version + 1
    values[fields.index("title")] = "Someone else's title lost"
    stale, saved = problem_edit.save_problem(1, *values, version, problem_id, 2, principal=chief)
    assert "changed by someone else" in texts(stale) and saved is dash.no_update
    assert f"/problems/{problem_id}?tab=overview" in str(stale)
    values[fields.index("title")] = "  "
    rejected, _ = problem_edit.save_problem(1, *values, version + 1, problem_id, 2, principal=chief)
    assert "title is required" in texts(rejected) and rejected.role == "alert"
    with env.database.session() as session:
        assert session.get(Problem, problem_id).title == f"Renamed {XSS}"
    with pytest.raises(PreventUpdate):
        problem_edit.save_problem(0, *values, version, problem_id, 0, principal=chief)


def _factor_values(**overrides: Any) -> list[Any]:
    values = {
        "title": "Overloaded trucks",
        "description": "",
        "reach": "influences",
        "evidence": "moderate",
        "weight": 0.4,
        "parent_ids": [],
        "indicator_id": "none",
    }
    values.update(overrides)
    return [values[name] for name in problem_layout.problem_edit.FACTOR_FIELDS]


@contextmanager
def _triggered_by(component_id: str, prop: str) -> Iterator[None]:
    """A callback context as Dash builds it, for callbacks that read ``triggered_id``."""
    token = context_value.set(
        AttributeDict(triggered_inputs=[{"prop_id": f"{component_id}.{prop}", "value": 1}])
    )
    try:
        yield
    finally:
        context_value.reset(token)


def test_prob013_factor_editor_adds_changes_refuses_loops_and_removes(env: WebEnv) -> None:
    problem_id = _richest(env)
    chief = env.principal("chief")
    loaded = problem_edit.factor_form({}, NEW, problem_id, principal=chief)
    options, choice, *_form_values, parents, indicators, remove_disabled = loaded
    assert choice == NEW and remove_disabled is True and options[0]["value"] == NEW
    assert len(parents) == len(options) - 1 and indicators[0]["value"] == "none"
    first_id = int(options[1]["value"])

    with _triggered_by(ids.PROBLEM_FACTOR_SAVE_BUTTON, "n_clicks"):
        version = _version(env, problem_id)
        feedback, saved = problem_edit.write_factor(
            1,
            None,
            NEW,
            *_factor_values(parent_ids=[str(first_id)]),
            version,
            problem_id,
            0,
            principal=chief,
        )
    assert "Added the causal factor “Overloaded trucks”" in texts(feedback) and saved == 1
    with env.database.session() as session:
        new_id = session.scalar(
            select(CausalFactor.id).where(CausalFactor.title == "Overloaded trucks")
        )
    reloaded = problem_edit.factor_form({}, str(new_id), problem_id, principal=chief)
    assert reloaded[1] == str(new_id) and reloaded[2] == "Overloaded trucks"
    assert reloaded[-1] is False and str(first_id) in reloaded[2 + 5]  # parent_ids

    # The first factor cannot now feed into the new one: that would be a loop.
    problem_version = _version(env, problem_id)
    first_values = problem_edit.factor_form({}, str(first_id), problem_id, principal=chief)[2:9]
    first_values = list(first_values)
    first_values[problem_layout.problem_edit.FACTOR_FIELDS.index("parent_ids")] = [str(new_id)]
    with _triggered_by(ids.PROBLEM_FACTOR_SAVE_BUTTON, "n_clicks"):
        loop, saved = problem_edit.write_factor(
            1, None, str(first_id), *first_values, problem_version, problem_id, 1, principal=chief
        )
    assert "loop" in texts(loop) and saved is dash.no_update

    with _triggered_by(ids.PROBLEM_FACTOR_REMOVE_CONFIRM, "submit_n_clicks"):
        removed, saved = problem_edit.write_factor(
            None, 1, str(new_id), *_factor_values(), problem_version, problem_id, 1, principal=chief
        )
    assert "Removed the causal factor" in texts(removed) and saved == 2
    with env.database.session() as session:
        assert session.get(CausalFactor, new_id) is None
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity == "causal_factor")
        ).all()
    assert sorted(actions) == ["create", "delete"]
    history = problem.section_panels("history", problem_id, principal=chief)
    assert "chief removed causal factor “Overloaded trucks”" in texts(history)


def test_prob014_engagement_and_innovation_editors(env: WebEnv) -> None:
    problem_id = _richest(env)
    chief = env.principal("chief")
    form = problem_edit.engagement_form({}, NEW, problem_id, principal=chief)
    actor_options = form[-3]
    actor = actor_options[0]["value"]
    engagement_values = {
        "actor_id": actor,
        "factor_id": "problem",
        "role": "funding",
        "stance": "complementary",
        "committed_funding": "1,250,000",
        "last_contact": "2026-09-01",
        "authorisation": "Council resolution",
        "strings": "",
    }
    with _triggered_by(ids.PROBLEM_ENGAGEMENT_SAVE_BUTTON, "n_clicks"):
        before = _count(env, Engagement)
        feedback, _saved = problem_edit.write_engagement(
            1,
            None,
            NEW,
            *(engagement_values[n] for n in problem_layout.problem_edit.ENGAGEMENT_FIELDS),
            _version(env, problem_id),
            problem_id,
            0,
            principal=chief,
        )
    assert "Added the engagement" in texts(feedback) and _count(env, Engagement) == before + 1
    innovation_values = {
        "title": "Night-time enforcement pilot",
        "origin": "home_grown",
        "kind": "new_service",
        "stage": "pilot",
        "lead_actor_id": "none",
        "evidence": "weak",
        "cost": "40000",
        "description": "",
        "evidence_note": "",
    }
    with _triggered_by(ids.PROBLEM_INNOVATION_SAVE_BUTTON, "n_clicks"):
        feedback, _ = problem_edit.write_innovation(
            1,
            None,
            NEW,
            *(innovation_values[n] for n in problem_layout.problem_edit.INNOVATION_FIELDS),
            _version(env, problem_id),
            problem_id,
            0,
            principal=chief,
        )
    assert "Added the innovation" in texts(feedback)
    with env.database.session() as session:
        innovation = session.scalar(
            select(Innovation).where(Innovation.title == "Night-time enforcement pilot")
        )
        assert innovation.cost == 40000 and innovation.lead_actor_id is None
    form = problem_edit.innovation_form({}, str(innovation.id), problem_id, principal=chief)
    assert form[1] == str(innovation.id) and form[2] == "Night-time enforcement pilot"
    assert form[2 + problem_layout.problem_edit.INNOVATION_FIELDS.index("cost")] == "40,000"


def _count(env: WebEnv, model: type) -> int:
    with env.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_prob015_other_roles_are_refused_by_the_writes(env: WebEnv) -> None:
    problem_id = _richest(env)
    before = _count(env, CausalFactor)
    for username in ("mayor", "analyst", env.head_username()):
        with (
            _triggered_by(ids.PROBLEM_FACTOR_SAVE_BUTTON, "n_clicks"),
            pytest.raises(PermissionDenied),
        ):
            problem_edit.write_factor(
                1,
                None,
                NEW,
                *_factor_values(),
                _version(env, problem_id),
                problem_id,
                0,
                principal=env.principal(username),
            )
    assert _count(env, CausalFactor) == before


def test_prob016_a_save_after_someone_elses_edit_is_a_conflict(env: WebEnv) -> None:
    problem_id = _richest(env)
    chief = env.principal("chief")
    loaded = _version(env, problem_id)
    with env.database.session(write=True) as session:
        add_factor(
            session,
            env.principal("admin"),
            problem_id,
            loaded,
            {"title": "Theirs", "reach": "outside"},
        )
    before = _count(env, CausalFactor)
    with _triggered_by(ids.PROBLEM_FACTOR_SAVE_BUTTON, "n_clicks"):
        feedback, saved = problem_edit.write_factor(
            1, None, NEW, *_factor_values(), loaded, problem_id, 0, principal=chief
        )
    assert "changed by someone else" in texts(feedback) and saved is dash.no_update
    assert "Reload the latest version" in texts(feedback)
    assert _count(env, CausalFactor) == before
    with _triggered_by(ids.PROBLEM_FACTOR_SAVE_BUTTON, "n_clicks"):
        unloaded, _ = problem_edit.write_factor(
            1, None, NEW, *_factor_values(), None, problem_id, 0, principal=chief
        )
    assert "not finished loading" in texts(unloaded)


def test_prob030_no_reports_in_the_window_says_so_and_when_the_last_came() -> None:
    """New York's heat problem: its categories had no report in 90 days (the exports end in
    2019 and 2012); flat zero lines, an empty map and a table of zeros said nothing."""
    recent = pd.DataFrame(
        {
            "id": [7],
            "requested_at": [pd.Timestamp("2019-03-28 14:05")],
            "category": ["HEAT/HOT WATER"],
            "district": ["Bronx Community District 4"],
            "status": ["Closed"],
            "description": ["No heat in the building"],
            "address": ["1 Grand Concourse"],
        }
    )
    quiet = problem_layout.ReportsData(
        categories=["HEAT/HOT WATER", "HEATING"],
        series=pd.DataFrame(columns=["period_end", "category", "raw", "adjusted"]),
        window_days=7,
        totals=pd.DataFrame(
            {
                "category": ["HEAT/HOT WATER", "HEATING"],
                "raw": [0, 0],
                "adjusted": [0.0, 0.0],
                "last_window": [0, 0],
                "previous_window": [0, 0],
            }
        ),
        districts=pd.DataFrame(),
        concern_days=90,
        recent=recent,
    )
    words = " ".join(texts(problem_layout.reports_section(quiet)).split())
    assert "No reports in “HEAT/HOT WATER” and “HEATING” in the last 90 days." in words
    assert "The most recent was filed on 2019-03-28." in words
    assert "No heat in the building" in words  # the newest reports stay
    assert "Reports over time" not in words and "Where residents report it" not in words
    never = problem_layout.reports_section(
        problem_layout.ReportsData(**{**vars(quiet), "recent": recent.iloc[0:0]})
    )
    assert "No report has ever been filed in these categories." in texts(never)


def test_prob031_an_indicator_without_values_says_so_instead_of_empty_axes() -> None:
    indicators = pd.DataFrame(
        [
            {
                "id": 4,
                "code": "HPD-HEAT-DAYS",
                "name": "Days to close a heat complaint",
                "unit": "days",
                "direction": "down",
                "cadence": "monthly",
                "department_name": "Housing Preservation and Development",
                "target": 3.0,
                "warning_threshold": 5.0,
                "critical_threshold": 10.0,
                "latest_period": None,
                "latest_value": None,
                "latest_status": None,
                "latest_note": None,
                "off_target": False,
                "overdue": True,
            }
        ]
    )
    histories = pd.DataFrame(columns=["indicator_id", "period", "value"])
    cards = problem_layout.indicator_cards(indicators, histories)
    words = " ".join(texts(cards).split())
    assert "No values recorded yet." in words
    assert "Housing Preservation and Development reports it monthly, on My department." in words
    assert "Target 3 days" in words or "Target 3.0 days" in words
    no_levels = indicators.assign(target=None, warning_threshold=None, critical_threshold=None)
    bare = " ".join(texts(problem_layout.indicator_cards(no_levels, histories)).split())
    assert "Target Not set" in bare and "Thresholds Not set" in bare and "warning —" not in bare
    assert not [i for i in find_ids(cards) if isinstance(i, dict)]  # no chart drawn
    with_value = histories.assign().astype(object)
    with_value.loc[0] = [4, dt.date(2025, 1, 1), 4.0]
    drawn = problem_layout.indicator_cards(indicators, with_value)
    assert [i for i in find_ids(drawn) if isinstance(i, dict)] == [ids.indicator_chart(4)]
    # The chart's title: the name over time, or, for a name too long for it (the card's
    # heading names it in full), "Over time" rather than "Days to close a heat compl…".
    assert _chart_titles(drawn) == ["Over time"]
    short = indicators.assign(name="Heat days")
    assert _chart_titles(problem_layout.indicator_cards(short, with_value)) == [
        "Heat days over time"
    ]


def _chart_titles(component: Any) -> list[str]:
    """The titles of the Plotly graphs in a component tree."""
    if isinstance(component, list | tuple):
        return [t for child in component for t in _chart_titles(child)]
    if component is None or isinstance(component, str | int | float):
        return []
    figure = getattr(component, "figure", None)
    own = [figure.layout.title.text] if figure is not None else []
    return own + _chart_titles(getattr(component, "children", None))
