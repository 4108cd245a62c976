import reflex as rx

from storefront import routes
from storefront.components.layout import page
from storefront.components.terms_text import terms_text
from storefront.components.totals import totals_table
from storefront.domain.cards import accepted_brands_text
from storefront.services.payment import browser_config
from storefront.state.card_form import TOKENIZE_JS
from storefront.state.checkout import STEPS, TERMS_LABEL, CheckoutState

INPUT_STYLE = {"padding": "0.5rem", "borderRadius": "6px", "border": "1px solid var(--gray-7)", "width": "100%",
               "background": "var(--color-panel-solid)", "fontSize": "16px"}


def step_indicator() -> rx.Component:
    return rx.el.ol(
        *[
            rx.el.li(
                rx.el.button(
                    rx.badge(str(i + 1), variant=rx.cond(CheckoutState.step == i + 1, "solid", "soft"),
                             color_scheme=rx.cond(CheckoutState.step > i + 1, "green", "bronze")),
                    rx.text(name, size="1", weight=rx.cond(CheckoutState.step == i + 1, "bold", "regular")),
                    type="button", on_click=CheckoutState.go_to(i + 1), class_name="step",
                    aria_current=rx.cond(CheckoutState.step == i + 1, "step", "false"),
                    style={"display": "flex", "alignItems": "center", "gap": "0.3rem", "cursor": "pointer",
                           "background": "none", "border": "none", "padding": 0, "color": "inherit"},
                ),
            )
            for i, name in enumerate(STEPS)
        ],
        style={"display": "flex", "flexWrap": "wrap", "gap": "0.75rem", "listStyle": "none", "padding": 0, "margin": 0},
        id="steps", aria_label="Checkout steps",
    )


def error_at(name: str) -> rx.Component:
    return rx.cond(CheckoutState.field_errors[name] != "",
                   rx.text(CheckoutState.field_errors[name], color_scheme="red", size="1", class_name="field-error",
                           id=f"{name}-error", role="alert"))


def field(label: str, name: str, type_: str = "text", autocomplete: str = "on", **props) -> rx.Component:
    return rx.flex(
        rx.el.label(label, html_for=name, style={"fontSize": "0.85rem"}),
        rx.el.input(id=name, name=name, type=type_, default_value=CheckoutState.form[name], auto_complete=autocomplete,
                    on_blur=lambda v: CheckoutState.set_field(name, v), style=INPUT_STYLE,
                    aria_invalid=rx.cond(CheckoutState.field_errors[name] != "", "true", "false"), **props),
        error_at(name),
        direction="column", spacing="1", width="100%",
    )


def area_field(prefix: str, areas) -> rx.Component:
    name = f"{prefix}_area"
    return rx.cond(
        areas.length() > 0,
        rx.flex(
            rx.el.label("State / province / region", html_for=name, style={"fontSize": "0.85rem"}),
            rx.el.select(rx.el.option("Choose…", value=""),
                         rx.foreach(areas, lambda a: rx.el.option(a[1], value=a[0])),
                         id=name, name=name, default_value=CheckoutState.form[name], style=INPUT_STYLE,
                         on_change=lambda v: CheckoutState.set_field(name, v)),
            error_at(name), direction="column", spacing="1", width="100%",
        ),
    )


