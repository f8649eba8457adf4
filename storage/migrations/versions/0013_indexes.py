"""indexes for the statements every event, send and claim runs, and for retention

Revision ID: 0013_indexes
Revises: 0012_outbox_parts
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0013_indexes"
down_revision = "0012_outbox_parts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a community's members and organisers: the primary key starts with the member
    op.create_index("ix_membership_community", "membership", ["community_id", "role"])
    # retention removes old rows of these without reading them all
    op.create_index("ix_inbox_received", "inbox", ["received_at"])
    op.create_index("ix_limit_notice_until", "limit_notice", ["until"])
    op.create_index("ix_outbox_sent", "outbox", ["status", "sent_at"])
    # pending, unclaimed work in due order (claiming; when the next is due)
    op.drop_index("ix_due_work_due", table_name="due_work")
    op.create_index(
        "ix_due_work_claimable", "due_work", ["done_at", "cancelled_at", "claimed_at", "due_at"]
    )
    # a member's pending work in due order, and what was done for them lately
    op.drop_index("ix_due_work_member", table_name="due_work")
    op.create_index(
        "ix_due_work_for_member", "due_work", ["member_id", "done_at", "cancelled_at", "due_at"]
    )
    # is work of a kind pending for a community (the digest, retention)
    op.create_index(
        "ix_due_work_kind", "due_work", ["kind", "community_id", "done_at", "cancelled_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_due_work_kind", table_name="due_work")
    op.drop_index("ix_due_work_for_member", table_name="due_work")
    op.create_index("ix_due_work_member", "due_work", ["member_id", "done_at"])
    op.drop_index("ix_due_work_claimable", table_name="due_work")
    op.create_index("ix_due_work_due", "due_work", ["done_at", "cancelled_at", "due_at"])
    op.drop_index("ix_outbox_sent", table_name="outbox")
    op.drop_index("ix_limit_notice_until", table_name="limit_notice")
    op.drop_index("ix_inbox_received", table_name="inbox")
    op.drop_index("ix_membership_community", table_name="membership")
