"""Availability wording and the quantity rules every cart change and order must pass (GTC-3.2, GTC-3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
