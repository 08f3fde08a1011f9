"""Backward-map analytics: causal importance along the factor graph, actors, gaps and leverage.

Pure functions over pandas frames; the dashboard draws :meth:`BackwardMap.elements` and the
scoring uses the vectorised :func:`map_metrics` for every problem at once.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from triage.vocabulary import ALL_SECTORS, CORE_SECTORS, SECTOR_WORDS

# How much of a factor the city can move: it controls it, influences it, or cannot reach it.
# "Outside" is not zero because the office can still name the problem and convene others.
REACH_VALUE: dict[str, float] = {"controls": 1.0, "influences": 0.5, "outside": 0.1}
# How far to trust a factor's place on the map, by the strength of evidence behind it.
EVIDENCE_VALUE: dict[str, float] = {"strong": 1.0, "moderate": 0.75, "weak": 0.5, "anecdotal": 0.25}
# Leverage: how much the presence and stance of actors on a factor helps the office move it.
WILLINGNESS: dict[str, float] = {
    "complementary": 1.0,
    "mixed": 0.7,
    "indifferent": 0.5,
    "none": 0.3,
    "competing": 0.2,
}
LEVERAGE_LIMIT = 5

FACTOR_COLUMNS = ["id", "problem_id", "title", "reach", "evidence", "weight", "indicator_id"]
LINK_COLUMNS = ["factor_id", "parent_id"]
ENGAGEMENT_COLUMNS = [
    "id",
    "actor_id",
    "problem_id",
    "factor_id",
    "role",
    "stance",
    "committed_funding",
]
ACTOR_COLUMNS = ["id", "name", "sector"]


class CausalCycleError(ValueError):
    """The factor links loop back on themselves, so causal importance is undefined."""

    def __init__(self, factor_ids: list[int], titles: dict[int, str] | None = None) -> None:
        names = ", ".join(
            f"{(titles or {}).get(f, f'factor {f}')!s} (#{f})" for f in sorted(factor_ids)
        )
        super().__init__(
            f"The backward map has a loop: {names} feed into each other. "
            "Remove one of the links so that every chain leads back to the problem."
        )
        self.factor_ids = sorted(factor_ids)


def core_sectors_missing(present: Iterable[str]) -> tuple[str, ...]:
    """The figure every view shows as a problem's "missing sectors": the six core sectors
    (``CORE_SECTORS``, in the method's order) with no allied actor engaged. Labour, faith and
    media complete the nine but are never counted as missing; views that list them say so."""
    engaged = set(present)
    return tuple(s for s in CORE_SECTORS if s not in engaged)


def _ensure(frame: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame:
    """The frame with at least ``columns`` (missing ones filled with NA); None is empty."""
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        frame = frame.assign(**{c: pd.NA for c in missing})
    return frame


def _valid_links(factors: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Links whose two ends are factors of the same problem (others cannot be drawn or scored)."""
    links = _ensure(links, LINK_COLUMNS)[LINK_COLUMNS].dropna()
    if links.empty or factors.empty:
        return pd.DataFrame({"factor_id": [], "parent_id": []}, dtype="int64")
    problem_of = pd.Series(factors["problem_id"].to_numpy(), index=factors["id"].to_numpy())
    child = links["factor_id"].astype("int64")
    parent = links["parent_id"].astype("int64")
    same = child.map(problem_of).eq(parent.map(problem_of)) & child.ne(parent)
    return (
        pd.DataFrame({"factor_id": child[same], "parent_id": parent[same]})
        .drop_duplicates()
        .reset_index(drop=True)
    )


def _topological_order(ids: list[int], links: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Factors ordered parents-first (Kahn's algorithm) and the ones left inside or below a loop.

    Plain Python over dicts: the whole city has a few thousand factors, so this is milliseconds.
    """
    parents: dict[int, list[int]] = defaultdict(list)
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in zip(links["factor_id"], links["parent_id"], strict=True):
        parents[int(child)].append(int(parent))
        children[int(parent)].append(int(child))
    waiting = {f: len(parents[f]) for f in ids}
    ready = deque(sorted(f for f, n in waiting.items() if n == 0))
    order: list[int] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for child in sorted(children[node]):
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    stuck = sorted(f for f, n in waiting.items() if n > 0)
    return order, stuck


def _cycle_members(stuck: list[int], links: pd.DataFrame) -> list[int]:
    """Of the factors Kahn could not order, the ones actually on a loop (not merely below one)."""
    stuck_set = set(stuck)
    inner = links[links["factor_id"].isin(stuck_set) & links["parent_id"].isin(stuck_set)]
    # Peel off factors that no stuck factor feeds: they sit below a loop, not on it.
    members = set(stuck_set)
    changed = True
    while changed:
        changed = False
        fed = set(inner.loc[inner["factor_id"].isin(members), "parent_id"])
        feeding = set(inner.loc[inner["parent_id"].isin(members), "factor_id"])
        keep = members & fed & feeding
        if keep != members:
            members, changed = keep, True
    return sorted(members or stuck_set)


def causal_importance(
    factors: pd.DataFrame, links: pd.DataFrame, *, on_cycle: str = "raise"
) -> pd.DataFrame:
    """Each factor's causal importance to its problem, propagated backward along the links.

    In: ``factors`` (id, problem_id, title, weight), ``links`` (factor_id, parent_id: the
    factor contributes to the parent; a factor with no parent contributes to the problem).
    Out: one row per factor with columns id, problem_id, causal_importance, depth (1 = feeds
    the problem directly) and in_cycle (bool), in the order of ``factors``.

    A factor's importance is its weight times the importance of everything it feeds, summed
    over paths; the problem itself has importance 1. So a top-level factor of weight 0.8 has
    importance 0.8 and a factor of weight 0.5 under it has 0.4 ("half of an 0.8 cause").
    Sums over several paths can exceed 1; the scores only ever use shares of the total.

    A loop makes this undefined: ``on_cycle="raise"`` raises :class:`CausalCycleError`
    naming the factors on it; ``on_cycle="flatten"`` ignores the links of any problem with a
    loop (its factors count at face value, as if they fed the problem directly) and marks its
    factors ``in_cycle`` so the explanation can ask for the map to be fixed.
    """
    factors = _ensure(factors, FACTOR_COLUMNS)
    out_columns = ["id", "problem_id", "causal_importance", "depth", "in_cycle"]
    if factors.empty:
        dtypes = ("int64", "int64", "float64", "int64", "bool")
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(out_columns, dtypes, strict=True)}
        )
    ids = [int(i) for i in factors["id"]]
    weights = dict(zip(ids, pd.to_numeric(factors["weight"]).fillna(0.0).clip(0, 1), strict=True))
    problem_of = dict(zip(ids, factors["problem_id"].astype("int64"), strict=True))
    links = _valid_links(factors, links)
    order, stuck = _topological_order(ids, links)
    in_cycle: set[int] = set()
    if stuck:
        members = _cycle_members(stuck, links)
        if on_cycle == "raise":
            titles = dict(zip(ids, factors["title"].astype(str), strict=True))
            raise CausalCycleError(members, titles)
        bad_problems = {problem_of[f] for f in stuck}
        in_cycle = {f for f in ids if problem_of[f] in bad_problems}
        links = links[~links["factor_id"].map(problem_of).isin(bad_problems)]
        order, _ = _topological_order(ids, links)
    parents: dict[int, list[int]] = defaultdict(list)
    for child, parent in zip(links["factor_id"], links["parent_id"], strict=True):
        parents[int(child)].append(int(parent))
    importance: dict[int, float] = {}
    depth: dict[int, int] = {}
    for node in order:
        above = parents.get(node)
        if not above:
            importance[node] = weights[node]
            depth[node] = 1
        else:
            importance[node] = weights[node] * sum(importance[p] for p in above)
            depth[node] = 1 + min(depth[p] for p in above)
    return pd.DataFrame(
        {
            "id": ids,
            "problem_id": [problem_of[f] for f in ids],
            "causal_importance": [importance[f] for f in ids],
            "depth": [depth[f] for f in ids],
            "in_cycle": [f in in_cycle for f in ids],
        }
    )


def map_metrics(
    factors: pd.DataFrame,
    links: pd.DataFrame,
    engagements: pd.DataFrame,
    actors: pd.DataFrame,
    problem_ids: list[int] | None = None,
) -> pd.DataFrame:
    """Per-problem numbers the scoring takes from the backward map, for every problem at once.

    In: ``factors`` (id, problem_id, title, reach, evidence, weight), ``links`` (factor_id,
    parent_id), ``engagements`` (actor_id, problem_id, factor_id, stance, committed_funding),
    ``actors`` (id, sector). Out: index problem_id (all of ``problem_ids`` when given) with

    - factors: how many causal factors are mapped;
    - reach_share: the map's reach, weighted by causal importance (controls 1, influences 0.5,
      outside 0.1): "62% of the causal weight is within city reach"; NaN without factors;
    - uncovered_share: share of causal importance on factors no actor is engaged on; NaN
      without factors; uncovered_factors: how many such factors;
    - evidence_quality: causal-importance-weighted evidence (strong 1 .. anecdotal 0.25);
    - sectors_engaged: distinct sectors of actors engaged on the problem (any stance but
      competing); committed_funding: funding committed by those actors (USD);
    - engagements, competing_engagements: counts; has_cycle: the map had a loop (flattened).
    """
    factors = _ensure(factors, FACTOR_COLUMNS).dropna(subset=["id", "problem_id"])
    factors = factors.astype({"id": "int64", "problem_id": "int64"})
    engagements = _ensure(engagements, ENGAGEMENT_COLUMNS)
    actors = _ensure(actors, ACTOR_COLUMNS)
    ci = causal_importance(factors, links, on_cycle="flatten")
    f = factors[["id", "problem_id", "reach", "evidence"]].merge(
        ci[["id", "causal_importance", "in_cycle"]], on="id", how="left"
    )
    f = f.assign(problem_id=f["problem_id"].astype("int64"))
    factor_eng = engagements.dropna(subset=["factor_id"])
    covered = set(factor_eng["factor_id"].astype("int64"))
    ci_values = f["causal_importance"].astype(float)
    f = f.assign(
        ci=ci_values,
        reach_ci=ci_values * f["reach"].map(REACH_VALUE).fillna(REACH_VALUE["outside"]),
        evidence_ci=ci_values * f["evidence"].map(EVIDENCE_VALUE).fillna(0.5),
        uncovered=~f["id"].astype("int64").isin(covered),
    )
    f = f.assign(uncovered_ci=f["ci"].where(f["uncovered"], 0.0))
    g = f.groupby("problem_id").agg(
        factors=("id", "count"),
        ci=("ci", "sum"),
        reach_ci=("reach_ci", "sum"),
        evidence_ci=("evidence_ci", "sum"),
        uncovered_ci=("uncovered_ci", "sum"),
        uncovered_factors=("uncovered", "sum"),
        has_cycle=("in_cycle", "any"),
    )
    # A map whose weights are all zero says nothing about reach: treat it as unmapped.
    total = g["ci"].where(g["ci"] > 0)
    out = pd.DataFrame(
        {
            "factors": g["factors"],
            "reach_share": g["reach_ci"] / total,
            "uncovered_share": g["uncovered_ci"] / total,
            "uncovered_factors": g["uncovered_factors"],
            "evidence_quality": (g["evidence_ci"] / total).fillna(0.0),
            "has_cycle": g["has_cycle"].astype(bool),
        }
    )
    e = engagements.dropna(subset=["problem_id", "actor_id"])
    e = e.assign(
        problem_id=e["problem_id"].astype("int64"),
        sector=e["actor_id"].map(pd.Series(actors["sector"].to_numpy(), index=actors["id"])),
        funding=pd.to_numeric(e["committed_funding"]).fillna(0.0),
        competing=e["stance"].eq("competing"),
    )
    # Competing actors pull the other way: they neither count as capacity nor as coverage.
    allied = e[~e["competing"]]
    eg = pd.DataFrame(
        {
            "sectors_engaged": allied.groupby("problem_id")["sector"].nunique(),
            "committed_funding": allied.groupby("problem_id")["funding"].sum(),
            "engagements": e.groupby("problem_id").size(),
            "competing_engagements": e.groupby("problem_id")["competing"].sum(),
        }
    )
    index = pd.Index(
        sorted(set(problem_ids) if problem_ids is not None else set(out.index) | set(eg.index)),
        name="problem_id",
        dtype="int64",
    )
    result = out.reindex(index).join(eg.reindex(index))
    fill = {
        "factors": 0,
        "uncovered_factors": 0,
        "evidence_quality": 0.0,
        "sectors_engaged": 0,
        "committed_funding": 0.0,
        "engagements": 0,
        "competing_engagements": 0,
    }
    result = result.fillna(fill).infer_objects()
    result["has_cycle"] = result["has_cycle"].eq(True)
    for column in ("factors", "uncovered_factors", "sectors_engaged", "engagements"):
        result[column] = result[column].astype("int64")
    result["competing_engagements"] = result["competing_engagements"].astype("int64")
    return result


@dataclass(frozen=True)
class ActorOnFactor:
    """One engagement as drawn on the map: who, which sector, doing what, with which stance."""

    actor_id: int
    name: str
    sector: str
    role: str
    stance: str
    committed_funding: float


@dataclass(frozen=True)
class FactorNode:
    """A causal factor with its place on the map and the actors astride it."""

    id: int
    title: str
    reach: str
    evidence: str
    weight: float
    causal_importance: float
    share: float  # of the map's total causal importance
    depth: int
    indicator_id: int | None
    actors: tuple[ActorOnFactor, ...]
    effort: str  # none, single, complementary, competing, mixed
    effort_note: str
    leverage: float


@dataclass(frozen=True)
class MapEdge:
    """``source`` contributes to ``target`` (a factor id, or None for the problem itself)."""

    source: int
    target: int | None


@dataclass(frozen=True)
class LeveragePoint:
    """A factor worth pushing on, with its score and the one-sentence reason."""

    factor_id: int
    title: str
    score: float
    reason: str


@dataclass(frozen=True)
class BackwardMap:
    """One problem's backward map as plain data: draw it, list its gaps, rank its levers."""

    problem_id: int
    title: str
    factors: tuple[FactorNode, ...]
    edges: tuple[MapEdge, ...]
    problem_actors: tuple[ActorOnFactor, ...]  # engaged on the problem as a whole
    uncovered: tuple[int, ...]  # factor ids nobody is engaged on, most important first
    sectors_present: tuple[str, ...]
    sectors_missing: tuple[str, ...]
    contested: tuple[int, ...]  # factor ids with competing efforts
    leverage_points: tuple[LeveragePoint, ...]
    reach_share: float | None
    uncovered_share: float | None
    summary: tuple[str, ...] = field(default=())

    @property
    def missing_core_sectors(self) -> tuple[str, ...]:
        """The missing sectors as every view counts them (:func:`core_sectors_missing`)."""
        return core_sectors_missing(self.sectors_present)

    @property
    def other_sectors_missing(self) -> tuple[str, ...]:
        """Sectors beyond the core six (labour, faith, media) with nobody engaged."""
        return tuple(s for s in self.sectors_missing if s not in CORE_SECTORS)

    def factor_frame(self) -> pd.DataFrame:
        """The factors as a table: one row per factor, actors as a comma-separated string."""
        rows = [
            {
                "id": f.id,
                "title": f.title,
                "reach": f.reach,
                "evidence": f.evidence,
                "weight": f.weight,
                "causal_importance": f.causal_importance,
                "share": f.share,
                "depth": f.depth,
                "actors": ", ".join(a.name for a in f.actors),
                "effort": f.effort,
                "leverage": f.leverage,
            }
            for f in self.factors
        ]
        return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)

    def elements(self, *, include_actors: bool = True) -> list[dict[str, Any]]:
        """Cytoscape elements: the problem, its factors, links, and (optionally) the actors.

        Node ids are ``problem-<id>``, ``factor-<id>`` and ``actor-<id>``; classes carry reach,
        evidence, ``uncovered``, ``contested`` and ``leverage`` for the stylesheet.
        """
        problem_node = f"problem-{self.problem_id}"
        leverage_ids = {lp.factor_id for lp in self.leverage_points}
        elements: list[dict[str, Any]] = [
            {
                "data": {"id": problem_node, "label": self.title, "kind": "problem"},
                "classes": "problem",
            }
        ]
        for f in self.factors:
            classes = ["factor", f"reach-{f.reach}", f"evidence-{f.evidence}"]
            if not f.actors:
                classes.append("uncovered")
            if f.effort in {"competing", "mixed"}:
                classes.append("contested")
            if f.id in leverage_ids:
                classes.append("leverage")
            elements.append(
                {
                    "data": {
                        "id": f"factor-{f.id}",
                        "label": f.title,
                        "kind": "factor",
                        "reach": f.reach,
                        "evidence": f.evidence,
                        "weight": f.weight,
                        "importance": round(f.causal_importance, 4),
                        "share": round(f.share, 4),
                        "actors": len(f.actors),
                        "effort": f.effort,
                        "leverage": round(f.leverage, 4),
                    },
                    "classes": " ".join(classes),
                }
            )
        for edge in self.edges:
            target = problem_node if edge.target is None else f"factor-{edge.target}"
            elements.append(
                {
                    "data": {
                        "id": f"link-{edge.source}-{target}",
                        "source": f"factor-{edge.source}",
                        "target": target,
                        "kind": "cause",
                    },
                    "classes": "cause",
                }
            )
        if include_actors:
            elements.extend(self._actor_elements(problem_node))
        return elements

    def _actor_elements(self, problem_node: str) -> list[dict[str, Any]]:
        seen: dict[int, ActorOnFactor] = {}
        engaged: list[tuple[ActorOnFactor, str]] = []
        for f in self.factors:
            for a in f.actors:
                seen.setdefault(a.actor_id, a)
                engaged.append((a, f"factor-{f.id}"))
        for a in self.problem_actors:
            seen.setdefault(a.actor_id, a)
            engaged.append((a, problem_node))
        out: list[dict[str, Any]] = [
            {
                "data": {"id": f"actor-{a.actor_id}", "label": a.name, "kind": "actor"},
                "classes": f"actor sector-{a.sector}",
            }
            for a in sorted(seen.values(), key=lambda a: a.actor_id)
        ]
        done: set[str] = set()
        for a, target in engaged:
            edge_id = f"engages-{a.actor_id}-{target}-{a.role}"
            if edge_id in done:
                continue
            done.add(edge_id)
            out.append(
                {
                    "data": {
                        "id": edge_id,
                        "source": f"actor-{a.actor_id}",
                        "target": target,
                        "kind": "engagement",
                        "role": a.role,
                        "stance": a.stance,
                    },
                    "classes": f"engagement stance-{a.stance}",
                }
            )
        return out


def _effort(actors: tuple[ActorOnFactor, ...]) -> tuple[str, str]:
    """Classify the efforts on one factor and say why in a sentence.

    none: nobody; single: one actor; complementary: several, none against the city's aims;
    competing: only actors working against them; mixed: both kinds on the same factor.
    """
    if not actors:
        return "none", "Nobody is working on this factor."
    names = sorted({a.name for a in actors})
    competing = sorted({a.name for a in actors if a.stance == "competing"})
    allied = sorted({a.name for a in actors if a.stance != "competing"})
    if competing and allied:
        return "mixed", f"{_join(competing)} pull against {_join(allied)} on this factor."
    if competing:
        return "competing", f"{_join(competing)} work against the city's aims on this factor."
    if len(names) == 1:
        return "single", f"Only {names[0]} is working on this factor."
    return "complementary", f"{_join(names)} work alongside each other on this factor."


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"


def _factor_stance(actors: tuple[ActorOnFactor, ...]) -> str:
    stances = {a.stance for a in actors}
    if not stances:
        return "none"
    if "competing" in stances:
        return "mixed" if "complementary" in stances else "competing"
    return "complementary" if "complementary" in stances else "indifferent"


def leverage_score(share_of_top: float, reach: str, stance: str) -> float:
    """Leverage = causal importance relative to the map's top factor × reach × willingness.

    All three factors are in [0, 1], so a product is in [0, 1]: a factor must matter, be
    reachable and have actors willing to act before it counts as a lever.
    """
    return float(
        max(0.0, min(1.0, share_of_top))
        * REACH_VALUE.get(reach, REACH_VALUE["outside"])
        * WILLINGNESS.get(stance, WILLINGNESS["none"])
    )


def _leverage_reason(node: FactorNode) -> str:
    reach = {
        "controls": "the city controls it",
        "influences": "the city can influence it",
        "outside": "it is outside city reach",
    }.get(node.reach, "its reach is unknown")
    willing = [a.name for a in node.actors if a.stance == "complementary"]
    if willing:
        who = (
            f"{_join(sorted(set(willing))[:3])}"
            f"{' and others' if len(set(willing)) > 3 else ''} "
            f"{'is' if len(set(willing)) == 1 else 'are'} willing to act"
        )
    elif node.actors:
        who = "the actors there are not yet aligned"
    else:
        who = "nobody is working on it yet"
    return f"'{node.title}' carries {node.share:.0%} of the causal weight, {reach}, and {who}."


def backward_map(
    problem_id: int,
    factors: pd.DataFrame,
    links: pd.DataFrame,
    engagements: pd.DataFrame,
    actors: pd.DataFrame,
    *,
    title: str = "",
) -> BackwardMap:
    """The backward map of one problem, ready to draw and to read.

    In: ``factors`` (id, problem_id, title, reach, evidence, weight, indicator_id),
    ``links`` (factor_id, parent_id), ``engagements`` (id, actor_id, problem_id, factor_id,
    role, stance, committed_funding), ``actors`` (id, name, sector). Rows of other problems
    are ignored, so whole tables can be passed. Raises :class:`CausalCycleError` when the
    factor links of this problem form a loop.

    Leverage points are factors with a positive leverage score (see :func:`leverage_score`),
    best first, at most five; ties go to the lower factor id so the list is reproducible.
    """
    factors = _ensure(factors, FACTOR_COLUMNS)
    factors = factors[factors["problem_id"].astype("int64") == int(problem_id)]
    factors = factors.sort_values("id", kind="stable").reset_index(drop=True)
    links = _valid_links(factors, _ensure(links, LINK_COLUMNS))
    ci = causal_importance(factors, links, on_cycle="raise")
    engagements = _ensure(engagements, ENGAGEMENT_COLUMNS)
    engagements = engagements[engagements["problem_id"].astype("int64") == int(problem_id)]
    actors = _ensure(actors, ACTOR_COLUMNS)
    actor_name = dict(zip(actors["id"].astype("int64"), actors["name"].astype(str), strict=True))
    actor_sector = dict(
        zip(actors["id"].astype("int64"), actors["sector"].astype(str), strict=True)
    )
    factor_ids = set(factors["id"].astype("int64"))

    def on_map(row: Any) -> ActorOnFactor:
        actor_id = int(row.actor_id)
        return ActorOnFactor(
            actor_id=actor_id,
            name=actor_name.get(actor_id, f"actor {actor_id}"),
            sector=actor_sector.get(actor_id, "unknown"),
            role=str(row.role),
            stance=str(row.stance),
            committed_funding=float(row.committed_funding or 0.0),
        )

    by_factor: dict[int, list[ActorOnFactor]] = defaultdict(list)
    problem_actors: list[ActorOnFactor] = []
    for row in engagements.sort_values(["actor_id", "id"], kind="stable").itertuples():
        factor = row.factor_id
        if factor is None or pd.isna(factor) or int(factor) not in factor_ids:
            problem_actors.append(on_map(row))
        else:
            by_factor[int(factor)].append(on_map(row))

    total = float(ci["causal_importance"].sum())
    top = float(ci["causal_importance"].max()) if len(ci) else 0.0
    importance = dict(zip(ci["id"].astype("int64"), ci["causal_importance"], strict=True))
    depth = dict(zip(ci["id"].astype("int64"), ci["depth"], strict=True))
    nodes: list[FactorNode] = []
    for row in factors.itertuples():
        fid = int(row.id)
        on = tuple(by_factor.get(fid, ()))
        effort, note = _effort(on)
        value = float(importance[fid])
        share = value / total if total > 0 else 0.0
        indicator = row.indicator_id
        nodes.append(
            FactorNode(
                id=fid,
                title=str(row.title),
                reach=str(row.reach),
                evidence=str(row.evidence),
                weight=float(row.weight),
                causal_importance=value,
                share=share,
                depth=int(depth[fid]),
                indicator_id=None if indicator is None or pd.isna(indicator) else int(indicator),
                actors=on,
                effort=effort,
                effort_note=note,
                leverage=leverage_score(
                    value / top if top > 0 else 0.0, str(row.reach), _factor_stance(on)
                ),
            )
        )
    parents: dict[int, list[int]] = defaultdict(list)
    for child, parent in zip(links["factor_id"], links["parent_id"], strict=True):
        parents[int(child)].append(int(parent))
    edges = tuple(
        MapEdge(source=n.id, target=p) for n in nodes for p in (sorted(parents[n.id]) or [None])
    )
    ranked = sorted(nodes, key=lambda n: (-round(n.leverage, 9), n.id))
    leverage = tuple(
        LeveragePoint(n.id, n.title, round(n.leverage, 4), _leverage_reason(n))
        for n in ranked
        if n.leverage > 0 and n.reach != "outside"
    )[:LEVERAGE_LIMIT]
    uncovered = tuple(
        n.id for n in sorted(nodes, key=lambda n: (-n.causal_importance, n.id)) if not n.actors
    )
    all_engaged = [a for n in nodes for a in n.actors] + problem_actors
    present = {a.sector for a in all_engaged if a.stance != "competing"}
    sectors_present = tuple(s for s in ALL_SECTORS if s in present)
    sectors_missing = tuple(s for s in ALL_SECTORS if s not in present)
    contested = tuple(n.id for n in nodes if n.effort in {"competing", "mixed"})
    reach_share = (
        sum(n.causal_importance * REACH_VALUE.get(n.reach, 0.1) for n in nodes) / total
        if total > 0
        else None
    )
    uncovered_share = (
        sum(n.causal_importance for n in nodes if not n.actors) / total if total > 0 else None
    )
    result = BackwardMap(
        problem_id=int(problem_id),
        title=title,
        factors=tuple(nodes),
        edges=edges,
        problem_actors=tuple(problem_actors),
        uncovered=uncovered,
        sectors_present=sectors_present,
        sectors_missing=sectors_missing,
        contested=contested,
        leverage_points=leverage,
        reach_share=reach_share,
        uncovered_share=uncovered_share,
    )
    return _with_summary(result)


def _with_summary(bmap: BackwardMap) -> BackwardMap:
    """Attach the plain sentences a chief of staff reads above the drawing."""
    lines: list[str] = []
    if not bmap.factors:
        lines.append("No causal factors are mapped yet: start from the condition and ask why.")
    else:
        lines.append(
            f"{len(bmap.factors)} causal factors are mapped; {bmap.reach_share or 0:.0%} of "
            "their causal weight is within city reach (controls counts fully, influences half)."
        )
        if bmap.uncovered:
            titles = {f.id: f.title for f in bmap.factors}
            named = _join([f"'{titles[i]}'" for i in bmap.uncovered[:2]])
            lines.append(
                f"{len(bmap.uncovered)} factors ({bmap.uncovered_share or 0:.0%} of the causal "
                f"weight) have nobody working on them, the heaviest being {named}."
            )
        if bmap.contested:
            lines.append(f"{len(bmap.contested)} factors have actors pulling in opposite ways.")
    if bmap.missing_core_sectors:
        missing = [SECTOR_WORDS[s] for s in bmap.missing_core_sectors]
        lines.append(f"Sectors not engaged ({len(missing)} of the core six): {', '.join(missing)}.")
    if bmap.leverage_points:
        lines.append(f"Best lever: {bmap.leverage_points[0].reason}")
    return BackwardMap(**{**bmap.__dict__, "summary": tuple(lines)})
