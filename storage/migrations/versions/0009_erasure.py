"""whose personal data each message carries, so that erasure finds it by reference

Revision ID: 0009_erasure
Revises: 0008_button_refs
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_erasure"
down_revision = "0008_button_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_about",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("outbox_id", "member_id"),
    )
    op.create_index("ix_outbox_about_member_id", "outbox_about", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_about_member_id", table_name="outbox_about")
    op.drop_table("outbox_about")
