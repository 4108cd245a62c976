"""The privacy page's state (issue 10 § 7, PAY-6): the retention policy and the last run of its daily job, and a
client's erasure request entered by staff. Thin, like state/admin_outbox.py: checks its input and calls
services/retention.py. The email searched stays in this state only, never in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.domain.retention import POLICY, REASON_LABELS, ErasureReason
from storefront.services import retention
from storefront.services.order_admin import ActionRefused
from storefront.services.retention import FoundOrder, RunView
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires

REASONS = [[reason.value, REASON_LABELS[reason]] for reason in ErasureReason]


@dataclass(frozen=True)
class PeriodView:
    key: str
    what: str
    kept: str
    ground: str


POLICY_ROWS = [PeriodView(p.key, p.what, p.label, p.ground) for p in POLICY.periods.values()]


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


class AdminPrivacyState(AdminState):
    policy: list[PeriodView] = POLICY_ROWS
    last_run: RunView | None = None
    email: str = ""
    found: list[FoundOrder] = []
    searched: bool = False
    notice: str = ""
    notice_code: str = ""

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    def _search(self, staff: StaffIdentity) -> None:
        self.found = retention.find_orders(UnitOfWork(), self.email, staff=staff, ip=self._client_ip())
        self.searched = True

    @rx.event
    @requires("customers.erase")
    def load(self, staff: StaffIdentity):
        self.notice, self.notice_code, self.email, self.found, self.searched = "", "", "", [], False
        self.last_run = retention.last_run(UnitOfWork())

    @rx.event
    @requires("customers.erase")
    def search(self, form_data: dict[str, Any], staff: StaffIdentity):
        self.found, self.searched, self.notice, self.notice_code = [], False, "", ""
        self.email = _text(form_data.get("email"), retention.MAX_EMAIL + 1) if isinstance(form_data, dict) else ""
        try:
            self._search(staff)
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)

    @rx.event
    @requires("customers.erase")
    def erase(self, form_data: dict[str, Any], staff: StaffIdentity):
        reason = _text(form_data.get("reason"), 40) if isinstance(form_data, dict) else ""
        try:
            result = retention.erase_client(UnitOfWork(), self.email, reason, staff=staff, ip=self._client_ip())
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
            return
        parts = []
        if result.erased:
            parts.append(f"Erased in full: {', '.join(result.erased)}.")
        if result.partly:
            parts.append("Contact data erased; kept for a legal duty: "
                         + ", ".join(f"{ref} until {until}" for ref, until in result.partly) + ".")
        if result.open:
            parts.append("Not erased, still being performed: "
                         + ", ".join(f"{ref} ({status.replace('_', ' ')})" for ref, status in result.open)
                         + ". Ask again once they are shipped or cancelled.")
        if not result.changed:
            parts.insert(0, "Nothing changed: " + (
                "no order holds this address any more (already erased, or never used)." if not result.open
                else "no order of this client can be erased now."))
        self._answer(None, " ".join(parts))
        handled = result.erased + [ref for ref, _ in result.partly] + [ref for ref, _ in result.open]
        self.found = retention.orders_by_reference(UnitOfWork(), handled)
