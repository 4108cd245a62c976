"""terms drafts; published terms versions can no longer be changed or deleted (GTC-1.4, 2.3)

Staff write a version as a row of `terms_draft` (edited and deleted freely, never public); publishing
copies it into `terms_version` with the time it takes effect and deletes the draft. Every row of
`terms_version` is therefore published, and orders name it as the version their client accepted: the
database refuses UPDATE and DELETE on it (and TRUNCATE on PostgreSQL), as for the audit log
(migration d1a2b3c4e5f6, whose PostgreSQL function `storefront_append_only()` is reused).

On SQLite a later `batch_alter_table` of terms_version recreates the table and loses its triggers: such
a migration must create them again (tests/integration/test_terms_admin.py fails if it does not).

Revision ID: e3f4a5b6c7d8
Revises: d2e3f4a5b6c7
Create Date: 2026-11-28 10:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "e3f4a5b6c7d8"
down_revision: Union[str, None] = "d2e3f4a5b6c7"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "terms_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", String(length=20), nullable=False),
        sa.Column("title", String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # storefront_append_only() comes from migration d1a2b3c4e5f6
        op.execute("CREATE TRIGGER terms_version_append_only BEFORE UPDATE OR DELETE ON terms_version "
                   "FOR EACH ROW EXECUTE FUNCTION storefront_append_only()")
        op.execute("CREATE TRIGGER terms_version_no_truncate BEFORE TRUNCATE ON terms_version "
                   "FOR EACH STATEMENT EXECUTE FUNCTION storefront_append_only()")
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER terms_version_no_{verb.lower()} BEFORE {verb} ON terms_version "
                   f"BEGIN SELECT RAISE(ABORT, 'append-only: published terms'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS terms_version_append_only ON terms_version")
        op.execute("DROP TRIGGER IF EXISTS terms_version_no_truncate ON terms_version")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS terms_version_no_{verb}")
    op.drop_table("terms_draft")
