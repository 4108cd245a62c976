"""The customer's order page, opened only through its signed link (reference + token)."""

from __future__ import annotations

import reflex as rx

from storefront.services.order_view import OrderView, order_view
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.shop import ShopState


class OrderStatusState(ShopState):
    order: OrderView | None = None
    not_found: bool = False
    just_placed: bool = False

    def _forget(self) -> None:
        self.reset()

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        reference = self.router.page.params.get("reference", "")
        token = params.get("t", "")
        self.order = order_view(UnitOfWork(), reference, token) if isinstance(token, str) else None
        self.not_found = self.order is None
        self.just_placed = params.get("placed") == "1"
