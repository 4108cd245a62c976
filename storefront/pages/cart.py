import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.state.cart import CartState
from storefront.state.shop import ShopState


def line(item) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.image(src=item.image, alt=item.name, width="72px", height="72px"),
            rx.flex(
                rx.link(item.name, href="/watch/" + item.slug, weight="bold"),
                rx.text("Ref. ", item.reference, size="1", color_scheme="gray"),
                rx.text(item.unit_price, size="2", class_name="unit-price"),
                direction="column", spacing="1", flex="1", min_width="10rem",
            ),
            rx.flex(
                rx.el.input(
                    default_value=item.quantity.to_string(), key=item.reference + item.quantity.to_string(),
                    type="number", min=1, max=item.max_quantity,
                    on_blur=lambda v: CartState.set_quantity(item.reference, v),
                    aria_label="Quantity of " + item.name, class_name="line-quantity",
                    style={"width": "4rem", "padding": "0.35rem", "borderRadius": "6px", "border": "1px solid var(--gray-7)"},
                ),
                rx.text(item.line_total, weight="bold", class_name="line-total"),
                rx.icon_button(rx.icon("trash-2"), on_click=CartState.remove(item.reference), variant="ghost",
                               color_scheme="red", aria_label="Remove " + item.name),
                spacing="3", align="center",
            ),
            spacing="3", align="center", wrap="wrap", justify="between",
        ),
        class_name="cart-line", data_reference=item.reference,
    )


@page(routes.CART, "Your cart", on_load=[])
def cart() -> rx.Component:
    return rx.flex(
        rx.heading("Your cart", size="7", as_="h1"),
        rx.foreach(CartState.notices, lambda n: rx.callout(n, icon="info", color_scheme="amber")),
        rx.cond(CartState.error != "", rx.callout(CartState.error, icon="triangle-alert", color_scheme="red",
                                                  id="cart-error", role="alert")),
        # The lines come with the state; until the cart is known (ShopState.ready with its count, then the
        # lines), a placeholder of a line's shape rather than a premature "Your cart is empty".
        rx.cond(
            CartState.lines.length() > 0,
            rx.flex(
                rx.foreach(CartState.lines, line),
                rx.flex(rx.text("Subtotal", size="4"), rx.text(CartState.subtotal, size="5", weight="bold", id="subtotal"),
                        justify="between", align="center"),
                pricing_notice(),
                rx.flex(rx.link(rx.button("Proceed to checkout", size="3"), href=routes.CHECKOUT, id="to-checkout"),
                        justify="end"),
                direction="column", spacing="3",
            ),
            rx.cond(
                ShopState.ready & (ShopState.cart_count == 0),
                rx.flex(rx.text("Your cart is empty."), rx.link("Discover the watches", href=routes.WATCHES),
                        direction="column", spacing="2", id="cart-empty"),
                rx.flex(rx.card(rx.flex(rx.skeleton(width="72px", height="72px"),
                                        rx.flex(rx.skeleton(height="1.25rem", width="60%"), rx.skeleton(height="1rem", width="30%"),
                                                rx.skeleton(height="1.25rem", width="40%"), direction="column", spacing="1", flex="1"),
                                        spacing="3", align="center")),
                        direction="column", spacing="3", aria_hidden="true", id="cart-placeholder"),
            ),
        ),
        direction="column", spacing="4",
    )
