"""Pages: layout and components only; every rule lives in services and domain."""

from storefront.pages import admin, cart, checkout, home, order, product, terms, watches  # noqa: F401  (registers the routes)
