"""circles of neighbours who look out for each other, their members, invitations, partners

Revision ID: 0015_circles
Revises: 0014_web
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_circles"
down_revision = "0014_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_circle_community_id", "circle", ["community_id"])
    op.create_table(
        "circle_member",
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("likes_to_do", sa.String(), nullable=False),
        sa.Column("might_need", sa.String(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["circle_id"], ["circle.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("circle_id", "member_id"),
    )
    op.create_index("ix_circle_member_member_id", "circle_member", ["member_id"])
    op.create_table(
        "circle_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("inviter_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["circle_id"], ["circle.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["inviter_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_circle_invite_circle", "circle_invite", ["circle_id", "status"])
    op.create_index("ix_circle_invite_member_id", "circle_invite", ["member_id"])
    op.create_index("ix_circle_invite_inviter_id", "circle_invite", ["inviter_id"])
    op.create_table(
        "circle_partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("contact", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["circle_id"], ["circle.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_circle_partner_circle_id", "circle_partner", ["circle_id"])


def downgrade() -> None:
    op.drop_index("ix_circle_partner_circle_id", table_name="circle_partner")
    op.drop_table("circle_partner")
    op.drop_index("ix_circle_invite_inviter_id", table_name="circle_invite")
    op.drop_index("ix_circle_invite_member_id", table_name="circle_invite")
    op.drop_index("ix_circle_invite_circle", table_name="circle_invite")
    op.drop_table("circle_invite")
    op.drop_index("ix_circle_member_member_id", table_name="circle_member")
    op.drop_table("circle_member")
    op.drop_index("ix_circle_community_id", table_name="circle")
    op.drop_table("circle")
