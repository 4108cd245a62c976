"""The "Find my order" page: the reference and email address lead to the order's status page (CARD-3)."""

from __future__ import annotations

import reflex as rx

from storefront.domain.errors import message
from storefront.services import find_order
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.shop import ShopState


class FindOrderState(ShopState):
    error: str = ""  # the one answer for every mismatch, or the rate limit's

    @rx.event
    def load(self):
        self.error = ""

    @rx.event
    def find(self, form_data: dict):
        """Any browser may send anything here: the service takes any value and answers every mismatch alike."""
        if not isinstance(form_data, dict):
            return None
        found = find_order.find(UnitOfWork(), form_data.get("reference"), form_data.get("email"),
                                ip=self._client_ip())
        if found.code is not None:
            self.error = message(found.code)
            return None
        self.error = ""
        return rx.redirect(found.path)
