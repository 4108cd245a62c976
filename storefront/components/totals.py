"""Order lines and totals: subtotal, shipping, VAT line or duties notice, total, ship-by date."""

import reflex as rx

from storefront.domain.policy import policy


def _row(label, value, id: str, **props) -> rx.Component:
    return rx.flex(rx.text(label), rx.text(value, **props), justify="between", spacing="3", id=id)


def totals_table(t) -> rx.Component:
    return rx.flex(
        rx.foreach(t.lines, lambda l: rx.flex(
            rx.flex(rx.text(l.name, weight="medium"),
                    rx.text("Ref. ", l.reference, " · ", l.quantity.to_string(), " × ", l.unit_price, size="1",
                            color_scheme="gray"),
                    direction="column"),
            rx.text(l.line_total, class_name="line-total"),
            justify="between", align="center", spacing="3", class_name="summary-line",
        )),
        rx.separator(),
        _row("Subtotal", t.subtotal, id="sum-subtotal"),
        _row("Shipping (insured courier)", t.shipping, id="sum-shipping"),
        rx.cond(t.vat_label != "", _row(t.vat_label, t.vat_amount, id="sum-vat")),
        rx.separator(),
        _row(rx.text("Total", weight="bold"), t.total, weight="bold", size="5", id="sum-total"),
        rx.cond(t.duties_notice != "", rx.callout(t.duties_notice, icon="info", color_scheme="gray", id="duties-notice")),
        rx.text("We will ship by ", rx.text.strong(t.ship_by),
                f" ({policy().ship_within_business_days} business days).", size="2",
                id="ship-by"),
        direction="column", spacing="2",
    )
