"""unavailable items after approval (GTC-3.2, issue 9 § 4: the client's choice of a new date or a refund)

Revision ID: a7b8c9d0e1f2
Revises: f9a0b1c2d3e4
Create Date: 2026-11-27 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a7b8c9d0e1f2"
down_revision: Union[str, None] = "f9a0b1c2d3e4"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "unavailable_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("proposed_date", sa.Date(), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_unavailable_item_order_id", "unavailable_item", ["order_id"])
    op.create_index("ix_unavailable_item_status", "unavailable_item", ["status"])


def downgrade() -> None:
    op.drop_index("ix_unavailable_item_status", table_name="unavailable_item")
    op.drop_index("ix_unavailable_item_order_id", table_name="unavailable_item")
    op.drop_table("unavailable_item")
