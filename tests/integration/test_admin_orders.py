"""The management page's order list: filters and keyset pages over the real database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from storefront.adapters.tables import Order
from storefront.domain.order_status import OrderStatus
from storefront.services import admin_orders, order_events
from storefront.services.admin_orders import OrderFilters
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer

pytestmark = pytest.mark.usefixtures("database")


def placed_at(reference: str, moment: datetime) -> None:
    """Move an order back in time (orders of last year, without waiting a year)."""
    with UnitOfWork() as uow:
        uow.session.exec(update(Order).where(Order.reference == reference).values(placed_at=moment))
        uow.commit()


def all_pages(filters: OrderFilters, limit: int) -> list[str]:
    seen, cursor = [], ""
    while True:
        page = admin_orders.order_page(UnitOfWork(), filters, cursor, limit=limit)
        seen += [row.reference for row in page.rows]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


def test_keyset_pages_list_every_order_once_in_both_orders(make_product, place):
    day = date.today() - timedelta(days=400)  # a day no other test places orders on
    start = datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc)
    # two at the same instant: the id breaks the tie, and neither is lost or shown twice at a page boundary
    moments = [start, start, *(start + timedelta(minutes=i) for i in range(1, 6))]
    placed = [place({make_product(): 1}).reference for _ in moments]
    for reference, moment in zip(placed, moments):
        placed_at(reference, moment)
    only_that_day = OrderFilters(placed_from=day, placed_to=day)

    newest = all_pages(only_that_day, limit=3)
    oldest = all_pages(OrderFilters(placed_from=day, placed_to=day, sort="oldest"), limit=3)

    assert sorted(newest) == sorted(placed) and len(newest) == 7
    assert oldest == list(reversed(newest))


def test_a_date_range_and_a_status_narrow_the_list(make_product, place):
    email = "dates-test@example.com"
    long_ago = datetime.now(timezone.utc) - timedelta(days=500)
    old = place({make_product(): 1}, buyer(email=email)).reference
    placed_at(old, long_ago)
    new = place({make_product(): 1}, buyer(email=email)).reference

    recent = all_pages(OrderFilters(email=email, placed_from=date.today() - timedelta(days=2)), limit=50)
    earlier = all_pages(OrderFilters(email=email, placed_to=long_ago.date()), limit=50)

    assert new in recent and old not in recent
    assert earlier == [old]
    assert all_pages(OrderFilters(email=email, status="shipped"), limit=50) == []
    assert all_pages(OrderFilters(email=email, reference=new.lower()), limit=50) == [new]


def test_a_forged_cursor_starts_from_the_first_page(make_product, place):
    email = "cursor-test@example.com"
    place({make_product(): 1}, buyer(email=email))
    first = admin_orders.order_page(UnitOfWork(), OrderFilters(email=email), "")
    for forged in ("not-base64!", "W10=", "WyJ4IiwgMV0=", "e30="):
        assert admin_orders.order_page(UnitOfWork(), OrderFilters(email=email), forged).rows == first.rows


def renewal_event(reference: str, failed: bool) -> None:
    """Append what the hold-renewal job (or, soon, the client authorising again) records."""
    order_id = admin_orders.order_id_of(UnitOfWork(), reference)
    now = datetime.now(timezone.utc)
    with UnitOfWork() as uow:
        if failed:
            event = order_events.payment_reauthorization_failed(order_id, now, amount_minor=100, currency="CHF",
                                                                code="card_declined")
        else:
            event = order_events.payment_reauthorized(order_id, now, intent_id=None, amount_minor=100,
                                                      currency="CHF", reason="client")
        uow.session.add(event)
        uow.commit()


def failed_renewals() -> admin_orders.Queue:
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork())}["failed_renewals"]


def test_an_order_is_in_the_failed_renewal_queue_only_while_its_last_renewal_failed(make_product, place):
    reference = place({make_product(): 1}).reference
    with UnitOfWork() as uow:  # held and waiting for approval: an open order, as if the hold had been taken
        uow.session.exec(update(Order).where(Order.reference == reference)
                         .values(status=OrderStatus.AWAITING_APPROVAL.value))
        uow.commit()
    placed_at(reference, datetime.now(timezone.utc) - timedelta(days=3000))  # the oldest: listed first if queued
    before = failed_renewals()
    assert reference not in before.references

    renewal_event(reference, failed=True)
    after_failure = failed_renewals()
    renewal_event(reference, failed=False)
    after_renewal = failed_renewals()
    renewal_event(reference, failed=True)
    after_second_failure = failed_renewals()

    assert after_failure.references[0] == reference and after_failure.count == before.count + 1
    assert reference not in after_renewal.references and after_renewal.count == before.count
    assert after_second_failure.references[0] == reference and after_second_failure.count == before.count + 1
