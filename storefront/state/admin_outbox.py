"""The email outbox page's state (issue 10 § 4): the list with its filters, one message, retry and resend.
Thin, like state/admin.py: each handler checks its input and calls services/outbox_admin.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import outbox_admin
from storefront.services.order_admin import ActionRefused
from storefront.services.outbox_admin import EmailFilters, EmailRow, EmailView
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires

STATUS_CHOICES = ["", *outbox_admin.STATUSES]


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _email_id(value: object) -> int | None:
    """An id from the page (a number, or its digits as text); anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 2**63 else None
    text = _text(value, 19)
    return int(text) if text.isdigit() and int(text) > 0 else None


class AdminOutboxState(AdminState):
    rows: list[EmailRow] = []
    kinds: list[str] = []
    status: str = ""
    kind: str = ""
    reference: str = ""
    older_than: int = 0  # the id the next page starts below; 0 on the last page
    opened: EmailView | None = None
    notice: str = ""
    notice_code: str = ""

    def _filters(self) -> EmailFilters:
        return EmailFilters(self.status, self.kind, self.reference)

    def _show(self, before_id: int | None) -> None:
        self.rows, self.older_than = outbox_admin.email_page(UnitOfWork(), self._filters(), before_id)

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    @rx.event
    @requires("emails.view")
    def load(self, staff: StaffIdentity):
        self.notice, self.notice_code, self.opened = "", "", None
        self.kinds = outbox_admin.kinds(UnitOfWork())
        self._show(None)

    @rx.event
    @requires("emails.view")
    def apply_filters(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        status, kind = _text(form_data.get("status"), 10), _text(form_data.get("kind"), 40)
        self.status = status if status in outbox_admin.STATUSES else ""
        self.kind = kind if kind in self.kinds else ""
        self.reference = _text(form_data.get("reference"), 32).upper()
        self._show(None)

    @rx.event
    @requires("emails.view")
    def next_page(self, staff: StaffIdentity):
        if self.older_than:
            self._show(self.older_than)

    @rx.event
    @requires("emails.view")
    def first_page(self, staff: StaffIdentity):
        self._show(None)

    @rx.event
    @requires("emails.view")
    def open_email(self, email_id: int, staff: StaffIdentity):
        try:
            self.opened = outbox_admin.read(UnitOfWork(), _email_id(email_id), staff=staff, ip=self._client_ip())
            self.notice, self.notice_code = "", ""
        except ActionRefused as refused:
            self.opened = None
            self._answer(refused.refusal.code, **refused.refusal.params)

    @rx.event
    @requires("emails.view")
    def close_email(self, staff: StaffIdentity):
        self.opened = None

    @rx.event
    @requires("emails.resend")
    def retry(self, email_id: int, staff: StaffIdentity):
        try:
            outbox_admin.retry(UnitOfWork(), _email_id(email_id), staff=staff, ip=self._client_ip())
            self._answer(None, "The email is back in the queue; the outbox sends it within a minute.")
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._show(None)

    @rx.event
    @requires("emails.resend")
    def resend_confirmation(self, form_data: dict[str, Any], staff: StaffIdentity):
        reference = _text(form_data.get("reference"), 32).upper() if isinstance(form_data, dict) else ""
        try:
            new_id = outbox_admin.resend_confirmation(UnitOfWork(), reference, staff=staff, ip=self._client_ip())
            self._answer(None, f"A new confirmation for {reference} is queued (email {new_id}).")
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._show(None)
