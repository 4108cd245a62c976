"""Delivery delays (GTC-5.4): the notice at +20 business days (once), the customer-service queue, the 51-day offer,
the client's answers through the signed link, reminders and a task without an answer, never a silent
cancellation; through the services, the real database and the payment sandbox, with the clock moved by `at`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from babel.dates import format_date
from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import IssuedDocument, Order, OrderDelay, PaymentAuthorization, RefundRecord
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, delays, jobs, links, order_admin
from storefront.services.calendar import merchant_calendar
from storefront.services.order_view import order_view
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, order_row, outbox_of, payments_of
from tests.integration.test_shipping_admin import (  # noqa: F401 - the fixture is used by name
    approved_order,
    audit_of,
    lines_of,
    refused,
    ship,
    staff_member,
)

pytestmark = pytest.mark.usefixtures("database")
SHIP_BY = date(2026, 12, 1)  # a Tuesday; Christmas and 31 December (Geneva) fall in the next 20 business days


def late_order(approved_order, cart=None) -> str:
    """An approved order whose ship-by date is SHIP_BY (as if placed 30 business days before it)."""
    reference = approved_order(cart)
    with Session(get_engine()) as s:
        s.exec(update(Order).where(Order.reference == reference).values(ship_by=SHIP_BY))
        s.commit()
    return reference


def on(day: date, hour: int = 9) -> datetime:
    """The job's clock: `hour` o'clock in Geneva on `day`."""
    return datetime.combine(day, time(hour), tzinfo=merchant_calendar().local(datetime.now(timezone.utc)).tzinfo
                            ).astimezone(timezone.utc)


def delays_of(reference: str) -> list[OrderDelay]:
    with Session(get_engine()) as s:
        return list(s.exec(select(OrderDelay).where(OrderDelay.order_id == order_row(reference).id)
                           .order_by(OrderDelay.id)).all())


def emails(reference: str, kind: str):
    return [m for m in outbox_of(reference) if m.kind == kind]


def token_in(text: str) -> str:
    return text.split("&delay=", 1)[1].split()[0].strip()


def queue(key: str, at: datetime) -> admin_orders.Queue:
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork(), at)}[key]


def run(at: datetime) -> list[str]:
    return delays.delays_due(UnitOfWork(), at=at)


def offered(reference: str) -> tuple[datetime, str]:
    """The order taken to the 51-day offer: (the offer's time, the link's token)."""
    run(on(date(2026, 12, 30)))
    at = on(SHIP_BY + timedelta(days=52))
    assert reference in run(at)
    [email] = emails(reference, "delay_offer")
    return at, token_in(email.text_body)


@pytest.mark.clause("GTC-5.4")
def test_the_notice_goes_once_on_the_20th_business_day_and_the_order_joins_the_delay_queue(approved_order):
    reference = late_order(approved_order)
    assert reference not in run(on(date(2026, 12, 29)))  # 19 business days: Christmas does not count
    assert emails(reference, "delay_notice") == []

    at = on(date(2026, 12, 30))
    assert reference in run(at)
    assert reference not in run(at)  # twice a day, and again later: one notice
    assert reference not in run(on(date(2026, 12, 30), 16))

    [notice] = emails(reference, "delay_notice")
    assert "delayed" in notice.subject and "compensation" not in notice.text_body.lower()
    [delay] = delays_of(reference)
    assert (delay.status, delay.counted_from) == ("noticed", SHIP_BY)
    assert [e.data["ship_by"] for e in events_of(reference) if e.type == "delay_notice_sent"] == [SHIP_BY.isoformat()]
    assert reference in queue("delays", at).references and queue("delays", at).count >= 1
    assert reference not in queue("delay_calls", at).references
    # the client's status page tells it too
    view = order_view(UnitOfWork(), reference, links.issue(reference, links.Purpose.VIEW, at), at)
    assert "We told you your order is delayed" in [row.text for row in view.timeline]


@pytest.mark.clause("GTC-5.4")
def test_the_job_in_the_background_round_is_idempotent_too(approved_order):
    reference = late_order(approved_order)
    at = on(date(2026, 12, 30))
    jobs.run_once(at)
    jobs.run_once(at + timedelta(hours=6))
    assert len(emails(reference, "delay_notice")) == 1 and len(delays_of(reference)) == 1


@pytest.mark.clause("GTC-5.4")
def test_a_shipped_order_gets_no_notice(approved_order, stripe_gateway):
    reference = late_order(approved_order)
    ship(reference, {lines_of(reference)[0].reference: 1}, stripe_gateway)
    assert reference not in run(on(date(2027, 3, 1)))
    assert emails(reference, "delay_notice") == []


@pytest.mark.clause("GTC-5.4")
def test_beyond_51_days_the_client_is_offered_the_next_expected_date_or_cancellation(approved_order):
    reference = late_order(approved_order)
    run(on(date(2026, 12, 30)))
    assert reference not in run(on(SHIP_BY + timedelta(days=51)))  # 51 days late: not beyond yet
    at, token = offered(reference)

    [delay] = delays_of(reference)
    assert delay.status == "offered"
    assert delay.offer_date == merchant_calendar().add_business_days(at, 30)  # no date proposed by staff
    assert links.valid(delays.link_value(reference, delay.id), token, links.Purpose.DELAY_CHOICE, at)
    body = emails(reference, "delay_offer")[0].text_body
    assert "cancel" in body and "Nothing is cancelled without your confirmation" in body
    offer = delays.pending_offer(UnitOfWork(), reference, token, at)
    assert offer is not None and offer.stage == "offered"
    assert delays.pending_offer(UnitOfWork(), reference, token + "x", at) is None
    assert delays.pending_offer(UnitOfWork(), reference, links.issue(delays.link_value(reference, delay.id),
                                                                     links.Purpose.VIEW, at), at) is None
    assert "cancellation_offered" in [e.type for e in events_of(reference)]


@pytest.mark.clause("GTC-5.4")
def test_accepting_the_new_date_moves_ship_by_and_the_notices_count_from_it(approved_order):
    reference = late_order(approved_order)
    at, token = offered(reference)
    new_date = delays_of(reference)[0].offer_date

    assert delays.choose(UnitOfWork(), reference, token, "new_date", ip="203.0.113.9", at=at) == "new_date_agreed"

    [delay] = delays_of(reference)
    assert (delay.choice, delay.decided_link) == ("new_date", delays.fingerprint(token))
    assert delay.decided_at.replace(tzinfo=timezone.utc) == at
    assert order_row(reference).ship_by == new_date
    assert emails(reference, "delivery_date_changed")
    assert reference not in queue("delays", at).references
    code, _ = refused(lambda: delays.choose(UnitOfWork(), reference, token, "decline", at=at))
    assert code == ErrorCode.DELAY_LINK_INVALID  # a spent link
    # the next notice counts from the agreed date
    calendar = merchant_calendar()
    day_19 = calendar.add_business_days(on(new_date), 19)
    assert reference not in run(on(day_19))
    assert reference in run(on(calendar.add_business_days(on(new_date), 20)))
    assert [d.counted_from for d in delays_of(reference)] == [SHIP_BY, new_date]
    assert len(emails(reference, "delay_notice")) == 2


@pytest.mark.clause("GTC-5.4")
@pytest.mark.clause("PAY-5")
def test_declining_offers_cancellation_which_the_client_confirms_releasing_the_hold(approved_order, make_product,
                                                                                   stripe_gateway):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = late_order(approved_order, {a: 1, b: 2})
    at, token = offered(reference)
    code, _ = refused(lambda: delays.choose(UnitOfWork(), reference, token, "cancel", at=at))
    assert code == ErrorCode.DELAY_LINK_INVALID  # the date must be declined first: no cancellation in one click

    assert delays.choose(UnitOfWork(), reference, token, "decline", at=at) == "refused"
    [delay] = delays_of(reference)
    assert (delay.status, delay.refused_link) == ("refused", delays.fingerprint(token))
    assert [line.quantity_cancelled for line in lines_of(reference)] == [0, 0]  # nothing cancelled by declining
    assert delays.pending_offer(UnitOfWork(), reference, token, at).stage == "refused"
    stages = [e.data["stage"] for e in events_of(reference) if e.type == "cancellation_offered"]
    assert stages == ["new_date_or_cancel", "cancel"]

    later = at + timedelta(days=1)
    assert delays.choose(UnitOfWork(), reference, token, "cancel", at=later, gw=stripe_gateway) == "cancelled"

    [delay] = delays_of(reference)
    assert (delay.choice, delay.decided_link) == ("cancel", delays.fingerprint(token))
    assert [line.quantity_cancelled for line in lines_of(reference)] == [1, 2]
    assert order_row(reference).status == OrderStatus.CANCELLED.value
    assert {p.status for p in payments_of(reference)} == {PaymentStatus.RELEASED.value}
    with Session(get_engine()) as s:  # only held, never charged: nothing to refund
        assert s.exec(select(RefundRecord).where(RefundRecord.order_id == order_row(reference).id)).all() == []
    [email] = emails(reference, "delay_cancelled")
    assert "nothing had been charged" in email.text_body and "compensation" not in email.text_body.lower()
    assert reference not in queue("delays", later).references


@pytest.mark.clause("GTC-5.4")
def test_cancelling_after_a_partial_shipment_keeps_what_shipped_and_releases_the_rest(approved_order, make_product,
                                                                                    stripe_gateway):
    a, b = make_product(stock=5), make_product(stock=5)
    reference = late_order(approved_order, {a: 1, b: 1})
    ship(reference, {a: 1}, stripe_gateway)
    captured = sum(p.captured_minor for p in payments_of(reference))
    at, token = offered(reference)
    assert b in emails(reference, "delay_offer")[0].text_body or "(1)" in emails(reference, "delay_offer")[0].text_body

    delays.choose(UnitOfWork(), reference, token, "decline", at=at)
    delays.choose(UnitOfWork(), reference, token, "cancel", at=at, gw=stripe_gateway)

    line_a, line_b = sorted(lines_of(reference), key=lambda line: line.reference != a)
    assert (line_a.quantity_shipped, line_a.quantity_cancelled) == (1, 0)
    assert (line_b.quantity_shipped, line_b.quantity_cancelled) == (0, 1)
    assert order_row(reference).status == OrderStatus.SHIPPED.value
    assert sum(p.captured_minor for p in payments_of(reference)) == captured  # the shipped piece stays charged
    assert not [p for p in payments_of(reference) if p.status == PaymentStatus.HELD.value]
    with Session(get_engine()) as s:  # the shipped piece is not refunded: only what was charged for unshipped ones
        assert s.exec(select(RefundRecord).where(RefundRecord.order_id == order_row(reference).id)).all() == []


@pytest.mark.clause("GTC-5.4")
def test_without_an_answer_reminders_then_a_call_task_and_never_a_silent_cancellation(approved_order):
    reference = late_order(approved_order)
    at, _token = offered(reference)

    assert reference not in run(at + timedelta(days=6))
    assert reference in run(at + timedelta(days=7))
    assert reference not in run(at + timedelta(days=7, hours=5))  # once
    assert reference not in queue("delay_calls", at + timedelta(days=7)).references
    assert reference in run(at + timedelta(days=14))
    assert reference in queue("delay_calls", at + timedelta(days=14)).references
    for week in range(3, 12):
        run(at + timedelta(days=7 * week))

    reminders = emails(reference, "delay_reminder")
    assert len(reminders) == 11
    assert all("&delay=" in m.text_body for m in reminders)  # each with a fresh link
    assert [line.quantity_cancelled for line in lines_of(reference)] == [0]
    assert order_row(reference).status == OrderStatus.APPROVED.value
    assert delays_of(reference)[0].status == "offered"
    assert [e.action for e in audit_of(order_row(reference).id)].count("orders.delay_unanswered") == 1


@pytest.mark.clause("GTC-5.4")
def test_staff_propose_the_date_offered_validated_and_audited(approved_order):
    reference = late_order(approved_order)
    noticed_at = on(date(2026, 12, 30))
    run(noticed_at)
    cs = staff_member(Role.CUSTOMER_SERVICE)
    uow = UnitOfWork()

    for bad in (date(2026, 12, 30), date(2027, 1, 1), date(2027, 1, 2), "2027-01-05"):  # today, holiday, Saturday
        code, _ = refused(lambda: delays.propose_date(uow, reference, bad, staff=cs, at=noticed_at))
        assert code == ErrorCode.DELAY_DATE_INVALID
    code, _ = refused(lambda: delays.propose_date(uow, reference, date(2027, 2, 2), at=noticed_at,
                                                  staff=staff_member(Role.FULFILMENT)))
    assert code == ErrorCode.STAFF_FORBIDDEN
    code, _ = refused(lambda: delays.propose_date(uow, "NOPE", date(2027, 2, 2), staff=cs, at=noticed_at))
    assert code == ErrorCode.DELAY_NOT_FOUND

    delays.propose_date(uow, reference, date(2027, 2, 2), staff=cs, ip="198.51.100.7", at=noticed_at)
    [entry] = [e for e in audit_of(order_row(reference).id) if e.action == "orders.follow_up_delay"]
    assert (entry.outcome, entry.ip, entry.after["proposed_date"]) == ("done", "198.51.100.7", "2027-02-02")
    at, token = offered(reference)
    assert delays_of(reference)[0].offer_date == date(2027, 2, 2)

    # proposed again after the offer (and after the client declined): offered again, with a new email
    delays.choose(uow, reference, token, "decline", at=at)
    delays.propose_date(uow, reference, date(2027, 3, 2), staff=cs, at=at)
    assert (delays_of(reference)[0].status, delays_of(reference)[0].offer_date) == ("offered", date(2027, 3, 2))
    assert len(emails(reference, "delay_offer")) == 2
    assert delays.choose(uow, reference, token, "new_date", at=at) == "new_date_agreed"
    assert order_row(reference).ship_by == date(2027, 3, 2)


@pytest.mark.clause("GTC-5.4")
def test_forged_foreign_and_unknown_answers_change_nothing(approved_order, make_product):
    reference, other = late_order(approved_order), late_order(approved_order)
    at, token = offered(reference)
    for ref, tok, choice, code in ((reference, token, "refund", ErrorCode.DELAY_CHOICE_UNKNOWN),
                                   (reference, token[:-2] + "xx", "new_date", ErrorCode.DELAY_LINK_INVALID),
                                   (other, token, "new_date", ErrorCode.DELAY_LINK_INVALID),
                                   (reference, 12, "new_date", ErrorCode.DELAY_LINK_INVALID),
                                   (reference, "x" * 5000, "new_date", ErrorCode.DELAY_LINK_INVALID)):
        assert refused(lambda: delays.choose(UnitOfWork(), ref, tok, choice, at=at))[0] == code
    # a link issued long ago has expired
    assert refused(lambda: delays.choose(UnitOfWork(), reference, token, "new_date",
                                         at=at + timedelta(days=61)))[0] == ErrorCode.DELAY_LINK_INVALID
    assert delays_of(reference)[0].status == "offered"


@pytest.mark.clause("GTC-5.1")
def test_the_ship_by_date_counts_from_the_confirmation_at_placement_and_approval_does_not_restart_it(
        approved_order):
    reference = approved_order(approve=False)
    placed = order_row(reference)
    expected = merchant_calendar().ship_by_date(placed.placed_at.replace(tzinfo=timezone.utc))
    assert placed.ship_by == expected
    [confirmation] = [m for m in outbox_of(reference) if m.kind == "order_confirmation"]
    assert format_date(expected, "long", locale=placed.locale) in confirmation.text_body  # the date shown

    order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE),
                        at=datetime.now(timezone.utc) + timedelta(days=3))
    assert order_row(reference).status == OrderStatus.APPROVED.value
    assert order_row(reference).ship_by == expected  # the approval email is not the written confirmation


@pytest.mark.clause("GTC-5.4")
def test_anything_charged_for_the_unshipped_pieces_is_refunded_through_the_refund_service(approved_order,
                                                                                         make_product,
                                                                                         stripe_gateway):
    """The ledger made to say a capture took 100 minor units more than the shipped piece and the shipping fee (no
    flow of the shop does so today: a unit is charged when it ships): the cancellation refunds exactly those 100,
    as a rule-triggered refund (no second approver), and leaves the shipped piece charged."""
    a, b = make_product(stock=5), make_product(stock=5)
    reference = late_order(approved_order, {a: 1, b: 1})
    ship(reference, {a: 1}, stripe_gateway)
    [captured] = [p for p in payments_of(reference) if p.captured_minor]
    with Session(get_engine()) as s:
        s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == captured.id)
               .values(captured_minor=captured.captured_minor + 100))
        s.commit()
    at, token = offered(reference)
    delays.choose(UnitOfWork(), reference, token, "decline", at=at)
    delays.choose(UnitOfWork(), reference, token, "cancel", at=at, gw=stripe_gateway)

    with Session(get_engine()) as s:
        [row] = s.exec(select(RefundRecord).where(RefundRecord.order_id == order_row(reference).id)).all()
    assert (row.amount_minor, row.reason_code, row.status, row.requested_by) == \
        (100, "client_cancelled_after_delay", "succeeded", None)
    assert [p.refunded_minor for p in payments_of(reference) if p.id == captured.id] == [100]
    body = emails(reference, "delay_cancelled")[0].text_body
    assert "refunded" in body and "nothing had been charged" not in body
    with Session(get_engine()) as s:  # and the refund's credit note, for exactly what came back
        notes = s.exec(select(IssuedDocument.amount_minor).where(IssuedDocument.order_id == order_row(reference).id,
                                                                IssuedDocument.kind == "credit_note")).all()
    assert notes == [100]
