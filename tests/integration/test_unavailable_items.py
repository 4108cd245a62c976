"""A piece unavailable after approval (GTC-3.2): the client chooses a new date or a refund, through the services,
the real database and the payment sandbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import RefundRecord, UnavailableItem
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import hold_renewal, holds, links, unavailable_items
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, order_row, outbox_of, payments_of, stock_of
from tests.integration.test_shipping_admin import (  # noqa: F401 - the fixture is used by name
    approved_order,
    audit_of,
    lines_of,
    refused,
    ship,
    staff_member,
)

pytestmark = pytest.mark.usefixtures("database")


def record_of(record_id: int) -> UnavailableItem:
    with Session(get_engine()) as s:
        return s.get(UnavailableItem, record_id)


def token_in(text: str) -> str:
    return text.split("&unavailable=", 1)[1].split()[0].strip()


def mark(reference: str, line: str, quantity: int = 1, *, at: datetime | None = None, role: Role = Role.FULFILMENT,
         proposed: date | None = None) -> int:
    at = at or datetime.now(timezone.utc)
    return unavailable_items.mark_unavailable(UnitOfWork(), reference, line, quantity,
                                              proposed_date=proposed or (at + timedelta(days=40)).date(),
                                              staff=staff_member(role), ip="198.51.100.4", at=at)


def refund_rows(reference: str) -> list[RefundRecord]:
    with Session(get_engine()) as s:
        return list(s.exec(select(RefundRecord).where(RefundRecord.order_id == order_row(reference).id)).all())


@pytest.mark.clause("GTC-3.2")
def test_marking_a_piece_unavailable_emails_the_choice_with_a_signed_link_and_no_compensation(approved_order,
                                                                                           make_product):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 2, b: 1})
    at = datetime.now(timezone.utc)
    proposed = (at + timedelta(days=40)).date()
    record_id = mark(reference, a, 1, at=at, proposed=proposed)

    record = record_of(record_id)
    assert (record.status, record.quantity, record.proposed_date) == ("awaiting_choice", 1, proposed)
    assert record.deadline_at.replace(tzinfo=timezone.utc) == at + timedelta(days=10)
    [email] = [m for m in outbox_of(reference) if m.kind == "item_unavailable"]
    body = email.text_body
    assert "new delivery date" in body and "refund" in body and "compensation" not in body.lower()
    assert links.valid(unavailable_items.link_value(reference, record_id), token_in(body),
                       links.Purpose.UNAVAILABLE_CHOICE, at)
    [event] = [e for e in events_of(reference) if e.type == "item_unavailable"]
    assert (event.data["line"], event.data["quantity"], event.data["outcome"]) == (a, 1, "awaiting_choice")
    [entry] = [e for e in audit_of(order_row(reference).id) if e.action == "orders.mark_unavailable"]
    assert (entry.outcome, entry.ip, entry.after["record"]) == ("done", "198.51.100.4", record_id)
    assert order_row(reference).status == OrderStatus.APPROVED.value  # nothing else changes yet


@pytest.mark.clause("GTC-3.2")
def test_choosing_the_new_date_moves_ship_by_and_confirms(approved_order, make_product, stripe_gateway):
    a = make_product(stock=5)
    reference = approved_order({a: 1})
    before = order_row(reference).ship_by
    proposed = before + timedelta(days=20)
    record_id = mark(reference, a, proposed=proposed)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)

    assert unavailable_items.choose(UnitOfWork(), reference, token, "new_date", gw=stripe_gateway) == \
        "new_date_agreed"

    assert record_of(record_id).status == "new_date_agreed"
    assert order_row(reference).ship_by == proposed
    [changed] = [e for e in events_of(reference) if e.type == "delivery_date_changed"]
    assert (changed.data["ship_by_before"], changed.data["ship_by"]) == (before.isoformat(), proposed.isoformat())
    assert "delivery_date_changed" in [m.kind for m in outbox_of(reference)]
    assert lines_of(reference)[0].quantity_cancelled == 0
    code, _ = refused(lambda: unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway))
    assert code == ErrorCode.UNAVAILABLE_LINK_INVALID  # a spent link


@pytest.mark.clause("GTC-3.2")
@pytest.mark.clause("PAY-5")
def test_refund_before_any_capture_cancels_the_line_keeps_stock_and_moves_no_money(approved_order, make_product,
                                                                                  stripe_gateway,
                                                                                  stripe_test_client):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 2, b: 1})
    stock_a = stock_of(a)
    mark(reference, a, 1)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)

    assert unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway) == "refunded"

    line_a = next(line for line in lines_of(reference) if line.reference == a)
    assert (line_a.quantity_cancelled, line_a.quantity_shipped) == (1, 0)
    assert stock_of(a) == stock_a  # the piece is not there: nothing goes back to stock
    assert refund_rows(reference) == []  # only held, never charged: no provider refund
    old, smaller = payments_of(reference)  # a hold cannot be partly released: a smaller one, then the old one goes
    order = order_row(reference)
    rest = sum(line.unit_price_minor * (line.quantity - line.quantity_cancelled) for line in lines_of(reference))
    assert smaller.amount_minor == holds.with_vat(order, rest + order.shipping_minor) < old.amount_minor
    assert (old.status, smaller.status) == (PaymentStatus.RELEASED.value, PaymentStatus.HELD.value)
    assert stripe_test_client.v1.payment_intents.retrieve(old.intent_id).status == "canceled"
    intent = stripe_test_client.v1.payment_intents.retrieve(smaller.intent_id)
    assert (intent.status, intent.amount) == ("requires_capture", smaller.amount_minor)
    assert order.status == OrderStatus.APPROVED.value
    assert "item_unavailable_cancelled" in [m.kind for m in outbox_of(reference)]


@pytest.mark.clause("GTC-3.2")
@pytest.mark.clause("PAY-5")
def test_after_the_smaller_hold_the_remaining_piece_ships_and_is_charged_exactly_that_hold(
        approved_order, make_product, stripe_gateway, stripe_test_client):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 1, b: 1})
    mark(reference, a, 1)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)
    unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway)
    smaller = payments_of(reference)[-1]

    ship(reference, {b: 1}, stripe_gateway)

    captured = payments_of(reference)[-1]
    assert (captured.id, captured.status, captured.captured_minor) == (smaller.id, PaymentStatus.CAPTURED.value,
                                                                       smaller.amount_minor)
    assert stripe_test_client.v1.payment_intents.retrieve(smaller.intent_id).amount_received == smaller.amount_minor
    assert order_row(reference).status == OrderStatus.SHIPPED.value


@pytest.mark.clause("GTC-3.2")
@pytest.mark.clause("PAY-5")
def test_when_the_bank_refuses_the_smaller_hold_the_old_one_stays_and_covers_the_rest(
        approved_order, make_product, stripe_gateway, localstripe):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 1, b: 1})
    [old] = payments_of(reference)
    localstripe.decline_card(old.card_id, "insufficient_funds")  # the old hold uses the headroom up
    mark(reference, a, 1)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)

    unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway)

    kept, attempt = payments_of(reference)
    assert (kept.id, kept.status) == (old.id, PaymentStatus.HELD.value)
    assert (attempt.idempotency_key, attempt.status) == (hold_renewal.smaller_key(old.intent_id),
                                                         PaymentStatus.DECLINED.value)
    types = [e.type for e in events_of(reference)]
    assert "payment_reauthorization_failed" not in types  # nothing for the client to do: the old hold covers
    assert "payment_reauthorization_needed" not in [m.kind for m in outbox_of(reference)]
    assert not hold_renewal.replace_with_smaller(UnitOfWork(), order_row(reference).id, gw=stripe_gateway)


@pytest.mark.clause("GTC-3.2")
def test_refund_of_the_only_piece_cancels_the_order_and_releases_the_hold(approved_order, make_product,
                                                                          stripe_gateway, stripe_test_client):
    a = make_product(stock=5)
    reference = approved_order({a: 1})
    mark(reference, a)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)

    unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway)

    assert order_row(reference).status == OrderStatus.CANCELLED.value
    [hold] = payments_of(reference)
    assert hold.status == PaymentStatus.RELEASED.value
    assert stripe_test_client.v1.payment_intents.retrieve(hold.intent_id).status == "canceled"
    assert refund_rows(reference) == []


@pytest.mark.clause("GTC-3.2")
@pytest.mark.clause("PAY-5")
def test_refund_after_the_rest_shipped_and_was_charged_ends_the_order_as_shipped(approved_order, make_product,
                                                                                stripe_gateway, stripe_test_client):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 1, b: 1})
    ship(reference, {a: 1}, stripe_gateway)  # a is captured; a new hold covers b
    mark(reference, b)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)

    unavailable_items.choose(UnitOfWork(), reference, token, "refund", gw=stripe_gateway)

    assert order_row(reference).status == OrderStatus.SHIPPED.value
    first, rest = payments_of(reference)
    assert first.status == PaymentStatus.PARTIALLY_CAPTURED.value and first.refunded_minor == 0  # a's charge stays
    assert rest.status == PaymentStatus.RELEASED.value  # b was only held: released, not refunded
    assert stripe_test_client.v1.payment_intents.retrieve(rest.intent_id).status == "canceled"
    assert refund_rows(reference) == []


@pytest.mark.clause("GTC-3.2")
def test_forged_expired_and_foreign_links_are_refused_alike_and_change_nothing(approved_order, make_product,
                                                                              stripe_gateway):
    a = make_product(stock=5)
    reference, other = approved_order({a: 1}), approved_order({make_product(stock=5): 1})
    at = datetime.now(timezone.utc)
    record_id = mark(reference, a, at=at)
    mark(other, lines_of(other)[0].reference, at=at)
    token = token_in([m for m in outbox_of(reference) if m.kind == "item_unavailable"][0].text_body)
    foreign = token_in([m for m in outbox_of(other) if m.kind == "item_unavailable"][0].text_body)
    view = links.issue(reference, links.Purpose.VIEW, at)

    attempts = [(reference, token[:-2] + "AA", at), (reference, foreign, at), (other, token, at),
                (reference, view, at), (reference, token, at + timedelta(days=10, minutes=1)), ("NOPE", token, at)]
    for ref, tok, when in attempts:
        code, _ = refused(lambda: unavailable_items.choose(UnitOfWork(), ref, tok, "refund", at=when,
                                                           gw=stripe_gateway))
        assert code == ErrorCode.UNAVAILABLE_LINK_INVALID
    code, _ = refused(lambda: unavailable_items.choose(UnitOfWork(), reference, token, "both", gw=stripe_gateway))
    assert code == ErrorCode.UNAVAILABLE_CHOICE_UNKNOWN
    assert record_of(record_id).status == "awaiting_choice"
    assert lines_of(reference)[0].quantity_cancelled == 0


@pytest.mark.clause("GTC-3.2")
def test_the_job_reminds_once_then_drops_the_piece_at_the_deadline(approved_order, make_product, stripe_gateway):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 1, b: 1})
    at = datetime.now(timezone.utc)
    record_id = mark(reference, a, at=at)
    job = lambda when: unavailable_items.unavailable_deadlines_due(UnitOfWork(), at=when, gw=stripe_gateway)  # noqa: E731

    assert reference not in job(at + timedelta(days=4))
    assert reference in job(at + timedelta(days=5, minutes=1))
    assert reference not in job(at + timedelta(days=6))  # one reminder only
    [reminder] = [m for m in outbox_of(reference) if m.kind == "item_unavailable_reminder"]
    assert "&unavailable=" in reminder.text_body and "compensation" not in reminder.text_body.lower()
    assert record_of(record_id).reminded_at is not None

    assert reference in job(at + timedelta(days=10, minutes=1))
    assert record_of(record_id).status == "dropped"
    line_a = next(line for line in lines_of(reference) if line.reference == a)
    assert line_a.quantity_cancelled == 1
    [email] = [m for m in outbox_of(reference) if m.kind == "item_unavailable_cancelled"]
    assert "no new delivery date was agreed" in email.text_body
    assert order_row(reference).status == OrderStatus.APPROVED.value  # b still to ship
    assert reference not in job(at + timedelta(days=11))


@pytest.mark.clause("GTC-3.2")
def test_over_quantity_wrong_status_wrong_role_and_past_date_are_refused(approved_order, make_product):
    a = make_product(stock=5)
    reference = approved_order({a: 2})
    code, params = refused(lambda: mark(reference, a, 3))
    assert (code, params["remaining"]) == (ErrorCode.UNAVAILABLE_QUANTITY_INVALID, 2)
    mark(reference, a, 2)
    code, params = refused(lambda: mark(reference, a, 1))  # both already await the client's choice
    assert (code, params["remaining"]) == (ErrorCode.UNAVAILABLE_QUANTITY_INVALID, 0)
    code, _ = refused(lambda: mark(reference, "NOT-A-LINE"))
    assert code == ErrorCode.UNAVAILABLE_LINE_UNKNOWN
    code, _ = refused(lambda: mark(reference, a, role=Role.FINANCE))
    assert code == ErrorCode.STAFF_FORBIDDEN
    code, _ = refused(lambda: mark(reference, a, proposed=date.today()))
    assert code == ErrorCode.UNAVAILABLE_DATE_INVALID
    waiting = approved_order({make_product(stock=5): 1}, approve=False)
    code, _ = refused(lambda: mark(waiting, lines_of(waiting)[0].reference))
    assert code == ErrorCode.UNAVAILABLE_NOT_ALLOWED
    assert [e.action for e in audit_of(order_row(reference).id)].count("orders.mark_unavailable") == 1


def test_the_link_signature_outlives_the_answer_window():
    assert links.lifetimes()["unavailable_choice"] >= unavailable_items.rules().answer_within
