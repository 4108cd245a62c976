"""shipments and their lines (issue 9: the ship action, GTC-5.2, GTC-5.5, PAY-5)

Revision ID: e7f8a9b0c1d2
Revises: d1a2b3c4e5f6
Create Date: 2026-11-26 16:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e7f8a9b0c1d2"
down_revision: Union[str, None] = "d1a2b3c4e5f6"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("carrier", String(length=80), nullable=False),
        sa.Column("tracking_number", String(length=40), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", String(length=3), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "number", name="uq_shipment_order_number"),
    )
    op.create_index("ix_shipment_order_id", "shipment", ["order_id"])
    op.create_table(
        "shipment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"]),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shipment_line_shipment_id", "shipment_line", ["shipment_id"])


def downgrade() -> None:
    op.drop_index("ix_shipment_line_shipment_id", table_name="shipment_line")
    op.drop_table("shipment_line")
    op.drop_index("ix_shipment_order_id", table_name="shipment")
    op.drop_table("shipment")
