"""citizen report time indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.create_index("ix_citizen_reports_requested_at", ["requested_at"], unique=False)
        batch_op.create_index("ix_citizen_reports_ingested_at", ["ingested_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("citizen_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_citizen_reports_ingested_at")
        batch_op.drop_index("ix_citizen_reports_requested_at")
