"""Each vocabulary, its words for people and each limit has one home, ``triage.vocabulary``
(weeks: ``triage.weeks``; spreadsheet formula prefixes: ``triage.export``; severity tones:
``layouts.components``): the source tree is scanned for a second definition of any of them."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from layouts import components
from triage import export, vocabulary, weeks

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("triage", "db", "layouts", "callbacks")
# Each home and the names it defines ("*": every name the scan looks for).
HOMES: dict[str, frozenset[str]] = {
    "triage/vocabulary.py": frozenset({"*"}),
    "triage/weeks.py": frozenset({"*"}),
    "triage/export.py": frozenset({"FORMULA_PREFIXES"}),
    "layouts/components.py": frozenset({"SEVERITY_TONES"}),
}
# Places still to be moved onto their home, as (file, what); "*" stands for the whole file.
# Issue 12 emptied it: add an entry only with the issue that will remove it.
PENDING: set[tuple[str, str]] = set()
WEEK_FUNCTIONS = frozenset(
    {"iso_week", "week_start", "week_end", "previous_week", "parse_week", "is_week_before"}
)
# The constants of the homes other than ``triage.vocabulary``.
OTHER_HOMES: dict[str, object] = {
    "FORMULA_PREFIXES": export.FORMULA_PREFIXES,
    "SEVERITY_TONES": components.SEVERITY_TONES,
}
# Words for people: a label such as "Convene others" or "faith groups", not a code or a colour.
PEOPLE_WORDS = re.compile(r"[A-Za-z][A-Za-z ,/'-]*")


def _constants() -> dict[str, object]:
    own = {name: value for name, value in vars(vocabulary).items() if name.isupper()}
    return own | OTHER_HOMES


def _vocabularies() -> dict[frozenset[str], str]:
    """Every collection of words in the homes, by its set of words."""
    found: dict[frozenset[str], str] = {}
    for name, value in _constants().items():
        words = isinstance(value, tuple | frozenset) and all(isinstance(v, str) for v in value)
        if words and len(value) >= 2:  # type: ignore[arg-type]
            found.setdefault(frozenset(value), name)  # type: ignore[arg-type]
    return found


def _is_people_words(values: list[object]) -> bool:
    """Labels for people: words only, and at least one with a capital, a space or a slash."""
    texts = [v for v in values if isinstance(v, str)]
    return (
        len(texts) == len(values)
        and all(PEOPLE_WORDS.fullmatch(t) for t in texts)
        and any(t != t.lower() or " " in t or "/" in t for t in texts)
    )


def _mappings() -> tuple[dict[frozenset[tuple[str, object]], str], dict[frozenset[str], str]]:
    """The homes' mappings of three or more entries, by their items; and, for a vocabulary
    whose words for people have a home, that home's name by the vocabulary's words."""
    by_items: dict[frozenset[tuple[str, object]], str] = {}
    labelled: dict[frozenset[str], str] = {}
    for name, value in _constants().items():
        if not isinstance(value, Mapping) or len(value) < 3:
            continue
        by_items.setdefault(frozenset(value.items()), name)
        if frozenset(value) in VOCABULARIES and _is_people_words(list(value.values())):
            labelled.setdefault(frozenset(value), name)
    return by_items, labelled


VOCABULARIES = _vocabularies()
MAPPINGS, LABELLED = _mappings()
NAMES = frozenset(_constants()) | {"WEEK_PATTERN"}


def _words(node: ast.AST) -> frozenset[str] | None:
    """The words of a literal tuple, list or set of strings (also inside frozenset()/set())."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"frozenset", "set", "tuple"}
        and len(node.args) == 1
    ):
        node = node.args[0]
    if not isinstance(node, ast.Tuple | ast.List | ast.Set) or len(node.elts) < 2:
        return None
    words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return (
        frozenset(words)
        if all(isinstance(w, str) for w in words) and len(words) == len(node.elts)
        else None
    )


