import reflex as rx

from storefront import routes
from storefront.components.layout import page
from storefront.components.terms_text import terms_text
from storefront.state.terms import TermsState


@page(routes.TERMS, "Terms of sale", on_load=[TermsState.load])
def terms() -> rx.Component:
    return rx.flex(
        rx.cond(TermsState.terms, terms_text(TermsState.terms), rx.text("These terms are not available.")),
        rx.heading("Archive", size="4", as_="h2", margin_top="1.5rem"),
        rx.foreach(TermsState.versions, lambda v: rx.link("Version " + v[0] + " (" + v[1] + ")",
                                                          href=routes.TERMS + "?version=" + v[0])),
        direction="column", spacing="3",
    )
