"""Early-warning alerts end to end on the seeded demo city: detect, store, de-duplicate, act."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from db.alerts.store import active_alerts, transition_alert
from db.models import Alert, AuditLog, District, Problem, ReportCategory
from db.session import Database
from tests.clock import TODAY
from tests.webutil import fresh_database
from triage.jobs.alerts import refresh_alerts
from triage.security import Principal, Role
from triage.validation import ValidationError

CHIEF = Principal(None, "chief", Role.CHIEF_OF_STAFF)
AS_OF = TODAY  # the template city is seeded relative to today


@pytest.fixture
def city(tmp_path: Path) -> Database:
    database = fresh_database(tmp_path)
    # The template city comes with its detector history; start these tests from none.
    with database.session(write=True) as session:
        session.execute(delete(Alert))
    yield database
    database.dispose()


def test_alert001_planted_problems_are_found_and_rerun_changes_nothing(city: Database) -> None:
    first = refresh_alerts(city, AS_OF)
    assert first["inserted"] > 0
    with city.session() as s:
        alerts = active_alerts(s)
        dumping = s.scalar(
            select(ReportCategory.id).where(ReportCategory.name == "Illegal dumping")
        )
        millbrook = s.scalar(select(District.id).where(District.name == "Millbrook"))
    surges = alerts[alerts["kind"] == "surge"]
    planted = surges[(surges["category_id"] == dumping) & (surges["district_id"] == millbrook)]
    assert len(planted) == 1
    assert "Illegal dumping reports in Millbrook" in planted["message"].item()
    assert planted["observed"].item() > 2 * planted["expected"].item()
    # The detector's level is in the method; the severity shown comes from impact.
    breaches = alerts[(alerts["kind"] == "threshold") & (alerts["method"] == "threshold-critical")]
    assert breaches["message"].str.contains("opioid overdoses").any()
    second = refresh_alerts(city, AS_OF)
    assert second["inserted"] == 0 and second["updated"] == first["inserted"]
    with city.session() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == first["inserted"]


def test_alert002_life_cycle_is_checked_and_audited(city: Database) -> None:
    refresh_alerts(city, AS_OF)
    with city.session() as s:
        alert_id = int(active_alerts(s)["id"].iloc[0])
        problem_id = s.scalar(select(Problem.id).limit(1))
    with city.session(write=True) as s:
        transition_alert(s, CHIEF, alert_id, "acknowledged")
    with pytest.raises(ValidationError, match="Say why"), city.session(write=True) as s:
        transition_alert(s, CHIEF, alert_id, "dismissed")
    with pytest.raises(ValidationError, match="Choose the problem"), city.session(write=True) as s:
        transition_alert(s, CHIEF, alert_id, "linked", problem_id=999_999)
    with city.session(write=True) as s:
        transition_alert(s, CHIEF, alert_id, "linked", problem_id=problem_id)
    with city.session() as s:
        alert = s.get(Alert, alert_id)
        assert (alert.state, alert.problem_id) == ("linked", problem_id)
        actions = s.scalars(
            select(AuditLog.action).where(AuditLog.entity == "alert").order_by(AuditLog.id)
        ).all()
        assert actions == ["acknowledged", "linked"]
    head = Principal(None, "head-pw", Role.DEPARTMENT_HEAD, 1)
    with pytest.raises(Exception, match="may not manage alerts"), city.session(write=True) as s:
        transition_alert(s, head, alert_id, "resolved")
