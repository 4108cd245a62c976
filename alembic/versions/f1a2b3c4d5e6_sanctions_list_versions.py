"""sanctions list versions and SDN addresses (PAY-7)

`sanctions_list_version`: one row per import of the OFAC SDN files (by upload on /admin/sanctions or by
`python -m storefront sanctions load`): the publication date when known, the entry count, who imported it
and when, and a digest of the files. The newest row is the list in force. `sdn_entry.addresses` holds the
entry's addresses from add.csv, shown to the compliance reviewer beside the client's data.

Revision ID: f1a2b3c4d5e6
Revises: e3f4a5b6c7d8
Create Date: 2026-11-26 19:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: Union[str, None] = "e3f4a5b6c7d8"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "sanctions_list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published", String(length=40), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("address_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("imported_via", String(length=20), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("digest", String(length=64), nullable=False),
        sa.Column("rescreened", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sdn_entry") as batch:
        batch.add_column(sa.Column("addresses", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("sdn_entry") as batch:
        batch.drop_column("addresses")
    op.drop_table("sanctions_list_version")
