"""Staff shipping an order, in one parcel or several (GTC-5.2, GTC-5.5, PAY-5).

What a shipment charges
    The shipped lines' net unit prices x quantities, plus the order's shipping fee on the FIRST
    shipment, plus VAT when the order has VAT (CH, DE): the order's own `vat_rate` (fixed at checkout by
    `domain/tax.py`) applied to that taxable base and rounded half up to the currency's minor unit by
    `Money.from_decimal`, exactly as checkout computed the order's VAT. VAT rounded per shipment may
    differ by a minor unit from the order's VAT, so the shipment that completes the order takes the
    remainder (`total_minor` less what earlier shipments captured): the captures of a fully shipped
    order add up to `total_minor` exactly. (An order with cancelled units has no such remainder; each
    of its shipments is computed.) Integer minor units throughout; JPY has none below the yen.

Money (PAY-5, Stripe semantics): a hold is captured once and the rest of it is released. So when lines
remain after a shipment, a new hold for the remainder is placed off-session on the saved card BEFORE
the old hold is captured; if that new hold is refused (declined, or the issuer wants the client), the
parcel still goes and is charged, the order lands in the "failed hold renewals" queue and the client is
asked by email to authorise the rest. No parcel leaves without a live hold covering its amount.
With multicapture (STOREFRONT_STRIPE_MULTICAPTURE, off by default, and only for a hold whose charge says
it is available) the shipment is captured with final_capture=false from the same hold, which stays held
for the rest: no new hold, and the last shipment's capture releases what is left.

Order of effects, and why a double click charges once
    1. Read and validate (status, lines, quantities, carrier, tracking, handover time, covering hold);
       nothing is written, a refusal changes nothing.
    2. If lines remain: the new off-session hold, under the key `<reference>:ship:<n>:hold`, where n is
       the shipment number the read saw. It is recorded at once (its own transaction) so a hold that
       exists at the provider always exists in the database.
    3. Capture the covering hold under `<intent_id>:capture`. A PaymentIntent is captured once, so the
       key is per shipment in effect: a repeated click, or a retry after a time-out, gets the first
       capture back. A click that differs (another amount under the same keys) is refused by the provider.
       A click repeated after the first was recorded is refused in 1: one parcel, one tracking number.
    4. One transaction records everything: the shipment (unique per order and number), its lines (each a
       conditional update on the shipped quantity read in 1), the order status (a conditional update on
       the status read), the hold's status (conditional on still being held), events, audit, emails.
       If 4 loses a race (ORDER_CHANGED), the capture it saw is the winner's own capture (same intent,
       same key, same amount, else 3 would have been refused), which the winner recorded; nothing is
       left unrecorded. If 3 fails, nothing is recorded but the new hold of 2, which stays live and is
       reused (same key) by the retry, or released with the order.
    The capture precedes the record on purpose: a shipment recorded without its charge would tell the
    client and the books a parcel was paid for when it was not.

The shipping email is queued in the same transaction with `next_attempt_at` = the moment of recording,
so the outbox sends it on the day of shipment (GTC-5.2), once per shipment (key `order-shipped:<order>:<n>`):
carrier, tracking number and link, what this parcel holds and what remains, the link to the order page,
and the shipment's tax invoice (issued in the same transaction, services/documents.py) attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_notice
from storefront.adapters.stripe_gateway import CardDeclined, PaymentGatewayError, StripeGateway
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, Shipment, ShipmentLine
from storefront.domain import carriers as carrier_rules
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.policy import policy
from storefront.services import audit, links, order_events, outbox
from storefront.services.calendar import merchant_calendar
from storefront.services.documents import issue_invoice, order_document
from storefront.services.holds import with_vat
from storefront.services.order_admin import ActionRefused, live_holds
from storefront.services.payment import gateway
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

SHIPPABLE = frozenset({OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED})

def _reauthorize_notice(reference: str, at: datetime) -> tuple[str, ...]:
    return (
        "Part of your order has just been handed to the carrier and charged; the rest is still to ship.",
        "Your bank did not accept our new authorisation for the remaining pieces, so they are not yet secured "
        "on your card. Nothing more has been charged.",
        f"Please authorise the remaining amount here: {links.reauthorize_url(reference, at)}",
        "This link works until your order ships or is cancelled. The remaining pieces ship once it is authorised; "
        "if you prefer, reply to this email and our client service will help you.",
    )


@dataclass(frozen=True)
class _Plan:
    order_id: int
    reference: str
    status: str
    currency: str
    number: int  # this shipment's number for the order, from 1
    shipped_read: dict[int, int]  # order line id -> quantity_shipped as read
    lines: dict[int, int]  # order line id -> quantity shipping now
    by_reference: dict[str, int]  # product reference -> quantity shipping now
    amount_minor: int  # captured for this shipment
    remainder_minor: int  # to hold anew for what remains (0 when nothing remains)
    capture_from: int  # PaymentAuthorization id of the covering hold
    capture_intent: str
    hold_amount_minor: int
    hold_captured_minor: int  # captured from the covering hold by earlier shipments (multicapture only)
    customer_id: str | None
    card_id: str | None
    brand: str
    last4: str
    completes: bool


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def shipment_amounts(order: Order, lines: list[OrderLine], shipping: dict[int, int], *, first: bool,
                     captured_before_minor: int) -> tuple[int, int]:
    """(captured now, to hold for the rest) in minor units; see the module docstring for the rounding."""
    goods = sum(line.unit_price_minor * shipping.get(line.id, 0) for line in lines)
    amount = with_vat(order, goods + (order.shipping_minor if first else 0))
    left = {line.id: line.quantity - line.quantity_shipped - line.quantity_cancelled - shipping.get(line.id, 0)
            for line in lines}
    nothing_cancelled = all(line.quantity_cancelled == 0 for line in lines)
    if not any(left.values()):
        if nothing_cancelled:
            amount = order.total_minor - captured_before_minor
        return amount, 0
    if nothing_cancelled:
        return amount, order.total_minor - captured_before_minor - amount
    rest = sum(line.unit_price_minor * left[line.id] for line in lines)
    return amount, with_vat(order, rest)


def _handover_check(handed_over_at: object, at: datetime) -> datetime:
    if not isinstance(handed_over_at, datetime) or handed_over_at.tzinfo is None:
        raise ActionRefused(ErrorCode.HANDOVER_TIME_INVALID)
    if handed_over_at > at + timedelta(minutes=carrier_rules.future_tolerance_minutes()):
        raise ActionRefused(ErrorCode.HANDOVER_IN_FUTURE)
    calendar = merchant_calendar()
    if not calendar.is_shipping_time(handed_over_at):
        slot = calendar.next_shipping_slot(handed_over_at)
        hours = policy()
        raise ActionRefused(ErrorCode.HANDOVER_OUTSIDE_HOURS, next_slot=slot.strftime("%A %d %B %Y, %H:%M"),
                            hours=f"{hours.shipping_start:%H:%M} to {hours.shipping_end:%H:%M}",
                            zone=calendar.timezone)
    return handed_over_at


def _plan(s: Session, reference: str, lines: dict[str, int], carrier: str, tracking_number: str,
          at: datetime) -> _Plan:
    order = s.exec(select(Order).where(Order.reference == reference)).first() if isinstance(reference, str) else None
    if order is None:
        raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
    if order.status not in SHIPPABLE:
        raise ActionRefused(ErrorCode.NOT_SHIPPABLE, status=order.status.replace("_", " "))
    if not isinstance(lines, dict) or not lines:
        raise ActionRefused(ErrorCode.SHIP_NOTHING)
    order_lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    by_ref = {line.reference: line for line in order_lines}
    shipping: dict[int, int] = {}
    for ref, quantity in lines.items():
        line = by_ref.get(ref)
        if line is None:
            raise ActionRefused(ErrorCode.SHIP_LINE_UNKNOWN, line=str(ref)[:40])
        remaining = line.quantity - line.quantity_shipped - line.quantity_cancelled
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= remaining:
            raise ActionRefused(ErrorCode.SHIP_QUANTITY_INVALID, line=ref, remaining=remaining)
        shipping[line.id] = quantity
    repeat = s.exec(select(Shipment.id).where(Shipment.order_id == order.id, Shipment.carrier == carrier,
                                              Shipment.tracking_number == tracking_number)).first()
    if repeat is not None:  # one parcel, one tracking number: a click repeated after the first was recorded
        raise ActionRefused(ErrorCode.SHIPMENT_ALREADY_RECORDED, tracking=tracking_number)
    count, captured = s.exec(select(func.count(Shipment.id), func.coalesce(func.sum(Shipment.captured_minor), 0))
                             .where(Shipment.order_id == order.id)).one()
    amount, remainder = shipment_amounts(order, order_lines, shipping, first=count == 0,
                                         captured_before_minor=int(captured))
    covering = sorted((h for h in live_holds(s, order.id, at) if h.intent_id and h.amount_minor - h.captured_minor
                       >= amount), key=lambda h: h.id)
    if amount <= 0 or not covering:
        raise ActionRefused(ErrorCode.NO_HOLD_FOR_SHIPMENT, amount=Money(max(amount, 0), order.currency).format("en"))
    hold = covering[0]
    return _Plan(order.id, order.reference, order.status, order.currency, count + 1,
                 {line.id: line.quantity_shipped for line in order_lines}, shipping,
                 {ref: n for ref, n in lines.items()}, amount, remainder, hold.id, hold.intent_id,
                 hold.amount_minor, hold.captured_minor, order.payment_customer_id, hold.card_id, hold.brand,
                 hold.last4, remainder == 0
                 and all(line.quantity - line.quantity_shipped - line.quantity_cancelled == shipping.get(line.id, 0)
                         for line in order_lines))


@dataclass(frozen=True)
class _Renewal:
    held: bool
    intent_id: str | None
    code: str


def _renew(uow: UnitOfWork, plan: _Plan, at: datetime, gw: StripeGateway) -> _Renewal:
    """Step 2: the hold for what remains, on the saved card without the client, recorded at once."""
    key = f"{plan.reference}:ship:{plan.number}:hold"
    if not plan.customer_id or not plan.card_id:
        auth, code = None, "no_saved_card"
    else:
        try:
            auth = gw.authorize_off_session(customer_id=plan.customer_id, payment_method_id=plan.card_id,
                                            amount_minor=plan.remainder_minor, currency=plan.currency,
                                            idempotency_key=key,
                                            metadata={"order": plan.reference, "purpose": "remainder after shipment",
                                                      "shipment": str(plan.number)})
            code = auth.decline_code or auth.status
        except CardDeclined as exc:
            auth, code = None, exc.decline_code or "card_declined"
        except PaymentGatewayError as exc:
            raise ActionRefused(ErrorCode.PAYMENT_SERVICE_DOWN) from exc
    held = auth is not None and auth.held
    status = (PaymentStatus.HELD if held else PaymentStatus.REQUIRES_ACTION
              if auth is not None and auth.status == "requires_action" else PaymentStatus.DECLINED)
    with uow:
        s = uow.session
        if s.exec(select(PaymentAuthorization.id).where(PaymentAuthorization.idempotency_key == key)).first() is None:
            s.add(PaymentAuthorization(order_id=plan.order_id, idempotency_key=key,
                                       intent_id=auth.intent_id if auth else None, status=status.value,
                                       amount_minor=plan.remainder_minor, currency=plan.currency,
                                       card_id=plan.card_id, brand=plan.brand, last4=plan.last4,
                                       decline_code=None if held else code,
                                       capture_before=auth.capture_before if auth else None,
                                       created_at=at, updated_at=at))
            if held:
                s.add(order_events.payment_reauthorized(plan.order_id, at, intent_id=auth.intent_id,
                                                        amount_minor=plan.remainder_minor, currency=plan.currency,
                                                        reason="remainder_after_shipment"))
            try:
                uow.commit()
            except IntegrityError:  # a simultaneous click recorded this very hold (same key, same intent)
                pass
    return _Renewal(held, auth.intent_id if auth else None, code)


def ship(uow: UnitOfWork, reference: str, *, lines: dict[str, int], carrier: str, tracking_number: str,
         handed_over_at: datetime, staff: StaffIdentity, ip: str = "", at: datetime | None = None,
         gw: StripeGateway | None = None) -> int:
    """Record a parcel handed to the carrier and charge exactly what it holds; returns the shipment id.

    `lines` maps an order line's product reference to the quantity in this parcel. `handed_over_at` is
    the time staff enter (aware), not the time of the click. See the module docstring for the amounts,
    the order of effects and the idempotency keys.
    """
    at = _now(at)
    chosen = carrier_rules.carrier_named(carrier)
    if chosen is None:
        raise ActionRefused(ErrorCode.CARRIER_UNKNOWN)
    if not carrier_rules.tracking_ok(tracking_number):
        raise ActionRefused(ErrorCode.TRACKING_INVALID)
    handed_over_at = _handover_check(handed_over_at, at)
    with uow.reading() as s:
        plan = _plan(s, reference, lines, chosen.name, tracking_number, at)
    gw = gw or gateway()
    keep = _keeps_covering(plan, gw)
    renewal = _renew(uow, plan, at, gw) if plan.remainder_minor > 0 and not keep else None
    key = f"{plan.capture_intent}:capture" if not keep and plan.hold_captured_minor == 0 \
        else f"{plan.capture_intent}:capture:{plan.number}"
    try:
        capture = gw.capture(plan.capture_intent, amount_minor=plan.amount_minor, idempotency_key=key,
                             final=not keep)
    except PaymentGatewayError as exc:
        raise ActionRefused(ErrorCode.CAPTURE_FAILED, detail=exc.code or exc.message) from exc
    try:
        return _record(uow, plan, chosen, tracking_number, handed_over_at, staff, ip, at, capture.amount_minor,
                       renewal, keep_held=keep)
    except IntegrityError as exc:
        raise ActionRefused(ErrorCode.ORDER_CHANGED) from exc


def _keeps_covering(plan: _Plan, gw: StripeGateway) -> bool:
    """With multicapture (a setting, and the provider's word for this hold), a shipment is captured from the
    hold without closing it, when what stays held covers the rest: no new hold is needed."""
    if plan.remainder_minor <= 0 or not gw.multicapture:
        return False
    if plan.hold_amount_minor - plan.hold_captured_minor - plan.amount_minor < plan.remainder_minor:
        return False
    try:
        return gw.retrieve(plan.capture_intent).multicapture
    except PaymentGatewayError as exc:
        raise ActionRefused(ErrorCode.PAYMENT_SERVICE_DOWN) from exc


def _record(uow: UnitOfWork, plan: _Plan, chosen: carrier_rules.Carrier, tracking_number: str,
            handed_over_at: datetime, staff: StaffIdentity, ip: str, at: datetime, hold_captured_minor: int,
            renewal: _Renewal | None, *, keep_held: bool = False) -> int:
    """Step 4: everything in one transaction, each write conditional on what step 1 read.

    `hold_captured_minor` is all the provider captured from the hold so far; this shipment charged that
    less what earlier shipments captured from it (non-zero only with multicapture)."""
    captured_minor = hold_captured_minor - plan.hold_captured_minor
    actor = f"staff:{staff.staff_id}"
    to = OrderStatus.SHIPPED if plan.completes else OrderStatus.PARTIALLY_SHIPPED
    with uow:
        s = uow.session
        moved = s.exec(update(Order).where(Order.id == plan.order_id, Order.status == plan.status)
                       .values(status=to.value, updated_at=at)).rowcount
        if moved != 1:
            raise ActionRefused(ErrorCode.ORDER_CHANGED)
        for line_id, quantity in plan.lines.items():
            moved = s.exec(update(OrderLine).where(OrderLine.id == line_id,
                                                   OrderLine.quantity_shipped == plan.shipped_read[line_id])
                           .values(quantity_shipped=OrderLine.quantity_shipped + quantity)).rowcount
            if moved != 1:
                raise ActionRefused(ErrorCode.ORDER_CHANGED)
        hold_to = PaymentStatus.HELD if keep_held else PaymentStatus.CAPTURED \
            if hold_captured_minor == plan.hold_amount_minor else PaymentStatus.PARTIALLY_CAPTURED
        moved = s.exec(update(PaymentAuthorization).where(
            PaymentAuthorization.id == plan.capture_from, PaymentAuthorization.status == PaymentStatus.HELD,
            PaymentAuthorization.captured_minor == plan.hold_captured_minor)
            .values(status=hold_to.value, captured_minor=hold_captured_minor, updated_at=at)).rowcount
        if moved != 1:
            raise ActionRefused(ErrorCode.ORDER_CHANGED)
        shipment = Shipment(order_id=plan.order_id, number=plan.number, carrier=chosen.name,
                            tracking_number=tracking_number, handed_over_at=handed_over_at, created_at=at,
                            staff_id=staff.staff_id, captured_minor=captured_minor, currency=plan.currency)
        s.add(shipment)
        s.flush()
        for line_id, quantity in plan.lines.items():
            s.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line_id, quantity=quantity))
        s.add(order_events.handed_to_carrier(plan.order_id, at, actor, shipment=plan.number,
                                             handed_over_at=handed_over_at, carrier=chosen.name,
                                             tracking_number=tracking_number, lines=plan.by_reference))
        s.add(order_events.payment_captured(plan.order_id, at, plan.capture_intent, captured_minor, plan.currency))
        s.add(order_events.shipped(plan.order_id, at, actor, shipment=plan.number, partially=not plan.completes))
        order = s.get(Order, plan.order_id)
        if renewal is not None and not renewal.held:
            s.add(order_events.payment_reauthorization_failed(
                plan.order_id, at, amount_minor=plan.remainder_minor, currency=plan.currency, code=renewal.code,
                intent_id=renewal.intent_id, reason="remainder_after_shipment"))
            _notify(s, order, f"reauthorize:{plan.order_id}:{plan.number}", "payment_reauthorization_needed",
                    f"Your order {plan.reference}: please authorise the remaining amount",
                    _reauthorize_notice(plan.reference, at), at)
        invoice = issue_invoice(s, order, shipment, at)  # this shipment's tax invoice (GTC-3.8), in this transaction
        _notify(s, order, f"order-shipped:{plan.order_id}:{plan.number}", "order_shipped",
                f"Your order {plan.reference} has shipped",
                _shipped_notice(chosen, tracking_number, handed_over_at, captured_minor, plan, order,
                                _contents(s, plan), invoice.document_number), at, document_id=invoice.id)
        audit.record(s, staff=staff, action="orders.ship", outcome="done", order_id=plan.order_id,
                     subject=f"order:{plan.reference}", before={"status": plan.status},
                     after={"status": to.value, "shipment": plan.number, "lines": plan.by_reference,
                            "captured_minor": captured_minor, "carrier": chosen.name},
                     ip=ip, at=at)
        uow.commit()
        return shipment.id


def _contents(s: Session, plan: _Plan) -> tuple[str, str]:
    """(what this parcel holds, what is still to ship), as the client reads them, after the lines were updated."""
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == plan.order_id).order_by(OrderLine.id)).all()
    shipped = ", ".join(f"{plan.lines[l.id]} x {l.name} ({l.reference})" for l in lines if l.id in plan.lines)
    left = ", ".join(f"{n} x {l.name} ({l.reference})" for l in lines
                     if (n := l.quantity - l.quantity_shipped - l.quantity_cancelled) > 0)
    return shipped, left


def _shipped_notice(chosen: carrier_rules.Carrier, tracking_number: str, handed_over_at: datetime,
                    captured_minor: int, plan: _Plan, order: Order, contents: tuple[str, str] = ("", ""),
                    invoice_number: str = "") -> tuple[str, ...]:
    local = merchant_calendar().local(handed_over_at)
    charged = Money(captured_minor, plan.currency).format(order.locale)
    shipped, left = contents
    return (
        f"Your watches were handed to {chosen.name} on {local.strftime('%d %B %Y at %H:%M')} (Geneva time).",
        f"Tracking number: {tracking_number}",
        f"Follow your parcel: {chosen.link(tracking_number)}",
        *((f"In this parcel: {shipped}.",) if shipped else ()),
        (f"Still to ship: {left}." if left else "This parcel completes your order."),
        f"Your card has been charged {charged} for this shipment." + (
            "" if plan.completes else " The remaining pieces will follow; they are charged only when they ship."),
        *((f"The invoice for this shipment, {invoice_number}, is attached (PDF); it is also on your order page.",)
          if invoice_number else ()),
    )


def _notify(s: Session, order: Order, key: str, kind: str, subject: str, paragraphs: tuple[str, ...],
            at: datetime, document_id: int | None = None) -> None:
    email = render_order_notice(order_document(s, order), subject, paragraphs)
    if outbox.enqueue(s, key, kind, order.email, email, order_id=order.id, at=at, document_id=document_id):
        s.add(order_events.email_queued(order.id, at, kind))
