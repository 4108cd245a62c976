"""partial indexes for the admin home's work queues: the open orders, the live holds

Measured with bench/admin_bench.py on 1,000,000 orders (docs/benchmarks.md, "Management page"): the work
queues read every open order (a few tens of thousands, all recent) and every live hold expiring soon. These
indexes hold those rows only, with the columns the queues read, so PostgreSQL reads them without visiting
the tables (SQLite has no INCLUDE: there they narrow the scan to the open orders and the live holds).

The predicates must stay word for word those of storefront/services/admin_orders.py `work_queues`
(statuses written into the statement as literals, so either database can prove the index applies).

Revision ID: d2e3f4a5b6c7
Revises: c0d1e2f3a4b5
Create Date: 2026-11-27 18:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "d2e3f4a5b6c7"
down_revision: Union[str, None] = "c0d1e2f3a4b5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "status IN ('awaiting_approval', 'approved', 'partially_shipped', 'compliance_review')"
HELD = "status = 'held'"


def upgrade() -> None:
    # plain CREATE INDEX on both databases (no table rebuild)
    op.create_index("ix_shop_order_open_placed_at_id", "shop_order", ["placed_at", "id"],
                    postgresql_include=["reference", "status", "ship_by"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index("ix_payment_authorization_held_capture_before", "payment_authorization", ["capture_before"],
                    postgresql_include=["order_id"],
                    postgresql_where=sa.text(HELD), sqlite_where=sa.text(HELD))


def downgrade() -> None:
    op.drop_index("ix_payment_authorization_held_capture_before", table_name="payment_authorization")
    op.drop_index("ix_shop_order_open_placed_at_id", table_name="shop_order")
