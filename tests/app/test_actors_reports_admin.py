"""Actors, citizen reports and administration: figure builders (pure), presenters, and the
callbacks called directly on a copy of the small demo city."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import flask
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from callbacks import actors as actor_callbacks
from callbacks import admin as admin_callbacks
from callbacks import policy
from callbacks import reports as report_callbacks
from db.actors import funding_flows
from db.models import (
    AuditLog,
    CategoryProblem,
    CitizenReport,
    DataSource,
    District,
    JobRun,
    ReportCategory,
    utcnow,
)
from db.reports import LAST_YEAR, weekly_series
from db.scores import load_weights
from layouts import actors, admin, figures, ids, reports
from tests import webutil
from tests.clock import TODAY
from tests.webutil import WebEnv, find_ids, post_callback, signed_in_client, texts
from triage.scoring import ScoringWeights, combine
from triage.security import PermissionDenied, Role

XSS = '<img src=x onerror="alert(1)"><b>bold</b><script>alert(2)</script>'
GEOJSON = Path(__file__).resolve().parents[2] / "packs" / "riverton" / "districts.geojson"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


def _valid(figure: go.Figure) -> go.Figure:
    """Builders skip Plotly's validation for speed; the tests validate every figure once."""
    return go.Figure(figure.to_plotly_json())


def _no_markup(values: object) -> None:
    text = json.dumps(values, default=str)
    for tag in ("<img", "<b>", "<script", "<a "):
        assert tag not in text, tag


# ---------------------------------------------------------------- figures (pure)


def test_act001_heatmap_escapes_labels_and_keeps_problems_without_engagement() -> None:
    cells = pd.DataFrame(
        {"problem_id": [1, 1, 2], "sector": ["philanthropic", "community", "media"],
         "value": [2.0, 1.0, 3.0]}
    )  # fmt: skip
    problems = pd.DataFrame({"id": [1, 2, 3], "title": [XSS, "Noise", "Nobody here"]})
    figure = _valid(
        figures.engagement_heatmap_figure(
            cells, problems, ["philanthropic", "community", "media"], XSS, "engagements",
            sector_labels={"philanthropic": XSS},
        )
    )  # fmt: skip
    heat = figure.data[0]
    assert len(heat.y) == 3 and heat.y[2].startswith("Nobody here")
    assert list(heat.z[2]) == [0.0, 0.0, 0.0]  # the empty row is drawn, not dropped
    assert heat.text[0][0] == "2" and heat.text[2][0] == ""
    _no_markup([heat.y, heat.x, heat.customdata, figure.layout.title.text])
    assert "&lt;img" in heat.y[0] and "&lt;img" in heat.x[0]


def test_act002_sankey_escapes_nodes_and_routes_money_without_a_deliverer() -> None:
    flows = pd.DataFrame(
        [
            {"funder": XSS, "funder_sector": "philanthropic", "actor": "Block <b>club</b>",
             "actor_sector": "community", "problem_id": 1, "problem": "Potholes", "amount": 300.0},
            {"funder": "Bank", "funder_sector": "corporate_civic", "actor": None,
             "actor_sector": None, "problem_id": 2, "problem": "<a href='x'>Rats</a>",
             "amount": 150.0},
        ]
    )  # fmt: skip
    figure = _valid(figures.funding_sankey_figure(flows, "Flows"))
    sankey = figure.data[0]
    labels = list(sankey.node.label)
    _no_markup([labels, list(sankey.node.customdata), list(sankey.link.customdata)])
    assert "No delivering partner recorded" in labels
    assert sum(sankey.link.value) == pytest.approx(2 * 450.0)  # two hops per flow
    legend = [t.name for t in figure.data[1:]]
    assert legend == ["philanthropic", "corporate civic", "community"]
    empty = figures.funding_sankey_figure(flows.iloc[0:0], "Flows")
    assert empty.layout.annotations[0].text == "No funding recorded for these filters"


