"""composite indexes for the management page's list, filters and work queues (issue 9 § 7)

Measured with bench/admin_bench.py on 1,000,000 orders (docs/benchmarks.md, "Management page"):
each list filter pages by keyset (placed_at, id) within an equality filter, and each work queue
looks up the few orders of a rare status in a big child table.

Revision ID: c0d1e2f3a4b5
Revises: b1c2d3e4f5a6
Create Date: 2026-11-26 17:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = "c0d1e2f3a4b5"
down_revision: Union[str, None] = "b1c2d3e4f5a6"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (name, table, columns): plain CREATE INDEX on both databases (no table rebuild, so the append-only
# triggers of order_event stay as they are).
INDEXES = [
    ("ix_shop_order_status_placed_at_id", "shop_order", ["status", "placed_at", "id"]),
    ("ix_shop_order_country_placed_at_id", "shop_order", ["country", "placed_at", "id"]),
    ("ix_payment_authorization_status_capture_before", "payment_authorization", ["status", "capture_before"]),
    ("ix_outbox_email_status_order_id", "outbox_email", ["status", "order_id"]),
    ("ix_order_event_type_order_id", "order_event", ["type", "order_id"]),
    ("ix_refund_status_order_id", "refund", ["status", "order_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
