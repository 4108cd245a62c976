"""The management page's frame: who is signed in, the sections, sign out. No shop header: staff
pages carry no country, cart or prices of their own."""

from __future__ import annotations

import reflex as rx
from reflex.components.el.elements.base import BaseHTML

from storefront import routes


class NativeForm(BaseHTML):
    """A plain <form> the browser itself posts (Reflex's form always keeps the submission in the page):
    the staff session routes answer with the HttpOnly cookie and a redirect."""

    tag = "form"
    action: rx.Var[str]
    method: rx.Var[str]


native_form = NativeForm.create


def field_row(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(label, size="2", weight="medium"), control,
                       style={"display": "flex", "flexDirection": "column", "gap": "0.25rem"})


def data_table(headers: tuple[str, ...], rows) -> rx.Component:
    return rx.box(rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                                rx.table.body(rows), width="100%"), overflow_x="auto", width="100%")


def admin_frame(state, *children: rx.Component) -> rx.Component:
    return rx.box(
        rx.el.header(
            rx.flex(
                rx.flex(
                    rx.link("Queues", href=routes.ADMIN, size="3"),
                    rx.link("Orders", href=routes.ADMIN_ORDERS, size="3"),
                    rx.cond(state.granted.contains("emails.view"), rx.link("Emails", href=routes.ADMIN_EMAILS, size="3")),
                    rx.cond(state.granted.contains("audit.view"), rx.link("Audit log", href=routes.ADMIN_AUDIT, size="3")),
                    rx.link("Catalogue", href=routes.ADMIN_CATALOGUE, size="3"),
                    rx.cond(state.granted.contains("terms.manage"), rx.link("Terms", href=routes.ADMIN_TERMS, size="3")),
                    rx.cond(state.granted.contains("compliance.review"),
                            rx.link("Sanctions", href=routes.ADMIN_SANCTIONS, size="3")),
                    rx.cond(state.granted.contains("staff.manage"), rx.link("Staff", href=routes.ADMIN_STAFF, size="3")),
                    rx.cond(state.granted.contains("customers.erase"),
                            rx.link("Privacy", href=routes.ADMIN_PRIVACY, size="3")),
                    rx.cond(state.granted.contains("telephone_orders.create"),
                            rx.link("Telephone order", href=routes.ADMIN_TELEPHONE_ORDER, size="3")),
                    spacing="4", align="center", wrap="wrap",
                ),
                rx.flex(
                    rx.text(state.staff_email, " · ", state.staff_role, size="2", id="staff-identity"),
                    native_form(rx.button("Sign out", type="submit", variant="soft", id="sign-out"),
                                method="post", action="/api/admin/sign-out"),
                    native_form(rx.el.input(type="hidden", name="everywhere", value="1"),
                                rx.button("Sign out everywhere", type="submit", variant="ghost",
                                          id="sign-out-everywhere"),
                                method="post", action="/api/admin/sign-out"),
                    spacing="3", align="center", wrap="wrap",
                ),
                justify="between", align="center", wrap="wrap", spacing="3", padding="0.75rem 1rem",
                max_width="1400px", margin="0 auto",
            ),
            style={"borderBottom": "1px solid var(--gray-5)"},
        ),
        rx.el.main(rx.flex(*children, direction="column", spacing="4"), max_width="1400px", margin="0 auto",
                   padding="1rem", width="100%"),
    )
