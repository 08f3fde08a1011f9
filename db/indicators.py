"""Indicators and their observations: latest values and status, histories, the catalogue, and the
audited writes of a new value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from db.audit import write_audit
from db.columns import INDICATOR, INDICATOR_TARGETS
from db.frames import as_date, query_frame
from db.models import (
    Department,
    Indicator,
    IndicatorStatusUpdate,
    Observation,
    ProblemIndicator,
    User,
)
from triage.indicators import due_by, is_off_target, is_overdue, status_from_value
from triage.security import Capability, Principal, require, require_department
from triage.validation import (
    ObservationInput,
    ValidationError,
    replaced_sentence,
    validate_observation,
    value_doubt,
)
from triage.vocabulary import ARCHIVED_MARK

INDICATOR_COLUMNS = [
    *INDICATOR,
    "department_id",
    "department_code",
    "department_name",
    *INDICATOR_TARGETS,
    "latest_period",
    "latest_value",
    "latest_status",
    "latest_note",
    "off_target",
    "overdue",
    "due_by",
]

CATALOGUE_COLUMNS = ["code", "name", "unit", "history_min", "history_max"]


def _newest_per_indicator(
    session: Session, table: Any, order: tuple, columns: tuple, indicator_filter: list
) -> list:
    """``columns`` of the newest row of ``table`` (by ``order``) for each filtered indicator.

    The newest id per indicator is one walk down the table's index on (indicator_id, ...);
    the rows are then read by primary key. Neither step reads the history (a window function
    over it, or a hash join against it, grows with every row recorded)."""
    newest = (
        select(table.id)
        .where(table.indicator_id == Indicator.id)
        .order_by(*order)
        .limit(1)
        .correlate(Indicator)
        .scalar_subquery()
    )
    ids = [
        i
        for i in session.scalars(select(newest).select_from(Indicator).where(*indicator_filter))
        if i is not None
    ]
    if not ids:
        return []
    return list(session.execute(select(*columns).where(table.id.in_(ids))))


def _latest_observations(session: Session, indicator_filter: list) -> list:
    """(indicator_id, period, value) of each filtered indicator's latest entry, found through
    ``ix_observations_indicator_period``."""
    return _newest_per_indicator(
        session,
        Observation,
        (Observation.period.desc(), Observation.entered_at.desc(), Observation.id.desc()),
        (Observation.indicator_id, Observation.period, Observation.value),
        indicator_filter,
    )


def _latest_statuses(session: Session, indicator_filter: list) -> list:
    """(indicator_id, status, note) of each filtered indicator's latest status update, found
    through ``ix_indicator_status_updates_indicator_at``."""
    return _newest_per_indicator(
        session,
        IndicatorStatusUpdate,
        (IndicatorStatusUpdate.created_at.desc(), IndicatorStatusUpdate.id.desc()),
        (
            IndicatorStatusUpdate.indicator_id,
            IndicatorStatusUpdate.status,
            IndicatorStatusUpdate.note,
        ),
        indicator_filter,
    )


def indicator_status(
    session: Session,
    *,
    today: dt.date,
    department_id: int | None = None,
    indicator_ids: list[int] | None = None,
) -> pd.DataFrame:
    """Indicators with their latest value, status and whether they are off target or overdue.

    Columns: id, code, name, unit, direction, cadence, department_id, department_code,
    department_name, target, warning_threshold, critical_threshold, latest_period (date or
    None), latest_value, latest_status, latest_note, off_target (bool), overdue (bool), due_by
    (date or None). Filtered by department and/or ids when given; ordered by code.
    """
    where: list = []
    if department_id is not None:
        where.append(Indicator.department_id == department_id)
        where.append(Indicator.archived_at.is_(None))  # archived: off the department's list
    if indicator_ids is not None:
        if not indicator_ids:
            return pd.DataFrame(columns=INDICATOR_COLUMNS)
        where.append(Indicator.id.in_(indicator_ids))
    base = query_frame(
        session,
        select(
            *INDICATOR.values(),
            Indicator.department_id,
            Department.code,
            Department.name,
            *INDICATOR_TARGETS.values(),
        )
        .join(Department, Department.id == Indicator.department_id)
        .where(*where)
        .order_by(Indicator.code),
        INDICATOR_COLUMNS[:12],
    )
    latest = {
        row.indicator_id: (row.period, row.value) for row in _latest_observations(session, where)
    }
    statuses = {
        row.indicator_id: (row.status, row.note) for row in _latest_statuses(session, where)
    }
    periods, values, status_col, notes, off, overdue, due = [], [], [], [], [], [], []
    for row in base.itertuples(index=False):
        period, value = latest.get(row.id, (None, None))
        period = as_date(period)
        status, note = statuses.get(row.id, (None, ""))
        periods.append(period)
        values.append(value)
        status_col.append(status)
        notes.append(note or "")
        off.append(is_off_target(value, row.target, row.direction))
        overdue.append(is_overdue(period, row.cadence, today))
        due.append(due_by(period, row.cadence))
    frame = base.assign(
        latest_period=pd.Series(periods, dtype=object),
        latest_value=pd.Series(values, dtype=float),
        latest_status=pd.Series(status_col, dtype=object),
        latest_note=pd.Series(notes, dtype=object),
        off_target=pd.Series(off, dtype=bool),
        overdue=pd.Series(overdue, dtype=bool),
        due_by=pd.Series(due, dtype=object),
    )
    return frame[INDICATOR_COLUMNS]


def department_indicators(session: Session, department_id: int, *, today: dt.date) -> pd.DataFrame:
    """A department's indicators, overdue first (then by due date and code).

    Columns as :func:`indicator_status`.
    """
    frame = indicator_status(session, today=today, department_id=department_id)
    if frame.empty:
        return frame
    frame = frame.assign(_due=frame["due_by"].map(lambda d: d or dt.date.min))
    return (
        frame.sort_values(["overdue", "_due", "code"], ascending=[False, True, True])
        .drop(columns="_due")
        .reset_index(drop=True)
    )


def problem_indicators(session: Session, problem_id: int, *, today: dt.date) -> pd.DataFrame:
    """The indicators linked to a problem, with latest values; columns as :func:`indicator_status`
    plus weight. An archived indicator stays (its history) and its name ends in "(archived)"."""
    rows = session.execute(
        select(ProblemIndicator.indicator_id, ProblemIndicator.weight, Indicator.archived_at)
        .join(Indicator, Indicator.id == ProblemIndicator.indicator_id)
        .where(ProblemIndicator.problem_id == problem_id)
    ).all()
    weights = {int(i): w for i, w, _ in rows}
    archived = {int(i) for i, _, at in rows if at is not None}
    frame = indicator_status(session, today=today, indicator_ids=sorted(weights))
    names = [
        f"{name}{ARCHIVED_MARK}" if int(i) in archived else name
        for i, name in zip(frame["id"], frame["name"], strict=True)
    ]
    return frame.assign(weight=frame["id"].map(weights).astype(float), name=names)


def _entries_by_period(indicator_ids: Iterable[int]) -> Subquery:
    """Every entry of the indicators with ``entry`` numbering each period's entries from the
    latest (1 = the value in force: observations are append-only, a correction is newer)."""
    return (
        select(
            Observation.indicator_id,
            Observation.period,
            Observation.value,
            func.row_number()
            .over(
                partition_by=(Observation.indicator_id, Observation.period),
                order_by=(Observation.entered_at.desc(), Observation.id.desc()),
            )
            .label("entry"),
        )
        .where(Observation.indicator_id.in_(list(indicator_ids)))
        .subquery()
    )


def indicator_histories(session: Session, indicator_ids: list[int]) -> pd.DataFrame:
    """Observation history, one row per indicator and period (the latest entry for a period).

    Columns: indicator_id, period (date), value; ordered by indicator and period.
    """
    columns = ["indicator_id", "period", "value"]
    if not indicator_ids:
        return pd.DataFrame(columns=columns)
    ranked = _entries_by_period(indicator_ids)
    frame = query_frame(
        session,
        select(ranked.c.indicator_id, ranked.c.period, ranked.c.value)
        .where(ranked.c.entry == 1)
        .order_by(ranked.c.indicator_id, ranked.c.period),
        columns,
    )
    return frame.assign(period=frame["period"].map(as_date))


def recent_histories(
    session: Session, indicator_ids: list[int] | set[int], *, limit: int = 12
) -> dict[int, dict[dt.date, float]]:
    """Each indicator's last ``limit`` periods with their value (the latest entry for each
    period), as ``{indicator_id: {period: value}}``; an indicator with no value is left out."""
    if not indicator_ids:
        return {}
    entries = _entries_by_period(indicator_ids)
    periods = (
        select(
            entries.c.indicator_id,
            entries.c.period,
            entries.c.value,
            func.row_number()
            .over(partition_by=entries.c.indicator_id, order_by=entries.c.period.desc())
            .label("back"),
        )
        .where(entries.c.entry == 1)
        .subquery()
    )
    histories: dict[int, dict[dt.date, float]] = {}
    for indicator_id, period, value in session.execute(
        select(periods.c.indicator_id, periods.c.period, periods.c.value)
        .where(periods.c.back <= limit)
        .order_by(periods.c.indicator_id, periods.c.period)
    ):
        histories.setdefault(indicator_id, {})[as_date(period)] = float(value)
    return histories


def recent_observations(session: Session, department_id: int, *, limit: int = 10) -> pd.DataFrame:
    """The latest values entered for a department's indicators, newest entry first.

    Columns: id, indicator_id, indicator_code, indicator_name, unit, period, value,
    entered_by (display name or None), entered_at.
    """
    return query_frame(
        session,
        select(
            Observation.id,
            Observation.indicator_id,
            Indicator.code,
            Indicator.name,
            Indicator.unit,
            Observation.period,
            Observation.value,
            User.display_name,
            Observation.entered_at,
        )
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .outerjoin(User, User.id == Observation.entered_by_id)
        .where(Indicator.department_id == department_id)
        .order_by(Observation.entered_at.desc(), Observation.id.desc())
        .limit(limit),
        [
            "id",
            "indicator_id",
            "indicator_code",
            "indicator_name",
            "unit",
            "period",
            "value",
            "entered_by",
            "entered_at",
        ],
    )


def indicator_department_id(session: Session, indicator_id: int) -> int | None:
    """The department that owns an indicator, or None when there is no such indicator."""
    return session.scalar(select(Indicator.department_id).where(Indicator.id == indicator_id))


def recent_values(session: Session, indicator_id: int, *, limit: int = 12) -> list[float]:
    """The values of an indicator's last ``limit`` periods (the latest entry for each),
    oldest first."""
    history = indicator_histories(session, [indicator_id])
    return [float(v) for v in history["value"].tail(limit)]


def indicator_catalogue(session: Session) -> pd.DataFrame:
    """Every indicator with the smallest and largest values recorded for it.

    Columns: ``CATALOGUE_COLUMNS``; ``history_min``/``history_max`` are NaN for an indicator
    with no values yet. Ordered by code.
    """
    largest = (
        select(
            Observation.indicator_id,
            func.min(Observation.value).label("low"),
            func.max(Observation.value).label("high"),
        )
        .group_by(Observation.indicator_id)
        .subquery()
    )
    rows = session.execute(
        select(Indicator.code, Indicator.name, Indicator.unit, largest.c.low, largest.c.high)
        .outerjoin(largest, largest.c.indicator_id == Indicator.id)
        .order_by(Indicator.code)
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=CATALOGUE_COLUMNS)
    for column in ("history_min", "history_max"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


class ImplausibleValue(Exception):
    """The save needs the person's confirmation, and nothing was saved: the value looks
    implausible (``doubt``: against the history or what the indicator says, see
    ``triage.validation.value_doubt``) and/or it replaces the value recorded for the same
    period (``replaces``). The same value sent again with ``confirmed=True`` is saved.
    ``reason`` is both sentences, the replaced value first."""

    def __init__(self, doubt: str | None, replaces: str | None = None) -> None:
        self.doubt = doubt
        self.replaces = replaces
        self.reason = " ".join(part for part in (replaces, doubt) if part)
        super().__init__(self.reason)


@dataclass(frozen=True)
class RecordedValue:
    """What the department form's save stored: the observation, the status the person gave
    (None when none), the status the numbers give (None without a target), and the sentence
    about the value it replaced (None when the period had none)."""

    observation_id: int
    given_status: str | None
    computed_status: str | None
    replaced: str | None = None


@dataclass(frozen=True)
class PeriodEntry:
    """The value on record for one indicator and period: the latest entry, who and when."""

    value: float
    entered_by: str | None
    entered_on: dt.date | None


def period_entry(session: Session, indicator_id: int, period: dt.date) -> PeriodEntry | None:
    """The latest value entered for ``indicator_id`` and ``period`` (None when none)."""
    row = session.execute(
        select(Observation.value, User.display_name, Observation.entered_at)
        .outerjoin(User, User.id == Observation.entered_by_id)
        .where(Observation.indicator_id == indicator_id, Observation.period == period)
        .order_by(Observation.entered_at.desc(), Observation.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    value, name, entered_at = row
    on = entered_at.date() if isinstance(entered_at, dt.datetime) else as_date(entered_at)
    return PeriodEntry(float(value), name or None, on)


def indicator_references(indicator: Indicator) -> tuple[float | None, ...]:
    """The numbers an indicator's values are judged against: target, warning, critical."""
    return (indicator.target, indicator.warning_threshold, indicator.critical_threshold)


