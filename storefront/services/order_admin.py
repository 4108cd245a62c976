"""What staff do to an order: approve it (GTC-3.6) and cancel it (GTC-3.5).

Each action moves the order with a conditional update on the status it was read in, so two staff
acting on the same order at once cannot both succeed: the second is told the order changed. The
audit entry, the order event and the client's email are written in the same transaction as the
change; money moves at the provider after the commit (a hold is released only once the database
says the order is cancelled, never the other way round).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_notice
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, Product
from storefront.domain.cancellation import CLIENT_NOTICES, CancelReason, reason_from
from storefront.domain.compliance_review import clear_reason_from, decline_reason_from
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import audit, cancellations, holds, order_events, outbox, rescreening, stock
from storefront.services.documents import order_document
from storefront.services.payment import gateway
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

CANCELLABLE = frozenset({OrderStatus.AWAITING_CLIENT, OrderStatus.PENDING_PAYMENT, OrderStatus.COMPLIANCE_REVIEW,
                         OrderStatus.AWAITING_APPROVAL, OrderStatus.APPROVED})

APPROVAL_NOTICE = (
    "We have confirmed the availability of every piece and your payment is secured: your order is now final.",
    "Your card remains authorised, not charged: it is charged only when your watches ship, and only for what ships.",
    "We will write again on the day of shipment with the carrier and tracking number.",
)


class ActionRefused(Exception):
    def __init__(self, code: ErrorCode, **params: object) -> None:
        super().__init__(code.value)
        self.refusal = Refusal(code, params)


@dataclass(frozen=True)
class _Release:
    authorization_id: int
    intent_id: str


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _order(s: Session, reference: object) -> Order:
    order = s.exec(select(Order).where(Order.reference == reference)).first() if isinstance(reference, str) else None
    if order is None:
        raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
    return order


def live_holds(s: Session, order_id: int, at: datetime) -> list[PaymentAuthorization]:
    """Holds the provider will still honour at `at`: held, and not past their capture deadline."""
    holds = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order_id,
                                                      PaymentAuthorization.status == PaymentStatus.HELD)).all()
    return [h for h in holds if h.capture_before is None or _aware(h.capture_before) > at]


def _move(s: Session, order: Order, to: OrderStatus, at: datetime) -> None:
    """The conditional update that makes two concurrent actions on one order succeed once."""
    moved = s.exec(update(Order).where(Order.id == order.id, Order.status == order.status)
                   .values(status=to.value, updated_at=at)).rowcount
    if moved != 1:
        raise ActionRefused(ErrorCode.ORDER_CHANGED)


def _notify(s: Session, order: Order, key: str, kind: str, subject: str, paragraphs: tuple[str, ...],
            at: datetime) -> None:
    email = render_order_notice(order_document(s, order), subject, paragraphs)
    if outbox.enqueue(s, key, kind, order.email, email, order_id=order.id, at=at):
        s.add(order_events.email_queued(order.id, at, kind))


def approve(uow: UnitOfWork, reference: str, *, staff: StaffIdentity, ip: str = "",
            at: datetime | None = None) -> None:
    """GTC-3.6: final only when live holds cover the full amount; the client is told it is confirmed."""
    at = _now(at)
    with uow:
        s = uow.session
        order = _order(s, reference)
        if order.status != OrderStatus.AWAITING_APPROVAL:
            raise ActionRefused(ErrorCode.NOT_AWAITING_APPROVAL, status=order.status.replace("_", " "))
        held = sum(h.amount_minor - h.captured_minor for h in live_holds(s, order.id, at))
        if held < order.total_minor:
            money = lambda minor: Money(minor, order.currency).format("en")  # noqa: E731
            raise ActionRefused(ErrorCode.HOLD_DOES_NOT_COVER, held=money(held), total=money(order.total_minor))
        before = order.status
        _move(s, order, OrderStatus.APPROVED, at)
        actor = f"staff:{staff.staff_id}"
        s.add(order_events.approved(order.id, at, actor, held_minor=held))
        _notify(s, order, f"order-approved:{order.id}", "order_approved",
                f"Your order {order.reference} is confirmed", APPROVAL_NOTICE, at)
        audit.record(s, staff=staff, action="orders.approve", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"status": before},
                     after={"status": OrderStatus.APPROVED.value}, ip=ip, at=at)
        uow.commit()


def clear_compliance(uow: UnitOfWork, reference: str, reason: object, *, staff: StaffIdentity, ip: str = "",
                     at: datetime | None = None) -> OrderStatus:
    """PAY-7: a possible match that compliance finds is not the client goes on, with why: to approval, or back
    to where a re-screening stopped it (services/rescreening.py), never further."""
    at = _now(at)
    why = clear_reason_from(reason)
    if why is None:
        raise ActionRefused(ErrorCode.CLEAR_REASON_UNKNOWN)
    with uow:
        s = uow.session
        order = _order(s, reference)
        if order.status != OrderStatus.COMPLIANCE_REVIEW:
            raise ActionRefused(ErrorCode.NOT_IN_COMPLIANCE_REVIEW, status=order.status.replace("_", " "))
        back = rescreening.status_found_in(order)
        _move(s, order, back, at)
        s.add(order_events.compliance_cleared(order.id, at, f"staff:{staff.staff_id}", reason=why.value))
        audit.record(s, staff=staff, action="compliance.review", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"status": OrderStatus.COMPLIANCE_REVIEW.value},
                     after={"status": back.value, "reason": why.value}, ip=ip, at=at)
        uow.commit()
    return back


def decline_compliance(uow: UnitOfWork, reference: str, reason: object, *, staff: StaffIdentity, ip: str = "",
                       at: datetime | None = None, gw: StripeGateway | None = None) -> None:
    """PAY-7: a match compliance confirms ends the order like any cancellation, with why (a code); the client is
    told only that the order cannot be accepted. What shipped before a re-screening found the match stays sold."""
    why = decline_reason_from(reason)
    if why is None:
        raise ActionRefused(ErrorCode.DECLINE_REASON_UNKNOWN)
    cancel(uow, reference, CancelReason.COMPLIANCE, staff=staff, ip=ip, at=at, gw=gw,
           only_from=OrderStatus.COMPLIANCE_REVIEW, detail=why.value)


def cancel(uow: UnitOfWork, reference: str, reason: object, *, staff: StaffIdentity, ip: str = "",
           at: datetime | None = None, gw: StripeGateway | None = None,
           only_from: OrderStatus | None = None, detail: str | None = None) -> None:
    """GTC-3.5: the client is told, the holds are released, units on hand go back to stock.

    Nothing is refunded here: before shipment the card was only held (PAY-5), and a hold is released,
    never refunded.
    """
    at = _now(at)
    why = reason_from(reason)
    if why is None:
        raise ActionRefused(ErrorCode.CANCEL_REASON_UNKNOWN)
    releases: list[_Release] = []
    with uow:
        s = uow.session
        order = _order(s, reference)
        if only_from is not None and order.status != only_from:
            raise ActionRefused(ErrorCode.NOT_IN_COMPLIANCE_REVIEW, status=order.status.replace("_", " "))
        if order.status not in CANCELLABLE:
            raise ActionRefused(ErrorCode.NOT_CANCELLABLE, status=order.status.replace("_", " "))
        before, actor, ended = order.status, f"staff:{staff.staff_id}", OrderStatus.CANCELLED
        if order.status in cancellations.UNPAID:
            if not cancellations.cancel_unpaid(s, order.id, at, why.value, actor=actor, notify=False):
                raise ActionRefused(ErrorCode.ORDER_CHANGED)
        elif _shipped_any(s, order.id):  # stopped by compliance after part shipped: the rest is cancelled
            _move(s, order, OrderStatus.PARTIALLY_SHIPPED, at)
            _return_stock(s, order.id, at, cancel_lines=True)
            s.add(order_events.cancelled(order.id, at, why.value, actor, detail=detail))
            s.exec(update(Order).where(Order.id == order.id).values(status=OrderStatus.SHIPPED.value, updated_at=at))
            ended = OrderStatus.SHIPPED
        else:
            _move(s, order, OrderStatus.CANCELLED, at)
            _return_stock(s, order.id, at)
            s.add(order_events.cancelled(order.id, at, why.value, actor, detail=detail))
        releases = [_Release(h.id, h.intent_id) for h in s.exec(select(PaymentAuthorization).where(
            PaymentAuthorization.order_id == order.id, PaymentAuthorization.status == PaymentStatus.HELD)).all()
            if h.intent_id]
        _notify(s, order, f"order-cancelled:{order.id}", "order_cancelled",
                f"Your order {order.reference} has been cancelled", CLIENT_NOTICES[why], at)
        audit.record(s, staff=staff, action="orders.cancel", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", before={"status": before},
                     after={"status": ended.value, "reason": why.value, **({"detail": detail} if detail else {})},
                     ip=ip, at=at)
        uow.commit()
    for release in releases:
        holds.release(uow, order.id, release.authorization_id, release.intent_id, at, gw or gateway(),
                      reason="order_cancelled")


def _shipped_any(s: Session, order_id: int) -> bool:
    return any(line.quantity_shipped > 0 for line in s.exec(select(OrderLine).where(OrderLine.order_id == order_id)))


def _return_stock(s: Session, order_id: int, at: datetime, *, cancel_lines: bool = False) -> None:
    """Units still on hand go back: not what shipped, and not lines already cancelled as unavailable
    (`cancel_lines`: and the lines say so, for an order that stays partly sold)."""
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    back = {line.reference: line.quantity - line.quantity_shipped - line.quantity_cancelled for line in lines}
    for line in lines:
        if back[line.reference] > 0:
            s.exec(update(Product).where(Product.id == line.product_id).values(stock=Product.stock + back[line.reference]))
            stock.record_change(s, line.product_id, back[line.reference], stock.ORDER_CANCELLED, at=at,
                                order_id=order_id)
            if cancel_lines:
                line.quantity_cancelled += back[line.reference]
                s.add(line)
    s.add(order_events.stock_released(order_id, at, {ref: n for ref, n in back.items() if n > 0}))
