"""What keeps pages fast in the browser: one answer per page on load, button sets relayed in the
browser, figures with fixed margins and a light template (speed itself: ``triage bench browser``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import flask
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import no_update

from callbacks import actors as actor_callbacks
from callbacks import button_sets
from callbacks import priorities as priority_callbacks
from callbacks import reports as report_callbacks
from layouts import figures, ids
from tests.webutil import WebEnv, texts


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("speed"))
    yield web
    web.dispose()


@pytest.fixture
def mayor(env: WebEnv) -> Iterator[object]:
    principal = env.principal("mayor")
    with env.app.server.test_request_context():
        flask.g.triage_principal = principal
        yield principal


def _text(component: object) -> str:
    return json.dumps(component, default=lambda c: c.to_plotly_json())


def test_speed001_actors_page_answers_every_part_on_load_and_only_what_a_filter_reads(
    env: WebEnv, mayor: object
) -> None:
    filters = ("all", "", "count", "3")
    parts = actor_callbacks.actors_page(*filters, principal=mayor, triggered=set())
    assert len(parts) == 7 and no_update not in parts
    directory, pager, previous, following, _heat, sankey, gaps = parts
    assert "Funding committed" in texts(directory) and "Funding flows" in _text(sankey)
    # The same parts as the four callbacks gave one by one.
    assert _text(gaps) == _text(actor_callbacks.actors_gaps("3", principal=mayor))
    # The directory's first page of 25 and its pager.
    assert pager.startswith("Actors 1–25 of ") and previous is True and following is False
    assert _text(directory) == _text(actor_callbacks.actors_directory(*filters, principal=mayor))
    only_gaps = actor_callbacks.actors_page(
        *filters, principal=mayor, triggered={actor_callbacks.MIN_SECTORS}
    )
    # The directory's sector links carry every filter, so it redraws too.
    assert [p is no_update for p in only_gaps] == [False] * 4 + [True, True, False]
    measure = actor_callbacks.actors_page(
        *filters, principal=mayor, triggered={actor_callbacks.MEASURE}
    )
    assert [p is no_update for p in measure] == [False] * 5 + [True, True]
    search = actor_callbacks.actors_page(
        *filters, principal=mayor, triggered={actor_callbacks.SEARCH}
    )
    assert [p is no_update for p in search] == [False] * 4 + [True, False, True]
    second = actor_callbacks.actors_page(
        *filters, 2, principal=mayor, triggered={actor_callbacks.PAGE}
    )
    assert [p is no_update for p in second] == [False] * 4 + [True] * 3
    assert second[1].startswith("Actors 26–50 of ") and second[2] is False
    assert _text(second[0]) != _text(directory)
    # A page past the end shows the last page; junk shows the first.
    last = actor_callbacks.actors_page(
        *filters, 99, principal=mayor, triggered={actor_callbacks.PAGE}
    )
    assert last[3] is True and last[2] is False
    junk = actor_callbacks.actors_page(
        *filters, "x", principal=mayor, triggered={actor_callbacks.PAGE}
    )
    assert junk[1] == pager


def test_speed002_reports_page_redraws_only_the_breakdown_for_a_new_measure(
    env: WebEnv, mayor: object
) -> None:
    filters = ("all", "all", "all", None, None)
    # On load: the choices and default dates, and everything drawn over those dates.
    everything = report_callbacks.reports_page(1, *filters, "raw", principal=mayor, triggered=set())
    assert len(everything) == 10 and no_update not in everything
    choices = report_callbacks.reports_filters(1, None, None, principal=mayor)
    assert everything[:5] == choices
    start, end = choices[3], choices[4]
    dated = ("all", "all", "all", start, end)
    assert _text(everything[5:7]) == _text(
        report_callbacks.reports_summary(*dated, principal=mayor)
    )
    assert "reports" in _text(everything[5]).lower()
    measure = report_callbacks.reports_page(
        1, *dated, "adjusted", principal=mayor, triggered={report_callbacks.MEASURE_INPUT}
    )
    assert [p is no_update for p in measure] == [True] * 7 + [False, False, True]
    assert _text(measure[8]) == _text(
        report_callbacks.reports_breakdown(*dated, "adjusted", principal=mayor)[1]
    )
    # A filter changed: the selects and dates are left alone.
    district = report_callbacks.reports_page(
        1, *dated, "raw", principal=mayor, triggered={f"{ids.REPORTS_DISTRICT_SELECT}.value"}
    )
    assert [p is no_update for p in district] == [True] * 5 + [False] * 5


def test_speed003_priorities_page_keeps_the_attention_list_when_only_the_view_changes(
    env: WebEnv, mayor: object
) -> None:
    page = {"week": None}
    options, week, notice = priority_callbacks.week_choice(page, principal=mayor)
    # On load the week comes from the address (here none: the current week), in one answer.
    everything = priority_callbacks.priorities_page(
        page, None, "all", 0, 0, principal=mayor, triggered=set()
    )
    assert len(everything) == 9 and no_update not in everything
    assert everything[:3] == (options, week, notice)
    assert _text(everything[8]) == _text(
        priority_callbacks.attention_view(week, 0, 0, principal=mayor)
    )
    assert _text(everything[3:8]) == _text(
        priority_callbacks.priorities_view(week, "all", 0, 0, principal=mayor)
    )
    # A week chosen in the select: the select is left alone.
    chosen = priority_callbacks.priorities_page(
        page, week, "all", 0, 0, principal=mayor, triggered={f"{ids.PRIORITIES_WEEK_SELECT}.value"}
    )
    assert chosen[:3] == (no_update,) * 3 and chosen[8] is not no_update
    view_only = priority_callbacks.priorities_page(
        page, week, "all", 0, 0, principal=mayor, triggered={priority_callbacks.SHOW_INPUT}
    )
    assert view_only[8] is no_update and view_only[3] is not no_update
    assert view_only[:3] == (no_update,) * 3


def test_speed004_a_relayed_click_is_the_button_id_and_its_count() -> None:
    button = ids.priorities_decide_button(7)
    assert button_sets.clicked({"id": button, "clicks": 2}) == (button, 2)
    assert button_sets.clicked(None) == (None, None)
    assert button_sets.clicked("junk") == (None, None)
    # Drawing the buttons is no click: the relay writes nothing (checked in the browser JS).
    assert "no_update" in button_sets.RELAY_CLICK_JS and "t.value" in button_sets.RELAY_CLICK_JS


def test_speed005_figures_use_the_light_template_and_fixed_margins() -> None:
    cells = pd.DataFrame({"problem_id": [1], "sector": ["community"], "value": [3.0]})
    problems = pd.DataFrame({"id": [1, 2], "title": ["Potholes", "A" * 60]})
    heat = figures.engagement_heatmap_figure(cells, problems, ["community"], "Heat", "engagements")
    bars = figures.category_bars_figure(
        pd.DataFrame({"name": ["Short", "A much longer category name"], "count": [3, 4],
                      "last_year": [1.0, None]}),
        "Top",
    )  # fmt: skip
    history = pd.DataFrame({"period": pd.to_datetime(["2026-01-01"]), "value": [4.0]})
    line = figures.indicator_history_figure(history, name="Riders", unit="people")
    for figure in (heat, bars, line):
        layout = json.loads(go.Figure(figure).to_json())["layout"]
        assert layout["template"] == json.loads(json.dumps(figures.LIGHT_TEMPLATE))
        for axis in ("xaxis", "yaxis"):
            assert layout.get(axis, {}).get("automargin") in (None, False)
        assert layout["template"]["layout"]["xaxis"]["automargin"] is False
    # The margin beside category labels grows with the longest label's longest line (labels
    # wrap onto two lines), within its limit.
    assert bars.layout.margin.l == figures.label_margin(
        [figures.two_lines(figures.short_label("A much longer category name", 38))], limit=240
    )
    assert bars.layout.margin.l > figures.label_margin(["Short"], limit=240)
    assert figures.label_margin(["x" * 10]) < figures.label_margin(["x" * 30]) <= 320
    assert figures.label_margin(["x" * 500]) == 320
    assert heat.layout.margin.l == figures.label_margin(
        [f"{figures.short_label(t)} · #{i}" for i, t in ((1, "Potholes"), (2, "A" * 60))],
        limit=420,
    )


def test_speed006_long_lines_drop_their_markers() -> None:
    weeks = pd.date_range("2024-01-01", periods=169, freq="W")
    long = pd.DataFrame({"period": weeks, "value": range(169)})
    short = long.tail(figures.MARKER_POINTS)
    assert figures.indicator_history_figure(long, name="x", unit="").data[0].mode == "lines"
    marked = figures.indicator_history_figure(short, name="x", unit="").data[0]
    assert marked.mode == "lines+markers" and len(marked.x) == figures.MARKER_POINTS
    # Every value is still drawn (and hovered): only the markers go.
    assert len(figures.indicator_history_figure(long, name="x", unit="").data[0].y) == 169
