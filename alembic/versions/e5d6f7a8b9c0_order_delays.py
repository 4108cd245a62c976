"""delivery delays of orders (issue 11 § 5, GTC-5.4: the notice at +20 business days, the 51-day offer)

Revision ID: e5d6f7a8b9c0
Revises: d4c5e6f7a8b9
Create Date: 2026-11-26 22:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e5d6f7a8b9c0"
down_revision: Union[str, None] = "d4c5e6f7a8b9"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString
# the delays customer service still follows: the work queue reads only these (services/admin_orders.py)
OPEN = "status IN ('noticed', 'offered', 'refused')"


def upgrade() -> None:
    op.create_table(
        "order_delay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("counted_from", sa.Date(), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("noticed_at", sa.DateTime(), nullable=False),
        sa.Column("offered_at", sa.DateTime(), nullable=True),
        sa.Column("proposed_date", sa.Date(), nullable=True),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("offer_date", sa.Date(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("task_at", sa.DateTime(), nullable=True),
        sa.Column("refused_at", sa.DateTime(), nullable=True),
        sa.Column("refused_link", String(length=16), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("choice", String(length=20), nullable=True),
        sa.Column("decided_link", String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.ForeignKeyConstraint(["proposed_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "counted_from", name="uq_order_delay_order_counted_from"),
    )
    op.create_index("ix_order_delay_order_id", "order_delay", ["order_id"])
    op.create_index("ix_order_delay_status", "order_delay", ["status"])
    op.create_index("ix_order_delay_open", "order_delay", ["order_id", "task_at"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("ix_order_delay_open", table_name="order_delay")
    op.drop_index("ix_order_delay_status", table_name="order_delay")
    op.drop_index("ix_order_delay_order_id", table_name="order_delay")
    op.drop_table("order_delay")