def _writable_indicator(session: Session, actor: Principal, indicator_id: int) -> Indicator:
    """The indicator, if ``actor`` may record its values: the capability, a department head's
    own department, not archived. Raises ``PermissionDenied`` or ``ValidationError``."""
    require(actor, Capability.UPDATE_INDICATORS)
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ValidationError(f"There is no indicator with id {indicator_id}.")
    require_department(actor, indicator.department_id)
    if indicator.archived_at is not None:
        raise ValidationError(f"Indicator {indicator.code} is archived: it takes no new values.")
    return indicator


def _add_observation(
    session: Session, actor: Principal, indicator: Indicator, clean: ObservationInput
) -> int:
    observation = Observation(
        indicator_id=indicator.id,
        period=clean.period,
        value=clean.value,
        entered_by_id=actor.user_id,
    )
    session.add(observation)
    after: dict[str, object] = {"period": clean.period, "value": clean.value}
    if clean.status is not None or clean.note:
        session.add(
            IndicatorStatusUpdate(
                indicator_id=indicator.id,
                status=clean.status or "on_track",
                note=clean.note,
                author_id=actor.user_id,
            )
        )
        after.update(status=clean.status, note=clean.note)
    session.flush()
    write_audit(
        session,
        actor,
        "create",
        "observation",
        observation.id,
        after={"indicator_id": indicator.id, **after},
    )
    return observation.id


