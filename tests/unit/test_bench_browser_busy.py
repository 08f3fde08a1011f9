"""``triage bench browser`` says when the machine was already busy as the run began."""

from __future__ import annotations

from triage.cli.bench_browser import busy_machine, format_table


def _result(load_before: float | None) -> dict[str, object]:
    floor = {
        "user": "-",
        "cold_ms": 50.0,
        "p50_ms": 49.0,
        "p95_ms": 55.0,
        "max_ms": 55.0,
        "timeouts": 0,
        "waiting": [],
        "requests": 0.0,
        "last_response_ms": 0.0,
        "callback_kb": 0.0,
        "long_task_ms": 0.0,
        "dom_nodes": 28,
    }
    return {
        "runs": 5,
        "scale": "city",
        "seed": 7,
        "today": "2026-12-07",
        "database": "sqlite:///x",
        "chromium": "156",
        "load_average_before": load_before,
        "load_average_after": 2.8,
        "cpus": 2,
        "sizes": {"desktop": {"viewport": [1440, 900], "floor": floor, "pages": {}}},
        "within_budget": True,
        "over_budget": [],
    }


def test_bbr010_a_busy_machine_is_named_in_the_figures() -> None:
    assert busy_machine(0.63, 2) is None
    assert busy_machine(None, 2) is None
    assert busy_machine(4.0, None) is None
    warning = busy_machine(1.0, 2)
    assert warning is not None and "load average 1 on 2 CPUs" in warning
    assert "WARNING: the machine was busy" in format_table(_result(4.04))
    assert "WARNING" not in format_table(_result(0.63))


def test_bbr011_a_chart_drawn_on_scrolling_has_the_page_budget() -> None:
    """The longest wait for a chart after scrolling to it is summarised per page (p95 of the
    loads); a chart that never came is a timeout, not a fast page."""
    from triage.cli.bench_browser import summarise

    def load(settled: float, waits: list[float | None]) -> dict[str, object]:
        return {"settled_ms": settled, "timeout": False, "waiting": "", "url": "/actors",
                "scroll_waits": waits}  # fmt: skip

    quick = summarise([load(900, [80, 120]), load(700, [60, 90]), load(720, [70, 300])])
    assert quick["charts_on_scroll"] == 2
    assert quick["scroll_timeouts"] == 0
    assert 120 <= quick["scroll_p95_ms"] <= 300
    lost = summarise([load(900, [80]), load(700, [60, None])])
    assert lost["scroll_timeouts"] == 1
    assert lost["scroll_p95_ms"] is None
    none = summarise([load(300, []), load(310, [])])
    assert none["charts_on_scroll"] == 0 and none["scroll_p95_ms"] is None
