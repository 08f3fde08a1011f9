"""problem codes: the stable key a city pack names its problems by

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 19:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_problems_code", ["code"])


def downgrade() -> None:
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.drop_constraint("uq_problems_code", type_="unique")
        batch_op.drop_column("code")
