"""The page template: header with country selector and cart, notices, footer; registers the route."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.settings import get_settings
from storefront.state.cart import CartState
from storefront.state.shop import ShopState

MAX_WIDTH = "1200px"


def country_selector() -> rx.Component:
    return rx.el.select(
        rx.foreach(ShopState.countries, lambda c: rx.el.option(c.label, value=c.code)),
        value=ShopState.country,
        on_change=ShopState.set_country,
        aria_label="Country of delivery",
        id="country-select",
        style={"width": "11rem", "padding": "0.35rem", "borderRadius": "6px",
               "border": "1px solid var(--gray-7)", "background": "var(--color-panel-solid)", "fontSize": "0.9rem"},
    )


def header() -> rx.Component:
    return rx.el.header(
        rx.flex(
            rx.link(rx.image(src="/logo.svg", alt=get_settings().merchant_brand, height="36px", width="144px"), href=routes.HOME),
            rx.flex(
                rx.link("Watches", href=routes.WATCHES, size="3", color_scheme="gray", high_contrast=True),
                country_selector(),
                rx.link(
                    rx.flex(rx.icon("shopping-bag", size=20), rx.text(ShopState.cart_count, id="cart-count", style={"minWidth": "2ch", "textAlign": "center"}),
                            align="center", spacing="1"),
                    href=routes.CART, aria_label="Cart", color_scheme="gray", high_contrast=True,
                ),
                align="center", spacing="4", wrap="wrap", justify="end",
            ),
            justify="between", align="center", wrap="wrap", spacing="3",
            max_width=MAX_WIDTH, margin="0 auto", padding="0.75rem 1rem",
        ),
        style={"borderBottom": "1px solid var(--gray-5)", "background": "var(--color-panel-solid)"},
    )


def origin_banner() -> rx.Component:
    return rx.cond(
        ShopState.origin_notice != "",
        rx.callout(ShopState.origin_notice, icon="info", color_scheme="amber", id="origin-notice",
                   max_width=MAX_WIDTH, margin="0.75rem auto"),
    )


def footer() -> rx.Component:
    s = get_settings()
    return rx.el.footer(
        rx.flex(
            rx.text(f"{s.merchant_name} · {s.merchant_street}, {s.merchant_postcode} {s.merchant_city}", size="1"),
            rx.text(
                rx.link("Terms of sale", href=routes.TERMS), " · ",
                rx.link("Find my order", href=routes.FIND_ORDER, id="footer-find-order"), " · ",
                rx.link(s.merchant_email, href=f"mailto:{s.merchant_email}"),
                size="1",
            ),
            justify="between", wrap="wrap", spacing="2", max_width=MAX_WIDTH, margin="0 auto", padding="1.5rem 1rem",
        ),
        style={"borderTop": "1px solid var(--gray-5)", "marginTop": "3rem", "color": "var(--gray-11)"},
    )


def page(route: str, title: str, on_load: list | None = None, description: str | None = None):
    """Wrap a page body in the shop layout and register it.

    `description` (the page's meta description) defaults to the route's entry in routes.DESCRIPTIONS.

    The page's `on_load` events run once the country is settled (ShopState.init) and again whenever
    the shopper changes country, so every price on the page is re-rendered in the new currency.
    """
    page_events = list(on_load or [])

    def decorator(body_fn):
        def component() -> rx.Component:
            return rx.box(
                header(),
                origin_banner(),
                # At least a screen tall: the footer starts below the fold, so content that arrives with the
                # state (and is taller or shorter than its placeholder) never moves anything in view.
                rx.el.main(body_fn(), max_width=MAX_WIDTH, margin="0 auto", padding="1rem", width="100%",
                           min_height="100vh"),
                footer(),
                style={"minHeight": "100vh", "overflowX": "hidden"},
            )

        component.__name__ = body_fn.__name__
        brand = get_settings().merchant_brand
        routes.ROUTES.append(routes.Route(route, f"{title} · {brand}", component, [ShopState.init],
                                          description or routes.description_for(route, brand)))
        routes.PAGE_LOADERS[route] = [CartState.refresh, *page_events]
        return component

    return decorator


def pricing_notice() -> rx.Component:
    """GTC-4.1: what a displayed price includes and what is settled at checkout."""
    return rx.text(
        "Prices are for the watch only. Shipping is calculated at checkout. For delivery to Switzerland "
        "and Germany, VAT is added at checkout; for all other destinations, import duties and taxes are "
        "not included and are payable by the client.",
        size="2", color_scheme="gray", class_name="pricing-notice",
    )