def address(prefix: str, title: str, country_select: rx.Component, areas) -> rx.Component:
    return rx.flex(
        rx.heading(title, size="4", as_="h3"),
        rx.flex(rx.el.label("Country (prices follow the delivery country)", html_for=f"{prefix}_country",
                        style={"fontSize": "0.85rem"}), country_select,
                error_at(f"{prefix}_country"), direction="column", spacing="1"),
        field("Recipient's full name", f"{prefix}_name", autocomplete="name"),
        rx.flex(
            rx.el.label("Street and number", html_for=f"{prefix}_street", style={"fontSize": "0.85rem"}),
            rx.el.textarea(id=f"{prefix}_street", name=f"{prefix}_street", rows="2",
                           default_value=CheckoutState.form[f"{prefix}_street"], auto_complete="street-address",
                           on_blur=lambda v: CheckoutState.set_field(f"{prefix}_street", v), style=INPUT_STYLE),
            error_at(f"{prefix}_street"), direction="column", spacing="1",
        ),
        rx.grid(field("Postal code", f"{prefix}_postal_code", autocomplete="postal-code"),
                field("City", f"{prefix}_city", autocomplete="address-level2"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3"),
        area_field(prefix, areas),
        direction="column", spacing="3",
    )


def nav(back: int | None, next_button: rx.Component) -> rx.Component:
    return rx.flex(
        rx.cond(back is not None, rx.button("Back", variant="soft", type="button", on_click=CheckoutState.go_to(back or 1),
                                            id="back"), rx.box()) if back else rx.box(),
        next_button, justify="between", spacing="3", margin_top="1rem",
    )


def step_cart() -> rx.Component:
    return rx.flex(
        rx.heading("1. Your cart", size="5", as_="h2"),
        rx.cond(CheckoutState.lines.length() > 0,
                rx.flex(
                    rx.foreach(CheckoutState.lines, lambda l: rx.flex(
                        rx.text(l.quantity.to_string(), " × ", l.name), rx.text(l.line_total),
                        justify="between", spacing="3")),
                    rx.flex(rx.text("Subtotal"), rx.text(CheckoutState.subtotal, weight="bold"), justify="between"),
                    rx.link("Change quantities in the cart", href=routes.CART, size="2"),
                    direction="column", spacing="2"),
                rx.text("Your cart is empty.")),
        nav(None, rx.button("Continue", on_click=CheckoutState.continue_from_cart, id="next",
                            disabled=CheckoutState.lines.length() == 0)),
        direction="column", spacing="3",
    )


def step_info() -> rx.Component:
    ship_country = rx.el.select(
        rx.foreach(CheckoutState.countries, lambda c: rx.el.option(c.label, value=c.code)),
        id="ship_country", name="ship_country", value=CheckoutState.form["ship_country"],
        on_change=CheckoutState.set_ship_country, style=INPUT_STYLE)
    bill_country = rx.el.select(
        rx.foreach(CheckoutState.countries, lambda c: rx.el.option(c.label, value=c.code)),
        id="bill_country", name="bill_country", value=CheckoutState.form["bill_country"],
        on_change=CheckoutState.set_bill_country, style=INPUT_STYLE)
    return rx.form(
        rx.flex(
            rx.heading("2. Order information", size="5", as_="h2"),
            rx.text("Orders are accepted from private individuals of full age only.", size="2", color_scheme="gray"),
            rx.grid(
                field("Email", "email", type_="email", autocomplete="email"),
                field("Phone", "phone", type_="tel", autocomplete="tel"),
                field("Full name", "full_name", autocomplete="name"),
                field("Date of birth", "birth_date", type_="date", autocomplete="bday"),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
            ),
            address("ship", "Shipping address", ship_country, CheckoutState.ship_areas),
            rx.el.label(rx.checkbox(checked=CheckoutState.billing_same, on_change=CheckoutState.set_billing_same,
                                    ),
                        " Billing address same as shipping",
                        style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
            rx.cond(~CheckoutState.billing_same, address("bill", "Billing address", bill_country, CheckoutState.bill_areas)),
            nav(1, rx.button("Continue", type="submit", id="next")),
            direction="column", spacing="3",
        ),
        on_submit=CheckoutState.submit_info, reset_on_submit=False, id="info-form",
    )


def step_details() -> rx.Component:
    f = CheckoutState.form
    return rx.flex(
        rx.heading("3. Check your details", size="5", as_="h2"),
        rx.grid(
            rx.card(rx.flex(rx.text("Buyer", weight="bold"), rx.text(f["full_name"]), rx.text(f["email"]),
                            rx.text(f["phone"]), rx.text("Born ", f["birth_date"]), direction="column", spacing="1")),
            rx.card(rx.flex(rx.text("Delivery", weight="bold"), rx.text(f["ship_name"]), rx.text(f["ship_street"]),
                            rx.text(f["ship_postal_code"], " ", f["ship_city"], " ", f["ship_area"]),
                            rx.text(f["ship_country"]), direction="column", spacing="1")),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
        ),
        rx.cond(CheckoutState.totals, totals_table(CheckoutState.totals)),
        rx.el.label(rx.checkbox(checked=CheckoutState.details_confirmed, on_change=CheckoutState.set_details_confirmed,
                                id="details_confirmed"),
                    " I confirm that these details are accurate",
                    style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
        nav(2, rx.button("Continue", on_click=CheckoutState.confirm_details, id="next",
                         disabled=~CheckoutState.details_confirmed)),
        direction="column", spacing="3",
    )


def step_terms() -> rx.Component:
    return rx.flex(
        rx.heading("4. Terms and conditions", size="5", as_="h2"),
        rx.scroll_area(rx.cond(CheckoutState.terms, terms_text(CheckoutState.terms)), type="always",
                       scrollbars="vertical", style={"height": "320px", "border": "1px solid var(--gray-6)",
                                                     "borderRadius": "6px", "padding": "0.75rem"}, id="terms-box"),
        rx.el.label(rx.checkbox(checked=CheckoutState.terms_accepted, on_change=CheckoutState.set_terms_accepted,
                                id="terms_accepted"), " " + TERMS_LABEL,
                    style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}, id="terms-label"),
        rx.el.label(rx.checkbox(checked=CheckoutState.personal_use, on_change=CheckoutState.set_personal_use,
                                id="personal_use"),
                    " I declare that I am buying for my own personal use or that of a relative, not for resale "
                    "or any commercial purpose",
                    style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
        nav(3, rx.button("Continue", on_click=CheckoutState.accept_terms, id="next",
                         disabled=~(CheckoutState.terms_accepted & CheckoutState.personal_use))),
        direction="column", spacing="3",
    )


def step_confirm() -> rx.Component:
    return rx.flex(
        rx.heading("5. Confirm your order", size="5", as_="h2"),
        rx.text("By confirming, you conclude the contract of sale under the terms version ",
                rx.cond(CheckoutState.terms, CheckoutState.terms.version, ""), ". Your card will then be "
                "authorised for the total (held, not charged); it is charged only when your order ships.", size="2"),
        rx.cond(CheckoutState.totals, totals_table(CheckoutState.totals)),
        nav(4, rx.button("Confirm order", on_click=CheckoutState.place_order, id="confirm-order",
                         loading=CheckoutState.busy, size="3")),
        direction="column", spacing="3",
    )


def step_pay() -> rx.Component:
    js_url, publishable = browser_config()
    return rx.flex(
        rx.heading("6. Payment", size="5", as_="h2"),
        rx.text("Order ", rx.text.strong(CheckoutState.order_reference, id="order-reference"),
                " is placed. Enter your card to authorise the amount; it is held, not charged, until your order ships."),
        rx.text("Amount to authorise: ", rx.text.strong(CheckoutState.amount_to_pay, id="amount-to-pay")),
        rx.text(f"We accept {accepted_brands_text()}. Your card issuer may ask you "
                "to confirm the payment (3-D Secure); by paying you consent to these security checks.", size="2",
                color_scheme="gray"),
        rx.text("Your card is kept with our payment provider to charge this order's shipments and to "
                "renew the authorisation until the order ships or is cancelled.", size="2", color_scheme="gray",
                id="card-consent"),
        rx.box(id="card-element", data_key=publishable,
               style={"border": "1px solid var(--gray-7)", "borderRadius": "6px", "padding": "0.75rem",
                      "display": "flex", "flexWrap": "wrap", "gap": "0.5rem", "maxWidth": "100%", "overflow": "hidden"}),
        rx.cond(CheckoutState.pay_message != "",
                rx.callout(CheckoutState.pay_message, icon="triangle-alert", color_scheme="red", id="pay-message",
                           role="alert", data_code=CheckoutState.pay_code)),
        rx.flex(
            rx.button("Cancel this order", id="cancel-order", variant="soft", color_scheme="gray", type="button",
                      on_click=CheckoutState.cancel_order, disabled=CheckoutState.busy),
            rx.button("Authorise payment", id="pay", size="3", loading=CheckoutState.busy,
                      on_click=rx.call_script(TOKENIZE_JS, callback=CheckoutState.pay)),
            justify="between", spacing="3", wrap="wrap",
        ),
        rx.script(src="/checkout.js"),
        rx.script(src=js_url),
        direction="column", spacing="3",
    )


@page(routes.CHECKOUT, "Checkout", on_load=[CheckoutState.load])
def checkout() -> rx.Component:
    return rx.flex(
        rx.heading("Checkout", size="7", as_="h1"),
        step_indicator(),
        rx.cond(CheckoutState.phone_order,
                rx.callout("This order was entered for you by our client service on the telephone. Please check "
                           "the details, read and accept the terms, confirm the order and authorise the payment: "
                           "nothing is concluded until you confirm it here.", icon="phone", id="phone-order-note",
                           role="status")),
        rx.cond(CheckoutState.message != "",
                rx.callout(CheckoutState.message, icon="triangle-alert", color_scheme="red", id="checkout-message",
                           role="alert", data_code=CheckoutState.message_code)),
        rx.foreach(CheckoutState.notices, lambda n: rx.callout(n, icon="info", color_scheme="amber",
                                                               class_name="checkout-notice")),
        rx.card(rx.match(
            CheckoutState.step,
            (1, step_cart()), (2, step_info()), (3, step_details()), (4, step_terms()), (5, step_confirm()),
            (6, step_pay()), step_cart(),
        ), width="100%"),
        direction="column", spacing="4", max_width="760px", margin="0 auto",
    )
