"""What the card must still be held for, and releasing a hold (PAY-5): shared by every service that moves holds.

Under PAY-5 a unit is charged only when it ships, so an open order needs a live hold for what is neither
shipped nor cancelled: `still_to_hold`. Shipment, renewal, the client's new authorisation and the smaller
hold after dropped units all ask this one function, so they agree to the minor unit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, update
from sqlmodel import Session, select

from storefront.adapters.stripe_gateway import PaymentGatewayError, StripeGateway
from storefront.adapters.tables import Order, OrderLine, PaymentAuthorization, Shipment
from storefront.domain.money import Money
from storefront.domain.order_status import PaymentStatus
from storefront.services import order_events
from storefront.services.unit_of_work import UnitOfWork


def with_vat(order: Order, net_minor: int) -> int:
    """Net plus VAT at the order's own rate, rounded half up once on the whole base (as checkout does)."""
    if order.vat_rate is None or net_minor == 0:
        return net_minor
    base = Money(net_minor, order.currency)
    return net_minor + Money.from_decimal(base.to_decimal() * Decimal(order.vat_rate), order.currency).minor


def remaining_units(line: OrderLine) -> int:
    return line.quantity - line.quantity_shipped - line.quantity_cancelled


def to_hold_minor(order: Order, lines: list[OrderLine], *, shipped_before: bool, captured_minor: int) -> int:
    """Still to be charged: exactly the total less what was captured when no unit was cancelled (so the last
    capture takes VAT's rounding remainder, see shipping_admin); otherwise the units left, plus the
    shipping fee if nothing has shipped yet, with VAT."""
    if all(line.quantity_cancelled == 0 for line in lines):
        return max(order.total_minor - captured_minor, 0)
    goods = sum(line.unit_price_minor * remaining_units(line) for line in lines)
    if goods == 0:
        return 0
    return with_vat(order, goods + (0 if shipped_before else order.shipping_minor))


def still_to_hold(s: Session, order: Order) -> int:
    lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    count, captured = s.exec(select(func.count(Shipment.id), func.coalesce(func.sum(Shipment.captured_minor), 0))
                             .where(Shipment.order_id == order.id)).one()
    return to_hold_minor(order, list(lines), shipped_before=count > 0, captured_minor=int(captured))


def release(uow: UnitOfWork, order_id: int, authorization_id: int, intent_id: str, at: datetime,
            gw: StripeGateway, *, reason: str) -> bool:
    """Tell the provider to drop the hold, then record it (False if the provider could not be told: the
    failure is recorded and the hold lapses by itself at its `capture_before`)."""
    try:
        gw.cancel(intent_id, idempotency_key=f"{intent_id}:release")
    except PaymentGatewayError as exc:
        with uow:
            uow.session.add(order_events.payment_release_failed(order_id, at, intent_id, str(exc)))
            uow.commit()
        return False
    with uow:
        s = uow.session
        moved = s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == authorization_id,
                                                          PaymentAuthorization.status == PaymentStatus.HELD)
                       .values(status=PaymentStatus.RELEASED.value, updated_at=at)).rowcount
        if moved == 1:
            s.add(order_events.payment_released(order_id, at, intent_id, reason=reason))
        uow.commit()
    return True
