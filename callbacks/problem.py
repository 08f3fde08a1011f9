"""Problem drill-down callbacks: the header with this week's scores, the active tab's content,
and in the browser the tab switch (kept in ``?tab=``) and the map's detail panel.

Scores come from the stored weekly snapshot (ranked once with ``db.ranking.rank_week`` when
this week has none); reports from the daily aggregate. Only the active tab is computed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import dash
import pandas as pd
from dash import MATCH, Input, Output, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from callbacks.policy import (
    current_database,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from db import lookups
from db.backward_map import engagement_details, innovation_details, map_frames
from db.catalog import policy_area_labels
from db.indicators import indicator_histories, problem_indicators
from db.models import INNOVATION_STAGES
from db.problems import (
    AUDIT_LIMIT,
    problem_audit_trail,
    problem_categories,
    problem_decisions,
    problem_record,
)
from db.ranking import rank_week
from db.reports import district_report_totals, newest_in_categories, report_days
from db.scores import ProblemScore, has_snapshot, problem_score
from layouts import ids, problem, problem_map
from layouts.components import humanize, not_found
from triage.backward_map import BackwardMap, CausalCycleError, backward_map
from triage.scoring import (
    CONCERN_WINDOW_DAYS,
    PROPENSITY_WINDOW_DAYS,
    iso_week,
    reporting_propensity,
)
from triage.security import Capability, Principal, role_allows

log = logging.getLogger(__name__)

WINDOW_DAYS = 7  # reports are counted in 7-day windows ending today, so none is partial
WINDOWS = 26
DECISION_LIMIT = 52

# Switches tabs in the browser (no round trip) and keeps ``?tab=`` in step without a reload
# or a history entry; the tab store then asks the server for that tab's content.
SELECT_TAB_JS = """
function() {
    const tabs = TABS;
    const fired = (dash_clientside.callback_context.triggered || [])
        .map(t => t.prop_id.split(".")[0]);
    const tab = tabs.find(t => fired.includes("problem-" + t + "-tab-button"));
    if (!tab) { throw dash_clientside.PreventUpdate; }
    const params = new URLSearchParams(window.location.search);
    if (tab === tabs[0]) { params.delete("tab"); } else { params.set("tab", tab); }
    const query = params.toString();
    const url = window.location.pathname + (query ? "?" + query : "");
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return [tab]
        .concat(tabs.map(t => t === tab ? "nav-link active" : "nav-link"))
        .concat(tabs.map(t => t === tab ? "true" : "false"))
        .concat(tabs.map(t => t !== tab));
}
""".replace("TABS", json.dumps([tab for tab, _label in problem.TABS]))

# Shows the lines the server wrote into the selected node's data, as text (React escapes it).
SHOW_NODE_JS = """
function(node) {
    if (!node || !Array.isArray(node.detail) || !node.detail.length) {
        throw dash_clientside.PreventUpdate;
    }
    return node.detail.map((line, index) => ({
        namespace: "dash_html_components",
        type: "P",
        props: {children: String(line), className: index === 0 ? "detail-title" : null},
    }));
}
"""

EDITOR_PANELS = (
    ids.PROBLEM_EDIT_PANEL,
    ids.PROBLEM_FACTOR_PANEL,
    ids.PROBLEM_ENGAGEMENT_PANEL,
    ids.PROBLEM_INNOVATION_PANEL,
)
SAVED_STORES = (
    ids.PROBLEM_EDIT_SAVED_STORE,
    ids.PROBLEM_FACTOR_SAVED_STORE,
    ids.PROBLEM_ENGAGEMENT_SAVED_STORE,
    ids.PROBLEM_INNOVATION_SAVED_STORE,
)


# ---------------------------------------------------------------- scores


def week_score(problem_id: int) -> tuple[str, ProblemScore | None]:
    """This week's stored score of the problem; ranks the week once if it has no snapshot."""
    database = current_database()
    today = local_today()
    week = iso_week(today)
    with database.session() as session:
        stored = has_snapshot(session, week)
        score = problem_score(session, problem_id, week) if stored else None
    if stored:
        return week, score
    try:
        rank_week(database, week, today)
    except (IntegrityError, OperationalError):
        # Another request stored the same week at the same moment; read what it stored.
        log.warning("ranking week %s concurrently; using the stored snapshot", week)
    with database.session() as session:
        return week, problem_score(session, problem_id, week)


# ---------------------------------------------------------------- header