def test_act003_funding_flows_split_equally_among_deliverers() -> None:
    rows = [
        # funder, sector, problem, factor, role, stance, amount
        ("Fund", "philanthropic", 1, None, "funding", "complementary", 900.0),
        ("Works", "government_agency", 1, None, "delivering", "complementary", 0.0),
        ("Club", "community", 1, None, "delivering", "complementary", 0.0),
        ("Rival", "corporate_civic", 1, None, "delivering", "competing", 0.0),
        ("Fund", "philanthropic", 2, 7, "funding", "complementary", 100.0),
        ("Works", "government_agency", 2, 7, "delivering", "complementary", 0.0),
        ("Club", "community", 2, 8, "delivering", "complementary", 0.0),
        ("Bank", "corporate_civic", 3, None, "funding", "complementary", 50.0),
        ("Idle", "media", 3, None, "funding", "complementary", 0.0),
    ]
    engagements = pd.DataFrame(
        [
            {"actor_id": i, "actor": a, "sector": s, "problem_id": p, "problem": f"P{p}",
             "factor_id": f, "role": r, "stance": st, "amount": m}
            for i, (a, s, p, f, r, st, m) in enumerate(rows)
        ]
    )  # fmt: skip
    flows = funding_flows(engagements)
    by_pair = {(r.problem_id, r.actor if isinstance(r.actor, str) else None): r.amount
               for r in flows.itertuples()}  # fmt: skip
    assert by_pair == {
        (1, "Club"): 450.0,
        (1, "Works"): 450.0,
        (2, "Works"): 100.0,
        (3, None): 50.0,
    }
    assert flows["amount"].sum() == pytest.approx(1050.0)  # nothing lost, nothing invented
    assert set(funding_flows(engagements, sector="community")["actor"]) == {"Club"}
    assert set(funding_flows(engagements, search="BANK")["funder"]) == {"Bank"}
    assert funding_flows(engagements.iloc[0:0]).empty


def test_rep001_district_map_draws_polygons_offline_and_escapes_names() -> None:
    geo = json.loads(GEOJSON.read_text())
    geo["features"][0]["properties"]["name"] = XSS
    values = {f["properties"]["code"]: float(i) for i, f in enumerate(geo["features"])}
    values.pop(geo["features"][1]["properties"]["code"])
    figure = _valid(figures.district_map_figure(geo, values, XSS, "<b>per 1,000</b>"))
    polygons = [t for t in figure.data if t.fill == "toself"]
    assert len(polygons) == len(geo["features"])
    assert all(t.type == "scatter" for t in figure.data)  # no tiles, no geo/mapbox subplot
    layout = figure.to_plotly_json()["layout"]
    assert not {"mapbox", "map", "geo"} & set(layout)
    assert layout["xaxis"]["scaleanchor"] == "y" and 0.5 < layout["xaxis"]["scaleratio"] < 1
    missing = [t for t in polygons if t.fillcolor == figures.NO_DATA_COLOUR]
    assert len(missing) == 1 and missing[0].showlegend and missing[0].name == "No data"
    markers = figure.data[-1]
    assert markers.marker.showscale and markers.marker.colorbar.title.text == (
        "&lt;b&gt;per 1,000&lt;/b&gt;"
    )
    _no_markup([[t.text for t in polygons], list(markers.customdata), figure.layout.title.text])
    # The same map from a frame with a geometry column, keyed by id.
    frame = pd.DataFrame(
        [
            {"id": i + 1, "code": f["properties"]["code"], "name": f["properties"]["name"],
             "geometry": f["geometry"]}
            for i, f in enumerate(geo["features"])
        ]
    )  # fmt: skip
    by_id = figures.district_map_figure(frame, {1: 5.0, 2: 7.0}, "Map", "per 1,000")
    assert len([t for t in by_id.data if t.fillcolor == figures.NO_DATA_COLOUR]) == 10
    empty = figures.district_map_figure([], {}, "Map", "x")
    assert empty.layout.annotations[0].text == "No district boundaries recorded"


