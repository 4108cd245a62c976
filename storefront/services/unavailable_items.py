"""A piece found unavailable after the order was approved (GTC-3.2, issue 9 § 4): the client chooses.

GTC-3.2: if an item proves unavailable after the order, the client is offered a new delivery date or the
refund of that item; no compensation is owed. So:

1. `mark_unavailable` (staff, `orders.mark_unavailable`): units of a line not yet shipped of an approved or
   partly shipped order are recorded as an `UnavailableItem` awaiting the client's choice, with the audit
   entry, the `item_unavailable` event and an email carrying a signed `unavailable_choice` link, all in one
   transaction. The deadline is data (`rules/unavailable.toml`).
2. `choose` (the client, through the link): `new_date` agrees the proposed date (the order's `ship_by`
   moves to it when later, so the order leaves the "past ship-by" queue); `refund` cancels those units.
3. `unavailable_deadlines_due` (the job): one reminder after `reminder_after_days`; at the deadline the
   units are cancelled exactly as by the `refund` choice (status `dropped`), since no new date was agreed.

Cancelling the units ("refund" or "dropped")
    The line's `quantity_cancelled` grows (a conditional update: the units must still be unshipped); stock is
    NOT returned, the piece is not there. Money: a unit is charged only when it ships (PAY-5,
    `shipping_admin`), and these units never shipped, so nothing was captured for them and no provider refund
    is made (`refunds.refund(lines=...)` refunds shipped units only; calling it here would refund a delivered
    piece of the same line). The card was only held for them. A hold cannot be partly released (Stripe), so
    after the commit a smaller hold for what remains is placed off-session and the old one then released
    (`hold_renewal.replace_with_smaller`); if the bank refuses, the old hold stays, each later shipment
    captures only what it ships (its amounts leave cancelled units out), and the rest of the hold is
    released at the last capture. When nothing remains
    to ship, the order ends (domain/order_status.py): `approved` -> `cancelled`, `partially_shipped` ->
    `shipped`, and every hold still held is released after the commit (`<intent>:release`).

Links: a token is signed over `<reference>:unavailable:<record id>`, so it names one record of one order;
`choose` honours it only while that record awaits the choice and before its deadline. A forged, expired,
foreign or spent token gets the same code (UNAVAILABLE_LINK_INVALID) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from functools import lru_cache

from babel.dates import format_date
from sqlalchemy import func, update
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, OrderLine, UnavailableItem
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus
from storefront.domain.staff import allowed
from storefront.rules import load
from storefront.services import audit, links, order_events, unshipped
from storefront.services.holds import with_vat
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

PERMISSION = "orders.mark_unavailable"
MARKABLE = unshipped.OPEN_TO_SHIP
NEW_DATE = "new_date"
REFUND = "refund"
CHOICES = frozenset({NEW_DATE, REFUND})


class UnavailableStatus(StrEnum):
    AWAITING_CHOICE = "awaiting_choice"
    NEW_DATE_AGREED = "new_date_agreed"
    REFUNDED = "refunded"  # the client chose the refund: the units are cancelled
    DROPPED = "dropped"  # no answer by the deadline: cancelled as if refunded, no new date was agreed


@dataclass(frozen=True)
class Rules:
    answer_within: timedelta
    reminder_after: timedelta


@lru_cache
def rules() -> Rules:
    spec = load("unavailable")["unavailable"]
    return Rules(timedelta(days=int(spec["answer_within_days"])), timedelta(days=int(spec["reminder_after_days"])))


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _order(s: Session, reference: object) -> Order | None:
    return s.exec(select(Order).where(Order.reference == reference)).first() if isinstance(reference, str) else None


def link_value(reference: str, record_id: int) -> str:
    """What an `unavailable_choice` token signs: one record of one order."""
    return f"{reference}:unavailable:{record_id}"


def choice_url(reference: str, record_id: int, at: datetime | None = None) -> str:
    """The order status page carrying an `unavailable_choice` token for one record."""
    token = links.issue(link_value(reference, record_id), links.Purpose.UNAVAILABLE_CHOICE, at)
    return f"{links.order_url(reference, at)}&unavailable={token}"


def _pending_units(s: Session, line_id: int) -> int:
    return int(s.exec(select(func.coalesce(func.sum(UnavailableItem.quantity), 0)).where(
        UnavailableItem.order_line_id == line_id,
        UnavailableItem.status == UnavailableStatus.AWAITING_CHOICE.value)).one())


_notify = unshipped.notify


def _pieces(line: OrderLine, quantity: int) -> str:
    return f"{line.name} ({quantity} piece{'s' if quantity != 1 else ''})"


def _offer(order: Order, line: OrderLine, record: UnavailableItem, at: datetime) -> tuple[str, ...]:
    """The choice offered by GTC-3.2: a new date or the refund of the piece. No compensation is owed or offered."""
    day = lambda d: format_date(d, "long", locale=order.locale)  # noqa: E731
    amount = Money(with_vat(order, line.unit_price_minor * record.quantity), order.currency).format(order.locale)
    return (
        f"We are sorry: {_pieces(line, record.quantity)} of your order {order.reference} has proved unavailable "
        f"after we confirmed your order.",
        f"You may choose either a new delivery date, {day(record.proposed_date)}, or the refund of this piece "
        f"({amount}). Your card is charged only when a piece ships, so nothing has been charged for it.",
        f"Please tell us your choice by {day(_aware(record.deadline_at).date())}: "
        f"{choice_url(order.reference, record.id, at)}",
        "If we have no answer by then, this piece is cancelled and refunded, since no new date was agreed. "
        "The rest of your order is not affected.",
    )


def mark_unavailable(uow: UnitOfWork, reference: str, line_reference: str, quantity: int, *, proposed_date: date,
                     staff: StaffIdentity, ip: str = "", at: datetime | None = None) -> int:
    """Record units of a line as unavailable and ask the client to choose (GTC-3.2); returns the record's id."""
    at = _now(at)
    if not allowed(staff.role, PERMISSION):
        raise ActionRefused(ErrorCode.STAFF_FORBIDDEN)
    if not isinstance(proposed_date, date) or isinstance(proposed_date, datetime) or proposed_date <= at.date():
        raise ActionRefused(ErrorCode.UNAVAILABLE_DATE_INVALID)
    with uow:
        s = uow.session
        order = _order(s, reference)
        if order is None:
            raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
        if order.status not in MARKABLE:
            raise ActionRefused(ErrorCode.UNAVAILABLE_NOT_ALLOWED, status=order.status.replace("_", " "))
        line = s.exec(select(OrderLine).where(OrderLine.order_id == order.id,
                                              OrderLine.reference == line_reference)).first() \
            if isinstance(line_reference, str) else None
        if line is None:
            raise ActionRefused(ErrorCode.UNAVAILABLE_LINE_UNKNOWN, line=str(line_reference)[:40])
        remaining = line.quantity - line.quantity_shipped - line.quantity_cancelled - _pending_units(s, line.id)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= remaining:
            raise ActionRefused(ErrorCode.UNAVAILABLE_QUANTITY_INVALID, line=line.reference,
                                remaining=max(remaining, 0))
        record = UnavailableItem(order_id=order.id, order_line_id=line.id, quantity=quantity,
                                 proposed_date=proposed_date, status=UnavailableStatus.AWAITING_CHOICE.value,
                                 created_at=at, deadline_at=at + rules().answer_within, created_by=staff.staff_id)
        s.add(record)
        s.flush()
        actor = f"staff:{staff.staff_id}"
        s.add(order_events.item_unavailable(order.id, at, actor, record=record.id, line=line.reference,
                                            quantity=quantity, outcome=UnavailableStatus.AWAITING_CHOICE.value,
                                            proposed_date=proposed_date.isoformat(),
                                            deadline_at=record.deadline_at.isoformat()))
        _notify(s, order, f"unavailable:{record.id}", "item_unavailable",
                f"Your order {order.reference}: a piece is unavailable", _offer(order, line, record, at), at)
        audit.record(s, staff=staff, action=PERMISSION, outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"status": order.status},
                     after={"record": record.id, "line": line.reference, "quantity": quantity,
                            "proposed_date": proposed_date.isoformat(), "status": record.status}, ip=ip, at=at)
        record_id = record.id
        uow.commit()
    return record_id


