"""telephone orders: who entered the order; terms acceptance empty until the client gives it

Revision ID: b8d2e3f4a5c6
Revises: c7e3f4a5b6d7
Create Date: 2026-11-26 21:50:00

An order staff enter for a client on the phone (PAY-2) exists, with its stock reserved, before the client
has accepted any terms: the client accepts the version in force when they confirm through the emailed link.
So the acceptance columns may be empty (status `awaiting_client`); every order placed online still fills
them in the same transaction that creates it.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "b8d2e3f4a5c6"
down_revision: Union[str, None] = "c7e3f4a5b6d7"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("shop_order") as batch:
        batch.add_column(sa.Column("entered_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_shop_order_entered_by_staff_user", "staff_user", ["entered_by"], ["id"])
        batch.alter_column("terms_version_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("terms_accepted_at", existing_type=sa.DateTime(), nullable=True)


def downgrade() -> None:
    # An order still awaiting its client has no acceptance: the database refuses the downgrade while one exists
    # (cancel or let them expire first); nothing is deleted silently.
    with op.batch_alter_table("shop_order") as batch:
        batch.alter_column("terms_accepted_at", existing_type=sa.DateTime(), nullable=False)
        batch.alter_column("terms_version_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("fk_shop_order_entered_by_staff_user", type_="foreignkey")
        batch.drop_column("entered_by")