def test_rep002_weekly_series_counts_weeks_partial_days_and_last_year() -> None:
    start, end = dt.date(2026, 6, 3), dt.date(2026, 6, 16)  # Wednesday .. Tuesday
    current = pd.DataFrame(
        {"day": [dt.date(2026, 6, 3), dt.date(2026, 6, 8), dt.date(2026, 6, 16)],
         "count": [5, 7, 2]}
    )  # fmt: skip
    previous = pd.DataFrame({"day": [dt.date(2026, 6, 8) - LAST_YEAR], "count": [4]})
    weekly = weekly_series(current, previous, start, end, history_start=dt.date(2025, 1, 1))
    assert list(weekly["week_start"]) == [dt.date(2026, 6, 1), dt.date(2026, 6, 8),
                                          dt.date(2026, 6, 15)]  # fmt: skip
    assert list(weekly["count"]) == [5, 7, 2]
    assert list(weekly["days"]) == [5, 7, 2]
    assert list(weekly["last_year"]) == [0.0, 4.0, 0.0]
    unknown = weekly_series(current, previous.iloc[0:0], start, end, history_start=None)
    assert unknown["last_year"].isna().all()
    # History starting inside the earlier range: only the weeks it covers compare.
    partial = weekly_series(current, previous, start, end, history_start=dt.date(2025, 6, 9))
    assert partial["last_year"].isna().tolist() == [True, False, False]
    assert "Only 2 of the 3 weeks" in texts(reports.trend(partial, scope="all"))
    figure = _valid(figures.weekly_reports_figure(weekly, XSS))
    assert "partial week: 5 of 7 days" in figure.data[0].customdata[0]
    assert [t.name for t in figure.data] == ["Selected weeks", "Same weeks last year"]
    _no_markup(figure.layout.title.text)


def test_rep003_date_range_defaults_swaps_and_limits() -> None:
    today = dt.date(2026, 11, 23)
    default = reports.date_range(None, None, latest=dt.date(2026, 11, 22), today=today)
    assert default.end == dt.date(2026, 11, 22) and default.start.weekday() == 0
    assert (default.end - default.start).days + 1 == 26 * 7 - 0  # 26 weeks, Monday to Sunday
    swapped = reports.date_range("2026-10-01", "2026-09-01", latest=None, today=today)
    assert (swapped.start, swapped.end) == (dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    assert any("swapped" in n for n in swapped.notes)
    bad = reports.date_range("<script>", "2026-13-45", latest=None, today=today)
    assert bad.end == today and len(bad.notes) == 2
    future = reports.date_range("2026-01-01", "2030-01-01", latest=None, today=today)
    assert future.end == today
    long = reports.date_range("2019-01-01", "2026-11-01", latest=None, today=today)
    assert (long.end - long.start).days + 1 == reports.MAX_RANGE_DAYS


def test_rep004_bar_figures_are_valid_and_escaped() -> None:
    categories = pd.DataFrame({"name": [XSS, "Noise"], "count": [10, 5], "last_year": [8.0, 9.0]})
    bars = _valid(figures.category_bars_figure(categories, "Top"))
    assert [t.name for t in bars.data] == ["Selected period", "Same period last year"]
    _no_markup(list(bars.data[0].y))
    rates = pd.DataFrame(
        {"name": [XSS, "B"], "raw_per_1k": [3.0, float("nan")], "adjusted_per_1k": [4.0, 2.0]}
    )
    district = _valid(figures.district_rates_figure(rates, "Rates"))
    assert [t.name for t in district.data] == ["As reported", "Adjusted for reporting habits"]
    assert district.data[0].x[1] is None
    assert "reports per 1,000 residents" in district.layout.xaxis.title.text


def test_rep005_adjusted_rates_scale_by_reporting_propensity() -> None:
    counts = pd.DataFrame(
        {"district_id": [1, 2, 3], "code": ["A", "B", "C"], "name": ["A", "B", "C"],
         "population": [1000, 2000, 0], "need_index": [0.1, 0.9, None], "count": [10, 10, 5]}
    )  # fmt: skip
    propensity = pd.DataFrame({"district_id": [1, 2], "adjustment": [0.5, 2.0]})
    rates = reports.district_rates(counts, propensity, 30)
    assert list(rates["raw_per_1k"][:2]) == [10.0, 5.0]
    assert list(rates["adjusted_per_1k"][:2]) == [5.0, 10.0]
    assert pd.isna(rates["raw_per_1k"][2])  # nobody lives there: no rate
    block = reports.districts(
        rates, pd.DataFrame(columns=["id", "code", "name", "geometry"]), measure="adjusted",
        start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 30), as_of=dt.date(2026, 1, 30),
    )  # fmt: skip
    text = texts(block)
    assert "Most reports per resident after adjustment: B" in text
    assert "before adjustment it was A" in text and "B's reports count 2.0x" in text


