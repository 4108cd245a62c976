import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.components.product_card import availability_badge
from storefront.services.catalogue import product_shells
from storefront.services.unit_of_work import UnitOfWork
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


def purchase(p) -> rx.Component:
    """Price, availability and quantity: they depend on the visitor's country and live stock, so from the state."""
    return rx.flex(
        rx.text(p.price, size="6", weight="bold", class_name="price", id="price"),
        rx.box(availability_badge(p.availability_kind, p.availability)),
        rx.cond(p.max_quantity > 0,
                rx.text("Up to ", p.max_quantity.to_string(), " per order.", size="2", color_scheme="gray",
                        id="limit-note")),
        quantity_selector(),
        direction="column", gap="3",
    )


def specs(p) -> rx.Component:
    return rx.data_list.root(
        spec("Reference", p.reference),
        spec("Case", p.case_material),
        spec("Diameter", p.diameter),
        spec("Movement", p.movement),
        spec("Water resistance", p.water_resistance),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
    )


def layout(images: rx.Component, head: rx.Component, description, buy: rx.Component, details: rx.Component):
    return rx.grid(
        rx.flex(images, direction="column", gap="3", align="center"),
        rx.flex(head, buy, rx.text(description), pricing_notice(), details, direction="column", gap="3"),
        columns=rx.breakpoints(initial="1", md="2"), gap="6", width="100%",
    )


def heading(collection, collection_slug, name, reference) -> rx.Component:
    return rx.flex(
        rx.link(collection, href=routes.WATCHES + "?collection=" + collection_slug, size="2"),
        rx.heading(name, size="8", as_="h1"),
        rx.text("Ref. ", reference, size="2", color_scheme="gray"),
        direction="column", gap="1",
    )


def detail() -> rx.Component:
    p = ProductState.product
    return layout(
        rx.foreach(p.images, lambda src: rx.image(src=src, alt=p.name, width="100%", max_width="480px",
                                                  style={"aspectRatio": "1 / 1"})),
        heading(p.collection, p.collection_slug, p.name, p.reference),
        p.description, purchase(p), specs(p),
    )


def static_product(shell) -> rx.Component:
    """A prerendered page: image, name and text are in the HTML; price and stock arrive with the state."""
    p = ProductState.product
    unavailable = rx.callout("This watch is not available.", icon="info", color_scheme="amber")
    return layout(
        rx.image(src=shell.image, alt=shell.name, width="100%", max_width="480px", height="auto",
                 style={"aspectRatio": "1 / 1"}, fetch_priority="high"),
        heading(shell.collection, shell.collection_slug, shell.name, shell.reference),
        shell.description,
        rx.cond(ProductState.not_found, unavailable, rx.cond(p, purchase(p), rx.skeleton(height="7rem"))),
        rx.cond(p, specs(p)),
    )


@page(routes.WATCH, "Watch", on_load=[ProductState.load])
def product() -> rx.Component:
    return rx.cond(
        ProductState.not_found,
        rx.flex(rx.heading("This watch is not available", as_="h1"),
                rx.link("See all watches", href=routes.WATCHES), direction="column", gap="3"),
        rx.cond(ProductState.product, detail(), rx.spinner()),
    )


for _shell in product_shells(UnitOfWork()):
    def _prerendered(shell=_shell) -> rx.Component:
        return static_product(shell)

    _prerendered.__name__ = "product_" + _shell.reference.replace("-", "_").lower()
    page(routes.watch_url(_shell.slug), _shell.name, on_load=[ProductState.load])(_prerendered)
