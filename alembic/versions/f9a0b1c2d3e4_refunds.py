"""refunds of captured money (issue 9 § 4: refunds, four-eyes approval above a threshold)

Revision ID: f9a0b1c2d3e4
Revises: e7f8a9b0c1d2
Create Date: 2026-11-26 16:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f9a0b1c2d3e4"
down_revision: Union[str, None] = "e7f8a9b0c1d2"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("authorization_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", String(length=3), nullable=False),
        sa.Column("reason_code", String(length=40), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("provider_refund_id", String(length=80), nullable=True),
        sa.Column("failure_code", String(length=80), nullable=True),
        sa.Column("idempotency_key", String(length=120), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.ForeignKeyConstraint(["authorization_id"], ["payment_authorization.id"]),
        sa.ForeignKeyConstraint(["requested_by"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("order_id", "number", "authorization_id", name="uq_refund_order_number_hold"),
    )
    op.create_index("ix_refund_order_id", "refund", ["order_id"])
    op.create_index("ix_refund_status", "refund", ["status"])


def downgrade() -> None:
    op.drop_index("ix_refund_status", table_name="refund")
    op.drop_index("ix_refund_order_id", table_name="refund")
    op.drop_table("refund")