# ---------------------------------------------------------------- presenters and layouts


def test_act004_layout_takes_filters_from_the_query_string_and_ignores_junk() -> None:
    skeleton = str(actors.layout(sector="philanthropic", q="fund", measure="funding",
                                 min_sectors="4"))  # fmt: skip
    assert "value='philanthropic'" in skeleton and "value='fund'" in skeleton
    assert "value='funding'" in skeleton and "value='4'" in skeleton
    junk = str(actors.layout(sector="<script>", measure="x", min_sectors="99"))
    assert "value='all'" in junk and "value='count'" in junk and "value='3'" in junk
    assert actors.actors_href("media", "a b", "funding", 4) == (
        "/actors?sector=media&q=a+b&measure=funding&min_sectors=4"
    )
    assert actors.actors_href(None) == "/actors"


def test_rep006_layout_reads_from_and_to() -> None:
    query = {"from": "2026-01-05", "to": "bad"}
    skeleton = str(
        reports.layout(category="pothole", district="D04", problem="3", measure="adjusted", **query)
    )
    assert "value='pothole'" in skeleton and "value='D04'" in skeleton
    assert "value='2026-01-05'" in skeleton and "value='adjusted'" in skeleton
    assert "bad" not in skeleton


def test_adm001_tabs_follow_the_role_and_validation_sees_every_tab() -> None:
    assert [t.key for t in admin.allowed_tabs(Role.ADMIN)] == [
        "users", "weights", "mapping", "sources", "setup"]  # fmt: skip
    assert [t.key for t in admin.allowed_tabs(Role.CHIEF_OF_STAFF)] == [
        "weights", "mapping", "sources"]  # fmt: skip
    assert admin.allowed_tabs(Role.MAYOR) == []
    validation = find_ids(admin.layout())
    for component_id in (ids.ADMIN_USERS_TABLE_DIV, ids.ADMIN_WEIGHTS_PREVIEW_DIV,
                         ids.ADMIN_MAPPING_TABLE_DIV, ids.ADMIN_SOURCES_DIV):  # fmt: skip
        assert component_id in validation
    chief = admin.layout(tab="users", viewer_role=Role.CHIEF_OF_STAFF)
    assert "for administrators only" in texts(chief)
    assert ids.ADMIN_WEIGHTS_PREVIEW_DIV in find_ids(chief)
    assert ids.ADMIN_USERS_TABLE_DIV not in find_ids(chief)
    mapping = find_ids(admin.layout(tab="mapping", viewer_role=Role.ADMIN))
    assert ids.ADMIN_MAPPING_TABLE_DIV in mapping and ids.ADMIN_USERS_TABLE_DIV not in mapping
    # The role cannot come from the address: the gate sets it after the query string.
    spec = next(s for s in __import__("layouts").PAGES if s.module == "admin")
    gated = __import__("layouts").gated_layout(spec, lambda: Role.CHIEF_OF_STAFF)
    assert ids.ADMIN_USERS_TABLE_DIV not in find_ids(gated(tab="users", viewer_role="admin"))


def test_adm002_freshness_words() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0)
    assert admin.age_text(now - dt.timedelta(days=3, hours=2), now) == "3 days ago"
    assert admin.age_text(None, now) == "never"
    assert admin.freshness(now - dt.timedelta(minutes=20), 15, True, now)[0] == "success"
    tone, words = admin.freshness(now - dt.timedelta(days=3), 15, True, now)
    assert tone == "warning" and words == "Late: last good data 3 days ago"
    assert admin.freshness(None, 15, True, now) == ("danger", "No good data yet")
    assert admin.freshness(now, None, False, now) == ("neutral", "Paused")


