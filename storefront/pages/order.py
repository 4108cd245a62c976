import reflex as rx

from storefront import routes
from storefront.components.layout import page
from storefront.components.totals import totals_table
from storefront.state.order_status import OrderStatusState


def unavailable_choice() -> rx.Component:
    """GTC-3.2: a piece proved unavailable after the order; the client picks a new date or its refund."""
    offer = OrderStatusState.offer
    return rx.card(
        rx.flex(
            rx.heading("A piece of your order is unavailable", as_="h2", size="4"),
            rx.text("We are sorry: ", offer.piece, " has proved unavailable. Please choose:"),
            rx.flex(
                rx.button("Deliver it on ", offer.new_date, on_click=OrderStatusState.choose("new_date"), size="3",
                          id="choose-new-date"),
                rx.button("Refund this piece (", offer.refund, ")", on_click=OrderStatusState.choose("refund"),
                          size="3", variant="soft", id="choose-refund"),
                spacing="3", wrap="wrap",
            ),
            rx.text("Please choose by ", offer.answer_by, ". Without an answer the piece is cancelled and "
                    "refunded; the rest of your order is not affected.", size="2", color_scheme="gray"),
            direction="column", spacing="3",
        ),
        id="unavailable-choice",
    )


def found() -> rx.Component:
    o = OrderStatusState.order
    return rx.flex(
        rx.cond(OrderStatusState.offer, unavailable_choice()),
        rx.cond(OrderStatusState.choice_answer != "",
                rx.callout(OrderStatusState.choice_answer, icon="info", id="choice-answer")),
        rx.cond(OrderStatusState.just_placed,
                rx.callout("Thank you. Your card is authorised for the total: the amount is held, not charged. "
                           "We will confirm availability and approve your order; you will receive an email with "
                           "the details now, and another on the day your order ships.", icon="check", color_scheme="green",
                           id="thank-you")),
        rx.heading("Order ", o.reference, size="7", as_="h1", id="order-heading"),
        rx.text("Placed ", o.placed_at, size="2", color_scheme="gray"),
        rx.flex(rx.badge(o.status_label, size="2", color_scheme=rx.cond(o.final, "green", "amber"), id="order-status",
                         style={"whiteSpace": "normal"}),
                rx.cond(~o.final, rx.text("Not final yet: the order becomes final once payment is verified and we "
                                          "have confirmed availability.", size="2", id="not-final"))
                , direction="column", spacing="2"),
        totals_table(o.totals),
        rx.text("Delivery to: ", rx.foreach(o.shipping_address, lambda l: rx.text(l, as_="span", margin_right="0.5rem")),
                size="2"),
        rx.text("Terms accepted: version ", o.terms_version, " of ", o.terms_date, ". ",
                rx.link("Read this version", href=routes.TERMS + "?version=" + o.terms_version), size="2",
                id="order-terms"),
        rx.heading("History", size="4", as_="h2"),
        rx.foreach(o.timeline, lambda e: rx.flex(rx.text(e.at, size="2", color_scheme="gray"), rx.text(e.text, size="2"),
                                                 spacing="3")),
        direction="column", spacing="3", max_width="760px", margin="0 auto",
    )


@page(routes.ORDER, "Your order", on_load=[OrderStatusState.load])
def order() -> rx.Component:
    return rx.cond(
        OrderStatusState.not_found,
        rx.flex(rx.heading("Order not found", as_="h1"),
                rx.text("Please use the link from your confirmation email."), direction="column", spacing="2"),
        # Until this page's load has run, the state may still hold the order shown before: show none.
        rx.cond(OrderStatusState.order & (OrderStatusState.order.reference == rx.State.reference), found(),
                rx.spinner()),
    )
