"""Staff approving and cancelling orders, through the services, the real database and the payment sandbox."""

from __future__ import annotations

import threading
from datetime import timedelta, timezone

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import order_admin, payment
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, order_row, outbox_of, payments_of, staff_member, stock_of

pytestmark = pytest.mark.usefixtures("database")


def audit_of(order_id: int) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.order_id == order_id)
                           .order_by(StaffAuditEntry.id)).all())


@pytest.fixture
def held_order(make_product, place, card_token, stripe_gateway):
    def make(quantity: int = 1):
        watch = make_product(stock=5)
        placed = place({watch: quantity})
        outcome = payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"),
                                    gw=stripe_gateway, browser=None)
        assert outcome.status == "held"
        return placed.reference, watch

    return make


def refused(call) -> ErrorCode:
    with pytest.raises(order_admin.ActionRefused) as caught:
        call()
    return caught.value.refusal.code


@pytest.mark.clause("GTC-3.6")
@pytest.mark.clause("CARD-6")
def test_approval_makes_the_order_final_tells_the_client_and_is_audited(held_order):
    reference, _ = held_order()
    finance = staff_member(Role.FINANCE)

    order_admin.approve(UnitOfWork(), reference, staff=finance, ip="203.0.113.9")

    order = order_row(reference)
    assert order.status == OrderStatus.APPROVED.value
    event = [e for e in events_of(reference) if e.type == "approved"]
    assert len(event) == 1 and event[0].actor == f"staff:{finance.staff_id}"
    assert event[0].data["held_minor"] == order.total_minor
    assert "order_approved" in [m.kind for m in outbox_of(reference)]
    [entry] = [a for a in audit_of(order.id) if a.action == "orders.approve"]
    assert (entry.outcome, entry.staff_id, entry.ip) == ("done", finance.staff_id, "203.0.113.9")
    assert entry.before == {"status": "awaiting_approval"} and entry.after == {"status": "approved"}
    assert order.email not in str(entry.before) + str(entry.after) + entry.subject  # ids, never personal data


@pytest.mark.clause("GTC-3.6")
@pytest.mark.clause("PAY-5")
def test_approval_is_refused_when_the_live_holds_do_not_cover_the_total(held_order):
    reference, _ = held_order()
    [hold] = payments_of(reference)
    after_the_hold_lapsed = hold.capture_before.replace(tzinfo=timezone.utc) + timedelta(minutes=1)

    code = refused(lambda: order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE),
                                               at=after_the_hold_lapsed))

    assert code == ErrorCode.HOLD_DOES_NOT_COVER
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value
    assert "order_approved" not in [m.kind for m in outbox_of(reference)]


@pytest.mark.clause("GTC-3.6")
def test_only_an_order_awaiting_approval_can_be_approved(make_product, place):
    placed = place({make_product(): 1})  # no hold yet: pending payment

    code = refused(lambda: order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE)))

    assert code == ErrorCode.NOT_AWAITING_APPROVAL
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value


