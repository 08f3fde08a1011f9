"""The mayor's attention list: at most seven things that need the mayor this week, each with one
plain sentence of why, and everything else counted in groups one click away.

``attention_list(AttentionInputs) -> AttentionList`` is pure (plain data in, plain data out);
``db.attention`` assembles the inputs for a stored week.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

from triage.vocabulary import DECISION_WORDS

# At most this many items; the rest is counted in groups.
ATTENTION_LIMIT = 7
# An indicator value or a report window is "of this week" when the period it covers ended no
# earlier than this many days before the week began (a weekly value for last week still counts;
# a monthly value for a month that ended weeks ago does not).
DATA_GRACE_DAYS = 7
# A problem that moved this many places or more is a mover (as the weekly review counts them).
BIG_MOVE = 3
# The short list the mayor decides on; decisions due and standing items come from it.
SHORT_LIST = 10
# Decisions due are listed one by one for the best-ranked problems only; the rest are grouped.
DECISIONS_LISTED = 3
# This many problems or more tied at the top score: the list says the ranking can't decide.
TIED_RANKING_MIN = 3
STANDING_TOP = 3
# Kinds of early warning about report counts; every other kind is about an indicator.
REPORT_KINDS = frozenset({"surge", "new_category"})
LATE_DATA_KINDS = frozenset({"stale"})
KIND_ORDER = ("uncovered_surge", "emerging", "moved", "decision_due", "standing")


@dataclass(frozen=True)
class RankedProblem:
    """One problem of the week's stored ranking, with its movement and decisions."""

    problem_id: int
    title: str
    rank: int
    movement: str = ""  # up, down, same, new; "" when no earlier week is stored
    rank_change: int | None = None  # + = up
    previous_rank: int | None = None
    decision: str | None = None  # the decision in force this week
    last_decision: str | None = None
    last_decision_week: str | None = None
    trend: str = "steady"  # worsening, steady, improving
    priority: float | None = None  # the stored priority score (ties mean the data can't decide)


@dataclass(frozen=True)
class AlertEpisode:
    """One open early-warning episode, as the attention list reads it.

    ``data_date`` is the last day the data it is about covers (a report window's last day, or
    the end of the indicator period of the value it judged); ``first_seen`` the day the
    detector first raised it. ``observed`` and ``expected`` are in ``unit`` (reports in the
    window for report counts; for an indicator the value and the level it was judged against).
    """

    alert_id: int
    kind: str  # surge, new_category, threshold, trend, seasonal, stale, ...
    severity: str  # as stored (from impact, :func:`impact_severity`): info, warning, critical
    state: str  # new, acknowledged, linked
    first_seen: dt.date
    last_seen: dt.date
    data_date: dt.date | None
    subject: str  # the category or indicator name
    observed: float | None = None
    expected: float | None = None
    window_days: int | None = None
    district: str | None = None  # None: citywide (or an indicator)
    category_id: int | None = None
    indicator_id: int | None = None
    unit: str = ""
    direction: str = ""  # up (higher is better) or down
    period: dt.date | None = None  # an indicator value's period
    cadence: str = ""  # weekly, monthly, quarterly, annual (indicators)
    problem_ids: tuple[int, ...] = ()
    problem_titles: tuple[str, ...] = ()
    method: str = ""  # the detector's method (surge-7d, threshold-critical, ...); "" unknown

    @property
    def about_reports(self) -> bool:
        """True for a warning about citizen report counts (a category, maybe one district)."""
        return self.kind in REPORT_KINDS and self.category_id is not None

    @property
    def covered(self) -> bool:
        """True when some problem covers it (linked, or through its category or indicator)."""
        return bool(self.problem_ids)


@dataclass(frozen=True)
class AttentionInputs:
    """Everything the list is built from, for one ISO week."""

    week: str
    week_start: dt.date
    week_end: dt.date
    ranking: tuple[RankedProblem, ...] = ()
    episodes: tuple[AlertEpisode, ...] = ()
    compared: bool = False  # an earlier week is stored, so movement means something
    previous_week: str | None = None
    late_indicators: int = 0  # overdue indicator data (for department heads, not the mayor)
    can_open_problem: bool = False
    can_map_category: bool = False


