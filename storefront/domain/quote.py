"""What an order costs, computed the same way at every step and again at confirmation.

The browser never sends an amount: only references and quantities. Prices come from the price list,
shipping from the zone table, VAT from the dated rate table; the quote is then snapshotted on the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storefront.domain.business_days import BusinessCalendar
from storefront.domain.markets import Country
from storefront.domain.money import Money, total
from storefront.domain.shipping import ShippingTable, shipping_fee
from storefront.domain.tax import VatLine, compute_vat

DUTIES_NOTICE = (
    "No VAT is added for delivery to {country}. Import duties, VAT and other local charges are not "
    "included and are payable by you on delivery."
)


@dataclass(frozen=True)
class QuoteLine:
    reference: str
    name: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Quote:
    country: Country
    lines: tuple[QuoteLine, ...]
    subtotal: Money
    shipping: Money
    vat: VatLine | None
    total: Money
    ship_by: date

    @property
    def duties_notice(self) -> str | None:
        return None if self.vat else DUTIES_NOTICE.format(country=self.country.name)


def quote(lines: list[QuoteLine], country: Country, table: ShippingTable, calendar: BusinessCalendar,
          at: datetime) -> Quote:
    if not lines:
        raise ValueError("An order needs at least one line.")
    currency = country.currency
    if any(line.unit_price.currency != currency for line in lines):
        raise ValueError("Every line must be priced in the delivery country's currency.")
    subtotal = total([line.total for line in lines], currency)
    shipping = shipping_fee(table, country.shipping_zone, currency)
    vat = compute_vat(country.code, subtotal + shipping, calendar.local(at).date())
    grand = subtotal + shipping + (vat.amount if vat else Money.zero(currency))
    return Quote(country, tuple(lines), subtotal, shipping, vat, grand, calendar.ship_by_date(at))


