"""retention of personal data (PAY-6: least data kept)

`shop_order.erasure` ("", "partial", "full"), `erased_at` and `retained_until`: what services/retention.py has
erased of an order and until when a legal duty keeps the rest. `retention_run`: one row per run of the daily
retention job with what it erased (shown on /admin/privacy; the newest row also tells the job it ran today).

The `terms_accepted` order events carried the client's IP address and browser, a copy of what the order row
holds (`accepted_ip`, `accepted_user_agent`). Order events are append-only, so an erasure could never reach that
copy: new events no longer carry it (services/order_events.py), and this migration removes it from the events
already written, lifting the append-only triggers of `order_event` for that one statement and restoring them.

Revision ID: c7e3f4a5b6d7
Revises: a9c1d2e3f4b5
Create Date: 2026-11-26 21:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c7e3f4a5b6d7"
down_revision: Union[str, None] = "a9c1d2e3f4b5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

String = sqlmodel.sql.sqltypes.AutoString
CONTACT_KEYS = ("ip", "user_agent")


def _drop_event_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS order_event_append_only ON order_event")
    else:
        op.execute("DROP TRIGGER IF EXISTS order_event_no_update")


def _create_event_triggers(dialect: str) -> None:
    # as migration d1a2b3c4e5f6 made them (the function storefront_append_only stays in place)
    if dialect == "postgresql":
        op.execute("CREATE TRIGGER order_event_append_only BEFORE UPDATE OR DELETE ON order_event "
                   "FOR EACH ROW EXECUTE FUNCTION storefront_append_only()")
    else:
        op.execute("CREATE TRIGGER order_event_no_update BEFORE UPDATE ON order_event "
                   "BEGIN SELECT RAISE(ABORT, 'append-only'); END")


def upgrade() -> None:
    with op.batch_alter_table("shop_order") as batch:
        batch.add_column(sa.Column("erasure", String(length=10), nullable=False, server_default=""))
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("retained_until", sa.Date(), nullable=True))
    op.create_table(
        "retention_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_retention_run_at", "retention_run", ["at"])

    bind = op.get_bind()
    dialect = bind.dialect.name
    events = sa.table("order_event", sa.column("id", sa.Integer()), sa.column("type", String()),
                      sa.column("data", sa.JSON()))
    rows = bind.execute(sa.select(events.c.id, events.c.data).where(events.c.type == "terms_accepted")).all()
    carrying = [(row.id, row.data) for row in rows if isinstance(row.data, dict)
                and any(key in row.data for key in CONTACT_KEYS)]
    if carrying:
        _drop_event_triggers(dialect)
        for event_id, data in carrying:
            kept = {k: v for k, v in data.items() if k not in CONTACT_KEYS}
            bind.execute(events.update().where(events.c.id == event_id).values(data=kept))
        _create_event_triggers(dialect)


def downgrade() -> None:
    op.drop_index("ix_retention_run_at", table_name="retention_run")
    op.drop_table("retention_run")
    with op.batch_alter_table("shop_order") as batch:
        batch.drop_column("retained_until")
        batch.drop_column("erased_at")
        batch.drop_column("erasure")
