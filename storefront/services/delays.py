"""Delivery delays (GTC-5.1, GTC-5.4, issue 11 § 5): the notice, the offer, the client's answer.

The ship-by date (`shop_order.ship_by`) is fixed at placement, 30 business days from the written order
confirmation (the confirmation email sent then, GTC-5.1); approval does not move it. Only a new delivery date
the client agreed moves it (here, or for an unavailable piece), and a delay then counts from that date.

The daily job `delays_due` (claims are conditional, so running it twice a day acts once):

1. Notice: an approved or partly shipped order with units still to ship, on or after the 20th business day past
   its ship-by date (`domain/delays.py`), gets an `OrderDelay` row keyed (order, ship-by date) and one email;
   the unique key and the outbox's dedup key make a second run a no-op. It is listed in the admin's delay queue.
2. Offer: once the delay exceeds 51 days, the client is emailed a signed `delay_choice` link to the status page:
   accept the new delivery date (the one staff proposed, else the next expected date, `rules/delays.toml`) or
   decline it. Declining offers the cancellation of what has not shipped, which the client then confirms.
3. No answer: a reminder every `remind_every_days` with a fresh link, and after `task_after_days` a task for
   customer service (the "call the client" queue). Nothing is ever cancelled without the client's confirmation.

The client's answers (`choose`): `new_date` (the order's ship-by date becomes the offered date, the delay is
over and any later one counts from it), `decline` (recorded; the cancellation is offered), `cancel` (only after
declining). Each records its time and the link used (a fingerprint of the token, never the token).

Cancellation: the unshipped units of every line are cancelled (services/unshipped.py, as for an unavailable
piece: the order ends when nothing remains, its holds are released, or a smaller hold replaces the old one),
and what was charged for those units is refunded through services/refunds.py (reason
`client_cancelled_after_delay`, no second approver: the rules trigger it), which issues what a refund issues.
A unit is charged when it ships (PAY-5), so usually nothing was charged for the unshipped units and nothing is
refunded; the amount is what the captured holds charged beyond the shipped units (with VAT) and the shipping
fee. No compensation is offered (GTC-5.4 grants none).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from babel.dates import format_date
from sqlalchemy import String, and_, case, func, literal, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, OrderDelay, OrderLine, PaymentAuthorization
from storefront.domain import delays as rules
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus
from storefront.domain.refunds import RefundReason
from storefront.domain.staff import allowed
from storefront.services import audit, links, order_events, refunds, unshipped
from storefront.services.calendar import merchant_calendar
from storefront.services.holds import with_vat
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

PERMISSION = "orders.follow_up_delay"
NEW_DATE, DECLINE, CANCEL = "new_date", "decline", "cancel"
CHOICES = frozenset({NEW_DATE, DECLINE, CANCEL})
NOTICED, OFFERED, REFUSED = "noticed", "offered", "refused"
AGREED, CANCELLED, CLOSED = "new_date_agreed", "cancelled", "closed"
OPEN = (NOTICED, OFFERED, REFUSED)  # followed by customer service (the partial index ix_order_delay_open)
ANSWERABLE = {NEW_DATE: (OFFERED, REFUSED), DECLINE: (OFFERED,), CANCEL: (REFUSED,)}


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _today(at: datetime) -> date:
    return merchant_calendar().local(at).date()


def _day(order: Order, d: date) -> str:
    return format_date(d, "long", locale=order.locale)


def link_value(reference: str, delay_id: int) -> str:
    """What a `delay_choice` token signs: one delay of one order."""
    return f"{reference}:delay:{delay_id}"


def choice_url(reference: str, delay_id: int, at: datetime | None = None) -> str:
    token = links.issue(link_value(reference, delay_id), links.Purpose.DELAY_CHOICE, at)
    return f"{links.order_url(reference, at)}&delay={token}"


def fingerprint(token: str) -> str:
    """The link used, as recorded: enough to tell two links apart, useless to open the order."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _unshipped(s: Session, order_id: int) -> list[OrderLine]:
    return [line for line in s.exec(select(OrderLine).where(OrderLine.order_id == order_id)
                                    .order_by(OrderLine.id)).all() if unshipped.remaining(line) > 0]


def _pieces(lines: list[OrderLine]) -> str:
    return ", ".join(f"{line.name} ({unshipped.remaining(line)})" for line in lines)


