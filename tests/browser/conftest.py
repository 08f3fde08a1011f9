"""Browser test setup: headless Chromium for ``dash_duo``, a seeded app, sign-in and screenshots.

Defaults are set here so that ``pytest tests/browser`` needs no extra flags.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from tests.browser.browserutil import WINDOW
from tests.webutil import WebEnv

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def pytest_configure(config: pytest.Config) -> None:
    """Run headless Chrome by default (dash[testing] reads these options)."""
    if hasattr(config.option, "headless"):
        config.option.headless = True
    if hasattr(config.option, "webdriver"):
        config.option.webdriver = "Chrome"


def pytest_setup_options() -> Options:
    """The ChromeOptions dash_duo starts Chromium with."""
    options = Options()
    binary = next((c for c in CHROMIUM_CANDIDATES if Path(c).exists()), None)
    if binary:
        options.binary_location = binary
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-component-update",
        "--no-first-run",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    return options


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip (with a reason) rather than error when no browser is installed."""
    if shutil.which("chromedriver") and any(Path(c).exists() for c in CHROMIUM_CANDIDATES):
        return
    skip = pytest.mark.skip(reason="chromium and chromedriver are needed for browser tests")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def web_env(tmp_path: Path) -> Iterator[WebEnv]:
    env = WebEnv.create(tmp_path)
    yield env
    env.dispose()


@pytest.fixture
def app_duo(dash_duo, web_env: WebEnv):
    """dash_duo serving the demo app (not navigated: the first page is the sign-in form)."""
    dash_duo.start_server(web_env.app, navigate=False)
    dash_duo.driver.set_window_size(*WINDOW)
    return dash_duo
