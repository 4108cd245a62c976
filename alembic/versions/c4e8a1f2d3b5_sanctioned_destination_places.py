"""sanctioned destinations: place names (any script) and the OFAC programme of each row

Revision ID: c4e8a1f2d3b5
Revises: b7c3d2e1f0a9
Create Date: 2026-11-26 15:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "c4e8a1f2d3b5"
down_revision: Union[str, None] = "b7c3d2e1f0a9"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing rows start empty; the seed fills the defaults' names and programmes in (services/seed.py).
    with op.batch_alter_table("sanctioned_destination") as batch:
        batch.add_column(sa.Column("places", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("programme", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sanctioned_destination") as batch:
        batch.drop_column("programme")
        batch.drop_column("places")