# -- the job -----------------------------------------------------------------------------------------------------

def _notice(uow: UnitOfWork, order_id: int, at: datetime) -> bool:
    with uow:
        s = uow.session
        order = s.get(Order, order_id)
        lines = _unshipped(s, order_id)
        if order.status not in unshipped.OPEN_TO_SHIP or not lines:
            return False
        if s.exec(select(OrderDelay.id).where(OrderDelay.order_id == order.id,
                                              OrderDelay.counted_from == order.ship_by)).first() is not None:
            return False
        delay = OrderDelay(order_id=order.id, counted_from=order.ship_by, status=NOTICED, noticed_at=at)
        s.add(delay)
        try:
            s.flush()
        except IntegrityError:  # another run noticed it meanwhile (the unit rolls back on leaving)
            return False
        s.add(order_events.delay_notice_sent(order.id, at, delay=delay.id, ship_by=order.ship_by.isoformat()))
        unshipped.notify(s, order, f"delay-notice:{order.id}:{order.ship_by.isoformat()}", "delay_notice",
                         f"Your order {order.reference} is delayed",
                         (f"We are sorry: we could not ship {_pieces(lines)} of your order {order.reference} by "
                          f"{_day(order, order.ship_by)}, the date we gave you.",
                          "We are doing what we can to ship it soon, and our client service will keep you informed. "
                          "Your card is charged only when a piece ships: nothing has been charged for it.",
                          f"Your order: {links.order_url(order.reference, at)}"), at)
        audit.record(s, staff=None, action="orders.delay_noticed", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", after={"delay": delay.id,
                                                               "counted_from": order.ship_by.isoformat()}, at=at)
        uow.commit()
    return True


def _offer_text(order: Order, delay: OrderDelay, lines: list[OrderLine], at: datetime) -> tuple[str, ...]:
    return (f"The shipment of {_pieces(lines)} of your order {order.reference} is now more than "
            f"{rules.policy().cancellation_offer_days} days late (the date we gave you was "
            f"{_day(order, delay.counted_from)}).",
            f"We can deliver on {_day(order, delay.offer_date)}. If that date does not suit you, you may instead "
            "cancel what has not shipped: its authorisation on your card is released and anything charged for it "
            "is refunded.",
            f"Please tell us your choice: {choice_url(order.reference, delay.id, at)}",
            "Nothing is cancelled without your confirmation.")


def _offer(uow: UnitOfWork, delay_id: int, at: datetime) -> bool:
    with uow:
        s = uow.session
        delay = s.get(OrderDelay, delay_id)
        offer_date = delay.proposed_date if delay.proposed_date and delay.proposed_date > _today(at) \
            else rules.next_expected(merchant_calendar(), at)
        moved = s.exec(update(OrderDelay).where(OrderDelay.id == delay_id, OrderDelay.status == NOTICED)
                       .values(status=OFFERED, offered_at=at, offer_date=offer_date)).rowcount
        if moved != 1:
            return False
        s.refresh(delay)
        order = s.get(Order, delay.order_id)
        s.add(order_events.cancellation_offered(order.id, at, order_events.SYSTEM, delay=delay.id,
                                  stage="new_date_or_cancel", offer_date=offer_date.isoformat()))
        unshipped.notify(s, order, f"delay-offer:{delay.id}", "delay_offer",
                         f"Your order {order.reference}: a new delivery date, or cancellation",
                         _offer_text(order, delay, _unshipped(s, order.id), at), at)
        uow.commit()
    return True