# ---------------------------------------------------------------- callbacks on the demo city


def test_act010_directory_filters_by_sector_and_search(env: WebEnv) -> None:
    mayor = env.principal("mayor")
    everyone = texts(actor_callbacks.actors_directory("all", "", "count", "3", principal=mayor))
    assert "103" in everyone and "across 9 sectors" in everyone
    philanthropy = actor_callbacks.actors_directory("philanthropic", "", "count", "3",
                                                    principal=mayor)  # fmt: skip
    text = texts(philanthropy)
    assert "in philanthropy" in text and "engagement" in text
    tags = [c for c in str(philanthropy).split("sector-tag sector-")[1:]]
    assert tags and all(t.startswith("philanthropic") for t in tags)
    # On a phone each actor is a card, every cell named (its engagements were off the screen).
    assert "data-table data-table-stack'" in str(philanthropy)
    assert "data-label='Engagements'" in str(philanthropy)
    none = texts(actor_callbacks.actors_directory("all", "%_no such actor_%", "count", "3",
                                                  principal=mayor))  # fmt: skip
    assert "No actors match these filters" in none
    junk = texts(actor_callbacks.actors_directory("<script>", None, None, None, principal=mayor))
    assert junk == everyone


def test_act011_heatmap_sankey_and_gaps_render_for_any_role(env: WebEnv) -> None:
    analyst = env.principal("analyst")
    heat = actor_callbacks.actors_heatmap("all", "funding", principal=analyst)
    assert "Funding committed by sector and problem" in texts(heat)
    sankey = actor_callbacks.actors_sankey("all", "", principal=analyst)
    assert "How the flows are drawn" in texts(sankey) and "committed by" in texts(sankey)
    only_media = texts(actor_callbacks.actors_sankey("media", "", principal=analyst))
    assert "No funding recorded for these filters" in only_media or "committed" in only_media
    gaps = texts(actor_callbacks.actors_gaps("6", principal=analyst))
    assert "Sectors on the top-priority problems" in gaps and "fewer than 6 sectors" in gaps
    assert "the problems in focus" in gaps or "ranking" in gaps


def test_rep010_filter_choices_and_default_dates(env: WebEnv) -> None:
    mayor = env.principal("mayor")
    categories, districts, problems, start, end = report_callbacks.reports_filters(
        1, None, None, principal=mayor
    )
    assert categories[0] == {"label": "All categories", "value": "all"} and len(categories) > 50
    assert len(districts) == 13 and len(problems) > 2
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    # The end is the latest day with reports (the day before the pinned today in the demo);
    # the start is the Monday 25 weeks before the end's week, whatever weekday the end is.
    assert last == TODAY - dt.timedelta(days=1)
    assert first.weekday() == 0
    assert first == last - dt.timedelta(days=last.weekday()) - dt.timedelta(weeks=25)
    kept = report_callbacks.reports_filters(1, "2026-01-05", "2026-02-01", principal=mayor)
    assert kept[3:] == ("2026-01-05", "2026-02-01")


def test_rep011_filters_change_every_section(env: WebEnv) -> None:
    mayor = env.principal("mayor")
    with env.database.session() as session:
        category = session.scalar(
            select(ReportCategory.code)
            .join(CitizenReport, CitizenReport.category_id == ReportCategory.id)
            .group_by(ReportCategory.code)
            .order_by(func.count().desc())
        )
    args = ("all", "all", "all", None, None)
    cards, trend = report_callbacks.reports_summary(*args, principal=mayor)
    filtered_cards, _ = report_callbacks.reports_summary(category, "D01", "all", None, None,
                                                         principal=mayor)  # fmt: skip
    assert "All categories citywide" in texts(cards) and "Reports per week" in texts(trend)
    # The small demo city counts reports for one year only: no comparison with a partial year.
    assert "Not comparable: reports start on" in texts(cards)
    assert "no reports from the same weeks last year" in texts(trend)
    assert "citywide" not in texts(filtered_cards)
    top, districts = report_callbacks.reports_breakdown(*args, "adjusted", principal=mayor)
    assert "leads with" in texts(top) and "after adjustment" in texts(districts)
    graphs = str(districts).count('"type": "Graph"')  # deferred: drawn near the screen
    assert graphs == 2  # bars beside the map
    noted, _ = report_callbacks.reports_summary("<b>x</b>", "Z99", "abc", "2026-02-01",
                                                "2026-01-01", principal=mayor)  # fmt: skip
    text = texts(noted)
    assert "category in the address is unknown" in text and "district" in text
    assert "swapped" in text


