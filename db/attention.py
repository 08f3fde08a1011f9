"""The attention list of a week from the database, and opening a problem from a surge.

``week_attention`` reads the stored ranking (``db.pages.priorities``) and the open alert
episodes (``db.alerts.store``) into ``triage.attention.AttentionInputs`` and builds the list.
``open_problem_from_surge`` opens a problem from an alert (``db.alerts.actions``), maps the
surge's category to it and scores this week again so the new problem can enter the ranking.
Functions take the session first and never commit.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from db.alerts.actions import open_problem_from_alert
from db.alerts.episodes import alert_links, data_dates, indicator_periods, judged_days
from db.alerts.evidence import window_days
from db.alerts.feed import AlertFilters, alert_feed
from db.category_mappings import add_category_mapping
from db.frames import as_int, as_number, as_text, to_date
from db.models import Alert, District, Indicator, Problem, ReportCategory
from db.pages.priorities import week_as_of, week_priorities
from db.problems import problem_title
from db.scores import load_scoring_inputs, load_weights, save_snapshot
from triage.attention import (
    AlertEpisode,
    AttentionInputs,
    AttentionList,
    RankedProblem,
    attention_list,
)
from triage.page_data import WeekPriorities
from triage.scoring import iso_week, score_problems, week_end, week_start
from triage.security import Capability, Principal, role_allows
from triage.validation import ValidationError, record_id
from triage.vocabulary import OPEN_ALERT_STATES

# Every open alert is read: the list needs all of them to count what it leaves out.
ALL_OPEN = 1_000_000
# Weight of a surge's category on the problem opened from it (the admin tab can change it).
OPENED_MAPPING_WEIGHT = 1.0


def ranked_problems(data: WeekPriorities) -> tuple[RankedProblem, ...]:
    """The week's ranking (``db.pages.priorities.week_priorities``) as the list reads it."""
    out = []
    for row in data.ranking.to_dict("records"):
        out.append(
            RankedProblem(
                problem_id=int(row["problem_id"]),
                title=str(row["title"]),
                rank=int(row["rank"]),
                movement=as_text(row["movement"]) if data.compared else "",
                rank_change=as_int(row["rank_change"]),
                previous_rank=as_int(row["previous_rank"]),
                decision=as_text(row["decision"]) or None,
                last_decision=as_text(row["last_decision"]) or None,
                last_decision_week=as_text(row["last_decision_week"]) or None,
                trend=as_text(row["trend"]) or "steady",
                priority=as_number(row["priority"]),
            )
        )
    return tuple(out)


def open_episodes(session: Session) -> tuple[AlertEpisode, ...]:
    """Every open alert episode (new, acknowledged or linked) with the problems it concerns,
    its data date and, for an indicator, the value's period, unit and direction."""
    feed, _ = alert_feed(session, AlertFilters(states=OPEN_ALERT_STATES), limit=ALL_OPEN)
    if feed.empty:
        return ()
    links = alert_links(session, [int(i) for i in feed["id"]])
    by_alert: dict[int, list[int]] = {}
    for alert_id, problem_id in zip(links["alert_id"], links["problem_id"], strict=True):
        by_alert.setdefault(int(alert_id), []).append(int(problem_id))
    titles = {
        pid: problem_title(session, pid) or ""
        for pid in sorted({p for ps in by_alert.values() for p in ps})
    }
    indicator_ids = [int(i) for i in feed["indicator_id"].dropna()]
    info = {
        int(i): (str(cadence), str(direction))
        for i, cadence, direction in session.execute(
            select(Indicator.id, Indicator.cadence, Indicator.direction).where(
                Indicator.id.in_(sorted(set(indicator_ids)) or [-1])
            )
        ).all()
    }
    periods = indicator_periods(session, judged_days(feed))
    dates = data_dates(session, feed)
    episodes = []
    for row in feed.to_dict("records"):
        alert_id = int(row["id"])
        indicator_id = as_int(row["indicator_id"])
        period = periods.get(indicator_id) if indicator_id is not None else None
        # The same data date as the priorities page and the brief judge "new" by.
        data_date = dates.get(alert_id)
        if indicator_id is not None:
            direction = info.get(indicator_id, ("monthly", ""))[1]
            subject, unit = as_text(row["indicator"]), as_text(row["unit"])
        else:
            direction, unit = "", "reports"
            subject = as_text(row["category"]) or as_text(row["series"])
        problem_ids = tuple(sorted(set(by_alert.get(alert_id, []))))
        episodes.append(
            AlertEpisode(
                alert_id=alert_id,
                kind=str(row["kind"]),
                severity=str(row["severity"]),
                state=str(row["state"]),
                first_seen=to_date(row["first_detected"]),
                last_seen=to_date(row["last_detected"]),
                data_date=data_date,
                subject=subject,
                observed=as_number(row["observed"]),
                expected=as_number(row["expected"]),
                window_days=window_days(row["method"]),
                district=as_text(row["district"]) or None,
                category_id=as_int(row["category_id"]),
                indicator_id=indicator_id,
                unit=unit,
                direction=direction,
                period=period,
                cadence=info.get(indicator_id, ("", ""))[0] if indicator_id is not None else "",
                problem_ids=problem_ids,
                problem_titles=tuple(titles.get(p, "") for p in problem_ids),
                method=str(row["method"]),
            )
        )
    return tuple(episodes)


