"""The telephone order page's state (issue 10 § 5, PAY-2): staff enter an order for a client on the phone.

Thin, like state/admin_staff.py: the handler reads the form, calls services/telephone_orders.py (which checks
everything the shop checks, and refuses a card number in any field) and shows a message beside each field it
refused. No card field exists here: the client confirms and pays through the emailed link.
"""

from __future__ import annotations

from typing import Any

import asyncio
import secrets

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import telephone_orders
from storefront.services import terms as terms_service
from storefront.services.markets import CountryOption, country_options
from storefront.services.staff import StaffIdentity
from storefront.services.telephone_orders import PhonePayment, TelephoneOrderRefused, WatchChoice
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires
from storefront.state.card_form import read_card_result
from storefront.state.checkout import MAX_FIELD

LINE_SLOTS = 3  # watches per order on the form; the per-order limits are the shop's
TEXT_FIELDS = telephone_orders.TEXT_FIELDS


def _text(value: object) -> str:
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""


def _quantity(value: object) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() and len(text) <= 4 else None


def _lines(form_data: dict[str, Any]) -> dict[str, int] | None:
    """{reference: quantity} of the filled rows; None when a row is half filled or a quantity is not a number."""
    lines: dict[str, int] = {}
    for slot in range(LINE_SLOTS):
        reference = _text(form_data.get(f"line_{slot}_watch"))
        raw_quantity = _text(form_data.get(f"line_{slot}_quantity"))
        if not reference and raw_quantity in ("", "0"):
            continue
        quantity = _quantity(raw_quantity)
        if not reference or quantity is None:
            return None
        lines[reference] = lines.get(reference, 0) + quantity
    return lines


class AdminTelephoneOrderState(AdminState):
    watches: list[WatchChoice] = []
    countries: list[CountryOption] = []
    # a message beside each field of the form ("" when none)
    field_errors: dict[str, str] = {}
    notice: str = ""
    notice_code: str = ""
    entered_reference: str = ""
    # the form's own key, sent back with it: a second click on the same form returns the order the first made
    entry_key: str = ""
    # MOTO (settings STOREFRONT_STRIPE_MOTO, off by default): the card taken on the phone for the order just entered
    moto_enabled: bool = False
    moto_open: bool = False
    terms_version: str = ""
    terms_by_phone: bool = False
    moto_busy: bool = False
    moto_message: str = ""
    moto_code: str = ""
    _moto_reference: str = ""
    _terms_version_id: int = 0

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    @rx.event
    @requires("telephone_orders.create")
    def load(self, staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code, self.entered_reference = {}, "", "", ""
        self.watches = telephone_orders.watch_choices(UnitOfWork())
        self.countries = country_options()
        self.moto_enabled = telephone_orders.moto_enabled()
        self.entry_key = secrets.token_urlsafe(24)
        self._close_moto()

    def _close_moto(self) -> None:
        self.moto_open, self.terms_by_phone, self.moto_busy, self.moto_message, self.moto_code = (
            False, False, False, "", "")
        self._moto_reference, self._terms_version_id, self.terms_version = "", 0, ""

    @rx.event
    @requires("telephone_orders.create")
    def enter(self, form_data: dict[str, Any], staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code, self.entered_reference = {}, "", "", ""
        self._close_moto()
        if not isinstance(form_data, dict):
            self._answer(ErrorCode.INVALID_REQUEST)
            return
        lines = _lines(form_data)
        if lines is None:
            self.field_errors = {"lines": message(ErrorCode.INVALID_QUANTITY)}
            self._answer(ErrorCode.FIELDS_INVALID)
            return
        form: dict[str, Any] = {name: _text(form_data.get(name)) for name in TEXT_FIELDS}
        form["billing_same"] = form_data.get("billing_differs") not in ("on", True, "true")
        try:
            entered = telephone_orders.enter(UnitOfWork(), form=form, lines=lines,
                                             personal_use=form_data.get("personal_use") in ("on", True, "true"),
                                             staff=staff, ip=self._client_ip(), entry_key=form_data.get("entry_key"))
        except TelephoneOrderRefused as refused:
            self.field_errors = refused.fields
            self._answer(refused.code, **refused.refusal.params)
            return
        self.entered_reference, self.entry_key = entered.reference, secrets.token_urlsafe(24)
        if not entered.created:
            self._answer(None, f"Order {entered.reference} was already entered from this form ({entered.total}); "
                               "nothing new was made.")
            return
        self._answer(None, f"Order {entered.reference} is entered ({entered.total}). The client has been emailed "
                           f"the link to check it, accept the terms, confirm and pay; the watches are reserved "
                           f"until then.")
        self.watches = telephone_orders.watch_choices(UnitOfWork())
        self.moto_enabled = telephone_orders.moto_enabled()
        current = terms_service.current(UnitOfWork())
        if self.moto_enabled and current is not None:
            self.moto_open, self._moto_reference = True, entered.reference
            self._terms_version_id, self.terms_version = current.id, current.version
        return rx.call_script("document.getElementById('telephone-order-form').reset()")

    @rx.event
    @requires("telephone_orders.create")
    def set_terms_by_phone(self, value: bool, staff: StaffIdentity):
        if self.moto_open:
            self.terms_by_phone = value is True

    @rx.event(background=True)
    @requires("telephone_orders.create")
    async def pay_by_phone(self, result: str, staff: StaffIdentity):
        """`result` comes from the provider's form in this page (Stripe.js): a token id, never card data. A
        background event, as the shopper's payment (state/checkout.py): checked and marked busy under the tab's
        lock, the provider called with no lock held, its answer shown under the lock again."""
        async with self:
            if self.moto_busy or not self.moto_open or not self._moto_reference:
                return
            card = read_card_result(result)
            if card.token is None:
                self.moto_code, self.moto_message = ErrorCode.CARD_INCOMPLETE.value, card.error or message(
                    ErrorCode.CARD_INCOMPLETE)
                return
            self.moto_busy, self.moto_message, self.moto_code = True, "", ""
            reference, terms, terms_id, ip = (self._moto_reference, self.terms_by_phone, self._terms_version_id,
                                              self._client_ip())
        paid = refused = None
        try:
            paid = await asyncio.to_thread(telephone_orders.pay_by_phone, UnitOfWork(), reference, card.token,
                                           terms_accepted=terms, terms_version_id=terms_id, staff=staff, ip=ip)
        except TelephoneOrderRefused as exc:
            refused = exc
        finally:
            async with self:
                self.moto_busy = False
                if self._moto_reference == reference and refused is not None:  # (else the form moved on meanwhile)
                    self.moto_code, self.moto_message = refused.code.value, refused.refusal.message
                elif self._moto_reference == reference and paid is not None:
                    self._paid_by_phone(reference, paid)

    def _paid_by_phone(self, reference: str, paid: PhonePayment) -> None:
        self._close_moto()
        if paid.status == "held":
            self._answer(None, f"The card is authorised for order {reference} (held, not charged); it now awaits "
                               "approval. The client has been emailed the terms they accepted.")
        else:
            self.notice_code = paid.code.value if paid.code else "fallback"
            self.notice = (f"The card was not authorised ({paid.message or 'refused'}). Order {reference} stands; "
                           "the client has been emailed a link to authorise the payment themselves.")
