"""Privacy on the management page (issue 10 § 7, PAY-6): how long personal data is kept and why, what the daily
retention job last erased, and a client's erasure request entered by staff (customers.erase)."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.pages.admin import admin_page
from storefront.services.retention import FoundOrder
from storefront.state.admin_privacy import REASONS, AdminPrivacyState, PeriodView

POLICY_COLUMNS = ("Data", "Kept", "Ground")
FOUND_COLUMNS = ("Order", "Placed", "Status", "Erasure", "What an erasure does")


def period_row(row: PeriodView) -> rx.Component:
    return rx.table.row(rx.table.cell(row.what), rx.table.cell(row.kept), rx.table.cell(row.ground),
                        class_name="retention-period", data_key=row.key)


def found_row(row: FoundOrder) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.reference, href="/admin/orders/" + row.reference)),
        rx.table.cell(row.placed_at), rx.table.cell(row.status),
        rx.table.cell(rx.cond(row.erasure != "", row.erasure, "—")), rx.table.cell(row.outcome),
        class_name="privacy-order", data_reference=row.reference, data_erasure=row.erasure,
    )


def last_run_card() -> rx.Component:
    r = AdminPrivacyState.last_run
    return rx.card(
        rx.cond(
            r,
            rx.text("Last run of the daily retention job: ", r.at, " — ", r.orders_erased, " orders erased, ",
                    r.emails_emptied, " email copies emptied, ", r.staff_sessions_deleted, " staff sessions deleted, ",
                    r.payment_customers_deleted, " saved payment customers deleted at Stripe.",
                    size="2"),
            rx.text("The daily retention job has not run yet.", size="2"),
        ),
        id="retention-last-run",
    )


@admin_page(routes.ADMIN_PRIVACY, "Privacy", [AdminPrivacyState.load])
def privacy() -> rx.Component:
    s = AdminPrivacyState
    return admin_frame(
        AdminPrivacyState,
        rx.heading("Privacy: personal data kept and erased", as_="h1", size="6"),
        rx.cond(s.granted.contains("customers.erase"), privacy_body(),
                rx.text("Your role does not handle erasure requests.", size="2", id="privacy-not-allowed")),
    )


def privacy_body() -> rx.Component:
    s = AdminPrivacyState
    return rx.flex(
        rx.cond(s.notice != "", rx.callout(s.notice, id="privacy-notice", data_code=s.notice_code, role="status",
                                           color_scheme=rx.cond(s.notice_code == "done", "green", "red"))),
        rx.heading("Retention policy", as_="h2", size="4"),
        data_table(POLICY_COLUMNS, rx.foreach(s.policy, period_row)),
        last_run_card(),
        rx.heading("A client's erasure request", as_="h2", size="4"),
        rx.text("Enter the email address the client ordered with. Orders still being performed are kept; for a "
                "charged order the invoice (name, billing address) stays for the statutory period and goes then.",
                size="2"),
        rx.form(
            rx.flex(
                field_row("Client's email", rx.input(name="email", id="privacy-email", type="email",
                                                     max_length=320, width="24rem")),
                rx.button("Find orders", type="submit", id="privacy-search"),
                wrap="wrap", spacing="3", align="end",
            ),
            on_submit=s.search, reset_on_submit=False,
        ),
        rx.cond(
            s.searched | (s.found.length() > 0),
            rx.flex(
                data_table(FOUND_COLUMNS, rx.foreach(s.found, found_row)),
                rx.cond(
                    s.searched & (s.found.length() > 0),
                    rx.form(
                        rx.flex(
                            field_row("Reason", rx.el.select(
                                rx.el.option("Choose…", value=""),
                                *[rx.el.option(label, value=value) for value, label in REASONS],
                                name="reason", id="privacy-reason", class_name="admin-select")),
                            rx.button("Erase this client's data", type="submit", id="privacy-erase",
                                      color_scheme="red"),
                            wrap="wrap", spacing="3", align="end",
                        ),
                        on_submit=s.erase, reset_on_submit=False,
                    ),
                    rx.cond(s.searched, rx.text("No order holds this address.", size="2", id="privacy-none")),
                ),
                direction="column", spacing="3",
            ),
        ),
        direction="column", spacing="4",
    )
