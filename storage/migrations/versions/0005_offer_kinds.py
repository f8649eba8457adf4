"""offers findable by kind of help, place and time

Revision ID: 0005_offer_kinds
Revises: 0004_meal_tables
Create Date: 2026-11-23 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.rows import offer_kind_rows

revision = "0005_offer_kinds"
down_revision = "0004_meal_tables"
branch_labels = None
depends_on = None


def _csv(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def upgrade() -> None:
    kinds = op.create_table(
        "offer_kind",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("area_number", sa.Integer(), nullable=True),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"]),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.ForeignKeyConstraint(["offer_id"], ["offer.id"]),
        sa.PrimaryKeyConstraint("offer_id", "category"),
    )
    op.create_index(
        "ix_offer_kind_near",
        "offer_kind",
        ["community_id", "category", "area_number", "member_id"],
    )
    op.create_index("ix_offer_kind_member", "offer_kind", ["community_id", "category", "member_id"])
    op.create_index("ix_help_request_matched", "help_request", ["matched_at", "helper_id"])

    offers = op.get_bind().execute(
        sa.text("SELECT id, community_id, member_id, categories, days, parts, area FROM offer")
    )
    rows = [
        kind
        for offer in offers
        for kind in offer_kind_rows(
            offer.id,
            offer.community_id,
            offer.member_id,
            _csv(offer.categories),
            (int(day) for day in _csv(offer.days)),
            _csv(offer.parts),
            offer.area,
        )
    ]
    if rows:
        op.bulk_insert(kinds, rows)


def downgrade() -> None:
    op.drop_index("ix_help_request_matched", table_name="help_request")
    op.drop_index("ix_offer_kind_member", table_name="offer_kind")
    op.drop_index("ix_offer_kind_near", table_name="offer_kind")
    op.drop_table("offer_kind")