def _follow_up(uow: UnitOfWork, delay_id: int, at: datetime) -> bool:
    """A reminder when one is due, and the customer-service task once the answer is long overdue."""
    with uow:
        s = uow.session
        delay = s.get(OrderDelay, delay_id)
        last = _aware(delay.reminded_at or (delay.refused_at if delay.status == REFUSED else delay.offered_at))
        if delay.status not in (OFFERED, REFUSED) or at - last < rules.follow_up().remind_every:
            return False
        moved = s.exec(update(OrderDelay).where(OrderDelay.id == delay_id, OrderDelay.status == delay.status,
                                                OrderDelay.reminders == delay.reminders)
                       .values(reminded_at=at, reminders=delay.reminders + 1)).rowcount
        if moved != 1:
            return False
        s.refresh(delay)
        order = s.get(Order, delay.order_id)
        if delay.task_at is None and at - _aware(delay.offered_at) >= rules.follow_up().task_after:
            s.exec(update(OrderDelay).where(OrderDelay.id == delay_id).values(task_at=at))
            audit.record(s, staff=None, action="orders.delay_unanswered", outcome="done", order_id=order.id,
                         subject=f"order:{order.reference}", after={"delay": delay.id, "status": delay.status}, at=at)
        lines = _unshipped(s, order.id)
        text = (_offer_text(order, delay, lines, at) if delay.status == OFFERED else
                (f"You declined the new delivery date for {_pieces(lines)} of your order {order.reference}. You may "
                 f"cancel what has not shipped here: {choice_url(order.reference, delay.id, at)}",
                 "Nothing is cancelled without your confirmation; our client service will also call you."))
        unshipped.notify(s, order, f"delay-reminder:{delay.id}:{delay.reminders}", "delay_reminder",
                         f"Reminder - your order {order.reference} is delayed", text, at)
        uow.commit()
    return True


def _close(uow: UnitOfWork, delay_id: int, at: datetime) -> None:
    with uow:
        uow.session.exec(update(OrderDelay).where(OrderDelay.id == delay_id, OrderDelay.status.in_(OPEN))
                         .values(status=CLOSED, decided_at=at))
        uow.commit()


def delays_due(uow: UnitOfWork, *, at: datetime | None = None) -> list[str]:
    """The daily job (see the module docstring); returns the references of the orders acted on."""
    at = _now(at)
    today, calendar = _today(at), merchant_calendar()
    bound = today - timedelta(days=rules.policy().delay_notice_business_days)  # business days >= calendar days
    offer_bound = today - timedelta(days=rules.policy().cancellation_offer_days)
    # the statuses written into the SQL (not bound), so the partial index of the open orders serves the query in a
    # generic plan too: the job asks every round, a few ms over the open orders only
    to_ship = [literal(status.value, String, literal_execute=True)
               for status in (OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED)]
    with uow.reading() as s:
        late = s.exec(select(Order.id, Order.reference, Order.ship_by).where(
            Order.status.in_(to_ship), Order.ship_by <= bound,
            ~select(OrderDelay.id).where(OrderDelay.order_id == Order.id,
                                         OrderDelay.counted_from == Order.ship_by).exists())
            .order_by(Order.id)).all()
        followed = s.exec(select(OrderDelay.id, OrderDelay.status, OrderDelay.counted_from, Order.reference,
                                 Order.status, Order.ship_by)
                          .join(Order, Order.id == OrderDelay.order_id)
                          .where(OrderDelay.status.in_(OPEN),
                                 or_(Order.status.not_in([status.value for status in unshipped.OPEN_TO_SHIP]),
                                     Order.ship_by != OrderDelay.counted_from,
                                     and_(OrderDelay.status == NOTICED, OrderDelay.counted_from < offer_bound),
                                     and_(OrderDelay.status != NOTICED,
                                          func.coalesce(OrderDelay.reminded_at,
                                                        case((OrderDelay.status == REFUSED, OrderDelay.refused_at),
                                                             else_=OrderDelay.offered_at)) <= at - rules.follow_up().remind_every)))
                          .order_by(OrderDelay.id)).all()
    acted: list[str] = []
    for order_id, reference, ship_by in late:
        if rules.notice_due(calendar, ship_by, today) and _notice(uow, order_id, at):
            acted.append(reference)
    for delay_id, status, counted_from, reference, order_status, ship_by in followed:
        if order_status not in unshipped.OPEN_TO_SHIP or ship_by != counted_from:
            _close(uow, delay_id, at)  # shipped, ended, or a new date agreed elsewhere: nothing to follow
            continue
        done = (_offer(uow, delay_id, at) if status == NOTICED and rules.offer_due(counted_from, today)
                else _follow_up(uow, delay_id, at) if status != NOTICED else False)
        if done and reference not in acted:
            acted.append(reference)
    return acted


# -- the client's answer -------------------------------------------------------------------------------------------

def _order(s: Session, reference: object) -> Order | None:
    return s.exec(select(Order).where(Order.reference == reference)).first() \
        if isinstance(reference, str) and len(reference) <= 32 else None


