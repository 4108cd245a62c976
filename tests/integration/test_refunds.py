"""Refunds of captured money through the service, the real database and the payment sandbox.

Until shipping lands, a captured order is made here as the shipment would make it: the held order is
approved, its hold captured at the provider (the gateway's `capture`, the rest released) and the capture
recorded on its PaymentAuthorization row, the lines marked shipped.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, RefundRecord, StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import order_admin, payment, refunds
from storefront.services.order_admin import ActionRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import PRICES, buyer, events_of, order_row, outbox_of, payments_of, staff_member

pytestmark = pytest.mark.usefixtures("database")

# Below every four-eyes threshold once VAT is added (CHF 2,000.00 net; JPY 200,000).
SMALL = {**PRICES, "CHF": 200_000, "EUR": 200_000, "USD": 200_000, "GBP": 150_000, "JPY": 200_000}


def audit_of(order_id: int) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.order_id == order_id)
                           .order_by(StaffAuditEntry.id)).all())


def refund_rows(reference: str) -> list[RefundRecord]:
    with Session(get_engine()) as s:
        order_id = s.exec(select(Order.id).where(Order.reference == reference)).one()
        return list(s.exec(select(RefundRecord).where(RefundRecord.order_id == order_id)
                           .order_by(RefundRecord.id)).all())


def ledger(reference: str) -> list[str]:
    with Session(get_engine()) as s:
        return refunds.ledger_problems(s, order_row(reference).id)


def refused(call) -> ErrorCode:
    with pytest.raises(ActionRefused) as caught:
        call()
    return caught.value.refusal.code


def provider_refunds(client, intent_id: str) -> list:
    return list(client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100}).data)


def provider_charge(client, intent_id: str):
    return client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}).latest_charge


@pytest.fixture
def held_order(make_product, place, card_token, stripe_gateway):
    def make(cart_quantities: tuple[int, ...] = (1,), *, country: str = "CH", prices: dict[str, int] | None = None):
        watches = [make_product(stock=5, prices=prices or SMALL) for _ in cart_quantities]
        placed = place(dict(zip(watches, cart_quantities)), buyer(country))
        outcome = payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"),
                                    gw=stripe_gateway, browser=None)
        assert outcome.status == "held"
        return placed.reference, watches

    return make


def capture(reference: str, gateway, *, capture_minor: int | None = None, shipped: dict[str, int] | None = None):
    """What a shipment does to the money and the lines: capture the hold (the rest released), record it."""
    order = order_row(reference)
    [hold] = payments_of(reference)
    amount = capture_minor or order.total_minor
    done = gateway.capture(hold.intent_id, amount_minor=amount, idempotency_key=f"{hold.intent_id}:capture")
    with UnitOfWork() as uow:
        s = uow.session
        status = PaymentStatus.CAPTURED if done.amount_minor == hold.amount_minor else PaymentStatus.PARTIALLY_CAPTURED
        s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == hold.id)
               .values(status=status.value, captured_minor=done.amount_minor))
        for line in s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
            line.quantity_shipped = line.quantity if shipped is None else shipped.get(line.reference, 0)
            s.add(line)
        s.exec(update(Order).where(Order.id == order.id).values(status=OrderStatus.SHIPPED.value))
        uow.commit()
    return done


@pytest.fixture
def captured_order(held_order, stripe_gateway):
    def make(cart_quantities: tuple[int, ...] = (1,), **kwargs):
        reference, watches = held_order(cart_quantities, **kwargs)
        order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE))
        capture(reference, stripe_gateway)
        return reference, watches

    return make


def line_with_vat(reference: str, watch: str, quantity: int = 1) -> int:
    order = order_row(reference)
    net = SMALL[order.currency] * quantity
    if order.vat_rate is None:
        return net
    return net + Money.from_decimal(Money(net, order.currency).to_decimal() * Decimal(order.vat_rate),
                                    order.currency).minor


def test_refunding_one_line_gives_back_its_price_and_vat_share_tells_the_client_and_is_audited(
        captured_order, stripe_gateway, stripe_test_client):
    reference, (first, _second) = captured_order((1, 1))
    finance = staff_member(Role.FINANCE)
    expected = line_with_vat(reference, first)
    assert order_row(reference).vat_rate is not None  # CH: VAT 8.1 %

    outcome = refunds.refund(UnitOfWork(), reference, lines={first: 1}, reason="item_returned", staff=finance,
                             ip="203.0.113.7", gw=stripe_gateway)

    assert outcome.status == "succeeded" and outcome.amount_minor == expected
    [row] = refund_rows(reference)
    assert (row.status, row.amount_minor, row.lines, row.requested_by, row.approved_by) == (
        "succeeded", expected, {first: 1}, finance.staff_id, None)
    assert row.idempotency_key == f"{reference}:refund:{row.id}" and row.provider_refund_id
    [hold] = payments_of(reference)
    assert hold.refunded_minor == expected and hold.status == PaymentStatus.CAPTURED.value
    [at_provider] = provider_refunds(stripe_test_client, hold.intent_id)
    assert (at_provider.id, at_provider.amount, at_provider.status) == (row.provider_refund_id, expected, "succeeded")
    assert stripe_gateway.retrieve(hold.intent_id).refunded_minor == expected
    assert ledger(reference) == []
    [email] = [m for m in outbox_of(reference) if m.kind == "refund"]
    assert "returned" in email.text_body and reference in email.subject
    refunded = [e for e in events_of(reference) if e.type == "payment_refunded"]
    assert [e.data["amount_minor"] for e in refunded] == [expected]
    [entry] = [a for a in audit_of(order_row(reference).id) if a.action == "orders.refund"]
    assert (entry.outcome, entry.staff_id, entry.ip) == ("done", finance.staff_id, "203.0.113.7")
    assert entry.after["amount_minor"] == expected and entry.after["reason"] == "item_returned"


def test_a_line_is_refunded_once_and_only_what_shipped(captured_order, stripe_gateway):
    reference, (watch,) = captured_order((1,))
    finance = staff_member(Role.FINANCE)
    refunds.refund(UnitOfWork(), reference, lines={watch: 1}, reason="item_returned", staff=finance, gw=stripe_gateway)

    again = refused(lambda: refunds.refund(UnitOfWork(), reference, lines={watch: 1}, reason="item_returned",
                                           staff=finance, gw=stripe_gateway))
    unknown = refused(lambda: refunds.refund(UnitOfWork(), reference, lines={"VX-NOPE": 1}, reason="item_returned",
                                             staff=finance, gw=stripe_gateway))

    assert (again, unknown) == (ErrorCode.REFUND_QUANTITY_INVALID, ErrorCode.REFUND_LINE_UNKNOWN)
    assert len(refund_rows(reference)) == 1 and ledger(reference) == []


def test_over_refund_and_bad_requests_are_refused_and_change_nothing(captured_order, stripe_gateway,
                                                                     stripe_test_client):
    reference, (watch,) = captured_order((1,))
    finance = staff_member(Role.FINANCE)
    total = order_row(reference).total_minor

    def attempt(**kwargs):
        args = {"reason": "goodwill", "staff": finance, "gw": stripe_gateway, **kwargs}
        return refused(lambda: refunds.refund(UnitOfWork(), reference, **args))

    assert attempt(amount_minor=total + 1) == ErrorCode.REFUND_OVER_REFUNDABLE
    assert attempt(amount_minor=0) == ErrorCode.REFUND_AMOUNT_INVALID
    assert attempt(amount_minor=-5) == ErrorCode.REFUND_AMOUNT_INVALID
    assert attempt() == ErrorCode.REFUND_AMOUNT_INVALID
    assert attempt(amount_minor=100, reason="because") == ErrorCode.REFUND_REASON_UNKNOWN
    assert attempt(lines={watch: 2}) == ErrorCode.REFUND_QUANTITY_INVALID
    assert attempt(lines={watch: 0}) == ErrorCode.REFUND_QUANTITY_INVALID
    assert attempt(amount_minor=100, staff=staff_member(Role.FULFILMENT)) == ErrorCode.STAFF_FORBIDDEN
    assert refund_rows(reference) == []
    [hold] = payments_of(reference)
    assert hold.refunded_minor == 0 and provider_refunds(stripe_test_client, hold.intent_id) == []
    # part refunded: the rest, and not a minor unit more
    refunds.refund(UnitOfWork(), reference, amount_minor=total - 1000, reason="goodwill", staff=None,
                   gw=stripe_gateway)
    assert attempt(amount_minor=1001) == ErrorCode.REFUND_OVER_REFUNDABLE
    refunds.refund(UnitOfWork(), reference, amount_minor=1000, reason="goodwill", staff=finance, gw=stripe_gateway)
    [hold] = payments_of(reference)
    assert (hold.refunded_minor, hold.status) == (total, PaymentStatus.REFUNDED.value)
    assert attempt(amount_minor=1) == ErrorCode.REFUND_OVER_REFUNDABLE
    assert ledger(reference) == []


def test_a_never_captured_order_is_refused_and_no_provider_refund_is_made(held_order, stripe_gateway,
                                                                          stripe_test_client):
    reference, _ = held_order((1,))

    code = refused(lambda: refunds.refund(UnitOfWork(), reference, amount_minor=1000, reason="goodwill",
                                          staff=None, gw=stripe_gateway))

    assert code == ErrorCode.REFUND_NOTHING_CAPTURED
    [hold] = payments_of(reference)
    assert hold.status == PaymentStatus.HELD.value and refund_rows(reference) == []
    assert provider_refunds(stripe_test_client, hold.intent_id) == []


def test_a_released_hold_is_never_refunded(held_order, stripe_gateway, stripe_test_client):
    reference, _ = held_order((1,))
    order_admin.cancel(UnitOfWork(), reference, "client_request", staff=staff_member(Role.CUSTOMER_SERVICE),
                       gw=stripe_gateway)

    code = refused(lambda: refunds.refund(UnitOfWork(), reference, amount_minor=1000, reason="goodwill",
                                          staff=None, gw=stripe_gateway))

    assert code == ErrorCode.REFUND_NOTHING_CAPTURED
    [hold] = payments_of(reference)
    assert hold.status == PaymentStatus.RELEASED.value
    assert provider_refunds(stripe_test_client, hold.intent_id) == []


def test_above_the_threshold_a_second_finance_user_must_approve_never_the_same(captured_order, stripe_gateway,
                                                                                 stripe_test_client):
    reference, (watch,) = captured_order((1,), prices={**SMALL, "CHF": 600_000})  # CHF 6,000 + VAT > 5,000
    asker, second = staff_member(Role.FINANCE), staff_member(Role.ADMIN)
    outcome = refunds.refund(UnitOfWork(), reference, lines={watch: 1}, reason="goodwill", staff=asker,
                             gw=stripe_gateway)

    assert outcome.status == "awaiting_approval"
    [row] = refund_rows(reference)
    assert row.status == "requested"
    [hold] = payments_of(reference)
    assert hold.refunded_minor == 0 and provider_refunds(stripe_test_client, hold.intent_id) == []
    same = refused(lambda: refunds.approve_refund(UnitOfWork(), outcome.refund_id, staff=asker, gw=stripe_gateway))
    fulfilment = refused(lambda: refunds.approve_refund(UnitOfWork(), outcome.refund_id,
                                                        staff=staff_member(Role.FULFILMENT), gw=stripe_gateway))
    assert (same, fulfilment) == (ErrorCode.REFUND_SAME_APPROVER, ErrorCode.STAFF_FORBIDDEN)
    assert refund_rows(reference)[0].status == "requested"
    assert provider_refunds(stripe_test_client, hold.intent_id) == []

    approved = refunds.approve_refund(UnitOfWork(), outcome.refund_id, staff=second, ip="198.51.100.4",
                                      gw=stripe_gateway)

    assert approved.status == "succeeded"
    [row] = refund_rows(reference)
    assert (row.status, row.requested_by, row.approved_by) == ("succeeded", asker.staff_id, second.staff_id)
    [at_provider] = provider_refunds(stripe_test_client, hold.intent_id)
    assert at_provider.amount == row.amount_minor == outcome.amount_minor
    entries = [(a.action, a.outcome, a.staff_id, a.detail) for a in audit_of(order_row(reference).id)
               if a.action in ("orders.refund", "refunds.approve_large")]
    assert entries == [("orders.refund", "done", asker.staff_id, ""),
                       ("refunds.approve_large", "refused", asker.staff_id, "same_approver"),
                       ("refunds.approve_large", "refused", entries[2][2], "forbidden"),
                       ("refunds.approve_large", "done", second.staff_id, "")]
    assert ledger(reference) == []
    assert refused(lambda: refunds.approve_refund(UnitOfWork(), outcome.refund_id, staff=staff_member(Role.FINANCE),
                                                  gw=stripe_gateway)) == ErrorCode.REFUND_NOT_AWAITING_APPROVAL
    for unknown in (0, -1, 2**31, 10**12, True, "1"):  # no row; beyond INTEGER, PostgreSQL would refuse the query
        assert refused(lambda: refunds.approve_refund(UnitOfWork(), unknown, staff=second,
                                                      gw=stripe_gateway)) == ErrorCode.REFUND_NOT_FOUND


def test_below_the_threshold_finance_refunds_at_once(captured_order, stripe_gateway):
    reference, _ = captured_order((1,), prices={**SMALL, "CHF": 600_000})
    threshold = 500_000  # CHF 5,000.00: at the threshold, not above it

    outcome = refunds.refund(UnitOfWork(), reference, amount_minor=threshold, reason="price_adjustment",
                             staff=staff_member(Role.FINANCE), gw=stripe_gateway)

    assert outcome.status == "succeeded"
    [row] = refund_rows(reference)
    assert row.status == "succeeded" and row.approved_by is None
    assert refused(lambda: refunds.approve_refund(UnitOfWork(), row.id, staff=staff_member(Role.ADMIN),
                                                  gw=stripe_gateway)) == ErrorCode.REFUND_NOT_AWAITING_APPROVAL


def test_two_approvals_of_the_same_refund_at_once_refund_once(captured_order, stripe_gateway, stripe_test_client):
    reference, (watch,) = captured_order((1,), prices={**SMALL, "CHF": 600_000})
    outcome = refunds.refund(UnitOfWork(), reference, lines={watch: 1}, reason="item_returned",
                             staff=staff_member(Role.FINANCE), gw=stripe_gateway)
    approvers = [staff_member(Role.FINANCE), staff_member(Role.ADMIN), staff_member(Role.FINANCE)]
    results: list[str] = []
    start = threading.Barrier(len(approvers))

    def approve(member):
        start.wait()
        try:
            results.append(refunds.approve_refund(UnitOfWork(), outcome.refund_id, staff=member,
                                                  gw=stripe_gateway).status)
        except ActionRefused as exc:
            results.append(exc.refusal.code.value)

    threads = [threading.Thread(target=approve, args=(m,)) for m in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results.count("succeeded") == 1
    assert sorted(set(results) - {"succeeded"}) == ["refund_not_awaiting_approval"]
    [hold] = payments_of(reference)
    [at_provider] = provider_refunds(stripe_test_client, hold.intent_id)
    assert at_provider.amount == outcome.amount_minor == hold.refunded_minor
    assert [e.type for e in events_of(reference)].count("payment_refunded") == 1
    assert [m.kind for m in outbox_of(reference)].count("refund") == 1
    assert ledger(reference) == []


def test_the_same_row_sent_to_the_provider_twice_refunds_once(captured_order, stripe_gateway, stripe_test_client):
    """The provider call carries the row's key: a retry after a time-out gets the first refund back."""
    reference, _ = captured_order((1,))
    outcome = refunds.refund(UnitOfWork(), reference, amount_minor=10_000, reason="goodwill", staff=None,
                             gw=stripe_gateway)
    [row] = refund_rows(reference)
    [hold] = payments_of(reference)

    again = stripe_gateway.refund(hold.intent_id, amount_minor=row.amount_minor, idempotency_key=row.idempotency_key)

    assert again.refund_id == row.provider_refund_id and outcome.amount_minor == 10_000
    assert len(provider_refunds(stripe_test_client, hold.intent_id)) == 1


