"""organisers, moderation and privacy

Revision ID: 0003_organisers
Revises: 0002_due_work
Create Date: 2026-11-23 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_organisers"
down_revision = "0002_due_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_member_contact_id", "member", ["contact_id"], ["id"])
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(), nullable=False, server_default="active")
        )
        batch_op.add_column(
            sa.Column("helper_status", sa.String(), nullable=False, server_default="none")
        )
        batch_op.add_column(sa.Column("rules_accepted_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("helper_status", server_default=None)
    op.create_table(
        "vouch",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["voucher_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id", "community_id", "voucher_id"),
    )
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["reporter_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["help_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_community_id", "report", ["community_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_community_id", "audit", ["community_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_community_id", table_name="audit")
    op.drop_table("audit")
    op.drop_index("ix_report_community_id", table_name="report")
    op.drop_table("report")
    op.drop_table("vouch")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("rules_accepted_at")
        batch_op.drop_column("helper_status")
        batch_op.drop_column("status")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_constraint("fk_member_contact_id", type_="foreignkey")
        batch_op.drop_column("erased_at")
        batch_op.drop_column("contact_id")
