"""meal tables and seats

Revision ID: 0004_meal_tables
Revises: 0003_organisers
Create Date: 2026-11-23 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_meal_tables"
down_revision = "0003_organisers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meal_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("contribution", sa.String(), nullable=False),
        sa.Column("menu", sa.String(), nullable=False),
        sa.Column("diets", sa.String(), nullable=False),
        sa.Column("signup_until", sa.DateTime(), nullable=False),
        sa.Column("max_plus", sa.Integer(), nullable=False),
        sa.Column("weekly_until", sa.DateTime(), nullable=True),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("group_posts", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["host_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_meal_table_when", "meal_table", ["community_id", "status", "starts_at"])
    op.create_index("ix_meal_table_host_id", "meal_table", ["host_id"])
    op.create_index("ix_meal_table_series_id", "meal_table", ["series_id"])
    op.create_table(
        "seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("plus", sa.Integer(), nullable=False),
        sa.Column("diet", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("offered_until", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["table_id"], ["meal_table.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("table_id", "member_id"),
    )
    op.create_index("ix_seat_table", "seat", ["table_id", "status", "position"])
    op.create_index("ix_seat_member_id", "seat", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_seat_member_id", table_name="seat")
    op.drop_index("ix_seat_table", table_name="seat")
    op.drop_table("seat")
    op.drop_index("ix_meal_table_series_id", table_name="meal_table")
    op.drop_index("ix_meal_table_host_id", table_name="meal_table")
    op.drop_index("ix_meal_table_when", table_name="meal_table")
    op.drop_table("meal_table")