@pytest.mark.clause("GTC-3.5")
def test_a_refund_the_rules_trigger_needs_no_second_approval_and_names_the_system(captured_order, stripe_gateway):
    reference, (watch,) = captured_order((1,), prices={**SMALL, "CHF": 900_000})
    total = order_row(reference).total_minor
    assert total > 500_000

    outcome = refunds.refund(UnitOfWork(), reference, amount_minor=total, reason="client_cancelled_after_delay",
                             staff=None, gw=stripe_gateway)

    assert outcome.status == "succeeded"
    [row] = refund_rows(reference)
    assert (row.status, row.requested_by, row.approved_by, row.amount_minor) == ("succeeded", None, None, total)
    [entry] = [a for a in audit_of(order_row(reference).id) if a.action == "orders.refund"]
    assert (entry.staff_id, entry.role, entry.outcome) == (None, "", "done")
    [hold] = payments_of(reference)
    assert hold.status == PaymentStatus.REFUNDED.value
    assert [e.actor for e in events_of(reference) if e.type == "payment_refunded"] == ["system"]
    [email] = [m for m in outbox_of(reference) if m.kind == "refund"]
    assert "cancel" in email.text_body


def test_jpy_refunds_are_whole_yen(captured_order, stripe_gateway, stripe_test_client):
    reference, (watch,) = captured_order((2,), country="JP")
    order = order_row(reference)
    assert order.currency == "JPY" and order.vat_rate is None

    outcome = refunds.refund(UnitOfWork(), reference, lines={watch: 1}, reason="item_returned",
                             staff=staff_member(Role.FINANCE), gw=stripe_gateway)

    assert outcome.amount_minor == SMALL["JPY"] == 200_000  # ¥200,000, no sub-unit
    [hold] = payments_of(reference)
    [at_provider] = provider_refunds(stripe_test_client, hold.intent_id)
    assert (at_provider.amount, at_provider.currency) == (200_000, "jpy")
    [email] = [m for m in outbox_of(reference) if m.kind == "refund"]
    assert "200,000" in email.text_body and "200,000.00" not in email.text_body


