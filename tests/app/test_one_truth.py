"""One truth per figure: two or more views of the demo city, loaded through their real callbacks,
show the same number for the same thing (reports in 90 days, missing sectors, alerts per
problem, problems on alert), and "new" alerts mean one thing on every page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from dash import dcc, html
from sqlalchemy import func, select

from callbacks import alerts as alerts_cb
from callbacks import priorities as priorities_cb
from callbacks import problem as problem_cb
from callbacks import reports as reports_cb
from db import lookups
from db.attention import open_episodes, week_attention
from db.brief import brief_data
from db.models import Alert, CategoryProblem, Indicator, Observation, ReportCategory
from db.pages.priorities import actor_gaps, week_changes, week_priorities
from db.problems import problem_record
from tests.clock import TODAY
from tests.webutil import WebEnv, texts, unfolded
from triage.attention import is_new
from triage.indicators import CADENCE_DAYS
from triage.weeks import iso_week, week_end, week_start

WEEK = iso_week(TODAY)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path_factory.mktemp("one-truth"))
    with web.app.server.test_request_context():
        # Opening the priorities page stores this week's ranking, as in the app.
        priorities_cb.week_choice({"week": None}, principal=web.principal("mayor"))
    yield web
    web.dispose()


@pytest.fixture
def env(city: WebEnv) -> Iterator[WebEnv]:
    with city.app.server.test_request_context():
        flask.g.triage_principal = city.principal("mayor")
        yield city


# ---------------------------------------------------------------- reading the views


def _walk(component: Any) -> Iterator[Any]:
    if isinstance(component, list | tuple):
        for child in component:
            yield from _walk(child)
        return
    if component is None or isinstance(component, str | int | float):
        return
    yield component
    folded = unfolded(component)  # a lazy fold's content, as the opened fold draws it
    yield from _walk(folded if folded is not None else getattr(component, "children", None))


def kpi_value(tree: Any, label: str) -> str:
    """The value of the headline card labelled ``label``."""
    for node in _walk(tree):
        if isinstance(node, html.Div) and "kpi-card" in str(getattr(node, "className", "")):
            label_p, value_p = node.children[0], node.children[1]
            if label_p.children == label:
                return str(value_p.children)
    raise AssertionError(f"no card labelled {label!r} in {texts(tree)[:300]}")


def table_row(tree: Any, href: str) -> str:
    """The text of the table row that links to ``href``."""
    for node in _walk(tree):
        if isinstance(node, html.Tr) and any(
            isinstance(n, dcc.Link) and n.href == href for n in _walk(node.children)
        ):
            return texts(node)
    raise AssertionError(f"no row links to {href}")


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _priorities(env: WebEnv, username: str = "mayor") -> tuple[Any, ...]:
    principal = env.principal(username)
    _options, week, _ = priorities_cb.week_choice({"week": None}, principal=principal)
    assert week == WEEK
    return priorities_cb.priorities_view(week, "all", 0, principal=principal)


def _alerts_page(env: WebEnv, problem: Any = None) -> tuple[Any, ...]:
    return alerts_cb.alerts_feed(
        None, None, None, None, problem, None, None, None, 0, 0, principal=env.principal("mayor")
    )


def _ranked(env: WebEnv) -> list[int]:
    with env.database.session() as session:
        data = week_priorities(session, WEEK, today=TODAY)
    return [int(p) for p in data.ranking["problem_id"]]


# ---------------------------------------------------------------- reports in 90 days

OVERVIEW_REPORTS = re.compile(r"residents filed ([\d,]+) reports in 90 days \(([\d,]+) adjusted\)")
TAB_REPORTS = re.compile(
    r"Residents filed ([\d,]+) reports in 90 days \(([\d,]+) adjusted\), as the ranking of "
    r"(\d{4}-[wW]\d\d) counts them"
)
TAB_FILED = re.compile(r"show ([\d,]+) reports as filed in the last 90 days")


def test_one001_reports_in_90_days_agree_on_overview_reports_tab_and_priorities(
    env: WebEnv,
) -> None:
    compared = 0
    for problem_id in _ranked(env):
        overview = texts(problem_cb.section_content("overview", problem_id))
        found = OVERVIEW_REPORTS.search(overview)
        if found is None:
            continue  # no category linked, or no reports: the overview says so in words
        tab = texts(problem_cb.section_content("reports", problem_id))
        shown = TAB_REPORTS.search(tab)
        assert shown is not None, tab[:400]
        assert (shown.group(1), shown.group(2)) == (found.group(1), found.group(2)), problem_id
        assert shown.group(3) == WEEK
        # The unweighted count of the charts below is labelled as such, never as the figure.
        assert TAB_FILED.search(tab) is not None
        assert "Reports as filed, 90 days" in tab
        compared += 1
    assert compared >= 3, "the demo city has problems with reports"


def test_one002_priorities_chart_table_shows_the_overviews_adjusted_reports(env: WebEnv) -> None:
    chart_table = _priorities(env)[3]
    checked = 0
    for problem_id in _ranked(env)[:8]:
        overview = texts(problem_cb.section_content("overview", problem_id))
        found = OVERVIEW_REPORTS.search(overview)
        if found is None:
            continue
        row = table_row(chart_table, f"/problems/{problem_id}")
        assert re.search(rf"(^|\s){re.escape(found.group(2))}(\s|$)", row), (row, found.group(2))
        checked += 1
    assert checked


# ---------------------------------------------------------------- missing sectors

GAPS = re.compile(r"Sectors not engaged \((\d+) of the core six\): ")
ACTORS = re.compile(r"Sectors not engaged \((\d+) of the core six\)")


def _sector_counts(env: WebEnv, problem_id: int) -> tuple[int, int, int]:
    map_text = texts(problem_cb.section_content("map", problem_id))
    actors_text = texts(problem_cb.section_content("actors", problem_id))
    summary = [int(m.group(1)) for m in GAPS.finditer(map_text)]
    actors = ACTORS.search(actors_text)
    count_actors = int(actors.group(1)) if actors else 0
    if not summary:
        assert "Every sector of the core six is engaged" in actors_text
        return 0, 0, count_actors
    # The map tab prints the summary sentence and the gaps list: both carry the figure.
    assert len(summary) == 2, map_text[:600]
    return summary[0], summary[1], count_actors


def test_one003_missing_sectors_agree_on_map_summary_gaps_actors_tab_and_brief(
    env: WebEnv,
) -> None:
    ranked = _ranked(env)[:10]
    with env.database.session() as session:
        titles = dict(
            (int(p), str(t))
            for p, t in week_priorities(session, WEEK, today=TODAY)
            .ranking[["problem_id", "title"]]
            .itertuples(index=False)
        )
        gaps = actor_gaps(session, [(p, titles[p]) for p in ranked])
    seen = set()
    for problem_id, gap in zip(ranked, gaps, strict=True):
        summary, gap_list, actors = _sector_counts(env, problem_id)
        assert summary == gap_list == actors == len(gap.missing_sectors), (
            problem_id,
            summary,
            gap_list,
            actors,
            gap.missing_sectors,
        )
        seen.add(actors)
    assert seen - {0}, "some top problem misses a core sector in the demo city"


# ---------------------------------------------------------------- alerts per problem, on alert


def test_one004_problems_on_alert_agree_on_priorities_and_early_warnings(env: WebEnv) -> None:
    on_priorities = _number(kpi_value(_priorities(env)[0], "Problems on alert"))
    on_alerts_page = _number(kpi_value(_alerts_page(env)[0], "Problems on alert"))
    assert on_priorities == on_alerts_page
    assert on_priorities > 0
    # The hand-made links are a different count, and the card says so.
    assert "linked by hand" in texts(_alerts_page(env)[0])


def test_one005_alerts_per_problem_agree_on_priorities_and_early_warnings(env: WebEnv) -> None:
    table = _priorities(env)[1]
    checked = 0
    for problem_id in _ranked(env)[:8]:
        row = table_row(table, f"/problems/{problem_id}")
        found = re.search(r"([\d,]+) active alerts?", row)
        on_priorities = _number(found.group(1)) if found else 0
        if not found:
            assert "No active alerts" in row
        summary = _alerts_page(env, str(problem_id))[0]
        assert _number(kpi_value(summary, "Alerts")) == on_priorities, problem_id
        checked += on_priorities > 0
    assert checked, "some top problem has alerts in the demo city"


# ---------------------------------------------------------------- "new" alerts


def _oldest_indicator(env: WebEnv) -> tuple[int, dt.date, str]:
    """The indicator whose latest value up to today is oldest: (id, period, cadence)."""
    with env.database.session() as session:
        latest = func.max(Observation.period)
        row = session.execute(
            select(Indicator.id, latest, Indicator.cadence)
            .join(Observation, Observation.indicator_id == Indicator.id)
            .where(Observation.period <= TODAY)
            .group_by(Indicator.id, Indicator.cadence)
            .order_by(latest, Indicator.id)
            .limit(1)
        ).one()
    return int(row[0]), row[1], str(row[2])


def _plant(env: WebEnv) -> tuple[int, int, int]:
    """An indicator alert first detected today about a value months old, a late-data alert
    first detected today, and a surge first seen today: their ids."""
    indicator_id, period, cadence = _oldest_indicator(env)
    data_end = period + dt.timedelta(days=CADENCE_DAYS[cadence] - 1)
    assert data_end < week_start(WEEK) - dt.timedelta(days=7), "the planted value is old"
    with env.database.session(write=True) as session:
        mapped = select(CategoryProblem.category_id)
        category_id = session.scalar(
            select(ReportCategory.id).where(ReportCategory.id.in_(mapped)).limit(1)
        )
        common = {"severity": "critical", "first_detected": TODAY, "last_detected": TODAY}
        old = Alert(
            dedupe_key="one-old-value",
            kind="threshold",
            method="threshold",
            series_key=f"indicator:{indicator_id}",
            indicator_id=indicator_id,
            observed=99.0,
            expected=10.0,
            message="One: an old value off target",
            **common,
        )
        late = Alert(
            dedupe_key="one-late",
            kind="stale",
            method="stale",
            series_key=f"indicator:{indicator_id}:stale",
            indicator_id=indicator_id,
            message="One: late data",
            **common,
        )
        surge = Alert(
            dedupe_key="one-surge",
            kind="surge",
            method="surge-7d",
            series_key="one:surge",
            category_id=category_id,
            observed=400.0,
            expected=3.0,
            message="One: a surge this week",
            **common,
        )
        session.add_all([old, late, surge])
        session.flush()
        return int(old.id), int(late.id), int(surge.id)


def test_one006_new_alerts_mean_the_same_on_priorities_brief_and_attention(
    tmp_path: Path,
) -> None:
    web = WebEnv.create(tmp_path)
    try:
        with web.app.server.test_request_context():
            flask.g.triage_principal = web.principal("mayor")
            priorities_cb.week_choice({"week": None}, principal=web.principal("mayor"))
            old_id, late_id, surge_id = _plant(web)
            with web.database.session() as session:
                data = week_priorities(session, WEEK, today=TODAY)
                changes = week_changes(data)
                brief = brief_data(
                    session,
                    WEEK,
                    today=TODAY,
                    city_name="Riverton",
                    generated_at=dt.datetime(2026, 11, 18, 8),
                )
                attention = week_attention(session, WEEK, today=TODAY)
                episodes = open_episodes(session)
            new_on_priorities = {int(i) for i in changes.new_alerts["id"]}
            assert surge_id in new_on_priorities
            assert old_id not in new_on_priorities and late_id not in new_on_priorities
            # The attention list's rule, applied to every open episode, finds the same set.
            start, end = week_start(WEEK), week_end(WEEK)
            by_rule = {e.alert_id for e in episodes if is_new(e, start, end)}
            assert new_on_priorities == by_rule

            brief_new = {a.message for a in brief.new_alerts}
            assert "One: a surge this week" in brief_new
            assert not brief_new & {"One: an old value off target", "One: late data"}
            assert len(brief.new_alerts) == len(new_on_priorities)

            listed = {i.alert_id for i in attention.items}
            assert old_id not in listed and late_id not in listed
            assert surge_id in listed or any(
                "new early warning" in i.reason for i in attention.items
            )

            # The page shows the same count, in its card and in "What changed".
            body = priorities_cb.priorities_view(WEEK, "all", 0, principal=web.principal("mayor"))
            card = texts(body[0])
            count = len(new_on_priorities)
            assert f"{count} new alert" in card
            assert f"New alerts ({count})" in texts(body[4])
            assert "One: a surge this week" in texts(body[4])
            assert "One: an old value off target" not in texts(body[4])
    finally:
        web.dispose()


# ---------------------------------------------------------------- the reports page's own range


def test_one007_reports_page_over_the_same_90_days_shows_the_tabs_count_as_filed(
    env: WebEnv,
) -> None:
    """The reports page counts its chosen range as filed, citywide; over the same 90 days its
    count is the reports tab's unweighted one, and its labels say range and scope, not the
    ranking's weighted figure."""
    start = TODAY - dt.timedelta(days=89)
    checked = 0
    with env.database.session() as session:
        every = set(lookups.districts(session, geometry=True)["id"].astype(int))
        citywide = []
        for p in _ranked(env):
            record = problem_record(session, p)
            assert record is not None
            if not record.district_ids or set(record.district_ids) >= every:
                citywide.append(p)
    for problem_id in citywide[:6]:
        tab = texts(problem_cb.section_content("reports", problem_id))
        filed = TAB_FILED.search(tab)
        if filed is None:
            continue
        cards, _trend = reports_cb.reports_summary(
            None,
            None,
            str(problem_id),
            start.isoformat(),
            TODAY.isoformat(),
            principal=env.principal("mayor"),
        )
        assert _number(kpi_value(cards, "Reports")) == _number(filed.group(1)), problem_id
        page = texts(cards)
        assert "over 90 days" in page and "citywide" in page
        assert f"{start.isoformat()} to {TODAY.isoformat()}" in page
        assert "as the ranking" not in page and "as the ranking" in tab
        checked += 1
    assert checked, "a city-wide problem with reports in the demo city"