def record_observation(
    session: Session,
    actor: Principal,
    indicator_id: int,
    period: object,
    value: object,
    *,
    status: str | None = None,
    note: str = "",
    today: dt.date,
) -> int:
    """Append a value (and optionally a status with its note) to an indicator's history.

    Raises ``PermissionDenied`` when the actor may not update indicators or, as a department
    head, the indicator belongs to another department; ``ValidationError`` for bad input.
    Returns the new observation's id.
    """
    indicator = _writable_indicator(session, actor, indicator_id)
    clean = validate_observation(
        indicator.unit,
        period,
        value,
        status,
        note,
        today,
        references=indicator_references(indicator),
    )
    return _add_observation(session, actor, indicator, clean)


def record_form_value(
    session: Session,
    actor: Principal,
    indicator_id: int,
    period: object,
    value: object,
    *,
    status: str | None,
    note: str,
    today: dt.date,
    confirmed: bool,
) -> RecordedValue:
    """The department form's save: ``record_observation``'s checks (scope, archived, the
    domain's rules, impossible values refused), each made once, then the form's questions.

    Unless ``confirmed``, ``ImplausibleValue`` is raised (nothing written) when the value looks
    implausible against the indicator's last values or, without enough of them, against its
    unit, target and thresholds (``value_doubt``), and when the period already has a value
    (the new one would replace it; both stay in the history, observations are append-only).
    A save without a status stores the status the numbers give, and a given status that
    disagrees is kept (both are returned, for the message)."""
    indicator = _writable_indicator(session, actor, indicator_id)
    references = indicator_references(indicator)
    clean = validate_observation(
        indicator.unit, period, value, status, note, today, references=references
    )
    previous = period_entry(session, indicator.id, clean.period)
    replaced = None
    if previous is not None:
        replaced = replaced_sentence(
            previous.value,
            indicator.unit,
            clean.period,
            previous.entered_by,
            previous.entered_on,
            done=False,
        )
    if not confirmed:
        doubt = value_doubt(
            clean.value,
            recent_values(session, indicator.id),
            unit=indicator.unit,
            direction=indicator.direction,
            references=references,
        )
        if doubt or replaced:
            raise ImplausibleValue(doubt, replaced)
    computed = status_from_value(
        clean.value,
        indicator.target,
        indicator.direction,
        indicator.critical_threshold,
        indicator.warning_threshold,
    )
    stored = replace(clean, status=clean.status or computed)
    told = None
    if previous is not None:
        told = replaced_sentence(
            previous.value,
            indicator.unit,
            clean.period,
            previous.entered_by,
            previous.entered_on,
            done=True,
        )
    return RecordedValue(
        _add_observation(session, actor, indicator, stored), clean.status, computed, told
    )
