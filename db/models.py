"""The data model: SQLAlchemy 2.0 typed tables, identical on SQLite and PostgreSQL.

Times are stored as naive UTC datetimes; dates (observation periods, report days) are local.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from triage.vocabulary import (
    ALERT_STATES,
    CADENCES,
    DECISIONS,
    DIRECTIONS,
    ENGAGEMENT_ROLES,
    EVIDENCE_LEVELS,
    INDICATOR_STATUSES,
    INNOVATION_ORIGINS,
    INNOVATION_STAGES,
    INNOVATION_TYPES,
    JOB_OUTCOMES,
    PROBLEM_STATUSES,
    REACHES,
    ROLES,
    SECTORS,
    SEVERITIES,
    SOURCE_KINDS,
    STANCES,
)

# The vocabularies above are defined in ``triage.vocabulary`` and stay importable from here.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Naive UTC now: the one clock every timestamp column uses."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # archived: out of pickers


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(
            "role <> 'department_head' OR department_id IS NOT NULL", name="head_has_department"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on disable or password change so that existing sessions stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    department: Mapped[Department | None] = relationship()


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)


class UserSession(Base):
    """One signed-in browser. Its random token lives only in the signed cookie (a SHA-256
    digest here); signing out revokes this row, so a copied cookie stops working everywhere."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's epoch at sign-in: disabling or a new password bumps it and ends the session.
    session_epoch: Mapped[int] = mapped_column(Integer)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class District(Base):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    population: Mapped[int] = mapped_column(Integer)
    median_household_income: Mapped[float | None] = mapped_column(Float)
    need_index: Mapped[float | None] = mapped_column(Float)  # 0 (least) .. 1 (most need)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # GeoJSON geometry


class ProblemDistrict(Base):
    __tablename__ = "problem_districts"

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True
    )
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True
    )


