"""The management page (CARD-6): sign in, work queues, order list, one order with its actions.

Buttons show only what the role may do, but that is comfort, not control: every handler checks
the permission again on the server (state/admin_auth.py).
"""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row, native_form
from storefront.services.admin_orders import HoldView, LineView, OrderRow, Queue, RefundView
from storefront.settings import get_settings
from storefront.state.admin import (
    CANCEL_REASONS,
    CARRIERS,
    CLEAR_REASONS,
    DECLINE_REASONS,
    QUANTITY_FIELD,
    REFUND_FIELD,
    REFUND_REASONS,
    STATUS_CHOICES,
    AdminAuditState,
    AdminHomeState,
    AdminOrdersState,
    AdminOrderState,
    StaffSignInState,
)
from storefront.state.admin_auth import AdminState
from storefront.state.admin_staff import AdminOrderExportState


def admin_page(route: str, title: str, on_load: list):
    def decorator(body_fn):
        def component() -> rx.Component:
            return body_fn()

        component.__name__ = "admin_" + body_fn.__name__
        routes.ROUTES.append(routes.Route(route, f"{title} · {get_settings().merchant_brand} management", component,
                                          on_load, "Management page (staff only)."))
        return component

    return decorator


def _error(text) -> rx.Component:
    return rx.cond(text != "", rx.callout(text, icon="triangle-alert", color_scheme="red", role="alert",
                                          id="form-error"))


@admin_page(routes.ADMIN_LOGIN, "Sign in", [StaffSignInState.load_sign_in])
def sign_in() -> rx.Component:
    # A native form: the answer must set an HttpOnly cookie, which only an HTTP response can do.
    return rx.center(
        rx.card(
            native_form(
                rx.flex(
                    rx.heading("Staff sign-in", as_="h1", size="6"),
                    _error(StaffSignInState.error),
                    field_row("Email", rx.input(name="email", type="email", id="email", required=True,
                                                auto_complete="username", size="3")),
                    field_row("Password", rx.input(name="password", type="password", id="password", required=True,
                                                   auto_complete="current-password", size="3")),
                    field_row("Authenticator code (finance and admin)",
                              rx.input(name="otp", id="otp", input_mode="numeric", auto_complete="one-time-code",
                                       size="3")),
                    rx.button("Sign in", type="submit", size="3", id="sign-in"),
                    direction="column", spacing="3",
                ),
                method="post", action="/api/admin/session",
            ),
            width="100%", max_width="26rem",
        ),
        padding="2rem 1rem", min_height="100vh",
    )


@admin_page(routes.ADMIN_ENROL, "Set up two-factor sign-in", [StaffSignInState.load_enrolment])
def enrol() -> rx.Component:
    return rx.center(
        rx.card(
            native_form(
                rx.flex(
                    rx.heading("Set up two-factor sign-in", as_="h1", size="6"),
                    rx.text("Your role needs a second factor. Scan the code with an authenticator app "
                            "(or type the key), then enter the six-digit code it shows."),
                    _error(StaffSignInState.enrolment_error),
                    rx.cond(StaffSignInState.qr_svg != "",
                            rx.box(rx.html(StaffSignInState.qr_svg), id="totp-qr", width="12rem", height="12rem")),
                    rx.code(StaffSignInState.secret, id="totp-secret"),
                    field_row("Authenticator code", rx.input(name="otp", id="otp", input_mode="numeric",
                                                             auto_complete="one-time-code", required=True, size="3")),
                    rx.button("Confirm", type="submit", size="3", id="confirm-enrolment"),
                    direction="column", spacing="3",
                ),
                method="post", action="/api/admin/enrol",
            ),
            width="100%", max_width="28rem",
        ),
        padding="2rem 1rem", min_height="100vh",
    )


def queue_card(queue: Queue) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(rx.heading(queue.label, as_="h2", size="3"), rx.badge(queue.count, size="2"),
                    justify="between", align="center"),
            rx.flex(rx.foreach(queue.references, lambda ref: rx.link(ref, href="/admin/orders/" + ref)),
                    wrap="wrap", spacing="2"),
            direction="column", spacing="2",
        ),
        class_name="queue", data_queue=queue.key,
    )


