"""Citizen reports: trends against last year, top categories, districts raw and adjusted, a map.

Every filter lives in the query string (``/reports?category=pothole&district=D04&from=2026-06-01
&to=2026-11-22&problem=3&measure=adjusted``); ``layout`` is a skeleton and callbacks fill it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from layouts import ids
from layouts.components import (
    Column,
    chart_block,
    data_table,
    empty_state,
    format_date,
    humanize,
    kpi_card,
    kpi_row,
    loading,
    notice,
    page_header,
    section,
)
from layouts.figures import (
    category_bars_figure,
    district_map_figure,
    district_rates_figure,
    fit_title,
    weekly_reports_figure,
)

ALL_VALUE = "all"
MEASURES = {"raw": "As reported", "adjusted": "Adjusted for reporting habits"}
MAP_MEASURES = {"raw": "As reported", "adjusted": "Adjusted"}  # short, for the map's title
DEFAULT_WEEKS = 26
MAX_RANGE_DAYS = 2 * 366
EARLIEST_DAY = dt.date(2000, 1, 1)
REPORT_STATUS_TONES = {"open": "warning", "closed": "success", "in_progress": "info"}


def query_text(value: Any, limit: int = 100) -> str:
    """A query-string value as a short plain string (it is user input: never trusted)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()[:limit]


def parse_day(value: Any) -> dt.date | None:
    """An ISO date from the URL or a date input, or None when it is not one."""
    text = query_text(value, 10)
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def clean_measure(value: Any) -> str:
    text = query_text(value)
    return text if text in MEASURES else "raw"


@dataclass(frozen=True)
class DateRange:
    """The chosen days (inclusive) and what was corrected on the way."""

    start: dt.date
    end: dt.date
    notes: tuple[str, ...] = field(default_factory=tuple)


def date_range(
    date_from: Any, date_to: Any, *, latest: dt.date | None, today: dt.date
) -> DateRange:
    """The range to show: the typed dates when valid, else the last 26 weeks of data.

    The end defaults to the latest day with reports (never after ``today``); the start to the
    Monday 25 weeks before the end's week. A reversed range is swapped; a range longer than
    two years is cut to its last two years.
    """
    notes: list[str] = []
    start, end = parse_day(date_from), parse_day(date_to)
    if date_from and start is None:
        notes.append("The start date was not a date (use YYYY-MM-DD), so the default is shown.")
    if date_to and end is None:
        notes.append("The end date was not a date (use YYYY-MM-DD), so the default is shown.")
    default_end = min(latest or today, today)
    end = min(end or default_end, today)
    if start is None:
        monday = end - dt.timedelta(days=end.weekday())
        start = monday - dt.timedelta(weeks=DEFAULT_WEEKS - 1)
    start = max(start, EARLIEST_DAY)
    if start > end:
        start, end = end, start
        notes.append("The start date was after the end date, so they were swapped.")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        start = end - dt.timedelta(days=MAX_RANGE_DAYS - 1)
        notes.append("Ranges are limited to two years; the last two years are shown.")
    return DateRange(start, end, tuple(notes))


def _select(label: str, component_id: str, value: str, first: str) -> html.Div:
    options = [{"label": first, "value": ALL_VALUE}]
    if value != ALL_VALUE:
        options.append({"label": value, "value": value})
    return html.Div(
        [
            dbc.Label(label, html_for=component_id),
            dbc.Select(id=component_id, options=options, value=value),
        ],
        className="filter-field",
    )


