"""A city from zero, in a real browser: on an empty database, the NYC example pack and a real
NYC 311 export, loaded with the commands the README's "Set up your city" gives (the installed
``triage`` command in a subprocess, as a user runs it), fill every page for the mayor, the chief
of staff, a department head and the administrator, at 1440 px and at 390 px.

Each page must draw New York's own content (its problems, its community districts), never the
demo city's, and never a raw ``nan``/``None``/``undefined``. Screenshots go to
tests/browser/screenshots/city-nyc-<page>-{390,1440}.png.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Problem
from db.session import Database
from tests.browser import axe
from tests.browser.browserutil import WINDOW, screenshot, severe_logs, sign_in
from tests.browser.test_phone import (
    PHONE,
    assert_fits,
    axe_clean,
    main_text,
    raw_words,
    resize,
    settle,
)
from tests.webutil import TEST_SECRET
from triage.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.browser

NYC_PACK = REPO_ROOT / "packs" / "nyc-example"
NYC_311 = REPO_ROOT / "tests" / "data" / "nyc_311_portal_export_1000.csv"
# The export's busiest stretch is March 2019 (305 of its 1,000 rows): the city's today is the
# Friday of that week, as if the office had loaded its data that day.
NYC_TODAY = dt.date(2019, 3, 29)
NYC_WEEK = "2019-W13"
PASSWORD = "new-york-test-password"
USERS = (
    ("mayor", "mayor", None),
    ("chief", "chief_of_staff", None),
    ("hpd-head", "department_head", "HPD"),
    ("admin", "admin", None),
)


def triage_command(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """Run the installed ``triage`` command as a user would; fail with its output if it fails."""
    command = [str(Path(sys.executable).with_name("triage")), *args]
    done = subprocess.run(
        command,
        env=env,
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@dataclass
class NewYork:
    database: Database
    app: object
    outputs: dict[str, str]
    problem_ids: dict[str, int]


@pytest.fixture(scope="module")
def new_york(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewYork]:
    """Built once for the module: the README's steps, then the app over their database."""
    tmp_path = tmp_path_factory.mktemp("new-york")
    url = f"sqlite:///{tmp_path / 'nyc.sqlite3'}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TRIAGE_") and key not in {"SECRET_KEY"}
    }
    env.update(TRIAGE_DATABASE_URL=url, TRIAGE_TODAY=NYC_TODAY.isoformat())
    outputs = {
        "init": triage_command("init", env=env),
        "city": triage_command("city", "import", str(NYC_PACK), env=env),
        "ingest": triage_command("ingest", "csv", str(NYC_311), "--layout", "nyc", env=env),
        "districts": triage_command("city", "districts", env=env),
    }
    for username, role, department in USERS:
        extra = ["--department", department] if department else []
        triage_command(
            "user",
            "add",
            username,
            "--role",
            role,
            *extra,
            "--password-stdin",
            env=env,
            stdin=PASSWORD + "\n",
        )
    outputs["detect"] = triage_command("jobs", "run", "detect-alerts", env=env)
    outputs["overdue"] = triage_command("jobs", "run", "flag-overdue", env=env)
    outputs["rank"] = triage_command("rank", "--week", NYC_WEEK, env=env)

    import app as composition_root

    database = Database(url)
    settings = Settings(
        database_url=url, mode="development", secret_key=TEST_SECRET, today_override=NYC_TODAY
    )
    with database.session() as session:
        problem_ids = {
            code: int(pid) for code, pid in session.execute(select(Problem.code, Problem.id))
        }
    yield NewYork(database, composition_root.create_app(settings, database), outputs, problem_ids)
    database.dispose()


def new_browser(duo) -> None:
    """Each role signs in as a fresh browser would: earlier cookies are dropped."""
    duo.driver.delete_all_cookies()


def visit(duo, page: str, path: str, must_show: tuple[str, ...]) -> None:
    """At 1440 and at 390 px: the page settles, shows New York's content, fits, passes axe."""
    for size in (WINDOW, PHONE):
        duo.driver.set_window_size(*size)
        duo.driver.get(f"{duo.server.url}{path}")
        resize(duo, size)
        settle(duo)
        text = main_text(duo)
        assert "Riverton" not in text, f"{page} at {size[0]} px shows the demo city"
        brand = duo.find_element(".shell-brand-city").text
        assert brand == "New York City", f"{page} at {size[0]} px is branded {brand!r}"
        assert raw_words(duo) == [], f"{page} at {size[0]} px"
        missing = [phrase for phrase in must_show if phrase not in text]
        assert missing == [], f"{page} at {size[0]} px lacks {missing}:\n{text[:2000]}"
        assert_fits(duo, page, size)
        screenshot(duo, f"city-nyc-{page}-{size[0]}", size=size)
        axe_clean(duo, page, size)


def test_cityzero001_the_commands_report_new_york(new_york: NewYork) -> None:
    """What the README's steps print: the pack's counts, 1,000 reports in, districts placed."""
    out = new_york.outputs
    assert "New York City" in out["city"]
    assert [
        line.split()[:2]
        for line in out["city"].splitlines()
        if line.strip().startswith(("districts", "problems.csv"))
    ] == [
        ["districts", "71"],
        ["problems.csv", "7"],
    ]
    assert "1,000" in out["ingest"] and "rejected            0" in out["ingest"]
    assert "UNLOCATED" in out["districts"] and "Brooklyn Community District" in out["districts"]
    # The early-warning checks found something in the export, and every indicator is late
    # (the pack has no values yet): six indicators, six warnings.
    assert out["detect"].startswith("detect-alerts: success"), out["detect"]
    assert '"inserted": 0' not in out["detect"], out["detect"]
    assert out["overdue"].startswith("flag-overdue: success, 6 rows"), out["overdue"]
    ranked = [line for line in out["rank"].splitlines() if line.strip()[:1].isdigit()]
    assert len(ranked) == 7, out["rank"]
    assert "Homes without heat or hot water" in out["rank"]


def test_cityzero002_every_page_shows_new_york(dash_duo, new_york: NewYork) -> None:
    axe.axe_source()
    dash_duo.start_server(new_york.app, navigate=False)
    heat = new_york.problem_ids["NYC-HEAT"]

    new_browser(dash_duo)
    sign_in(dash_duo, "mayor", "/", password=PASSWORD)
    visit(dash_duo, "priorities", "/", ("Homes without heat or hot water", "2019"))
    visit(dash_duo, "problems", "/problems", ("Unsafe and unsanitary apartments",))
    visit(dash_duo, "alerts", "/alerts", ())
    visit(dash_duo, "actors", "/actors", ())
    visit(dash_duo, "reports", "/reports", ("Community District",))

    new_browser(dash_duo)
    sign_in(dash_duo, "chief", f"/problems/{heat}", password=PASSWORD)
    from layouts.problem import TABS

    for tab, _label in TABS:
        visit(
            dash_duo,
            f"problem-{tab}",
            f"/problems/{heat}?tab={tab}",
            ("Homes without heat or hot water",),
        )

    new_browser(dash_duo)
    sign_in(dash_duo, "hpd-head", "/department", password=PASSWORD)
    visit(dash_duo, "department", "/department", ("Housing Preservation and Development",))

    new_browser(dash_duo)
    sign_in(dash_duo, "admin", "/admin?tab=users", password=PASSWORD)
    for tab in ("users", "mapping", "sources", "setup"):
        visit(dash_duo, f"admin-{tab}", f"/admin?tab={tab}", ())
    assert severe_logs(dash_duo) == []