def job_row(job) -> rx.Component:
    return rx.table.row(rx.table.cell(job.name), rx.table.cell(job.finished_at), rx.table.cell(job.outcome),
                        rx.table.cell(job.handled), rx.table.cell(job.error), class_name="job-row",
                        data_job=job.name)


@admin_page(routes.ADMIN, "Work queues", [AdminHomeState.load])
def home() -> rx.Component:
    return admin_frame(
        AdminState,
        rx.heading("Work queues", as_="h1", size="6"),
        rx.grid(rx.foreach(AdminHomeState.queues, queue_card), columns=rx.breakpoints(initial="1", md="3"),
                spacing="3"),
        rx.cond(AdminHomeState.jobs.length() > 0, rx.flex(
            rx.heading("Background jobs", as_="h2", size="4"),
            data_table(("Job", "Last run", "Outcome", "Handled", "Error"), rx.foreach(AdminHomeState.jobs, job_row)),
            direction="column", spacing="2",
        )),
    )


def order_row(row: OrderRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.reference, href="/admin/orders/" + row.reference)),
        rx.table.cell(row.placed_at),
        rx.table.cell(row.status),
        rx.table.cell(row.country),
        rx.table.cell(row.total),
        rx.table.cell(row.channel),
        class_name="order-row",
    )


def order_filters() -> rx.Component:
    s = AdminOrdersState
    return rx.form(
        rx.flex(
            field_row("Status", rx.el.select(*[rx.el.option(v.replace("_", " ") or "any", value=v) for v in STATUS_CHOICES],
                                             name="status", id="filter-status", class_name="admin-select")),
            field_row("Country", rx.input(name="country", id="filter-country", max_length=2, width="5rem")),
            field_row("Reference", rx.input(name="reference", id="filter-reference", max_length=32)),
            field_row("Client email", rx.input(name="email", id="filter-email", type="email")),
            field_row("Placed from", rx.input(name="placed_from", id="filter-from", type="date")),
            field_row("to", rx.input(name="placed_to", id="filter-to", type="date")),
            field_row("Sort", rx.el.select(rx.el.option("newest first", value="newest"),
                                           rx.el.option("oldest first", value="oldest"), name="sort", id="filter-sort",
                                           class_name="admin-select")),
            rx.button("Filter", type="submit", id="apply-filters"),
            wrap="wrap", spacing="3", align="end",
        ),
        rx.cond(s.notice != "", rx.text(s.notice, color_scheme="red", size="2", role="alert")),
        on_submit=AdminOrdersState.apply_filters, reset_on_submit=False,
    )


def export_link() -> rx.Component:
    """ "Export CSV": a download link for the filter applied, valid a few minutes and for this session only."""
    e = AdminOrderExportState
    return rx.flex(
        rx.button("Export CSV", on_click=e.export_csv, variant="soft", id="export-orders"),
        rx.cond(e.export_url != "",
                rx.el.a("Download the CSV of the filter applied (valid ", e.export_minutes, " minutes)",
                        href=e.export_url, id="export-download", download="orders.csv")),
        spacing="3", align="center", wrap="wrap",
    )


@admin_page(routes.ADMIN_ORDERS, "Orders", [AdminOrdersState.load])
def orders() -> rx.Component:
    s = AdminOrdersState
    return admin_frame(
        AdminState,
        rx.heading("Orders", as_="h1", size="6"),
        order_filters(),
        export_link(),
        rx.box(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Reference", "Placed (UTC)", "Status", "Country", "Total", "Channel")])),
                rx.table.body(rx.foreach(s.rows, order_row)),
                width="100%", id="order-table",
            ),
            overflow_x="auto", width="100%",
        ),
        rx.cond(s.rows.length() == 0, rx.text("No order matches.", id="no-orders")),
        rx.flex(
            rx.button("Previous", on_click=AdminOrdersState.previous_page, disabled=s.cursors.length() < 2,
                      variant="soft", id="previous-page"),
            rx.button("Next", on_click=AdminOrdersState.next_page, disabled=s.next_cursor == "", variant="soft",
                      id="next-page"),
            spacing="3",
        ),
    )


