"""Staff shipping orders (GTC-5.2, GTC-5.5, PAY-5), through the services, the real database and the payment sandbox."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import OrderLine, Shipment, ShipmentLine, StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.policy import policy
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, holds, order_admin, payment, reauthorization, shipping_admin
from storefront.services.calendar import merchant_calendar
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, order_row, outbox_of, payments_of, staff_member

pytestmark = pytest.mark.usefixtures("database")

GENEVA = ZoneInfo("Europe/Zurich")
# Odd net prices so that VAT per shipment rounds differently from VAT on the whole order.
ODD = {"CHF": 1_234_567, "EUR": 991_553, "USD": 1_850_001, "GBP": 1_420_003, "JPY": 2_380_001,
       "CNY": 13_400_001, "HKD": 14_500_003, "SGD": 2_500_001, "AED": 6_800_003}


def last_slot(now: datetime | None = None) -> datetime:
    """The latest moment at or before now when a parcel may be handed over (Geneva business hours)."""
    cal = merchant_calendar()
    moment = (now or datetime.now(timezone.utc)) - timedelta(minutes=1)
    while not cal.is_shipping_time(moment):
        local = cal.local(moment)
        moment = (local.replace(hour=16, minute=30, second=0, microsecond=0)
                  if local.hour >= 17 else local.replace(hour=16, minute=30) - timedelta(days=1))
    return moment


def shipments_of(reference: str) -> list[Shipment]:
    with Session(get_engine()) as s:
        return list(s.exec(select(Shipment).where(Shipment.order_id == order_row(reference).id)
                           .order_by(Shipment.number)).all())


def lines_of(reference: str) -> list[OrderLine]:
    with Session(get_engine()) as s:
        return list(s.exec(select(OrderLine).where(OrderLine.order_id == order_row(reference).id)
                           .order_by(OrderLine.id)).all())


def failed_renewals() -> admin_orders.Queue:
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork())}["failed_renewals"]


def audit_of(order_id: int) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.order_id == order_id)).all())


@pytest.fixture
def approved_order(make_product, place, card_token, stripe_gateway):
    """An order held at checkout and approved by staff: {product reference: quantity} in `country`."""

    def make(cart: dict[str, int] | None = None, country: str = "CH", approve: bool = True):
        cart = cart or {make_product(stock=5): 1}
        placed = place(cart, buyer(country))
        outcome = payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"),
                                    gw=stripe_gateway, browser=None)
        assert outcome.status == "held"
        if approve:
            order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE))
        return placed.reference

    return make


class Recording:
    """The sandbox gateway, noting the order in which money moves."""

    def __init__(self, gw) -> None:
        self._gw, self.calls = gw, []

    def __getattr__(self, name):
        return getattr(self._gw, name)

    def authorize_off_session(self, **kw):
        self.calls.append(("hold", kw["amount_minor"]))
        return self._gw.authorize_off_session(**kw)

    def capture(self, intent_id, **kw):
        self.calls.append(("capture", kw["amount_minor"]))
        return self._gw.capture(intent_id, **kw)


def ship(reference, lines, gw, *, carrier="DHL Express", tracking="JD014600006281230704", **kw):
    return shipping_admin.ship(UnitOfWork(), reference, lines=lines, carrier=carrier, tracking_number=tracking,
                               handed_over_at=kw.pop("handed_over_at", last_slot()), staff=kw.pop("staff", None)
                               or staff_member(), gw=gw, **kw)


def refused(call) -> tuple[ErrorCode, dict]:
    with pytest.raises(order_admin.ActionRefused) as caught:
        call()
    return caught.value.refusal.code, caught.value.refusal.params


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-5.5")
@pytest.mark.clause("GTC-5.2")
@pytest.mark.parametrize("country", ["CH", "JP"])
def test_one_shipment_of_everything_captures_exactly_the_total(approved_order, make_product, stripe_gateway,
                                                               stripe_test_client, country):
    a, b = make_product(prices=ODD), make_product()
    reference = approved_order({a: 2, b: 1}, country)
    order = order_row(reference)
    assert (order.vat_minor > 0) == (country == "CH")
    handed = last_slot()
    clerk = staff_member(Role.ADMIN)

    shipment_id = ship(reference, {a: 2, b: 1}, stripe_gateway, handed_over_at=handed, staff=clerk,
                       carrier="Ferrari Group (valuables)", tracking="FG-2026-000123", ip="203.0.113.7")

    [shipment] = shipments_of(reference)
    assert shipment.id == shipment_id and shipment.number == 1 and shipment.captured_minor == order.total_minor
    assert (shipment.carrier, shipment.tracking_number, shipment.currency) == (
        "Ferrari Group (valuables)", "FG-2026-000123", order.currency)
    assert order_row(reference).status == OrderStatus.SHIPPED.value
    assert all(line.quantity_shipped == line.quantity for line in lines_of(reference))
    [hold] = payments_of(reference)
    assert (hold.status, hold.captured_minor) == (PaymentStatus.CAPTURED.value, order.total_minor)
    intent = stripe_test_client.v1.payment_intents.retrieve(hold.intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", order.total_minor)
    events = {e.type: e for e in events_of(reference)}
    handover = events["handed_to_carrier"]
    assert handover.data["handed_over_at"] == handed.isoformat() and handover.data["carrier"] == shipment.carrier
    assert handover.data["tracking_number"] == "FG-2026-000123" and handover.actor == f"staff:{clerk.staff_id}"
    assert events["payment_captured"].data["amount_minor"] == order.total_minor
    assert "shipped" in events and "partially_shipped" not in events
    [email] = [m for m in outbox_of(reference) if m.kind == "order_shipped"]
    assert "FG-2026-000123" in email.text_body and "https://www.ferrarigroup.net/track?ref=FG-2026-000123" in email.text_body
    assert email.next_attempt_at.date() == datetime.now(timezone.utc).date()  # goes on the day of shipment
    [entry] = [a for a in audit_of(order.id) if a.action == "orders.ship"]
    assert (entry.outcome, entry.ip, entry.before, entry.after["status"]) == (
        "done", "203.0.113.7", {"status": "approved"}, "shipped")


@pytest.mark.clause("PAY-5")
def test_two_shipments_hold_the_rest_before_capturing_and_add_up_to_the_total(approved_order, make_product,
                                                                              stripe_gateway, stripe_test_client):
    a, b = make_product(prices=ODD), make_product(prices=ODD)
    reference = approved_order({a: 1, b: 2})
    order = order_row(reference)
    [line_a, line_b] = lines_of(reference)
    gw = Recording(stripe_gateway)

    ship(reference, {a: 1, b: 1}, gw)
    code, _ = refused(lambda: ship(reference, {b: 1}, gw))  # the same click again, after it was recorded
    assert code == ErrorCode.SHIPMENT_ALREADY_RECORDED

    first_goods = line_a.unit_price_minor + line_b.unit_price_minor
    [first] = shipments_of(reference)
    assert first.captured_minor == holds.with_vat(order, first_goods + order.shipping_minor)
    remainder = order.total_minor - first.captured_minor
    assert gw.calls == [("hold", remainder), ("capture", first.captured_minor)]  # the new hold comes first
    assert order_row(reference).status == OrderStatus.PARTIALLY_SHIPPED.value
    old, new = payments_of(reference)
    assert (old.status, old.captured_minor) == (PaymentStatus.PARTIALLY_CAPTURED.value, first.captured_minor)
    assert (new.status, new.amount_minor, new.card_id) == (PaymentStatus.HELD.value, remainder, old.card_id)
    assert stripe_test_client.v1.payment_intents.retrieve(new.intent_id).status == "requires_capture"
    assert "partially_shipped" in [e.type for e in events_of(reference)]

    ship(reference, {b: 1}, gw, tracking="1Z999AA10123456784", carrier="UPS")

    first, second = shipments_of(reference)
    assert first.captured_minor + second.captured_minor == order.total_minor  # exactly
    assert gw.calls[2:] == [("capture", remainder)]  # nothing remains: no new hold
    assert order_row(reference).status == OrderStatus.SHIPPED.value
    assert [p.status for p in payments_of(reference)] == ["partially_captured", "captured"]
    assert [m.kind for m in outbox_of(reference)].count("order_shipped") == 2


@pytest.mark.clause("GTC-5.2")
@pytest.mark.parametrize(("handed", "next_slot"), [
    (datetime(2026, 11, 21, 10, 0, tzinfo=GENEVA), "Monday 23 November 2026, 08:00"),  # Saturday
    (datetime(2026, 11, 25, 18, 0, tzinfo=GENEVA), "Thursday 26 November 2026, 08:00"),  # after 17:00
    (datetime(2026, 11, 25, 7, 59, tzinfo=GENEVA), "Wednesday 25 November 2026, 08:00"),  # before 08:00
    (datetime(2026, 4, 3, 10, 0, tzinfo=GENEVA), "Tuesday 07 April 2026, 08:00"),  # Good Friday, then Easter Monday
    (datetime(2026, 9, 10, 12, 0, tzinfo=GENEVA), "Friday 11 September 2026, 08:00"),  # Jeûne genevois
])
def test_a_handover_outside_shipping_hours_is_refused_naming_the_next_slot(approved_order, stripe_gateway, handed,
                                                                           next_slot):
    reference = approved_order()
    line = lines_of(reference)[0].reference

    code, params = refused(lambda: ship(reference, {line: 1}, stripe_gateway, handed_over_at=handed,
                                        at=datetime(2026, 12, 1, tzinfo=timezone.utc)))

    assert code == ErrorCode.HANDOVER_OUTSIDE_HOURS and params["next_slot"] == next_slot
    rules = policy()  # the message takes the hours from the rules, never from its own text
    assert params["hours"] == f"{rules.shipping_start:%H:%M} to {rules.shipping_end:%H:%M}"
    assert order_row(reference).status == OrderStatus.APPROVED.value and shipments_of(reference) == []


@pytest.mark.clause("GTC-5.2")
def test_a_handover_in_the_future_or_without_a_zone_is_refused(approved_order, stripe_gateway):
    reference = approved_order()
    line = lines_of(reference)[0].reference
    now = datetime.now(timezone.utc)

    assert refused(lambda: ship(reference, {line: 1}, stripe_gateway, handed_over_at=now + timedelta(hours=1)))[0] \
        == ErrorCode.HANDOVER_IN_FUTURE
    assert refused(lambda: ship(reference, {line: 1}, stripe_gateway, handed_over_at=now.replace(tzinfo=None)))[0] \
        == ErrorCode.HANDOVER_TIME_INVALID
    assert shipments_of(reference) == []


@pytest.mark.clause("PAY-5")
def test_a_declined_renewal_still_ships_and_lands_in_the_failed_renewal_queue(approved_order, make_product,
                                                                              stripe_gateway, localstripe, card_token):
    a, b = make_product(), make_product()
    reference = approved_order({a: 1, b: 1})
    order = order_row(reference)
    [hold] = payments_of(reference)
    localstripe.decline_card(hold.card_id, "insufficient_funds")  # good at checkout, not any more
    queued_before = failed_renewals()

    ship(reference, {a: 1}, stripe_gateway)

    [shipment] = shipments_of(reference)
    assert shipment.captured_minor > 0
    assert order_row(reference).status == OrderStatus.PARTIALLY_SHIPPED.value
    old, new = payments_of(reference)
    assert old.status == PaymentStatus.PARTIALLY_CAPTURED.value and old.captured_minor == shipment.captured_minor
    assert new.status == PaymentStatus.DECLINED.value and new.amount_minor == order.total_minor - shipment.captured_minor
    [failed] = [e for e in events_of(reference) if e.type == "payment_reauthorization_failed"]
    assert failed.data["amount_minor"] == new.amount_minor
    kinds = [m.kind for m in outbox_of(reference)]
    assert "payment_reauthorization_needed" in kinds and "order_shipped" in kinds
    queue = failed_renewals()
    assert queue.count == queued_before.count + 1
    assert reference in queue.references or len(queue.references) == len(queued_before.references)  # oldest listed

    # what remains has no live hold: it does not leave until the client authorises again
    code, _ = refused(lambda: ship(reference, {b: 1}, stripe_gateway, tracking="JD014600006281230705"))
    assert code == ErrorCode.NO_HOLD_FOR_SHIPMENT
    assert len(shipments_of(reference)) == 1

    # the client follows the emailed link with another card; the rest then ships, charged exactly
    [email] = [m for m in outbox_of(reference) if m.kind == "payment_reauthorization_needed"]
    token = re.search(r"reauthorize=([A-Za-z0-9_\-.]+)", email.text_body).group(1)
    assert reauthorization.authorize(UnitOfWork(), reference, token, card_token("5555555555554444"),
                                     gw=stripe_gateway).status == "held"
    assert failed_renewals().count == queued_before.count
    ship(reference, {b: 1}, stripe_gateway, tracking="JD014600006281230706")
    assert sum(s.captured_minor for s in shipments_of(reference)) == order.total_minor
    assert order_row(reference).status == OrderStatus.SHIPPED.value


@pytest.mark.clause("PAY-5")
def test_no_shipment_without_a_live_hold(approved_order, stripe_gateway):
    reference = approved_order()
    line = lines_of(reference)[0].reference
    [hold] = payments_of(reference)
    lapsed = hold.capture_before.replace(tzinfo=timezone.utc) + timedelta(minutes=1)

    code, _ = refused(lambda: ship(reference, {line: 1}, stripe_gateway, handed_over_at=last_slot(lapsed), at=lapsed))

    assert code == ErrorCode.NO_HOLD_FOR_SHIPMENT
    assert payments_of(reference)[0].status == PaymentStatus.HELD.value and shipments_of(reference) == []


def test_wrong_lines_quantities_carriers_and_orders_are_refused(approved_order, make_product, stripe_gateway):
    a = make_product()
    reference = approved_order({a: 2})
    unapproved = approved_order(approve=False)

    def code(ref, lines, **kw):
        return refused(lambda: ship(ref, lines, stripe_gateway, **kw))[0]

    assert code(reference, {a: 3}) == ErrorCode.SHIP_QUANTITY_INVALID
    assert code(reference, {a: 0}) == ErrorCode.SHIP_QUANTITY_INVALID
    assert code(reference, {"VX-NOPE": 1}) == ErrorCode.SHIP_LINE_UNKNOWN
    assert code(reference, {}) == ErrorCode.SHIP_NOTHING
    assert code(reference, {a: 1}, carrier="Pigeon") == ErrorCode.CARRIER_UNKNOWN
    for bad in ("", "abc123", "A" * 41, "AB 12", "AB/12"):
        assert code(reference, {a: 1}, tracking=bad) == ErrorCode.TRACKING_INVALID
    assert code(unapproved, {lines_of(unapproved)[0].reference: 1}) == ErrorCode.NOT_SHIPPABLE
    assert code("VX-NO-SUCH-ORDER", {a: 1}) == ErrorCode.ORDER_NOT_FOUND
    assert shipments_of(reference) == [] and payments_of(reference)[0].status == PaymentStatus.HELD.value

    ship(reference, {a: 2}, stripe_gateway)
    assert code(reference, {a: 1}) == ErrorCode.NOT_SHIPPABLE  # shipped: nothing left


@pytest.mark.clause("PAY-5")
def test_two_staff_shipping_the_same_line_at_once_ship_and_capture_once(approved_order, make_product, stripe_gateway,
                                                                        stripe_test_client):
    a, b = make_product(), make_product()
    reference = approved_order({a: 1, b: 1})
    outcomes: list[str] = []
    start = threading.Barrier(2)
    members = [staff_member(), staff_member()]

    def go(member):
        start.wait()
        try:
            ship(reference, {a: 1}, stripe_gateway, staff=member)
            outcomes.append("done")
        except order_admin.ActionRefused as exc:
            outcomes.append(exc.refusal.code.value)

    threads = [threading.Thread(target=go, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("done") == 1, outcomes
    [shipment] = shipments_of(reference)
    assert [line.quantity_shipped for line in lines_of(reference)] == [1, 0]
    old, new = payments_of(reference)
    assert stripe_test_client.v1.payment_intents.retrieve(old.intent_id).amount_received == shipment.captured_minor
    assert new.status == PaymentStatus.HELD.value  # one new hold for the rest, not two
    assert [e.type for e in events_of(reference)].count("handed_to_carrier") == 1


@pytest.mark.clause("PAY-5")
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_split_into_shipments_captures_the_total_exactly(approved_order, make_product, stripe_gateway, data):
    country = data.draw(st.sampled_from(["CH", "DE", "JP"]), label="country")
    quantities = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="quantities")
    cart = {make_product(stock=5, prices=ODD if i % 2 else None): n for i, n in enumerate(quantities)}
    reference = approved_order(cart, country)
    order = order_row(reference)
    units = [ref for ref, n in cart.items() for _ in range(n)]
    order_of_units = data.draw(st.permutations(units), label="unit order")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(units) - 1)), max_size=len(units) - 1), label="cuts"))
    parcels, begin = [], 0
    for cut in [*cuts, len(units)]:
        if cut > begin:
            parcel: dict[str, int] = {}
            for ref in order_of_units[begin:cut]:
                parcel[ref] = parcel.get(ref, 0) + 1
            parcels.append(parcel)
            begin = cut

    for number, parcel in enumerate(parcels, 1):
        ship(reference, parcel, stripe_gateway, tracking=f"SP-{number}")
        for line in lines_of(reference):
            assert line.quantity_shipped <= line.quantity
        for hold in payments_of(reference):
            assert hold.captured_minor <= hold.amount_minor

    assert sum(s.captured_minor for s in shipments_of(reference)) == order.total_minor
    assert order_row(reference).status == OrderStatus.SHIPPED.value
    with Session(get_engine()) as s:
        shipped = s.exec(select(ShipmentLine).join(Shipment).where(Shipment.order_id == order.id)).all()
    assert sum(line.quantity for line in shipped) == len(units)


@pytest.fixture(scope="module")
def multicapture_gateway(localstripe):
    """The sandbox gateway of an account with multicapture (STOREFRONT_STRIPE_MULTICAPTURE=true)."""
    from storefront.adapters import sandbox
    from storefront.adapters.stripe_gateway import StripeGateway
    from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET

    return StripeGateway(sandbox.SECRET_KEY, SANDBOX_WEBHOOK_SECRET, api_base=localstripe.url, sandbox=True,
                         multicapture=True)


@pytest.mark.clause("PAY-5")
def test_with_multicapture_one_hold_is_captured_per_shipment_and_no_new_hold_is_placed(
        make_product, place, card_token, multicapture_gateway, stripe_test_client):
    a, b = make_product(prices=ODD), make_product(prices=ODD)
    placed = place({a: 1, b: 2}, buyer("CH"))
    assert payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"), gw=multicapture_gateway,
                             browser=None).status == "held"
    order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE))
    order = order_row(placed.reference)
    gw = Recording(multicapture_gateway)

    ship(placed.reference, {a: 1, b: 1}, gw, tracking="JD014600006281230711")
    [hold] = payments_of(placed.reference)
    first = shipments_of(placed.reference)[0].captured_minor
    assert (hold.status, hold.captured_minor) == (PaymentStatus.HELD.value, first)  # still held for the rest
    intent = stripe_test_client.v1.payment_intents.retrieve(hold.intent_id)
    assert (intent.status, intent.amount_received, intent.amount_capturable) == (
        "requires_capture", first, order.total_minor - first)

    ship(placed.reference, {b: 1}, gw, tracking="JD014600006281230712")

    assert [call[0] for call in gw.calls] == ["capture", "capture"]  # no off-session hold at all
    [hold] = payments_of(placed.reference)
    captures = [s.captured_minor for s in shipments_of(placed.reference)]
    assert sum(captures) == order.total_minor == hold.captured_minor
    assert hold.status == PaymentStatus.CAPTURED.value
    intent = stripe_test_client.v1.payment_intents.retrieve(hold.intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", order.total_minor)
    assert order_row(placed.reference).status == OrderStatus.SHIPPED.value


@pytest.mark.clause("PAY-5")
def test_multicapture_is_off_by_default_and_a_hold_without_it_gets_a_new_hold_for_the_rest(approved_order, make_product,
                                                                                           stripe_gateway):
    from storefront.settings import Settings

    assert not Settings().stripe_multicapture and not Settings().stripe_extended_authorization
    a, b = make_product(), make_product()
    reference = approved_order({a: 1, b: 1})
    gw = Recording(stripe_gateway)

    ship(reference, {a: 1}, gw)

    assert [call[0] for call in gw.calls] == ["hold", "capture"]
