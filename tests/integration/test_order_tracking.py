"""The customer's order page as a read model, and "Find my order" (issue 11 §§ 1-2; CARD-3, GTC-5.5).

Real database, real payment sandbox, real signatures: the order is shipped in part, refunded and has a
piece found unavailable through the services staff use, then read the way the status page reads it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, update

from storefront.adapters import rate_limiter
from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order
from storefront.domain.errors import ErrorCode
from storefront.services import find_order, links, refunds, unavailable_items
from storefront.services.abuse_limits import limits
from storefront.services.order_view import order_view
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, order_row, staff_member
from tests.integration.test_shipping_admin import approved_order, last_slot, ship  # noqa: F401 - fixture by name

pytestmark = pytest.mark.usefixtures("database")


def view_of(reference: str, at: datetime | None = None):
    return order_view(UnitOfWork(), reference, links.issue(reference, links.Purpose.VIEW, at), at)


@pytest.fixture
def tracked(approved_order, make_product, stripe_gateway):
    """Three watches: one of `a` and `b` shipped (b then refunded), the second `a` awaits shipment,
    `c` proved unavailable and awaits the client's choice."""
    a, b, c = make_product(stock=5), make_product(stock=5), make_product(stock=5)
    reference = approved_order({a: 2, b: 1, c: 1})
    handed = last_slot()
    ship(reference, {a: 1, b: 1}, stripe_gateway, carrier="DHL Express", tracking="JD014600006281230704",
         handed_over_at=handed)
    refunds.refund(UnitOfWork(), reference, lines={b: 1}, reason="item_returned", staff=None, gw=stripe_gateway)
    unavailable_items.mark_unavailable(UnitOfWork(), reference, c, 1,
                                       proposed_date=(datetime.now(timezone.utc) + timedelta(days=40)).date(),
                                       staff=staff_member(), ip="198.51.100.4")
    return reference, (a, b, c), handed


@pytest.mark.clause("CARD-3")
def test_the_page_shows_each_piece_in_its_state_and_the_money_held_charged_and_refunded(tracked):
    reference, (a, b, c), _ = tracked
    view = view_of(reference)

    states = {(row.reference, row.key): row.quantity for row in view.lines}
    assert states == {(a, "shipped"): 1, (a, "awaiting"): 1, (b, "refunded"): 1, (c, "unavailable"): 1}
    assert view.status == "partially_shipped" and view.status_label.startswith("Partly shipped")
    assert view.choices_waiting == 1
    order = order_row(reference)
    assert view.totals.ship_by and view.placed_at and view.reference == reference
    money = view.money
    assert money.any_charged and money.any_refunded
    # amounts as Babel writes them in the order's locale (CHF for a Swiss client)
    assert "CHF" in money.charged and "CHF" in money.held and "CHF" in money.refunded
    assert money.held != money.charged
    assert view.terms_url == f"/terms?version={view.terms_version}" and view.terms_version
    assert view.contact_email and view.contact_phone
    assert order.currency == "CHF"


@pytest.mark.clause("GTC-5.5")
def test_each_shipment_shows_carrier_tracking_link_and_the_handover_time_risk_passed(tracked):
    reference, (a, b, _c), handed = tracked
    [shipment] = view_of(reference).shipments

    assert (shipment.number, shipment.carrier, shipment.tracking_number) == (1, "DHL Express", "JD014600006281230704")
    assert shipment.tracking_url == "https://www.dhl.com/ch-en/home/tracking.html?tracking-id=JD014600006281230704"
    local = handed.astimezone(ZoneInfo("Europe/Zurich"))
    # the recorded handover, to the minute, in Geneva time (the order's locale decides the wording)
    assert local.strftime("%H:%M") in shipment.handed_over_at and str(local.year) in shipment.handed_over_at
    assert sorted(shipment.contents) == sorted(f"1 × {name}" for name in _names(reference, (a, b)))


def _names(reference: str, refs) -> list[str]:
    view = view_of(reference)
    return [row.name for row in view.totals.lines if row.reference in refs]


def test_the_page_speaks_the_order_s_language(approved_order, make_product, stripe_gateway):
    reference = approved_order({make_product(): 1}, "DE")
    ship(reference, {order_view_lines(reference)[0]: 1}, stripe_gateway)
    view = view_of(reference)
    assert "€" in view.money.charged and "," in view.money.charged  # German writes 1.234,56 €
    months = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember")
    assert any(m in view.totals.ship_by for m in months)


def order_view_lines(reference: str) -> list[str]:
    return [row.reference for row in view_of(reference).totals.lines]


def test_the_read_model_costs_the_same_few_queries_however_many_shipments(approved_order, make_product,
                                                                          stripe_gateway):
    one = approved_order({make_product(): 1})
    ship(one, {order_view_lines(one)[0]: 1}, stripe_gateway)
    refs = [make_product() for _ in range(3)]
    three = approved_order({r: 1 for r in refs})
    for n, r in enumerate(refs):
        ship(three, {r: 1}, stripe_gateway, tracking=f"JD0146000062812307{n}")

    def queries(reference: str) -> int:
        count = []
        listener = lambda *args: count.append(1)  # noqa: E731
        event.listen(get_engine(), "before_cursor_execute", listener)
        try:
            assert view_of(reference) is not None
        finally:
            event.remove(get_engine(), "before_cursor_execute", listener)
        return len(count)

    assert queries(one) == queries(three) <= 11  # docs/design.md states the figure


