"""limits: counted actions of members and the notices that a limit was reached

Revision ID: 0007_limits
Revises: 0006_group_ask
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_limits"
down_revision = "0006_group_ask"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_limit_use_member", "limit_use", ["member_id", "kind", "at"])
    op.create_index("ix_limit_use_at", "limit_use", ["at"])
    op.create_table(
        "limit_notice",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("limit_notice")
    op.drop_index("ix_limit_use_at", table_name="limit_use")
    op.drop_index("ix_limit_use_member", table_name="limit_use")
    op.drop_table("limit_use")
