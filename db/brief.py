"""Everything the weekly brief prints for a week, read from the database as plain data.

It reads the stored ranking (``db.pages.priorities``) and the attention list
(``db.attention``); ``triage.brief`` prints it. Functions take the session first and never commit.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from db.attention import week_attention
from db.frames import as_int, as_text, records, to_date
from db.pages.priorities import TOP_N, actor_gaps, week_changes, week_priorities
from db.problems import week_decisions
from triage.attention import AttentionList
from triage.brief import BriefAlert, BriefData, BriefDecision, BriefPriority, StaleOwner
from triage.detection.surge_messages import plain_message
from triage.page_data import WeekPriorities
from triage.weeks import week_end, week_start


def brief_data(
    session: Session,
    week: str,
    *,
    today: dt.date,
    city_name: str,
    generated_at: dt.datetime,
    top_n: int = TOP_N,
    week_data: WeekPriorities | None = None,
    attention: AttentionList | None = None,
) -> BriefData:
    """Everything the weekly brief PDF prints for ``week``, as plain data (see ``triage.brief``).

    ``week_data`` is :func:`week_priorities` of the same week and day when the caller already
    has it; ``attention`` the week's attention list (``db.attention.week_attention``, built
    here when not given)."""
    data = week_data if week_data is not None else week_priorities(session, week, today=today)
    if attention is None:
        attention = week_attention(session, week, today=today, week_data=data)
    changes = week_changes(data, top_n=top_n)
    top = data.ranking[data.ranking["rank"] <= top_n] if len(data.ranking) else data.ranking
    priorities = tuple(
        BriefPriority(
            rank=int(row.rank),
            title=str(row.title),
            priority=float(row.priority),
            priority_low=float(row.priority_low),
            priority_high=float(row.priority_high),
            importance=float(row.importance),
            tractability=float(row.tractability),
            neglectedness=float(row.neglectedness),
            movement=str(row.movement) if data.compared else "",
            rank_change=as_int(row.rank_change),
            explanation=as_text(row.explanation),
            active_alerts=int(row.active_alerts),
            overdue_indicators=int(row.overdue_indicators),
            decision=as_text(row.decision),
            decision_note=as_text(row.decision_note),
            last_decision=as_text(row.last_decision),
            last_decision_week=as_text(row.last_decision_week),
        )
        for row in records(top)
    )

    def brief_alerts(frame: pd.DataFrame) -> tuple[BriefAlert, ...]:
        # Late indicator data goes to its department (the brief's owners section), not here.
        frame = frame[frame["kind"] != "stale"]
        return tuple(
            BriefAlert(
                severity=str(row.severity),
                previous_severity=as_text(row.previous_severity),
                message=plain_message(as_text(row.message)),
                problems=tuple(row.problems),
                first_detected=to_date(row.first_detected),
            )
            for row in records(frame)
        )

    decisions = week_decisions(session, week)
    return BriefData(
        city=city_name,
        week=week,
        week_start=week_start(week),
        week_end=week_end(week),
        as_of=data.as_of,
        previous_week=data.previous_week,
        generated_at=generated_at,
        problems_ranked=len(data.ranking),
        priorities=priorities,
        new_alerts=brief_alerts(changes.new_alerts),
        escalated_alerts=brief_alerts(changes.escalated_alerts),
        movers=tuple(
            (int(row.rank), str(row.title), int(row.rank_change)) for row in records(changes.movers)
        ),
        new_problems=tuple(
            (int(row.rank), str(row.title)) for row in records(changes.new_problems)
        ),
        overdue_count=changes.overdue_count,
        decisions_due=tuple(
            (int(row.rank), str(row.title)) for row in records(changes.decisions_due)
        ),
        decisions=tuple(
            BriefDecision(
                problem=str(row.title),
                decision=str(row.decision),
                note=as_text(row.note),
                author=as_text(row.author),
                recorded_at=row.created_at,
                superseded=int(row.count) - 1,
            )
            for row in records(decisions)
        ),
        stale_owners=tuple(
            StaleOwner(
                department=str(row.department),
                heads=tuple(row.heads),
                overdue=int(row.overdue),
                indicators=tuple(row.indicators),
            )
            for row in records(changes.owners)
        ),
        actor_gaps=tuple(
            actor_gaps(session, [(int(p.problem_id), str(p.title)) for p in records(top)])
        ),
        attention=attention,
    )


__all__ = ["brief_data"]
