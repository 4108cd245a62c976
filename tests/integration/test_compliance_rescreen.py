"""A sale stops wherever it stands when new sanctions data matches it (PAY-7): an order approved or partly
shipped before a new SDN list or a new sanctioned destination matched it goes to compliance review, where
nothing approves, ships or charges it; compliance clears it back to where it was, or declines it (what shipped
stays sold, the rest is cancelled and its hold released). Real database and payment sandbox."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import OrderLine
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderEvent as E, OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, order_admin, payment, sanctions_admin
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, order_row, outbox_of, payments_of, staff_member, stock_of
from tests.integration.test_sanctions_admin import files, sample_list_restored  # noqa: F401 - autouse fixture
from tests.integration.test_shipping_admin import refused, ship

pytestmark = [pytest.mark.usefixtures("database"), pytest.mark.clause("PAY-7")]
LISTED = "Kasimir Velmora"  # the entry the test list adds (test_sanctions_admin.files)


@pytest.fixture
def held(place, card_token, stripe_gateway):
    def make(cart: dict[str, int], *, approve: bool = True) -> str:
        reference = place(cart, buyer(name=LISTED)).reference
        assert payment.authorize(UnitOfWork(), reference, card_token(), gw=stripe_gateway, browser=None).status \
            == "held"
        if approve:
            order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE))
        return reference

    return make


def compliance_queue() -> int:
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork())}["compliance_review"].count


def lines_of(reference: str) -> list[OrderLine]:
    with Session(get_engine()) as s:
        return list(s.exec(select(OrderLine).where(OrderLine.order_id == order_row(reference).id)
                           .order_by(OrderLine.id)).all())


def test_an_approved_order_matched_by_a_new_list_cannot_ship_until_compliance_clears_it(
        held, make_product, stripe_gateway):
    watch = make_product()
    reference = held({watch: 1})
    assert order_row(reference).status == OrderStatus.APPROVED

    result = sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())

    assert reference in result.flagged
    order = order_row(reference)
    assert (order.status, order.screening["status_then"], order.screening["entry"]) == (
        OrderStatus.COMPLIANCE_REVIEW, OrderStatus.APPROVED, "91990")
    waiting = compliance_queue()
    code, _ = refused(lambda: ship(reference, {watch: 1}, stripe_gateway))
    assert code is ErrorCode.NOT_SHIPPABLE
    assert [p.status for p in payments_of(reference)] == [PaymentStatus.HELD]  # nothing charged

    back = order_admin.clear_compliance(UnitOfWork(), reference, "different_birth_date",
                                        staff=staff_member(Role.COMPLIANCE))

    assert back is OrderStatus.APPROVED and order_row(reference).status == OrderStatus.APPROVED  # not further
    assert compliance_queue() == waiting - 1
    assert [e.data["reason"] for e in events_of(reference) if e.type == E.COMPLIANCE_CLEARED] == ["different_birth_date"]
    ship(reference, {watch: 1}, stripe_gateway)
    assert order_row(reference).status == OrderStatus.SHIPPED
    # the same list again does not stop it a second time
    again = sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())
    assert reference not in again.flagged


def test_an_order_awaiting_approval_cleared_goes_back_to_approval_not_to_approved(held, make_product):
    reference = held({make_product(): 1}, approve=False)
    sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())
    code, _ = refused(lambda: order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE)))
    assert code is ErrorCode.NOT_AWAITING_APPROVAL

    order_admin.clear_compliance(UnitOfWork(), reference, "common_name", staff=staff_member(Role.COMPLIANCE))

    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL


def test_a_partly_shipped_order_declined_keeps_what_shipped_and_cancels_the_rest(held, make_product, stripe_gateway):
    shipped, waiting = make_product(stock=5), make_product(stock=5)
    reference = held({shipped: 1, waiting: 2})
    ship(reference, {shipped: 1}, stripe_gateway)
    assert order_row(reference).status == OrderStatus.PARTIALLY_SHIPPED
    stock_before = stock_of(waiting)

    sanctions_admin.import_list(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **files())

    assert order_row(reference).status == OrderStatus.COMPLIANCE_REVIEW
    code, _ = refused(lambda: ship(reference, {waiting: 2}, stripe_gateway, tracking="JD014600006281230709"))
    assert code is ErrorCode.NOT_SHIPPABLE

    order_admin.decline_compliance(UnitOfWork(), reference, "confirmed_match", staff=staff_member(Role.COMPLIANCE),
                                   gw=stripe_gateway)

    assert order_row(reference).status == OrderStatus.SHIPPED  # what shipped stays sold
    by_ref = {line.reference: line for line in lines_of(reference)}
    assert (by_ref[shipped].quantity_shipped, by_ref[shipped].quantity_cancelled) == (1, 0)
    assert (by_ref[waiting].quantity_shipped, by_ref[waiting].quantity_cancelled) == (0, 2)
    assert stock_of(waiting) == stock_before + 2
    statuses = [p.status for p in payments_of(reference)]
    assert PaymentStatus.HELD not in statuses and PaymentStatus.RELEASED in statuses  # the rest is no longer held
    assert [(e.data["reason"], e.data["detail"]) for e in events_of(reference) if e.type == E.CANCELLED] == [
        ("compliance", "confirmed_match")]
    notice = [m for m in outbox_of(reference) if m.kind == "order_cancelled"]
    assert len(notice) == 1 and "sanction" not in notice[0].text_body.lower()