def problem_header(problem_id: Any, *saved: Any, principal: Principal) -> tuple[Any, ...]:
    """Header, sections shown or not, the version loaded, the editors' signal and visibility.

    The editors' store changes only for those who may edit, so their form callbacks never
    fire for anyone else.
    """
    editor = role_allows(principal.role, Capability.EDIT_PROBLEMS)
    hidden = (True,) * len(EDITOR_PANELS)
    parsed = problem.parse_problem_id(problem_id)
    if parsed is None:
        return (not_found("Problem"), True, None, no_update, *hidden)
    with current_database().session() as session:
        record = problem_record(session, parsed)
        area_labels = policy_area_labels(session)
    if record is None:
        return (not_found("Problem"), True, None, no_update, *hidden)
    week, score = week_score(parsed)
    header = problem.problem_header(
        problem.HeaderData(
            title=record.title,
            status=record.status,
            policy_area=area_labels.get(record.policy_area) or humanize(record.policy_area),
            lead_department=record.lead_department,
            owner=record.owner,
            districts=record.districts,
            week=week,
            score=score,
            archived=record.archived,
        )
    )
    if not editor:
        return (header, False, record.version, no_update, *hidden)
    loads = sum(s for s in saved if isinstance(s, int))
    signal = {"problem_id": parsed, "version": record.version, "loads": loads}
    return (header, False, record.version, signal, *((False,) * len(EDITOR_PANELS)))


# ---------------------------------------------------------------- tabs


def overview_content(session: Session, problem_id: int) -> Any:
    record = problem_record(session, problem_id)
    if record is None:
        return not_found("Problem")
    score = problem_score(session, problem_id, iso_week(local_today()))
    return problem.overview_section(
        problem.OverviewData(
            score=score,
            description=record.description,
            desired_outcome=record.desired_outcome,
            authority=record.authority,
            authority_notes=record.authority_notes,
            political_capital=record.political_capital,
            political_notes=record.political_notes,
        )
    )


def indicators_content(session: Session, problem_id: int) -> Any:
    indicators = problem_indicators(session, problem_id, today=local_today())
    histories = indicator_histories(session, [int(i) for i in indicators["id"]])
    return problem.indicator_cards(indicators, histories)


def report_windows(
    days: pd.DataFrame,
    categories: pd.DataFrame,
    adjustment: dict[int, float],
    today: dt.date,
    *,
    windows: int = WINDOWS,
    window_days: int = WINDOW_DAYS,
) -> pd.DataFrame:
    """Reports per category in consecutive windows ending today, raw and adjusted.

    In: ``days`` (day, category_id, district_id, count), ``categories`` (category_id, name),
    ``adjustment`` (district id → 1 / reporting propensity). Out: period_end, category, raw,
    adjusted, one row per category and window (windows without reports count 0).
    """
    ends = [today - dt.timedelta(days=k * window_days) for k in range(windows)]
    names = dict(zip(categories["category_id"], categories["name"], strict=True))
    grid = pd.MultiIndex.from_product(
        [list(names), range(windows)], names=["category_id", "window"]
    )
    if days.empty:
        counts = pd.DataFrame(0.0, index=grid, columns=["raw", "adjusted"])
    else:
        age = (pd.Timestamp(today) - pd.to_datetime(days["day"])).dt.days
        frame = days.assign(
            window=age // window_days,
            raw=days["count"].astype(float),
            adjusted=days["count"].astype(float)
            * days["district_id"].map(adjustment).fillna(1.0).astype(float),
        )
        frame = frame[(frame["window"] >= 0) & (frame["window"] < windows)]
        counts = (
            frame.groupby(["category_id", "window"])[["raw", "adjusted"]]
            .sum()
            .reindex(grid, fill_value=0.0)
        )
    counts = counts.reset_index()
    return pd.DataFrame(
        {
            "period_end": [ends[int(w)] for w in counts["window"]],
            "category": [str(names[c]) for c in counts["category_id"]],
            "raw": counts["raw"].astype(float),
            "adjusted": counts["adjusted"].astype(float),
        }
    )


