"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 07:10:30.920323
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "sector IN ('government_agency', 'elected_political', 'philanthropic', 'corporate_civic', 'community', 'nonprofit_social_enterprise', 'labour', 'faith', 'media')",
            name=op.f("ck_actors_sector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actors")),
        sa.UniqueConstraint("name", name=op.f("uq_actors_name")),
    )
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actors_sector"), ["sector"], unique=False)

    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("median_household_income", sa.Float(), nullable=True),
        sa.Column("need_index", sa.Float(), nullable=True),
        sa.Column("geometry", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_districts")),
        sa.UniqueConstraint("code", name=op.f("uq_districts_code")),
        sa.UniqueConstraint("name", name=op.f("uq_districts_name")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_attempts_remote_addr"), ["remote_addr"], unique=False
        )
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)

    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("warning_threshold", sa.Float(), nullable=True),
        sa.Column("critical_threshold", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "cadence IN ('weekly', 'monthly', 'quarterly', 'annual')",
            name=op.f("ck_indicators_cadence"),
        ),
        sa.CheckConstraint("direction IN ('up', 'down')", name=op.f("ck_indicators_direction")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_indicators_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("code", name=op.f("uq_indicators_code")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicators_department_id"), ["department_id"], unique=False
        )

    op.create_table(
        "report_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_report_categories_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_report_categories_code")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "role <> 'department_head' OR department_id IS NOT NULL",
            name=op.f("ck_users_head_has_department"),
        ),
        sa.CheckConstraint(
            "role IN ('mayor', 'chief_of_staff', 'department_head', 'analyst', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_users_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "citizen_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("service_request_id", sa.String(length=128), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("raw_category", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_citizen_reports_category_id_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_citizen_reports_district_id_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_reports")),
        sa.UniqueConstraint(
            "source",
            "service_request_id",
            name=op.f("uq_citizen_reports_source_service_request_id"),
        ),
    )
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_citizen_reports_category_requested", ["category_id", "requested_at"], unique=False
        )
        batch_op.create_index(
            "ix_citizen_reports_district_requested", ["district_id", "requested_at"], unique=False
        )

    op.create_table(
        "indicator_status_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('on_track', 'at_risk', 'off_track')",
            name=op.f("ck_indicator_status_updates_status"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_indicator_status_updates_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_indicator_status_updates_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_status_updates")),
    )
    with op.batch_alter_table("indicator_status_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_status_updates_indicator_at", ["indicator_id", "created_at"], unique=False
        )

    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["users.id"], name=op.f("fk_observations_entered_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_observations_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_observations_indicator_period", ["indicator_id", "period"], unique=False
        )

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("policy_area", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("lead_department_id", sa.Integer(), nullable=True),
        sa.Column("desired_outcome", sa.Text(), nullable=False),
        sa.Column("political_capital", sa.Integer(), nullable=False),
        sa.Column("political_notes", sa.Text(), nullable=False),
        sa.Column("authority", sa.Integer(), nullable=False),
        sa.Column("authority_notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('watch', 'emerging', 'focus', 'monitoring', 'resolved')",
            name=op.f("ck_problems_status"),
        ),
        sa.CheckConstraint("authority BETWEEN 0 AND 5", name=op.f("ck_problems_authority")),
        sa.CheckConstraint(
            "political_capital BETWEEN 0 AND 5", name=op.f("ck_problems_political_capital")
        ),
        sa.ForeignKeyConstraint(
            ["lead_department_id"],
            ["departments.id"],
            name=op.f("fk_problems_lead_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_problems_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problems_policy_area"), ["policy_area"], unique=False)

    op.create_table(
        "report_daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_report_daily_counts_category_id_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_report_daily_counts_district_id_districts"),
        ),
        sa.PrimaryKeyConstraint(
            "day", "category_id", "district_id", name=op.f("pk_report_daily_counts")
        ),
    )
    with op.batch_alter_table("report_daily_counts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_daily_counts_district_id"), ["district_id"], unique=False
        )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=12), nullable=False),
        sa.Column("series_key", sa.String(length=200), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("first_detected", sa.Date(), nullable=False),
        sa.Column("last_detected", sa.Date(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name=op.f("ck_alerts_severity")
        ),
        sa.CheckConstraint(
            "state IN ('new', 'acknowledged', 'linked', 'resolved', 'dismissed')",
            name=op.f("ck_alerts_state"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_alerts_category_id_report_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_alerts_district_id_districts")
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicators.id"], name=op.f("fk_alerts_indicator_id_indicators")
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_alerts_problem_id_problems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_alerts_dedupe_key")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alerts_last_detected"), ["last_detected"], unique=False
        )

    op.create_table(
        "category_problems",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["report_categories.id"],
            name=op.f("fk_category_problems_category_id_report_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_category_problems_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "problem_id", name=op.f("pk_category_problems")),
    )
    with op.batch_alter_table("category_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_category_problems_problem_id"), ["problem_id"], unique=False
        )

    op.create_table(
        "causal_factors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reach", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "evidence IN ('strong', 'moderate', 'weak', 'anecdotal')",
            name=op.f("ck_causal_factors_evidence"),
        ),
        sa.CheckConstraint(
            "reach IN ('controls', 'influences', 'outside')", name=op.f("ck_causal_factors_reach")
        ),
        sa.CheckConstraint("weight >= 0 AND weight <= 1", name=op.f("ck_causal_factors_weight")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_causal_factors_indicator_id_indicators"),
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_causal_factors_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_causal_factors")),
    )
    with op.batch_alter_table("causal_factors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_causal_factors_problem_id"), ["problem_id"], unique=False
        )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('focus', 'delegate', 'convene', 'monitor', 'drop')",
            name=op.f("ck_decisions_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_decisions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_decisions_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_problem_week", ["problem_id", "week"], unique=False)

    op.create_table(
        "innovations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("lead_actor_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.String(length=16), nullable=False),
        sa.Column("evidence_note", sa.Text(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "evidence IN ('strong', 'moderate', 'weak', 'anecdotal')",
            name=op.f("ck_innovations_evidence"),
        ),
        sa.CheckConstraint(
            "kind IN ('new_service', 'cheaper_method', 'higher_quality', 'new_resource_flow', 'coordination')",
            name=op.f("ck_innovations_kind"),
        ),
        sa.CheckConstraint(
            "origin IN ('tested_elsewhere', 'home_grown', 'reclaimed', 'wholly_new')",
            name=op.f("ck_innovations_origin"),
        ),
        sa.CheckConstraint(
            "stage IN ('idea', 'pilot', 'evaluating', 'scaling', 'retired')",
            name=op.f("ck_innovations_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_actor_id"],
            ["actors.id"],
            name=op.f("fk_innovations_lead_actor_id_actors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_innovations_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_innovations")),
    )
    with op.batch_alter_table("innovations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_innovations_problem_id"), ["problem_id"], unique=False)

    op.create_table(
        "problem_districts",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["districts.id"],
            name=op.f("fk_problem_districts_district_id_districts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_problem_districts_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("problem_id", "district_id", name=op.f("pk_problem_districts")),
    )
    op.create_table(
        "problem_indicators",
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.CheckConstraint("weight > 0", name=op.f("ck_problem_indicators_weight_positive")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_problem_indicators_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_problem_indicators_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("problem_id", "indicator_id", name=op.f("pk_problem_indicators")),
    )
    with op.batch_alter_table("problem_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_problem_indicators_indicator_id"), ["indicator_id"], unique=False
        )

    op.create_table(
        "score_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("importance", sa.Float(), nullable=False),
        sa.Column("tractability", sa.Float(), nullable=False),
        sa.Column("neglectedness", sa.Float(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("priority_low", sa.Float(), nullable=False),
        sa.Column("priority_high", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_score_snapshots_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_snapshots")),
        sa.UniqueConstraint("week", "problem_id", name=op.f("uq_score_snapshots_week_problem_id")),
    )
    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_snapshots_week"), ["week"], unique=False)

    op.create_table(
        "engagements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("problem_id", sa.Integer(), nullable=False),
        sa.Column("factor_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("stance", sa.String(length=16), nullable=False),
        sa.Column("committed_funding", sa.Float(), nullable=False),
        sa.Column("authorisation", sa.Text(), nullable=False),
        sa.Column("strings", sa.Text(), nullable=False),
        sa.Column("last_contact", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "role IN ('funding', 'delivering', 'advocating', 'authorising', 'convening')",
            name=op.f("ck_engagements_role"),
        ),
        sa.CheckConstraint(
            "stance IN ('complementary', 'competing', 'indifferent')",
            name=op.f("ck_engagements_stance"),
        ),
        sa.CheckConstraint(
            "committed_funding >= 0", name=op.f("ck_engagements_funding_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_engagements_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["factor_id"],
            ["causal_factors.id"],
            name=op.f("fk_engagements_factor_id_causal_factors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["problem_id"],
            ["problems.id"],
            name=op.f("fk_engagements_problem_id_problems"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagements")),
    )
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagements_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_engagements_problem_id"), ["problem_id"], unique=False)

    op.create_table(
        "factor_links",
        sa.Column("factor_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("factor_id <> parent_id", name=op.f("ck_factor_links_no_self_loop")),
        sa.ForeignKeyConstraint(
            ["factor_id"],
            ["causal_factors.id"],
            name=op.f("fk_factor_links_factor_id_causal_factors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["causal_factors.id"],
            name=op.f("fk_factor_links_parent_id_causal_factors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("factor_id", "parent_id", name=op.f("pk_factor_links")),
    )


def downgrade() -> None:
    op.drop_table("factor_links")
    with op.batch_alter_table("engagements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagements_problem_id"))
        batch_op.drop_index(batch_op.f("ix_engagements_actor_id"))

    op.drop_table("engagements")
    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_snapshots_week"))

    op.drop_table("score_snapshots")
    with op.batch_alter_table("problem_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_indicators_indicator_id"))

    op.drop_table("problem_indicators")
    op.drop_table("problem_districts")
    with op.batch_alter_table("innovations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_innovations_problem_id"))

    op.drop_table("innovations")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_problem_week")

    op.drop_table("decisions")
    with op.batch_alter_table("causal_factors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_causal_factors_problem_id"))

    op.drop_table("causal_factors")
    with op.batch_alter_table("category_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_category_problems_problem_id"))

    op.drop_table("category_problems")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_last_detected"))

    op.drop_table("alerts")
    with op.batch_alter_table("report_daily_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_daily_counts_district_id"))

    op.drop_table("report_daily_counts")
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problems_policy_area"))

    op.drop_table("problems")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_indicator_period")

    op.drop_table("observations")
    with op.batch_alter_table("indicator_status_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_status_updates_indicator_at")

    op.drop_table("indicator_status_updates")
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_reports_district_requested")
        batch_op.drop_index("ix_citizen_reports_category_requested")

    op.drop_table("citizen_reports")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_entity")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("users")
    op.drop_table("report_categories")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_department_id"))

    op.drop_table("indicators")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_username_at")
        batch_op.drop_index(batch_op.f("ix_login_attempts_remote_addr"))

    op.drop_table("login_attempts")
    op.drop_table("districts")
    op.drop_table("departments")
    op.drop_table("app_settings")
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actors_sector"))

    op.drop_table("actors")