class Problem(Base):
    __tablename__ = "problems"
    __table_args__ = (
        CheckConstraint(_in("status", PROBLEM_STATUSES), name="status"),
        CheckConstraint("political_capital BETWEEN 0 AND 5", name="political_capital"),
        CheckConstraint("authority BETWEEN 0 AND 5", name="authority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)  # a city pack's key
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    policy_area: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="watch")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    desired_outcome: Mapped[str] = mapped_column(Text, default="")
    political_capital: Mapped[int] = mapped_column(Integer, default=2)  # 0..5
    political_notes: Mapped[str] = mapped_column(Text, default="")
    authority: Mapped[int] = mapped_column(Integer, default=2)  # 0..5: how much the city can act
    authority_notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # archived: out of pickers

    __mapper_args__ = {"version_id_col": version}

    districts: Mapped[list[District]] = relationship(secondary="problem_districts")


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (
        CheckConstraint(_in("direction", DIRECTIONS), name="direction"),
        CheckConstraint(_in("cadence", CADENCES), name="cadence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    cadence: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    target: Mapped[float | None] = mapped_column(Float)
    warning_threshold: Mapped[float | None] = mapped_column(Float)
    critical_threshold: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # archived: out of pickers

    department: Mapped[Department] = relationship()


class Observation(Base):
    """Append-only history: a correction is a new row for the same period, latest wins."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_indicator_period", "indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class IndicatorStatusUpdate(Base):
    __tablename__ = "indicator_status_updates"
    __table_args__ = (
        CheckConstraint(_in("status", INDICATOR_STATUSES), name="status"),
        Index("ix_indicator_status_updates_indicator_at", "indicator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ProblemIndicator(Base):
    __tablename__ = "problem_indicators"
    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)

    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True
    )
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class ReportCategory(Base):
    __tablename__ = "report_categories"
    __table_args__ = (CheckConstraint("continues_id <> id", name="continues_other"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The category this one continues after the city renamed it (HEATING -> HEAT/HOT WATER):
    # its series and problems carry on here. One predecessor per successor and one successor
    # per predecessor (unique); no cycles (``db.catalog.set_category_continues``).
    continues_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_categories.id", ondelete="SET NULL"), unique=True
    )


class CategoryProblem(Base):
    __tablename__ = "category_problems"

    category_id: Mapped[int] = mapped_column(
        ForeignKey("report_categories.id", ondelete="CASCADE"), primary_key=True
    )
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class CitizenReport(Base):
    __tablename__ = "citizen_reports"
    __table_args__ = (
        UniqueConstraint("source", "service_request_id"),
        Index("ix_citizen_reports_category_requested", "category_id", "requested_at"),
        Index("ix_citizen_reports_district_requested", "district_id", "requested_at"),
        # The newest reports city-wide (recent-report lists) and the newest ingestion
        # (``db.cache.data_version``) are one index probe each, not a scan.
        Index("ix_citizen_reports_requested_at", "requested_at"),
        Index("ix_citizen_reports_ingested_at", "ingested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    service_request_id: Mapped[str] = mapped_column(String(128))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("report_categories.id"))
    raw_category: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="open")
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(255), default="")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReportDailyCount(Base):
    """Aggregate kept as reports arrive, so pages and the engine never scan raw reports."""

    __tablename__ = "report_daily_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id"), primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("districts.id"), primary_key=True, index=True
    )
    count: Mapped[int] = mapped_column(Integer)


class CausalFactor(Base):
    __tablename__ = "causal_factors"
    __table_args__ = (
        CheckConstraint(_in("reach", REACHES), name="reach"),
        CheckConstraint(_in("evidence", EVIDENCE_LEVELS), name="evidence"),
        CheckConstraint("weight >= 0 AND weight <= 1", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    reach: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(String(16), default="moderate")
    weight: Mapped[float] = mapped_column(Float, default=0.5)  # causal weight 0..1
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))


class FactorLink(Base):
    """Edge of the backward map: ``factor`` contributes to ``parent`` (no parent: the problem)."""

    __tablename__ = "factor_links"
    __table_args__ = (CheckConstraint("factor_id <> parent_id", name="no_self_loop"),)

    factor_id: Mapped[int] = mapped_column(
        ForeignKey("causal_factors.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("causal_factors.id", ondelete="CASCADE"), primary_key=True
    )


class Actor(Base):
    __tablename__ = "actors"
    __table_args__ = (CheckConstraint(_in("sector", SECTORS), name="sector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # archived: out of pickers


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        CheckConstraint(_in("role", ENGAGEMENT_ROLES), name="role"),
        CheckConstraint(_in("stance", STANCES), name="stance"),
        CheckConstraint("committed_funding >= 0", name="funding_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    factor_id: Mapped[int | None] = mapped_column(
        ForeignKey("causal_factors.id", ondelete="SET NULL")
    )
    role: Mapped[str] = mapped_column(String(16))
    stance: Mapped[str] = mapped_column(String(16), default="complementary")
    committed_funding: Mapped[float] = mapped_column(Float, default=0.0)  # USD
    authorisation: Mapped[str] = mapped_column(Text, default="")
    strings: Mapped[str] = mapped_column(Text, default="")
    last_contact: Mapped[dt.date | None] = mapped_column(Date)


class Innovation(Base):
    __tablename__ = "innovations"
    __table_args__ = (
        CheckConstraint(_in("origin", INNOVATION_ORIGINS), name="origin"),
        CheckConstraint(_in("kind", INNOVATION_TYPES), name="kind"),
        CheckConstraint(_in("stage", INNOVATION_STAGES), name="stage"),
        CheckConstraint(_in("evidence", EVIDENCE_LEVELS), name="evidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(12))
    lead_actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    evidence: Mapped[str] = mapped_column(String(16), default="weak")
    evidence_note: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[float | None] = mapped_column(Float)  # USD


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_in("state", ALERT_STATES), name="state"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        UniqueConstraint("dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # threshold, trend, surge, new_category, stale
    method: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(12))
    series_key: Mapped[str] = mapped_column(String(200))
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicators.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("report_categories.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))
    first_detected: Mapped[dt.date] = mapped_column(Date)
    last_detected: Mapped[dt.date] = mapped_column(Date, index=True)
    expected: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    observed: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="new")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ScoreSnapshot(Base):
    __tablename__ = "score_snapshots"
    __table_args__ = (UniqueConstraint("week", "problem_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), index=True)  # ISO week, e.g. 2026-W47
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    importance: Mapped[float] = mapped_column(Float)
    tractability: Mapped[float] = mapped_column(Float)
    neglectedness: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float)
    priority_low: Mapped[float] = mapped_column(Float)
    priority_high: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    explanation: Mapped[str] = mapped_column(Text, default="")
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in("decision", DECISIONS), name="decision"),
        Index("ix_decisions_problem_week", "problem_id", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AppSetting(Base):
    """Small stored configuration (scoring weights and the like), changed only with an audit row."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, login, ...
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DataSource(Base):
    """A feed or file that brings data in; its cursor is saved with the rows it covers."""

    __tablename__ = "data_sources"
    __table_args__ = (CheckConstraint(_in("kind", SOURCE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(String(500), default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    poll_minutes: Mapped[int | None] = mapped_column(Integer)
    cursor: Mapped[str | None] = mapped_column(String(64))  # e.g. newest updated_datetime seen
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class JobRun(Base):
    """One run of a scheduled or manual job, shown on the administration page."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint(_in("outcome", JOB_OUTCOMES), name="outcome"),
        Index("ix_job_runs_job_started", "job_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(12), default="running")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
