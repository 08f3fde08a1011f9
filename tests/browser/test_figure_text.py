"""Hostile 311 category names in a real Plotly hover (``Plotly.Fx.hover``): shown as typed."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from sqlalchemy import func, select, update

from db.models import CategoryProblem, ReportCategory
from layouts import ids
from layouts.figures import plotly_text
from tests.browser.browserutil import severe_logs, sign_in
from tests.webutil import WebEnv

pytestmark = pytest.mark.browser

NAMES = ("%{customdata}%{x}%{y}", '"quoted" <b>x</b>')

FIND_GRAPH = """
const plots = [...document.querySelectorAll(arguments[0] + " .js-plotly-plot")];
return plots.findIndex(gd => (gd.data || []).some(t => (t.name || "").endsWith("(as reported)")));
"""
HOVER = """
const gd = document.querySelectorAll(arguments[0] + " .js-plotly-plot")[arguments[1]];
const curve = gd.data.findIndex(t => t.name === arguments[2]);
if (curve < 0) { return null; }
Plotly.Fx.unhover(gd);
Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: gd.data[curve].x.length - 1}]);
return [...gd.querySelectorAll(".hoverlayer .hovertext")].map(e => e.textContent).join("|");
"""
LEGEND = """
const gd = document.querySelectorAll(arguments[0] + " .js-plotly-plot")[arguments[1]];
return [...gd.querySelectorAll(".legendtext")].map(e => e.textContent);
"""


def _rename_two_categories(env: WebEnv) -> int:
    """Give two categories of one problem the hostile names; return that problem's id."""
    with env.database.session(write=True) as session:
        problem_id = session.scalar(
            select(CategoryProblem.problem_id)
            .group_by(CategoryProblem.problem_id)
            .having(func.count() >= 2)
            .order_by(CategoryProblem.problem_id)
        )
        assert problem_id is not None
        category_ids = session.scalars(
            select(CategoryProblem.category_id)
            .where(CategoryProblem.problem_id == problem_id)
            .order_by(CategoryProblem.category_id)
            .limit(2)
        ).all()
        for category_id, name in zip(category_ids, NAMES, strict=True):
            session.execute(
                update(ReportCategory).where(ReportCategory.id == category_id).values(name=name)
            )
        return int(problem_id)


def test_brfig001_hover_shows_hostile_category_names_as_typed(app_duo, web_env: WebEnv) -> None:
    problem_id = _rename_two_categories(web_env)
    sign_in(app_duo, "mayor", next_path=f"/problems/{problem_id}?tab=reports")
    panel = f"#{ids.PROBLEM_REPORTS_DIV}"
    app_duo.wait_for_element(f"{panel} .js-plotly-plot .legendtext", timeout=30)
    driver = app_duo.driver
    until(lambda: driver.execute_script(FIND_GRAPH, panel) >= 0, timeout=15)
    graph = driver.execute_script(FIND_GRAPH, panel)
    legend = driver.execute_script(LEGEND, panel, graph)
    for name in NAMES:
        assert f"{name} (as reported)" in legend, legend
        trace = f"{plotly_text(name)} (as reported)"
        until(lambda t=trace: driver.execute_script(HOVER, panel, graph, t), timeout=10)
        label = driver.execute_script(HOVER, panel, graph, trace)
        # The tag is text (textContent keeps it), the template is not evaluated.
        assert label.startswith(f"{name}, as reported: "), label
        assert "reports in the 7 days to " in label, label
        assert "&quot;" not in label and "&lt;" not in label, label
    assert not [entry for entry in severe_logs(app_duo) if entry.get("level") == "SEVERE"], (
        severe_logs(app_duo)
    )
