"""Actors and their engagements: the directory, sector summaries and coverage, portfolios and
funding flows."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from db.frames import query_frame
from db.models import Actor, CausalFactor, Engagement, Problem, ScoreSnapshot
from triage.vocabulary import OPEN_PROBLEM_STATUSES, PROBLEM_STATUS_RANK

MAX_SEARCH_LENGTH = 100

# The charts count what is current: archived actors and problems keep their history elsewhere.
_CURRENT = (Actor.archived_at.is_(None), Problem.archived_at.is_(None))

DIRECTORY_COLUMNS = [
    "id",
    "name",
    "sector",
    "description",
    "engagements",
    "problems",
    "committed_funding",
    "last_contact",
]

FLOW_COLUMNS = [
    "funder",
    "funder_sector",
    "actor",
    "actor_sector",
    "problem_id",
    "problem",
    "amount",
]


def clean_search(search: object) -> str:
    """A search box value as a short, trimmed string (it is user input)."""
    return str(search or "").strip()[:MAX_SEARCH_LENGTH]


def actor_directory(
    session: Session, *, sector: str | None = None, search: str | None = None
) -> pd.DataFrame:
    """Actors with what they do, filtered by sector and a name search (case-insensitive).

    Columns: id, name, sector, description, engagements (count), problems (distinct problems
    engaged), committed_funding (USD, summed over engagements), last_contact (date or None);
    ordered by sector, then name. The search matches a substring of the name literally
    (``%`` and ``_`` are not wildcards). Archived actors are left out.
    """
    where = [Actor.archived_at.is_(None)]
    if sector:
        where.append(Actor.sector == sector)
    text = clean_search(search)
    if text:
        where.append(func.lower(Actor.name).contains(text.lower(), autoescape=True))
    frame = query_frame(
        session,
        select(
            Actor.id,
            Actor.name,
            Actor.sector,
            Actor.description,
            func.count(Engagement.id),
            func.count(distinct(Engagement.problem_id)),
            func.coalesce(func.sum(Engagement.committed_funding), 0.0),
            func.max(Engagement.last_contact),
        )
        .outerjoin(Engagement, Engagement.actor_id == Actor.id)
        .where(*where)
        .group_by(Actor.id, Actor.name, Actor.sector, Actor.description)
        .order_by(Actor.sector, Actor.name),
        DIRECTORY_COLUMNS,
    )
    return frame.assign(committed_funding=frame["committed_funding"].astype(float))


def sector_summary(session: Session) -> pd.DataFrame:
    """Per sector with at least one actor not archived: sector, actors, engagements, problems
    (distinct), committed_funding (USD); ordered by sector."""
    return query_frame(
        session,
        select(
            Actor.sector,
            func.count(distinct(Actor.id)),
            func.count(Engagement.id),
            func.count(distinct(Engagement.problem_id)),
            func.coalesce(func.sum(Engagement.committed_funding), 0.0),
        )
        .outerjoin(Engagement, Engagement.actor_id == Actor.id)
        .where(Actor.archived_at.is_(None))
        .group_by(Actor.sector)
        .order_by(Actor.sector),
        ["sector", "actors", "engagements", "problems", "committed_funding"],
    )


def actor_engagements(session: Session, actor_ids: list[int]) -> pd.DataFrame:
    """The engagements of the given actors.

    Columns: id, actor_id, problem_id, problem_title, problem_status, role, stance,
    committed_funding, factor_title (or None), last_contact, problem_archived (bool: the
    problem is archived; its engagements stay as history); ordered by actor, problem title.
    """
    columns = [
        "id",
        "actor_id",
        "problem_id",
        "problem_title",
        "problem_status",
        "role",
        "stance",
        "committed_funding",
        "factor_title",
        "last_contact",
        "problem_archived",
    ]
    if not actor_ids:
        return pd.DataFrame(columns=columns)
    frame = query_frame(
        session,
        select(
            Engagement.id,
            Engagement.actor_id,
            Engagement.problem_id,
            Problem.title,
            Problem.status,
            Engagement.role,
            Engagement.stance,
            Engagement.committed_funding,
            CausalFactor.title,
            Engagement.last_contact,
            Problem.archived_at,
        )
        .join(Problem, Problem.id == Engagement.problem_id)
        .outerjoin(CausalFactor, CausalFactor.id == Engagement.factor_id)
        .where(Engagement.actor_id.in_(actor_ids))
        .order_by(Engagement.actor_id, Problem.title, Engagement.id),
        columns,
    )
    return frame.assign(problem_archived=frame["problem_archived"].notna().astype(bool))


def sector_problem_cells(session: Session, *, sector: str | None = None) -> pd.DataFrame:
    """Engagements summed per (problem, sector), open problems and actors not archived only.

    Columns: problem_id, sector, engagements, committed_funding (USD). Only non-empty cells.
    """
    where = [*_CURRENT, Problem.status.in_(OPEN_PROBLEM_STATUSES)]
    if sector:
        where.append(Actor.sector == sector)
    frame = query_frame(
        session,
        select(
            Engagement.problem_id,
            Actor.sector,
            func.count(Engagement.id),
            func.coalesce(func.sum(Engagement.committed_funding), 0.0),
        )
        .join(Actor, Actor.id == Engagement.actor_id)
        .join(Problem, Problem.id == Engagement.problem_id)
        .where(*where)
        .group_by(Engagement.problem_id, Actor.sector),
        ["problem_id", "sector", "engagements", "committed_funding"],
    )
    return frame.assign(committed_funding=frame["committed_funding"].astype(float))


def portfolio_problems(session: Session) -> tuple[pd.DataFrame, str | None]:
    """Open problems not archived, the highest priority first, and the snapshot week that
    ranked them.

    Columns: id, title, status, rank (rank in the latest stored weekly snapshot; NA for a
    problem that snapshot did not rank). Ordered by rank, then status (focus first), then
    title. The week is None when no snapshot is stored yet (ordered by status and title).
    """
    week = session.scalar(select(func.max(ScoreSnapshot.week)))
    problems = query_frame(
        session,
        select(Problem.id, Problem.title, Problem.status).where(
            Problem.status.in_(OPEN_PROBLEM_STATUSES), Problem.archived_at.is_(None)
        ),
        ["id", "title", "status"],
    )
    ranks: dict[int, int] = {}
    if week is not None:
        ranks = dict(
            session.execute(
                select(ScoreSnapshot.problem_id, ScoreSnapshot.rank).where(
                    ScoreSnapshot.week == week
                )
            ).all()
        )
    problems = problems.assign(
        rank=pd.array([ranks.get(int(i)) for i in problems["id"]], dtype="Int64"),
        _status=problems["status"].map(lambda s: PROBLEM_STATUS_RANK.get(s, 9)),
        _missing=[int(i) not in ranks for i in problems["id"]],
    )
    ordered = problems.sort_values(["_missing", "rank", "_status", "title", "id"])
    return ordered.drop(columns=["_status", "_missing"]).reset_index(drop=True), week


def sector_coverage(session: Session) -> pd.DataFrame:
    """Which sectors engage each open problem as allies (competing engagements and archived
    actors and problems do not count).

    Columns: problem_id, sector; one row per distinct pair.
    """
    return query_frame(
        session,
        select(Engagement.problem_id, Actor.sector)
        .join(Actor, Actor.id == Engagement.actor_id)
        .join(Problem, Problem.id == Engagement.problem_id)
        .where(
            *_CURRENT, Problem.status.in_(OPEN_PROBLEM_STATUSES), Engagement.stance != "competing"
        )
        .group_by(Engagement.problem_id, Actor.sector),
        ["problem_id", "sector"],
    )


def funding_engagements(session: Session) -> pd.DataFrame:
    """Funding and delivering engagements on open problems, the raw material of the flows
    (archived actors and problems left out).

    Columns: actor_id, actor, sector, problem_id, problem, factor_id (or None), role
    ("funding" or "delivering"), stance, amount (committed funding, USD).
    """
    return query_frame(
        session,
        select(
            Engagement.actor_id,
            Actor.name,
            Actor.sector,
            Engagement.problem_id,
            Problem.title,
            Engagement.factor_id,
            Engagement.role,
            Engagement.stance,
            Engagement.committed_funding,
        )
        .join(Actor, Actor.id == Engagement.actor_id)
        .join(Problem, Problem.id == Engagement.problem_id)
        .where(
            *_CURRENT,
            Problem.status.in_(OPEN_PROBLEM_STATUSES),
            Engagement.role.in_(("funding", "delivering")),
        )
        .order_by(Engagement.id),
        [
            "actor_id",
            "actor",
            "sector",
            "problem_id",
            "problem",
            "factor_id",
            "role",
            "stance",
            "amount",
        ],
    )


def funding_flows(
    engagements: pd.DataFrame, *, sector: str | None = None, search: str | None = None
) -> pd.DataFrame:
    """Funding split from each funder through the actors delivering the work to the problem.

    In: :func:`funding_engagements`. Each funding engagement with money committed flows to the
    actors delivering on the same problem (those on the same causal factor when the funding
    names one and someone delivers there), shared equally; competing deliverers are left out.
    With nobody delivering, the money flows through ``actor=None``. Filters keep flows whose
    funder or deliverer is in ``sector`` or has ``search`` in its name.

    Out: funder, funder_sector, actor (None: no delivering actor), actor_sector, problem_id,
    problem, amount (USD); ordered by problem, funder, actor.
    """
    if engagements.empty:
        return pd.DataFrame(columns=FLOW_COLUMNS)
    funding = engagements[
        (engagements["role"] == "funding") & (engagements["amount"].astype(float) > 0)
    ]
    delivering = engagements[
        (engagements["role"] == "delivering") & (engagements["stance"] != "competing")
    ]
    by_problem: dict[int, list[tuple[str, str, object]]] = {}
    for row in delivering.itertuples(index=False):
        by_problem.setdefault(int(row.problem_id), []).append(
            (str(row.actor), str(row.sector), row.factor_id)
        )
    rows: list[tuple[object, ...]] = []
    for row in funding.itertuples(index=False):
        partners = by_problem.get(int(row.problem_id), [])
        on_factor = [p for p in partners if row.factor_id is not None and p[2] == row.factor_id]
        chosen = sorted({(name, sec) for name, sec, _ in (on_factor or partners)})
        amount = float(row.amount)
        if not chosen:
            rows.append(
                (row.actor, row.sector, None, None, int(row.problem_id), row.problem, amount)
            )
            continue
        share = amount / len(chosen)
        for name, sec in chosen:
            rows.append((row.actor, row.sector, name, sec, int(row.problem_id), row.problem, share))
    flows = pd.DataFrame(rows, columns=FLOW_COLUMNS)
    if sector:
        flows = flows[(flows["funder_sector"] == sector) | (flows["actor_sector"] == sector)]
    text = clean_search(search).casefold()
    if text:
        funder_hit = flows["funder"].map(lambda n: text in str(n).casefold())
        actor_hit = flows["actor"].map(lambda n: isinstance(n, str) and text in n.casefold())
        flows = flows[funder_hit | actor_hit]
    flows = flows.groupby(
        ["funder", "funder_sector", "actor", "actor_sector", "problem_id", "problem"],
        dropna=False,
        as_index=False,
    )["amount"].sum()
    return flows.sort_values(["problem", "funder", "actor"], na_position="last").reset_index(
        drop=True
    )[FLOW_COLUMNS]
