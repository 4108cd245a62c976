"""The order history and the staff audit log cannot be rewritten, not even with plain SQL (migration d1a2b3c4e5f6).

Runs on SQLite and, with `bash scripts/with-postgres.sh`, on PostgreSQL: each engine has its own triggers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from storefront.domain.staff import Outcome
from storefront.services import audit
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, order_row

pytestmark = pytest.mark.usefixtures("database")


def _refused(database, statement: str, **params) -> None:
    with pytest.raises(DatabaseError) as caught:
        with database.begin() as conn:
            conn.execute(text(statement), params)
    assert "append-only" in str(caught.value)


def _audit_id() -> int:
    audit.record_now(UnitOfWork(), staff=None, action="test.append_only", outcome=Outcome.DONE, detail="probe")
    return audit.entries(UnitOfWork(), action="test.append_only", limit=1)[0].id


def test_an_audit_entry_cannot_be_changed_or_deleted(database):
    entry_id = _audit_id()
    _refused(database, "UPDATE staff_audit SET outcome = 'refused' WHERE id = :id", id=entry_id)
    _refused(database, "DELETE FROM staff_audit WHERE id = :id", id=entry_id)
    _refused(database, "DELETE FROM staff_audit")
    assert audit.entries(UnitOfWork(), action="test.append_only", limit=1)[0].outcome == "done"


def test_an_order_event_cannot_be_changed_or_deleted(database, make_product, place):
    reference = place({make_product(): 1}, buyer()).reference
    event_id = events_of(reference)[0].id
    _refused(database, "UPDATE order_event SET type = 'rewritten' WHERE id = :id", id=event_id)
    _refused(database, "DELETE FROM order_event WHERE order_id = :order", order=order_row(reference).id)
    assert events_of(reference)[0].type != "rewritten"


def test_new_entries_are_still_appended(database):
    before = _audit_id()
    assert _audit_id() > before


def test_postgresql_refuses_truncating_the_history_too(database):
    if database.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _refused(database, "TRUNCATE staff_audit")
    _refused(database, "TRUNCATE order_event")
