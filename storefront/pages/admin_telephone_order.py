"""Telephone orders on the management page (issue 10 § 5, PAY-2; client relations: `telephone_orders.create`).

Staff choose the watches and type the client's details as given on the phone; the shop's own rules decide.
There is no card field: the client receives a link to check the order, accept the terms, confirm and pay.
"""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, field_row
from storefront.pages.admin import admin_page
from storefront.services.payment import browser_config
from storefront.state.card_form import TOKENIZE_JS
from storefront.state.admin_telephone_order import LINE_SLOTS, AdminTelephoneOrderState

S = AdminTelephoneOrderState


def field_error(name: str) -> rx.Component:
    text = S.field_errors.get(name, "")
    return rx.cond(text != "", rx.text(text, color_scheme="red", size="2", role="alert", id=f"error-{name}"))


def text_field(label: str, name: str, type_: str = "text", required: bool = True) -> rx.Component:
    return rx.box(field_row(label, rx.input(name=name, id=f"tel-{name}", type=type_, required=required,
                                            max_length=200)), field_error(name))


def country_select(name: str) -> rx.Component:
    return rx.box(field_row("Country", rx.el.select(
        rx.foreach(S.countries, lambda c: rx.el.option(c.label, value=c.code)),
        name=name, id=f"tel-{name}", class_name="admin-select", default_value="CH")), field_error(name))


def address(prefix: str, title: str, required: bool) -> rx.Component:
    return rx.flex(
        rx.heading(title, as_="h3", size="3"),
        rx.grid(
            text_field("Recipient's full name", f"{prefix}_name", required=required),
            text_field("Street and number", f"{prefix}_street", required=required),
            text_field("Postal code", f"{prefix}_postal_code", required=False),
            text_field("City", f"{prefix}_city", required=required),
            text_field("State / province / region (where the country uses one)", f"{prefix}_area", required=False),
            country_select(f"{prefix}_country"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
        ),
        direction="column", spacing="2",
    )


def watch_line(slot: int) -> rx.Component:
    return rx.flex(
        field_row(f"Watch {slot + 1}", rx.el.select(
            rx.el.option("—", value=""),
            rx.foreach(S.watches, lambda w: rx.el.option(w.label, value=w.reference)),
            name=f"line_{slot}_watch", id=f"tel-line-{slot}-watch", class_name="admin-select")),
        field_row("Quantity", rx.input(name=f"line_{slot}_quantity", id=f"tel-line-{slot}-quantity",
                                       type="number", min=0, max=99, width="6rem")),
        spacing="3", align="end", wrap="wrap",
    )


def moto_panel() -> rx.Component:
    """Only where the account allows MOTO: the provider's card form, for the order just entered."""
    js_url, publishable = browser_config()
    return rx.card(
        rx.flex(
            rx.heading("Take the card by telephone (MOTO)", as_="h2", size="4"),
            rx.text("Read the client our terms and conditions, version ", S.terms_version, ", which they will also "
                    "receive by email. Only once they accept them, type the card they read out into the provider's "
                    "form below: it goes to the provider, never to the shop. If it is refused, the client is "
                    "emailed a link to pay themselves.", size="2"),
            rx.el.label(rx.checkbox(checked=S.terms_by_phone, on_change=S.set_terms_by_phone, id="tel-terms-by-phone"),
                        " The client accepted the terms and conditions on the telephone",
                        style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
            rx.box(id="card-element", data_key=publishable,
                   style={"border": "1px solid var(--gray-7)", "borderRadius": "6px", "padding": "0.75rem",
                          "display": "flex", "flexWrap": "wrap", "gap": "0.5rem", "maxWidth": "100%"}),
            rx.cond(S.moto_message != "", rx.callout(S.moto_message, id="moto-message", data_code=S.moto_code,
                                                     role="alert", color_scheme="red")),
            rx.button("Authorise the card", id="moto-pay", loading=S.moto_busy, disabled=~S.terms_by_phone,
                      on_click=rx.call_script(TOKENIZE_JS, callback=S.pay_by_phone)),
            rx.script(src="/checkout.js"),
            rx.script(src=js_url),
            direction="column", spacing="3",
        ),
        id="moto-panel",
    )


@admin_page(routes.ADMIN_TELEPHONE_ORDER, "Telephone order", [AdminTelephoneOrderState.load])
def telephone_order() -> rx.Component:
    return admin_frame(
        AdminTelephoneOrderState,
        rx.heading("Telephone order", as_="h1", size="6"),
        rx.text("Enter the order the client gives you on the phone. Never write card details anywhere: the client "
                "receives an email with a link to check the order, read and accept the terms, confirm it and pay in "
                "our payment provider's form. Prices, shipping, VAT, limits and checks are the shop's.", size="2"),
        rx.cond(S.notice != "", rx.callout(S.notice, id="telephone-order-notice", data_code=S.notice_code,
                                           data_reference=S.entered_reference, role="status",
                                           color_scheme=rx.cond(S.notice_code == "done", "green", "red"))),
        rx.cond(S.moto_open, moto_panel()),
        rx.form(
            rx.flex(
                rx.el.input(type="hidden", name="entry_key", value=S.entry_key),
                rx.heading("Watches", as_="h2", size="4"),
                *[watch_line(slot) for slot in range(LINE_SLOTS)],
                field_error("lines"),
                rx.heading("Client", as_="h2", size="4"),
                rx.grid(
                    text_field("Full name", "full_name"),
                    text_field("Email", "email", type_="email"),
                    text_field("Phone (with country code)", "phone", type_="tel"),
                    text_field("Date of birth", "birth_date", type_="date"),
                    columns=rx.breakpoints(initial="1", sm="2"), spacing="3",
                ),
                address("ship", "Delivery address (prices follow its country)", True),
                rx.el.label(rx.el.input(type="checkbox", name="billing_differs", id="tel-billing-differs"),
                            " The billing address is different",
                            style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
                address("bill", "Billing address (only if different)", False),
                rx.box(rx.el.label(rx.el.input(type="checkbox", name="personal_use", id="tel-personal-use"),
                                   " The client declared on the phone that the watches are for their own use or a "
                                   "relative's, not for resale",
                                   style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
                       field_error("personal_use")),
                rx.button("Enter the order and email the client", type="submit", id="enter-telephone-order"),
                direction="column", spacing="3",
            ),
            on_submit=AdminTelephoneOrderState.enter, reset_on_submit=False, id="telephone-order-form",
        ),
    )
