import reflex as rx

from storefront import routes
from storefront.components.layout import page
from storefront.components.totals import totals_table
from storefront.domain.cards import accepted_brands_text
from storefront.services.payment import browser_config
from storefront.state.card_form import TOKENIZE_JS
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


def delay_offer() -> rx.Component:
    """GTC-5.4: the delay exceeds 51 days; the client accepts the new date or declines it, then may confirm the
    cancellation of what has not shipped. No compensation is offered."""
    offer, state = OrderStatusState.delay_offer, OrderStatusState
    return rx.card(
        rx.flex(
            rx.heading("Your order is delayed", as_="h2", size="4"),
            rx.text("We are sorry: we could not ship ", offer.pieces, " by ", offer.ship_by, ", the date we gave you."),
            rx.cond(
                offer.stage == "offered",
                rx.flex(
                    rx.text("We can deliver on ", rx.text.strong(offer.new_date, id="delay-new-date"), "."),
                    rx.flex(
                        rx.button("Accept delivery on ", offer.new_date, on_click=state.answer_delay("new_date"),
                                  size="3", id="delay-accept"),
                        rx.button("Decline this date", on_click=state.answer_delay("decline"), size="3",
                                  variant="soft", id="delay-decline"),
                        spacing="3", wrap="wrap",
                    ),
                    direction="column", spacing="3",
                ),
                rx.flex(
                    rx.text("You declined the new date. You may cancel what has not shipped: its authorisation on "
                            "your card is released and anything charged for it is refunded. What has shipped is "
                            "not affected."),
                    rx.flex(
                        rx.button("Cancel what has not shipped", on_click=state.answer_delay("cancel"), size="3",
                                  color_scheme="red", id="delay-cancel"),
                        rx.button("Accept delivery on ", offer.new_date, on_click=state.answer_delay("new_date"),
                                  size="3", variant="soft", id="delay-accept"),
                        spacing="3", wrap="wrap",
                    ),
                    direction="column", spacing="3",
                ),
            ),
            rx.text("Nothing is cancelled without your confirmation.", size="2", color_scheme="gray"),
            direction="column", spacing="3",
        ),
        id="delay-offer",
    )


def reauthorize_card() -> rx.Component:
    """PAY-5: the bank refused to renew the hold without the client; the client authorises the rest here."""
    js_url, publishable = browser_config()
    r = OrderStatusState.reauth
    return rx.card(
        rx.flex(
            rx.heading("Please authorise your card again", as_="h2", size="4"),
            rx.text("Your bank did not renew the authorisation on your card",
                    rx.cond(r.last4 != "", rx.text.span(" ending ", r.last4), ""),
                    ". Please authorise ", rx.text.strong(r.amount, id="reauth-amount"),
                    " for the rest of your order: it is held, not charged. You are charged only when your watches "
                    "ship, and only for what ships."),
            rx.text(f"You may use the same card or another. We accept {accepted_brands_text()}. Your card issuer may "
                    "ask you to confirm (3-D Secure). Your card is kept with our payment provider to charge this "
                    "order's shipments and to renew the authorisation until the order ships or is cancelled.",
                    size="2", color_scheme="gray", id="reauth-consent"),
            rx.box(id="card-element", data_key=publishable,
                   style={"border": "1px solid var(--gray-7)", "borderRadius": "6px", "padding": "0.75rem",
                          "maxWidth": "100%", "overflow": "hidden"}),
            rx.button("Authorise ", r.amount, id="reauthorize", size="3", loading=OrderStatusState.reauth_busy,
                      on_click=rx.call_script(TOKENIZE_JS, callback=OrderStatusState.reauthorize)),
            rx.script(src="/checkout.js"),
            rx.script(src=js_url),
            direction="column", spacing="3",
        ),
        id="reauthorize-card",
    )


def found() -> rx.Component:
    o = OrderStatusState.order
    return rx.flex(
        rx.cond(OrderStatusState.offer, unavailable_choice()),
        rx.cond(OrderStatusState.choice_answer != "",
                rx.callout(OrderStatusState.choice_answer, icon="info", id="choice-answer")),
        rx.cond(OrderStatusState.delay_offer, delay_offer()),
        rx.cond(OrderStatusState.delay_answer != "",
                rx.callout(OrderStatusState.delay_answer, icon="info", id="delay-answer", role="status")),
        rx.cond(OrderStatusState.reauth, reauthorize_card()),
        rx.cond(OrderStatusState.reauth_message != "",
                rx.callout(OrderStatusState.reauth_message, icon="info",
                           color_scheme=rx.cond(OrderStatusState.reauth_ok, "green", "red"), id="reauth-message",
                           role="status")),
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