def test_rep012_recent_reports_are_plain_text_and_filtered(env: WebEnv) -> None:
    yesterday = dt.datetime.combine(TODAY, dt.time(1)) - dt.timedelta(days=1)
    with env.database.session(write=True) as session:
        district = session.scalar(select(District).where(District.code == "D02"))
        category = session.scalar(select(ReportCategory).order_by(ReportCategory.id))
        assert district is not None and category is not None
        session.add(
            CitizenReport(
                source="test", service_request_id="xss-1", category_id=category.id,
                district_id=district.id, description=XSS, address="<b>1 Main</b>",
                requested_at=yesterday,
            )
        )  # fmt: skip
        code = category.code
    mayor = env.principal("mayor")
    today = TODAY.isoformat()
    start = (TODAY - dt.timedelta(days=30)).isoformat()
    listing = report_callbacks.reports_recent(code, "D02", "all", start, today, principal=mayor)
    assert XSS in texts(listing)  # a text child, which React escapes
    assert "<b>1 Main</b>" in texts(listing)
    assert XSS not in str(listing).split("children=")[0]  # never an attribute or raw HTML
    everywhere = report_callbacks.reports_recent("all", "all", "all", start, today, principal=mayor)
    assert str(everywhere).count("Tr(") == 1 + 20  # the header row and the 20 newest
    assert "The 20 most recent reports matching the filters" in texts(everywhere)


def test_adm010_preview_matches_combine_and_flags_moves(env: WebEnv) -> None:
    chief = env.principal("chief")
    store = admin_callbacks.weights_components(1, principal=chief)
    restored = admin_callbacks.components_from_store(store)
    assert restored is not None
    frame, week = restored
    names = ScoringWeights.names()
    input_ids = [ids.admin_weight_input(n) for n in names]
    saved = [getattr(ScoringWeights(), n) for n in names]
    unchanged = texts(admin_callbacks.weights_preview(saved, store, 0, input_ids, principal=chief))
    assert "These are the saved weights" in unchanged and "0 in, 0 out" in unchanged
    proposal = dict(zip(names, saved, strict=True)) | {"concern": 5.0, "gap": 0.0}
    values = [proposal[n] for n in names]
    preview, stability = admin_callbacks.preview_frame(
        frame, ScoringWeights(), ScoringWeights(**proposal), TODAY
    )
    expected = combine(frame, ScoringWeights(**proposal))["rank"]
    assert list(preview["proposed_rank"]) == list(expected) and 0 <= stability <= 1
    moved = admin_callbacks.weights_preview(values, store, 0, input_ids, principal=chief)
    assert "These are the saved weights" not in texts(moved)
    assert f"inputs of {week}" in texts(moved)


def test_adm011_preview_explains_invalid_weights_and_ignores_a_tampered_store(
    env: WebEnv,
) -> None:
    chief = env.principal("chief")
    names = ScoringWeights.names()
    input_ids = [ids.admin_weight_input(n) for n in names]
    store = admin_callbacks.weights_components(1, principal=chief)
    values = [getattr(ScoringWeights(), n) for n in names]
    for bad, message in ((None, "Enter a number"), (-1, "between 0 and 100"), ("x", "number")):
        broken = list(values)
        broken[names.index("gap")] = bad
        assert message in texts(
            admin_callbacks.weights_preview(broken, store, 0, input_ids, principal=chief)
        )
    zero = list(values)
    zero[names.index("importance")] = 0
    assert "must be above zero" in texts(
        admin_callbacks.weights_preview(zero, store, 0, input_ids, principal=chief)
    )
    for tampered in (None, {"week": "x"}, {**store, "problem_id": [1]}, "junk"):
        assert "Scoring this week" in texts(
            admin_callbacks.weights_preview(values, tampered, 0, input_ids, principal=chief)
        )