def district_burden(
    days: pd.DataFrame,
    districts: pd.DataFrame,
    scope: tuple[int, ...],
    adjustment: dict[int, float],
) -> pd.DataFrame:
    """Reports per district over the days given, raw and adjusted, per 1,000 residents.

    In: ``days`` as for :func:`report_windows`, ``districts`` (id, name, population,
    geometry), ``scope`` (the problem's district ids; empty = the whole city). Out: the
    districts with in_scope, raw, adjusted, raw_per_1k, adjusted_per_1k and adjustment.
    """
    by_district = (
        days.assign(
            raw=days["count"].astype(float),
            adjusted=days["count"].astype(float)
            * days["district_id"].map(adjustment).fillna(1.0).astype(float),
        )
        .groupby("district_id")[["raw", "adjusted"]]
        .sum()
        if not days.empty
        else pd.DataFrame(columns=["raw", "adjusted"], dtype=float)
    )
    ids_ = districts["id"].astype("int64")
    raw = ids_.map(by_district["raw"]).fillna(0.0).astype(float)
    adjusted = ids_.map(by_district["adjusted"]).fillna(0.0).astype(float)
    population = pd.to_numeric(districts["population"], errors="coerce").astype(float)
    per_1k = 1000.0 / population.where(population > 0)
    return districts.assign(
        in_scope=ids_.isin(scope) if scope else True,
        raw=raw,
        adjusted=adjusted,
        raw_per_1k=(raw * per_1k).fillna(0.0),
        adjusted_per_1k=(adjusted * per_1k).fillna(0.0),
        adjustment=ids_.map(adjustment).fillna(1.0).astype(float),
    )


def category_totals(
    days: pd.DataFrame,
    series: pd.DataFrame,
    categories: pd.DataFrame,
    adjustment: dict[int, float],
    today: dt.date,
) -> pd.DataFrame:
    """Per category: reports over ``days`` raw and adjusted, and in the last two windows.

    In: ``days`` (day, category_id, district_id, count) over the concern window, ``series``
    from :func:`report_windows`. Out: category, raw, adjusted, last_window, previous_window.
    """
    weighted = days.assign(
        raw=days["count"].astype(float),
        adjusted=days["count"].astype(float)
        * days["district_id"].map(adjustment).fillna(1.0).astype(float),
    )
    sums = weighted.groupby("category_id")[["raw", "adjusted"]].sum()
    names = categories["name"].astype(str)
    by_window = series.groupby(["category", "period_end"])["raw"].sum().to_dict()

    def window(end: dt.date) -> list[float]:
        return [float(by_window.get((name, end), 0.0)) for name in names]

    return pd.DataFrame(
        {
            "category": names,
            "raw": categories["category_id"].map(sums["raw"]).fillna(0.0).astype(float),
            "adjusted": categories["category_id"].map(sums["adjusted"]).fillna(0.0).astype(float),
            "last_window": window(today),
            "previous_window": window(today - dt.timedelta(days=WINDOW_DAYS)),
        }
    )


def reports_content(session: Session, problem_id: int) -> Any:
    record = problem_record(session, problem_id)
    if record is None:
        return not_found("Problem")
    today = local_today()
    categories = problem_categories(session, problem_id)
    districts = lookups.districts(session, geometry=True)
    scope = record.district_ids
    start = today - dt.timedelta(days=WINDOWS * WINDOW_DAYS)
    days = report_days(session, list(categories["category_id"]), start, today)
    if scope:
        days = days[days["district_id"].isin(scope)]
    totals = district_report_totals(
        session, today - dt.timedelta(days=PROPENSITY_WINDOW_DAYS), today
    )
    propensity = reporting_propensity(
        totals.assign(day=today, category_id=0), districts.drop(columns="geometry"), today
    )
    adjustment = dict(
        zip(propensity["district_id"].astype(int), propensity["adjustment"], strict=True)
    )
    recent = newest_in_categories(session, list(categories["category_id"]), scope)
    series = report_windows(days, categories, adjustment, today)
    concern_days = days[days["day"] > today - dt.timedelta(days=CONCERN_WINDOW_DAYS)]
    burden = district_burden(concern_days, districts, scope, adjustment)
    totals_frame = category_totals(concern_days, series, categories, adjustment, today)
    score = problem_score(session, problem_id, iso_week(today))
    return problem.reports_section(
        problem.ReportsData(
            scored=score.reports if score is not None else None,
            scored_week=score.week if score is not None else "",
            categories=tuple(str(n) for n in categories["name"]),
            series=series,
            window_days=WINDOW_DAYS,
            totals=totals_frame,
            districts=burden,
            concern_days=CONCERN_WINDOW_DAYS,
            recent=recent,
        )
    )


