"""The cart lives in the shopper's browser as {reference: quantity}; the server trusts none of it.

Every read re-validates against the catalogue (active, stock, per-order limit) and re-prices in the
market's currency; every change is refused with a message, never stored, when a rule forbids it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from storefront.domain.catalogue import max_orderable, quantity_refusal
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.markets import Country, display_locale, page_language
from storefront.domain.money import Money
from storefront.services.price_list import priced_products, products_by_reference
from storefront.services.unit_of_work import UnitOfWork

MAX_LINES = 20


@dataclass(frozen=True)
class CartLineView:
    reference: str
    slug: str
    name: str
    image: str
    quantity: int
    max_quantity: int
    unit_price: str
    line_total: str


@dataclass
class CartView:
    lines: list[CartLineView] = field(default_factory=list)
    subtotal: str = ""
    count: int = 0
    notices: list[str] = field(default_factory=list)
    cart: dict[str, int] = field(default_factory=dict)


def parse(raw: str | dict | None) -> dict[str, int]:
    """Whatever the browser stored, as a small {reference: positive int} dict."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else (raw or {})
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    clean: dict[str, int] = {}
    for key, value in list(data.items())[:MAX_LINES]:
        if isinstance(key, str) and len(key) <= 40 and isinstance(value, int) and not isinstance(value, bool) and value > 0:
            clean[key] = value
    return clean


def dump(cart: dict[str, int]) -> str:
    return json.dumps(cart, separators=(",", ":"), sort_keys=True)


def view(uow: UnitOfWork, cart: dict[str, int], country: Country) -> CartView:
    """Validated, priced lines; what can no longer be ordered is dropped or reduced, with a notice."""
    result = CartView()
    locale = display_locale(page_language(), country.code)
    with uow.reading() as session:
        priced = priced_products(session, list(cart), country.currency)
    subtotal = Money.zero(country.currency)
    for reference, quantity in cart.items():
        item = priced.get(reference)
        product = item.product if item else None
        if item is None or not item.offered:
            if product is not None:
                result.notices.append(f"{product.name} is no longer offered and was removed from your cart.")
            continue
        allowed = max_orderable(product.stock, product.max_per_order)
        if allowed == 0:
            result.notices.append(f"{product.name} is out of stock and was removed from your cart.")
            continue
        if quantity > allowed:
            result.notices.append(f"{product.name}: quantity reduced to {allowed} (limit per order or stock).")
            quantity = allowed
        unit = Money(item.price_minor, country.currency)
        subtotal = subtotal + unit * quantity
        result.cart[reference] = quantity
        result.count += quantity
        result.lines.append(
            CartLineView(
                reference=reference,
                slug=product.slug,
                name=product.name,
                image="/" + (product.images[0] if product.images else ""),
                quantity=quantity,
                max_quantity=allowed,
                unit_price=unit.format(locale),
                line_total=(unit * quantity).format(locale),
            )
        )
    result.subtotal = subtotal.format(locale)
    return result


def set_quantity(uow: UnitOfWork, cart: dict[str, int], reference: str, quantity: int,
                 add: bool = False) -> tuple[dict[str, int], Refusal | None]:
    """The cart with `reference` at `quantity` (or increased by it), or the unchanged cart and why not."""
    if not isinstance(reference, str) or not isinstance(quantity, int) or isinstance(quantity, bool):
        return cart, Refusal(ErrorCode.INVALID_REQUEST)
    if add and quantity < 1:
        return cart, Refusal(ErrorCode.QUANTITY_BELOW_ONE)
    with uow.reading() as session:
        product = products_by_reference(session, [reference]).get(reference)
    if product is None or not product.active:
        return cart, Refusal(ErrorCode.PRODUCT_UNAVAILABLE)
    if not add and quantity == 0:
        return {k: v for k, v in cart.items() if k != reference}, None
    wanted = cart.get(reference, 0) + quantity if add else quantity
    if reference not in cart and len(cart) >= MAX_LINES:
        return cart, Refusal(ErrorCode.CART_TOO_MANY_LINES, {"limit": MAX_LINES})
    refusal = quantity_refusal(product.name, wanted, product.stock, product.max_per_order, product.active)
    if refusal:
        return cart, refusal
    return {**cart, reference: wanted}, None


def remove(cart: dict[str, int], reference: str) -> dict[str, int]:
    return {k: v for k, v in cart.items() if k != reference}