def layout(
    category: Any = None,
    district: Any = None,
    problem: Any = None,
    measure: Any = None,
    **kwargs: Any,
) -> html.Div:
    """Skeleton: filters preset from the query string (``from`` and ``to`` are dates)."""
    date_from = parse_day(kwargs.get("from"))
    date_to = parse_day(kwargs.get("to"))
    return html.Div(
        [
            dcc.Store(id=ids.REPORTS_PAGE_STORE, data=1),
            dcc.Store(id=ids.REPORTS_QUERY_STORE),
            page_header(
                "Citizen reports",
                "What residents report to 311: how it trends against last year, which "
                "categories and districts, and where, with reporting habits taken into account.",
            ),
            html.Div(
                [
                    _select(
                        "Category",
                        ids.REPORTS_CATEGORY_SELECT,
                        query_text(category, 64) or ALL_VALUE,
                        "All categories",
                    ),
                    _select(
                        "District",
                        ids.REPORTS_DISTRICT_SELECT,
                        query_text(district, 16) or ALL_VALUE,
                        "All districts",
                    ),
                    _select(
                        "Problem",
                        ids.REPORTS_PROBLEM_SELECT,
                        query_text(problem, 12) or ALL_VALUE,
                        "All problems",
                    ),
                    html.Div(
                        [
                            dbc.Label("From", html_for=ids.REPORTS_FROM_INPUT),
                            dbc.Input(
                                id=ids.REPORTS_FROM_INPUT,
                                type="date",
                                value=date_from.isoformat() if date_from else None,
                                debounce=True,
                            ),
                        ],
                        className="filter-field filter-date",
                    ),
                    html.Div(
                        [
                            dbc.Label("To", html_for=ids.REPORTS_TO_INPUT),
                            dbc.Input(
                                id=ids.REPORTS_TO_INPUT,
                                type="date",
                                value=date_to.isoformat() if date_to else None,
                                debounce=True,
                            ),
                        ],
                        className="filter-field filter-date",
                    ),
                ],
                className="filter-bar",
                role="search",
                **{"aria-label": "Filter citizen reports"},
            ),
            loading(html.Div(id=ids.REPORTS_SUMMARY_DIV, className="kpi-slot")),
            section(
                "Trend",
                loading(html.Div(id=ids.REPORTS_TREND_DIV, className="chart-slot")),
            ),
            section(
                "Top categories",
                loading(html.Div(id=ids.REPORTS_CATEGORIES_DIV, className="chart-slot")),
            ),
            section(
                "Districts",
                html.Div(
                    [
                        html.Fieldset(
                            [
                                html.Legend("The map shows reports", className="form-label"),
                                dbc.RadioItems(
                                    id=ids.REPORTS_MEASURE_RADIO,
                                    options=[{"label": v, "value": k} for k, v in MEASURES.items()],
                                    value=clean_measure(measure),
                                    inline=True,
                                ),
                            ],
                            className="filter-field filter-fieldset",
                        ),
                        loading(html.Div(id=ids.REPORTS_DISTRICTS_DIV, className="chart-slot")),
                    ]
                ),
            ),
            section(
                "Most recent reports",
                loading(html.Div(id=ids.REPORTS_RECENT_DIV, className="table-slot")),
            ),
        ]
    )


def select_options(values: Sequence[tuple[str, str]], first: str) -> list[dict[str, str]]:
    """``[(value, label), ...]`` as select options after an "All ..." choice."""
    return [{"label": first, "value": ALL_VALUE}] + [
        {"label": label, "value": value} for value, label in values
    ]


# ---------------------------------------------------------------- presenters


def _change(now: float, before: float) -> str:
    if before <= 0:
        return "no reports in the same period last year" if now else "none last year either"
    pct = (now - before) / before * 100
    sign = "+" if pct >= 0 else "−"
    return f"{sign}{abs(pct):.0f}% on last year's {before:,.0f}"


def summary(
    total: int,
    last_year: int | None,
    *,
    start: dt.date,
    end: dt.date,
    scope: str,
    notes: Sequence[str] = (),
    history_start: dt.date | None = None,
) -> html.Div:
    """Headline cards for the filtered reports, with any correction of the filters above.

    ``last_year`` is None when the history does not reach back over the same period a year
    earlier: the comparison is then left out rather than set against a partial count.
    """
    days = (end - start).days + 1
    if last_year is None:
        since = f"reports start on {history_start.isoformat()}" if history_start else "no reports"
        against = kpi_card("Against last year", "—", f"Not comparable: {since}.")
    else:
        against = kpi_card(
            "Against last year", _pct_value(total, last_year), _change(total, last_year)
        )
    cards = [
        kpi_card(
            "Showing", scope[:1].upper() + scope[1:], f"{start.isoformat()} to {end.isoformat()}"
        ),
        kpi_card("Reports", f"{total:,}", f"over {days} days", tone="info"),
        kpi_card("Per week", f"{total / days * 7:,.0f}", "on average over the range"),
        against,
    ]
    children: list[Any] = []
    if notes:
        children.append(notice(html.Ul([html.Li(n) for n in notes]), "warning"))
    children.append(kpi_row(cards))
    return html.Div(children)


def _pct_value(now: float, before: float) -> str:
    if before <= 0:
        return "—"
    pct = (now - before) / before * 100
    return f"{'+' if pct >= 0 else '−'}{abs(pct):.0f}%"