def _delay_for(s: Session, reference: object, token: object, at: datetime) -> OrderDelay | None:
    """The open, offered delay of this order the token was issued for; None otherwise."""
    order = _order(s, reference)
    if order is None or not isinstance(token, str) or len(token) > 500:
        return None
    for delay in s.exec(select(OrderDelay).where(OrderDelay.order_id == order.id,
                                                 OrderDelay.status.in_((OFFERED, REFUSED)))).all():
        if links.valid(link_value(order.reference, delay.id), token, links.Purpose.DELAY_CHOICE, at):
            return delay
    return None


def _charged_for_unshipped(s: Session, order: Order) -> int:
    """What the captured holds charged beyond the shipped units and the shipping fee, not yet refunded."""
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    shipped = sum(line.unit_price_minor * line.quantity_shipped for line in lines)
    captured_holds = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id)).all()
    captured = sum(h.captured_minor for h in captured_holds)
    refundable = captured - sum(h.refunded_minor for h in captured_holds)
    owed = captured - with_vat(order, shipped + (order.shipping_minor if shipped else 0))
    return max(0, min(owed, refundable))


def choose(uow: UnitOfWork, reference: str, token: str, choice: str, *, ip: str = "", at: datetime | None = None,
           gw: StripeGateway | None = None) -> str:
    """The client's answer through the `delay_choice` link; returns the delay's new status.

    A token that does not name a delay of this order awaiting this answer is refused with DELAY_LINK_INVALID,
    and nothing changes.
    """
    at = _now(at)
    if choice not in CHOICES:
        raise ActionRefused(ErrorCode.DELAY_CHOICE_UNKNOWN)
    used = fingerprint(token) if isinstance(token, str) else ""
    refund_minor = 0
    releases: unshipped.Releases = []
    with uow:
        s = uow.session
        delay = _delay_for(s, reference, token, at)
        if delay is None or delay.status not in ANSWERABLE[choice]:
            raise ActionRefused(ErrorCode.DELAY_LINK_INVALID)
        order = s.get(Order, delay.order_id)
        claim = update(OrderDelay).where(OrderDelay.id == delay.id, OrderDelay.status == delay.status)
        if choice == DECLINE:
            to = REFUSED
            moved = s.exec(claim.values(status=to, refused_at=at, refused_link=used, reminded_at=None)).rowcount
        else:
            to = AGREED if choice == NEW_DATE else CANCELLED
            moved = s.exec(claim.values(status=to, decided_at=at, choice=choice, decided_link=used)).rowcount
        if moved != 1:  # a double click: the first answer stands
            raise ActionRefused(ErrorCode.DELAY_LINK_INVALID)
        lines = _unshipped(s, order.id)
        if choice == NEW_DATE:
            before = order.ship_by
            s.exec(update(Order).where(Order.id == order.id).values(ship_by=delay.offer_date, updated_at=at))
            s.add(order_events.delivery_date_changed(order.id, at, order_events.CLIENT, record=delay.id,
                                                     ship_by_before=before.isoformat(),
                                                     ship_by=delay.offer_date.isoformat()))
            unshipped.notify(s, order, f"delay-new-date:{delay.id}", "delivery_date_changed",
                             f"Your order {order.reference}: new delivery date agreed",
                             (f"Thank you: you have agreed the new delivery date of {_day(order, delay.offer_date)} "
                              f"for {_pieces(lines)}.",
                              "Your card is charged only when a piece ships. We will write again on the day of "
                              "shipment."), at)
        elif choice == DECLINE:
            s.add(order_events.cancellation_offered(order.id, at, order_events.CLIENT,
                                      delay=delay.id, stage="cancel", declined_date=delay.offer_date.isoformat()))
        else:
            cancelled, pieces = {line.reference: unshipped.remaining(line) for line in lines}, _pieces(lines)
            for line in lines:
                unshipped.cancel_units(s, line.id, cancelled[line.reference])
            refund_minor = _charged_for_unshipped(s, order)
            s.add(order_events.cancellation_offered(order.id, at, order_events.CLIENT,
                                      delay=delay.id, stage="confirmed", lines=cancelled,
                                      refund_minor=refund_minor))
            ended, releases = unshipped.end_if_nothing_remains(s, order, at, order_events.CLIENT,
                                                               "client_cancelled_after_delay")
            money = "; nothing had been charged for it." if not refund_minor else \
                f" and {Money(refund_minor, order.currency).format(order.locale)} charged for it is refunded."
            unshipped.notify(s, order, f"delay-cancelled:{delay.id}", "delay_cancelled",
                             f"Your order {order.reference}: cancellation confirmed",
                             (f"As you asked, we have cancelled {pieces}.",
                              "The authorisation on your card for it is released" + money,
                              "Your order is now closed." if ended is OrderStatus.CANCELLED
                              else "What has already shipped is not affected."), at)
        audit.record(s, staff=None, action="orders.delay_answered", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"delay": delay.id, "status": delay.status},
                     after={"delay": delay.id, "status": to, "link": used}, ip=ip, at=at, detail="client")
        order_id, reference = order.id, order.reference
        uow.commit()
    if choice == CANCEL:
        if refund_minor:
            refunds.refund(uow, reference, amount_minor=refund_minor,
                           reason=RefundReason.CLIENT_CANCELLED_AFTER_DELAY.value, staff=None, ip=ip, at=at, gw=gw)
        unshipped.settle_holds(uow, order_id, releases, at, gw, "client_cancelled_after_delay")
    return to


