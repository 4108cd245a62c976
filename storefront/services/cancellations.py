"""Cancelling an order that was never paid for: one path, whoever or whatever ends it.

The payment window closing, the last allowed card attempt failing and the shopper withdrawing
all end the same way: the status moves only if the order still waits for payment (a conditional
update, so two of them racing cancel once), its stock goes back, the history says why, and,
when the shopper is not the one who withdrew, an email tells them (through the outbox).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters.email_render import render_order_notice
from storefront.adapters.tables import Order, OrderLine, Product
from storefront.domain.order_status import OrderStatus
from storefront.services import order_events, outbox, stock
from storefront.services.documents import order_document

NOTICES = {
    "payment_not_authorized": (
        "We could not obtain an authorisation on your card for this order within the time allowed, "
        "so the order has been cancelled and the watches released. Nothing has been charged.",
        "If you would still like these pieces, you are welcome to order again or to contact us.",
    ),
    "not_confirmed_by_client": (
        "The order we entered for you by telephone was not confirmed within the time allowed, so it has been "
        "cancelled and the watches released. Nothing has been charged.",
        "If you would still like these pieces, please contact our client service, who will gladly help.",
    ),
    "payment_attempts_exhausted": (
        "No card could be authorised for this order after several attempts, so the order has been cancelled "
        "and the watches released. Nothing has been charged.",
        "If you would still like these pieces, please contact our client service, who will gladly help.",
    ),
}


UNPAID = (OrderStatus.PENDING_PAYMENT, OrderStatus.AWAITING_CLIENT)


def cancel_unpaid(s: Session, order_id: int, at: datetime, reason: str, *, actor: str = order_events.SYSTEM,
                  notify: bool = True) -> bool:
    """Cancel the order if it still awaits payment (or, taken by telephone, the client's confirmation);
    False when something else already moved it."""
    moved = s.exec(update(Order).where(Order.id == order_id, Order.status.in_(UNPAID))
                   .values(status=OrderStatus.CANCELLED.value, updated_at=at)).rowcount
    if moved != 1:
        return False
    order = s.get(Order, order_id)
    s.refresh(order)
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    for line in lines:
        back = line.quantity - line.quantity_shipped
        s.exec(update(Product).where(Product.id == line.product_id).values(stock=Product.stock + back))
        if back:
            stock.record_change(s, line.product_id, back, stock.ORDER_CANCELLED, at=at, order_id=order_id)
    s.add(order_events.cancelled(order_id, at, reason, actor))
    s.add(order_events.stock_released(order_id, at, {line.reference: line.quantity for line in lines}))
    if notify:
        notice = render_order_notice(order_document(s, order), f"Your order {order.reference} has been cancelled",
                                     NOTICES[reason])
        outbox.enqueue(s, f"order-cancelled:{order_id}", "order_cancelled", order.email, notice,
                       order_id=order_id, at=at)
    return True