def _labels(node: ast.AST) -> tuple[frozenset[str], list[object]] | None:
    """(codes, labels) of a literal dict of strings, or of literal ``(code, label, ...)``
    choices; None for anything else."""
    if isinstance(node, ast.Dict):
        pairs = list(zip(node.keys, node.values, strict=True))
    elif isinstance(node, ast.Tuple | ast.List) and all(
        isinstance(e, ast.Tuple) and len(e.elts) >= 2 for e in node.elts
    ):
        pairs = [(e.elts[0], e.elts[1]) for e in node.elts]  # type: ignore[attr-defined]
    else:
        return None
    codes = [k.value if isinstance(k, ast.Constant) else None for k, _ in pairs]
    labels = [v.value if isinstance(v, ast.Constant) else None for _, v in pairs]
    if len(pairs) < 3 or not all(isinstance(c, str) for c in codes):
        return None
    return frozenset(codes), labels  # type: ignore[arg-type]


def _mapping_copy(node: ast.AST) -> str | None:
    """The home's name when ``node`` copies one of its mappings, or gives a labelled
    vocabulary words for people of its own."""
    found = _labels(node)
    if found is None:
        return None
    codes, labels = found
    if isinstance(node, ast.Dict):
        items = frozenset(zip((k.value for k in node.keys), labels, strict=True))  # type: ignore[union-attr]
        if items in MAPPINGS:
            return MAPPINGS[items]
    if codes in LABELLED and _is_people_words(labels):
        return LABELLED[codes]
    return None


def second_definitions(source: str) -> Iterator[tuple[int, str]]:
    """(line, what) for each place in ``source`` that defines a vocabulary again.

    Caught: a module-level name of a home given a value of its own (an alias such as
    ``SECTORS = ALL_SECTORS`` is fine); a module-level collection of the same words as a
    vocabulary, or such a literal of three or more words anywhere (``("up", "down")`` alone
    is too common to tell); a copy of a home's mapping (``SEVERITY_TONES``) anywhere; words
    for people given anywhere to the codes of a vocabulary whose labels have a home (sectors,
    decisions), as a dict or as ``(code, label, ...)`` choices; a function named like a week
    helper.
    """
    tree = ast.parse(source)
    module_values: set[int] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        if value is None:
            continue
        module_values.add(id(value))
        if any(isinstance(t, ast.Tuple) for t in targets):
            continue  # unpacking short names (``CTRL, INFL, OUTS = ...``) defines no vocabulary
        for target in targets:
            aliased = isinstance(value, ast.Name | ast.Attribute)
            if isinstance(target, ast.Name) and target.id in NAMES and not aliased:
                yield node.lineno, target.id
        words = _words(value)
        if words in VOCABULARIES:
            yield node.lineno, VOCABULARIES[words]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in WEEK_FUNCTIONS:
            yield node.lineno, node.name
        copied = _mapping_copy(node)
        if copied is not None:
            yield node.lineno, copied  # type: ignore[attr-defined]
        if id(node) in module_values:
            continue
        words = _words(node)
        if words is not None and len(words) >= 3 and words in VOCABULARIES:
            yield node.lineno, VOCABULARIES[words]