@dataclass(frozen=True)
class DelayOffer:
    """What the status page shows the client who opened the `delay_choice` link."""

    stage: str  # "offered": accept the date or decline; "refused": confirm the cancellation
    pieces: str
    ship_by: str  # the date the delay counts from
    new_date: str


def pending_offer(uow: UnitOfWork, reference: object, token: object, at: datetime | None = None) -> DelayOffer | None:
    at = _now(at)
    with uow.reading() as s:
        delay = _delay_for(s, reference, token, at)
        if delay is None:
            return None
        order = s.get(Order, delay.order_id)
        return DelayOffer(delay.status, _pieces(_unshipped(s, order.id)), _day(order, delay.counted_from),
                          _day(order, delay.offer_date))


# -- staff ---------------------------------------------------------------------------------------------------------

def propose_date(uow: UnitOfWork, reference: str, proposed: date, *, staff: StaffIdentity, ip: str = "",
                 at: datetime | None = None) -> None:
    """Customer service proposes the new delivery date of an order followed for a delay (a business day after
    today). Made before the offer, it is the date offered; made after, the client is offered it again."""
    at = _now(at)
    if not allowed(staff.role, PERMISSION):
        raise ActionRefused(ErrorCode.STAFF_FORBIDDEN)
    if not rules.proposal_valid(merchant_calendar(), proposed, _today(at)):
        raise ActionRefused(ErrorCode.DELAY_DATE_INVALID)
    with uow:
        s = uow.session
        order = _order(s, reference)
        delay = s.exec(select(OrderDelay).where(OrderDelay.order_id == order.id, OrderDelay.status.in_(OPEN))
                       ).first() if order is not None else None
        if delay is None:
            raise ActionRefused(ErrorCode.DELAY_NOT_FOUND)
        before = {"delay": delay.id, "status": delay.status,
                  "proposed_date": delay.proposed_date.isoformat() if delay.proposed_date else None}
        values = {"proposed_date": proposed, "proposed_by": staff.staff_id}
        if delay.status != NOTICED:  # already offered: offer the new proposal
            values |= {"status": OFFERED, "offer_date": proposed, "offered_at": at, "reminded_at": None}
        moved = s.exec(update(OrderDelay).where(OrderDelay.id == delay.id, OrderDelay.status == delay.status)
                       .values(**values)).rowcount
        if moved != 1:
            raise ActionRefused(ErrorCode.ORDER_CHANGED)
        s.refresh(delay)
        if delay.status == OFFERED:
            s.add(order_events.cancellation_offered(order.id, at, f"staff:{staff.staff_id}",
                                      delay=delay.id, stage="new_date_or_cancel", offer_date=proposed.isoformat()))
            unshipped.notify(s, order, f"delay-offer:{delay.id}:{proposed.isoformat()}", "delay_offer",
                             f"Your order {order.reference}: a new delivery date, or cancellation",
                             _offer_text(order, delay, _unshipped(s, order.id), at), at)
        audit.record(s, staff=staff, action=PERMISSION, outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before=before,
                     after={"delay": delay.id, "status": delay.status, "proposed_date": proposed.isoformat()},
                     ip=ip, at=at)
        uow.commit()