def _record_for(s: Session, reference: str, token: str, at: datetime) -> UnavailableItem | None:
    """The awaiting record of this order the token was issued for, before its deadline; None otherwise."""
    order = _order(s, reference)
    if order is None or not isinstance(token, str):
        return None
    awaiting = s.exec(select(UnavailableItem).where(
        UnavailableItem.order_id == order.id,
        UnavailableItem.status == UnavailableStatus.AWAITING_CHOICE.value)).all()
    for record in awaiting:
        if at < _aware(record.deadline_at) and links.valid(link_value(reference, record.id), token,
                                                           links.Purpose.UNAVAILABLE_CHOICE, at):
            return record
    return None


def choose(uow: UnitOfWork, reference: str, token: str, choice: str, *, ip: str = "", at: datetime | None = None,
           gw: StripeGateway | None = None) -> str:
    """The client's choice through the signed link: `new_date` or `refund`; returns the record's new status.

    Any token that does not name an awaiting record of this order before its deadline (forged, expired, for
    another order, already used) is refused with UNAVAILABLE_LINK_INVALID and nothing changes.
    """
    at = _now(at)
    if choice not in CHOICES:
        raise ActionRefused(ErrorCode.UNAVAILABLE_CHOICE_UNKNOWN)
    with uow.reading() as s:
        record = _record_for(s, reference, token, at)
        record_id = record.id if record is not None else None
    if record_id is None:
        raise ActionRefused(ErrorCode.UNAVAILABLE_LINK_INVALID)
    if choice == NEW_DATE:
        _agree_new_date(uow, record_id, at)
        return UnavailableStatus.NEW_DATE_AGREED.value
    _cancel_units(uow, record_id, UnavailableStatus.REFUNDED, order_events.CLIENT, at, gw, ip)
    return UnavailableStatus.REFUNDED.value


