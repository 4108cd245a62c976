"""The email outbox on the management page (issue 10 § 4): every message, its content, retry, resend."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.pages.admin import admin_page
from storefront.services.outbox_admin import EmailRow
from storefront.state.admin_outbox import STATUS_CHOICES, AdminOutboxState

COLUMNS = ("Id", "Queued", "To", "Template", "Order", "Status", "Attempts", "Last error", "")


def email_row(row: EmailRow) -> rx.Component:
    s = AdminOutboxState
    return rx.table.row(
        rx.table.cell(row.id), rx.table.cell(row.created_at), rx.table.cell(row.recipient), rx.table.cell(row.kind),
        rx.table.cell(rx.cond(row.reference != "", rx.link(row.reference, href="/admin/orders/" + row.reference), "—")),
        rx.table.cell(rx.badge(row.status, color_scheme=rx.match(row.status, ("sent", "green"), ("failed", "red"),
                                                                 "amber"))),
        rx.table.cell(row.attempts), rx.table.cell(row.last_error),
        rx.table.cell(rx.flex(
            rx.button("Read", on_click=s.open_email(row.id), variant="soft", size="2", class_name="read-email"),
            rx.cond((row.status == "failed") & s.granted.contains("emails.resend"),
                    rx.button("Retry", on_click=s.retry(row.id), size="2", class_name="retry-email")),
            spacing="2")),
        class_name="email-row", data_status=row.status,
    )


def opened_email() -> rx.Component:
    e = AdminOutboxState.opened
    return rx.card(
        rx.flex(
            rx.flex(rx.heading(e.subject, as_="h2", size="4"),
                    rx.button("Close", on_click=AdminOutboxState.close_email, variant="soft", id="close-email"),
                    justify="between", align="start", spacing="3"),
            rx.text("To ", e.recipient, " · ", e.kind, " · ", e.status, " after ", e.attempts, " attempt(s) · queued ",
                    e.created_at, rx.cond(e.sent_at != "", rx.text.span(" · sent ", e.sent_at), ""), size="2",
                    color_scheme="gray"),
            rx.cond(e.last_error != "", rx.text("Last error: ", e.last_error, size="2", color_scheme="red")),
            rx.el.pre(e.text_body, style={"whiteSpace": "pre-wrap", "fontFamily": "inherit", "margin": 0},
                      id="email-body"),
            direction="column", spacing="3",
        ),
        id="opened-email",
    )


@admin_page(routes.ADMIN_EMAILS, "Emails", [AdminOutboxState.load])
def emails() -> rx.Component:
    s = AdminOutboxState
    return admin_frame(
        AdminOutboxState,
        rx.heading("Emails", as_="h1", size="6"),
        rx.cond(s.notice != "", rx.callout(s.notice, id="outbox-notice", data_code=s.notice_code, role="status")),
        rx.cond(s.opened, opened_email()),
        rx.form(
            rx.flex(
                field_row("Status", rx.el.select(rx.foreach(STATUS_CHOICES, lambda v: rx.el.option(
                    rx.cond(v == "", "any", v), value=v)), name="status", id="email-status",
                    class_name="admin-select")),
                field_row("Template", rx.el.select(rx.el.option("any", value=""),
                                                   rx.foreach(s.kinds, lambda k: rx.el.option(k, value=k)),
                                                   name="kind", id="email-kind", class_name="admin-select")),
                field_row("Order", rx.input(name="reference", id="email-reference")),
                rx.button("Filter", type="submit", id="apply-email-filters"),
                wrap="wrap", spacing="3", align="end",
            ),
            on_submit=AdminOutboxState.apply_filters, reset_on_submit=False,
        ),
        data_table(COLUMNS, rx.foreach(s.rows, email_row)),
        rx.flex(
            rx.button("Newest", on_click=AdminOutboxState.first_page, variant="soft", id="emails-first"),
            rx.button("Older", on_click=AdminOutboxState.next_page, disabled=s.older_than == 0, variant="soft",
                      id="emails-older"),
            spacing="3",
        ),
        rx.cond(
            s.granted.contains("emails.resend"),
            rx.form(
                rx.flex(
                    field_row("Resend the confirmation of order", rx.input(name="reference", id="resend-reference",
                                                                           required=True)),
                    rx.button("Resend confirmation", type="submit", id="resend-confirmation"),
                    wrap="wrap", spacing="3", align="end",
                ),
                on_submit=AdminOutboxState.resend_confirmation, reset_on_submit=True,
            ),
        ),
    )
