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
                   # as at checkout: the sandbox's fields wrap a gap apart, each a thumb's target on a phone
                   style={"border": "1px solid var(--gray-7)", "borderRadius": "6px", "padding": "0.75rem",
                          "display": "flex", "flexWrap": "wrap", "gap": "0.5rem", "maxWidth": "100%",
                          "overflow": "hidden"}),
            rx.button("Authorise ", r.amount, id="reauthorize", size="3", loading=OrderStatusState.reauth_busy,
                      on_click=rx.call_script(TOKENIZE_JS, callback=OrderStatusState.reauthorize)),
            rx.script(src="/checkout.js"),
            rx.script(src=js_url),
            direction="column", spacing="3",
        ),
        id="reauthorize-card",
    )


STATE_COLOURS = {"shipped": "green", "awaiting": "amber", "unavailable": "red", "refunded": "gray",
                 "cancelled": "gray"}


def line_states(o) -> rx.Component:
    """Each piece in its state: awaiting shipment, shipped, unavailable, refunded (or cancelled, never charged)."""
    return rx.flex(
        rx.heading("Your watches", as_="h2", size="4"),
        rx.foreach(o.lines, lambda l: rx.flex(
            rx.flex(rx.text(l.name, weight="medium"),
                    rx.text("Ref. ", l.reference, " · ", l.quantity.to_string(), " ×", size="1", color_scheme="gray"),
                    direction="column"),
            rx.badge(l.state, size="2", color_scheme=rx.match(l.key, *STATE_COLOURS.items(), "gray"),
                     style={"whiteSpace": "normal"}),
            justify="between", align="center", spacing="3", wrap="wrap", class_name="order-line-state",
            data_state=l.key, data_reference=l.reference,
        )),
        direction="column", spacing="2", id="order-lines",
    )


def shipments(o) -> rx.Component:
    """Each parcel: carrier, tracking number and link, and when it was handed over (GTC-5.5: risk passes then)."""
    return rx.cond(o.shipments.length() > 0, rx.flex(
        rx.heading("Shipments", as_="h2", size="4"),
        rx.foreach(o.shipments, lambda p: rx.card(rx.flex(
            rx.text("Parcel ", p.number.to_string(), " · ", p.carrier, weight="medium"),
            rx.text(rx.foreach(p.contents, lambda c: rx.text(c, as_="span", margin_right="0.75rem")), size="2"),
            rx.text("Tracking number ",
                    rx.cond(p.tracking_url != "",
                            rx.link(p.tracking_number, href=p.tracking_url, is_external=True, class_name="tracking-link",
                                    rel="noopener noreferrer"),
                            rx.text.strong(p.tracking_number)),
                    size="2"),
            rx.text("Handed to the carrier on ", rx.text.strong(p.handed_over_at, class_name="handover-time"),
                    " (Geneva time). As our terms provide, the parcel travels at your risk from that moment.",
                    size="2"),
            direction="column", spacing="1",
        ), class_name="shipment", data_number=p.number)),
        direction="column", spacing="2", id="order-shipments",
    ))


def money_panel(o) -> rx.Component:
    m = o.money
    row = lambda label, value, id: rx.flex(rx.text(label, size="2"), rx.text(value, size="2", weight="medium"),  # noqa: E731
                                           justify="between", spacing="3", id=id)
    return rx.cond(m, rx.flex(
        rx.heading("Payment", as_="h2", size="4"),
        row("Held on your card (authorised, not charged)", m.held, "money-held"),
        row("Charged", m.charged, "money-charged"),
        rx.cond(m.any_refunded, row("Refunded to your card", m.refunded, "money-refunded")),
        direction="column", spacing="1", id="order-money",
    ))


def choice_waiting(o) -> rx.Component:
    """A piece awaits the client's choice but the page was opened through the view link, which grants no action:
    say where the choice is made (the emailed link, which expires with the offer)."""
    return rx.cond((o.choices_waiting > 0) & ~OrderStatusState.offer, rx.callout(
        "A piece of your order is unavailable and awaits your choice: a new delivery date or its refund. Please use "
        "the link in the email we sent you about it, or contact our client service.",
        icon="triangle-alert", color_scheme="amber", id="choice-waiting"))


def contact(o) -> rx.Component:
    return rx.flex(
        rx.heading("Questions about your order?", as_="h2", size="4"),
        rx.text("Our client service will gladly help; please quote your order reference.", size="2"),
        # links on their own, a gap apart: on a phone they wrap onto separate lines, each a thumb's target
        rx.flex(rx.link(o.contact_email, href="mailto:" + o.contact_email, size="2"),
                rx.link(o.contact_phone, href="tel:" + o.contact_phone_uri, size="2"),
                wrap="wrap", spacing="3", align="center"),
        direction="column", spacing="1", id="order-contact",
    )


def order_documents() -> rx.Component:
    """The order record, each shipment's invoice and each refund's credit note, as PDFs to keep (GTC-3.8)."""
    return rx.cond(
        OrderStatusState.documents.length() > 0,
        rx.flex(
            rx.heading("Your documents", size="4", as_="h2"),
            rx.foreach(OrderStatusState.documents, lambda d: rx.flex(
                rx.el.a(d.title, " ", d.document_number, " (PDF)", href=d.url, download=True,
                        class_name="document-link", style={"minHeight": "44px", "display": "inline-flex",
                                                           "alignItems": "center"}),
                rx.text(d.issued_on, size="2", color_scheme="gray"), spacing="3", align="center", wrap="wrap")),
            direction="column", spacing="1", id="order-documents"),
    )


def found() -> rx.Component:
    o = OrderStatusState.order
    return rx.flex(
        rx.cond(OrderStatusState.offer, unavailable_choice()),
        choice_waiting(o),
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
        line_states(o),
        shipments(o),
        rx.heading("Order summary", as_="h2", size="4"),
        totals_table(o.totals),
        rx.text("Delivery to: ", rx.foreach(o.shipping_address, lambda l: rx.text(l, as_="span", margin_right="0.5rem")),
                size="2"),
        money_panel(o),
        order_documents(),
        rx.text("Terms accepted: version ", o.terms_version, " of ", o.terms_date, ". ",
                rx.link("Read this version", href=o.terms_url, id="order-terms-link"), size="2",
                id="order-terms"),
        contact(o),
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
                rx.text("Please use the link from your confirmation email, or ",
                        rx.link("find your order", href=routes.FIND_ORDER), " with its reference and your email "
                        "address."), direction="column", spacing="2"),
        # Until this page's load has run, the state may still hold the order shown before: show none.
        rx.cond(OrderStatusState.order & (OrderStatusState.order.reference == rx.State.reference), found(),
                rx.spinner()),
    )
