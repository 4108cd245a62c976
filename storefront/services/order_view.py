"""Read models of checkout totals and of one order, as display-ready strings for the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from sqlmodel import select

from storefront.adapters.tables import Order, OrderEvent
from storefront.domain.markets import display_locale, page_language
from storefront.domain.order_status import FINAL, OrderStatus
from storefront.domain.quote import Quote
from storefront.services import links
from storefront.services.documents import order_document
from storefront.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class LineRow:
    name: str
    reference: str
    quantity: int
    unit_price: str
    line_total: str


@dataclass(frozen=True)
class TotalsView:
    lines: list[LineRow]
    subtotal: str
    shipping: str
    vat_label: str
    vat_amount: str
    duties_notice: str
    total: str
    ship_by: str
    currency: str


def totals_view(q: Quote) -> TotalsView:
    loc = display_locale(page_language(), q.country.code)
    return TotalsView(
        lines=[LineRow(l.name, l.reference, l.quantity, l.unit_price.format(loc), l.total.format(loc)) for l in q.lines],
        subtotal=q.subtotal.format(loc),
        shipping=q.shipping.format(loc),
        vat_label=q.vat.label if q.vat else "",
        vat_amount=q.vat.amount.format(loc) if q.vat else "",
        duties_notice=q.duties_notice or "",
        total=q.total.format(loc),
        ship_by=format_date(q.ship_by, "full", locale=loc),
        currency=q.total.currency,
    )


@dataclass(frozen=True)
class EventRow:
    at: str
    text: str


@dataclass(frozen=True)
class OrderView:
    reference: str
    status: str
    status_label: str
    final: bool
    placed_at: str
    totals: TotalsView
    shipping_address: list[str]
    terms_version: str
    terms_date: str
    timeline: list[EventRow]


CUSTOMER_EVENTS = {
    "order_placed": "Order placed",
    "confirmed_by_client": "Order confirmed by you",
    "terms_accepted": "Terms accepted",
    "payment_authorized": "Payment authorised (held, not charged)",
    "payment_declined": "Card declined by the issuer",
    "payment_requires_action": "Card issuer asked for authentication",
    "approved": "Order approved — final",
    "cancelled": "Order cancelled",
    "email_queued": "Confirmation email sent",
}


def order_view(uow: UnitOfWork, reference: str, token: str, at: datetime | None = None) -> OrderView | None:
    """The order behind a signed view link; None for a wrong, expired or unknown link (no hint which)."""
    if not links.valid(reference, token, links.Purpose.VIEW, at):
        return None
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference)).first()
        if order is None:
            return None
        doc = order_document(s, order)
        events = s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.at, OrderEvent.id)).all()
    timeline = [EventRow(format_date(e.at, "medium", locale=order.locale), CUSTOMER_EVENTS[e.type])
                for e in events if e.type in CUSTOMER_EVENTS]
    totals = TotalsView(
        lines=[LineRow(l.name, l.reference, l.quantity, l.unit_price, l.line_total) for l in doc.lines],
        subtotal=doc.subtotal, shipping=doc.shipping, vat_label=doc.vat_label or "", vat_amount=doc.vat_amount or "",
        duties_notice=doc.duties_notice or "", total=doc.total, ship_by=doc.ship_by, currency=doc.currency,
    )
    return OrderView(order.reference, order.status, doc.status_label, OrderStatus(order.status) in FINAL, doc.placed_at,
                     totals, list(doc.shipping_address_lines), doc.terms_version, doc.terms_date, timeline)
