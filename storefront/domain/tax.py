"""VAT for deliveries to Switzerland and Germany; nothing for anywhere else (GTC-4.1).

Rounding rule: catalogue prices and shipping fees are net. VAT is computed ONCE per order, on the
taxable base (goods subtotal + shipping fee), and rounded half up to the currency's minor unit.
Never per line: summing rounded line taxes can drift a cent from the invoice total.

For any other destination `compute_vat` returns None and the caller tells the client that import
duties, VAT and local charges are theirs. The rate is chosen by the order date, so an order placed
before a rate change keeps the rate it was placed under.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from storefront.domain.money import Money
from storefront.rules import load


@dataclass(frozen=True)
class VatPeriod:
    country: str
    rate: Decimal  # a fraction: 0.081 for 8.1 %
    valid_from: date
    valid_to: date | None  # inclusive; None while the rate is current

    def covers(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class VatLine:
    rate: Decimal
    amount: Money
    label: str


@lru_cache
def vat_periods() -> tuple[VatPeriod, ...]:
    return tuple(
        VatPeriod(row["country"], Decimal(row["percent"]) / 100, row["valid_from"], row.get("valid_to"))
        for row in load("tax")["rates"]
    )


def percent_text(rate: Decimal) -> str:
    """0.081 -> '8.1', 0.19 -> '19' (no exponent notation, no trailing zeros)."""
    return f"{(rate * 100).normalize():f}"


def vat_rate(country_code: str, on: date) -> Decimal | None:
    code = (country_code or "").upper()
    return next((p.rate for p in vat_periods() if p.country == code and p.covers(on)), None)


def compute_vat(country_code: str, taxable: Money, on: date) -> VatLine | None:
    rate = vat_rate(country_code, on)
    if rate is None:
        return None
    amount = Money.from_decimal(taxable.to_decimal() * rate, taxable.currency)
    return VatLine(rate, amount, vat_label(rate))


def vat_label(rate: Decimal) -> str:
    """'VAT 8.1%': the one wording of the tax line on pages, emails and invoices."""
    return f"{load('tax')['label']} {percent_text(rate)}%"
