"""The glossary: what each word and score on the pages means, in plain words (no callbacks)."""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.components import page_header, section
from triage.plain import GLOSSARY_SECTIONS


def layout(**_kwargs: Any) -> html.Div:
    """Every term as a definition list, grouped as the pages use them; each term has an anchor
    (``/glossary#priority``) so a page can link straight to it."""
    return html.Div(
        [
            page_header(
                "Glossary",
                "What the words and scores on these pages mean. Scores run from 0 to 1 and are "
                "shown as High, Medium or Low; the number is in the tables and in each band's "
                "hover.",
            ),
            *[
                section(
                    title,
                    html.Dl(
                        [
                            html.Div(
                                [html.Dt(term.term), html.Dd(term.meaning)],
                                id=f"glossary-{term.anchor}",
                                className="glossary-entry",
                            )
                            for term in terms
                        ],
                        className="glossary-list",
                    ),
                )
                for title, terms in GLOSSARY_SECTIONS
            ],
        ],
        className="glossary-page",
    )
