"""My department for a department head, through its callback functions: the update form's
details and period due, the plausibility question, the status the numbers give, the overdue
sentence, the alerts on her own indicators and her answers to them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callbacks import department
from db.frames import count_rows
from db.indicators import indicator_status
from db.models import Alert, AuditLog, Indicator, Observation, User
from layouts import department as department_layout
from tests.clock import TODAY
from tests.webutil import WebEnv, texts
from triage.indicators import next_period, period_start, previous_period
from triage.security import PermissionDenied, Principal

CURRENT = period_start(TODAY, "monthly")
BUS_HISTORY = [58_912, 59_406, 61_020, 60_338, 59_877, 60_990, 61_240, 60_338]
RAW_MISSING = re.compile(r"\b(nan|NaN|None|NaT)\b")


def months_before(start: dt.date, count: int) -> dt.date:
    for _ in range(count):
        start = previous_period(start, "monthly")
    return start


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    with web.app.server.test_request_context():
        yield web
    web.dispose()


@pytest.fixture
def head(env: WebEnv) -> Principal:
    principal = env.principal(env.head_username())
    assert principal.department_id is not None
    return principal


def add_indicator(
    env: WebEnv,
    department_id: int,
    code: str,
    values: list[float],
    last_period: dt.date,
    **fields: object,
) -> int:
    """A monthly indicator whose history ends at ``last_period`` (one value a month)."""
    settings = {
        "name": f"{code} indicator",
        "unit": "riders",
        "direction": "up",
        "cadence": "monthly",
        "target": 62_000.0,
        "warning_threshold": 58_000.0,
        "critical_threshold": 50_000.0,
    }
    settings.update(fields)
    with env.database.session(write=True) as session:
        indicator = Indicator(code=code, department_id=department_id, **settings)
        session.add(indicator)
        session.flush()
        period = months_before(last_period, len(values) - 1)
        for value in values:
            session.add(Observation(indicator_id=indicator.id, period=period, value=value))
            period = next_period(period, "monthly")
        return indicator.id


def add_alert(env: WebEnv, indicator_id: int, kind: str, message: str, method: str = "test") -> int:
    with env.database.session(write=True) as session:
        alert = Alert(
            dedupe_key=f"{kind}|test-{indicator_id}",
            kind=kind,
            method=method,
            severity="warning",
            series_key=f"indicator:{indicator_id}",
            indicator_id=indicator_id,
            first_detected=TODAY,
            last_detected=TODAY,
            message=message,
            state="new",
            state_reason="",
        )
        session.add(alert)
        session.flush()
        return alert.id


def bus(env: WebEnv, head: Principal) -> int:
    assert head.department_id is not None
    return add_indicator(
        env, head.department_id, "BUS-RIDERS", BUS_HISTORY, previous_period(CURRENT, "monthly")
    )


def late(env: WebEnv, head: Principal) -> int:
    """Monthly, latest value four months back: overdue."""
    assert head.department_id is not None
    return add_indicator(
        env,
        head.department_id,
        "LATE-1",
        [40.0, 42.0, 41.0, 43.0],
        months_before(CURRENT, 4),
        name="Library visits per 1,000 residents",
        unit="visits",
        target=45.0,
        warning_threshold=None,
        critical_threshold=None,
    )


def observations(env: WebEnv) -> int:
    with env.database.session() as session:
        return count_rows(session, Observation)


def test_dept102_details_show_what_the_form_needs(env: WebEnv, head: Principal) -> None:
    details, period = department.indicator_details_view(str(bus(env, head)), 0, principal=head)
    text = texts(details)
    last = previous_period(CURRENT, "monthly").isoformat()
    for expected in (
        "Unit riders",
        "Which way is better Higher is better",
        f"Last value 60,338 riders for {last}",
        "Target 62,000 riders",
        "Reported Every month",
        f"Period due {CURRENT.isoformat()}",
    ):
        assert expected in text, (expected, text)
    assert period == CURRENT.isoformat()  # the period defaults to the one due, not today


def test_dept102_period_due_of_an_overdue_indicator(env: WebEnv, head: Principal) -> None:
    details, period = department.indicator_details_view(str(late(env, head)), 0, principal=head)
    due = months_before(CURRENT, 3).isoformat()
    assert period == due
    assert f"Period due {due} (overdue)" in texts(details)


def test_dept102_details_of_another_department_are_not_shown(env: WebEnv, head: Principal) -> None:
    assert head.department_id is not None
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    details, period = department.indicator_details_view(str(foreign), 0, principal=head)
    assert "Choose an indicator" in texts(details)
    assert not isinstance(period, str)  # no_update


def test_dept102_implausible_value_asks_before_saving(env: WebEnv, head: Principal) -> None:
    indicator = bus(env, head)
    period = CURRENT.isoformat()
    before = observations(env)
    feedback, saved, value, _note, pending = department.record_value(
        1, str(indicator), period, "17", "unchanged", "", 0, principal=head
    )
    assert not isinstance(saved, int) and not isinstance(value, str)  # the form is kept
    text = texts(feedback)
    assert "Is this value right? Nothing was saved yet." in text
    assert "17 is less than 1/5 of the usual value (median 60,338" in text
    assert pending == department.confirm_key(indicator, period, 17.0)
    assert observations(env) == before
    # Another value is a new question, not the confirmed one.
    feedback, *_rest, other = department.record_value(
        1, str(indicator), period, "18", "unchanged", "", 0, pending, principal=head
    )
    assert "Is this value right?" in texts(feedback) and other != pending
    assert observations(env) == before
    # Pressing Save again with the same value confirms it.
    feedback, saved, _value, _note, pending = department.record_value(
        1, str(indicator), period, "17", "unchanged", "", 0, pending, principal=head
    )
    assert "Saved 17 riders" in texts(feedback)
    assert (saved, pending) == (1, None)
    assert observations(env) == before + 1


def test_dept102_status_is_worked_out_when_none_is_given(env: WebEnv, head: Principal) -> None:
    indicator = bus(env, head)
    feedback, *_ = department.record_value(
        1, str(indicator), CURRENT.isoformat(), "55,000", "unchanged", "", 0, principal=head
    )
    assert (
        "Status worked out from the numbers: at risk, against the target of 62,000 riders "
        "(higher is better)." in texts(feedback)
    )
    with env.database.session() as session:
        row = indicator_status(session, today=TODAY, indicator_ids=[indicator]).iloc[0]
    assert row["latest_status"] == "at_risk" and row["latest_value"] == 55_000


def test_dept102_disagreeing_status_shows_both(env: WebEnv, head: Principal) -> None:
    indicator = bus(env, head)
    feedback, saved, *_ = department.record_value(
        1, str(indicator), CURRENT.isoformat(), "52000", "on_track", "", 0, principal=head
    )
    assert (
        "You marked it on track; the numbers say at risk against the target of 62,000 riders "
        "(higher is better)." in texts(feedback)
    )
    table, _options, _recent = department.department_view(None, saved, principal=head)
    assert "Reported on track; the numbers say at risk" in texts(table)


def test_dept102_saving_an_older_period_says_still_overdue(env: WebEnv, head: Principal) -> None:
    indicator = late(env, head)
    due = months_before(CURRENT, 3)
    feedback, saved, *_ = department.record_value(
        1, str(indicator), due.isoformat(), "44", "unchanged", "", 0, principal=head
    )
    text = texts(feedback)
    assert f"Saved 44 visits for LATE-1 Library visits per 1,000 residents ({due})" in text
    assert f"This indicator is still overdue: its newest value is for {due}." in text
    assert f"Record the value for {months_before(CURRENT, 2)} to bring it up to date." in text
    # The form moves on to the next period due.
    _details, period = department.indicator_details_view(str(indicator), saved, principal=head)
    assert period == months_before(CURRENT, 2).isoformat()


def test_dept102_up_to_date_save_says_nothing_about_overdue(env: WebEnv, head: Principal) -> None:
    indicator = bus(env, head)
    feedback, saved, *_ = department.record_value(
        1, str(indicator), CURRENT.isoformat(), "60100", "", "", 0, principal=head
    )
    assert "Saved" in texts(feedback) and "overdue" not in texts(feedback)
    details, period = department.indicator_details_view(str(indicator), saved, principal=head)
    following = next_period(CURRENT, "monthly").isoformat()
    assert f"Period due Up to date; the next period is {following}" in texts(details)
    assert period is None  # up to date: never the period just filled, nor a future one


def test_dept102_table_says_which_way_is_better(env: WebEnv, head: Principal) -> None:
    bus(env, head)
    table, _options, _recent = department.department_view(None, 0, principal=head)
    text = texts(table)
    assert "Target (which way is better)" in text
    assert "Higher is better" in text and "Lower is better" in text  # ECON has both


def test_dept102_alerts_on_own_indicators_with_late_data_as_overdue(
    env: WebEnv, head: Principal
) -> None:
    assert head.department_id is not None
    late_id, bus_id = late(env, head), bus(env, head)
    stale = add_alert(env, late_id, "stale", "No value for Library visits since August.")
    breach = add_alert(
        env, bus_id, "threshold", "Bus riders below the critical threshold.", "threshold-critical"
    )
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    other = add_alert(env, foreign, "stale", "Another department's late value.")
    listing, options = department.department_alerts_view(None, 0, 0, principal=head)
    text = texts(listing)
    assert " ".join(text.split()).count("Overdue LATE-1 · Library visits per 1,000 residents") == 1
    assert "No value for Library visits since August." in text
    assert "Another department's late value." not in text
    values = [o["value"] for o in options]
    assert values[0] == str(stale)  # late data first
    assert options[0]["label"] == "Overdue: LATE-1 · Library visits per 1,000 residents"
    assert str(breach) in values and str(other) not in values
    assert "1 overdue value" in text and "not yet answered" in text
    # The badge names the threshold the message speaks of, not the city-wide severity
    # (stored as Warning here), which read as a contradiction beside "critical threshold".
    flat = " ".join(text.split())
    assert "Past critical threshold" in flat and "Warning · Threshold" not in flat


def test_dept102_head_acknowledges_and_answers_her_alert(env: WebEnv, head: Principal) -> None:
    alert = add_alert(env, late(env, head), "stale", "Late.")
    feedback, changed, note = department.apply_alert_answer(
        "acknowledge", str(alert), "", 0, principal=head
    )
    assert "Acknowledged Overdue: LATE-1" in texts(feedback) and (changed, note) == (1, "")
    feedback, changed, _ = department.apply_alert_answer(
        "answer", str(alert), "late because the survey closes on the 15th", 1, principal=head
    )
    assert "Answer saved" in texts(feedback) and changed == 2
    with env.database.session() as session:
        stored = session.get(Alert, alert)
        assert stored is not None and stored.state == "acknowledged"
        assert stored.state_reason == "late because the survey closes on the 15th"
        actions = session.scalars(
            select(AuditLog.action).where(
                AuditLog.entity == "alert", AuditLog.entity_id == str(alert)
            )
        ).all()
        assert sorted(actions) == ["acknowledge", "answer"]
    listing, _ = department.department_alerts_view(None, changed, 0, principal=head)
    assert "Your answer: late because the survey closes on the 15th" in texts(listing)


def test_dept102_answer_needs_words(env: WebEnv, head: Principal) -> None:
    alert = add_alert(env, late(env, head), "stale", "Late.")
    feedback, changed, _ = department.apply_alert_answer(
        "answer", str(alert), "   ", 0, principal=head
    )
    assert "The alert was not changed:" in texts(feedback) and not isinstance(changed, int)


def test_dept102_head_cannot_answer_another_departments_alert(env: WebEnv, head: Principal) -> None:
    assert head.department_id is not None
    foreign = env.indicator_ids(department_id=head.department_id, own=False)[0]
    alert = add_alert(env, foreign, "stale", "Theirs.")
    with env.database.session() as session:
        audits = session.scalar(select(func.count()).select_from(AuditLog))
    for action in ("acknowledge", "answer"):
        with pytest.raises(PermissionDenied):
            department.apply_alert_answer(action, str(alert), "mine now", 0, principal=head)
    with env.database.session() as session:
        stored = session.get(Alert, alert)
        assert stored is not None and (stored.state, stored.state_reason) == ("new", "")
        assert session.scalar(select(func.count()).select_from(AuditLog)) == audits


def test_dept102_chief_answers_any_departments_alert(env: WebEnv, head: Principal) -> None:
    alert = add_alert(env, late(env, head), "stale", "Late.")
    feedback, *_ = department.apply_alert_answer(
        "acknowledge", str(alert), "", 0, principal=env.principal("chief")
    )
    assert "Acknowledged" in texts(feedback)


def test_dept102_no_raw_missing_values_on_the_page(env: WebEnv, head: Principal) -> None:
    assert head.department_id is not None
    never = add_indicator(env, head.department_id, "NEW-1", [1.0], CURRENT, target=None)
    with env.database.session(write=True) as session:
        session.query(Observation).filter(Observation.indicator_id == never).delete()
    late_id = late(env, head)
    add_alert(env, late_id, "stale", "Late.")
    shown = [department_layout.layout()]
    for principal, requested in ((head, None), (env.principal("chief"), None)):
        shown += department.department_view(requested, 0, principal=principal)
        shown += department.department_alerts_view(requested, 0, 0, principal=principal)
    for indicator in (never, late_id, bus(env, head)):
        shown.append(department.indicator_details_view(str(indicator), 0, principal=head)[0])
    text = texts(shown)
    assert "Never reported" in text
    found = RAW_MISSING.search(text)
    assert found is None, text[max(0, found.start() - 120) : found.end() + 40]


# ---------- Values judged without history, and values replacing a recorded one ----------


def heat_days(env: WebEnv, head: Principal) -> int:
    """HPD-HEAT-DAYS as in the NYC pack: days, lower is better, 5 / 7 / 10, no values yet."""
    assert head.department_id is not None
    return add_indicator(
        env,
        head.department_id,
        "HEAT-DAYS",
        [],
        CURRENT,
        name="Average days to close a heat complaint",
        unit="days",
        direction="down",
        target=5.0,
        warning_threshold=7.0,
        critical_threshold=10.0,
    )


def saved_values(env: WebEnv, indicator_id: int, period: dt.date) -> list[float]:
    with env.database.session() as session:
        return list(
            session.scalars(
                select(Observation.value)
                .where(Observation.indicator_id == indicator_id, Observation.period == period)
                .order_by(Observation.id)
            )
        )


def test_dept102_nonsense_without_history_is_refused_or_asked(env: WebEnv, head: Principal) -> None:
    indicator = heat_days(env, head)
    period = previous_period(CURRENT, "monthly")
    before = observations(env)

    def save(value: str, pending: object = None) -> tuple[str, object, object]:
        feedback, saved, _value, _note, asked = department.record_value(
            1, str(indicator), period.isoformat(), value, "", "", 0, pending, principal=head
        )
        return texts(feedback), saved, asked

    text, saved, asked = save("-3")  # negative days: impossible, refused outright
    assert "The value was not saved:" in text
    assert "A value in days cannot be negative; -3 is not possible." in text
    assert asked is None and not isinstance(saved, int)
    text, saved, asked = save("abc")
    assert "Value 'abc' is not a number." in text and asked is None
    assert observations(env) == before

    text, saved, asked = save("1e9")  # a billion days: asked, nothing stored yet
    assert "Is this value right? Nothing was saved yet." in text
    assert (
        "1,000,000,000 days is more than 10 times the largest of its target and thresholds "
        "(10 days), and there are not enough past values yet to compare it with." in text
    )
    assert asked == department.confirm_key(indicator, period, 1e9)
    assert not isinstance(saved, int) and observations(env) == before
    text, saved, asked = save("1e9", asked)  # confirmed: a real outlier can still be saved
    assert "Saved 1,000,000,000 days" in text and (saved, asked) == (1, None)
    assert saved_values(env, indicator, period) == [1e9]


def test_dept102_an_ordinary_first_value_is_saved_without_a_question(
    env: WebEnv, head: Principal
) -> None:
    indicator = heat_days(env, head)
    period = previous_period(CURRENT, "monthly")
    feedback, saved, *_ = department.record_value(
        1, str(indicator), period.isoformat(), "6.5", "", "", 0, principal=head
    )
    assert f"Saved 6.5 days for HEAT-DAYS Average days to close a heat complaint ({period})" in (
        texts(feedback)
    )
    assert saved == 1 and saved_values(env, indicator, period) == [6.5]


def test_dept102_saving_over_a_recorded_period_asks_then_says_so(
    env: WebEnv, head: Principal
) -> None:
    indicator = bus(env, head)
    with env.database.session(write=True) as session:
        session.add(
            Observation(
                indicator_id=indicator,
                period=CURRENT,
                value=60_100.0,
                entered_by_id=head.user_id,
                entered_at=dt.datetime(2026, 11, 3, 9, 30),
            )
        )
        name = session.scalar(select(User.display_name).where(User.id == head.user_id))
    before = observations(env)
    replaces = f"60,100 riders recorded for {CURRENT} by {name} on 2026-11-03"
    feedback, saved, value, _note, pending = department.record_value(
        1, str(indicator), CURRENT.isoformat(), "60,500", "", "", 0, principal=head
    )
    text = texts(feedback)
    assert "Replace the recorded value? Nothing was saved yet." in text
    assert f"This replaces {replaces}." in text
    assert "the old value stays in the history" in text
    assert pending == department.confirm_key(indicator, CURRENT, 60_500.0)
    assert not isinstance(saved, int) and not isinstance(value, str)
    assert observations(env) == before
    feedback, saved, *_rest, pending = department.record_value(
        1, str(indicator), CURRENT.isoformat(), "60,500", "", "", 0, pending, principal=head
    )
    text = texts(feedback)
    assert f"Saved 60,500 riders for BUS-RIDERS BUS-RIDERS indicator ({CURRENT})." in text
    assert f"It replaced {replaces}; both stay in the indicator's history." in text
    assert (saved, pending) == (1, None)
    assert saved_values(env, indicator, CURRENT) == [60_100.0, 60_500.0]  # append-only
    with env.database.session() as session:
        row = indicator_status(session, today=TODAY, indicator_ids=[indicator]).iloc[0]
    assert row["latest_value"] == 60_500.0


def test_dept102_one_question_for_a_replacement_that_also_looks_wrong(
    env: WebEnv, head: Principal
) -> None:
    indicator = bus(env, head)
    last = previous_period(CURRENT, "monthly")
    before = observations(env)
    feedback, *_rest, pending = department.record_value(
        1, str(indicator), last.isoformat(), "17", "", "", 0, principal=head
    )
    text = texts(feedback)
    assert "Is this value right? Nothing was saved yet." in text
    assert f"This replaces 60,338 riders recorded for {last}" in text
    assert "17 is less than 1/5 of the usual value (median 60,338" in text
    assert "press Save value again to replace the recorded value" in text
    assert observations(env) == before
    feedback, saved, *_ = department.record_value(
        1, str(indicator), last.isoformat(), "17", "", "", 0, pending, principal=head
    )
    assert "Saved 17 riders" in texts(feedback) and saved == 1
    assert saved_values(env, indicator, last) == [60_338.0, 17.0]