@pytest.mark.clause("CARD-3")
def test_find_my_order_opens_the_page_with_a_view_link_that_grants_no_action(make_product, place):
    placed = place({make_product(): 1}, buyer(email="Anna.Keller@Example.com"))

    found = find_order.find(UnitOfWork(), " " + placed.reference.lower() + " ", "anna.keller@example.COM ",
                            ip="203.0.113.9")

    assert found.code is None and found.path.startswith(f"/order/{placed.reference}?t=")
    token = found.path.split("?t=", 1)[1]
    assert view_of(placed.reference).reference == order_view(UnitOfWork(), placed.reference, token).reference
    for purpose in (links.Purpose.PAY, links.Purpose.REAUTHORIZE, links.Purpose.UNAVAILABLE_CHOICE,
                    links.Purpose.TELEPHONE_ORDER):
        assert not links.valid(placed.reference, token, purpose)


@pytest.mark.clause("CARD-3")
def test_find_my_order_answers_alike_for_a_wrong_email_an_unknown_reference_and_junk(make_product, place):
    placed = place({make_product(): 1}, buyer(email="owner@example.com"))
    other = place({make_product(): 1}, buyer(email="someone@example.com"))
    attempts = [
        (placed.reference, "intruder@example.com"),  # right reference, wrong email
        (placed.reference, "someone@example.com"),  # another client's email
        ("VX-ZZZZZZZZZZ", "owner@example.com"),  # no such reference
        (other.reference[:-1], "someone@example.com"),
        (placed.reference, ""), ("", ""), (placed.reference, "owner@example.com\x00"),
        ("VX-' OR '1'='1", "owner@example.com' --"), ("%", "%"), (placed.reference + "%", "owner@example.com"),
        ("x" * 10_000, "y" * 10_000), (None, None), (123, ["owner@example.com"]), ({"a": 1}, 4.5),
    ]
    answers = set()
    for i, (ref, email) in enumerate(attempts):
        found = find_order.find(UnitOfWork(), ref, email, ip=f"203.0.113.{i}")
        answers.add((found.path, found.code))
    assert answers == {("", ErrorCode.FIND_ORDER_NO_MATCH)}


@pytest.mark.clause("CARD-3")
def test_an_erased_order_is_never_found_by_its_erased_address(make_product, place):
    placed = place({make_product(): 1})
    order_id = order_row(placed.reference).id
    erased = f"erased+{order_id}@invalid"
    with get_engine().begin() as db:
        db.execute(update(Order).where(Order.id == order_id)
                   .values(email=erased, erased_at=datetime.now(timezone.utc), erasure="full"))
    found = find_order.find(UnitOfWork(), placed.reference, erased, ip="203.0.113.50")
    assert found.code == ErrorCode.FIND_ORDER_NO_MATCH


def test_a_miss_takes_as_long_as_a_hit_within_an_order_of_magnitude(make_product, place):
    placed = place({make_product(): 1}, buyer(email="owner@example.com"))

    def timed(ref: str, email: str, ip: str) -> float:
        rate_limiter.reset()  # the limits are tested below; here every attempt is looked up
        start = time.perf_counter()
        find_order.find(UnitOfWork(), ref, email, ip=ip)
        return time.perf_counter() - start

    timed(placed.reference, "owner@example.com", "198.51.100.1")  # warm up
    hit = min(timed(placed.reference, "owner@example.com", f"198.51.100.{i}") for i in range(2, 5))
    unknown = min(timed("VX-ZZZZZZZZZZ", "owner@example.com", f"198.51.100.{i}") for i in range(5, 8))
    wrong = min(timed(placed.reference, "nobody@example.com", f"198.51.100.{i}") for i in range(8, 11))
    for miss in (unknown, wrong):
        assert hit / 10 < miss < hit * 10


@pytest.mark.clause("CARD-3")
def test_attempts_are_limited_per_connection_and_per_reference_found_or_not(make_product, place):
    placed = place({make_product(): 1}, buyer(email="owner@example.com"))
    per_reference = int(limits().find_order_per_reference.split()[0])
    per_ip = int(limits().find_order_per_ip.split()[0])

    # one reference, many connections: after the limit even the right email is refused, and so is an
    # unknown reference at the same count (the limit tells nothing about existence)
    for i in range(per_reference):
        assert find_order.find(UnitOfWork(), placed.reference, "guess@example.com", ip=f"192.0.2.{i}").code \
            == ErrorCode.FIND_ORDER_NO_MATCH
        find_order.find(UnitOfWork(), "VX-NOSUCHREF0", "guess@example.com", ip=f"192.0.2.{100 + i}")
    assert find_order.find(UnitOfWork(), placed.reference, "owner@example.com", ip="192.0.2.200").code \
        == ErrorCode.FIND_ORDER_TOO_MANY
    assert find_order.find(UnitOfWork(), "VX-NOSUCHREF0", "owner@example.com", ip="192.0.2.201").code \
        == ErrorCode.FIND_ORDER_TOO_MANY

    # one connection, many references
    for i in range(per_ip):
        find_order.find(UnitOfWork(), f"VX-TRY{i:07d}", "guess@example.com", ip="198.51.100.77")
    other = place({make_product(): 1}, buyer(email="second@example.com"))
    assert find_order.find(UnitOfWork(), other.reference, "second@example.com", ip="198.51.100.77").code \
        == ErrorCode.FIND_ORDER_TOO_MANY
    assert find_order.find(UnitOfWork(), other.reference, "second@example.com", ip="198.51.100.78").code is None
