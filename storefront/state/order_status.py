"""The customer's order page, opened only through its signed link (reference + token)."""

from __future__ import annotations

import reflex as rx

from storefront.domain.errors import message
from storefront.services import unavailable_items
from storefront.services.order_admin import ActionRefused
from storefront.services.order_view import OrderView, order_view
from storefront.services.unavailable_items import Offer
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.shop import ShopState


class OrderStatusState(ShopState):
    order: OrderView | None = None
    not_found: bool = False
    just_placed: bool = False
    # GTC-3.2: a piece found unavailable, when the page was opened through the choice link
    offer: Offer | None = None
    choice_answer: str = ""

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
        self.choice_answer = ""
        choice = params.get("unavailable", "")
        self.offer = (unavailable_items.pending_offer(UnitOfWork(), reference, choice)
                      if self.order is not None and choice else None)

    @rx.event
    def choose(self, choice: str):
        """The client's answer to the unavailable piece: a new date or its refund (GTC-3.2). The link's token
        is read again from the page address; the state holds no proof of anything."""
        params = self.router.url.query_parameters
        reference = self.router.page.params.get("reference", "")
        token = params.get("unavailable", "")
        if self.order is None or self.offer is None or not isinstance(choice, str):
            return
        try:
            outcome = unavailable_items.choose(UnitOfWork(), reference, token, choice)
            self.choice_answer = ("Thank you: the new delivery date is agreed." if outcome == "new_date_agreed"
                                  else "Thank you: this piece is cancelled and will not be charged.")
        except ActionRefused as refused:
            self.choice_answer = message(refused.refusal.code, **refused.refusal.params)
        self.offer = None
        self.order = order_view(UnitOfWork(), reference, params.get("t", ""))
