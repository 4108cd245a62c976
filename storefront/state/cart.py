"""Cart page and cart changes; every change goes through the cart service's rules."""

from __future__ import annotations

import reflex as rx

from storefront.services import cart as cart_service
from storefront.services.cart import CartLineView
from storefront.state.shop import ShopState


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if -1000 < number < 1000 else None


class CartState(ShopState):
    lines: list[CartLineView] = []
    subtotal: str = ""
    notices: list[str] = []
    error: str = ""

    def _show(self, cart: dict[str, int]) -> None:
        view = cart_service.view(cart, self._market())
        self.lines = view.lines
        self.subtotal = view.subtotal
        self.notices = view.notices
        self.cart_count = view.count
        self.cart_json = cart_service.dump(view.cart)

    @rx.event
    def refresh(self):
        self._show(cart_service.parse(self.cart_json))

    def _change(self, reference, quantity, add: bool):
        qty = _int(quantity)
        if qty is None or not isinstance(reference, str):
            self.error = "Please enter a whole number."
            return None
        cart, refusal = cart_service.set_quantity(cart_service.parse(self.cart_json), reference, qty, add=add)
        self.error = refusal or ""
        self._show(cart)
        return refusal

    @rx.event
    def add(self, reference: str, quantity: int):
        refusal = self._change(reference, quantity, add=True)
        if refusal:
            return rx.toast.error(refusal)
        return rx.toast.success("Added to your cart.")

    @rx.event
    def set_quantity(self, reference: str, quantity: str):
        self._change(reference, quantity, add=False)

    @rx.event
    def remove(self, reference: str):
        if isinstance(reference, str):
            self._show(cart_service.remove(cart_service.parse(self.cart_json), reference))
        self.error = ""