def _decide(s: Session, record_id: int, to: UnavailableStatus, at: datetime) -> bool:
    """The conditional update that lets one decision win (a double click, the client against the job)."""
    return s.exec(update(UnavailableItem).where(UnavailableItem.id == record_id,
                                                UnavailableItem.status == UnavailableStatus.AWAITING_CHOICE.value)
                  .values(status=to.value, decided_at=at)).rowcount == 1


def _agree_new_date(uow: UnitOfWork, record_id: int, at: datetime) -> None:
    with uow:
        s = uow.session
        if not _decide(s, record_id, UnavailableStatus.NEW_DATE_AGREED, at):
            raise ActionRefused(ErrorCode.UNAVAILABLE_LINK_INVALID)
        record = s.get(UnavailableItem, record_id)
        order, line = s.get(Order, record.order_id), s.get(OrderLine, record.order_line_id)
        before = order.ship_by
        if record.proposed_date > order.ship_by:  # `ship_by` feeds the "past ship-by" queue and the client's page
            s.exec(update(Order).where(Order.id == order.id).values(ship_by=record.proposed_date, updated_at=at))
            s.refresh(order)
        s.add(order_events.item_unavailable(order.id, at, order_events.CLIENT, record=record.id, line=line.reference,
                                            quantity=record.quantity, outcome=UnavailableStatus.NEW_DATE_AGREED.value))
        s.add(order_events.delivery_date_changed(order.id, at, order_events.CLIENT, record=record.id,
                                                 ship_by_before=before.isoformat(), ship_by=order.ship_by.isoformat()))
        day = format_date(record.proposed_date, "long", locale=order.locale)
        _notify(s, order, f"unavailable-new-date:{record.id}", "delivery_date_changed",
                f"Your order {order.reference}: new delivery date agreed",
                (f"Thank you: you have agreed the new delivery date of {day} for {_pieces(line, record.quantity)}.",
                 "Your card is charged only when the piece ships. We will write again on the day of shipment."), at)
        uow.commit()


def _cancel_notice(order: Order, line: OrderLine, record: UnavailableItem, why: UnavailableStatus,
                   ended: OrderStatus | None) -> tuple[str, ...]:
    first = (f"As you chose, {_pieces(line, record.quantity)} has been cancelled." if why is UnavailableStatus.REFUNDED
             else f"We had no answer by the deadline, so {_pieces(line, record.quantity)} has been cancelled, "
                  f"since no new delivery date was agreed.")
    end = {OrderStatus.CANCELLED: "Nothing else remained in your order, so it is now closed and the authorisation on "
                                  "your card is released.",
           OrderStatus.SHIPPED: "The rest of your order has already shipped, so it is now complete and the remaining "
                                "authorisation on your card is released."}.get(ended, "The rest of your order is not "
                                                                                      "affected.")
    return (first, "Your card was only authorised for this piece, never charged: nothing was taken for it, so there "
                   "is nothing to pay back.", end)


