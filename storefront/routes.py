"""Route registry: every page registers here through the `page` template, and the app adds them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    path: str
    title: str
    component: Callable
    on_load: list = field(default_factory=list)
    description: str = ""


ROUTES: list[Route] = []
# Events that fill a page's data for the current country; re-run when the country changes.
PAGE_LOADERS: dict[str, list] = {}

HOME = "/"
WATCHES = "/watches"
WATCH = "/watch/[slug]"
# The product page prerendered with its placeholders; http_product_shell sends it for every /watch/<slug>.
WATCH_SHELL = "/watch/__shell"
CART = "/cart"
CHECKOUT = "/checkout"
TERMS = "/terms"
ORDER = "/order/[reference]"
FIND_ORDER = "/find-order"
ADMIN = "/admin"
ADMIN_LOGIN = "/admin/login"
ADMIN_ENROL = "/admin/enrol"
ADMIN_ORDERS = "/admin/orders"
ADMIN_ORDER = "/admin/orders/[reference]"
ADMIN_AUDIT = "/admin/audit"
ADMIN_TERMS = "/admin/terms"
ADMIN_EMAILS = "/admin/emails"
ADMIN_SANCTIONS = "/admin/sanctions"
ADMIN_STAFF = "/admin/staff"
ADMIN_CATALOGUE = "/admin/catalogue"
ADMIN_PRIVACY = "/admin/privacy"
ADMIN_TELEPHONE_ORDER = "/admin/telephone-order"

# Each page's meta description (search results, link previews); "{brand}" is the merchant's brand.
# A page registered under a path not listed here takes the description of its route pattern (WATCH for
# every /watch/... page), else HOME's.
DESCRIPTIONS: dict[str, str] = {
    HOME: "{brand}: hand-finished mechanical watches from Geneva, made in small series and delivered "
          "insured worldwide, with prices in your currency.",
    WATCHES: "Every {brand} watch in one place: browse the collections and compare prices, in your currency, "
             "and availability.",
    WATCH: "A {brand} watch from Geneva: its details and specifications, its price in your currency, "
           "availability and insured delivery.",
    CART: "Your {brand} cart: the watches you have chosen, quantities and the price of each before checkout.",
    CHECKOUT: "Check out with {brand}: delivery address, shipping and taxes for your country, the terms of "
              "sale and secure card payment.",
    TERMS: "The {brand} terms of sale: who can order, how an order is placed, prices and taxes, card payment "
           "and delivery.",
    ORDER: "Your {brand} order: its status, delivery address, the terms you accepted and its history.",
    FIND_ORDER: "Find your {brand} order with its reference and your email address: its status, shipments "
                "and tracking.",
}


def watch_url(slug) -> str:
    return "/watch/" + slug


def description_for(path: str, brand: str) -> str:
    if path in DESCRIPTIONS:
        text = DESCRIPTIONS[path]
    elif path.startswith("/watch/"):
        text = DESCRIPTIONS[WATCH]
    else:
        text = DESCRIPTIONS[HOME]
    return text.format(brand=brand)


def loaders_for(path: str) -> list:
    path = "/" + (path or "").strip("/")
    return PAGE_LOADERS.get("/" if path in ("/", "/index") else path, [])
