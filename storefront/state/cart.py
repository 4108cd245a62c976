"""Cart page and cart changes; every change goes through the cart service's rules."""

from __future__ import annotations

import re

import reflex as rx

from storefront.domain.errors import ErrorCode, Refusal
from storefront.services import cart as cart_service
from storefront.services.cart import CartLineView
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.shop import ShopState

_WHOLE = re.compile(r"-?\d{1,9}")


def whole_number(value: object) -> int | None:
    """A quantity as a page sends it (a number input's value arrives as a JSON number, null when the
    field holds no number) or as typed text; None unless it is a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e9 else None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


class CartState(ShopState):
    lines: list[CartLineView] = []
    subtotal: str = ""
    notices: list[str] = []
    error: str = ""
    error_code: str = ""

    def _show(self, cart: dict[str, int]) -> None:
        view = cart_service.view(UnitOfWork(), cart, self._market())
        self.lines = view.lines
        self.subtotal = view.subtotal
        self.notices = view.notices
        self.cart_count = view.count
        self.cart_json = cart_service.dump(view.cart)

    def _say(self, refusal: Refusal | None) -> None:
        """The refusal of the last change, shown until the next change or page load."""
        self.error, self.error_code = (refusal.message, refusal.code.value) if refusal else ("", "")

    @rx.event
    def refresh(self):
        """Runs on every page load: a refusal from an earlier page must not linger on this one."""
        self._say(None)
        self._show(cart_service.parse(self.cart_json))

    def _change(self, reference: object, quantity: object, add: bool) -> Refusal | None:
        """Apply the change, or say why not; the refusal is returned so a caller never reports success."""
        number = whole_number(quantity)
        if not isinstance(reference, str):
            refusal = Refusal(ErrorCode.INVALID_REQUEST)
        elif number is None:
            refusal = Refusal(ErrorCode.INVALID_QUANTITY)
        else:
            cart, refusal = cart_service.set_quantity(UnitOfWork(), cart_service.parse(self.cart_json), reference, number,
                                                      add=add)
            if refusal is None:
                self._show(cart)
        self._say(refusal)
        return refusal

    @rx.event
    def set_quantity(self, reference: str, quantity: int | float | None):
        self._change(reference, quantity, add=False)

    @rx.event
    def remove(self, reference: str):
        if isinstance(reference, str):
            self._show(cart_service.remove(cart_service.parse(self.cart_json), reference))
        self._say(None)
