"""Pages: layout and components only; every rule lives in services and domain."""

from storefront.pages import admin, admin_outbox, admin_terms, cart, checkout, home, order, product, terms, watches  # noqa: F401  (registers the routes)
