"""Browser test helpers: sign in through the real form, screenshots (1440x900 unless told),
console errors."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import axe
from tests.webutil import demo_password

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WINDOW = (1440, 900)
# A script's opening: the Cytoscape instance drawing inside the element ``arguments[0]`` (the
# graph's Dash element), as ``holder`` (its container) and ``cy`` (null until it has started).
CYTOSCAPE_JS = """
const holder = [arguments[0], ...arguments[0].querySelectorAll('div')].find((e) => e._cyreg);
const cy = holder ? holder._cyreg.cy : null;
"""


def sign_in(duo, username: str, next_path: str = "/", password: str | None = None) -> None:
    """Fill in the sign-in form like a person and wait for the Dash app to load (the demo
    password of ``username`` unless ``password`` is given)."""
    driver = duo.driver
    driver.get(f"{duo.server.url}/login?next={next_path}")
    WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.ID, "login-username-input"))
    )
    driver.find_element(By.ID, "login-username-input").send_keys(username)
    driver.find_element(By.ID, "login-password-input").send_keys(
        demo_password(username) if password is None else password
    )
    driver.find_element(By.ID, "login-submit-button").click()
    duo.wait_for_element("#react-entry-point #shell-main-region", timeout=15)


def screenshot(duo, name: str, focus: str | None = None, size: tuple[int, int] = WINDOW) -> Path:
    """Save the viewport (1440x900, or ``size``, e.g. a phone's 390x844) as
    tests/browser/screenshots/<name>.png.

    ``focus`` is a CSS selector to scroll into view first (e.g. a message below the fold).
    """
    SCREENSHOTS.mkdir(exist_ok=True)
    duo.driver.set_window_size(*size)
    if focus:
        element = duo.find_element(focus)
        duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    path = SCREENSHOTS / f"{name}.png"
    duo.driver.save_screenshot(str(path))
    return path


def severe_logs(duo) -> list[dict]:
    """Browser console errors, minus the favicon noise some Chromium builds log."""
    return [entry for entry in duo.get_logs() if "favicon" not in entry.get("message", "")]


# Every closed fold opened as a reader opens it (a click on its summary), so that a lazy
# fold (layouts.components.lazy_fold) draws its content; returns how many were opened.
OPEN_FOLDS_JS = """
let opened = 0;
document.querySelectorAll('details:not([open]) > summary').forEach((s) => {
  s.click(); opened += 1;
});
return opened;
"""
EMPTY_LAZY_BODIES_JS = """
return Array.from(document.querySelectorAll('details[open] [id*="lazy-fold-body"]'))
  .filter((b) => b.childElementCount === 0).length;
"""


def open_every_fold(duo, timeout: float = 10) -> int:
    """Open every ``details`` of the page by clicking its summary and wait until each lazy
    fold has drawn its content (for checks that must see what the folds hold)."""
    opened = duo.driver.execute_script(OPEN_FOLDS_JS)
    WebDriverWait(duo.driver, timeout).until(
        lambda driver: driver.execute_script(EMPTY_LAZY_BODIES_JS) == 0
    )
    return int(opened)


# Scrolls to the first deferred chart's place (layouts.components.deferred) that is shown
# (not in a hidden tab) and not yet drawn; returns how many such places there are.
NEXT_DEFERRED_JS = """
const places = Array.from(document.querySelectorAll('[data-deferred-key]'))
  .filter((p) => p.getClientRects().length > 0);
if (places.length) { places[0].scrollIntoView({block: 'center', behavior: 'instant'}); }
return places.length;
"""


def charts_left_to_draw(duo) -> int:
    """Scroll to the next deferred chart not yet drawn, as a reader scrolling down does, and
    say how many are left (0: every chart shown on the page is drawn)."""
    return int(duo.driver.execute_script(NEXT_DEFERRED_JS))


def draw_every_chart(duo, timeout: float = 20) -> None:
    """Scroll to each deferred chart until every one shown on the page is drawn, then back to
    the top (for checks that must see every chart)."""
    WebDriverWait(duo.driver, timeout, poll_frequency=0.1).until(
        lambda _driver: charts_left_to_draw(duo) == 0
    )
    duo.driver.execute_script("window.scrollTo(0, 0);")


def serious_with_folds_open(duo) -> list[dict]:
    """axe-core's serious and critical violations with every chart drawn and every fold of the
    page opened (and drawn), so that the tables they hold are checked too; the folds are
    closed again."""
    draw_every_chart(duo)
    open_every_fold(duo)
    serious = axe.blocking(axe.violations(duo.driver))
    duo.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = false)")
    return serious
