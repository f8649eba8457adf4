"""one-time links and sessions for the organisers' web pages

Revision ID: 0014_web
Revises: 0013_indexes
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_web"
down_revision = "0013_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_login",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_login_member_id", "web_login", ["member_id"])
    # retention removes a community's expired ones every night
    op.create_index("ix_web_login_expiry", "web_login", ["community_id", "expires_at"])
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_session_member_id", "web_session", ["member_id"])
    op.create_index("ix_web_session_expiry", "web_session", ["community_id", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_session_expiry", table_name="web_session")
    op.drop_index("ix_web_session_member_id", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_web_login_expiry", table_name="web_login")
    op.drop_index("ix_web_login_member_id", table_name="web_login")
    op.drop_table("web_login")
