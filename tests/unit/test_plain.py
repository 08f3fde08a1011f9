"""Plain words: score bands at their cuts, the hover text, and the glossary page."""

from __future__ import annotations

import math

import pytest

from layouts import glossary
from layouts.components import score_band as band_span
from tests.webutil import texts
from triage.plain import (
    GLOSSARY_SECTIONS,
    HIGH_FROM,
    MEDIUM_FROM,
    band_hint,
    glossary_terms,
    score_band,
)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (1.0, "High"),
        (HIGH_FROM, "High"),
        (HIGH_FROM - 1e-9, "Medium"),
        (MEDIUM_FROM, "Medium"),
        (MEDIUM_FROM - 1e-9, "Low"),
        (0.0, "Low"),
        (None, None),
        (math.nan, None),
        (math.inf, None),
        ("not a number", None),
    ],
)
def test_plain001_bands_cut_at_their_thresholds(value: object, band: str | None) -> None:
    assert score_band(value) == band  # type: ignore[arg-type]


def test_plain002_hint_gives_the_number_and_its_range_in_words() -> None:
    assert (
        band_hint(0.644, 0.58, 0.701) == "0.64 on a scale of 0 to 1 (likely between 0.58 and 0.70)"
    )
    assert band_hint(0.644) == "0.64 on a scale of 0 to 1"
    assert band_hint(0.644, None, 0.7) == "0.64 on a scale of 0 to 1"
    assert band_hint(None) == "Not scored: no data yet"


def test_plain003_band_span_shows_the_band_and_hides_the_number_for_screen_readers() -> None:
    span = band_span(0.71, 0.65, 0.77)
    assert span.title == "0.71 on a scale of 0 to 1 (likely between 0.65 and 0.77)"
    assert span.className == "score-band score-band-high"
    assert span.children[0] == "High"
    hidden = span.children[1]
    assert hidden.className == "visually-hidden" and "0.71" in hidden.children
    empty = band_span(float("nan"))
    assert empty.children == "—" and empty.title == "Not scored: no data yet"


def test_plain004_glossary_has_every_term_once_with_its_own_anchor() -> None:
    terms = glossary_terms()
    names = [term.term for term in terms]
    anchors = [term.anchor for term in terms]
    assert len(names) == len(set(names)) and len(anchors) == len(set(anchors))
    for needed in ("Priority", "Importance", "Tractability", "Neglectedness", "Surge", "Severity"):
        assert needed in names
    assert all(term.meaning.endswith(".") and len(term.meaning) > 40 for term in terms)


def test_plain005_glossary_page_lists_every_section_and_term() -> None:
    page = glossary.layout()
    text = texts(page)
    assert "Glossary" in text
    for title, terms in GLOSSARY_SECTIONS:
        assert title in text
        for term in terms:
            assert term.term in text and term.meaning in text
    assert f"High is {HIGH_FROM:.1f} or more" in text


def test_plain006_every_page_links_to_the_glossary_beside_sign_out() -> None:
    from layouts import PAGES
    from layouts.shell import ShellContext, shell_layout

    shell = shell_layout(ShellContext("New York City", display_name="mayor", role_label="Mayor"))
    links = [node for node in _walk(shell) if getattr(node, "href", None) == "/glossary"]
    assert len(links) == 1 and links[0].children == "Glossary"
    spec = next(page for page in PAGES if page.path == "/glossary")
    assert spec.nav_label is None  # not in the page nav: it would wrap on a laptop


def _walk(node: object):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, (list, tuple)):
        for child in children:
            yield from _walk(child)
    elif children is not None and hasattr(children, "children"):
        yield from _walk(children)
