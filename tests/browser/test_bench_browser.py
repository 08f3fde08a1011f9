"""``triage bench browser`` in its quick mode on the small demo city: the JSON's shape, and every
measured page settled (no timing assertions: timing is the bench's job, not a test's)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.clock import TODAY
from tests.webutil import seeded_template
from triage.cli import main
from triage.cli.bench_browser import FLOOR_PATH, SIZES

pytestmark = pytest.mark.browser

PAGES = ("/", "/actors", "/glossary")
FIGURES = (
    "cold_ms",
    "runs",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "timeouts",
    "failed_requests",
    "requests",
    "last_response_ms",
    "callback_kb",
    "long_task_ms",
    "dom_nodes",
)


def test_bbr001_quick_run_settles_every_page_at_both_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "triage.sqlite3"
    shutil.copyfile(seeded_template(), database)
    monkeypatch.setenv("TRIAGE_TODAY", TODAY.isoformat())
    status = main(
        [
            "bench",
            "browser",
            "--db",
            f"sqlite:///{database}",
            "--scale",
            "small",
            "--pages",
            ",".join(PAGES),
            "--runs",
            "1",
            "--screenshots",
            str(tmp_path / "shots"),
            "--json",
        ]
    )
    output = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    result = json.loads(output[-1])
    print("\n".join(output[:-1]))  # the table, for whoever reads the test log

    assert result["bench"] == "browser"
    assert result["scale"] == "small"
    assert result["today"] == TODAY.isoformat()
    assert result["runs"] == 1
    assert result["chromium"]
    assert set(result["sizes"]) == set(SIZES)
    for size, block in result["sizes"].items():
        assert block["viewport"] == list(SIZES[size])
        assert list(block["pages"]) == list(PAGES)
        measured = {FLOOR_PATH: block["floor"], **block["pages"]}
        for path, figures in measured.items():
            where = f"{path} at {size}"
            assert set(FIGURES) <= set(figures), where
            assert figures["timeouts"] == 0, f"{where} did not settle: {figures['waiting']}"
            assert figures["failed_requests"] == 0, where
            assert figures["runs"] == 1, where
            assert figures["cold_ms"] > 0, where
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"], where
            assert figures["dom_nodes"] > 0, where
            assert figures["ended_at"] == [path], f"{where} ended at {figures['ended_at']}"
        for path in PAGES:
            figures = block["pages"][path]
            assert figures["user"] == "mayor"
            # A Dash page fetched its layout and ran its callbacks; the floor is plain HTML.
            assert figures["requests"] >= 3, path
            assert figures["last_response_ms"] > 0, path
        assert block["floor"]["requests"] == 0
        # The Actors page's heat map and funding flows are drawn when scrolled to: the bench
        # scrolled to each and saw it drawn.
        actors = block["pages"]["/actors"]
        assert actors["scroll_timeouts"] == 0, size
        if size == "desktop":
            assert actors["charts_on_scroll"] >= 1, actors
            assert actors["scroll_p95_ms"] > 0, actors
    assert isinstance(result["within_budget"], bool)
    assert set(result["over_budget"]) <= set(PAGES)

    # Each page's last load at each size, whole: as wide as the viewport, as tall as the page.
    shots = sorted(p.name for p in (tmp_path / "shots").iterdir())
    assert shots == [
        "desktop-actors.png",
        "desktop-glossary.png",
        "desktop-home.png",
        "phone-actors.png",
        "phone-glossary.png",
        "phone-home.png",
    ]
    for name in shots:
        width, height = _png_size(tmp_path / "shots" / name)
        viewport = SIZES[name.split("-")[0]]
        assert width == viewport[0], name
        assert height >= viewport[1] // 2, name  # a whole page, not an empty strip


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


# A chart that is drawn, then has only dcc.Graph's style-less "pending" marker toggled (as its
# no-op resize does 100-250 ms later); on the second page a class that is not the marker comes
# with the marker's removal.
MARKER_PAGE = """<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>
<h1>Marker</h1><div id="plot" class="js-plotly-plot"><svg class="main-svg"></svg></div>
<script>
const plot = document.getElementById('plot');
setTimeout(() => plot.classList.add('dash-graph--pending'), 150);
setTimeout(() => {
  plot.classList.remove('dash-graph--pending');
  if (location.pathname.indexOf('restyled') >= 0) { plot.classList.add('restyled'); }
}, 300);
</script></body></html>"""


def test_bbr002_the_graph_pending_marker_alone_is_not_a_change(tmp_path: Path) -> None:
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from triage.cli.bench_browser import Browser

    for name in ("marker.html", "restyled.html"):
        (tmp_path / name).write_text(MARKER_PAGE, encoding="utf-8")

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    Thread(target=httpd.serve_forever, daemon=True).start()
    browser = Browser(f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        marker = browser.load("/marker.html")
        restyled = browser.load("/restyled.html")
    finally:
        browser.close()
        httpd.shutdown()
    assert not marker["timeout"] and not restyled["timeout"]
    # Settled when the chart was there, before the marker came and went ...
    assert marker["settled_ms"] < 150, marker
    # ... while a class that is not the marker is a change: settled at it or after.
    assert restyled["settled_ms"] >= 300, restyled
