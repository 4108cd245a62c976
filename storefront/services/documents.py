"""The customer's view of an order (OrderDocument), built from the snapshot stored on the order.

Everything comes from the order row, never from the current catalogue or price list, so the
email, the status page and later the invoice show what was contracted (GTC-4.2). Dates and amounts
use `order.locale`, the display locale the client ordered in, so every later email reads like the pages did.
"""

from __future__ import annotations

from decimal import Decimal

from babel.dates import format_date, format_datetime
from sqlmodel import Session, select

from storefront.adapters.tables import Order, OrderLine, TermsVersion
from storefront.domain.documents import LineView, OrderDocument
from storefront.domain.markets import country as country_of
from storefront.domain.money import Money
from storefront.domain.order_info import Address
from storefront.domain.order_status import OrderStatus, customer_label
from storefront.domain.quote import DUTIES_NOTICE
from storefront.domain.tax import vat_label
from storefront.services import links
from storefront.settings import get_settings


def order_document(session: Session, order: Order) -> OrderDocument:
    s = get_settings()
    money = lambda minor: Money(minor, order.currency).format(order.locale)  # noqa: E731
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    terms = session.get(TermsVersion, order.terms_version_id) if order.terms_version_id else None
    has_vat = order.vat_rate is not None
    return OrderDocument(
        reference=order.reference,
        placed_at=format_datetime(order.placed_at, "medium", tzinfo=s.merchant_timezone, locale=order.locale),
        customer_name=order.full_name,
        email=order.email,
        shipping_address_lines=Address(**order.shipping_address).lines(),
        billing_address_lines=Address(**order.billing_address).lines(),
        lines=tuple(LineView(l.name, l.reference, l.quantity, money(l.unit_price_minor), money(l.unit_price_minor * l.quantity))
                    for l in lines),
        subtotal=money(order.subtotal_minor),
        shipping=money(order.shipping_minor),
        vat_label=vat_label(Decimal(order.vat_rate)) if has_vat else None,
        vat_amount=money(order.vat_minor) if has_vat else None,
        duties_notice=None if has_vat else DUTIES_NOTICE.format(country=country_of(order.country).name),
        total=money(order.total_minor),
        currency=order.currency,
        terms_version=terms.version if terms else "",  # none yet: a telephone order the client has not confirmed
        terms_date=format_date(terms.published_at, "long", locale=order.locale) if terms else "",
        ship_by=format_date(order.ship_by, "full", locale=order.locale),
        status_url=links.order_url(order.reference),
        status_label=customer_label(OrderStatus(order.status)),
        merchant_name=s.merchant_name,
        merchant_address_lines=(s.merchant_street, f"{s.merchant_postcode} {s.merchant_city}", "Switzerland"),
        merchant_email=s.merchant_email,
        merchant_vat_id=s.merchant_vat_id,
    )