def test_a_refund_larger_than_the_newest_hold_takes_the_rest_from_the_older_one(held_order, stripe_gateway,
                                                                                stripe_test_client):
    """Two captured holds (a shipment, then a renewal captured for the rest): newest first, then older."""
    reference, (first, second) = held_order((1, 1))
    order = order_row(reference)
    [old] = payments_of(reference)
    part = order.total_minor // 2
    stripe_gateway.capture(old.intent_id, amount_minor=part, idempotency_key=f"{old.intent_id}:capture")
    card = stripe_gateway.retrieve(old.intent_id)
    renewal = stripe_gateway.authorize_off_session(
        customer_id=order.payment_customer_id, payment_method_id=old.card_id, amount_minor=order.total_minor - part,
        currency=order.currency, idempotency_key=f"{reference}:test-renewal", metadata={"order": reference})
    stripe_gateway.capture(renewal.intent_id, amount_minor=order.total_minor - part,
                           idempotency_key=f"{renewal.intent_id}:capture")
    assert card.captured_minor == part
    with UnitOfWork() as uow:
        s = uow.session
        s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == old.id)
               .values(status=PaymentStatus.PARTIALLY_CAPTURED.value, captured_minor=part))
        s.add(PaymentAuthorization(order_id=order.id, idempotency_key=f"{reference}:test-renewal",
                                   intent_id=renewal.intent_id, status=PaymentStatus.CAPTURED.value,
                                   amount_minor=order.total_minor - part, currency=order.currency,
                                   captured_minor=order.total_minor - part, card_id=old.card_id))
        for line in s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all():
            line.quantity_shipped = line.quantity
            s.add(line)
        uow.commit()

    wanted = order.total_minor - part + 1234
    outcome = refunds.refund(UnitOfWork(), reference, amount_minor=wanted, reason="goodwill", staff=None,
                             gw=stripe_gateway)

    rows = refund_rows(reference)
    assert [(r.authorization_id, r.amount_minor) for r in rows] == [
        (payments_of(reference)[1].id, order.total_minor - part), (old.id, 1234)]
    assert outcome.refund_ids == tuple(r.id for r in rows) and {r.number for r in rows} == {1}
    assert [m.kind for m in outbox_of(reference)].count("refund") == 1
    assert stripe_gateway.retrieve(renewal.intent_id).refunded_minor == order.total_minor - part
    assert stripe_gateway.retrieve(old.intent_id).refunded_minor == 1234
    assert ledger(reference) == []


