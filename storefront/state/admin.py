"""The management page's states: work queues, the order list and one order. Thin: each handler checks
its input, calls a service and shows the answer; the permission decorator guards every one."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from storefront import routes
from storefront.domain.cancellation import STAFF_LABELS, reason_from
from storefront.domain.errors import ErrorCode, message
from storefront.domain.order_status import OrderStatus
from storefront.domain.staff import allowed
from storefront.services.staff_cookies import ENROL_COOKIE, cookie_value
from storefront.domain.carriers import carriers
from storefront.domain.compliance_review import DECLINE_LABELS, LABELS as CLEAR_LABELS
from storefront.domain.money import exponent
from storefront.domain.refunds import RefundReason
from storefront.services import (
    admin_orders,
    audit,
    delays,
    jobs,
    order_admin,
    refunds,
    sanctions_admin,
    shipping_admin,
    staff,
    unavailable_items,
)
from storefront.services.jobs import JobStatus
from storefront.services.sanctions_admin import MatchedEntry
from storefront.services.admin_orders import OrderDetail, OrderFilters, OrderRow, Queue
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings
from storefront.state.admin_auth import AdminState, requires
from storefront.state.cart import whole_number

STATUS_CHOICES = ["", *[s.value for s in OrderStatus]]
CANCEL_REASONS = [[reason.value, label] for reason, label in STAFF_LABELS.items()]
CARRIERS = [c.name for c in carriers()]
QUANTITY_FIELD = "qty_"  # the ship form's quantity fields: qty_<line reference>
REFUND_FIELD = "refund_qty_"  # the refund form's quantity fields
REFUND_REASONS = [[r.value, r.value.replace("_", " ")] for r in RefundReason]
CLEAR_REASONS = [[reason.value, label] for reason, label in CLEAR_LABELS.items()]
DECLINE_REASONS = [[reason.value, label] for reason, label in DECLINE_LABELS.items()]


def _quantities(form_data: dict, prefix: str) -> dict[str, int] | None:
    """{line reference: quantity} from the form's fields named prefix + reference; None if one is not a
    whole number of at least 0."""
    found: dict[str, int] = {}
    for key, value in form_data.items():
        if isinstance(key, str) and key.startswith(prefix) and len(key) <= 60:
            quantity = whole_number(value)
            if quantity is None or quantity < 0:
                return None
            if quantity:
                found[key.removeprefix(prefix)] = quantity
    return found


def _amount(value: object, currency: str) -> int | None | bool:
    """An amount typed in the order's currency, in minor units; None when left empty, False when unreadable."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    try:
        amount = Decimal(text[:20])
        minor = amount.scaleb(exponent(currency))
        # no yen decimals, no third decimal of a franc: what is typed must be an amount in this currency
        return int(minor) if amount.is_finite() and minor == minor.to_integral_value() else False
    except (InvalidOperation, ValueError):
        return False


def _merchant_time(value: object) -> datetime | None:
    """A `datetime-local` field's value, which staff enter in the merchant's time zone, as UTC."""
    try:
        local = datetime.fromisoformat(value) if isinstance(value, str) and 0 < len(value) <= 30 else None
    except ValueError:
        return None
    if local is None or local.tzinfo is not None:
        return None
    return local.replace(tzinfo=ZoneInfo(get_settings().merchant_timezone)).astimezone(timezone.utc)


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and 0 < len(value) <= 10 else None
    except ValueError:
        return None


class AdminHomeState(AdminState):
    queues: list[Queue] = []
    jobs: list[JobStatus] = []

    @rx.event
    @requires("orders.view")
    def load(self, staff: StaffIdentity):
        self.queues = admin_orders.work_queues(UnitOfWork())
        self.jobs = jobs.last_runs(UnitOfWork()) if allowed(staff.role, "jobs.view") else []


