"""A department head lands on My department (after sign-in and from "/"), other roles keep the
priorities page; the innovations of a problem never say "Led by nan"."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from callbacks import problem as problem_callbacks
from db.models import Innovation
from layouts.problem import innovations_section
from tests.webutil import WebEnv, sign_in, signed_in_client, texts
from triage.security import Principal, Role

RAW_MISSING = re.compile(r"\b(nan|NaN|None|NaT)\b")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    yield web
    web.dispose()


def test_dept103_head_lands_on_my_department_after_sign_in(env: WebEnv) -> None:
    response = sign_in(env.client(), env.head_username())
    assert response.status_code == 302
    assert response.headers["Location"] == "/department"


def test_dept103_an_explicit_next_is_kept_for_a_head(env: WebEnv) -> None:
    response = sign_in(env.client(), env.head_username(), next_path="/alerts")
    assert response.headers["Location"] == "/alerts"


def test_dept103_head_opening_root_goes_to_my_department(env: WebEnv) -> None:
    client = signed_in_client(env, env.head_username())
    response = client.get("/", headers={"Accept": "text/html"})
    assert response.status_code == 302 and response.headers["Location"] == "/department"
    assert client.get("/department", headers={"Accept": "text/html"}).status_code == 200
    back = client.get("/login")  # already signed in: the sign-in page sends her home too
    assert back.status_code == 302 and back.headers["Location"] == "/department"


@pytest.mark.parametrize("username", ["mayor", "chief", "analyst", "admin"])
def test_dept103_other_roles_keep_the_priorities_page(env: WebEnv, username: str) -> None:
    assert sign_in(env.client(), username).headers["Location"] == "/"
    client = signed_in_client(env, username)
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200


def test_dept103_landing_path_rule() -> None:
    from callbacks.auth import landing_path

    head = Principal(1, "h", Role.DEPARTMENT_HEAD, 3)
    assert landing_path(head, "/") == "/department"
    assert landing_path(head, "/problems/2") == "/problems/2"
    assert landing_path(Principal(2, "m", Role.MAYOR), "/") == "/"
    assert landing_path(None, "/") == "/"


def _innovations(lead: object, note: object) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "id": 1,
                "title": "Bus lanes on Main St",
                "description": "",
                "origin": "tested_elsewhere",
                "kind": "new_service",
                "stage": "pilot",
                "evidence": "moderate",
                "evidence_note": note,
                "lead_actor_id": None if lead is None else 3,
                "lead_actor": lead,
                "cost": math.nan,
            },
            {
                "id": 2,
                "title": "Night buses",
                "description": "",
                "origin": "home_grown",
                "kind": "better_coordination",
                "stage": "pilot",
                "evidence": "weak",
                "evidence_note": "Tried in 2019",
                "lead_actor_id": 4,
                "lead_actor": "Transit Riders Union",
                "cost": 12000.0,
            },
        ]
    )


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, ""])
def test_dept103_innovation_without_a_lead_never_says_led_by_nan(missing: object) -> None:
    shown = texts(innovations_section(_innovations(missing, missing), ["idea", "pilot"]))
    assert "Led by Transit Riders Union" in shown
    assert shown.count("Led by") == 1
    assert not RAW_MISSING.search(shown), shown


def test_dept103_top_problems_innovations_on_the_demo_city(env: WebEnv) -> None:
    with env.database.session(write=True) as session:
        problem_id = session.query(Innovation.problem_id).order_by(Innovation.id).first()[0]
        session.add(
            Innovation(
                problem_id=problem_id,
                title="An idea nobody leads yet",
                origin="home_grown",
                kind="new_service",
                stage="idea",
                evidence="weak",
            )
        )
    with env.database.session() as session:
        shown = texts(problem_callbacks.innovations_content(session, problem_id))
    assert "An idea nobody leads yet" in shown
    assert not RAW_MISSING.search(shown), shown
