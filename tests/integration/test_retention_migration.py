"""Migration c7e3f4a5b6d7 (PAY-6): the client's IP address and browser copied into `terms_accepted` events
before it are removed, nothing else in the history changes, and the history is append-only again afterwards.
On a database of its own, on SQLite and (with `bash scripts/with-postgres.sh`) on PostgreSQL."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import DatabaseError
from sqlalchemy.pool import NullPool

from tests import throwaway_db

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "a9c1d2e3f4b5"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)

terms = sa.table("terms_version", sa.column("id"), sa.column("version"), sa.column("title"), sa.column("body"),
                 sa.column("content_hash"), sa.column("published_at"))
orders = sa.table("shop_order", *[sa.column(c) for c in (
    "id", "reference", "access_token", "checkout_key", "status", "channel", "country", "currency", "locale", "email",
    "phone", "full_name", "birth_date", "subtotal_minor", "shipping_minor", "vat_minor", "total_minor", "ship_by",
    "terms_version_id", "terms_content_hash", "terms_accepted_at", "accepted_ip", "accepted_user_agent",
    "personal_use_declared", "placed_at", "updated_at")],
    sa.column("shipping_address", sa.JSON()), sa.column("billing_address", sa.JSON()), sa.column("screening", sa.JSON()))
events = sa.table("order_event", sa.column("id"), sa.column("order_id"), sa.column("type"), sa.column("at"),
                  sa.column("actor"), sa.column("data", sa.JSON()))


@pytest.fixture
def engine(tmp_path):
    given = os.environ.get("REFLEX_DB_URL")
    url = throwaway_db.own_database(given, tmp_path)
    engine = sa.create_engine(url, poolclass=NullPool)
    yield engine
    engine.dispose()
    if throwaway_db.is_postgres(given):
        throwaway_db.drop(url, given)


def migrate(engine, revision: str, down: bool = False) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def plant(engine) -> tuple[int, int]:
    address = {"name": "Anna Keller", "street": "Bahnhofstrasse 1", "city": "Zürich", "postal_code": "8001",
               "area": "", "country": "CH"}
    with engine.begin() as conn:
        conn.execute(terms.insert().values(id=1, version="2026-01", title="Terms", body="# Terms",
                                           content_hash="0" * 64, published_at=AT))
        conn.execute(orders.insert().values(
            id=1, reference="VX-MIGRATE", access_token="t", checkout_key="k", status="cancelled", channel="web",
            country="CH", currency="CHF", locale="en_CH", email="anna@example.com", phone="+41446681800",
            full_name="Anna Keller", birth_date=date(1985, 4, 12), shipping_address=address, billing_address=address,
            subtotal_minor=100, shipping_minor=0, vat_minor=0, total_minor=100, ship_by=date(2026, 3, 10),
            terms_version_id=1, terms_content_hash="0" * 64, terms_accepted_at=AT, accepted_ip="198.51.100.23",
            accepted_user_agent="Mozilla/5.0", personal_use_declared=True, screening={"verdict": "clear"},
            placed_at=AT, updated_at=AT))
        conn.execute(events.insert().values(id=1, order_id=1, type="order_placed", at=AT, actor="client",
                                            data={"total_minor": 100, "currency": "CHF", "channel": "web"}))
        conn.execute(events.insert().values(id=2, order_id=1, type="terms_accepted", at=AT, actor="client",
                                            data={"terms_version": "2026-01", "terms_version_id": 1,
                                                  "content_hash": "0" * 64, "ip": "198.51.100.23",
                                                  "user_agent": "Mozilla/5.0"}))
    return 1, 2


def history(engine) -> dict[int, dict]:
    with engine.connect() as conn:
        return {row.id: row.data for row in conn.execute(sa.select(events.c.id, events.c.data).order_by(events.c.id))}


@pytest.mark.clause("PAY-6")
def test_the_migration_removes_the_ip_copies_from_the_history_and_keeps_it_append_only(engine):
    migrate(engine, BEFORE)
    placed, accepted = plant(engine)

    migrate(engine, "head")

    after = history(engine)
    assert after[accepted] == {"terms_version": "2026-01", "terms_version_id": 1, "content_hash": "0" * 64}
    assert after[placed] == {"total_minor": 100, "currency": "CHF", "channel": "web"}
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT accepted_ip, erasure, erased_at, retained_until FROM shop_order")).one()
    assert tuple(row) == ("198.51.100.23", "", None, None)  # on the row, where erasure reaches it
    for statement in ("UPDATE order_event SET type = 'rewritten' WHERE id = 2", "DELETE FROM order_event"):
        with pytest.raises(DatabaseError) as refused:
            with engine.begin() as conn:
                conn.execute(sa.text(statement))
        assert "append-only" in str(refused.value)
    assert history(engine) == after

    migrate(engine, BEFORE, down=True)  # reversible: the columns and the run table go, the history stays
    migrate(engine, "head")
    assert history(engine) == after
