"""Read models of checkout totals and of one order, as display-ready strings for the pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_date, format_datetime
from sqlmodel import select

from storefront import routes
from storefront.adapters.tables import (Order, OrderEvent, OrderLine, PaymentAuthorization, RefundRecord, Shipment,
                                        ShipmentLine, UnavailableItem)
from storefront.domain.carriers import carrier_named
from storefront.domain.markets import display_locale, page_language
from storefront.domain.money import Money
from storefront.domain.order_status import FINAL, OrderStatus, PaymentStatus
from storefront.domain.refunds import RefundStatus
from storefront.domain.quote import Quote
from storefront.services import links
from storefront.services.documents import order_document
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings


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


class LineState:
    """The states a customer sees a piece of an order in (issue 11 § 2)."""

    AWAITING = "Awaiting shipment"
    SHIPPED = "Shipped"
    UNAVAILABLE = "Unavailable — your choice is awaited"
    REFUNDED = "Refunded"
    CANCELLED = "Cancelled — not charged"


@dataclass(frozen=True)
class LineStateRow:
    name: str
    reference: str
    quantity: int
    state: str
    key: str  # awaiting | shipped | unavailable | refunded | cancelled: for the page's colour and the tests


@dataclass(frozen=True)
class ShipmentRow:
    number: int
    carrier: str
    tracking_number: str
    tracking_url: str  # "" for a carrier no longer in rules/carriers.toml
    handed_over_at: str  # GTC-5.5: when the parcel was handed to the carrier, the moment risk passed
    contents: list[str]


@dataclass(frozen=True)
class MoneyView:
    held: str  # authorised on the card, not charged
    charged: str
    refunded: str
    any_charged: bool
    any_refunded: bool


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
    terms_url: str = ""
    lines: list[LineStateRow] = field(default_factory=list)
    shipments: list[ShipmentRow] = field(default_factory=list)
    money: MoneyView | None = None
    choices_waiting: int = 0  # unavailable pieces whose choice is awaited (offered through its own emailed link)
    contact_email: str = ""
    contact_phone: str = ""
    contact_phone_uri: str = ""  # the number without spaces, for a tel: link


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
    "handed_to_carrier": "Parcel handed to the carrier",
    "partially_shipped": "Part of your order shipped",
    "shipped": "Order shipped",
    "payment_captured": "Card charged for what shipped",
    "payment_refunded": "Refund made to your card",
    "item_unavailable": "A piece proved unavailable",
    "delivery_date_changed": "Delivery date changed",
    "delay_notice_sent": "We told you your order is delayed",
    "cancellation_offered": "A new delivery date or cancellation offered to you",
}


def terms_url(version: str) -> str:
    """The accepted version's own text (pages/terms.py reads `version`)."""
    return f"{routes.TERMS}?version={version}" if version else routes.TERMS


def _line_states(lines: list[OrderLine], refunded: dict[str, int], unavailable: dict[int, int]) -> list[LineStateRow]:
    """Each line split by state: shipped (less what was refunded of it), refunded, cancelled unshipped units
    (never charged), units awaiting the client's choice, and the rest awaiting shipment."""
    rows: list[LineStateRow] = []
    for line in lines:
        back = min(refunded.get(line.reference, 0), line.quantity)
        shipped_refunded = min(back, line.quantity_shipped)
        cancelled_refunded = back - shipped_refunded
        waiting = min(unavailable.get(line.id, 0), line.quantity - line.quantity_shipped - line.quantity_cancelled)
        parts = (("shipped", LineState.SHIPPED, line.quantity_shipped - shipped_refunded),
                 ("refunded", LineState.REFUNDED, back),
                 ("cancelled", LineState.CANCELLED, line.quantity_cancelled - cancelled_refunded),
                 ("unavailable", LineState.UNAVAILABLE, waiting),
                 ("awaiting", LineState.AWAITING,
                  line.quantity - line.quantity_shipped - line.quantity_cancelled - waiting))
        rows += [LineStateRow(line.name, line.reference, n, text, key) for key, text, n in parts if n > 0]
    return rows


