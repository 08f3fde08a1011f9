"""Citizen reports callbacks: filter choices, summary and trend, categories and districts, the
most recent reports, and the address bar. Every filter is checked against the database first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash
from dash import Input, Output
from sqlalchemy.orm import Session

from callbacks.policy import (
    current_database,
    local_today,
    secured_callback,
    secured_clientside_callback,
)
from callbacks.query_sync import query_sync_js
from db import lookups
from db.cache import cached
from db.problems import problem_category_ids
from db.reports import (
    ReportFilters,
    cell_counts,
    daily_counts,
    district_propensity,
    district_totals,
    earliest_report_day,
    latest_report_day,
    recent_reports,
    top_categories,
    weekly_series,
)
from layouts import ids, reports
from triage.security import Capability, Principal

SYNC_QUERY_JS = query_sync_js(
    [
        ("category", "all"),
        ("district", "all"),
        ("problem", "all"),
        ("from", None),
        ("to", None),
        ("measure", "raw"),
    ]
)


@dataclass(frozen=True)
class Resolved:
    """The filters as the database understands them, with words for them and any corrections."""

    filters: ReportFilters
    category: str | None
    district: str | None
    problem: str | None
    notes: tuple[str, ...]

    @property
    def scope(self) -> str:
        return reports.scope_text(self.category, self.district, self.problem)


def _known_code(raw: Any, limit: int, read: Any, session: Any) -> tuple[bool, Any]:
    """(asked, row): whether the filter names a code rather than "all", and the row of
    ``read(session)`` with that code (None when unknown)."""
    code = reports.query_text(raw, limit)
    if not code or code == reports.ALL_VALUE:
        return False, None
    known = read(session)
    match = known[known["code"] == code]
    return True, None if match.empty else match.iloc[0]


def resolve_filters(
    session: Any, category: Any, district: Any, problem: Any, date_from: Any, date_to: Any
) -> Resolved:
    """Turn the raw filter values (user input) into ``ReportFilters``; unknown values are
    dropped with a note rather than trusted."""
    notes: list[str] = []
    category_ids: tuple[int, ...] | None = None
    category_name = district_name = problem_title = None
    asked, row = _known_code(category, 64, lookups.categories, session)
    if asked and row is None:
        notes.append("The category in the address is unknown, so all categories are shown.")
    elif asked:
        category_ids = (int(row["id"]),)
        category_name = str(row["name"])
    district_id = None
    asked, row = _known_code(district, 16, lookups.districts, session)
    if asked and row is None:
        notes.append("The district in the address is unknown, so all districts are shown.")
    elif asked:
        district_id = int(row["id"])
        district_name = str(row["name"])
    problem_text = reports.query_text(problem, 12)
    if problem_text and problem_text != reports.ALL_VALUE:
        known = lookups.problems(session, mapped_only=True)
        match = known[known["id"].astype(str) == problem_text]
        if match.empty:
            notes.append("The problem in the address has no categories, so it is ignored.")
        else:
            problem_title = str(match.iloc[0]["title"])
            mapped = problem_category_ids(session, int(match.iloc[0]["id"]))
            if category_ids is None:
                category_ids = mapped
            else:
                category_ids = tuple(c for c in category_ids if c in mapped)
                if not category_ids:
                    notes.append(f"“{category_name}” is not mapped to “{problem_title}”.")
    span = reports.date_range(
        date_from,
        date_to,
        latest=latest_report_day(session),
        today=local_today(),
    )
    return Resolved(
        ReportFilters(span.start, span.end, category_ids, district_id),
        category_name,
        district_name,
        problem_title,
        (*notes, *span.notes),
    )


def comparable(filters: ReportFilters, history_start: Any) -> bool:
    """Whether the reports reach back over the whole range a year earlier (else the
    comparison would set a full period against a partly counted one)."""
    return history_start is not None and history_start <= filters.last_year().date_from


def reports_filters(
    _page: Any, date_from: Any, date_to: Any, *, principal: Principal
) -> tuple[list, list, list, str, str]:
    """The choices of the three selects, and the date range with its defaults filled in."""
    with current_database().session() as session:
        categories = lookups.categories(session)
        districts = lookups.districts(session)
        problems = lookups.problems(session, mapped_only=True)
        span = reports.date_range(
            date_from,
            date_to,
            latest=latest_report_day(session),
            today=local_today(),
        )
    return (
        reports.select_options(
            list(zip(categories["code"], categories["name"], strict=True)), "All categories"
        ),
        reports.select_options(
            list(zip(districts["code"], districts["name"], strict=True)), "All districts"
        ),
        reports.select_options(
            [(str(i), str(t)) for i, t in zip(problems["id"], problems["title"], strict=True)],
            "All problems",
        ),
        span.start.isoformat(),
        span.end.isoformat(),
    )


def reports_summary(
    category: Any,
    district: Any,
    problem: Any,
    date_from: Any,
    date_to: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any]:
    """Headline cards and the weekly trend against the same weeks last year (computed once
    per data version and filters)."""
    with current_database().session() as session:
        chosen = resolve_filters(session, category, district, problem, date_from, date_to)
        return cached(
            session,
            "reports.summary",
            (chosen, local_today()),
            lambda: summary_content(session, chosen),
        )


def summary_content(session: Session, chosen: Resolved) -> tuple[Any, Any]:
    """The summary cards and the trend chart for resolved filters."""
    filters = chosen.filters
    current = daily_counts(session, filters)
    previous = daily_counts(session, filters.last_year())
    history = earliest_report_day(session)
    weekly = weekly_series(
        current, previous, filters.date_from, filters.date_to, history_start=history
    )
    total = int(current["count"].sum()) if len(current) else 0
    before = int(previous["count"].sum()) if len(previous) else 0
    cards = reports.summary(
        total,
        before if comparable(filters, history) else None,
        start=filters.date_from,
        end=filters.date_to,
        scope=chosen.scope,
        notes=chosen.notes,
        history_start=history,
    )
    return cards, reports.trend(weekly, scope=chosen.scope)


def reports_breakdown(
    category: Any,
    district: Any,
    problem: Any,
    date_from: Any,
    date_to: Any,
    measure: Any,
    *,
    principal: Principal,
) -> tuple[Any, Any]:
    """Top categories, and districts raw beside adjusted per 1,000 residents with the map
    (computed once per data version, filters and measure)."""
    with current_database().session() as session:
        chosen = resolve_filters(session, category, district, problem, date_from, date_to)
        shown = reports.clean_measure(measure)
        return cached(
            session,
            "reports.breakdown",
            (chosen, shown, local_today()),
            lambda: breakdown_content(session, chosen, shown),
        )


def breakdown_content(session: Session, chosen: Resolved, measure: str) -> tuple[Any, Any]:
    """The top categories and the district table and map for resolved filters."""
    filters = chosen.filters
    cells = cell_counts(session, filters)
    history = earliest_report_day(session)
    top = top_categories(session, filters, cells, comparable=comparable(filters, history))
    counts = district_totals(session, cells)
    propensity = district_propensity(session, filters.date_to)
    geometry = lookups.districts(session, geometry=True)
    rates = reports.district_rates(counts, propensity, filters.days)
    return (
        reports.categories(top, total=int(cells["count"].sum()) if len(cells) else 0),
        reports.districts(
            rates,
            geometry,
            measure=measure,
            start=filters.date_from,
            end=filters.date_to,
            as_of=filters.date_to,
        ),
    )


def reports_recent(
    category: Any,
    district: Any,
    problem: Any,
    date_from: Any,
    date_to: Any,
    *,
    principal: Principal,
) -> Any:
    """The 20 most recent matching reports, as plain text."""
    with current_database().session() as session:
        chosen = resolve_filters(session, category, district, problem, date_from, date_to)
        frame = recent_reports(session, chosen.filters)
    return reports.recent(frame)


MEASURE_INPUT = f"{ids.REPORTS_MEASURE_RADIO}.value"
PAGE_INPUT = f"{ids.REPORTS_PAGE_STORE}.data"


def reports_page(
    page: Any,
    category: Any,
    district: Any,
    problem: Any,
    date_from: Any,
    date_to: Any,
    measure: Any,
    *,
    principal: Principal,
    triggered: set[str] | None = None,
) -> tuple[Any, ...]:
    """The filters' choices and dates, summary and trend, categories and districts, recent
    reports in one answer: on load one round trip and one re-render where a chain (the
    filters' choices and default dates, then three callbacks on them) took two round trips
    and four. The dates are both inputs and outputs: on load (``page``) ``reports_filters``
    fills in their defaults, which the rest then uses. When only the measure changed
    (``triggered``: the changed inputs as ``"id.property"``, from the callback context when
    not given), only the breakdown.

    Outputs: the three selects' options, from, to, summary, trend, categories, districts,
    recent reports."""
    if triggered is None:
        fired = {t["prop_id"] for t in dash.callback_context.triggered if t.get("prop_id")}
        triggered = fired - {"."}
    if not triggered or PAGE_INPUT in triggered:
        choices: tuple[Any, ...] = reports_filters(page, date_from, date_to, principal=principal)
        date_from, date_to = choices[3], choices[4]
    else:
        choices = (dash.no_update,) * 5
    filters = (category, district, problem, date_from, date_to)
    breakdown = reports_breakdown(*filters, measure, principal=principal)
    if triggered and triggered <= {MEASURE_INPUT}:
        return (*choices, dash.no_update, dash.no_update, *breakdown, dash.no_update)
    summary = reports_summary(*filters, principal=principal)
    recent = reports_recent(*filters, principal=principal)
    return (*choices, *summary, *breakdown, recent)


def register(app: dash.Dash) -> None:
    filters = (
        Input(ids.REPORTS_CATEGORY_SELECT, "value"),
        Input(ids.REPORTS_DISTRICT_SELECT, "value"),
        Input(ids.REPORTS_PROBLEM_SELECT, "value"),
        Input(ids.REPORTS_FROM_INPUT, "value"),
        Input(ids.REPORTS_TO_INPUT, "value"),
    )
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.REPORTS_CATEGORY_SELECT, "options"),
        Output(ids.REPORTS_DISTRICT_SELECT, "options"),
        Output(ids.REPORTS_PROBLEM_SELECT, "options"),
        Output(ids.REPORTS_FROM_INPUT, "value"),
        Output(ids.REPORTS_TO_INPUT, "value"),
        Output(ids.REPORTS_SUMMARY_DIV, "children"),
        Output(ids.REPORTS_TREND_DIV, "children"),
        Output(ids.REPORTS_CATEGORIES_DIV, "children"),
        Output(ids.REPORTS_DISTRICTS_DIV, "children"),
        Output(ids.REPORTS_RECENT_DIV, "children"),
        Input(ids.REPORTS_PAGE_STORE, "data"),
        *filters,
        Input(ids.REPORTS_MEASURE_RADIO, "value"),
    )(reports_page)
    secured_clientside_callback(
        app,
        SYNC_QUERY_JS,
        Output(ids.REPORTS_QUERY_STORE, "data"),
        *filters,
        Input(ids.REPORTS_MEASURE_RADIO, "value"),
        prevent_initial_call=True,
    )