def _sources() -> Iterator[Path]:
    yield ROOT / "app.py"
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_voc001_the_scan_finds_a_vocabulary_written_again() -> None:
    planted = (
        "SEVERITIES = ('info', 'warning', 'critical')\n"
        "LEVELS = ('critical', 'info', 'warning')\n"
        "def pick(s):\n"
        "    return s in ('new', 'acknowledged', 'linked')\n"
        "def iso_week(day):\n"
        "    return ''\n"
        "SECTORS = ALL_SECTORS\n"
        "MOVES = ('up', 'down')\n"
        "TONES = {'critical': 'danger', 'warning': 'warning', 'info': 'info'}\n"
        "NAMES = {'focus': 'Focus', 'delegate': 'Delegate', 'convene': 'Convene others',\n"
        "         'monitor': 'Monitor', 'drop': 'Drop'}\n"
        "CHOICES = (('focus', 'Focus', 'hint'), ('delegate', 'Hand over', 'hint'),\n"
        "           ('convene', 'Convene', 'hint'), ('monitor', 'Watch', 'hint'),\n"
        "           ('drop', 'Drop', 'hint'))\n"
        "def label(sector):\n"
        "    return {'government_agency': 'City agencies', 'elected_political': 'Elected',\n"
        "            'philanthropic': 'Funders', 'corporate_civic': 'Business',\n"
        "            'community': 'Community', 'nonprofit_social_enterprise': 'Nonprofits',\n"
        "            'labour': 'Unions', 'faith': 'Faith', 'media': 'Press'}[sector]\n"
        "COLOURS = {'government_agency': '#1F77B4', 'elected_political': '#FF7F0E',\n"
        "           'philanthropic': '#2CA02C', 'corporate_civic': '#D62728',\n"
        "           'community': '#9467BD', 'nonprofit_social_enterprise': '#8C564B',\n"
        "           'labour': '#E377C2', 'faith': '#7F7F7F', 'media': '#BCBD22'}\n"
        "DECISION_TONES = {'focus': 'info', 'delegate': 'neutral', 'convene': 'info',\n"
        "                  'monitor': 'neutral', 'drop': 'warning'}\n"
        "SOURCE_KINDS = (('open311', 'Open311 feed'), ('csv', 'CSV'), ('indicators', 'File'))\n"
        "BAD_START = ('=', '+', '-', '@', '\\t', '\\r')\n"
        "def parse_week(raw):\n"
        "    return None\n"
    )
    found = sorted(second_definitions(planted))
    assert found == [
        (1, "SEVERITIES"),
        (1, "SEVERITIES"),
        (2, "SEVERITIES"),
        (4, "OPEN_ALERT_STATES"),
        (5, "iso_week"),
        (8, "DIRECTIONS"),
        (9, "SEVERITY_TONES"),
        (10, "DECISION_WORDS"),  # a copy of the home's mapping
        (12, "DECISION_WORDS"),  # (code, label, hint) choices with labels of their own
        (16, "SECTOR_WORDS"),  # sectors given labels of their own, inside a function
        (26, "SOURCE_KINDS"),
        (27, "FORMULA_PREFIXES"),
        (28, "parse_week"),
    ]


def test_voc002_each_vocabulary_is_defined_once() -> None:
    offences = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        owned = HOMES.get(relative, frozenset())
        if "*" in owned or (relative, "*") in PENDING:
            continue
        for line, what in second_definitions(path.read_text(encoding="utf-8")):
            if what not in owned and (relative, what) not in PENDING:
                offences.append(f"{relative}:{line} {what}")
    assert offences == []
    assert not PENDING, "issue 12 moved every vocabulary home"


def test_voc003_the_vocabularies_agree_with_what_uses_them() -> None:
    from db import models
    from triage.indicators import CADENCE_DAYS
    from triage.scoring import STATUS_GAP
    from triage.security import Role

    assert tuple(Role) == vocabulary.ROLES
    assert tuple(CADENCE_DAYS) == vocabulary.CADENCES
    assert tuple(STATUS_GAP) == vocabulary.INDICATOR_STATUSES
    assert set(vocabulary.ALL_SECTORS) == set(vocabulary.SECTORS)
    assert vocabulary.ALL_SECTORS[:6] == vocabulary.CORE_SECTORS
    assert set(vocabulary.OPEN_ALERT_STATES) < set(vocabulary.ALERT_STATES)
    assert sorted(vocabulary.PROBLEM_STATUSES_BY_ATTENTION) == sorted(vocabulary.PROBLEM_STATUSES)
    assert [vocabulary.SEVERITY_RANK[s] for s in ("info", "warning", "critical")] == [0, 1, 2]
    assert models.SECTORS is vocabulary.SECTORS
    assert models.DECISIONS is vocabulary.DECISIONS
    assert tuple(vocabulary.DECISION_WORDS) == vocabulary.DECISIONS
    assert tuple(vocabulary.SECTOR_WORDS) == vocabulary.ALL_SECTORS
    assert vocabulary.SECTOR_LABELS["elected_political"] == "Political/elected"
    assert [vocabulary.SECTOR_LABELS[s].lower() for s in vocabulary.SECTORS] == [
        vocabulary.SECTOR_WORDS[s] for s in vocabulary.SECTORS
    ]
    assert tuple(components.SEVERITY_TONES) == tuple(reversed(vocabulary.SEVERITIES))
    assert export.FORMULA_PREFIXES == ("=", "+", "-", "@", "\t", "\r")