def _cancel_units(uow: UnitOfWork, record_id: int, why: UnavailableStatus, actor: str, at: datetime,
                  gw: StripeGateway | None, ip: str = "") -> bool:
    """The `refund` choice and the deadline alike (see the module docstring); False if already decided."""
    with uow:
        s = uow.session
        if not _decide(s, record_id, why, at):
            if actor == order_events.CLIENT:
                raise ActionRefused(ErrorCode.UNAVAILABLE_LINK_INVALID)
            return False
        record = s.get(UnavailableItem, record_id)
        line, order = s.get(OrderLine, record.order_line_id), s.get(Order, record.order_id)
        unshipped.cancel_units(s, line.id, record.quantity)
        s.add(order_events.item_unavailable(order.id, at, actor, record=record.id, line=line.reference,
                                            quantity=record.quantity, outcome=why.value, stock_returned=False,
                                            charged_minor=0))
        ended, releases = unshipped.end_if_nothing_remains(s, order, at, actor, "item_unavailable")
        _notify(s, order, f"unavailable-cancelled:{record.id}", "item_unavailable_cancelled",
                f"Your order {order.reference}: unavailable piece cancelled",
                _cancel_notice(order, line, record, why, ended), at)
        audit.record(s, staff=None, action="orders.unavailable_decided", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"record": record.id, "status": "awaiting_choice"},
                     after={"record": record.id, "status": why.value, "order_status": (ended or order.status)},
                     ip=ip, at=at, detail=actor)
        order_id = order.id
        uow.commit()
    unshipped.settle_holds(uow, order_id, releases, at, gw, "item_unavailable")
    return True


def _remind(uow: UnitOfWork, record_id: int, at: datetime) -> bool:
    with uow:
        s = uow.session
        moved = s.exec(update(UnavailableItem).where(
            UnavailableItem.id == record_id, UnavailableItem.status == UnavailableStatus.AWAITING_CHOICE.value,
            UnavailableItem.reminded_at.is_(None)).values(reminded_at=at)).rowcount
        if moved != 1:
            return False
        record = s.get(UnavailableItem, record_id)
        order, line = s.get(Order, record.order_id), s.get(OrderLine, record.order_line_id)
        _notify(s, order, f"unavailable-reminder:{record.id}", "item_unavailable_reminder",
                f"Reminder - your order {order.reference}: a piece is unavailable", _offer(order, line, record, at), at)
        uow.commit()
    return True


def unavailable_deadlines_due(uow: UnitOfWork, *, at: datetime | None = None,
                              gw: StripeGateway | None = None) -> list[str]:
    """The job: one reminder after `reminder_after_days`; at the deadline, the units are cancelled (`dropped`).

    Returns the references of the orders acted on.
    """
    at = _now(at)
    with uow.reading() as s:
        rows = s.exec(select(UnavailableItem.id, UnavailableItem.created_at, UnavailableItem.deadline_at,
                             UnavailableItem.reminded_at, Order.reference)
                      .join(Order, Order.id == UnavailableItem.order_id)
                      .where(UnavailableItem.status == UnavailableStatus.AWAITING_CHOICE.value,
                             (UnavailableItem.deadline_at <= at)
                             | (UnavailableItem.reminded_at.is_(None)
                                & (UnavailableItem.created_at <= at - rules().reminder_after)))
                      .order_by(UnavailableItem.id)).all()
    acted: list[str] = []
    for record_id, _created, deadline_at, _reminded, reference in rows:
        if _aware(deadline_at) <= at:
            try:
                done = _cancel_units(uow, record_id, UnavailableStatus.DROPPED, order_events.SYSTEM, at, gw)
            except ActionRefused:  # the units shipped meanwhile: left for staff to see
                done = False
        else:
            done = _remind(uow, record_id, at)
        if done and reference not in acted:
            acted.append(reference)
    return acted


@dataclass(frozen=True)
class Offer:
    """What the order page shows the client who opened the choice link."""

    piece: str
    new_date: str
    refund: str
    answer_by: str


def pending_offer(uow: UnitOfWork, reference: object, token: object, at: datetime | None = None) -> Offer | None:
    """The choice the link offers, if it still names an awaiting record of this order before its deadline."""
    at = _now(at)
    if not isinstance(reference, str) or not isinstance(token, str) or len(token) > 500:
        return None
    with uow.reading() as s:
        record = _record_for(s, reference, token, at)
        if record is None:
            return None
        order, line = s.get(Order, record.order_id), s.get(OrderLine, record.order_line_id)
    day = lambda d: format_date(d, "long", locale=order.locale)  # noqa: E731
    amount = Money(with_vat(order, line.unit_price_minor * record.quantity), order.currency).format(order.locale)
    return Offer(_pieces(line, record.quantity), day(record.proposed_date), amount,
                 day(_aware(record.deadline_at).date()))
