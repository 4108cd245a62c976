import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.components.product_card import availability_badge
from storefront.state.catalogue import ProductState


def spec(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def quantity_selector() -> rx.Component:
    p = ProductState.product
    return rx.flex(
        rx.icon_button(rx.icon("minus"), on_click=ProductState.step(-1), variant="soft", aria_label="Fewer",
                       type="button"),
        rx.el.input(
            value=ProductState.quantity, on_change=ProductState.set_quantity, type="number", min=1,
            max=p.max_quantity, id="quantity", aria_label="Quantity", input_mode="numeric",
            style={"width": "4rem", "textAlign": "center", "padding": "0.4rem", "borderRadius": "6px",
                   "border": "1px solid var(--gray-7)"},
        ),
        rx.icon_button(rx.icon("plus"), on_click=ProductState.step(1), variant="soft", aria_label="More",
                       type="button"),
        rx.button("Add to cart", on_click=ProductState.add_to_cart, size="3", id="add-to-cart",
                  disabled=p.max_quantity < 1),
        gap="2", align="center", wrap="wrap",
    )


def detail() -> rx.Component:
    p = ProductState.product
    return rx.grid(
        rx.flex(
            rx.foreach(p.images, lambda src: rx.image(src=src, alt=p.name, width="100%", max_width="480px",
                                                      style={"aspectRatio": "1 / 1"})),
            direction="column", gap="3", align="center",
        ),
        rx.flex(
            rx.link(p.collection, href=routes.WATCHES + "?collection=" + p.collection_slug, size="2"),
            rx.heading(p.name, size="8", as_="h1"),
            rx.text("Ref. ", p.reference, size="2", color_scheme="gray"),
            rx.text(p.price, size="6", weight="bold", class_name="price", id="price"),
            rx.box(availability_badge(p.availability_kind, p.availability)),
            rx.text(p.description),
            rx.cond(p.max_quantity > 0,
                    rx.text("Up to ", p.max_quantity.to_string(), " per order.", size="2", color_scheme="gray",
                            id="limit-note")),
            quantity_selector(),
            pricing_notice(),
            rx.data_list.root(
                spec("Reference", p.reference),
                spec("Case", p.case_material),
                spec("Diameter", p.diameter),
                spec("Movement", p.movement),
                spec("Water resistance", p.water_resistance),
                orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            ),
            direction="column", gap="3",
        ),
        columns=rx.breakpoints(initial="1", md="2"), gap="6", width="100%",
    )


@page(routes.WATCH, "Watch", on_load=[ProductState.load])
def product() -> rx.Component:
    return rx.cond(
        ProductState.not_found,
        rx.flex(rx.heading("This watch is not available", as_="h1"),
                rx.link("See all watches", href=routes.WATCHES), direction="column", gap="3"),
        rx.cond(ProductState.product, detail(), rx.spinner()),
    )
