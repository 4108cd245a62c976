import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.components.product_card import product_grid, product_grid_placeholder
from storefront.settings import get_settings
from storefront.state.catalogue import HomeState


HERO_IMAGE = "/watches/vx-3001.svg"


def collection_tile(col) -> rx.Component:
    return rx.link(
        rx.card(
            rx.flex(
                rx.image(src=col.image, alt=col.name, width="96px", height="96px"),
                rx.flex(rx.heading(col.name, size="4", as_="h3"), rx.text(col.description, size="2", color_scheme="gray"),
                        direction="column", spacing="1"),
                spacing="3", align="center",
            ),
        ),
        href=routes.WATCHES + "?collection=" + col.slug, underline="none", color_scheme="gray", high_contrast=True,
        class_name="block-link",
    )


COLLECTION_COLUMNS = rx.breakpoints(initial="1", md="3")


def collection_tile_placeholder() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.skeleton(width="96px", height="96px", style={"flexShrink": "0"}),
            rx.flex(rx.skeleton(height="1.5rem", width="60%"), rx.skeleton(height="2.5rem", width="100%"),
                    direction="column", spacing="1", flex="1"),
            spacing="3", align="center",
        ),
        aria_hidden="true",
    )


def featured_heading() -> rx.Component:
    return rx.heading("Featured pieces", size="5", as_="h2", margin_top="1rem")


@page(routes.HOME, "Fine watches", on_load=[HomeState.load])
def home() -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.flex(
                rx.heading(f"{get_settings().merchant_brand} — Haute horlogerie from Geneva", size="8", as_="h1"),
                rx.text("Hand-finished movements, small series, delivered insured worldwide.", size="4",
                        color_scheme="gray"),
                rx.link(rx.button("Discover the watches", size="3"), href=routes.WATCHES),
                direction="column", spacing="3", flex="1", min_width="16rem",
            ),
            # Static hero, in the prerendered HTML: the page's largest paint does not wait for the state.
            rx.image(src=HERO_IMAGE, alt="Constellation Quantième Perpétuel", width="360px", height="auto",
                     max_width="100%", style={"aspectRatio": "1 / 1"}, fetch_priority="high"),
            spacing="5", align="center", wrap="wrap", padding_y="1.5rem", justify="between",
        ),
        rx.heading("Collections", size="5", as_="h2"),
        # Collections and featured watches come with the state (HomeState.load, in the same answer); until
        # then placeholders of their shape. What follows them is inside each branch, so it never moves.
        rx.cond(
            HomeState.collections.length() > 0,
            rx.flex(
                rx.grid(rx.foreach(HomeState.collections, collection_tile), columns=COLLECTION_COLUMNS, spacing="4"),
                featured_heading(),
                product_grid(HomeState.featured),
                pricing_notice(),
                direction="column", spacing="4", key="collections",
            ),
            rx.flex(
                rx.grid(*[collection_tile_placeholder() for _ in range(3)], columns=COLLECTION_COLUMNS, spacing="4"),
                featured_heading(),
                product_grid_placeholder(4),
                direction="column", spacing="4", key="placeholder",
            ),
        ),
        direction="column", spacing="4",
    )