def test_adm012_save_stores_audits_and_refuses_other_roles(env: WebEnv) -> None:
    names = ScoringWeights.names()
    input_ids = [ids.admin_weight_input(n) for n in names]
    values = [getattr(ScoringWeights(), n) for n in names]
    values[names.index("concern")] = 0.6
    with pytest.raises(PreventUpdate):
        admin_callbacks.weights_save(0, values, input_ids, 0, principal=env.principal("chief"))
    feedback, saved = admin_callbacks.weights_save(
        1, values, input_ids, 3, principal=env.principal("chief")
    )
    assert "Saved: Citizen concern" in texts(feedback) and saved == 4
    with env.database.session() as session:
        assert load_weights(session).concern == 0.6
        audit = session.scalars(
            select(AuditLog).where(AuditLog.entity == "app_setting").order_by(AuditLog.id.desc())
        ).first()
        assert audit is not None and audit.username == "chief" and audit.after["concern"] == 0.6
    for role_user in ("mayor", "analyst", env.head_username()):
        with pytest.raises(PermissionDenied):
            admin_callbacks.weights_save(
                1, values, input_ids, 0, principal=env.principal(role_user)
            )
    wrapped = policy.secured(policy.Capability.CONFIGURE, admin_callbacks.weights_form)
    flask.g.triage_principal = env.principal("mayor")
    with pytest.raises(PermissionDenied):
        wrapped(1, 0)
    form = admin_callbacks.weights_form(1, 1, principal=env.principal("chief"),
                                        triggered_id=ids.ADMIN_WEIGHTS_DEFAULTS_BUTTON)  # fmt: skip
    assert "value=0.2" in str(form).replace(" ", "")  # defaults back in the form (concern 0.2)


def test_adm013_mapping_add_change_remove_and_prefill(env: WebEnv) -> None:
    chief = env.principal("chief")
    table, _categories, problem_options = admin_callbacks.mapping_table(0, principal=chief)
    assert "unmapped" in texts(table) and "Unmapped" in texts(table)
    with env.database.session() as session:
        category_id = session.scalar(
            select(ReportCategory.id)
            .where(ReportCategory.id.not_in(select(CategoryProblem.category_id)))
            .order_by(ReportCategory.id)
        )
    problem_id = int(problem_options[0]["value"])
    save = ids.ADMIN_MAPPING_SAVE_BUTTON
    message, changed = admin_callbacks.mapping_change(
        1, [], str(category_id), str(problem_id), 0.5, 7, principal=chief,
        triggered_id=save, triggered_value=1,
    )  # fmt: skip
    assert "Mapped" in texts(message) and changed == 8
    message, _ = admin_callbacks.mapping_change(
        2, [], str(category_id), str(problem_id), 0.25, 8, principal=chief,
        triggered_id=save, triggered_value=2,
    )  # fmt: skip
    assert "from 0.5 to 0.25" in texts(message)
    edit = ids.admin_mapping_button("edit", category_id, problem_id)
    assert admin_callbacks.mapping_edit([1], principal=chief, triggered_id=edit,
                                        triggered_value=1) == (str(category_id),
                                                               str(problem_id), 0.25)  # fmt: skip
    bad, unchanged = admin_callbacks.mapping_change(
        3, [], str(category_id), str(problem_id), 7, 8, principal=chief,
        triggered_id=save, triggered_value=3,
    )  # fmt: skip
    assert "at most 1" in texts(bad) and unchanged is not None and bad.role == "alert"
    remove = ids.admin_mapping_button("remove", category_id, problem_id)
    message, _ = admin_callbacks.mapping_change(
        3, [1], None, None, None, 9, principal=chief, triggered_id=remove, triggered_value=1
    )
    assert "Removed" in texts(message)
    with env.database.session() as session:
        assert session.get(CategoryProblem, (category_id, problem_id)) is None
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity == "category_problem")
        ).all()
        assert sorted(actions) == ["create", "delete", "update"]
    with pytest.raises(PreventUpdate):  # a re-rendered table fires with no click
        admin_callbacks.mapping_change(3, [0], None, None, None, 9, principal=chief,
                                       triggered_id=remove, triggered_value=0)  # fmt: skip
    with pytest.raises(PermissionDenied):
        admin_callbacks.mapping_change(
            4, [], str(category_id), str(problem_id), 0.5, 9, principal=env.principal("mayor"),
            triggered_id=save, triggered_value=4,
        )  # fmt: skip


