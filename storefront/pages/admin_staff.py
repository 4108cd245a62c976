"""Staff accounts on the management page (issue 10 § 6): create, disable, enable, change a role, reset a second
factor (admin only, `staff.manage`)."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.domain.staff import RULES
from storefront.pages.admin import admin_page
from storefront.services.staff_admin import StaffRow
from storefront.state.admin_staff import ROLE_CHOICES, AdminStaffState

COLUMNS = ("Email", "Name", "Role", "Status", "Second factor", "Open sessions", "")


def field_error(name: str) -> rx.Component:
    text = AdminStaffState.field_errors.get(name, "")
    return rx.cond(text != "", rx.text(text, color_scheme="red", size="2", role="alert", id=f"error-{name}"))


def role_select(name: str, id_: str, default=None) -> rx.Component:
    return rx.el.select(rx.foreach(ROLE_CHOICES, lambda r: rx.el.option(r.replace("_", " "), value=r)),
                        name=name, id=id_, class_name="admin-select", default_value=default)


def staff_row(row: StaffRow) -> rx.Component:
    s = AdminStaffState
    return rx.table.row(
        rx.table.cell(row.email), rx.table.cell(row.full_name), rx.table.cell(row.role.replace("_", " ")),
        rx.table.cell(rx.badge(rx.cond(row.active, "active", "disabled"),
                               color_scheme=rx.cond(row.active, "green", "gray"))),
        rx.table.cell(row.second_factor), rx.table.cell(row.open_sessions),
        rx.table.cell(rx.flex(
            rx.form(
                rx.flex(
                    rx.el.input(type="hidden", name="staff_id", value=row.id),
                    rx.el.select(rx.foreach(ROLE_CHOICES, lambda r: rx.el.option(r.replace("_", " "), value=r)),
                                 name="role", default_value=row.role, class_name="admin-select role-select",
                                 aria_label="Role"),
                    rx.button("Change role", type="submit", size="2", variant="soft", class_name="change-role"),
                    spacing="2", align="center",
                ),
                on_submit=s.change_role, reset_on_submit=False,
            ),
            rx.cond(row.active,
                    rx.button("Disable", on_click=s.disable(row.id), size="2", color_scheme="red",
                              class_name="disable-staff"),
                    rx.button("Enable", on_click=s.enable(row.id), size="2", variant="soft",
                              class_name="enable-staff")),
            rx.cond(row.second_factor == "on",
                    rx.button("Reset second factor", on_click=s.reset_second_factor(row.id), size="2",
                              variant="soft", class_name="reset-second-factor")),
            rx.cond((s.notice != "") & (s.notice_staff_id == row.id),
                    rx.text(s.notice, size="2", role="status", class_name="row-notice", data_code=s.notice_code,
                            color_scheme=rx.cond(s.notice_code == "done", "green", "red"))),
            spacing="2", wrap="wrap", align="center")),
        class_name="staff-row", data_email=row.email, data_active=rx.cond(row.active, "true", "false"),
    )


@admin_page(routes.ADMIN_STAFF, "Staff", [AdminStaffState.load])
def staff_accounts() -> rx.Component:
    s = AdminStaffState
    return admin_frame(
        AdminStaffState,
        rx.heading("Staff", as_="h1", size="6"),
        rx.cond((s.notice != "") & (s.notice_staff_id == 0),
                rx.callout(s.notice, id="staff-notice", data_code=s.notice_code, role="status")),
        data_table(COLUMNS, rx.foreach(s.rows, staff_row)),
        rx.heading("New account", as_="h2", size="4"),
        rx.form(
            rx.flex(
                rx.box(field_row("Email", rx.input(name="email", id="new-staff-email", type="email", required=True,
                                                   max_length=320)), field_error("email")),
                rx.box(field_row("Name", rx.input(name="full_name", id="new-staff-name", max_length=200)),
                       field_error("full_name")),
                rx.box(field_row("Role", role_select("role", "new-staff-role", "viewer")), field_error("role")),
                rx.box(field_row(f"Initial password (at least {RULES.password_min_length} characters)",
                                 rx.input(name="password", id="new-staff-password", type="password",
                                          auto_complete="new-password", required=True)),
                       field_error("password")),
                rx.button("Create account", type="submit", id="create-staff"),
                wrap="wrap", spacing="3", align="start",
            ),
            rx.text("Hand the initial password over in person. Finance and admin accounts set up their second "
                    "factor at the first sign-in.", size="2", color_scheme="gray"),
            on_submit=AdminStaffState.create, reset_on_submit=False, id="new-staff-form",
        ),
    )