def test_voc006_pages_and_writers_take_the_homes_values() -> None:
    from layouts import actors, admin_catalog_feeds, alerts, priorities, problem, problem_map
    from triage import attention, backward_map, brief, demo
    from triage.ingest import neutralise_cell

    assert priorities.SEVERITY_TONES is alerts.SEVERITY_TONES is components.SEVERITY_TONES
    assert brief.DECISION_WORDS is attention.DECISION_WORDS is vocabulary.DECISION_WORDS
    assert priorities.DECISION_LABELS is vocabulary.DECISION_WORDS
    assert [label for _value, label, _hint in priorities.DECISION_CHOICES] == [
        "Focus",
        "Delegate",
        "Convene others",
        "Monitor",
        "Drop",
    ]
    assert problem.SECTOR_LABELS is actors.SECTOR_LABELS is vocabulary.SECTOR_LABELS
    assert brief.SECTOR_WORDS is backward_map.SECTOR_WORDS is problem_map.SECTOR_WORDS
    assert brief.SECTOR_WORDS is vocabulary.SECTOR_WORDS
    assert demo.iso_week is weeks.iso_week
    assert tuple(v for v, _label in admin_catalog_feeds.SOURCE_KIND_CHOICES) == (
        vocabulary.SOURCE_KINDS
    )
    assert [neutralise_cell(t) for t in ("=1+1", "-2", "\tx", "plain", "")] == [
        "'=1+1",
        "'-2",
        "'\tx",
        "plain",
        "",
    ]


def test_voc004_the_decision_dialog_offers_exactly_the_decisions() -> None:
    from layouts import priorities

    offered = tuple(value for value, _label, _hint in priorities.DECISION_CHOICES)
    assert offered == vocabulary.DECISIONS
    assert priorities.NOTE_LIMIT == vocabulary.NOTE_LIMIT == 2000


@pytest.mark.parametrize(
    ("day", "week"),
    [("2026-11-18", "2026-W47"), ("2027-01-01", "2026-W53"), ("2026-01-01", "2026-W01")],
)
def test_voc005_iso_week_and_back(day: str, week: str) -> None:
    date = dt.date.fromisoformat(day)
    assert weeks.iso_week(date) == week
    assert weeks.week_start(week) <= date <= weeks.week_end(week)
    assert weeks.previous_week(week) == weeks.iso_week(weeks.week_start(week) - dt.timedelta(7))
    assert weeks.WEEK_PATTERN.match(week)
    assert weeks.parse_week(f" {week.lower()} ") == week
    assert weeks.parse_week([week, "2020-W01"]) == week
    assert weeks.is_week_before(weeks.previous_week(week), week)
    assert not weeks.is_week_before(week, week)


@pytest.mark.parametrize(
    "raw", [None, "", [], "2026-W54", "2026-W00", "2026W47", "2026-W4", "W47", 2026, ["x"]]
)
def test_voc007_parse_week_refuses_what_is_not_a_week(raw: object) -> None:
    assert weeks.parse_week(raw) is None
    assert not weeks.is_week_before("2026-W46", str(raw))


def test_voc008_is_week_before_crosses_the_year() -> None:
    assert weeks.is_week_before("2026-W53", "2027-W01")
    assert weeks.is_week_before("2025-W52", "2026-W01")
    assert not weeks.is_week_before("2025-W53", "2026-W01")  # 2025 has 52 ISO weeks
    assert weeks.parse_week("2026-W53") == "2026-W53" and weeks.parse_week("2025-W53") is None
