"""category renames: a report category can continue the one the city renamed it from

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("continues_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_report_categories_continues_id", ["continues_id"])
        batch_op.create_foreign_key(
            "fk_report_categories_continues_id_report_categories",
            "report_categories",
            ["continues_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint("continues_other", "continues_id <> id")


def downgrade() -> None:
    with op.batch_alter_table("report_categories", schema=None) as batch_op:
        batch_op.drop_constraint("continues_other", type_="check")
        batch_op.drop_constraint(
            "fk_report_categories_continues_id_report_categories", type_="foreignkey"
        )
        batch_op.drop_constraint("uq_report_categories_continues_id", type_="unique")
        batch_op.drop_column("continues_id")
