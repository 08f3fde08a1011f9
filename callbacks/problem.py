"""Problem page callback: fetch one problem's facts, indicators, map, actors and decisions."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from callbacks.policy import current_database, local_today, secured_callback
from db import queries
from db.models import INNOVATION_STAGES, SECTORS
from layouts import ids
from layouts.components import humanize, not_found
from layouts.problem import ProblemPageData, parse_problem_id, problem_page
from triage.demo import POLICY_AREAS as POLICY_AREA_LABELS
from triage.security import Capability, Principal


def problem_body(problem_id: Any, *, principal: Principal) -> Any:
    """The problem page body, or "Problem not found" for an unknown or malformed id."""
    parsed = parse_problem_id(problem_id)
    if parsed is None:
        return not_found("Problem")
    with current_database().session() as session:
        detail = queries.problem_detail(session, parsed)
        if detail is None:
            return not_found("Problem")
        indicators = queries.problem_indicators(session, parsed, today=local_today())
        data = ProblemPageData(
            title=detail.title,
            description=detail.description,
            desired_outcome=detail.desired_outcome,
            policy_area=POLICY_AREA_LABELS.get(detail.policy_area) or humanize(detail.policy_area),
            status=detail.status,
            lead_department=detail.lead_department,
            owner=detail.owner,
            districts=detail.districts,
            indicators=indicators,
            histories=queries.indicator_histories(session, [int(i) for i in indicators["id"]]),
            factors=queries.causal_factors(session, parsed),
            links=queries.factor_links(session, parsed),
            engagements=queries.problem_engagements(session, parsed),
            innovations=queries.problem_innovations(session, parsed),
            decisions=queries.problem_decisions(session, parsed),
            sectors=SECTORS,
            stages=INNOVATION_STAGES,
        )
    return problem_page(data)


def register(app: dash.Dash) -> None:
    secured_callback(
        app,
        Capability.VIEW_CITY,
        Output(ids.PROBLEM_BODY_DIV, "children"),
        Input(ids.PROBLEM_ID_STORE, "data"),
    )(problem_body)