def test_a_provider_refusal_records_the_row_failed_and_nothing_else(captured_order, stripe_gateway):
    reference, _ = captured_order((1,))
    [hold] = payments_of(reference)
    with UnitOfWork() as uow:  # the books believe more was charged than the provider did
        uow.session.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == hold.id)
                         .values(captured_minor=hold.captured_minor + 500))
        uow.commit()

    code = refused(lambda: refunds.refund(UnitOfWork(), reference, amount_minor=hold.captured_minor + 500,
                                          reason="goodwill", staff=None, gw=stripe_gateway))

    assert code == ErrorCode.REFUND_FAILED
    [row] = refund_rows(reference)
    assert (row.status, row.failure_code) == ("failed", "amount_too_large")
    [after] = payments_of(reference)
    assert after.refunded_minor == 0
    assert "payment_refunded" not in [e.type for e in events_of(reference)]
    assert "refund" not in [m.kind for m in outbox_of(reference)]


# -- property: refunded never exceeds captured; rows add up to what the provider refunded ----------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(captured_share=st.sampled_from([1.0, 0.6]),
       steps=st.lists(st.tuples(st.sampled_from(["amount", "line"]), st.floats(0.01, 0.7)), min_size=1, max_size=5))
def test_random_refund_sequences_never_refund_more_than_was_captured(held_order, stripe_gateway, captured_share,
                                                                      steps):
    reference, (first, second) = held_order((1, 2))
    total = order_row(reference).total_minor
    captured = int(total * captured_share)
    shipped = None if captured_share == 1.0 else {first: 1, second: 1}
    done = capture(reference, stripe_gateway, capture_minor=captured, shipped=shipped)
    line_refs = [first, second]
    for index, (kind, share) in enumerate(steps):
        try:
            if kind == "line":
                refunds.refund(UnitOfWork(), reference, lines={line_refs[index % 2]: 1}, reason="item_returned",
                               staff=None, gw=stripe_gateway)
            else:
                refunds.refund(UnitOfWork(), reference, amount_minor=max(1, int(captured * share)),
                               reason="goodwill", staff=None, gw=stripe_gateway)
        except ActionRefused as exc:
            assert exc.refusal.code in (ErrorCode.REFUND_OVER_REFUNDABLE, ErrorCode.REFUND_QUANTITY_INVALID)
        [hold] = payments_of(reference)
        assert hold.refunded_minor <= hold.captured_minor == done.amount_minor
        assert ledger(reference) == []
    [hold] = payments_of(reference)
    rows = [r for r in refund_rows(reference) if r.status == "succeeded"]
    charge = provider_charge(stripe_gateway._client, hold.intent_id)  # the gateway's own client: same sandbox
    assert sum(r.amount_minor for r in rows) == charge.amount_refunded - done.released_minor == hold.refunded_minor
    assert stripe_gateway.retrieve(hold.intent_id).refunded_minor == hold.refunded_minor
