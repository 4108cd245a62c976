"""Home, collection listing and product detail: one page of display-ready rows each."""

from __future__ import annotations

from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, Refusal
from storefront.services import catalogue
from storefront.services.catalogue import SORTS, CollectionView, ProductCard, ProductDetail
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.cart import CartState, whole_number
from storefront.state.shop import ShopState


class HomeState(ShopState):
    featured: list[ProductCard] = []
    collections: list[CollectionView] = []

    @rx.event
    def load(self):
        self.featured = catalogue.list_products(UnitOfWork(), self._market(), featured_only=True)[:8]
        self.collections = catalogue.collections(UnitOfWork())


class ListingState(ShopState):
    products: list[ProductCard] = []
    collections: list[CollectionView] = []
    materials: list[str] = []
    collection: str = ""
    material: str = ""
    sort: str = "featured"

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        if not self.collections:
            self.collections = catalogue.collections(UnitOfWork())
            self.materials = catalogue.materials(UnitOfWork())
        wanted = params.get("collection", "") if isinstance(params.get("collection", ""), str) else ""
        if wanted and wanted in {c.slug for c in self.collections}:
            self.collection = wanted
        self._query()

    def _query(self) -> None:
        self.products = catalogue.list_products(UnitOfWork(), self._market(), self.collection, self.material, self.sort)

    @rx.event
    def set_filter_collection(self, value: str):
        slugs = {c.slug for c in self.collections}
        self.collection = value if isinstance(value, str) and value in slugs else ""
        self._query()

    @rx.event
    def set_filter_material(self, value: str):
        self.material = value if isinstance(value, str) and value in self.materials else ""
        self._query()

    @rx.event
    def set_sort(self, value: str):
        self.sort = value if isinstance(value, str) and value in SORTS else "featured"
        self._query()


class ProductState(ShopState):
    product: ProductDetail | None = None
    not_found: bool = False
    withdrawn: bool = False  # the watch exists but is no longer offered (GTC-3.1)
    quantity: str = "1"
    # What adding to the cart said, shown beside the button rather than as a toast: on a phone a toast
    # would cover the very button the shopper taps next.
    notice: str = ""
    notice_code: str = ""

    @rx.event
    def load(self):
        # The slug comes from the dynamic route; the path is the fallback should a page arrive by another route.
        slug = self.router.page.params.get("slug", "") or self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        shown = self.product.reference if self.product is not None else None
        self.product = catalogue.product_detail(UnitOfWork(), slug, self._market()) if isinstance(slug, str) else None
        self.not_found = self.product is None
        self.withdrawn = self.product is None and catalogue.withdrawn(UnitOfWork(), slug)
        # Loading again the watch on screen (a second page-load event, a change of country) keeps what the
        # shopper typed and was told: a late reload must never put the quantity back to 1 under their thumb.
        if self.product is None or self.product.reference != shown:
            self.quantity = "1"
            self._say("", "")

    @rx.event
    def set_quantity(self, value: int | float | None):
        """The number field's value (a JSON number; null when the field holds none), kept as the field
        shows it: adding to the cart says what is wrong with it."""
        self._take_quantity(value)

    def _take_quantity(self, value: object) -> None:
        number = whole_number(value)
        quantity = str(number) if number is not None else ""
        if quantity != self.quantity:
            self.quantity = quantity
            self._say("", "")  # what was said about the previous number no longer holds

    def _say(self, code: str, text: str) -> None:
        self.notice_code, self.notice = code, text

    @rx.event
    def step(self, delta: int):
        current = whole_number(self.quantity) or 1
        if self.product is not None and type(delta) is int and delta in (-1, 1):
            self._take_quantity(max(1, min(self.product.max_quantity or 1, current + delta)))

    @rx.event
    async def add_to_cart(self, form_data: dict[str, Any] | None = None):
        """Adds the number the page's field shows when it sends it (the form), else the last one reported."""
        if isinstance(form_data, dict) and "quantity" in form_data:
            self._take_quantity(form_data["quantity"])
        if self.product is None:
            refusal = Refusal(ErrorCode.PRODUCT_UNAVAILABLE)
        else:
            cart = await self.get_state(CartState)
            refusal = cart._change(self.product.reference, self.quantity, add=True)
        if refusal is not None:
            self._say(refusal.code.value, refusal.message)
        else:
            self._say("added_to_cart", f"{self.product.name} added to your cart.")