@dataclass(frozen=True)
class AttentionAction:
    """Something the viewer can do from an item: open a problem, map a category."""

    key: str  # open_problem, map_category
    label: str
    link: str = ""


@dataclass(frozen=True)
class AttentionItem:
    """One line of the list; ``impact`` orders the list (higher first) and is never shown."""

    kind: str
    title: str
    reason: str
    impact: float
    problem_id: int | None = None
    link: str = ""
    alert_id: int | None = None
    category_id: int | None = None
    actions: tuple[AttentionAction, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The item as JSON-ready data (without the ordering figure)."""
        out: dict[str, object] = {"kind": self.kind, "title": self.title, "reason": self.reason}
        if self.problem_id is not None:
            out["problem_id"] = self.problem_id
        if self.link:
            out["link"] = self.link
        if self.alert_id is not None:
            out["alert_id"] = self.alert_id
        if self.category_id is not None:
            out["category_id"] = self.category_id
        if self.actions:
            out["actions"] = [asdict(action) for action in self.actions]
        return out


@dataclass(frozen=True)
class AttentionGroup:
    """Everything else, counted: a label, how many, and where they are."""

    key: str
    label: str
    count: int
    link: str


@dataclass(frozen=True)
class AttentionList:
    """The week's list (at most :data:`ATTENTION_LIMIT` items) and the groups one click away."""

    week: str
    week_start: dt.date
    week_end: dt.date
    items: tuple[AttentionItem, ...] = ()
    groups: tuple[AttentionGroup, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: ``week``, ``attention`` (the items) and ``elsewhere`` (the groups)."""
        return {
            "week": self.week,
            "week_start": self.week_start.isoformat(),
            "week_end": self.week_end.isoformat(),
            "attention": [item.as_dict() for item in self.items],
            "elsewhere": [asdict(group) for group in self.groups],
        }


# ---------------------------------------------------------------- wording


def short_day(value: dt.date) -> str:
    """``Dec 5``."""
    return f"{value:%b} {value.day}"


def count_text(value: float) -> str:
    """A count as people read it: ``615``, ``1,204``."""
    return f"{round(value):,}"


def usual_text(expected: float | None) -> str:
    """``about 2 usually``, ``almost none usually``."""
    if expected is None or not math.isfinite(expected) or expected < 0.5:
        return "almost none usually"
    return f"about {count_text(expected)} usually"


def value_text(value: float | None, unit: str) -> str:
    """An indicator value with its unit: ``46``, ``34.2%``, ``2,298``, ``12.5 days``."""
    if value is None or not math.isfinite(value):
        return "no value"
    number = f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"
    if unit in {"%", "percent"}:
        return f"{number}%"
    return f"{number} {unit}" if unit and unit not in {"count", "number"} else number


def _places(change: int) -> str:
    return f"{abs(change)} place{'s' if abs(change) != 1 else ''}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# ---------------------------------------------------------------- impact


def data_of_week(data_date: dt.date | None, week_start: dt.date, week_end: dt.date) -> bool:
    """Data that ends on ``data_date`` belongs to the week (see :data:`DATA_GRACE_DAYS`)."""
    if data_date is None:
        return False
    return week_start - dt.timedelta(days=DATA_GRACE_DAYS) <= data_date <= week_end


def is_new_warning(
    kind: str,
    first_seen: dt.date,
    data_date: dt.date | None,
    week_start: dt.date,
    week_end: dt.date,
) -> bool:
    """The one rule for a "new" early warning, wherever one is counted (the attention list,
    the priorities page, the weekly brief): first seen in the week, about data of the week,
    and not late data (kind ``stale``, a matter for the department, not the mayor)."""
    return (
        kind not in LATE_DATA_KINDS
        and week_start <= first_seen <= week_end
        and data_of_week(data_date, week_start, week_end)
    )


def is_of_week(episode: AlertEpisode, week_start: dt.date, week_end: dt.date) -> bool:
    """The data an episode is about belongs to this week (see :data:`DATA_GRACE_DAYS`)."""
    return data_of_week(episode.data_date, week_start, week_end)


def is_new(episode: AlertEpisode, week_start: dt.date, week_end: dt.date) -> bool:
    """New this week (:func:`is_new_warning`): first seen in the week, about data of the week,
    not late data."""
    return is_new_warning(episode.kind, episode.first_seen, episode.data_date, week_start, week_end)


def _handled(episode: AlertEpisode) -> float:
    """Less urgent when somebody already has it: acknowledged, or covered by a problem."""
    factor = 0.85 if episode.state == "acknowledged" else 1.0
    if episode.state == "linked":
        factor = 0.7
    elif episode.covered:
        factor *= 0.8
    return factor


def _persistence(episode: AlertEpisode) -> float:
    days = (episode.last_seen - episode.first_seen).days + 1
    return 0.8 + 0.2 * min(max(days, 1) / 7.0, 1.0)


def detector_level(episode: AlertEpisode) -> str:
    """How loud the detector itself rated the episode, never the stored (calibrated) severity
    when the method says it: a threshold's method names its level (``threshold-critical``);
    other methods of a known detector count as warnings. Without a method (an episode built by
    hand), the stored severity."""
    method = episode.method
    if method.startswith("threshold-"):
        return method.removeprefix("threshold-")
    return "warning" if method else episode.severity


def _severity(episode: AlertEpisode) -> float:
    if episode.method and episode.about_reports:
        return 1.0  # a report count's size is in its departure, not in a label
    return {"critical": 1.0, "warning": 0.9}.get(detector_level(episode), 0.75)


def report_departure(observed: float | None, expected: float | None) -> float:
    """How far a report count departs from the usual, 0 to 1: reports beyond the usual on a
    log scale (about 1,000 extra reports is the top), damped when the ratio is modest."""
    if observed is None or not math.isfinite(observed):
        return 0.0
    usual = expected if expected is not None and math.isfinite(expected) else 0.0
    excess = max(observed - max(usual, 0.0), 0.0)
    size = min(math.log2(1.0 + excess) / 10.0, 1.0)
    ratio = observed / max(usual, 1.0)
    return size * min(max(math.log2(max(ratio, 1.0)) / 3.0, 0.1), 1.0)


def indicator_departure(episode: AlertEpisode) -> float:
    """How far an indicator value departs from the level it was judged against, 0 to 1: the
    detector's level sets the base (:func:`detector_level`), the relative gap (a quarter or
    more is the top) the rest."""
    base = {"critical": 0.8, "warning": 0.55}.get(detector_level(episode), 0.4)
    observed, expected = episode.observed, episode.expected
    if observed is None or expected is None or not (math.isfinite(observed)):
        return base * 0.5
    gap = abs(observed - expected) / max(abs(expected), 1e-9)
    return base * (0.5 + 0.5 * min(gap / 0.25, 1.0))


def episode_impact(episode: AlertEpisode, districts: int = 1) -> float:
    """Impact of an early warning, 0 to 1: size of the departure × how many people or districts
    it touches × how long it has lasted × whether somebody already handles it."""
    if episode.about_reports:
        size = report_departure(episode.observed, episode.expected) * _severity(episode)
        breadth = 1.0 if episode.district is None else min(0.7 + 0.1 * (districts - 1), 1.0)
    else:
        size = indicator_departure(episode)
        breadth = 0.9
    return size * breadth * _persistence(episode) * _handled(episode)


# ---------------------------------------------------------------- severity from impact

# Impact (see :func:`episode_impact`) from which an episode is Critical, else Warning, else
# Information. A 600-report surge nobody covers is about 0.8; a fresh critical threshold
# nobody handles about 0.6; a 50-report surge in one district about 0.3.
CRITICAL_IMPACT = 0.5
WARNING_IMPACT = 0.2
# An indicator value about a period that ended this many days before the episode was last
# seen is old news: at most Warning, however far it departs.
OLD_DATA_DAYS = 62


def late_data_severity(episode: AlertEpisode) -> str:
    """Late data (kind ``stale``) is a department-management matter: a Warning to its
    department however late (never Critical, never on the mayor's list)."""
    del episode
    return "warning"


def impact_severity(episode: AlertEpisode, districts: int = 1) -> str:
    """The severity every view shows for an open episode (the alerts page, its filters, the
    brief, the stored ``alerts.severity``), from its impact: size of the departure, districts
    touched, persistence, already handled or not (:func:`episode_impact`, the same figure that
    orders the attention list). Late data is at most Warning (:func:`late_data_severity`), and
    so is a value about a period long gone (:data:`OLD_DATA_DAYS`)."""
    if episode.kind in LATE_DATA_KINDS:
        return late_data_severity(episode)
    impact = episode_impact(episode, districts)
    level = (
        "critical"
        if impact >= CRITICAL_IMPACT
        else "warning"
        if impact >= WARNING_IMPACT
        else "info"
    )
    old = (
        episode.data_date is not None
        and not episode.about_reports
        and (episode.last_seen - episode.data_date).days > OLD_DATA_DAYS
    )
    return "warning" if level == "critical" and old else level


def report_spread(episodes: Iterable[AlertEpisode]) -> dict[int, int]:
    """Per report category, in how many districts its open episodes are (at least 1): the
    breadth :func:`episode_impact` weighs, as the attention list counts it."""
    found: dict[int, set[str]] = {}
    for episode in episodes:
        if episode.about_reports:
            names = found.setdefault(int(episode.category_id or 0), set())
            if episode.district:
                names.add(episode.district)
    return {category: max(len(names), 1) for category, names in found.items()}


def calibrated_severities(episodes: Sequence[AlertEpisode]) -> dict[int, str]:
    """:func:`impact_severity` of every episode, by alert id (report episodes weighed by the
    districts their category rises in, :func:`report_spread`)."""
    spread = report_spread(episodes)
    return {
        e.alert_id: impact_severity(
            e, spread.get(int(e.category_id or 0), 1) if e.about_reports else 1
        )
        for e in episodes
    }


# ---------------------------------------------------------------- sentences


def _window_text(episode: AlertEpisode) -> str:
    days = episode.window_days or 1
    end = episode.data_date or episode.last_seen
    return f"in the {days} days to {short_day(end)}" if days > 1 else f"on {short_day(end)}"


def report_reason(episode: AlertEpisode, districts: Sequence[str] = ()) -> str:
    """``615 'Street not plowed' reports in the 7 days to Dec 5, against about 2 usually.``"""
    where = f" in {episode.district}" if episode.district else ""
    observed = episode.observed if episode.observed is not None else 0.0
    text = (
        f"{count_text(observed)} '{episode.subject}' reports{where} {_window_text(episode)}, "
        f"against {usual_text(episode.expected)}"
    )
    others = [d for d in districts if d and d != episode.district]
    if others:
        text += f"; also rising in {_listing(others)}"
    return text + "."


def _listing(names: Sequence[str], limit: int = 3) -> str:
    shown = list(names[:limit])
    rest = len(names) - len(shown)
    return ", ".join(shown) + (f" and {rest} more" if rest > 0 else "")


def _period_text(episode: AlertEpisode) -> str:
    """`` in the week of Nov 9``, `` in October 2026``, `` in the quarter from Oct 1``."""
    period = episode.period
    if period is None:
        return ""
    if episode.cadence == "weekly":
        return f" in the week of {short_day(period)}"
    if episode.cadence == "monthly":
        return f" in {period:%B %Y}"
    if episode.cadence == "annual":
        return f" in {period.year}"
    return f" in the {episode.cadence or 'period'} from {short_day(period)} {period.year}"


def indicator_reason(episode: AlertEpisode) -> str:
    """One sentence on an indicator value: where it is, against what, which way is better."""
    value = value_text(episode.observed, episode.unit)
    level = value_text(episode.expected, episode.unit)
    better = {"down": " (lower is better)", "up": " (higher is better)"}.get(episode.direction, "")
    if episode.kind == "threshold":
        word = "critical" if detector_level(episode) == "critical" else "warning"
        side = {"up": "below", "down": "above"}.get(episode.direction, "past")
        return (
            f"{episode.subject} was {value}{_period_text(episode)}, {side} its {word} level "
            f"of {level}{better}."
        )
    if episode.kind == "trend":
        return (
            f"{episode.subject} has moved the wrong way reading after reading, to {value} "
            f"against a typical {level}{better}."
        )
    if episode.kind == "seasonal":
        return (
            f"{episode.subject} was {value}{_period_text(episode)}, against about {level} usual "
            f"for the time of year{better}."
        )
    return f"{episode.subject} was {value}{_period_text(episode)}, against {level}{better}."


def episode_reason(episode: AlertEpisode, districts: Sequence[str] = ()) -> str:
    """The plain sentence for an early warning."""
    if episode.about_reports:
        return report_reason(episode, districts)
    return indicator_reason(episode)


# ---------------------------------------------------------------- candidates


def problem_link(problem_id: int) -> str:
    """Where a problem's page is."""
    return f"/problems/{int(problem_id)}"


def alert_link(alert_id: int) -> str:
    """Where an early warning is shown with its evidence."""
    return f"/alerts?alert={int(alert_id)}"


def mapping_link() -> str:
    """The administration tab that maps report categories to problems."""
    return "/admin?tab=mapping"


def _surge_candidates(inputs: AttentionInputs) -> list[AttentionItem]:
    """Surges in categories no problem covers, one item per category (its strongest series)."""
    by_category: dict[int, list[AlertEpisode]] = {}
    for episode in inputs.episodes:
        if episode.kind in LATE_DATA_KINDS or not episode.about_reports or episode.covered:
            continue
        if not is_of_week(episode, inputs.week_start, inputs.week_end):
            continue
        by_category.setdefault(int(episode.category_id or 0), []).append(episode)
    items = []
    for category_id, episodes in by_category.items():
        districts = sorted({e.district for e in episodes if e.district})
        spread = max(len(districts), 1)
        best = max(episodes, key=lambda e: (episode_impact(e, spread), -e.alert_id))
        actions = []
        if inputs.can_open_problem:
            actions.append(AttentionAction("open_problem", "Open a problem"))
        if inputs.can_map_category:
            actions.append(AttentionAction("map_category", "Map this category", mapping_link()))
        new = " (new this week)" if is_new(best, inputs.week_start, inputs.week_end) else ""
        items.append(
            AttentionItem(
                kind="uncovered_surge",
                title=f"Surge in '{best.subject}' reports{new}",
                reason=report_reason(best, districts)[:-1]
                + "; no problem on the office's list covers this category.",
                impact=episode_impact(best, spread),
                link=alert_link(best.alert_id),
                alert_id=best.alert_id,
                category_id=category_id,
                actions=tuple(actions),
            )
        )
    return items


def _emerging_candidates(inputs: AttentionInputs) -> list[AttentionItem]:
    """New early warnings (first seen this week, about data of this week) on known problems,
    one item per problem (its strongest warning, with how many more there are)."""
    by_problem: dict[int, list[AlertEpisode]] = {}
    unlinked: list[AlertEpisode] = []
    for episode in inputs.episodes:
        if episode.kind in LATE_DATA_KINDS or not is_new(
            episode, inputs.week_start, inputs.week_end
        ):
            continue
        if episode.about_reports and not episode.covered:
            continue  # an uncovered surge: its own kind of item
        if not episode.problem_ids:
            unlinked.append(episode)
            continue
        by_problem.setdefault(episode.problem_ids[0], []).append(episode)
    items = []
    for problem_id, episodes in by_problem.items():
        best = max(episodes, key=lambda e: (episode_impact(e), -e.alert_id))
        title = best.problem_titles[0] if best.problem_titles else best.subject
        reason = episode_reason(best)
        if len(episodes) > 1:
            reason = reason[:-1] + f"; {_plural(len(episodes) - 1, 'other new warning')} on it."
        items.append(
            AttentionItem(
                kind="emerging",
                title=f"New warning: {title}",
                reason=reason,
                impact=episode_impact(best),
                problem_id=problem_id,
                link=problem_link(problem_id),
                alert_id=best.alert_id,
            )
        )
    for episode in unlinked:
        items.append(
            AttentionItem(
                kind="emerging",
                title=f"New warning: {episode.subject}",
                reason=episode_reason(episode),
                impact=episode_impact(episode),
                link=alert_link(episode.alert_id),
                alert_id=episode.alert_id,
            )
        )
    return items


def _moved_candidates(inputs: AttentionInputs) -> list[AttentionItem]:
    """Problems that moved most: three places or more, or new on the short list."""
    if not inputs.compared:
        return []
    items = []
    since = f" since {inputs.previous_week}" if inputs.previous_week else " since last week"
    for problem in inputs.ranking:
        change = problem.rank_change or 0
        if problem.movement == "new" and problem.rank <= SHORT_LIST:
            reason = f"New on the list at #{problem.rank} this week."
            impact = 0.45
        elif abs(change) >= BIG_MOVE and (
            problem.rank <= SHORT_LIST or (problem.previous_rank or 99) <= SHORT_LIST
        ):
            direction = "Up" if change > 0 else "Down"
            reason = f"{direction} {_places(change)} to #{problem.rank}{since}"
            if change > 0 and problem.rank <= SHORT_LIST < (problem.previous_rank or 0):
                reason += ", onto the short list"
            elif change < 0 and problem.rank > SHORT_LIST >= (problem.previous_rank or 99):
                reason += ", off the short list"
            reason += "."
            impact = min(0.25 + 0.04 * abs(change), 0.6)
        else:
            continue
        items.append(
            AttentionItem(
                kind="moved",
                title=problem.title,
                reason=reason,
                impact=impact,
                problem_id=problem.problem_id,
                link=problem_link(problem.problem_id),
            )
        )
    return items


def decisions_due(ranking: Iterable[RankedProblem]) -> list[RankedProblem]:
    """Problems of the short list without a decision this week, by rank."""
    return sorted(
        (p for p in ranking if p.rank <= SHORT_LIST and not p.decision), key=lambda p: p.rank
    )


def tied_at_top(ranking: Iterable[RankedProblem]) -> int:
    """How many problems share the top priority (to 3 decimals, as the page shows it); 1 when
    the first is ahead alone or priorities are unknown."""
    scores = [round(p.priority, 3) for p in ranking if p.priority is not None]
    if not scores:
        return 1
    return sum(1 for s in scores if s == max(scores))


def _decision_candidates(inputs: AttentionInputs) -> list[AttentionItem]:
    tied = tied_at_top(inputs.ranking)
    if tied >= TIED_RANKING_MIN:
        # "Decide #1, #2, #3" would only repeat the order of the city's own list: say instead
        # that the ranking cannot tell them apart yet, and what would.
        return [
            AttentionItem(
                kind="decision_due",
                title="The ranking cannot tell the top problems apart yet",
                reason=(
                    f"{tied} problems share the top score this week: their indicators have few "
                    "or no recent values and few reports fall in their categories. Ask the "
                    "departments for their figures, or choose from the problems list."
                ),
                impact=0.42,
                problem_id=None,
                link="/problems",
            )
        ]
    items = []
    for problem in decisions_due(inputs.ranking)[:DECISIONS_LISTED]:
        reason = f"Ranked #{problem.rank} this week and no decision is recorded yet"
        if problem.last_decision:
            word = DECISION_WORDS.get(problem.last_decision, problem.last_decision.capitalize())
            reason += f"; last decision: {word} ({problem.last_decision_week})"
        items.append(
            AttentionItem(
                kind="decision_due",
                title=f"Decide: {problem.title}",
                reason=reason + ".",
                impact=0.42 - 0.04 * (problem.rank - 1),
                problem_id=problem.problem_id,
                link=problem_link(problem.problem_id),
            )
        )
    return items


def _standing_candidates(inputs: AttentionInputs) -> list[AttentionItem]:
    """The top problems that stayed on top but changed: now worsening."""
    if not inputs.compared:
        return []
    items = []
    for problem in inputs.ranking:
        if problem.rank > STANDING_TOP or problem.movement not in {"same", "up", "down"}:
            continue
        if problem.trend != "worsening":
            continue
        items.append(
            AttentionItem(
                kind="standing",
                title=problem.title,
                reason=f"Still #{problem.rank}, and worse than last week.",
                impact=0.3 - 0.02 * problem.rank,
                problem_id=problem.problem_id,
                link=problem_link(problem.problem_id),
            )
        )
    return items


def _groups(
    inputs: AttentionInputs, items: Sequence[AttentionItem], dropped: int
) -> tuple[AttentionGroup, ...]:
    listed_alerts = {i.alert_id for i in items if i.alert_id is not None}
    listed_categories = {i.category_id for i in items if i.category_id is not None}
    listed_problems = {i.problem_id for i in items if i.problem_id is not None}
    other_alerts = sum(
        1
        for e in inputs.episodes
        if e.kind not in LATE_DATA_KINDS
        and e.alert_id not in listed_alerts
        and not (e.about_reports and not e.covered and e.category_id in listed_categories)
        and not (e.problem_ids and e.problem_ids[0] in listed_problems)
    )
    due = [p for p in decisions_due(inputs.ranking) if p.problem_id not in listed_problems]
    groups = [
        AttentionGroup("more", "More items below the first seven", dropped, "/alerts"),
        AttentionGroup("alerts", "Other open early warnings", other_alerts, "/alerts"),
        AttentionGroup("decisions", "Other decisions due on the short list", len(due), "/"),
        AttentionGroup("ranking", "Problems ranked this week", len(inputs.ranking), "/?show=all"),
        AttentionGroup(
            "late_data",
            "Indicators with late data (for their departments)",
            inputs.late_indicators,
            "/alerts",
        ),
    ]
    return tuple(g for g in groups if g.count > 0)


def _with_new_warnings(item: AttentionItem, inputs: AttentionInputs) -> AttentionItem:
    """A problem listed for another reason says how many new warnings it has this week."""
    if item.problem_id is None or item.kind == "emerging":
        return item
    count = sum(
        1
        for e in inputs.episodes
        if e.kind not in LATE_DATA_KINDS
        and item.problem_id in e.problem_ids
        and is_new(e, inputs.week_start, inputs.week_end)
    )
    if not count:
        return item
    noun = "new early warning" if count == 1 else "new early warnings"
    return replace(item, reason=f"{item.reason[:-1]}; {count} {noun} on it this week.")


def attention_list(inputs: AttentionInputs, *, limit: int = ATTENTION_LIMIT) -> AttentionList:
    """At most ``limit`` items, highest impact first, one per problem and one per category.

    Candidates: surges in categories no problem covers (about data of this week), new early
    warnings on known problems (first seen this week, about data of this week), problems that
    moved most, decisions due on the best-ranked problems, and top problems that stayed on top
    but got worse. Late indicator data (kind ``stale``) is never listed: it is counted in a
    group for the departments. Everything not listed is counted in ``groups``.
    """
    candidates = (
        _surge_candidates(inputs)
        + _emerging_candidates(inputs)
        + _moved_candidates(inputs)
        + _decision_candidates(inputs)
        + _standing_candidates(inputs)
    )
    candidates.sort(key=lambda i: (-i.impact, KIND_ORDER.index(i.kind), i.title))
    chosen: list[AttentionItem] = []
    seen: set[int] = set()
    dropped = 0
    for item in candidates:
        if item.problem_id is not None and item.problem_id in seen:
            continue
        if len(chosen) >= limit:
            dropped += 1
            continue
        chosen.append(item)
        if item.problem_id is not None:
            seen.add(item.problem_id)
    chosen = [_with_new_warnings(item, inputs) for item in chosen]
    return AttentionList(
        week=inputs.week,
        week_start=inputs.week_start,
        week_end=inputs.week_end,
        items=tuple(chosen),
        groups=_groups(inputs, chosen, dropped),
    )


def attention_text(attention: AttentionList) -> str:
    """The list as plain text, one numbered item per paragraph, then the groups."""
    lines = [
        f"What needs the mayor, {attention.week} ({short_day(attention.week_start)} "
        f"to {short_day(attention.week_end)}):"
    ]
    if not attention.items:
        lines.append("  Nothing needs the mayor's attention this week.")
    for number, item in enumerate(attention.items, start=1):
        lines.append(f"{number}. {item.title}")
        lines.append(f"   {item.reason}")
        if item.link:
            lines.append(f"   -> {item.link}")
    if attention.groups:
        lines.append("")
        lines.append("Everything else, one click away:")
        for group in attention.groups:
            lines.append(f"  {group.label}: {group.count:,} ({group.link})")
    return "\n".join(lines)


__all__ = [
    "ATTENTION_LIMIT",
    "AlertEpisode",
    "AttentionAction",
    "AttentionGroup",
    "AttentionInputs",
    "AttentionItem",
    "AttentionList",
    "RankedProblem",
    "attention_list",
    "attention_text",
    "calibrated_severities",
    "data_of_week",
    "decisions_due",
    "episode_impact",
    "impact_severity",
    "is_new",
    "is_new_warning",
    "is_of_week",
]
