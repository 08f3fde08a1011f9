"""The headers a real gunicorn deployment sends: no server product or version, HSTS behind TLS."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from db import migrate

REPO = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, method: str = "GET") -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 (loopback http)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback)
        return response.status, {k.lower(): v for k, v in response.headers.items()}


def _wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _request(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.skipif(
    shutil.which("gunicorn", path=str(GUNICORN.parent)) is None,
    reason="gunicorn is not installed in this environment",
)
def test_srv001_gunicorn_names_no_product_and_sends_hsts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    migrate.upgrade(url)
    env = {
        **{k: v for k, v in os.environ.items() if k != "TRIAGE_TODAY"},
        "TRIAGE_DATABASE_URL": url,
        "TRIAGE_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TRIAGE_SECURE_COOKIES": "1",
        "TRIAGE_PROXY_HOPS": "1",
    }
    port = _free_port()
    web = subprocess.Popen(
        [str(GUNICORN), "--workers", "1", "--bind", f"127.0.0.1:{port}", "app:wsgi()"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz")
        status, headers = _request(f"{base}/login")
        head_status, head_headers = _request(f"{base}/login", method="HEAD")
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
    assert status == head_status == 200
    for sent in (headers, head_headers):
        assert "gunicorn" not in sent.get("server", "").lower()
        assert not any(ch.isdigit() for ch in sent.get("server", ""))
        assert "max-age=" in sent["strict-transport-security"]
        assert "camera=()" in sent["permissions-policy"]
