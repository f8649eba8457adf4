"""a request's text as others may see it before someone said yes

Revision ID: 0010_group_text
Revises: 0009_erasure
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_group_text"
down_revision = "0009_erasure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_text", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.drop_column("group_text")