def line_row(line: LineView) -> rx.Component:
    return rx.table.row(rx.table.cell(line.reference), rx.table.cell(line.name), rx.table.cell(line.quantity),
                        rx.table.cell(line.shipped), rx.table.cell(line.unit_price), rx.table.cell(line.state))


def hold_row(hold: HoldView) -> rx.Component:
    return rx.table.row(rx.table.cell(hold.status), rx.table.cell(hold.amount), rx.table.cell(hold.captured),
                        rx.table.cell(hold.refunded), rx.table.cell(hold.capture_before), class_name="hold-row")


def ship_line(line: LineView) -> rx.Component:
    return rx.cond(
        line.remaining > 0,
        field_row(line.reference + " (" + line.remaining.to_string() + " to ship)",
                  rx.input(name=QUANTITY_FIELD + line.reference, type="number", min=0, max=line.remaining,
                           default_value=line.remaining.to_string(), input_mode="numeric", width="7rem",
                           class_name="ship-quantity", data_line=line.reference)),
    )


def ship_form() -> rx.Component:
    """Lines and quantities handed over, the carrier and tracking number, and the handover time in the
    merchant's time zone (GTC-5.5: the time entered, not the time of the click)."""
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Ship", as_="h2", size="4"),
                rx.flex(rx.foreach(AdminOrderState.detail.lines, ship_line), wrap="wrap", spacing="3"),
                rx.flex(
                    field_row("Carrier", rx.el.select(rx.el.option("Choose…", value=""),
                                                      *[rx.el.option(name, value=name) for name in CARRIERS],
                                                      name="carrier", id="ship-carrier", class_name="admin-select")),
                    field_row("Tracking number", rx.input(name="tracking_number", id="ship-tracking", max_length=40)),
                    field_row(f"Handed to the carrier at ({get_settings().merchant_timezone} time)",
                              rx.input(name="handed_over_at", id="ship-handover", type="datetime-local")),
                    wrap="wrap", spacing="3", align="end",
                ),
                rx.button("Record shipment and charge", type="submit", id="ship", size="3"),
                direction="column", spacing="3",
            ),
            on_submit=AdminOrderState.ship, reset_on_submit=False,
            # A new form after each change to the order: the quantities start again from what remains.
            key=AdminOrderState.detail.events.length().to_string(),
        ),
        id="ship-form",
    )


def refund_line(line: LineView) -> rx.Component:
    return rx.cond(
        line.shipped > 0,
        field_row(line.reference + " (" + line.shipped.to_string() + " shipped)",
                  rx.input(name=REFUND_FIELD + line.reference, type="number", min=0, max=line.shipped,
                           default_value="0", input_mode="numeric", width="7rem")),
    )


def refund_form() -> rx.Component:
    """Only what was charged can be refunded: shipped lines (with their VAT share) and/or an amount."""
    d = AdminOrderState.detail
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Refund", as_="h2", size="4"),
                rx.flex(rx.foreach(d.lines, refund_line), wrap="wrap", spacing="3"),
                rx.flex(
                    field_row("or an amount (" + d.currency + ")",
                              rx.input(name="refund_amount", id="refund-amount", input_mode="decimal", width="10rem")),
                    field_row("Reason", rx.el.select(rx.el.option("Choose…", value=""),
                                                     *[rx.el.option(label, value=value) for value, label in REFUND_REASONS],
                                                     name="reason", id="refund-reason", class_name="admin-select")),
                    wrap="wrap", spacing="3", align="end",
                ),
                rx.button("Refund", type="submit", id="refund", size="3", color_scheme="amber"),
                direction="column", spacing="3",
            ),
            on_submit=AdminOrderState.refund, reset_on_submit=False,
            key=d.events.length().to_string() + "-" + d.refunds.length().to_string(),
        ),
        id="refund-form",
    )


