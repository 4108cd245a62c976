"""catalogue management: stock movements (append-only) and shipping fees in the database (issue 10 section 1)

`stock_movement`: every change of a product's stock with its reason, by whom (staff adjustments) or by
which order (placement, cancellation), and the stock it left. The database refuses UPDATE and DELETE on
it (and TRUNCATE on PostgreSQL), as for the audit log (migration d1a2b3c4e5f6, whose PostgreSQL function
`storefront_append_only()` is reused). On SQLite a later `batch_alter_table` of stock_movement recreates
the table and loses its triggers: such a migration must create them again.

`shipping_fee`: the insured-courier fee per zone and currency, in minor units, edited by staff; filled
here from rules/shipping.toml (the default), as the seed does for a database made another way.

Revision ID: a9c1d2e3f4b5
Revises: f1a2b3c4d5e6
Create Date: 2026-11-26 21:30:00
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a9c1d2e3f4b5"
down_revision: Union[str, None] = "f1a2b3c4d5e6"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("stock_after", sa.Integer(), nullable=False),
        sa.Column("reason", String(length=40), nullable=False),
        sa.Column("note", String(length=200), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stock_movement_product_id", "stock_movement", ["product_id"])
    fees = op.create_table(
        "shipping_fee",
        sa.Column("zone", String(length=20), nullable=False),
        sa.Column("currency", String(length=3), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "currency"),
    )
    from storefront.domain.shipping import default_table

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(fees, [{"zone": r.zone, "currency": r.currency, "fee_minor": r.fee_minor, "updated_at": now}
                          for r in default_table().rows])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE ON stock_movement "
                   "FOR EACH ROW EXECUTE FUNCTION storefront_append_only()")
        op.execute("CREATE TRIGGER stock_movement_no_truncate BEFORE TRUNCATE ON stock_movement "
                   "FOR EACH STATEMENT EXECUTE FUNCTION storefront_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER stock_movement_no_{verb.lower()} BEFORE {verb} ON stock_movement "
                   f"BEGIN SELECT RAISE(ABORT, 'append-only: stock movements'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS stock_movement_append_only ON stock_movement")
        op.execute("DROP TRIGGER IF EXISTS stock_movement_no_truncate ON stock_movement")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS stock_movement_no_{verb}")
    op.drop_table("shipping_fee")
    op.drop_index("ix_stock_movement_product_id", table_name="stock_movement")
    op.drop_table("stock_movement")