def attention_inputs(
    session: Session,
    week: str,
    *,
    today: dt.date,
    viewer: Principal | None = None,
    week_data: WeekPriorities | None = None,
) -> AttentionInputs:
    """What the list of ``week`` is built from; ``viewer`` decides which actions are offered
    (none without a viewer). ``week_data`` is ``week_priorities`` when the caller has it."""
    data = week_data if week_data is not None else week_priorities(session, week, today=today)
    role = viewer.role if viewer is not None else None
    can_open = role is not None and all(
        role_allows(role, c) for c in (Capability.EDIT_PROBLEMS, Capability.MANAGE_ALERTS)
    )
    return AttentionInputs(
        week=week,
        week_start=week_start(week),
        week_end=week_end(week),
        ranking=ranked_problems(data),
        episodes=open_episodes(session),
        compared=data.compared,
        previous_week=data.previous_week,
        late_indicators=len(data.overdue),
        can_open_problem=can_open,
        can_map_category=role is not None and role_allows(role, Capability.CONFIGURE),
    )


def week_attention(
    session: Session,
    week: str,
    *,
    today: dt.date,
    viewer: Principal | None = None,
    week_data: WeekPriorities | None = None,
) -> AttentionList:
    """The attention list of ``week`` (``triage.attention.attention_list``)."""
    return attention_list(
        attention_inputs(session, week, today=today, viewer=viewer, week_data=week_data)
    )


def rank_current_week(session: Session, today: dt.date) -> str:
    """Score every problem as of today and store it as this ISO week's ranking, in the
    caller's transaction (what ``db.ranking.rank_week`` does in its own); returns the week."""
    week = iso_week(today)
    as_of = week_as_of(week, today)
    scores = score_problems(load_scoring_inputs(session, as_of), load_weights(session), as_of)
    save_snapshot(session, week, scores)
    return week


def open_problem_from_surge(
    session: Session,
    actor: Principal,
    alert_id: object,
    *,
    title: object,
    policy_area: object,
    today: dt.date,
) -> int:
    """Open a problem from an early warning, map the warning's report category to it (when
    the actor may configure the mapping) and rank this week again, so the new problem is
    scored at once and can enter this week's ranking. Returns the new problem's id.

    Needs ``EDIT_PROBLEMS`` and ``MANAGE_ALERTS`` (``open_problem_from_alert``);
    raises ``ValidationError`` with a sentence for the person otherwise wrong.
    """
    problem_id = open_problem_from_alert(
        session, actor, alert_id, title=title, policy_area=policy_area
    )
    category_id = session.scalar(
        select(Alert.category_id).where(Alert.id == record_id(alert_id, "an alert"))
    )
    if category_id is not None and role_allows(actor.role, Capability.CONFIGURE):
        add_category_mapping(session, actor, category_id, problem_id, OPENED_MAPPING_WEIGHT)
    rank_current_week(session, today)
    return problem_id


def surge_problem_title(session: Session, alert_id: object) -> str:
    """A starting title for a problem opened from an alert: "'Street not plowed' reports
    surging" (with its district), or the alert's own words for any other alert."""
    row = session.execute(
        select(ReportCategory.name, District.name, Alert.message)
        .select_from(Alert)
        .outerjoin(ReportCategory, ReportCategory.id == Alert.category_id)
        .outerjoin(District, District.id == Alert.district_id)
        .where(Alert.id == record_id(alert_id, "an alert"))
    ).first()
    if row is None:
        raise ValidationError(f"There is no alert with id {alert_id}.")
    category, district, message = row
    if category:
        return f"'{category}' reports surging" + (f" in {district}" if district else "")
    return str(message)[:120]


def default_policy_area(session: Session, alert_id: object) -> str:
    """The policy area a problem opened from an alert starts in: that of the problems its
    department leads (the most common), else the city's most common one."""
    category_department = (
        select(ReportCategory.department_id)
        .join(Alert, Alert.category_id == ReportCategory.id)
        .where(Alert.id == record_id(alert_id, "an alert"))
        .scalar_subquery()
    )
    for condition in (Problem.lead_department_id == category_department, true()):
        area = session.scalar(
            select(Problem.policy_area)
            .where(condition)
            .group_by(Problem.policy_area)
            .order_by(func.count().desc(), Problem.policy_area)
            .limit(1)
        )
        if area:
            return str(area)
    return "public works"


__all__ = [
    "attention_inputs",
    "default_policy_area",
    "open_episodes",
    "open_problem_from_surge",
    "rank_current_week",
    "ranked_problems",
    "surge_problem_title",
    "week_attention",
]
