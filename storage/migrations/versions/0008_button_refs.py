"""a pressed button is checked against its message's newest buttons: edits by original

Revision ID: 0008_button_refs
Revises: 0007_limits
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008_button_refs"
down_revision = "0007_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_edit_of", "outbox", ["edit_of"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_edit_of", table_name="outbox")