def test_two_staff_approving_at_once_approve_once(held_order):
    reference, _ = held_order()
    members = [staff_member(Role.FINANCE), staff_member(Role.ADMIN)]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def approve(member):
        start.wait()
        try:
            order_admin.approve(UnitOfWork(), reference, staff=member)
            outcomes.append("done")
        except order_admin.ActionRefused as exc:
            outcomes.append(exc.refusal.code.value)

    threads = [threading.Thread(target=approve, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes)[0] == "done" and outcomes.count("done") == 1
    assert [e.type for e in events_of(reference)].count("approved") == 1
    assert [m.kind for m in outbox_of(reference)].count("order_approved") == 1


@pytest.mark.clause("GTC-3.5")
@pytest.mark.clause("PAY-5")
def test_cancelling_a_held_order_releases_the_hold_restocks_and_tells_the_client(held_order, stripe_gateway,
                                                                                 stripe_test_client):
    reference, watch = held_order(quantity=2)
    stock_before = stock_of(watch)
    service = staff_member(Role.CUSTOMER_SERVICE)

    order_admin.cancel(UnitOfWork(), reference, "undeliverable_address", staff=service, gw=stripe_gateway)

    order = order_row(reference)
    assert order.status == OrderStatus.CANCELLED.value
    assert stock_of(watch) == stock_before + 2
    [hold] = payments_of(reference)
    assert hold.status == PaymentStatus.RELEASED.value  # released, never "refunded": nothing was charged
    assert stripe_test_client.v1.payment_intents.retrieve(hold.intent_id).status == "canceled"
    types = [e.type for e in events_of(reference)]
    assert {"cancelled", "stock_released", "payment_released"} <= set(types)
    cancelled = [e for e in events_of(reference) if e.type == "cancelled"][0]
    assert cancelled.data == {"reason": "undeliverable_address"} and cancelled.actor == f"staff:{service.staff_id}"
    [email] = [m for m in outbox_of(reference) if m.kind == "order_cancelled"]
    assert "deliver to the address" in email.text_body and "released" in email.text_body
    assert [a.action for a in audit_of(order.id)] == ["orders.cancel"]


@pytest.mark.clause("GTC-3.5")
def test_a_compliance_cancellation_never_names_a_sanctions_list(held_order, stripe_gateway):
    reference, _ = held_order()

    order_admin.cancel(UnitOfWork(), reference, "compliance", staff=staff_member(Role.COMPLIANCE), gw=stripe_gateway)

    [email] = [m for m in outbox_of(reference) if m.kind == "order_cancelled"]
    assert "unable to accept" in email.text_body
    for word in ("sanction", "OFAC", "SDN", "list"):
        assert word.lower() not in email.text_body.lower()


@pytest.mark.clause("GTC-3.5")
def test_cancelling_an_unpaid_order_returns_its_stock(make_product, place, stripe_gateway):
    watch = make_product(stock=3)
    placed = place({watch: 1})
    assert stock_of(watch) == 2

    order_admin.cancel(UnitOfWork(), placed.reference, "invalid_email", staff=staff_member(Role.CUSTOMER_SERVICE),
                       gw=stripe_gateway)

    assert order_row(placed.reference).status == OrderStatus.CANCELLED.value
    assert stock_of(watch) == 3


@pytest.mark.parametrize("reason", ["", "because", None, 7, "COMPLIANCE"])
def test_a_cancellation_needs_a_reason_from_the_list(held_order, reason):
    reference, _ = held_order()

    code = refused(lambda: order_admin.cancel(UnitOfWork(), reference, reason, staff=staff_member(Role.ADMIN)))

    assert code == ErrorCode.CANCEL_REASON_UNKNOWN
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value


def test_a_cancelled_order_cannot_be_cancelled_or_approved_again(held_order, stripe_gateway):
    reference, _ = held_order()
    member = staff_member(Role.ADMIN)
    order_admin.cancel(UnitOfWork(), reference, "client_request", staff=member, gw=stripe_gateway)

    assert refused(lambda: order_admin.cancel(UnitOfWork(), reference, "client_request", staff=member,
                                              gw=stripe_gateway)) == ErrorCode.NOT_CANCELLABLE
    assert refused(lambda: order_admin.approve(UnitOfWork(), reference, staff=member)) == ErrorCode.NOT_AWAITING_APPROVAL
    assert [m.kind for m in outbox_of(reference)].count("order_cancelled") == 1


def test_an_unknown_order_is_refused_plainly(database):
    member = staff_member(Role.ADMIN)
    assert refused(lambda: order_admin.approve(UnitOfWork(), "VX-NOPE", staff=member)) == ErrorCode.ORDER_NOT_FOUND
    assert refused(lambda: order_admin.cancel(UnitOfWork(), {"$ne": 1}, "client_request",
                                              staff=member)) == ErrorCode.ORDER_NOT_FOUND


@pytest.fixture
def order_in_review(make_product, place, card_token, stripe_gateway):
    from tests.integration.shop_fixtures import buyer

    placed = place({make_product(): 1}, buyer(name="Arkady Beltramov"))  # near an entry of the sample list
    assert payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"), gw=stripe_gateway,
                             browser=None).status == "held"
    assert order_row(placed.reference).status == OrderStatus.COMPLIANCE_REVIEW.value
    return placed.reference


