"""outbox rows that remove a member's message from a group, and private messages that
need no named notice in the group

Revision ID: 0006_group_ask
Revises: 0005_offer_kinds
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_group_ask"
down_revision = "0005_offer_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("delete_ref", sa.String(), nullable=True))
    op.add_column(
        "outbox",
        sa.Column("discreet", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("discreet")
        batch.drop_column("delete_ref")