def trend(weekly: pd.DataFrame, *, scope: str) -> Any:
    """Weekly counts against the same weeks a year earlier, with a table of every week."""
    if weekly.empty or int(weekly["count"].sum()) == 0:
        return empty_state(
            "No reports match these filters.",
            "Widen the date range or choose another category, district or problem.",
        )
    title = f"Reports per week: {scope}"
    figure = weekly_reports_figure(weekly, "Reports per week", subtitle=scope)
    full = weekly[weekly["days"] == 7]
    basis = full if len(full) else weekly
    average = float(basis["count"].mean())
    peak = weekly.loc[weekly["count"].idxmax()]
    sentence = (
        f"{int(weekly['count'].sum()):,} reports over {len(weekly)} weeks, "
        f"{average:,.0f} in an average full week; the busiest was the week of "
        f"{format_date(peak['week_start'])} with {int(peak['count']):,}."
    )
    known = weekly["last_year"].notna()
    if known.all():
        before = float(weekly["last_year"].sum())
        now = float(weekly["count"].sum())
        sentence += f" Against the same weeks last year: {_change(now, before)}."
    elif known.any():
        sentence += (
            f" Only {int(known.sum())} of the {len(weekly)} weeks have reports from a year "
            "earlier to compare with; the dashed line shows those."
        )
    else:
        sentence += " There are no reports from the same weeks last year to compare with."
    partial = weekly[weekly["days"] < 7]
    if len(partial):
        sentence += " The first or last week is partial: only its days inside the range count."
    rows = [
        {
            "week": format_date(r.week_start),
            "count": f"{int(r.count):,}" + (f" ({int(r.days)} days)" if r.days < 7 else ""),
            "last_year": "—" if pd.isna(r.last_year) else f"{r.last_year:,.0f}",
        }
        for r in weekly.itertuples(index=False)
    ]
    table = data_table(
        [
            Column("Week of", "week"),
            Column("Reports", "count", numeric=True),
            Column("Same week last year", "last_year", numeric=True),
        ],
        rows,
        caption=title,
        row_header="week",
    )
    return chart_block(figure, label=title, summary=sentence, table=table)


def categories(frame: pd.DataFrame, *, total: int) -> Any:
    """The top categories as bars against the same period last year, with a table."""
    if frame.empty:
        return empty_state("No reports match these filters.")
    title = "Top categories: reports in the selected period and the same period last year"
    top = frame.iloc[0]
    share = int(top["count"]) / total * 100 if total else 0
    sentence = (
        f"{top['name']} leads with {int(top['count']):,} reports ({share:.0f}% of all "
        f"matching reports); the chart shows the top {len(frame)}."
    )
    rows = [
        {
            "name": r.name,
            "count": f"{int(r.count):,}",
            "last_year": "—" if pd.isna(r.last_year) else f"{r.last_year:,.0f}",
            "change": "—" if pd.isna(r.last_year) else _pct_value(float(r.count), r.last_year),
        }
        for r in frame.itertuples(index=False)
    ]
    table = data_table(
        [
            Column("Category", "name"),
            Column("Reports", "count", numeric=True),
            Column("Same period last year", "last_year", numeric=True),
            Column("Change", "change", numeric=True),
        ],
        rows,
        caption=title,
        row_header="name",
    )
    return chart_block(
        category_bars_figure(frame, "Top categories vs a year earlier"),
        label=title,
        summary=sentence,
        table=table,
    )


def district_rates(counts: pd.DataFrame, propensity: pd.DataFrame, days: int) -> pd.DataFrame:
    """Per district: raw and adjusted reports per 1,000 residents over the range.

    In: ``district_counts`` (district_id, code, name, population, count) and
    ``district_propensity`` (district_id, adjustment). Out adds adjustment, adjusted,
    raw_per_1k, adjusted_per_1k; districts without residents get NaN rates.
    """
    adjustment = (
        dict(zip(propensity["district_id"].astype(int), propensity["adjustment"], strict=True))
        if len(propensity)
        else {}
    )
    frame = counts.assign(
        adjustment=[float(adjustment.get(int(d), 1.0)) for d in counts["district_id"]]
    )
    population = frame["population"].astype(float).where(frame["population"].astype(float) > 0)
    frame = frame.assign(adjusted=frame["count"].astype(float) * frame["adjustment"])
    return frame.assign(
        raw_per_1k=frame["count"].astype(float) / population * 1000,
        adjusted_per_1k=frame["adjusted"] / population * 1000,
        days=days,
    )


