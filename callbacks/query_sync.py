"""One browser-side function that keeps the address bar's query string in step with a page's
filters, so every filtered view has a URL that can be shared or bookmarked."""

from __future__ import annotations

import json
from collections.abc import Sequence


def query_sync_js(fields: Sequence[tuple[str, str | None]]) -> str:
    """A clientside callback body taking the filter values in ``fields`` order.

    Each field is ``(query name, default)``: an empty value or the default (compared as text)
    is left out of the URL. The address is replaced, not pushed, so Back leaves the page
    rather than stepping through every filter change. Returns the query string.
    """
    spec = json.dumps([[name, default] for name, default in fields])
    return (
        """
function(...values) {
    const spec = """
        + spec
        + """;
    const params = new URLSearchParams();
    spec.forEach(([name, skip], i) => {
        const value = values[i];
        if (value && String(value) !== skip) { params.set(name, String(value)); }
    });
    const query = params.toString();
    const url = window.location.pathname + (query ? "?" + query : "");
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return query;
}
"""
    )
