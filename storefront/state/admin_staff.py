"""The staff page's state (issue 10 § 6): the accounts, create, disable, enable, change a role, reset a second
factor; and the order list's export link. Thin, like state/admin_outbox.py: each handler checks its input and
calls services/staff_admin.py (or services/order_export.py). A password typed into the form is passed on and
never kept in the state, so it is never sent back to the browser."""

from __future__ import annotations

from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.domain.staff import Role
from storefront.services import order_export, staff_admin
from storefront.services.row_ids import MAX_ROW_ID
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.staff_admin import StaffRow
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin import AdminOrdersState
from storefront.state.admin_auth import AdminState, requires

ROLE_CHOICES = [r.value for r in Role]
FIELDS = ("email", "full_name", "password", "role")


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _staff_id(value: object) -> int | None:
    """An id from the page (a number, or its digits as text); anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ROW_ID else None
    text = _text(value, 19)
    return int(text) if text.isdigit() and int(text) > 0 else None


class AdminStaffState(AdminState):
    rows: list[StaffRow] = []
    # a message beside each field of the new-account form ("" when none)
    field_errors: dict[str, str] = {}
    notice: str = ""
    notice_code: str = ""
    # the account the last row action was about, so its message shows on its row
    notice_staff_id: int = 0

    def _show(self) -> None:
        self.rows = staff_admin.staff_list(UnitOfWork())

    def _answer(self, code: ErrorCode | None, done: str = "", staff_id: int = 0, **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done
        self.notice_staff_id = staff_id

    @rx.event
    @requires("staff.manage")
    def load(self, staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code, self.notice_staff_id = {}, "", "", 0
        self._show()

    @rx.event
    @requires("staff.manage")
    def create(self, form_data: dict[str, Any], staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code = {}, "", ""
        if not isinstance(form_data, dict):
            return
        email = _text(form_data.get("email"), 400)
        try:
            new_id = staff_admin.create(UnitOfWork(), email=email, password=form_data.get("password"),
                                        role=_text(form_data.get("role"), 40),
                                        full_name=_text(form_data.get("full_name"), 200), staff=staff,
                                        ip=self._client_ip())
        except StaffError as refused:
            field = staff_admin.FIELD_OF.get(refused.code, "")
            if field:
                self.field_errors = {field: refused.refusal.message}
            else:
                self._answer(refused.code, **refused.refusal.params)
            return
        self._answer(None, f"The account {email} is created (staff {new_id}). Hand the initial password over in "
                           "person; a role with a second factor sets it up at the first sign-in.", new_id)
        self._show()
        return rx.set_value("new-staff-password", "")

    def _act(self, action, staff_id: object, done: str, staff: StaffIdentity, **extra: object) -> None:
        target = _staff_id(staff_id)
        try:
            revoked = action(UnitOfWork(), target, **extra, staff=staff, ip=self._client_ip())
            self._answer(None, done.format(sessions=revoked or 0), target or 0)
        except StaffError as refused:
            self._answer(refused.code, staff_id=target or 0, **refused.refusal.params)
        self._show()

    @rx.event
    @requires("staff.manage")
    def disable(self, staff_id: int, staff: StaffIdentity):
        self._act(staff_admin.disable, staff_id, "The account is disabled; {sessions} open session(s) ended.", staff)

    @rx.event
    @requires("staff.manage")
    def enable(self, staff_id: int, staff: StaffIdentity):
        self._act(staff_admin.enable, staff_id, "The account is enabled again; its owner signs in anew.", staff)

    @rx.event
    @requires("staff.manage")
    def change_role(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        self._act(staff_admin.change_role, form_data.get("staff_id"),
                  "The role is changed; {sessions} open session(s) ended, the next sign-in has the new role.",
                  staff, role=_text(form_data.get("role"), 40))

    @rx.event
    @requires("staff.manage")
    def reset_second_factor(self, staff_id: int, staff: StaffIdentity):
        self._act(staff_admin.reset_second_factor, staff_id,
                  "The second factor is reset; {sessions} open session(s) ended, the next sign-in sets up a new one.",
                  staff)


class AdminOrderExportState(AdminState):
    """The order list's "Export CSV": a download link for the filter shown, bound to this session, valid minutes."""

    export_url: str = ""
    export_minutes: int = int(order_export.LINK_AGE.total_seconds() // 60)

    @rx.event
    @requires("orders.view")
    async def export_csv(self, staff: StaffIdentity):
        orders = await self.get_state(AdminOrdersState)
        self.export_url = order_export.export_link(orders._filters(), staff=staff)
