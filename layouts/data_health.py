"""Data health for the chief of staff: late indicator data by department, and how many recent
reports could not be placed in a district. Plain words, a link to each department's warnings;
never on the mayor's attention list (late data is a department-management matter)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

from dash import dcc, html

from layouts.components import Column, data_table, kpi_card, kpi_row, section


class LateDepartment(Protocol):
    """What the section reads of a department with late data (``db.pages.data_health``)."""

    code: str
    name: str
    late: int
    indicators: tuple[str, ...]


class DataHealth(Protocol):
    """What the section reads of ``db.pages.data_health.DataHealth`` (layouts never import db)."""

    late: Sequence[LateDepartment]
    indicators: int
    reports: int
    unlocated: int
    outside: int

    @property
    def late_total(self) -> int: ...


# The share of unplaced reports from which the figure is flagged.
PLACEMENT_WARNING = 0.05


def _share(part: int, whole: int) -> str:
    if whole <= 0:
        return "no reports"
    share = part / whole
    if part and share < 0.005:
        return "under 1%"
    return f"{share:.0%}"


def late_sentence(health: DataHealth) -> str:
    """``5 of 40 indicators are late, in 3 departments.`` or ``Every indicator is current.``"""
    total = health.late_total
    if total == 0:
        return f"Every one of the {health.indicators:,} indicators is current."
    departments = len(health.late)
    return (
        f"{total:,} of {health.indicators:,} indicators are late, in "
        f"{departments:,} department{'' if departments == 1 else 's'}."
    )


def placement_sentence(health: DataHealth, days: int) -> str:
    """Where the last ``days`` days of reports were placed, in words."""
    if health.reports == 0:
        return f"No reports in the last {days} days."
    unplaced = health.unlocated + health.outside
    return (
        f"Of {health.reports:,} reports in the last {days} days, {unplaced:,} "
        f"({_share(unplaced, health.reports)}) could not be placed in a district: "
        f"{health.unlocated:,} without a usable address, {health.outside:,} outside the city."
    )


def data_health_section(health: DataHealth, *, days: int = 90) -> html.Section:
    """The "Data health" section: two figures in cards, and the late indicators by department
    (each department a link to its warnings on the early-warnings page)."""
    unplaced = health.unlocated + health.outside
    share = unplaced / health.reports if health.reports else 0.0
    cards = kpi_row(
        [
            kpi_card(
                "Late indicators",
                f"{health.late_total:,}",
                f"of {health.indicators:,}; for their departments",
                tone="warning" if health.late_total else "success",
            ),
            kpi_card(
                "Reports not placed",
                _share(unplaced, health.reports),
                f"{unplaced:,} of {health.reports:,} in {days} days",
                tone="warning" if share >= PLACEMENT_WARNING else "neutral",
            ),
        ]
    )
    children: list[Any] = [
        html.P(
            [late_sentence(health), " ", placement_sentence(health, days)],
            className="section-note",
        ),
        cards,
    ]
    if health.late:
        rows = [
            {
                "department": dcc.Link(
                    d.name, href="/alerts?" + urlencode({"department": d.code, "state": "open"})
                ),
                "late": f"{d.late:,}",
                "which": ", ".join(d.indicators[:4])
                + (f" and {len(d.indicators) - 4} more" if len(d.indicators) > 4 else ""),
            }
            for d in health.late
        ]
        children.append(
            data_table(
                [
                    Column("Department", "department"),
                    Column("Late", "late", numeric=True),
                    Column("Indicators", "which"),
                ],
                rows,
                caption="Late indicators by department",
                row_header="department",
            )
        )
    return section("Data health", html.Div(children), class_name="data-health")