def districts(
    rates: pd.DataFrame,
    geometry: pd.DataFrame,
    *,
    measure: str,
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
) -> Any:
    """Raw beside adjusted rates per district, the map, and a table of every number."""
    if rates.empty:
        return empty_state("No districts recorded.", "Districts come with the city's boundaries.")
    if int(rates["count"].sum()) == 0:
        return empty_state("No reports match these filters.")
    days = (end - start).days + 1
    unit = "reports per 1,000 residents"
    ordered = rates.sort_values("adjusted_per_1k", ascending=False, na_position="last")
    bars_title = f"Reports per 1,000 residents by district, {days} days"
    column = "adjusted_per_1k" if measure == "adjusted" else "raw_per_1k"
    map_title = f"{MEASURES[measure]}: reports per 1,000 residents"
    values = {
        int(r.district_id): float(getattr(r, column))
        for r in rates.itertuples(index=False)
        if not math.isnan(float(getattr(r, column)))
    }
    top_raw = rates.loc[rates["raw_per_1k"].idxmax()] if rates["raw_per_1k"].notna().any() else None
    top_adj = ordered.iloc[0]
    lifted = rates[rates["adjustment"] >= 1.2].sort_values("adjustment", ascending=False)
    explanation = (
        "Adjusted: each district's reports are scaled by how readily its residents report to "
        f"311 (learnt from all reports over the year to {as_of.isoformat()}): a district filing "
        "fewer reports than its population and need predict counts more, one filing more counts "
        "less."
    )
    sentence = f"Most reports per resident after adjustment: {top_adj['name']} "
    sentence += f"({top_adj['adjusted_per_1k']:,.1f} per 1,000)"
    if top_raw is not None and top_raw["name"] != top_adj["name"]:
        sentence += f"; before adjustment it was {top_raw['name']} ({top_raw['raw_per_1k']:,.1f})"
    sentence += "."
    if len(lifted):
        first = lifted.iloc[0]
        sentence += (
            f" {first['name']}'s reports count {first['adjustment']:.1f}x (under-reporting)."
        )
    rows = [
        {
            "name": r.name,
            "count": f"{int(r.count):,}",
            "population": f"{int(r.population):,}",
            "raw": "—" if math.isnan(r.raw_per_1k) else f"{r.raw_per_1k:,.1f}",
            "factor": f"{r.adjustment:.2f}x",
            "adjusted": "—" if math.isnan(r.adjusted_per_1k) else f"{r.adjusted_per_1k:,.1f}",
        }
        for r in ordered.itertuples(index=False)
    ]
    table = data_table(
        [
            Column("District", "name"),
            Column("Reports", "count", numeric=True),
            Column("Residents", "population", numeric=True),
            Column("Per 1,000, as reported", "raw", numeric=True),
            Column("Adjustment", "factor", numeric=True),
            Column("Per 1,000, adjusted", "adjusted", numeric=True),
        ],
        rows,
        caption=bars_title,
        row_header="name",
    )
    bars = chart_block(
        district_rates_figure(
            ordered[["name", "raw_per_1k", "adjusted_per_1k"]],
            fit_title(f"Per 1,000 residents, {days} days"),
            unit,
        ),
        label=bars_title,
        summary=sentence + " " + explanation,
        table=table,
    )
    map_values = dict(values)
    district_map = chart_block(
        district_map_figure(
            geometry,
            map_values,
            fit_title(f"{MAP_MEASURES[measure]}, per 1,000 residents"),
            "per 1,000",
        ),
        label=f"Map of the districts coloured by {map_title.lower()}",
        summary=(
            f"Darker districts filed more reports per 1,000 residents "
            f"({MEASURES[measure].lower()}) over the selected {days} days; grey means no "
            "residents recorded. Every number is in the table under the bar chart."
        ),
    )
    return html.Div([bars, district_map], className="district-pair")


def recent(frame: pd.DataFrame) -> Any:
    """The most recent matching reports as plain text (descriptions are never rendered as HTML)."""
    if frame.empty:
        return empty_state("No reports match these filters.")
    rows = [
        {
            "at": format_date(r.requested_at),
            "category": r.category or "—",
            "district": r.district or "Outside the districts",
            "status": html.Span(
                humanize(r.status),
                className=f"status-badge tone-{REPORT_STATUS_TONES.get(str(r.status), 'neutral')}",
            ),
            "description": html.Span(
                [
                    html.Span(r.description or "No description", className="report-text"),
                    html.Span(r.address, className="cell-meta") if r.address else None,
                ],
                className="cell-stack",
            ),
        }
        for r in frame.itertuples(index=False)
    ]
    return html.Div(
        [
            html.P(
                f"The {len(frame)} most recent reports matching the filters, newest first.",
                className="table-count",
            ),
            data_table(
                [
                    Column("Reported", "at"),
                    Column("Category", "category"),
                    Column("District", "district"),
                    Column("Status", "status"),
                    Column("What the resident wrote", "description"),
                ],
                rows,
                caption="The most recent matching reports",
                row_header="at",
                stack_on_phone=True,  # what the resident wrote was off a phone's screen
            ),
        ]
    )


def scope_text(category: str | None, district: str | None, problem: str | None) -> str:
    """``"potholes in Westbank"``-style words for the chosen filters."""
    parts = [category or ("reports on " + problem if problem else "all categories")]
    if category and problem:
        parts = [f"{category} (for {problem})"]
    parts.append(f"in {district}" if district else "citywide")
    return " ".join(parts)
