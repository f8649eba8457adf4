"""omkijken: check-ins of circle members, who looked in, the weekly rota, gatherings

Revision ID: 0016_omkijken
Revises: 0015_circles
Create Date: 2026-12-02 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_omkijken"
down_revision = "0015_circles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "omkijken_plan",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.String(), nullable=False),
        sa.Column("at", sa.String(), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_index("ix_omkijken_plan_circle_id", "omkijken_plan", ["circle_id"])
    op.create_table(
        "checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("missed_at", sa.DateTime(), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("looker_id", sa.Integer(), nullable=True),
        sa.Column("looked_at", sa.DateTime(), nullable=True),
        sa.Column("look_result", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["looker_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_checkin_circle_id", "checkin", ["circle_id"])
    op.create_index("ix_checkin_member_id", "checkin", ["member_id"])
    op.create_index("ix_checkin_looker_id", "checkin", ["looker_id"])
    op.create_index("ix_checkin_community_asked", "checkin", ["community_id", "asked_at"])
    op.create_table(
        "checkin_ask",
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("answer", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkin.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("checkin_id", "member_id"),
    )
    op.create_index("ix_checkin_ask_member_id", "checkin_ask", ["member_id"])
    op.create_table(
        "rota",
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("buddy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["buddy_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("circle_id", "week", "member_id"),
    )
    op.create_index("ix_rota_buddy_id", "rota", ["buddy_id"])
    op.create_index("ix_rota_member_id", "rota", ["member_id"])
    op.create_table(
        "gathering",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["organiser_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gathering_circle_id", "gathering", ["circle_id"])
    op.create_index("ix_gathering_organiser_id", "gathering", ["organiser_id"])
    op.create_table(
        "gathering_answer",
        sa.Column("gathering_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("coming", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["gathering_id"], ["gathering.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("gathering_id", "member_id"),
    )
    op.create_index("ix_gathering_answer_member_id", "gathering_answer", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_gathering_answer_member_id", table_name="gathering_answer")
    op.drop_table("gathering_answer")
    op.drop_index("ix_gathering_organiser_id", table_name="gathering")
    op.drop_index("ix_gathering_circle_id", table_name="gathering")
    op.drop_table("gathering")
    op.drop_index("ix_rota_member_id", table_name="rota")
    op.drop_index("ix_rota_buddy_id", table_name="rota")
    op.drop_table("rota")
    op.drop_index("ix_checkin_ask_member_id", table_name="checkin_ask")
    op.drop_table("checkin_ask")
    op.drop_index("ix_checkin_community_asked", table_name="checkin")
    op.drop_index("ix_checkin_looker_id", table_name="checkin")
    op.drop_index("ix_checkin_member_id", table_name="checkin")
    op.drop_index("ix_checkin_circle_id", table_name="checkin")
    op.drop_table("checkin")
    op.drop_index("ix_omkijken_plan_circle_id", table_name="omkijken_plan")
    op.drop_table("omkijken_plan")