class AdminOrdersState(AdminState):
    rows: list[OrderRow] = []
    status: str = ""
    country: str = ""
    reference: str = ""
    email: str = ""
    placed_from: str = ""
    placed_to: str = ""
    sort: str = "newest"
    next_cursor: str = ""
    cursors: list[str] = []  # where each page shown so far began, for "previous"
    notice: str = ""

    def _filters(self) -> OrderFilters:
        return OrderFilters(self.status, self.country, self.reference, self.email, _day(self.placed_from),
                            _day(self.placed_to), self.sort)

    def _show(self, cursor: str) -> None:
        page = admin_orders.order_page(UnitOfWork(), self._filters(), cursor)
        self.rows, self.next_cursor = page.rows, page.next_cursor

    @rx.event
    @requires("orders.view")
    def load(self, staff: StaffIdentity):
        self.cursors = [""]
        self._show("")

    @rx.event
    @requires("orders.view")
    def apply_filters(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        self.notice = ""
        email = _text(form_data.get("email"), 320)
        if email and not allowed(staff.role, "customers.view_personal_data"):
            email, self.notice = "", message(ErrorCode.STAFF_FORBIDDEN)
        status = _text(form_data.get("status"), 40)
        self.status = status if status in STATUS_CHOICES else ""
        self.country = _text(form_data.get("country"), 2).upper()
        self.reference = _text(form_data.get("reference"), 32).upper()
        self.email = email
        self.placed_from = form_data["placed_from"] if _day(form_data.get("placed_from")) else ""
        self.placed_to = form_data["placed_to"] if _day(form_data.get("placed_to")) else ""
        sort = _text(form_data.get("sort"), 10)
        self.sort = sort if sort in admin_orders.SORTS else "newest"
        if email:
            audit.record_now(UnitOfWork(), staff=staff, action="customers.view_personal_data", outcome="done",
                             subject="order_search:email", ip=self._client_ip())
        self.cursors = [""]
        self._show("")

    @rx.event
    @requires("orders.view")
    def next_page(self, staff: StaffIdentity):
        if self.next_cursor:
            self.cursors = [*self.cursors, self.next_cursor]
            self._show(self.next_cursor)

    @rx.event
    @requires("orders.view")
    def previous_page(self, staff: StaffIdentity):
        if len(self.cursors) > 1:
            self.cursors = self.cursors[:-1]
            self._show(self.cursors[-1])


class AdminOrderState(AdminState):
    detail: OrderDetail | None = None
    sdn_match: MatchedEntry | None = None  # the listed entry the screening matched, for the compliance role
    not_found: bool = False
    notice: str = ""
    notice_code: str = ""
    _acting: bool = False  # an action that calls the payment provider is under way (see `_with_provider`)

    def _reference(self) -> str:
        return _text(self.router.page.params.get("reference", ""), 32)

    def _load(self, identity: StaffIdentity) -> None:
        personal = allowed(identity.role, "customers.view_personal_data")
        self.detail = admin_orders.order_detail(UnitOfWork(), self._reference(), with_personal_data=personal)
        self.not_found = self.detail is None
        self.sdn_match = (sanctions_admin.matched_entry_of(UnitOfWork(), self._reference())
                          if self.detail is not None and allowed(identity.role, "compliance.review") else None)
        if self.detail is not None and personal:
            audit.record_now(UnitOfWork(), staff=identity, action="customers.view_personal_data", outcome="done",
                             order_id=self.detail.order_id, subject=f"order:{self.detail.reference}",
                             ip=self._client_ip())

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    async def _with_provider(self, staff: StaffIdentity, reference: str, done: str | Callable[[Any], str],
                             action: Callable[[], Any]) -> None:
        """Carry out an action that charges, refunds or releases at the payment provider, in a background
        handler that has checked its input and set `_acting` under the lock: the action runs with no lock held
        (the tab's other events are answered meanwhile; a second click finds `_acting` set), then its answer
        and the order as it now stands go on screen, if the page still shows that order."""
        answer = None
        try:
            result = await asyncio.to_thread(action)
            answer = (None, done(result) if callable(done) else done, {})
        except order_admin.ActionRefused as refused:
            answer = (refused.refusal.code, "", refused.refusal.params)
        finally:
            async with self:
                self._acting = False
                if answer is not None and self._reference() == reference:
                    code, text, params = answer
                    self._answer(code, text, **params)
                    self._load(staff)

    @rx.event
    @requires("orders.view")
    def load(self, staff: StaffIdentity):
        # a page load frees the actions: a worker stopped mid-action (with Redis the state outlives it) must not
        # leave them locked; the services still refuse a second capture, refund or release of the same thing
        self.notice, self.notice_code, self._acting = "", "", False
        self._load(staff)

    @rx.event
    @requires("orders.approve")
    def approve(self, staff: StaffIdentity):
        try:
            order_admin.approve(UnitOfWork(), self._reference(), staff=staff, ip=self._client_ip())
            self._answer(None, "Order approved; the client has been told it is confirmed.")
        except order_admin.ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._load(staff)

    @rx.event(background=True)
    @requires("orders.ship")
    async def ship(self, form_data: dict[str, Any], staff: StaffIdentity):
        """GTC-5.2, 5.5, PAY-5: the lines and quantities handed over, to whom, and when (the time entered)."""
        async with self:
            if not isinstance(form_data, dict) or self._acting:
                return
            lines = _quantities(form_data, QUANTITY_FIELD)
            if lines is None:
                self._answer(ErrorCode.INVALID_QUANTITY)
                return
            reference, ip, self._acting = self._reference(), self._client_ip(), True
        await self._with_provider(staff, reference, "Shipment recorded; the amount shipped is charged and the client "
                                                    "emailed.", functools.partial(
            shipping_admin.ship, UnitOfWork(), reference, lines=lines, carrier=_text(form_data.get("carrier"), 80),
            tracking_number=_text(form_data.get("tracking_number"), 60).upper(),
            handed_over_at=_merchant_time(form_data.get("handed_over_at")), staff=staff, ip=ip))

    @rx.event
    @requires("orders.mark_unavailable")
    def mark_unavailable(self, form_data: dict[str, Any], staff: StaffIdentity):
        """GTC-3.2: pieces found unavailable after approval; the client is asked to choose."""
        if not isinstance(form_data, dict):
            return
        quantity = whole_number(form_data.get("unavailable_quantity"))
        proposed = _day(form_data.get("proposed_date"))
        if quantity is None or quantity < 1:
            self._answer(ErrorCode.INVALID_QUANTITY)
            return
        if proposed is None:
            self._answer(ErrorCode.UNAVAILABLE_DATE_INVALID)
            return
        try:
            unavailable_items.mark_unavailable(UnitOfWork(), self._reference(),
                                               _text(form_data.get("unavailable_line"), 40), quantity,
                                               proposed_date=proposed, staff=staff, ip=self._client_ip())
            self._answer(None, "Marked unavailable; the client has been asked to choose a new date or a refund.")
        except order_admin.ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._load(staff)

    @rx.event
    @requires("orders.follow_up_delay")
    def propose_delay_date(self, form_data: dict[str, Any], staff: StaffIdentity):
        """GTC-5.4: customer service proposes the new delivery date of a delayed order (a business day ahead)."""
        if not isinstance(form_data, dict):
            return
        proposed = _day(form_data.get("delay_date"))
        if proposed is None:
            self._answer(ErrorCode.DELAY_DATE_INVALID)
            return
        try:
            delays.propose_date(UnitOfWork(), self._reference(), proposed, staff=staff, ip=self._client_ip())
            self._answer(None, "New delivery date proposed; it is the date offered to the client.")
        except order_admin.ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._load(staff)

    @rx.event(background=True)
    @requires("orders.refund")
    async def refund(self, form_data: dict[str, Any], staff: StaffIdentity):
        """By shipped line and/or an amount, never more than captured; above the threshold it waits for a
        second approver."""
        async with self:
            if not isinstance(form_data, dict) or self.detail is None or self._acting:
                return
            lines = _quantities(form_data, REFUND_FIELD)
            amount = _amount(form_data.get("refund_amount"), self.detail.currency)
            if lines is None:
                self._answer(ErrorCode.INVALID_QUANTITY)
                return
            if amount is False:
                self._answer(ErrorCode.REFUND_AMOUNT_INVALID)
                return
            reference, ip, self._acting = self._reference(), self._client_ip(), True
        await self._with_provider(
            staff, reference, lambda outcome: "Refunded; the client has been emailed." if outcome.status == "succeeded"
            else "Refund recorded; it waits for a second approver.",
            functools.partial(refunds.refund, UnitOfWork(), reference, amount_minor=amount, lines=lines or None,
                              reason=_text(form_data.get("reason"), 40), staff=staff, ip=ip))

    @rx.event(background=True)
    @requires("refunds.approve_large")
    async def approve_refund(self, refund_id: int, staff: StaffIdentity):
        async with self:
            if self._acting:
                return
            if type(refund_id) is not int or self.detail is None \
                    or refund_id not in {r.refund_id for r in self.detail.refunds}:
                self._answer(ErrorCode.REFUND_NOT_FOUND)
                return
            reference, ip, self._acting = self._reference(), self._client_ip(), True
        await self._with_provider(staff, reference, "Refund approved and made; the client has been emailed.",
                                  functools.partial(refunds.approve_refund, UnitOfWork(), refund_id, staff=staff, ip=ip))

    @rx.event
    @requires("compliance.review")
    def clear_compliance(self, form_data: dict[str, Any], staff: StaffIdentity):
        reason = form_data.get("clear_reason") if isinstance(form_data, dict) else None
        try:
            back = order_admin.clear_compliance(UnitOfWork(), self._reference(), reason, staff=staff,
                                                ip=self._client_ip())
            self._answer(None, f"Cleared; the order is back to {back.value.replace('_', ' ')}.")
        except order_admin.ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        self._load(staff)

    @rx.event(background=True)
    @requires("compliance.review")
    async def decline_compliance(self, form_data: dict[str, Any], staff: StaffIdentity):
        reason = form_data.get("decline_reason") if isinstance(form_data, dict) else None
        async with self:
            if self._acting:
                return
            reference, ip, self._acting = self._reference(), self._client_ip(), True
        await self._with_provider(staff, reference, "Declined; the order is cancelled (what had shipped stays sold), "
                                                    "the holds released and the client told.",
                                  functools.partial(order_admin.decline_compliance, UnitOfWork(), reference, reason,
                                                    staff=staff, ip=ip))

    @rx.event(background=True)
    @requires("orders.cancel")
    async def cancel(self, form_data: dict[str, Any], staff: StaffIdentity):
        reason = reason_from(form_data.get("reason")) if isinstance(form_data, dict) else None
        async with self:
            if self._acting:
                return
            if reason is None:
                self._answer(ErrorCode.CANCEL_REASON_UNKNOWN)
                return
            reference, ip, self._acting = self._reference(), self._client_ip(), True
        await self._with_provider(staff, reference, "Order cancelled; holds released and the client emailed.",
                                  functools.partial(order_admin.cancel, UnitOfWork(), reference, reason, staff=staff,
                                                    ip=ip))


class StaffSignInState(rx.State):
    """Before a session exists: the sign-in page's message and the TOTP enrolment. Public by nature;
    what they show comes from the query string's code or the HttpOnly enrolment cookie."""

    error: str = ""
    qr_svg: str = ""
    secret: str = ""
    enrolment_error: str = ""

    @rx.event
    def load_sign_in(self):
        code = self.router.page.params.get("error", "")
        try:
            known = ErrorCode(code) if isinstance(code, str) and code else None
        except ValueError:
            known = ErrorCode.INVALID_REQUEST
        retry = self.router.page.params.get("retry", "")
        self.error = message(known, seconds=retry if str(retry).isdigit() else "a few") if known else ""

    @rx.event
    def load_enrolment(self):
        self.qr_svg = self.secret = self.enrolment_error = ""
        token = cookie_value(self.router.headers.cookie, ENROL_COOKIE)
        if not token:
            return rx.redirect(routes.ADMIN_LOGIN)
        try:
            enrolment = staff.begin_enrolment(UnitOfWork(), token)
        except StaffError as exc:
            self.enrolment_error = message(exc.code)
            return None
        self.qr_svg, self.secret = enrolment.qr_svg, enrolment.secret
        code = self.router.page.params.get("error", "")
        if code == ErrorCode.STAFF_OTP_INVALID.value:
            self.enrolment_error = message(ErrorCode.STAFF_OTP_INVALID)
        return None


class AdminAuditState(AdminState):
    """The audit log, newest first, filtered by action, outcome, staff member or order."""

    rows: list[dict[str, str]] = []
    action: str = ""
    outcome: str = ""
    staff_id: str = ""
    reference: str = ""
    older_than: int = 0  # the id the next page starts below; 0 when this is the last page
    pages: list[int] = []

    def _show(self, before_id: int | None) -> None:
        order_id = admin_orders.order_id_of(UnitOfWork(), self.reference) if self.reference else None
        if self.reference and order_id is None:
            self.rows, self.older_than = [], 0
            return
        found = audit.entries(UnitOfWork(), action=self.action or None, outcome=self.outcome or None,
                              staff_id=int(self.staff_id) if self.staff_id else None, order_id=order_id,
                              before_id=before_id, limit=admin_orders.PAGE_SIZE + 1)
        shown = found[:admin_orders.PAGE_SIZE]
        self.rows = [{"id": str(r.id), "at": r.at.strftime("%Y-%m-%d %H:%M:%S UTC"), "staff": str(r.staff_id or "—"),
                      "role": r.role or "—", "action": r.action, "outcome": r.outcome, "subject": r.subject,
                      "change": f"{r.before or ''} → {r.after or ''}" if (r.before or r.after) else "",
                      "ip": r.ip, "detail": r.detail} for r in shown]
        self.older_than = shown[-1].id if len(found) > admin_orders.PAGE_SIZE else 0

    @rx.event
    @requires("audit.view")
    def load(self, staff: StaffIdentity):
        self.pages = [0]
        self._show(None)

    @rx.event
    @requires("audit.view")
    def apply_filters(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        outcome = _text(form_data.get("outcome"), 10)
        staff_id = _text(form_data.get("staff_id"), 9)
        self.action = _text(form_data.get("action"), 60)
        self.outcome = outcome if outcome in ("done", "refused", "failed") else ""
        self.staff_id = staff_id if staff_id.isdigit() else ""
        self.reference = _text(form_data.get("reference"), 32).upper()
        self.pages = [0]
        self._show(None)

    @rx.event
    @requires("audit.view")
    def next_page(self, staff: StaffIdentity):
        if self.older_than:
            self.pages = [*self.pages, self.older_than]
            self._show(self.older_than)

    @rx.event
    @requires("audit.view")
    def first_page(self, staff: StaffIdentity):
        self.pages = [0]
        self._show(None)
