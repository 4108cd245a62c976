"""Products with their price in one market's currency: the single query behind cart, quote and order.

Cart, checkout and order placement must see the same product and the same price for a reference,
or a shopper could be shown one amount and held for another; so they all load through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import Session, select

from storefront.adapters.tables import Product, ProductPrice


@dataclass(frozen=True)
class PricedProduct:
    product: Product
    price_minor: int | None  # None: not sold in this currency

    @property
    def offered(self) -> bool:
        return self.product.active and self.price_minor is not None


def products_by_reference(session: Session, references: list[str]) -> dict[str, Product]:
    """The products named by `references`; unknown ones are simply absent."""
    if not references:
        return {}
    return {p.reference: p for p in session.exec(select(Product).where(Product.reference.in_(references))).all()}


def priced_products(session: Session, references: list[str], currency: str) -> dict[str, PricedProduct]:
    """The products named by `references` with their price in `currency`, in one statement (the cart and the
    quote call this at most checkout steps)."""
    if not references:
        return {}
    rows = session.exec(
        select(Product, ProductPrice.amount_minor)
        .outerjoin(ProductPrice, and_(ProductPrice.product_id == Product.id, ProductPrice.currency == currency))
        .where(Product.reference.in_(references))
    ).all()
    return {product.reference: PricedProduct(product, amount) for product, amount in rows}
