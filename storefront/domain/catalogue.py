"""Availability wording and the quantity rules every cart change and order must pass (GTC-3.2, GTC-3.3)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from anyascii import anyascii
from babel.numbers import get_currency_precision

from storefront.domain.errors import ErrorCode, Refusal
from storefront.rules import load


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    LOW = "low"
    OUT = "out_of_stock"


@dataclass(frozen=True)
class AvailabilityView:
    kind: Availability
    text: str


def availability(stock: int) -> AvailabilityView:
    threshold = load("catalogue")["low_stock_threshold"]
    if stock <= 0:
        return AvailabilityView(Availability.OUT, "Out of stock")
    if stock <= threshold:
        return AvailabilityView(Availability.LOW, f"Only {stock} left")
    return AvailabilityView(Availability.IN_STOCK, "In stock")


def max_orderable(stock: int, max_per_order: int) -> int:
    """The most a client may put in one order: the per-order limit, bounded by what is in stock."""
    return max(0, min(stock, max_per_order))


def quantity_refusal(name: str, requested: int, stock: int, max_per_order: int, active: bool = True) -> Refusal | None:
    """Why `requested` units cannot be ordered, or None when they can."""
    if not active:
        return Refusal(ErrorCode.PRODUCT_NOT_OFFERED, {"name": name})
    if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
        return Refusal(ErrorCode.QUANTITY_BELOW_ONE)
    if requested > max_per_order:
        return Refusal(ErrorCode.OVER_ORDER_LIMIT, {"name": name, "limit": max_per_order})
    if stock <= 0:
        return Refusal(ErrorCode.OUT_OF_STOCK, {"name": name})
    if requested > stock:
        return Refusal(ErrorCode.OVER_STOCK, {"name": name, "stock": stock})
    return None


# -- what staff type on the management page's catalogue (issue 10 section 1) ----------------------------


AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


def amount_input(text: object, currency: str, kind: str = "price") -> int | Refusal:
    """A price or shipping fee typed in major units ("12500", "12,500.00") as integer minor units of
    `currency`, or the refusal to show next to the field. Decimal throughout, never a float: more
    decimals than the currency has (Babel: JPY none, CHF two) are refused, not rounded; so are zero,
    negative amounts and amounts above the ceiling of rules/catalogue.toml."""
    rules = load("catalogue")
    ceilings = rules["price_ceiling" if kind == "price" else "shipping_fee_ceiling"]
    if currency not in ceilings:
        return Refusal(ErrorCode.CURRENCY_NOT_SOLD, {"currency": str(currency)[:3]})
    raw = text.strip().replace(",", "").replace("'", "").replace(" ", "") if isinstance(text, str) else ""
    if not AMOUNT.fullmatch(raw):
        return Refusal(ErrorCode.AMOUNT_INVALID)
    amount = Decimal(raw)
    if amount <= 0:
        return Refusal(ErrorCode.AMOUNT_NOT_POSITIVE)
    places = get_currency_precision(currency)
    if -amount.as_tuple().exponent > places:
        return Refusal(ErrorCode.AMOUNT_TOO_PRECISE, {"currency": currency, "places": places})
    if amount > ceilings[currency]:
        return Refusal(ErrorCode.AMOUNT_TOO_LARGE, {"currency": currency, "limit": f"{ceilings[currency]:,}"})
    return int(amount.scaleb(places))


def slug_for(name: str, reference: str) -> str:
    """The product page's address: /watch/<slug>, from the name and the reference (unique)."""
    words = re.sub(r"[^a-z0-9]+", "-", anyascii(f"{name} {reference}").lower()).strip("-")
    return words[:120].strip("-")
