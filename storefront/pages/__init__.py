"""Pages: layout and components only; every rule lives in services and domain."""

from storefront.pages import admin, admin_outbox, admin_staff, admin_terms, cart, checkout, home, order, product, terms, watches  # noqa: F401  (registers the routes)
from storefront.pages import admin_sanctions  # noqa: F401,E402  (the sanctions page, issue 10 § 3)
from storefront.pages import admin_catalogue  # noqa: F401,E402  (the catalogue page, issue 10 § 1)
from storefront.pages import admin_privacy  # noqa: F401,E402  (retention and erasure requests, issue 10 § 7)
from storefront.pages import admin_telephone_order  # noqa: F401,E402  (telephone orders, issue 10 § 5)
from storefront.pages import find_order  # noqa: F401,E402  (find my order, issue 11 § 1)
