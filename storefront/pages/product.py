import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.components.product_card import availability_badge
from storefront.state.catalogue import ProductState


def spec(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def quantity_selector() -> rx.Component:
    p = ProductState.product
    # A form, so that adding reads the number the field shows: the field reports its changes to the
    # server after a pause, and a quick tap on the button could otherwise add the previous number.
    return rx.form(rx.flex(
        rx.icon_button(rx.icon("minus"), on_click=ProductState.step(-1), variant="soft", aria_label="Fewer",
                       type="button"),
        # Debounced: the field keeps what the shopper types while the server's answer is on its way (a bare
        # controlled input snaps back to the server's last value, so a slow answer undid a digit just typed).
        rx.debounce_input(rx.el.input(
            value=ProductState.quantity, on_change=ProductState.set_quantity, type="number", min=1,
            max=p.max_quantity, id="quantity", name="quantity", aria_label="Quantity", input_mode="numeric",
            style={"width": "4rem", "textAlign": "center", "padding": "0.4rem", "borderRadius": "6px",
                   "border": "1px solid var(--gray-7)"},
        ), debounce_timeout=300),
        rx.icon_button(rx.icon("plus"), on_click=ProductState.step(1), variant="soft", aria_label="More",
                       type="button"),
        rx.button("Add to cart", size="3", id="add-to-cart", type="submit", disabled=p.max_quantity < 1),
        spacing="2", align="center", wrap="wrap",
    ), add_notice(), on_submit=ProductState.add_to_cart, reset_on_submit=False, no_validate=True)


def add_notice() -> rx.Component:
    """The answer to "Add to cart", read out by screen readers; its line is kept so that nothing moves."""
    refused = (ProductState.notice_code != "") & (ProductState.notice_code != "added_to_cart")
    return rx.text(ProductState.notice, id="add-notice", size="2", role="status", aria_live="polite",
                   color_scheme=rx.cond(refused, "red", "green"), weight="medium",
                   data_code=ProductState.notice_code, min_height="1.5em", margin_top="0.5rem")


def purchase(p) -> rx.Component:
    """Price, availability and quantity: they depend on the visitor's country and live stock, so from the state."""
    return rx.flex(
        rx.text(p.price, size="6", weight="bold", class_name="price", id="price"),
        rx.box(availability_badge(p.availability_kind, p.availability)),
        rx.cond(p.max_quantity > 0,
                rx.text("Up to ", p.max_quantity.to_string(), " per order.", size="2", color_scheme="gray",
                        id="limit-note")),
        quantity_selector(),
        direction="column", spacing="3",
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


def layout(images: rx.Component, head: rx.Component, description: rx.Component, buy: rx.Component,
           notice: rx.Component, details: rx.Component, key: str):
    # The key makes React build the watch's page afresh instead of reusing (and moving) the placeholder's nodes.
    return rx.grid(
        rx.flex(images, direction="column", spacing="3", align="center"),
        rx.flex(head, buy, description, notice, details, direction="column", spacing="3"),
        columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%", key=key,
    )


def heading(collection, collection_slug, name, reference) -> rx.Component:
    return rx.flex(
        rx.link(collection, href=routes.WATCHES + "?collection=" + collection_slug, size="2"),
        rx.heading(name, size="8", as_="h1"),
        rx.text("Ref. ", reference, size="2", color_scheme="gray"),
        direction="column", spacing="1",
    )


# "height: auto" beats the empty skeleton's 12 px height (Radix), so the placeholder is the image's square already.
IMAGE_BOX = {"width": "100%", "maxWidth": "480px", "aspectRatio": "1 / 1", "height": "auto", "display": "block"}


def detail() -> rx.Component:
    p = ProductState.product
    return layout(
        rx.foreach(p.images, lambda src: rx.box(
            # The image fills its square box whatever the file's own size (an SVG's, a 960 px photograph's).
            rx.image(src=src, alt=p.name, width="100%", height="100%", fetch_priority="high",
                     style={"display": "block", "objectFit": "contain"}),
            style=IMAGE_BOX)),
        heading(p.collection, p.collection_slug, p.name, p.reference),
        rx.text(p.description), purchase(p), pricing_notice(), specs(p), key="watch",
    )


def _lines(*heights: str) -> rx.Component:
    return rx.flex(*[rx.skeleton(height=h, width="100%") for h in heights], direction="column", spacing="3")


def placeholder() -> rx.Component:
    """What the page shows until its watch arrives: the image's box at its final size and the text's
    lines, in the same grid, so the watch replaces them without moving anything (issue 8)."""
    return layout(
        rx.skeleton(style=IMAGE_BOX, id="product-image-placeholder"),
        _lines("1.25rem", "2.5rem", "1rem"),
        _lines("2rem", "1.5rem", "2.75rem"),
        _lines("1rem", "1rem", "1rem"),
        _lines("3rem"),
        _lines("6rem"),
        key="placeholder",
    )


def product() -> rx.Component:
    """One dynamic route for every watch: what it shows is read from the database when the page loads,
    so a watch added, edited or withdrawn by staff shows at once, without a new build."""
    return rx.cond(
        ProductState.product,
        detail(),
        rx.cond(
            ProductState.not_found,
            rx.flex(rx.heading(rx.cond(ProductState.withdrawn, "This watch is no longer available",
                                       "This watch is not available"), as_="h1", id="product-unavailable"),
                    rx.cond(ProductState.withdrawn,
                            rx.text("It has been withdrawn from our collection and can no longer be ordered.")),
                    rx.link("See all watches", href=routes.WATCHES), direction="column", spacing="3"),
            placeholder(),
        ),
    )


page(routes.WATCH, "Watch", on_load=[ProductState.load])(product)
# The same page at a static path, prerendered by the build: its HTML (sized image box, text placeholders)
# is the first HTML of every product page (storefront/http_product_shell.py).
page(routes.WATCH_SHELL, "Watch", on_load=[ProductState.load])(product)