@pytest.mark.clause("PAY-7")
@pytest.mark.clause("GTC-3.6")
def test_compliance_clears_a_possible_match_with_a_coded_reason_then_finance_may_approve(order_in_review):
    compliance = staff_member(Role.COMPLIANCE)
    assert refused(lambda: order_admin.approve(UnitOfWork(), order_in_review, staff=staff_member(Role.FINANCE))) \
        == ErrorCode.NOT_AWAITING_APPROVAL  # a near-miss is never approved before compliance clears it
    assert refused(lambda: order_admin.clear_compliance(UnitOfWork(), order_in_review, "he is not", staff=compliance)) \
        == ErrorCode.CLEAR_REASON_UNKNOWN

    order_admin.clear_compliance(UnitOfWork(), order_in_review, "different_birth_date", staff=compliance)

    assert order_row(order_in_review).status == OrderStatus.AWAITING_APPROVAL.value
    cleared = [e for e in events_of(order_in_review) if e.type == "compliance_cleared"]
    assert cleared[0].data == {"reason": "different_birth_date"} and cleared[0].actor == f"staff:{compliance.staff_id}"
    order_admin.approve(UnitOfWork(), order_in_review, staff=staff_member(Role.FINANCE))
    assert order_row(order_in_review).status == OrderStatus.APPROVED.value


@pytest.mark.clause("PAY-7")
@pytest.mark.clause("GTC-3.5")
def test_compliance_declines_a_match_the_hold_is_released_and_the_client_is_not_told_why(order_in_review,
                                                                                       stripe_gateway):
    officer = staff_member(Role.COMPLIANCE)
    with pytest.raises(order_admin.ActionRefused) as caught:  # a decline says why
        order_admin.decline_compliance(UnitOfWork(), order_in_review, "because", staff=officer, gw=stripe_gateway)
    assert caught.value.refusal.code is ErrorCode.DECLINE_REASON_UNKNOWN
    assert order_row(order_in_review).status == OrderStatus.COMPLIANCE_REVIEW.value

    order_admin.decline_compliance(UnitOfWork(), order_in_review, "confirmed_match", staff=officer,
                                   gw=stripe_gateway)

    assert order_row(order_in_review).status == OrderStatus.CANCELLED.value
    [cancelled] = [e for e in events_of(order_in_review) if e.type == "cancelled"]
    assert cancelled.data == {"reason": "compliance", "detail": "confirmed_match"}
    assert [h.status for h in payments_of(order_in_review)] == [PaymentStatus.RELEASED.value]
    [email] = [m for m in outbox_of(order_in_review) if m.kind == "order_cancelled"]
    assert not any(word in email.text_body.lower() for word in ("sanction", "ofac", "sdn", "list"))


def test_only_an_order_in_review_can_be_cleared_or_declined(held_order, stripe_gateway):
    reference, _ = held_order()  # awaiting approval: nothing to review
    member = staff_member(Role.COMPLIANCE)
    assert refused(lambda: order_admin.clear_compliance(UnitOfWork(), reference, "common_name", staff=member)) \
        == ErrorCode.NOT_IN_COMPLIANCE_REVIEW
    assert refused(lambda: order_admin.decline_compliance(UnitOfWork(), reference, "confirmed_match", staff=member,
                                                          gw=stripe_gateway)) \
        == ErrorCode.NOT_IN_COMPLIANCE_REVIEW
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value