def refund_row(refund: RefundView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(refund.number), rx.table.cell(refund.amount), rx.table.cell(refund.reason),
        rx.table.cell(refund.status), rx.table.cell(refund.requested_by), rx.table.cell(refund.approved_by),
        rx.table.cell(rx.cond(
            AdminOrderState.granted.contains("refunds.approve_large") & (refund.status == "requested")
            & (refund.requested_by != "system"),
            rx.button("Approve", on_click=AdminOrderState.approve_refund(refund.refund_id), size="2",
                      class_name="approve-refund"),
        )),
        class_name="refund-row",
    )


def unavailable_form() -> rx.Component:
    d = AdminOrderState.detail
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Item unavailable", as_="h2", size="4"),
                rx.flex(
                    field_row("Line", rx.el.select(
                        rx.foreach(d.lines, lambda line: rx.cond(
                            line.remaining > 0, rx.el.option(line.reference + " · " + line.name, value=line.reference))),
                        name="unavailable_line", id="unavailable-line", class_name="admin-select")),
                    field_row("Pieces", rx.input(name="unavailable_quantity", id="unavailable-quantity", type="number",
                                                 min=1, default_value="1", width="6rem")),
                    field_row("New delivery date proposed", rx.input(name="proposed_date", id="proposed-date",
                                                                     type="date")),
                    wrap="wrap", spacing="3", align="end",
                ),
                rx.button("Ask the client", type="submit", id="mark-unavailable", size="3", variant="soft"),
                direction="column", spacing="3",
            ),
            on_submit=AdminOrderState.mark_unavailable, reset_on_submit=False,
        ),
        id="unavailable-form",
    )


def delay_form() -> rx.Component:
    """GTC-5.4: a delayed order followed by customer service; the new delivery date offered to the client."""
    d = AdminOrderState.detail
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Delivery delay", as_="h2", size="4"),
                rx.text("Late since ", d.delay_counted_from, " · ", d.delay,
                        rx.cond(d.delay_proposed != "", rx.text.span(" · proposed ", d.delay_proposed), ""),
                        rx.cond(d.delay_offer_date != "", rx.text.span(" · offered ", d.delay_offer_date), ""),
                        id="delay-status"),
                field_row("New delivery date (a business day)", rx.input(name="delay_date", id="delay-date",
                                                                         type="date")),
                rx.button("Propose this date", type="submit", id="propose-delay-date", size="3", variant="soft"),
                direction="column", spacing="3",
            ),
            on_submit=AdminOrderState.propose_delay_date, reset_on_submit=False,
        ),
        id="delay-form",
    )


def compliance_review() -> rx.Component:
    s = AdminOrderState
    return rx.card(
        rx.flex(
            rx.heading("Compliance review", as_="h2", size="4"),
            rx.text("Screening found a possible match (", s.detail.screening, "). Compare the client's details "
                    "with the listed entry before deciding."),
            rx.form(
                rx.flex(
                    rx.el.select(rx.el.option("Why this is not the listed person…", value=""),
                                 *[rx.el.option(label, value=value) for value, label in CLEAR_REASONS],
                                 name="clear_reason", id="clear-reason", class_name="admin-select"),
                    rx.button("Clear", type="submit", id="clear-compliance", size="3"),
                    spacing="2", wrap="wrap", align="center",
                ),
                on_submit=AdminOrderState.clear_compliance, reset_on_submit=False,
            ),
            rx.form(
                rx.flex(
                    rx.el.select(rx.el.option("Why the order is declined…", value=""),
                                 *[rx.el.option(label, value=value) for value, label in DECLINE_REASONS],
                                 name="decline_reason", id="decline-reason", class_name="admin-select"),
                    rx.button("Decline (cancel the order)", type="submit", color_scheme="red", variant="soft",
                              id="decline-compliance", size="3"),
                    spacing="2", wrap="wrap", align="center",
                ),
                on_submit=AdminOrderState.decline_compliance, reset_on_submit=False,
            ),
            direction="column", spacing="3",
        ),
        id="compliance-review",
    )


