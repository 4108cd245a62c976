"""A watch in a grid: image, name, collection, price in the visitor's currency, availability."""

from __future__ import annotations

import reflex as rx

from storefront.services.catalogue import ProductCard

AVAILABILITY_COLOR = {"in_stock": "green", "low": "amber", "out_of_stock": "red"}
GRID_COLUMNS = rx.breakpoints(initial="1", xs="2", md="3", lg="4")
# A card's width in each column count of GRID_COLUMNS (Radix breakpoints: xs 520 px, md 1024 px, lg 1280 px).
CARD_IMAGE_SIZES = "(max-width: 519px) 100vw, (max-width: 1023px) 50vw, (max-width: 1279px) 33vw, 300px"


def availability_badge(kind, text) -> rx.Component:
    return rx.badge(
        text,
        color_scheme=rx.match(kind, ("in_stock", "green"), ("low", "amber"), "red"),
        variant="soft", class_name="availability",
    )


def product_card(card: ProductCard) -> rx.Component:
    return rx.link(
        rx.card(
            rx.flex(
                rx.image(src=card.image, src_set=card.image_srcset, sizes=CARD_IMAGE_SIZES, alt=card.name,
                         width="100%", height="auto", style={"aspectRatio": "1 / 1"}, loading="lazy"),
                rx.text(card.collection, size="1", color_scheme="gray", weight="medium",
                        style={"textTransform": "uppercase", "letterSpacing": "0.08em"}),
                rx.heading(card.name, size="4", as_="h3"),
                rx.text(card.case_material, size="2", color_scheme="gray"),
                rx.flex(
                    rx.text(card.price, weight="bold", class_name="price"),
                    availability_badge(card.availability_kind, card.availability),
                    justify="between", align="center", wrap="wrap", spacing="2",
                ),
                direction="column", spacing="1",
            ),
            class_name="product-card",
        ),
        href="/watch/" + card.slug,
        underline="none", color_scheme="gray", high_contrast=True,
        data_reference=card.reference, class_name="block-link",
    )


def product_grid(cards) -> rx.Component:
    return rx.grid(
        rx.foreach(cards, product_card),
        columns=GRID_COLUMNS,
        spacing="4", width="100%",
    )


def product_card_placeholder() -> rx.Component:
    """A card's shape before the watches arrive: the image's square box and the text's lines."""
    return rx.card(
        rx.flex(
            # "height: auto" beats the empty skeleton's 12 px height (Radix): the box is the image's square.
            rx.skeleton(style={"width": "100%", "aspectRatio": "1 / 1", "height": "auto", "display": "block"},
                        class_name="card-image-placeholder"),
            rx.skeleton(height="1rem", width="40%"),
            rx.skeleton(height="1.5rem", width="80%"),
            rx.skeleton(height="1.25rem", width="60%"),
            rx.skeleton(height="1.5rem", width="100%"),
            direction="column", spacing="1",
        ),
        class_name="product-card-placeholder", aria_hidden="true",
    )


def product_grid_placeholder(count: int = 4) -> rx.Component:
    return rx.grid(
        *[product_card_placeholder() for _ in range(count)],
        columns=GRID_COLUMNS,
        spacing="4", width="100%",
    )