def load_backward_map(session: Session, problem_id: int) -> tuple[BackwardMap, str | None]:
    """The problem's backward map, and a message when its stored links form a loop (it is then
    drawn without them so it can still be read and fixed)."""
    record = problem_record(session, problem_id)
    frames = map_frames(session, problem_id)
    title = record.title if record else ""
    args = (frames.factors, frames.links, frames.engagements, frames.actors)
    try:
        return backward_map(problem_id, *args, title=title), None
    except CausalCycleError as error:
        unlinked = frames.links.iloc[0:0]
        drawn = backward_map(
            problem_id, frames.factors, unlinked, frames.engagements, frames.actors, title=title
        )
        return drawn, f"{error} Until then it is drawn without its links."


def map_content(session: Session, problem_id: int) -> Any:
    bmap, message = load_backward_map(session, problem_id)
    return problem_map.map_section(bmap, message)


def actors_content(session: Session, problem_id: int) -> Any:
    engagements = engagement_details(session, problem_id)
    # The sectors missing are the backward map's, so the map tab and this one agree.
    bmap, _ = load_backward_map(session, problem_id)
    return problem.actors_section(
        engagements, bmap.missing_core_sectors, other_missing=bmap.other_sectors_missing
    )


def innovations_content(session: Session, problem_id: int) -> Any:
    innovations = innovation_details(session, problem_id)
    return problem.innovations_section(innovations, INNOVATION_STAGES)


def history_content(session: Session, problem_id: int) -> Any:
    decisions = problem_decisions(session, problem_id, limit=DECISION_LIMIT)
    trail = problem_audit_trail(session, problem_id)
    return problem.history_section(decisions, trail, AUDIT_LIMIT)


SECTION_CONTENT: dict[str, Callable[[Session, int], Any]] = {
    "overview": overview_content,
    "indicators": indicators_content,
    "reports": reports_content,
    "map": map_content,
    "actors": actors_content,
    "innovations": innovations_content,
    "history": history_content,
}


def section_content(tab: str, problem_id: int) -> Any:
    """The content of one tab (under its heading), read in one transaction.

    The header loads beside the tab: whichever comes first ranks the week if no request has
    yet (``week_score``), so a tab that shows this week's score never finds it missing.
    """
    week_score(problem_id)
    with current_database().session() as session:
        content = SECTION_CONTENT[tab](session, problem_id)
    return problem.tab_section(tab, content)


def section_panels(
    active_tab: Any, problem_id: Any, *saved: Any, principal: Principal
) -> tuple[Any, ...]:
    """Fill the active tab only (the others keep what they had until they are opened).

    It loads beside the header rather than after it (one round trip less before the charts
    draw), and again whenever an editor saves (``saved``), as the header does.
    """
    parsed = problem.parse_problem_id(problem_id)
    if parsed is None:
        raise PreventUpdate
    tab = problem.parse_tab(active_tab)
    return tuple(
        section_content(tab, parsed) if name == tab else no_update for name in problem.TAB_PANELS
    )


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PROBLEM_HEADER_DIV, "children"),
        Output(ids.PROBLEM_SECTIONS_DIV, "hidden"),
        Output(ids.PROBLEM_VERSION_STORE, "data"),
        Output(ids.PROBLEM_EDITOR_STORE, "data"),
        *(Output(panel, "hidden") for panel in EDITOR_PANELS),
        Input(ids.PROBLEM_ID_STORE, "data"),
        *(Input(store, "data") for store in SAVED_STORES),
    )(problem_header)
    secured_callback(
        app,
        Capability.VIEW_CITY,
        *(Output(panel, "children") for panel in problem.TAB_PANELS.values()),
        Input(ids.PROBLEM_TAB_STORE, "data"),
        Input(ids.PROBLEM_ID_STORE, "data"),
        *(Input(store, "data") for store in SAVED_STORES),
    )(section_panels)
    secured_clientside_callback(
        app,
        SHOW_NODE_JS,
        Output(ids.problem_map_detail(MATCH), "children"),
        Input(ids.problem_map_graph(MATCH), "tapNodeData"),
        prevent_initial_call=True,
    )
    tabs = [tab for tab, _label in problem.TABS]
    secured_clientside_callback(
        app,
        SELECT_TAB_JS,
        Output(ids.PROBLEM_TAB_STORE, "data"),
        *(Output(ids.problem_tab_button(t), "className") for t in tabs),
        *(Output(ids.problem_tab_button(t), "aria-selected") for t in tabs),
        *(Output(ids.problem_tab_panel(t), "hidden") for t in tabs),
        *(Input(ids.problem_tab_button(t), "n_clicks") for t in tabs),
        prevent_initial_call=True,
    )
