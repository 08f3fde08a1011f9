"""Folds drawn in the browser when first opened (``layouts.components.lazy_fold``), and charts
drawn when they first come near the screen (``layouts.components.deferred``).

A lazy fold's content (a chart's table of numbers, an actor's engagements) travels with the
page as JSON text in a store beside the closed fold; opening it (a click, or Enter or Space
on its summary, which the browser turns into a click) draws the content once. A deferred
chart is drawn the same way when ``assets/deferred.js`` marks its place as seen. Clientside:
the server answers no post for either, and the content needs no second request.
"""

from __future__ import annotations

import dash
from dash import MATCH, Input, Output, State

from callbacks.policy import secured_clientside_callback
from layouts import ids

DRAW_FOLD_JS = """
function (clicks, content, shown) {
    if (!clicks || shown || typeof content !== "string") {
        return window.dash_clientside.no_update;
    }
    return JSON.parse(content);
}
"""

DRAW_DEFERRED_JS = """
function (seen, content) {
    if (!seen || typeof content !== "string") {
        return window.dash_clientside.no_update;
    }
    return JSON.parse(content);
}
"""


def register(app: dash.Dash) -> None:
    secured_clientside_callback(
        app,
        DRAW_FOLD_JS,
        Output({"type": ids.LAZY_FOLD_BODY, "key": MATCH}, "children"),
        Input({"type": ids.LAZY_FOLD, "key": MATCH}, "n_clicks"),
        State({"type": ids.LAZY_FOLD_STORE, "key": MATCH}, "data"),
        State({"type": ids.LAZY_FOLD_BODY, "key": MATCH}, "children"),
        prevent_initial_call=True,
    )
    secured_clientside_callback(
        app,
        DRAW_DEFERRED_JS,
        Output({"type": ids.DEFERRED_BODY, "key": MATCH}, "children"),
        Input({"type": ids.DEFERRED_SEEN, "key": MATCH}, "data"),
        State({"type": ids.DEFERRED_STORE, "key": MATCH}, "data"),
        prevent_initial_call=True,
    )
