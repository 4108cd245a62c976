"""The "Find my order" page: reference + email address, one answer whatever was wrong (CARD-3)."""

import reflex as rx

from storefront import routes
from storefront.components.layout import page
from storefront.pages.checkout import INPUT_STYLE
from storefront.settings import get_settings
from storefront.state.find_order import FindOrderState


def _field(label: str, id: str, name: str, **props) -> rx.Component:
    return rx.flex(
        rx.el.label(label, html_for=id, style={"fontSize": "0.85rem", "fontWeight": "500"}),
        rx.el.input(id=id, name=name, required=True, style=INPUT_STYLE, **props),
        direction="column", spacing="1", width="100%",
    )


@page(routes.FIND_ORDER, "Find my order", on_load=[FindOrderState.load])
def find_order() -> rx.Component:
    s = get_settings()
    return rx.flex(
        rx.heading("Find my order", as_="h1", size="7"),
        rx.text("Enter the order reference and the email address from your order confirmation. The link in any "
                "email we sent you about the order opens it too.", size="2"),
        rx.form(
            rx.flex(
                _field("Order reference", "find-reference", "reference", placeholder="VX-…", max_length=40,
                       auto_complete="off", auto_capitalize="characters", spell_check=False),
                _field("Email address", "find-email", "email", type="email", max_length=320, auto_complete="email"),
                rx.cond(FindOrderState.error != "",
                        rx.callout(FindOrderState.error, icon="info", color_scheme="red", id="find-error",
                                   role="alert")),
                # Enabled once the page has loaded its state: a tap before that would be answered, then wiped by the load
                rx.button("Show my order", type="submit", size="3", id="find-submit", disabled=~rx.State.is_hydrated),
                direction="column", spacing="4",
            ),
            on_submit=FindOrderState.find,
            reset_on_submit=False,
        ),
        rx.flex(rx.text("Need help?", size="2"), rx.link(s.merchant_email, href=f"mailto:{s.merchant_email}", size="2"),
                rx.link(s.merchant_phone, href="tel:" + s.merchant_phone.replace(" ", ""), size="2"),
                wrap="wrap", spacing="3", align="center", id="find-contact"),
        direction="column", spacing="4", max_width="480px", margin="0 auto", width="100%",
    )
