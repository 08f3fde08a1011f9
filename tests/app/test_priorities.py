"""Weekly priorities: callbacks called directly on a copy of the demo city, and the pure parts
(layout parsing, the quadrant figure, what changed, the brief PDF)."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import flask
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import policy
from callbacks import priorities as cb
from db.models import Alert, CategoryProblem, Decision, Problem, ReportCategory, ScoreSnapshot
from db.pages.priorities import (
    ALERT_COLUMNS,
    OVERDUE_COLUMNS,
    OWNER_COLUMNS,
    actor_gaps,
    trend_of,
    week_changes,
    week_priorities,
)
from db.scores import load_scoring_inputs, snapshot_weeks
from layouts import figures, ids
from layouts import priorities as page
from tests.clock import TODAY
from tests.webutil import WebEnv, find_ids, texts
from triage import attention, brief
from triage.backward_map import CORE_SECTORS, backward_map
from triage.page_data import WeekChanges, WeekPriorities
from triage.scoring import iso_week
from triage.security import PermissionDenied

XSS = '<img src=x onerror="alert(1)"><b>bold</b>'


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("priorities"))
    yield web
    web.dispose()


@pytest.fixture
def ctx(env: WebEnv) -> Iterator[WebEnv]:
    with env.app.server.test_request_context():
        yield env


def _week(env: WebEnv) -> str:
    options, value, _notice = cb.week_choice({"week": None}, principal=env.principal("mayor"))
    assert options[0]["value"] == value
    return value


def _open(env: WebEnv, problem_id: int, week: str, username: str = "mayor") -> tuple:
    flask.g.triage_principal = env.principal(username)
    button = ids.priorities_decide_button(problem_id)
    return cb.decision_dialog(
        [1],
        0,
        0,
        None,
        week,
        None,
        None,
        0,
        principal=env.principal(username),
        triggered_id=button,
        triggered_value=1,
    )


def _save(env: WebEnv, problem_id: int, week: str, choice: str | None, note: str = "") -> tuple:
    return cb.decision_dialog(
        [1],
        0,
        1,
        problem_id,
        week,
        choice,
        note,
        3,
        principal=env.principal("mayor"),
        triggered_id=ids.PRIORITIES_DECISION_SAVE_BUTTON,
        triggered_value=1,
    )


# ---------------------------------------------------------------- layout and parsing


def test_pri001_layout_takes_week_and_view_from_the_address() -> None:
    skeleton = page.layout(week="2026-w47", show=["all", "x"])
    store = next(c for c in _walk(skeleton) if getattr(c, "id", None) == ids.PRIORITIES_PAGE_STORE)
    assert store.data == {"week": "2026-W47", "show": "all"}
    for bad in ("2026-W54", "<script>", "2026-47", None, ["x"], "9999-W99"):
        assert page.parse_week(bad) is None, bad
    assert page.parse_show("ALL") == "all" and page.parse_show("everything") == "top"
    found = find_ids(skeleton)
    for component_id in (
        ids.PRIORITIES_LIST_DIV,
        ids.PRIORITIES_QUADRANT_GRAPH,
        ids.PRIORITIES_CHANGES_DIV,
        ids.PRIORITIES_DECISION_MODAL,
        ids.PRIORITIES_CSV_DOWNLOAD,
        ids.PRIORITIES_BRIEF_DOWNLOAD,
        ids.PRIORITIES_LOCATION,
    ):
        assert component_id in found
    assert "Weekly priorities" in texts(skeleton)


def _walk(component: object) -> Iterator[object]:
    if isinstance(component, list | tuple):
        for child in component:
            yield from _walk(child)
        return
    if component is None or isinstance(component, str | int | float):
        return
    yield component
    yield from _walk(getattr(component, "children", None))


def test_pri002_week_options_put_the_current_week_first() -> None:
    options = page.week_options(["2026-W45", "2026-W47", "2026-W46", "2026-W47"], "2026-W48")
    assert [o["value"] for o in options] == ["2026-W48", "2026-W47", "2026-W46", "2026-W45"]
    assert options[0]["label"] == "2026-W48 (this week)"


def test_pri003_first_sentence_and_movement_words() -> None:
    text = (
        "Permits take 41.7 days (126 against 84.6). It affects 40% of residents. 52% is in reach."
    )
    assert page.first_sentence(text) == "Permits take 41.7 days (126 against 84.6)."
    assert page.first_sentence(None) == ""
    assert page.movement_text("up", 2) == "Up 2" and page.movement_text("new", None) == "New"
    assert page.movement_text("same", 0) == "No change"
    assert brief.movement_text("down", -1) == "down 1 place"
    badge = page.movement_badge("up", 3, compared=True)
    assert "Up 3" in texts(badge) and "places since last week" in texts(badge)
    assert page.movement_badge("up", 3, compared=False) is None


# ---------------------------------------------------------------- callbacks


def test_pri004_current_week_is_stored_once_then_read(ctx: WebEnv) -> None:
    week = _week(ctx)
    with ctx.database.session() as session:
        stamps = session.scalar(
            select(func.max(ScoreSnapshot.computed_at)).where(ScoreSnapshot.week == week)
        )
        weeks = snapshot_weeks(session)
    assert week in weeks and len(weeks) >= 2  # a baseline week is stored with the first one
    assert _week(ctx) == week
    with ctx.database.session() as session:
        again = session.scalar(
            select(func.max(ScoreSnapshot.computed_at)).where(ScoreSnapshot.week == week)
        )
    assert again == stamps
    _options, value, notice = cb.week_choice(
        {"week": "2019-W01"}, principal=ctx.principal("analyst")
    )
    assert value == week and "No ranking is stored for 2019-W01" in texts(notice)
    _options, value, notice = cb.week_choice({"week": weeks[-1]}, principal=ctx.principal("mayor"))
    assert value == weeks[-1] and notice is None


def test_pri005_view_lists_the_top_ten_with_links_and_decide_buttons(ctx: WebEnv) -> None:
    week = _week(ctx)
    summary, table, figure, chart_text, changes = cb.priorities_view(
        week, "top", 0, principal=ctx.principal("mayor")
    )
    with ctx.database.session() as session:
        ranked = session.scalar(
            select(func.count()).select_from(ScoreSnapshot).where(ScoreSnapshot.week == week)
        )
    shown = min(10, ranked)
    assert str(table).count("/problems/") == shown
    buttons = [i for i in find_ids(table) if isinstance(i, dict)]
    assert len(buttons) == shown and all(b["type"] == "priorities-decide-button" for b in buttons)
    assert "Problems ranked" in texts(summary) and "Decisions this week" in texts(summary)
    assert {"New alerts", "Overdue indicators", "Decisions due"} <= {
        t.split(" (")[0] for t in _headings(changes)
    }
    assert isinstance(figure, go.Figure) and figure.data
    assert "important and tractable" in texts(chart_text)
    _s, everything, *_ = cb.priorities_view(week, "all", 0, principal=ctx.principal("mayor"))
    assert str(everything).count("/problems/") == ranked


def _headings(component: object) -> list[str]:
    return [texts(c) for c in _walk(component) if type(c).__name__ == "H3"]


@pytest.mark.parametrize("username", ["analyst", "admin", "head"])
def test_pri006_other_roles_get_no_decision_buttons(ctx: WebEnv, username: str) -> None:
    name = ctx.head_username() if username == "head" else username
    week = _week(ctx)
    _summary, table, *_ = cb.priorities_view(week, "top", 0, principal=ctx.principal(name))
    assert not [i for i in find_ids(table) if isinstance(i, dict)]
    assert "Record decision" not in texts(table)


def test_pri007_past_weeks_are_read_only(ctx: WebEnv) -> None:
    week = _week(ctx)
    with ctx.database.session() as session:
        older = next(w for w in snapshot_weeks(session) if w != week)
    _summary, table, *_ = cb.priorities_view(older, "top", 0, principal=ctx.principal("mayor"))
    assert not [i for i in find_ids(table) if isinstance(i, dict)]
    problem_id = int(next(iter(_ranking(ctx, older)["problem_id"])))
    result = _save(ctx, problem_id, older, "focus")
    assert "current week" in texts(result[6])
    with pytest.raises(PreventUpdate):
        cb.priorities_view(None, "top", 0, principal=ctx.principal("mayor"))


def _ranking(env: WebEnv, week: str) -> pd.DataFrame:
    with env.database.session() as session:
        return week_priorities(session, week, today=TODAY).ranking


def test_pri008_decision_dialog_opens_saves_supersedes_and_cancels(ctx: WebEnv) -> None:
    week = iso_week(TODAY)
    _week(ctx)
    problem_id = int(_ranking(ctx, week).iloc[0]["problem_id"])
    opened = _open(ctx, problem_id, week)
    assert opened[0] is True and "Decision on" in opened[1] and opened[3] == problem_id
    assert "Rank 1" in texts(opened[2])
    rejected = _save(ctx, problem_id, week, None)
    assert rejected[0] is no_update and "Choose one of the five decisions" in texts(rejected[6])
    saved = _save(ctx, problem_id, week, "delegate", "Parks leads; report in 4 weeks.")
    assert saved[0] is False and saved[7] == 4 and "Delegate" in texts(saved[8])
    again = _open(ctx, problem_id, week)
    assert again[4] == "delegate" and again[5] == "Parks leads; report in 4 weeks."
    assert "replaces it" in texts(again[2])
    _save(ctx, problem_id, week, "focus", "Changed my mind.")
    row = _ranking(ctx, week).iloc[0]
    assert row["decision"] == "focus" and row["decisions_this_week"] == 2
    with ctx.database.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(Decision).where(Decision.week == week))
            >= 2
        )
    closed = cb.decision_dialog(
        [1],
        1,
        0,
        problem_id,
        week,
        None,
        None,
        0,
        principal=ctx.principal("mayor"),
        triggered_id=ids.PRIORITIES_DECISION_CANCEL_BUTTON,
        triggered_value=1,
    )
    assert closed[0] is False
    with pytest.raises(PreventUpdate):  # a re-rendered list's new buttons are not clicks
        cb.decision_dialog(
            [None],
            0,
            0,
            None,
            week,
            None,
            None,
            0,
            principal=ctx.principal("mayor"),
            triggered_id=ids.priorities_decide_button(problem_id),
            triggered_value=None,
        )


def test_pri009_decide_needs_the_capability(ctx: WebEnv) -> None:
    wrapped = policy.secured(policy.Capability.DECIDE, cb.decision_dialog)
    flask.g.triage_principal = ctx.principal("analyst")
    with pytest.raises(PermissionDenied):
        wrapped([1], 0, 1, 1, iso_week(TODAY), "drop", "", 0)
    flask.g.triage_principal = ctx.principal(ctx.head_username())
    with pytest.raises(PermissionDenied):
        wrapped([1], 0, 1, 1, iso_week(TODAY), "drop", "", 0)


def test_pri010_chart_click_opens_the_problem(ctx: WebEnv) -> None:
    mayor = ctx.principal("mayor")
    click = {"points": [{"x": 0.5, "y": 0.5, "customdata": [17, "Title", 1, 0.6, 3.0]}]}
    assert cb.open_clicked_problem(click, principal=mayor) == "/problems/17"
    for bad in (None, {}, {"points": []}, {"points": [{"customdata": ["x"]}]}, {"points": [{}]}):
        with pytest.raises(PreventUpdate):
            cb.open_clicked_problem(bad, principal=mayor)
    with pytest.raises(PreventUpdate):
        cb.open_clicked_problem({"points": [{"customdata": [-3]}]}, principal=mayor)


def test_pri011_csv_is_formula_safe(ctx: WebEnv) -> None:
    week = _week(ctx)
    problem_id = int(_ranking(ctx, week).iloc[0]["problem_id"])
    with ctx.database.session(write=True) as session:
        session.get(Problem, problem_id).title = '=HYPERLINK("http://evil")'
    try:
        download = cb.ranking_csv(1, week, principal=ctx.principal("analyst"))
    finally:
        with ctx.database.session(write=True) as session:
            session.get(Problem, problem_id).title = "Restored title"
    assert download["filename"] == f"priorities-{week}.csv"
    content = download["content"]
    assert content.startswith("rank,problem_id,title,week,priority,")
    assert "'=HYPERLINK" in content and ",=HYPERLINK" not in content
    assert "importance.gap" in content and "decision_note" in content
    with pytest.raises(PreventUpdate):
        cb.ranking_csv(0, week, principal=ctx.principal("analyst"))


def test_pri012_brief_download_is_a_pdf(ctx: WebEnv) -> None:
    week = _week(ctx)
    download = cb.weekly_brief(1, week, principal=ctx.principal("mayor"))
    assert download["filename"] == f"weekly-brief-{week}.pdf" and download["base64"]
    assert base64.b64decode(download["content"]).startswith(b"%PDF")
    with pytest.raises(PreventUpdate):
        cb.weekly_brief(None, week, principal=ctx.principal("mayor"))


def test_pri013_actor_gaps_match_the_backward_map(ctx: WebEnv) -> None:
    week = _week(ctx)
    top = _ranking(ctx, week).head(6)
    problems = [(int(p), str(t)) for p, t in zip(top["problem_id"], top["title"], strict=True)]
    with ctx.database.session() as session:
        gaps = actor_gaps(session, problems)
        inputs = load_scoring_inputs(session, TODAY)
    for (problem_id, title), gap in zip(problems, gaps, strict=True):
        bmap = backward_map(
            problem_id,
            inputs.factors,
            inputs.factor_links,
            inputs.engagements,
            inputs.actors,
            title=title,
        )
        names = {f.id: f.title for f in bmap.factors}
        assert gap.problem == title
        assert gap.uncovered_factors == tuple(names[i] for i in bmap.uncovered), title
        missing = tuple(s for s in bmap.sectors_missing if s in CORE_SECTORS)
        assert gap.missing_sectors == missing, title


def test_pri014_stored_text_stays_text(ctx: WebEnv) -> None:
    week = _week(ctx)
    ranking = _ranking(ctx, week).copy()
    ranking.loc[0, "title"] = XSS
    ranking.loc[0, "explanation"] = XSS
    ranking.loc[0, "decision"] = "focus"
    ranking.loc[0, "decision_note"] = XSS
    table = page.priorities_table(
        ranking, week=week, show="top", compared=True, can_decide=True, decidable=True
    )
    assert XSS in texts(table)
    figure = page.quadrant_figure(ranking, week)
    custom = [c[1] for trace in figure.data for c in trace.customdata]
    assert "<img" not in " ".join(custom) and "&lt;img" in " ".join(custom)


# ---------------------------------------------------------------- pure parts


def _points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "problem_id": [1, 2, 3, 4],
            "title": [XSS, "Two", "Three", "Four"],
            "rank": [1, 2, 3, 12],
            "importance": [0.7, 0.4, 0.5, 0.2],
            "tractability": [0.6, 0.7, 0.3, 0.4],
            "priority": [0.65, 0.5, 0.4, 0.2],
            "size": [100.0, 0.0, 25.0, None],
            "trend": ["worsening", "steady", "improving", "steady"],
        }
    )


def test_pri015_quadrant_figure_is_valid_labelled_and_escaped() -> None:
    figure = figures.priority_quadrant_figure(
        _points(), title="Importance <and> tractability", size_label="reports <90 days>"
    )
    go.Figure(figure.to_dict())  # Plotly's own validation, skipped when the figure is built
    assert [t.name for t in figure.data] == ["Worsening", "Steady", "Improving"]
    assert {t.marker.symbol for t in figure.data} == {"triangle-up", "circle", "triangle-down"}
    assert "&lt;and&gt;" in figure.layout.title.text
    assert "reports &lt;90 days&gt;" in figure.layout.title.subtitle.text
    hover = " ".join(t.hovertemplate for t in figure.data)
    assert "<90" not in hover and "click to open" in hover
    assert [s.type for s in figure.layout.shapes] == ["line", "line"]
    assert figure.layout.shapes[0].x0 == pytest.approx(0.45)  # median importance
    assert figure.layout.xaxis.title.text.startswith("Importance")
    steady = next(t for t in figure.data if t.name == "Steady")
    assert list(steady.text) == ["2", ""]  # only the top ten carry their rank
    assert figure.data[0].customdata[0][0] == 1 and "&lt;img" in figure.data[0].customdata[0][1]


def test_pri016b_quadrant_text_says_when_every_problem_ties() -> None:
    """A city whose problems all score the same (no values, no reports yet): the text does not
    say that all of them are "above both medians", it says the data cannot tell them apart."""
    tied = _points().assign(
        importance=0.48, tractability=0.27, reports_adjusted=0.0, trend="steady"
    )
    words = " ".join(texts(page.quadrant_text(tied, "2025-W06")).split())
    assert "4 problems ranked for 2025-W06" in words
    assert "the data does not yet tell them apart" in words
    assert "above both medians" not in words
    spread = " ".join(
        texts(page.quadrant_text(_points().assign(reports_adjusted=1.0), "2025-W06")).split()
    )
    assert "sit above both medians" in spread and "tell them apart" not in spread


def test_pri016_quadrant_figure_empty_state() -> None:
    figure = figures.priority_quadrant_figure(pd.DataFrame(), title="x", size_label="reports")
    go.Figure(figure.to_dict())
    assert figure.layout.annotations[0].text == "No problems ranked for this week"
    assert not figure.data


def _brief_data(**overrides: object) -> brief.BriefData:
    values: dict[str, object] = {
        "city": "Łódź-on-Sea",
        "week": "2026-W48",
        "week_start": dt.date(2026, 11, 23),
        "week_end": dt.date(2026, 11, 29),
        "as_of": dt.date(2026, 11, 23),
        "previous_week": "2026-W47",
        "generated_at": dt.datetime(2026, 11, 23, 8, 0),
        "problems_ranked": 2,
        "priorities": (
            brief.BriefPriority(
                1,
                "Housing “repairs” — Zürich façade 💥 <b>",
                0.69,
                0.68,
                0.7,
                0.65,
                0.75,
                0.26,
                "up",
                2,
                "A very long explanation " * 40,
                active_alerts=2,
                overdue_indicators=1,
                decision="focus",
                decision_note="Note with \x00control\ncharacters",
                last_decision="monitor",
                last_decision_week="2026-W47",
            ),
            brief.BriefPriority(2, "Potholes", 0.5, 0.4, 0.6, 0.5, 0.5, 0.5, "new", None, "Why."),
        ),
        "new_alerts": (brief.BriefAlert("critical", "Surge ≥ 3×", ("Potholes",)),),
        "escalated_alerts": (brief.BriefAlert("critical", "Worse", (), "warning"),),
        "movers": ((1, "Housing", 4),),
        "new_problems": ((2, "Potholes"),),
        "overdue_count": 3,
        "decisions_due": ((2, "Potholes"),),
        "decisions": (brief.BriefDecision("Housing", "focus", "Act", "Maya", None, 1),),
        "stale_owners": (brief.StaleOwner("Public Works", ("Tom",), 3, ("A", "B", "C")),),
        "actor_gaps": (
            brief.ActorGap("Housing", ("Landlords",), ("philanthropic",)),
            brief.ActorGap("Potholes", (), (), note="No causal factors are mapped yet."),
        ),
        "attention": attention.AttentionList(
            "2026-W48",
            dt.date(2026, 11, 23),
            dt.date(2026, 11, 29),
            items=(
                attention.AttentionItem(
                    "uncovered_surge",
                    "Surge in 'Street not plowed' reports",
                    "615 'Street not plowed' reports in the 7 days to Dec 5, against about 2 "
                    "usually.",
                    0.9,
                    link="/alerts?alert=1",
                    alert_id=1,
                    actions=(
                        attention.AttentionAction("open_problem", "Open a problem"),
                        attention.AttentionAction(
                            "map_category", "Map this category", "/admin?tab=mapping"
                        ),
                    ),
                ),
            ),
            groups=(attention.AttentionGroup("alerts", "Other open early warnings", 4, "/alerts"),),
        ),
    }
    values.update(overrides)
    return brief.BriefData(**values)  # type: ignore[arg-type]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is needed to read the PDF back")
    path = tmp_path / "brief.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pri017_brief_pdf_with_a_core_font_reduces_text_to_latin1(tmp_path: Path) -> None:
    pdf = brief.weekly_brief_pdf(_brief_data(), font_dir=None)
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    text = _pdf_text(pdf, tmp_path)
    for expected in (
        "Weekly brief: priorities for 2026-W48",
        "Top 2 priorities",
        'Housing "repairs" - Zürich façade ? <b>',
        "Decision this week: Focus - Note with control characters",
        "Up 2 places",
        "What changed this week",
        "Surge >= 3x",
        "Decisions taken",
        "Housing: Focus (by Maya) - Act",
        "Replaces 1 earlier decision this week.",
        "Late indicator data, by department",
        "Public Works (Tom): 3 overdue: A, B, C",
        "Who is missing around the top priorities",
        "Sectors not engaged: philanthropy.",
        "Lódz-on-Sea",
        "What needs the mayor this week",
        "1. Surge in 'Street not plowed' reports",
        "615 'Street not plowed' reports in the 7 days to Dec 5, against about 2 usually.",
        "In the app (Early warnings): Open a problem, Map this category.",
        "Everything else, one click away: Other open early warnings: 4 (Early warnings).",
    ):
        assert expected in text, expected
    assert "(/" not in text  # paper names the page, never an address of the app
    assert text.index("What needs the mayor this week") < text.index("Top 2 priorities")
    assert brief.latin1_text("Łódź — “x” …") == 'Lódz - "x" ...'


def test_pri018_brief_pdf_embeds_dejavu_when_present(tmp_path: Path) -> None:
    if not (brief.DEJAVU_DIR / "DejaVuSans.ttf").is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    pdf = brief.weekly_brief_pdf(_brief_data())
    assert pdf.startswith(b"%PDF") and b"DejaVu" in pdf
    text = _pdf_text(pdf, tmp_path)
    assert "Łódź-on-Sea" in text and "Housing “repairs” — Zürich façade" in text


def test_pri019_brief_pdf_without_history_or_priorities(tmp_path: Path) -> None:
    pdf = brief.weekly_brief_pdf(
        _brief_data(previous_week=None, priorities=(), problems_ranked=0, actor_gaps=()),
        font_dir=None,
    )
    text = _pdf_text(pdf, tmp_path)
    assert "No ranking is stored for this week." in text
    assert "movement cannot be measured yet" in text


def test_pri020_week_changes_movers_and_new_problems() -> None:
    ranking = pd.DataFrame(
        {
            "problem_id": [1, 2, 3, 4],
            "title": ["A", "B", "C", "D"],
            "rank": [1, 2, 3, 4],
            "rank_change": pd.array([3, 0, None, -5], dtype="Int64"),
            "movement": ["up", "same", "new", "down"],
            "decision": ["focus", None, None, None],
        }
    )
    empty_alerts = pd.DataFrame(columns=ALERT_COLUMNS)
    data = WeekPriorities(
        "2026-W48",
        dt.date(2026, 11, 23),
        "2026-W47",
        None,
        ranking,
        empty_alerts,
        pd.DataFrame(columns=OVERDUE_COLUMNS),
        pd.DataFrame(columns=OWNER_COLUMNS),
    )
    changes = week_changes(data, top_n=3)
    assert list(changes.movers["title"]) == ["D", "A"]
    assert list(changes.new_problems["title"]) == ["C"]
    assert list(changes.decisions_due["title"]) == ["B", "C"]
    first_week = week_changes(
        WeekPriorities(*[*data.__dict__.values()][:2], None, *[*data.__dict__.values()][3:])
    )
    assert first_week.movers.empty and first_week.new_problems.empty
    panel = page.changes_panel(first_week, compared=False, previous_week=None)
    assert "movers and new problems show from next week" in texts(panel)
    assert trend_of(0.2, None) == "worsening"
    assert trend_of(0.0, -0.05) == "improving"
    assert trend_of(None, 0.01) == "steady"


def test_pri021_bench_ui_times_every_callback_of_a_page(env: WebEnv) -> None:
    from triage.cli.bench_ui import BenchPage, bench_ui, format_table

    pages = [BenchPage("/", "mayor", ("priorities-csv-button",)), BenchPage("/problems", "analyst")]
    users = {"mayor": "mayor-riverton-demo", "analyst": "analyst-riverton-demo"}
    result = bench_ui(lambda: env.app, users, pages, runs=2)
    home = result["pages"]["/"]
    assert home["callbacks"] == 3  # router, the page (week, body, attention list), CSV
    assert home["requests"] == 6 and home["p95_ms"] > 0 and home["cpu_p95_ms"] >= 0
    assert result["pages"]["/problems"]["callbacks"] >= 3
    table = format_table(result)
    assert table.splitlines()[0].startswith("UI callbacks") and "/problems" in table


# ---------------------------------------------------------------- the attention list


def _plant_uncovered_surge(env: WebEnv) -> int:
    """615 reports in 7 days against about 2 in a category no problem covers, found today."""
    with env.database.session(write=True) as session:
        mapped = select(CategoryProblem.category_id)
        category_id = session.scalar(
            select(ReportCategory.id).where(ReportCategory.id.not_in(mapped)).limit(1)
        )
        assert category_id is not None
        alert = Alert(
            dedupe_key="pri-attention-surge",
            kind="surge",
            method="surge-7d",
            severity="warning",
            series_key="test:attention",
            category_id=category_id,
            first_detected=TODAY,
            last_detected=TODAY,
            expected=1.6,
            observed=615.0,
            message="A surge nobody covers",
        )
        session.add(alert)
        session.flush()
        return int(alert.id)


def test_pri022_page_leads_with_the_attention_list() -> None:
    found = find_ids(page.layout())
    assert found.index(ids.PRIORITIES_ATTENTION_DIV) < found.index(ids.PRIORITIES_SUMMARY_DIV)
    assert ids.PRIORITIES_ATTENTION_FEEDBACK_DIV in found
    assert ids.PRIORITIES_OPENED_STORE in found


def test_pri023_attention_actions_follow_the_role_and_opening_ranks_the_problem(
    tmp_path: Path,
) -> None:
    web = WebEnv.create(tmp_path)
    try:
        with web.app.server.test_request_context():
            week = _week(web)
            alert_id = _plant_uncovered_surge(web)
            mayor = cb.attention_view(week, 0, 0, principal=web.principal("mayor"))
            mayor_text = texts(mayor)
            assert "615 '" in mayor_text and "against about 2 usually" in mayor_text
            assert ids.priorities_open_problem_button(alert_id) not in find_ids(mayor)
            assert "Map this category" not in mayor_text
            chief = cb.attention_view(week, 0, 0, principal=web.principal("chief"))
            assert ids.priorities_open_problem_button(alert_id) in find_ids(chief)
            assert "Map this category" in texts(chief)

            button = ids.priorities_open_problem_button(alert_id)
            with pytest.raises(PermissionDenied):
                cb.open_problem_from_list(
                    [1],
                    0,
                    principal=web.principal("admin"),
                    triggered_id=button,
                    triggered_value=1,
                )
            feedback, opened = cb.open_problem_from_list(
                [1], 2, principal=web.principal("chief"), triggered_id=button, triggered_value=1
            )
            assert opened == 3
            assert "Opened the problem" in texts(feedback) and f"in {week}" in texts(feedback)
            with web.database.session() as session:
                problem_id = session.scalar(select(Alert.problem_id).where(Alert.id == alert_id))
                assert problem_id is not None
                ranked = session.scalar(
                    select(ScoreSnapshot.rank).where(
                        ScoreSnapshot.week == week, ScoreSnapshot.problem_id == problem_id
                    )
                )
            assert ranked is not None and f"ranks #{ranked} in {week}" in texts(feedback)
            after = cb.attention_view(week, 3, 0, principal=web.principal("chief"))
            assert ids.priorities_open_problem_button(alert_id) not in find_ids(after)
            with pytest.raises(PreventUpdate):
                cb.open_problem_from_list(
                    [0], 0, principal=web.principal("chief"), triggered_id=button, triggered_value=0
                )
    finally:
        web.dispose()


def test_pri024_a_full_week_still_fits_on_two_pages(tmp_path: Path) -> None:
    """Seven items, ten decided problems, many warnings, owners, gaps and decisions: two pages."""
    items = tuple(
        attention.AttentionItem(
            "emerging",
            f"New warning: Problem {n} with a title long enough to wrap on the page",
            "Suspected opioid overdoses treated by EMS was 46 in the week of Nov 9, past its "
            "critical level of 34.8 (lower is better); 2 other new warnings on it.",
            0.5,
            problem_id=n,
            link=f"/problems/{n}",
        )
        for n in range(1, 8)
    )
    priorities = tuple(
        brief.BriefPriority(
            n,
            f"Problem {n} with a title long enough to wrap on the page of the brief",
            0.5,
            0.4,
            0.6,
            0.5,
            0.5,
            0.5,
            "up",
            2,
            "Why. " * 30,
            active_alerts=3,
            overdue_indicators=1,
            decision="delegate",
            decision_note="Public Works reports back on Friday with a plan and a budget.",
        )
        for n in range(1, 11)
    )
    many = _brief_data(
        attention=attention.AttentionList(
            "2026-W48",
            dt.date(2026, 11, 23),
            dt.date(2026, 11, 29),
            items=items,
            groups=(attention.AttentionGroup("alerts", "Other open early warnings", 90, "/a"),),
        ),
        priorities=priorities,
        new_alerts=tuple(brief.BriefAlert("critical", "A long message " * 8) for _ in range(60)),
        escalated_alerts=tuple(
            brief.BriefAlert("critical", "Worse", (), "warning") for _ in range(9)
        ),
        decisions=tuple(
            brief.BriefDecision(f"Problem {n}", "focus", "A note " * 10, "Maya", None, 0)
            for n in range(12)
        ),
        stale_owners=tuple(
            brief.StaleOwner(f"Department {n}", ("Tom",), 3, ("A", "B", "C")) for n in range(12)
        ),
        actor_gaps=tuple(
            brief.ActorGap(f"Problem {n}", ("Landlords", "Banks"), ("philanthropic",))
            for n in range(10)
        ),
    )
    text = _pdf_text(brief.weekly_brief_pdf(many, font_dir=None), tmp_path)
    assert text.count("\f") <= 2, text.count("\f")
    assert "and 57 more on the Early warnings page" in text


def test_pri030_what_changed_names_the_five_worst_alerts_and_links_the_rest() -> None:
    """70 new alerts on the mayor's page were 70 list items (the page ran to 9,600 px): the
    panel names the five worst and says how many more there are, one click away."""
    alerts = pd.DataFrame(
        [
            {
                "id": i,
                "kind": "threshold",
                "severity": "critical" if i < 2 else "warning",
                "previous_severity": None,
                "state": "new",
                "message": f"Alert number {i}",
                "first_detected": TODAY,
                "last_detected": TODAY,
                "change": "new",
                "problems": (),
            }
            for i in range(12)
        ],
        columns=ALERT_COLUMNS,
    )
    empty = pd.DataFrame(columns=["rank", "title", "problem_id"])
    changes = WeekChanges(
        new_alerts=alerts,
        escalated_alerts=alerts.head(3),
        movers=empty,
        new_problems=empty,
        overdue_count=0,
        owners=pd.DataFrame(columns=["department", "heads", "overdue"]),
        decisions_due=empty,
    )
    panel = page.changes_panel(changes, compared=False, previous_week=None)
    shown = texts(panel)
    assert "New alerts (12)" in shown  # the count is all of them
    assert [f"Alert number {i}" in shown for i in range(12)] == [True] * 5 + [False] * 7
    assert "and 7 more," in shown and "all on Early warnings" in shown
    links = [c.href for c in _walk(panel) if getattr(c, "href", None) == "/alerts"]
    assert len(links) == 1  # the escalated list (3) is short enough to show whole
    assert page.CHANGE_LIST_LIMIT == 5


def _walk(component: object) -> list[object]:
    found = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found += _walk(child)
    return found


def test_pri031_a_note_that_ends_a_sentence_gets_no_second_full_stop() -> None:
    row = SimpleNamespace(
        title="Heat",
        rank=1,
        decision="focus",
        decision_note="Review the contracts first.",
        last_decision=None,
        last_decision_week=None,
        last_decision_note=None,
    )
    words = " ".join(texts(page.decision_context(row, "2025-W06")).split())
    assert "Review the contracts first. Saving records" in words and ".." not in words
    plain = SimpleNamespace(**{**vars(row), "decision_note": None})
    assert "In force this week: Focus. Saving" in " ".join(
        texts(page.decision_context(plain, "2025-W06")).split()
    )