def test_adm014_sources_and_jobs_explain_empty_and_stale_states(env: WebEnv) -> None:
    admin_user = env.principal("admin")
    sources, jobs = admin_callbacks.sources_overview(1, principal=admin_user)
    assert "No data sources yet" in texts(sources) and "triage ingest open311" in texts(sources)
    assert "weekly-snapshot" in texts(jobs) and "No job has run yet" in texts(jobs)
    now = utcnow()
    with env.database.session(write=True) as session:
        session.add_all(
            [
                DataSource(name="city311", kind="open311", url="https://x.example/open311",
                           poll_minutes=15, last_attempt_at=now - dt.timedelta(hours=1),
                           last_success_at=now - dt.timedelta(days=3), last_error=XSS),
                DataSource(name="finance", kind="indicators", poll_minutes=None,
                           last_success_at=now - dt.timedelta(hours=2)),
                JobRun(job_id="weekly-snapshot", started_at=now - dt.timedelta(days=7),
                       finished_at=now - dt.timedelta(days=7), outcome="success", rows=12),
                JobRun(job_id="weekly-snapshot", started_at=now - dt.timedelta(hours=1),
                       finished_at=now - dt.timedelta(hours=1), outcome="error", error="boom"),
            ]
        )  # fmt: skip
    sources, jobs = admin_callbacks.sources_overview(1, principal=env.principal("chief"))
    text = texts(sources)
    assert "Late: last good data 3 days ago" in text and XSS in text
    assert "Last good data 2 hours ago" in text and "when imported" in text
    job_text = texts(jobs)
    assert "Error" in job_text and "boom" in job_text and "Recent runs" in job_text


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def http_env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    web.client().get("/healthz")
    yield web
    web.dispose()


def test_adm020_weights_save_post_is_refused_to_other_roles(http_env: WebEnv) -> None:
    deps = {d["output"]: d for d in webutil.dependencies(signed_in_client(http_env, "admin"))}
    output = next(o for o in deps if "admin-weights-feedback-div" in o)
    names = ScoringWeights.names()
    values = {"admin-weights-save-button.n_clicks": 1, "admin-weights-saved-store.data": 0}
    body = webutil.callback_body(deps[output], values)
    weights = {n: (9.0 if n == "gap" else getattr(ScoringWeights(), n)) for n in names}
    body["state"][0] = [
        {"id": ids.admin_weight_input(n), "property": "value", "value": weights[n]} for n in names
    ]
    body["state"][1] = [
        {"id": ids.admin_weight_input(n), "property": "id", "value": ids.admin_weight_input(n)}
        for n in names
    ]
    for username in ("mayor", "analyst", http_env.head_username()):
        response = post_callback(signed_in_client(http_env, username), body)
        assert response.status_code == 403, username
    with http_env.database.session() as session:
        assert load_weights(session).gap == ScoringWeights().gap
    response = post_callback(signed_in_client(http_env, "chief"), body)
    assert response.status_code == 200 and "Saved" in response.get_data(as_text=True)
    with http_env.database.session() as session:
        assert load_weights(session).gap == 9.0


def test_adm021_old_users_address_redirects_to_the_admin_page(http_env: WebEnv) -> None:
    client = signed_in_client(http_env, "admin")
    response = client.get("/admin/users", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin"
    anonymous = http_env.client().get("/admin/users", headers={"Accept": "text/html"})
    assert anonymous.headers["Location"] == "/login?next=/admin/users"
