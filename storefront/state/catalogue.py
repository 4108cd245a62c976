"""Home, collection listing and product detail: one page of display-ready rows each."""

from __future__ import annotations

import reflex as rx

from storefront.services import catalogue
from storefront.services.catalogue import SORTS, CollectionView, ProductCard, ProductDetail
from storefront.state.cart import CartState, _int
from storefront.state.shop import ShopState


class HomeState(ShopState):
    featured: list[ProductCard] = []
    collections: list[CollectionView] = []

    @rx.event
    def load(self):
        self.featured = catalogue.list_products(self._market(), featured_only=True)[:8]
        self.collections = catalogue.collections()


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
            self.collections = catalogue.collections()
            self.materials = catalogue.materials()
        wanted = params.get("collection", "") if isinstance(params.get("collection", ""), str) else ""
        if wanted and wanted in {c.slug for c in self.collections}:
            self.collection = wanted
        self._query()

    def _query(self) -> None:
        self.products = catalogue.list_products(self._market(), self.collection, self.material, self.sort)

    @rx.event
    def set_filter_collection(self, value: str):
        slugs = {c.slug for c in self.collections}
        self.collection = value if value in slugs else ""
        self._query()

    @rx.event
    def set_filter_material(self, value: str):
        self.material = value if value in self.materials else ""
        self._query()

    @rx.event
    def set_sort(self, value: str):
        self.sort = value if value in SORTS else "featured"
        self._query()


class ProductState(ShopState):
    product: ProductDetail | None = None
    not_found: bool = False
    quantity: str = "1"

    @rx.event
    def load(self):
        # Prerendered product pages are static routes: their slug is the last part of the path.
        slug = self.router.page.params.get("slug", "") or self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        self.product = catalogue.product_detail(slug, self._market()) if isinstance(slug, str) else None
        self.not_found = self.product is None
        self.quantity = "1"

    @rx.event
    def set_quantity(self, value: str):
        self.quantity = str(value)[:4]

    @rx.event
    def step(self, delta: int):
        current = _int(self.quantity) or 1
        if self.product is not None and delta in (-1, 1):
            self.quantity = str(max(1, min(self.product.max_quantity or 1, current + delta)))

    @rx.event
    async def add_to_cart(self):
        if self.product is None:
            return rx.toast.error("This watch is not available.")
        cart = await self.get_state(CartState)
        refusal = cart._change(self.product.reference, self.quantity, add=True)
        if refusal:
            return rx.toast.error(refusal)
        return rx.toast.success(f"{self.product.name} added to your cart.")
