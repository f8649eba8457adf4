"""due work, referrals and member settings

Revision ID: 0002_due_work
Revises: 0001
Create Date: 2026-11-23 16:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_due_work"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_due_work_dedupe_key"),
    )
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.create_index("ix_due_work_due", ["done_at", "cancelled_at", "due_at"])
        batch_op.create_index("ix_due_work_subject", ["subject_id", "kind"])
        batch_op.create_index("ix_due_work_member", ["member_id", "done_at"])

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["organiser_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["help_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_request_id"), ["request_id"], unique=False)

    op.create_table(
        "member_settings",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )


def downgrade() -> None:
    op.drop_table("member_settings")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_request_id"))
    op.drop_table("referral")
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_index("ix_due_work_member")
        batch_op.drop_index("ix_due_work_subject")
        batch_op.drop_index("ix_due_work_due")
    op.drop_table("due_work")
