"""order bound to the browser that placed it; index for the per-address limit

Revision ID: b7c3d2e1f0a9
Revises: 14a91cbb45af
Create Date: 2026-11-26 13:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "b7c3d2e1f0a9"
down_revision: Union[str, None] = "14a91cbb45af"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("shop_order") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_shop_order_browser_hash", ["browser_hash"])
        batch.create_index("ix_shop_order_accepted_ip", ["accepted_ip"])


def downgrade() -> None:
    with op.batch_alter_table("shop_order") as batch:
        batch.drop_index("ix_shop_order_accepted_ip")
        batch.drop_index("ix_shop_order_browser_hash")
        batch.drop_column("browser_hash")