def order_view(uow: UnitOfWork, reference: str, token: str, at: datetime | None = None) -> OrderView | None:
    """The order behind a signed view link; None for a wrong, expired or unknown link (no hint which).

    A read model in a fixed number of queries whatever the order's size: the order, its document (lines,
    terms), events, lines, shipments with their lines, holds, refunds and pending unavailable pieces."""
    if not isinstance(reference, str) or not isinstance(token, str) \
            or not links.valid(reference, token, links.Purpose.VIEW, at):
        return None
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference)).first()
        if order is None:
            return None
        doc = order_document(s, order)
        events = s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.at, OrderEvent.id)).all()
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        shipments = s.exec(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.number)).all()
        shipped = s.exec(select(ShipmentLine.shipment_id, ShipmentLine.order_line_id, ShipmentLine.quantity)
                         .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                         .where(Shipment.order_id == order.id).order_by(ShipmentLine.id)).all()
        holds = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id)).all()
        refunds = s.exec(select(RefundRecord).where(RefundRecord.order_id == order.id,
                                                    RefundRecord.status == RefundStatus.SUCCEEDED.value)).all()
        waiting = s.exec(select(UnavailableItem).where(UnavailableItem.order_id == order.id,
                                                       UnavailableItem.status == "awaiting_choice")).all()
    settings = get_settings()
    loc = order.locale
    money = lambda minor: Money(minor, order.currency).format(loc)  # noqa: E731
    timeline = [EventRow(format_date(e.at, "medium", locale=loc), CUSTOMER_EVENTS[e.type])
                for e in events if e.type in CUSTOMER_EVENTS]
    totals = TotalsView(
        lines=[LineRow(l.name, l.reference, l.quantity, l.unit_price, l.line_total) for l in doc.lines],
        subtotal=doc.subtotal, shipping=doc.shipping, vat_label=doc.vat_label or "", vat_amount=doc.vat_amount or "",
        duties_notice=doc.duties_notice or "", total=doc.total, ship_by=doc.ship_by, currency=doc.currency,
    )
    names = {line.id: line.name for line in lines}
    rows: list[ShipmentRow] = []
    for shipment in shipments:
        carrier = carrier_named(shipment.carrier)
        rows.append(ShipmentRow(
            shipment.number, shipment.carrier, shipment.tracking_number,
            carrier.link(shipment.tracking_number) if carrier else "",
            format_datetime(shipment.handed_over_at, "medium", tzinfo=settings.merchant_timezone, locale=loc),
            [f"{q} × {names.get(line_id, '')}" for sid, line_id, q in shipped if sid == shipment.id]))
    refunded_units: dict[str, int] = {}
    for refund in refunds:
        for ref, n in (refund.lines or {}).items():
            refunded_units[ref] = refunded_units.get(ref, 0) + int(n)
    pending: dict[int, int] = {}
    for item in waiting:
        pending[item.order_line_id] = pending.get(item.order_line_id, 0) + item.quantity
    held = sum(h.amount_minor for h in holds if h.status == PaymentStatus.HELD.value)
    charged = sum(h.captured_minor for h in holds)
    refunded = sum(r.amount_minor for r in refunds)
    return OrderView(order.reference, order.status, doc.status_label, OrderStatus(order.status) in FINAL, doc.placed_at,
                     totals, list(doc.shipping_address_lines), doc.terms_version, doc.terms_date, timeline,
                     terms_url=terms_url(doc.terms_version),
                     lines=_line_states(list(lines), refunded_units, pending), shipments=rows,
                     money=MoneyView(money(held), money(charged), money(refunded), charged > 0, refunded > 0),
                     choices_waiting=sum(pending.values()),
                     contact_email=settings.merchant_email, contact_phone=settings.merchant_phone,
                     contact_phone_uri="".join(settings.merchant_phone.split()))
