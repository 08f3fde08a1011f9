"""A set of buttons with pattern-matching ids, relayed to one store in the browser.

Dash calls a callback whose input is ``{"type": ..., "index": ALL}`` whenever buttons of the
set appear (a table drawn by another callback), even with ``prevent_initial_call``: each page
load cost a server round trip and a re-render that changed nothing. A clientside callback
takes the set instead and writes ``{"id": <the clicked button's id>, "clicks": n}`` to a store
only on a real click; the server callback listens to that store (``prevent_initial_call``),
so drawing the buttons calls no server. :func:`clicked` turns the store back into the
button's id and click count, as ``ctx.triggered_id`` and its value gave them before.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from callbacks.policy import secured_clientside_callback

RELAY_CLICK_JS = """
function () {
    var nothing = window.dash_clientside.no_update;
    var context = window.dash_clientside.callback_context;
    var hit = (context.triggered || []).filter(function (t) { return t.value; })[0];
    if (!hit) { return nothing; }
    var key = hit.prop_id.slice(0, hit.prop_id.lastIndexOf("."));
    try { return {id: JSON.parse(key), clicks: hit.value}; } catch (e) { return nothing; }
}
"""


def relay_clicks(app: dash.Dash, buttons: dict[str, Any], store: str) -> None:
    """Relay clicks on the button set ``buttons`` (an id with ``ALL``) to ``store``'s data."""
    secured_clientside_callback(
        app,
        RELAY_CLICK_JS,
        Output(store, "data"),
        Input(buttons, "n_clicks"),
        prevent_initial_call=True,
    )


def clicked(relayed: Any) -> tuple[Any, Any]:
    """The clicked button's id and click count from a relay store's data (None, None when
    it holds nothing usable)."""
    if not isinstance(relayed, dict):
        return None, None
    return relayed.get("id"), relayed.get("clicks")
