"""issued documents: order record, invoices per shipment, credit notes per refund; numbered per series

Revision ID: d4c5e6f7a8b9
Revises: b8d2e3f4a5c6
Create Date: 2026-11-26 22:20:00

`document_counter` holds the last number of each series, incremented in the transaction that issues a
document (gap-free, one at a time per series). `issued_document` keeps each PDF exactly as issued, and
`outbox_email.document_id` attaches one to an email by reference.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "d4c5e6f7a8b9"
down_revision: Union[str, None] = "b8d2e3f4a5c6"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    counters = op.create_table(
        "document_counter",
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series"),
    )
    from storefront.domain.documents import SERIES

    op.bulk_insert(counters, [{"series": series, "last_number": 0} for series in SERIES.values()])
    op.create_table(
        "issued_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("source_key", sa.String(length=80), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("series", "number", name="uq_issued_document_series_number"),
        sa.UniqueConstraint("document_number"),
        sa.UniqueConstraint("source_key"),
    )
    op.create_index("ix_issued_document_order_id", "issued_document", ["order_id"])
    with op.batch_alter_table("outbox_email") as batch:
        batch.add_column(sa.Column("document_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_email_document_id_issued_document", "issued_document",
                                 ["document_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_email") as batch:
        batch.drop_constraint("fk_outbox_email_document_id_issued_document", type_="foreignkey")
        batch.drop_column("document_id")
    op.drop_index("ix_issued_document_order_id", table_name="issued_document")
    op.drop_table("issued_document")
    op.drop_table("document_counter")
