"""a long outbox text goes out in parts; the row counts those the platform took

Revision ID: 0012_outbox_parts
Revises: 0011_outbox_leases
Create Date: 2026-12-02 01:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_outbox_parts"
down_revision = "0011_outbox_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("parts_sent")
