"""Cancelling units not yet shipped, shared by the unavailable-piece choice (GTC-3.2, services/unavailable_items.py)
and the cancellation after a long delay (GTC-5.4, services/delays.py).

Within the caller's transaction: `cancel_units` moves units of a line to `quantity_cancelled` by a conditional
update (they must still be unshipped), and `end_if_nothing_remains` ends the order when nothing is left to ship
(`approved` -> `cancelled`, `partially_shipped` -> `shipped`) and names the holds to release. After the commit,
`settle_holds` releases those holds or, when units remain, replaces the hold by a smaller one
(`hold_renewal.replace_with_smaller`). `notify` queues a client email with its order event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from storefront.adapters.email_render import render_order_notice
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, Shipment
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import hold_renewal, holds, order_events, outbox
from storefront.services.documents import order_document
from storefront.services.order_admin import ActionRefused
from storefront.services.payment import gateway
from storefront.services.unit_of_work import UnitOfWork

OPEN_TO_SHIP = frozenset({OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED})
Releases = list[tuple[int, str]]


def notify(s: Session, order: Order, key: str, kind: str, subject: str, paragraphs: tuple[str, ...],
           at: datetime) -> None:
    email = render_order_notice(order_document(s, order), subject, paragraphs)
    if outbox.enqueue(s, key, kind, order.email, email, order_id=order.id, at=at):
        s.add(order_events.email_queued(order.id, at, kind))


def remaining(line: OrderLine) -> int:
    return line.quantity - line.quantity_shipped - line.quantity_cancelled


def cancel_units(s: Session, line_id: int, quantity: int) -> None:
    """`quantity` unshipped units of the line cancelled; ORDER_CHANGED if they shipped meanwhile (the caller's
    unit rolls back)."""
    moved = s.exec(update(OrderLine).where(
        OrderLine.id == line_id,
        OrderLine.quantity - OrderLine.quantity_shipped - OrderLine.quantity_cancelled >= quantity)
        .values(quantity_cancelled=OrderLine.quantity_cancelled + quantity)).rowcount
    if moved != 1:
        raise ActionRefused(ErrorCode.ORDER_CHANGED)


def end_if_nothing_remains(s: Session, order: Order, at: datetime, actor: str,
                           reason: str) -> tuple[OrderStatus | None, Releases]:
    """The order's end when no unit is left to ship, and the holds then to release (none otherwise)."""
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    for each in lines:
        s.refresh(each)
    if any(remaining(each) for each in lines) or order.status not in OPEN_TO_SHIP:
        return None, []
    ended = OrderStatus.SHIPPED if any(each.quantity_shipped > 0 for each in lines) else OrderStatus.CANCELLED
    moved = s.exec(update(Order).where(Order.id == order.id, Order.status == order.status)
                   .values(status=ended.value, updated_at=at)).rowcount
    if moved != 1:
        raise ActionRefused(ErrorCode.ORDER_CHANGED)
    if ended is OrderStatus.CANCELLED:
        s.add(order_events.cancelled(order.id, at, reason, actor))
    else:
        last = s.exec(select(func.max(Shipment.number)).where(Shipment.order_id == order.id)).one() or 0
        s.add(order_events.shipped(order.id, at, actor, shipment=int(last), partially=False))
    releases = [(h.id, h.intent_id) for h in s.exec(select(PaymentAuthorization).where(
        PaymentAuthorization.order_id == order.id, PaymentAuthorization.status == PaymentStatus.HELD)).all()
        if h.intent_id]
    return ended, releases


def settle_holds(uow: UnitOfWork, order_id: int, releases: Releases, at: datetime, gw: StripeGateway | None,
                 reason: str) -> None:
    """After the commit: release the named holds; with none named (units remain), hold only what remains."""
    gw = gw or gateway()
    for authorization_id, intent_id in releases:
        holds.release(uow, order_id, authorization_id, intent_id, at, gw, reason=reason)
    if not releases:  # units remain: the card stays held for them only
        hold_renewal.replace_with_smaller(uow, order_id, at=at, gw=gw)
