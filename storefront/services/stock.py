"""The stock-movement history: every change of a product's stock, who or what made it, and why.

Each change is written in the transaction that changes `product.stock`, right after the update, with the
stock it left (`stock_after`), so the history always explains the number on the product: staff
adjustments carry the staff id and a reason code of rules/catalogue.toml; orders carry their id and
`order_placed` or `order_cancelled`, with no staff id. The table is append-only (migration a9c1d2e3f4b5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlmodel import Session, select

from storefront.adapters.tables import Product, StockMovement

ORDER_PLACED = "order_placed"
ORDER_CANCELLED = "order_cancelled"


@dataclass(frozen=True)
class MovementRow:
    id: int
    at: datetime
    delta: int
    stock_after: int
    reason: str
    note: str
    staff_id: int | None
    order_id: int | None


def record_change(s: Session, product_id: int, delta: int, reason: str, *, at: datetime,
                  staff_id: int | None = None, order_id: int | None = None, note: str = "") -> StockMovement:
    """Append the movement for a stock update just made in this transaction (`delta` units, signed)."""
    after = s.exec(select(Product.stock).where(Product.id == product_id)).one()
    movement = StockMovement(product_id=product_id, delta=delta, stock_after=after, reason=reason, note=note,
                             staff_id=staff_id, order_id=order_id, at=at)
    s.add(movement)
    return movement


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def history(s: Session, product_id: int, limit: int = 100) -> list[MovementRow]:
    """Newest first."""
    rows = s.exec(select(StockMovement).where(StockMovement.product_id == product_id)
                  .order_by(StockMovement.id.desc()).limit(limit)).all()
    return [MovementRow(m.id, _aware(m.at), m.delta, m.stock_after, m.reason, m.note, m.staff_id, m.order_id)
            for m in rows]