def sdn_comparison() -> rx.Component:
    """The client's data beside the SDN entry the screening matched (PAY-7), for the compliance role."""
    s = AdminOrderState
    d, m = s.detail, s.sdn_match
    return rx.card(
        rx.flex(
            rx.heading("Screening match", as_="h2", size="4"),
            rx.text("Matched ", m.matched_name, " at ", m.score, " (", m.verdict, ")", size="2"),
            rx.grid(
                rx.flex(
                    rx.text("Client", weight="bold"),
                    rx.text(d.customer["name"], id="sdn-client-name"),
                    rx.text("Born ", d.customer["birth_date"], size="2"),
                    rx.text("Delivery: ", d.customer["shipping_address"], size="2"),
                    rx.text("Billing: ", d.customer["billing_address"], size="2"),
                    rx.text("Country ", d.country, size="2"),
                    direction="column", spacing="1",
                ),
                rx.flex(
                    rx.text("SDN entry ", m.uid, " · ", m.kind, weight="bold"),
                    rx.text(m.name, id="sdn-entry-name"),
                    rx.text("Aliases: ", rx.cond(m.aliases.length() > 0, m.aliases.join("; "), "none"), size="2",
                            id="sdn-entry-aliases"),
                    rx.text("Addresses: ", rx.cond(m.addresses.length() > 0, m.addresses.join("; "), "none listed"),
                            size="2", id="sdn-entry-addresses"),
                    rx.text("Programme: ", m.programs, size="2", id="sdn-entry-programme"),
                    direction="column", spacing="1",
                ),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            direction="column", spacing="3",
        ),
        id="sdn-comparison",
    )


def order_actions() -> rx.Component:
    s = AdminOrderState
    return rx.flex(
        rx.cond(s.granted.contains("orders.approve") & (s.detail.status == "awaiting_approval"),
                rx.button("Approve", on_click=AdminOrderState.approve, id="approve", size="3")),
        rx.cond(s.granted.contains("orders.cancel"),
                rx.form(
                    rx.flex(
                        rx.el.select(rx.el.option("Reason to cancel…", value=""),
                                     *[rx.el.option(label, value=value) for value, label in CANCEL_REASONS],
                                     name="reason", id="cancel-reason", class_name="admin-select"),
                        rx.button("Cancel order", type="submit", color_scheme="red", variant="soft", id="cancel",
                                  size="3"),
                        spacing="2", align="center", wrap="wrap",
                    ),
                    on_submit=AdminOrderState.cancel, reset_on_submit=False,
                )),
        spacing="4", wrap="wrap", align="center",
    )


@admin_page(routes.ADMIN_ORDER, "Order", [AdminOrderState.load])
def order() -> rx.Component:
    s = AdminOrderState
    d = s.detail
    return admin_frame(
        AdminState,
        rx.cond(
            s.not_found,
            rx.heading("Order not found", as_="h1", size="6"),
            rx.cond(
                d,
                rx.flex(
                    rx.flex(rx.heading("Order ", d.reference, as_="h1", size="6", id="order-reference"),
                            rx.badge(d.status, size="3", id="order-status"), spacing="3", align="center", wrap="wrap"),
                    rx.cond(s.notice != "", rx.callout(s.notice, id="action-notice", data_code=s.notice_code,
                                                      color_scheme=rx.cond(s.notice_code == "done", "green", "red"))),
                    order_actions(),
                    rx.cond(s.granted.contains("compliance.review") & (d.status == "compliance_review"),
                            compliance_review()),
                    rx.cond(s.granted.contains("compliance.review") & s.sdn_match, sdn_comparison()),
                    rx.cond(s.granted.contains("orders.ship")
                            & ((d.status == "approved") | (d.status == "partially_shipped")), ship_form()),
                    rx.cond(s.granted.contains("orders.mark_unavailable")
                            & ((d.status == "approved") | (d.status == "partially_shipped")), unavailable_form()),
                    rx.cond(s.granted.contains("orders.follow_up_delay") & (d.delay != ""), delay_form()),
                    rx.cond(s.granted.contains("orders.refund")
                            & ((d.status == "partially_shipped") | (d.status == "shipped")), refund_form()),
                    rx.text("Placed ", d.placed_at, " · ", d.channel, " · ship by ", d.ship_by, " · terms ",
                            d.terms_version, " · screening ", d.screening),
                    rx.cond(d.entered_by != "", rx.text("Entered by telephone by ", d.entered_by, id="entered-by")),
                    rx.text("Subtotal ", d.subtotal, " · shipping ", d.shipping, " · VAT ", d.vat, " · total ", d.total,
                            weight="bold", id="order-total"),
                    rx.cond(d.customer.contains("email"),
                            rx.card(rx.flex(rx.text(d.customer["name"], weight="bold"), rx.text(d.customer["email"]),
                                            rx.text(d.customer["phone"]), rx.text(d.customer["shipping_address"]),
                                            direction="column", spacing="1"), id="customer"),
                            rx.text("Client details are hidden for your role.", color_scheme="gray")),
                    rx.heading("Lines", as_="h2", size="4"),
                    data_table(("Reference", "Watch", "Qty", "Shipped", "Unit price", "State"),
                           rx.foreach(d.lines, line_row)),
                    rx.heading("Card holds", as_="h2", size="4"),
                    data_table(("Status", "Amount", "Captured", "Refunded", "Capture before"), rx.foreach(d.holds, hold_row)),
                    rx.heading("Refunds", as_="h2", size="4"),
                    data_table(("No.", "Amount", "Reason", "Status", "Asked by", "Approved by", ""),
                           rx.foreach(d.refunds, refund_row)),
                    rx.heading("Emails", as_="h2", size="4"),
                    rx.foreach(d.emails, lambda m: rx.text(m.kind, " · ", m.status, " · ", m.created_at, size="2")),
                    rx.heading("History", as_="h2", size="4"),
                    rx.foreach(d.events, lambda e: rx.text(e.at, " · ", e.type, " · ", e.actor, size="2",
                                                          class_name="order-event")),
                    direction="column", spacing="3",
                ),
                rx.skeleton(height="20rem", width="100%"),
            ),
        ),
    )


AUDIT_COLUMNS = ("When", "Staff", "Role", "Action", "Outcome", "Subject", "Change", "IP", "Detail")


def audit_row(row) -> rx.Component:
    return rx.table.row(*[rx.table.cell(row[key]) for key in
                          ("at", "staff", "role", "action", "outcome", "subject", "change", "ip", "detail")],
                        class_name="audit-row")


@admin_page(routes.ADMIN_AUDIT, "Audit log", [AdminAuditState.load])
def audit_log() -> rx.Component:
    s = AdminAuditState
    return admin_frame(
        AdminState,
        rx.heading("Audit log", as_="h1", size="6"),
        rx.form(
            rx.flex(
                field_row("Action", rx.input(name="action", id="audit-action", placeholder="orders.approve")),
                field_row("Outcome", rx.el.select(rx.el.option("any", value=""), rx.el.option("done", value="done"),
                                                  rx.el.option("refused", value="refused"),
                                                  rx.el.option("failed", value="failed"), name="outcome",
                                                  id="audit-outcome", class_name="admin-select")),
                field_row("Staff id", rx.input(name="staff_id", id="audit-staff", input_mode="numeric", width="6rem")),
                field_row("Order", rx.input(name="reference", id="audit-reference")),
                rx.button("Filter", type="submit", id="apply-audit-filters"),
                wrap="wrap", spacing="3", align="end",
            ),
            on_submit=AdminAuditState.apply_filters, reset_on_submit=False,
        ),
        data_table(AUDIT_COLUMNS, rx.foreach(s.rows, audit_row)),
        rx.flex(
            rx.button("Newest", on_click=AdminAuditState.first_page, variant="soft", id="audit-first"),
            rx.button("Older", on_click=AdminAuditState.next_page, disabled=s.older_than == 0, variant="soft",
                      id="audit-older"),
            spacing="3",
        ),
    )
