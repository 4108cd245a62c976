"""Every public handler and HTTP route, driven as a hostile client would (issue 7, section 3).

Each event handler of every State the app registers is called over a raw socket.io connection,
through Reflex's real event processing, with wrong types, extra and missing arguments, values out
of range and steps out of order; each HTTP route is called with crafted requests. A handler or route
without a case here fails `test_every_handler_and_route_has_a_case`, so a new one cannot slip by.

After every call: the shopper got a clear answer (an error code) or nothing changed, no handler
failed, and the socket still answers. After each test: nothing was stored, and the server log holds
no traceback, none of the request's header values and none of the personal data sent.
"""

from __future__ import annotations

import inspect
import json
import secrets
import tempfile
import typing
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import reflex as rx
import sqlalchemy
from reflex.state import (
    FrontendEventExceptionState,
    OnLoadInternalState,
    State,
    UpdateVarsInternalState,
)
from reflex_base.registry import RegistrationContext

import storefront.storefront  # noqa: F401  (registers every state and route the served app has)
from storefront.state.admin import (
    AdminAuditState,
    AdminHomeState,
    AdminOrdersState,
    AdminOrderState,
    StaffSignInState,
)
from storefront.state.admin_outbox import AdminOutboxState
from storefront.state.admin_privacy import AdminPrivacyState
from storefront.state.admin_staff import AdminOrderExportState, AdminStaffState
from storefront.state.admin_sanctions import AdminDestinationsState, AdminSanctionsState
from storefront.state.admin_telephone_order import AdminTelephoneOrderState
from storefront.state.admin_terms import AdminTermsState
from storefront.state.admin_catalogue import AdminCatalogueState
from storefront.state.cart import CartState
from storefront.state.catalogue import HomeState, ListingState, ProductState
from storefront.state.checkout import CheckoutState
from storefront.state.find_order import FindOrderState
from storefront.state.order_status import OrderStatusState
from storefront.state.shop import ShopState
from storefront.state.terms import TermsState
from tests.async_runner import run_async
from tests.e2e.catalogue_data import inactive, limited
from tests.e2e.checkout_flow import ADDRESSES
from tests.e2e.raw_client import HYDRATE, Outcome, Tab, handler_name, identity_cookie

pytestmark = pytest.mark.e2e

MARK = secrets.token_hex(6)  # appears in every header and personal value sent; must never reach the log
PROBE_EMAIL = f"probe.{MARK}@example.com"
PROBE_NAME = f"Probe {MARK}"
HUGE = "x" * 100_000
WATCH = limited()
REF, SLUG = WATCH["reference"], WATCH["slug"]
GONE = inactive()["reference"]


# -- expected effects ----------------------------------------------------------------------------

Check = Callable[[Outcome], None]


def refused(o: Outcome) -> None:
    """Turned away before any handler ran: at most the "invalid request" message, nothing changed."""
    assert set(o.toasts) <= {"invalid_request"}, o.toasts
    assert not o.changes(), o.changes()


def answered(o: Outcome) -> None:
    """Any answer will do; the checks made after every call still apply."""


def to_sign_in(o: Outcome) -> None:
    """An admin handler called without a staff session: sent to sign in, nothing shown or changed."""
    assert "_redirect" in o.frontend_events, o.frontend_events
    assert not o.changes(), o.changes()


def toast(code: str) -> Check:
    def check(o: Outcome) -> None:
        assert code in o.toasts, o.toasts
        assert "added_to_cart" not in o.toasts

    return check


def var(state: type, name: str, value: Any) -> Check:
    def check(o: Outcome) -> None:
        assert o.value(state, name) == value, f"{state.__name__}.{name} = {o.value(state, name)!r}"

    return check


def unchanged(state: type, *names: str) -> Check:
    def check(o: Outcome) -> None:
        changed = {n: v for n, v in o.changes(state).items() if n in names}
        assert not changed, f"{state.__name__} changed: {changed}"

    return check


def all_of(*checks: Check) -> Check:
    def check(o: Outcome) -> None:
        for c in checks:
            c(o)

    return check


def nothing_changed(o: Outcome) -> None:
    assert not o.changes(), o.changes()


def _find_no_match(o: Outcome) -> None:
    from storefront.domain.errors import ErrorCode, message

    assert o.value(FindOrderState, "error") == message(ErrorCode.FIND_ORDER_NO_MATCH), o.value(FindOrderState, "error")
    assert "_redirect" not in o.frontend_events, o.frontend_events


FIND_NO_MATCH = _find_no_match


def field_at_most(length: int) -> Check:
    def check(o: Outcome) -> None:
        assert all(len(v) <= length for v in o.value(CheckoutState, "form").values())

    return check


# -- the cases ------------------------------------------------------------------------------------


@dataclass
class Cases:
    """One handler: where it is called, a well-typed payload (the base of the generated extra, missing
    and wrong-type arguments), calls that set the scene, and crafted calls with their expected effect."""

    page: str = "/"
    ok: dict = field(default_factory=dict)
    setup: list[tuple[type, str, dict]] = field(default_factory=list)
    crafted: list[tuple[dict, Check]] = field(default_factory=list)


FULL_FORM = {"email": PROBE_EMAIL, "phone": ADDRESSES["CH"]["phone"], "full_name": PROBE_NAME,
             "birth_date": "1980-02-03", "ship_name": PROBE_NAME, "ship_street": ADDRESSES["CH"]["street"],
             "ship_city": ADDRESSES["CH"]["city"], "ship_postal_code": ADDRESSES["CH"]["postal_code"]}
CHECKOUT = "/checkout"
CHECKOUT_LOAD = [(CheckoutState, "load", {})]
AT_STEP_ONE = all_of(var(CheckoutState, "step", 1), unchanged(CheckoutState, "order_reference", "step"))
NOT_READY = all_of(var(CheckoutState, "message_code", "step_not_ready"), var(CheckoutState, "step", 1))
PRODUCT_PAGE = f"/watch/{SLUG}"
PRODUCT_LOAD = [(ProductState, "load", {})]

HANDLERS: dict[tuple[type, str], Cases] = {
    (ShopState, "init"): Cases(crafted=[({}, answered)]),
    (ShopState, "set_country"): Cases(ok={"code": "CH"}, crafted=[
        ({"code": "KP"}, all_of(toast("country_not_offered"), unchanged(ShopState, "country"))),
        ({"code": ""}, toast("country_not_offered")),
        ({"code": "x" * 9000}, toast("country_not_offered")),
    ]),
    (CartState, "refresh"): Cases(page="/cart", crafted=[({}, var(CartState, "error_code", ""))]),
    (CartState, "set_quantity"): Cases(page="/cart", ok={"reference": REF, "quantity": 1}, crafted=[
        ({"reference": "VX-NOPE", "quantity": 1}, var(CartState, "error_code", "product_unavailable")),
        ({"reference": GONE, "quantity": 1}, var(CartState, "error_code", "product_unavailable")),
        ({"reference": "x" * 9000, "quantity": 1}, var(CartState, "error_code", "product_unavailable")),
        ({"reference": REF, "quantity": -3}, var(CartState, "error_code", "quantity_below_one")),
        ({"reference": REF, "quantity": 10**12}, var(CartState, "error_code", "over_order_limit")),
        ({"reference": REF, "quantity": -(10**40)}, var(CartState, "error_code", "quantity_below_one")),
        ({"reference": REF, "quantity": 2.5}, var(CartState, "error_code", "invalid_quantity")),
        ({"reference": REF, "quantity": None}, var(CartState, "error_code", "invalid_quantity")),
        ({"reference": REF, "quantity": 0}, all_of(var(CartState, "error_code", ""), unchanged(CartState, "cart_json"))),
    ]),
    (CartState, "remove"): Cases(page="/cart", ok={"reference": REF}, crafted=[
        ({"reference": "VX-NOPE"}, unchanged(CartState, "cart_json", "lines")),
        ({"reference": ""}, unchanged(CartState, "cart_json", "lines")),
    ]),
    (HomeState, "load"): Cases(crafted=[({}, answered)]),
    (ListingState, "load"): Cases(page="/watches?collection=nope", crafted=[({}, var(ListingState, "collection", ""))]),
    (ListingState, "set_filter_collection"): Cases(page="/watches", ok={"value": ""}, crafted=[
        ({"value": "nope"}, var(ListingState, "collection", "")),
        ({"value": "x" * 9000}, var(ListingState, "collection", "")),
    ]),
    (ListingState, "set_filter_material"): Cases(page="/watches", ok={"value": ""}, crafted=[
        ({"value": "unobtainium"}, var(ListingState, "material", "")),
    ]),
    (ListingState, "set_sort"): Cases(page="/watches", ok={"value": "featured"}, crafted=[
        ({"value": "price_asc; drop table product"}, var(ListingState, "sort", "featured")),
    ]),
    (ProductState, "load"): Cases(page=PRODUCT_PAGE, crafted=[
        ({}, var(ProductState, "not_found", False)),
    ]),
    (ProductState, "set_quantity"): Cases(page=PRODUCT_PAGE, setup=PRODUCT_LOAD, ok={"value": 1}, crafted=[
        ({"value": -3}, var(ProductState, "quantity", "-3")),
        ({"value": 2.5}, var(ProductState, "quantity", "")),
        ({"value": None}, var(ProductState, "quantity", "")),
    ]),
    (ProductState, "step"): Cases(page=PRODUCT_PAGE, setup=PRODUCT_LOAD, ok={"delta": 1}, crafted=[
        ({"delta": 5}, unchanged(ProductState, "quantity")),
        ({"delta": -(10**30)}, unchanged(ProductState, "quantity")),
    ]),
    (ProductState, "add_to_cart"): Cases(page=PRODUCT_PAGE, setup=PRODUCT_LOAD, ok={"form_data": {"quantity": "1"}},
                                         crafted=[
        # the form's field is the quantity, checked by the cart's rules like the reported one
        ({"form_data": {"quantity": str(WATCH["max_per_order"] + 1)}},
         all_of(var(ProductState, "notice_code", "over_order_limit"), unchanged(CartState, "cart_json"))),
        ({"form_data": {"quantity": {"$gt": 0}}},
         all_of(var(ProductState, "notice_code", "invalid_quantity"), unchanged(CartState, "cart_json"))),
        ({"form_data": {"quantity": "1e3"}},
         all_of(var(ProductState, "notice_code", "invalid_quantity"), unchanged(CartState, "cart_json"))),
        ({"form_data": ["quantity", 1]}, answered),
    ]),
    # -- the management page, from a client without a staff session: every handler sends to sign in
    (AdminHomeState, "load"): Cases(page="/admin", crafted=[({}, to_sign_in)]),
    (AdminOrdersState, "load"): Cases(page="/admin/orders", crafted=[({}, to_sign_in)]),
    (AdminOrdersState, "apply_filters"): Cases(page="/admin/orders", ok={"form_data": {"status": ""}}, crafted=[
        ({"form_data": {"email": PROBE_EMAIL, "status": "approved"}}, to_sign_in),
        ({"form_data": {"reference": {"$ne": ""}}}, to_sign_in),
    ]),
    (AdminOrdersState, "next_page"): Cases(page="/admin/orders", crafted=[({}, to_sign_in)]),
    (AdminOrdersState, "previous_page"): Cases(page="/admin/orders", crafted=[({}, to_sign_in)]),
    (AdminOrderState, "load"): Cases(page="/admin/orders/VX-NOPE", crafted=[({}, to_sign_in)]),
    (AdminOrderState, "approve"): Cases(page="/admin/orders/VX-NOPE", crafted=[({}, to_sign_in)]),
    (AdminOrderState, "ship"): Cases(page="/admin/orders/VX-NOPE", ok={"form_data": {"carrier": "DHL Express"}},
                                     crafted=[({"form_data": {"qty_VX-2002": "-1", "handed_over_at": "x" * 40}},
                                               to_sign_in)]),
    (AdminOrderState, "mark_unavailable"): Cases(page="/admin/orders/VX-NOPE",
                                                 ok={"form_data": {"unavailable_quantity": "1"}},
                                                 crafted=[({"form_data": {"unavailable_quantity": "1e9",
                                                                          "proposed_date": "9999-99-99"}},
                                                           to_sign_in)]),
    (AdminOrderState, "propose_delay_date"): Cases(page="/admin/orders/VX-NOPE",
                                                   ok={"form_data": {"delay_date": "2099-01-05"}},
                                                   crafted=[({"form_data": {"delay_date": "9" * 5000}}, to_sign_in),
                                                            ({"form_data": {"delay_date": ["2099-01-05"]}},
                                                             to_sign_in)]),
    (AdminOrderState, "refund"): Cases(page="/admin/orders/VX-NOPE", ok={"form_data": {"reason": "goodwill"}},
                                       crafted=[({"form_data": {"refund_amount": "1e99", "reason": "goodwill"}},
                                                 to_sign_in)]),
    (AdminOrderState, "approve_refund"): Cases(page="/admin/orders/VX-NOPE", ok={"refund_id": 1},
                                               crafted=[({"refund_id": 2**62}, to_sign_in)]),
    (AdminOrderState, "clear_compliance"): Cases(page="/admin/orders/VX-NOPE",
                                                 ok={"form_data": {"clear_reason": "common_name"}},
                                                 crafted=[({"form_data": {"clear_reason": PROBE_EMAIL}}, to_sign_in)]),
    (AdminOrderState, "decline_compliance"): Cases(page="/admin/orders/VX-NOPE",
                                                   ok={"form_data": {"decline_reason": "confirmed_match"}},
                                                   crafted=[({"form_data": {"decline_reason": PROBE_EMAIL}}, to_sign_in),
                                                            ({"form_data": ["confirmed_match"]}, refused)]),
    (AdminOrderState, "cancel"): Cases(page="/admin/orders/VX-NOPE", ok={"form_data": {"reason": "client_request"}},
                                       crafted=[({"form_data": {"reason": "compliance"}}, to_sign_in)]),
    (AdminOutboxState, "load"): Cases(page="/admin/emails", crafted=[({}, to_sign_in)]),
    (AdminOutboxState, "apply_filters"): Cases(page="/admin/emails", ok={"form_data": {"status": "failed"}}, crafted=[
        ({"form_data": {"status": "sent' OR 1=1", "reference": PROBE_EMAIL, "kind": "x" * 500}}, to_sign_in),
        ({"form_data": {"kind": HUGE}}, refused),
    ]),
    (AdminOutboxState, "next_page"): Cases(page="/admin/emails", crafted=[({}, to_sign_in)]),
    (AdminOutboxState, "first_page"): Cases(page="/admin/emails", crafted=[({}, to_sign_in)]),
    (AdminOutboxState, "open_email"): Cases(page="/admin/emails", ok={"email_id": 1},
                                            crafted=[({"email_id": "1 OR 1=1"}, refused), ({"email_id": -1}, to_sign_in)]),
    (AdminOutboxState, "close_email"): Cases(page="/admin/emails", crafted=[({}, to_sign_in)]),
    (AdminOutboxState, "retry"): Cases(page="/admin/emails", ok={"email_id": 1},
                                       crafted=[({"email_id": [1, 2]}, refused), ({"email_id": 0}, to_sign_in)]),
    (AdminOutboxState, "resend_confirmation"): Cases(page="/admin/emails", ok={"form_data": {"reference": "VX-NOPE"}},
                                                     crafted=[({"form_data": {"reference": PROBE_EMAIL}}, to_sign_in)]),
    (AdminPrivacyState, "load"): Cases(page="/admin/privacy", crafted=[({}, to_sign_in)]),
    (AdminPrivacyState, "search"): Cases(page="/admin/privacy", ok={"form_data": {"email": PROBE_EMAIL}}, crafted=[
        ({"form_data": {"email": [PROBE_EMAIL]}}, to_sign_in), ({"form_data": {"email": "' OR 1=1 --"}}, to_sign_in),
        ({"form_data": {"email": HUGE}}, refused),
    ]),
    (AdminPrivacyState, "erase"): Cases(page="/admin/privacy", ok={"form_data": {"reason": "client_request"}}, crafted=[
        ({"form_data": {"reason": {"$ne": ""}, "email": PROBE_EMAIL}}, to_sign_in), ({"form_data": "erase"}, refused),
        ({"form_data": {"reason": HUGE}}, refused),
    ]),
    (AdminStaffState, "load"): Cases(page="/admin/staff", crafted=[({}, to_sign_in)]),
    (AdminStaffState, "create"): Cases(page="/admin/staff", ok={"form_data": {"email": PROBE_EMAIL, "role": "viewer",
                                                                            "password": f"pw-{MARK}"}}, crafted=[
        ({"form_data": {"email": PROBE_EMAIL, "role": "admin", "password": MARK * 3, "full_name": PROBE_NAME}},
         to_sign_in),
        ({"form_data": {"email": [PROBE_EMAIL], "role": {"$ne": ""}, "password": None}}, to_sign_in),
        ({"form_data": {"password": HUGE}}, refused),
    ]),
    (AdminStaffState, "disable"): Cases(page="/admin/staff", ok={"staff_id": 1},
                                        crafted=[({"staff_id": "1 OR 1=1"}, refused), ({"staff_id": -1}, to_sign_in)]),
    (AdminStaffState, "enable"): Cases(page="/admin/staff", ok={"staff_id": 1},
                                       crafted=[({"staff_id": [1, 2]}, refused), ({"staff_id": 2**62}, to_sign_in)]),
    (AdminStaffState, "change_role"): Cases(page="/admin/staff", ok={"form_data": {"staff_id": "1", "role": "admin"}},
                                            crafted=[({"form_data": {"staff_id": "1 OR 1=1", "role": "x" * 500}},
                                                      to_sign_in),
                                                     ({"form_data": {"role": HUGE}}, refused)]),
    (AdminStaffState, "reset_second_factor"): Cases(page="/admin/staff", ok={"staff_id": 1},
                                                    crafted=[({"staff_id": "x" * 20_000}, refused),
                                                             ({"staff_id": 0}, to_sign_in)]),
    (AdminOrderExportState, "export_csv"): Cases(page="/admin/orders", crafted=[({}, to_sign_in)]),
    (AdminTelephoneOrderState, "load"): Cases(page="/admin/telephone-order", crafted=[({}, to_sign_in)]),
    (AdminTelephoneOrderState, "enter"): Cases(page="/admin/telephone-order", ok={"form_data": {
        "line_0_watch": REF, "line_0_quantity": "1", "full_name": PROBE_NAME, "email": PROBE_EMAIL,
        "personal_use": "on"}}, crafted=[
        ({"form_data": {"line_0_watch": REF, "line_0_quantity": "1", "ship_street": "4242 4242 4242 4242",
                        "email": PROBE_EMAIL, "personal_use": "on"}}, to_sign_in),
        ({"form_data": {"line_0_watch": [REF], "line_0_quantity": {"$gt": 0}, "email": None}}, to_sign_in),
        ({"form_data": {"full_name": HUGE}}, refused),
    ]),
    (AdminTelephoneOrderState, "set_terms_by_phone"): Cases(page="/admin/telephone-order", ok={"value": True},
                                                           crafted=[({"value": "yes"}, refused)]),
    (AdminTelephoneOrderState, "pay_by_phone"): Cases(page="/admin/telephone-order", ok={"result": '{"token": "tok_x"}'},
                                                     crafted=[({"result": '{"token": "4242424242424242"}'}, to_sign_in),
                                                              ({"result": HUGE}, refused)]),
    (AdminAuditState, "load"): Cases(page="/admin/audit", crafted=[({}, to_sign_in)]),
    (AdminAuditState, "apply_filters"): Cases(page="/admin/audit", ok={"form_data": {"outcome": ""}}, crafted=[
        ({"form_data": {"staff_id": "1 OR 1=1", "reference": PROBE_EMAIL}}, to_sign_in),
    ]),
    (AdminAuditState, "next_page"): Cases(page="/admin/audit", crafted=[({}, to_sign_in)]),
    (AdminAuditState, "first_page"): Cases(page="/admin/audit", crafted=[({}, to_sign_in)]),
    (AdminTermsState, "load"): Cases(page="/admin/terms", crafted=[({}, to_sign_in)]),
    (AdminTermsState, "new_draft"): Cases(page="/admin/terms", crafted=[({}, to_sign_in)]),
    (AdminTermsState, "edit_draft"): Cases(page="/admin/terms", ok={"draft_id": 1},
                                           crafted=[({"draft_id": 2**62}, to_sign_in), ({"draft_id": -1}, to_sign_in)]),
    (AdminTermsState, "save_draft"): Cases(page="/admin/terms", ok={"form_data": {"version": "2026-07"}}, crafted=[
        ({"form_data": {"version": "../2026", "title": PROBE_EMAIL, "body": "# Terms\n" + "x" * 9000}}, to_sign_in),
        ({"form_data": {"version": {"$ne": ""}, "body": ["# a", "b"]}}, to_sign_in),
    ]),
    (AdminTermsState, "delete_draft"): Cases(page="/admin/terms", crafted=[({}, to_sign_in)]),
    (AdminTermsState, "publish"): Cases(page="/admin/terms", ok={"form_data": {"effective_at": "2030-01-01T09:00"}},
                                        crafted=[({"form_data": {"effective_at": "9999-99-99T99:99",
                                                                 "immediately": "on"}}, to_sign_in)]),
    (AdminTermsState, "preview_version"): Cases(page="/admin/terms", ok={"version_id": 1},
                                                crafted=[({"version_id": 2**62}, to_sign_in)]),
    (AdminSanctionsState, "load"): Cases(page="/admin/sanctions", crafted=[({}, to_sign_in)]),
    (AdminSanctionsState, "set_published"): Cases(page="/admin/sanctions", ok={"value": "2026-11-20"}, crafted=[
        ({"value": "9999-99-99' OR 1=1"}, to_sign_in), ({"value": ["2026-11-20"]}, refused), ({"value": HUGE}, refused),
    ]),
    # The upload handler over the socket: no JSON value is a file, so only an empty list reaches it (and its
    # permission check); its HTTP endpoint is tested in tests/e2e/test_admin_sanctions_e2e.py.
    (AdminSanctionsState, "import_files"): Cases(page="/admin/sanctions", ok={"files": []}, crafted=[
        ({"files": []}, to_sign_in), ({"files": [{"name": "sdn.csv", "content": "1,x"}]}, refused),
        ({"files": "sdn.csv"}, refused), ({"files": [HUGE]}, refused),
    ]),
    (AdminDestinationsState, "load"): Cases(page="/admin/sanctions", crafted=[({}, to_sign_in)]),
    (AdminDestinationsState, "new"): Cases(page="/admin/sanctions", crafted=[({}, to_sign_in)]),
    (AdminDestinationsState, "edit"): Cases(page="/admin/sanctions", ok={"destination_id": 1},
                                            crafted=[({"destination_id": 2**62}, to_sign_in),
                                                     ({"destination_id": "1 OR 1=1"}, refused)]),
    (AdminDestinationsState, "save"): Cases(page="/admin/sanctions", ok={"form_data": {"country": "CU"}}, crafted=[
        ({"form_data": {"country": "US", "region": "US-NY", "name": PROBE_NAME, "programme": MARK}}, to_sign_in),
        ({"form_data": {"country": ["US"], "places": {"$ne": ""}}}, to_sign_in),
        ({"form_data": {"places": HUGE}}, refused),
    ]),
    (AdminDestinationsState, "remove"): Cases(page="/admin/sanctions", ok={"destination_id": 1},
                                              crafted=[({"destination_id": -1}, to_sign_in),
                                                       ({"destination_id": [1]}, refused)]),
    (AdminCatalogueState, "load"): Cases(page="/admin/catalogue", crafted=[({}, to_sign_in)]),
    (AdminCatalogueState, "open_product"): Cases(page="/admin/catalogue", ok={"product_id": 1}, crafted=[
        ({"product_id": 2**62}, to_sign_in), ({"product_id": "1 OR 1=1"}, refused), ({"product_id": [1]}, refused)]),
    (AdminCatalogueState, "new_product"): Cases(page="/admin/catalogue", crafted=[({}, to_sign_in)]),
    (AdminCatalogueState, "save_product"): Cases(page="/admin/catalogue", ok={"form_data": {"name": "Probe"}}, crafted=[
        ({"form_data": {"reference": "VX-1001' OR 1=1", "name": PROBE_NAME, "max_per_order": "-1"}}, to_sign_in),
        ({"form_data": {"name": {"$ne": ""}, "collection": ["x"]}}, to_sign_in),
        ({"form_data": {"description": HUGE}}, refused),
    ]),
    (AdminCatalogueState, "set_active"): Cases(page="/admin/catalogue", ok={"active": False}, crafted=[
        ({"active": "yes"}, refused), ({"active": True}, to_sign_in)]),
    (AdminCatalogueState, "save_prices"): Cases(page="/admin/catalogue", ok={"form_data": {"price_CHF": "100"}},
                                                crafted=[({"form_data": {"price_JPY": "1.5", "price_XXX": "1"}},
                                                          to_sign_in),
                                                         ({"form_data": {"price_CHF": HUGE}}, refused)]),
    (AdminCatalogueState, "save_fees"): Cases(page="/admin/catalogue", ok={"form_data": {"fee_CH_CHF": "45"}},
                                              crafted=[({"form_data": {"fee_CH_CHF": "-1", "fee_MOON_CHF": "1"}},
                                                        to_sign_in),
                                                       ({"form_data": "fee"}, refused)]),
    (AdminCatalogueState, "adjust_stock"): Cases(page="/admin/catalogue",
                                                 ok={"form_data": {"delta": "1", "reason": "received"}},
                                                 crafted=[({"form_data": {"delta": "1e9", "reason": PROBE_EMAIL}},
                                                           to_sign_in),
                                                          ({"form_data": {"note": HUGE}}, refused)]),
    (AdminCatalogueState, "remove_image"): Cases(page="/admin/catalogue", ok={"image": "/watches/x.svg"}, crafted=[
        ({"image": "../../etc/passwd"}, to_sign_in), ({"image": HUGE}, refused), ({"image": 1}, refused)]),
    # The upload handler over the socket: no JSON value is a file (its HTTP endpoint is driven by the browser in
    # tests/e2e/test_admin_catalogue_e2e.py).
    (AdminCatalogueState, "upload_image"): Cases(page="/admin/catalogue", ok={"files": []}, crafted=[
        ({"files": []}, to_sign_in), ({"files": [{"name": "x.png", "content": "iVBOR"}]}, refused),
        ({"files": [HUGE]}, refused)]),
    (StaffSignInState, "load_sign_in"): Cases(page="/admin/login?error=" + "9" * 300 + "&retry=" + "x" * 300,
                                              crafted=[({}, answered)]),
    (StaffSignInState, "load_enrolment"): Cases(page="/admin/enrol", crafted=[({}, to_sign_in)]),
    (OrderStatusState, "choose"): Cases(page="/order/VX-NOPE?t=forged&unavailable=forged", ok={"choice": "refund"},
                                        crafted=[({"choice": "refund"}, var(OrderStatusState, "choice_answer", "")),
                                                 ({"choice": PROBE_EMAIL}, answered)]),
    (OrderStatusState, "answer_delay"): Cases(page="/order/VX-NOPE?t=forged&delay=forged", ok={"choice": "cancel"},
                                              crafted=[({"choice": "cancel"}, var(OrderStatusState, "delay_answer", "")),
                                                       ({"choice": "x" * 5000}, answered)]),
    (OrderStatusState, "reauthorize"): Cases(
        page="/order/VX-NOPE?t=forged&reauthorize=forged", ok={"result": '{"token": "tok_visa"}'},
        crafted=[({"result": '{"token": "tok_visa"}'}, var(OrderStatusState, "reauth_message", "")),
                 ({"result": "{" * 5000}, var(OrderStatusState, "reauth", None)),
                 ({"result": json.dumps({"error": PROBE_EMAIL})}, var(OrderStatusState, "reauth_message", ""))]),
    (OrderStatusState, "reauthenticated"): Cases(page="/order/VX-NOPE?t=forged&reauthorize=forged",
                                                 ok={"_result": '{"ok": true}'},
                                                 crafted=[({"_result": "{}"}, var(OrderStatusState, "reauth", None))]),
    (OrderStatusState, "load"): Cases(page="/order/VX-NOPE?t=forged", crafted=[
        ({}, var(OrderStatusState, "not_found", True)),
    ]),
    (TermsState, "load"): Cases(page="/terms?version=9999-99", crafted=[({}, answered)]),
    # "Find my order" (CARD-3): every mismatch gets the same answer, never a redirect, whatever is sent
    (FindOrderState, "load"): Cases(page="/find-order", crafted=[({}, var(FindOrderState, "error", ""))]),
    (FindOrderState, "find"): Cases(page="/find-order", ok={"form_data": {"reference": "VX-NOPE", "email": PROBE_EMAIL}},
                                    crafted=[
        ({"form_data": {"reference": "VX-NOPE", "email": PROBE_EMAIL}}, FIND_NO_MATCH),
        ({"form_data": {"reference": "VX-' OR '1'='1", "email": "' OR 1=1 --"}}, FIND_NO_MATCH),
        ({"form_data": {"reference": "%", "email": "%"}}, FIND_NO_MATCH),
        ({"form_data": {"reference": "x" * 9000, "email": "y" * 9000}}, FIND_NO_MATCH),
        ({"form_data": {"reference": ["VX-NOPE"], "email": {"$ne": ""}}}, FIND_NO_MATCH),
        ({"form_data": {}}, FIND_NO_MATCH),
        ({"form_data": {"reference": HUGE}}, refused),
        ({"form_data": "VX-NOPE"}, refused),
        ({"form_data": ["VX-NOPE", PROBE_EMAIL]}, refused),
    ]),
    # -- the checkout, from an empty cart at step 1: every step handler out of order -----------------
    (CheckoutState, "load"): Cases(page=CHECKOUT, crafted=[({}, AT_STEP_ONE)]),
    (CheckoutState, "go_to"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"step": 1}, crafted=[
        ({"step": 6}, AT_STEP_ONE), ({"step": 5}, AT_STEP_ONE), ({"step": 0}, AT_STEP_ONE),
        ({"step": -1}, AT_STEP_ONE), ({"step": 10**12}, AT_STEP_ONE),
    ]),
    (CheckoutState, "set_field"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"name": "email", "value": PROBE_EMAIL},
                                        crafted=[
        ({"name": "_checkout_key", "value": "a" * 32}, unchanged(CheckoutState, "form")),
        ({"name": "ship_country", "value": "KP"}, unchanged(CheckoutState, "form")),
        ({"name": "step", "value": "6"}, all_of(unchanged(CheckoutState, "form"), var(CheckoutState, "step", 1))),
        ({"name": "full_name", "value": "y" * 9000}, field_at_most(200)),
    ]),
    (CheckoutState, "set_ship_country"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"code": "CH"}, crafted=[
        ({"code": "KP"}, unchanged(ShopState, "country")),
        ({"code": "IR"}, unchanged(ShopState, "country")),
        ({"code": "x" * 9000}, unchanged(ShopState, "country")),
    ]),
    (CheckoutState, "set_bill_country"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"code": "CH"}, crafted=[
        ({"code": "ZZ"}, answered), ({"code": "x" * 9000}, answered),
    ]),
    (CheckoutState, "set_billing_same"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"value": True},
                                               crafted=[({"value": False}, AT_STEP_ONE)]),
    (CheckoutState, "continue_from_cart"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, crafted=[
        ({}, all_of(var(CheckoutState, "message_code", "cart_empty"), AT_STEP_ONE)),
    ]),
    (CheckoutState, "submit_info"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"form_data": {}}, crafted=[
        ({"form_data": FULL_FORM}, NOT_READY),
        ({"form_data": {"email": 5, "phone": ["x"], "ship_country": "KP", "step": 6}}, NOT_READY),
    ]),
    (CheckoutState, "set_details_confirmed"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"value": False},
                                                    crafted=[({"value": True}, var(CheckoutState, "details_confirmed", False))]),
    (CheckoutState, "confirm_details"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, crafted=[({}, NOT_READY)]),
    (CheckoutState, "set_terms_accepted"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"value": False},
                                                 crafted=[({"value": True}, var(CheckoutState, "terms_accepted", False))]),
    (CheckoutState, "set_personal_use"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"value": False},
                                               crafted=[({"value": True}, var(CheckoutState, "personal_use", False))]),
    (CheckoutState, "accept_terms"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, crafted=[({}, NOT_READY)]),
    (CheckoutState, "place_order"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, crafted=[({}, NOT_READY)]),
    (CheckoutState, "pay"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"result": '{"token": "tok_visa"}'}, crafted=[
        ({"result": json.dumps({"token": "tok_visa", "order": "VX-000001", "reference": "VX-000001"})}, AT_STEP_ONE),
        ({"result": "{" * 5000}, AT_STEP_ONE),
        ({"result": json.dumps({"error": PROBE_EMAIL})}, AT_STEP_ONE),
    ]),
    (CheckoutState, "authenticated"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, ok={"_result": '{"ok": true}'},
                                            crafted=[({"_result": "{}"}, AT_STEP_ONE)]),
    (CheckoutState, "cancel_order"): Cases(page=CHECKOUT, setup=CHECKOUT_LOAD, crafted=[({}, AT_STEP_ONE)]),
}

# Reflex's own events that the built frontend sends; browser storage they copy into the state is checked.
STORAGE_KEY = f"{ShopState.get_full_name()}.country_rx_state_"
NOT_STORAGE_KEY = f"{CheckoutState.get_full_name()}.step_rx_state_"
CRAFTED_STORAGE = [
    ({"vars": {f"{ShopState.get_full_name()}.nope_rx_state_": "x"}}, nothing_changed),
    ({"vars": {"reflex___state____state.no_such_state.var": "x"}}, nothing_changed),
    ({"vars": {NOT_STORAGE_KEY: "6"}}, nothing_changed),
    ({"vars": {STORAGE_KEY: 5}}, nothing_changed),
    ({"vars": {STORAGE_KEY: ["CH"]}}, nothing_changed),
    ({"vars": {STORAGE_KEY: "C" * 70_000}}, nothing_changed),
    ({"vars": {STORAGE_KEY: "KP"}}, answered),  # a stored country the shop does not deliver to
]
INTERNAL: dict[tuple[type, str], Cases] = {
    (State, "hydrate"): Cases(crafted=[({}, answered)]),
    (State, "hydrate_and_load"): Cases(ok={"vars": {}}, crafted=[*CRAFTED_STORAGE, ({"vars": {}, "hashes": ["x"] * 500}, refused)]),
    (State, "set_is_hydrated"): Cases(ok={"value": True}),
    (OnLoadInternalState, "on_load_internal"): Cases(crafted=[({}, answered)]),
    (OnLoadInternalState, "set_is_hydrated"): Cases(ok={"value": True}),
    (UpdateVarsInternalState, "update_vars_internal"): Cases(ok={"vars": {}}, crafted=CRAFTED_STORAGE),
    (FrontendEventExceptionState, "handle_frontend_exception"): Cases(
        ok={"info": "TypeError: x is undefined", "component_stack": ""},
        crafted=[({"info": f"Error: {PROBE_EMAIL} 4242424242424242\nTraceback (most recent call last):\n  forged",
                   "component_stack": PROBE_NAME}, answered)]),
}

# Values of the wrong type (or beyond the bounds) for each annotation a handler uses.
DEEP = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}
WIDE = {f"k{i}": i for i in range(1000)}
WRONG_VALUES: list[tuple[Any, list]] = [
    (str, [None, True, 7, 1.5, [], {}, ["a"], {"a": "b"}, HUGE, "nul\x00byte"]),
    (int, [None, True, "3", 1.5, float("nan"), [], {}, HUGE]),
    (bool, [None, 1, 0, "true", [], {}]),
    (int | float | None, [True, "3", float("nan"), float("inf"), [], {}, HUGE]),
    (dict, [None, "x", 7, [], DEEP, WIDE, {"email": HUGE}]),
    (dict[str, Any] | None, ["x", 7, [], True, WIDE]),
    (dict[str, Any], [None, "x", 7, [], True, WIDE]),
    (list[str] | None, ["x", 7, [1], {}, [HUGE]]),
    # an upload handler's files: no JSON value sent over the socket is an uploaded file
    (list[rx.UploadFile], [None, "sdn.csv", 7, {}, ["sdn.csv"], [{"filename": "sdn.csv"}], [HUGE]]),
]


def wrong_values(hint) -> list:
    for known, values in WRONG_VALUES:
        if hint == known:
            return values
    pytest.fail(f"no wrong values for the annotation {hint!r}: add them to WRONG_VALUES")


def generated(handler, ok: dict) -> list[tuple[Any, Check]]:
    """Payloads every handler must turn away: not a mapping, an extra or a missing argument, and each
    argument of every wrong type."""
    params = list(inspect.signature(handler.fn).parameters.values())[1:]
    hints = typing.get_type_hints(handler.fn)
    cases: list[tuple[Any, Check]] = [([], refused), ("payload", refused), (7, refused),
                                      ({**ok, "unexpected": PROBE_EMAIL}, refused)]
    for p in params:
        if p.default is inspect.Parameter.empty:
            cases.append(({k: v for k, v in ok.items() if k != p.name}, refused))
        for value in wrong_values(hints[p.name]):
            cases.append(({**ok, p.name: value}, refused))
    return cases


# -- what the app has -----------------------------------------------------------------------------


def registered() -> dict[tuple[type, str], Any]:
    """Every handler Reflex would dispatch to, by (state, name)."""
    return {(r.states[0], name.rsplit(".", 1)[1]): r.handler
            for name, r in RegistrationContext.get().event_handlers.items()}


def ours(state: type) -> bool:
    return state.__module__.startswith("storefront.")


def http_routes() -> list[tuple[str, str]]:
    """(method, path) of every HTTP route the app mounts from the shop's own code."""
    from starlette.applications import Starlette
    from starlette.routing import Mount, Route

    def walk(routes):
        for route in routes:
            if isinstance(route, Mount):
                yield from walk(route.routes or [])
            elif isinstance(route, Route) and route.endpoint.__module__.startswith("storefront."):
                for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                    yield method, route.path

    transformers = storefront.storefront.app.api_transformer
    apps = [t for t in (transformers if isinstance(transformers, (list, tuple)) else [transformers])
            if isinstance(t, Starlette)]
    return sorted({r for app in apps for r in walk(app.routes)})


# -- the served shop, its log and its database -----------------------------------------------------


@pytest.fixture(scope="module")
def server_log(shop_url, shop_env) -> Path:
    return Path(tempfile.gettempdir()) / f"storefront-e2e-{shop_env['SHOP_PORT']}.log"


@pytest.fixture(scope="module")
def database(shop_url, shop_env):
    engine = sqlalchemy.create_engine(shop_env["REFLEX_DB_URL"])
    yield engine
    engine.dispose()


def stored(engine) -> dict[str, int]:
    """Row counts of every table and the stock on hand: a crafted call must change none of them."""
    with engine.connect() as conn:
        # The audit log is the one table a refused call writes to: every attempt on the management page
        # is recorded (tests/e2e/test_admin_permissions_e2e.py reads those entries).
        # The background jobs' own bookkeeping (job_run, retention_run) is written by the server's first rounds,
        # which may still be running during the first test: no call writes it.
        counts = {t: conn.execute(sqlalchemy.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                  for t in sqlalchemy.inspect(conn).get_table_names()
                  if t not in ("staff_audit", "job_run", "retention_run")}
        counts["product stock"] = conn.execute(sqlalchemy.text("SELECT SUM(stock) FROM product")).scalar_one()
    return counts


@pytest.fixture
def guarded(server_log, database):
    """Nothing stored and nothing revealing logged during the test."""
    start, before = server_log.stat().st_size, stored(database)
    yield
    assert stored(database) == before
    with server_log.open(errors="replace") as fh:
        fh.seek(start)
        written = fh.read()
    assert "Traceback (most recent call last)" not in written, written[-3000:]
    assert MARK not in written, "a header value or personal data sent by the client reached the log"


def headers(shop_url: str) -> dict[str, str]:
    sent = {"User-Agent": f"RawProbe/{MARK}", "Accept-Language": "en-CH", "X-Probe": MARK, "Origin": shop_url}
    cookie = identity_cookie(shop_url, sent)
    return {**sent, "Cookie": "; ".join(c for c in (cookie, f"probe_cookie={MARK}") if c)}


async def open_tab(shop_url: str, page: str = "/", **kwargs) -> Tab:
    return await Tab(shop_url, headers(shop_url), path=page, **kwargs).open(page)


async def expect_answers(tab: Tab, calls: list[tuple[Any, Check]], name: str, label: str) -> None:
    for payload, check in calls:
        outcome = await tab.send({**tab.event(name), "payload": payload})
        try:
            assert tab.connected, "the server dropped the connection"
            assert "unexpected" not in outcome.toasts, "the handler failed"
            check(outcome)
        except AssertionError as exc:
            shown = repr(payload)
            raise AssertionError(f"{label} with {shown[:200]}: {exc}") from None


# -- the tests ------------------------------------------------------------------------------------


def test_every_handler_and_route_has_a_case():
    """A handler or route added without cases here fails this test."""
    handlers = registered()
    missing = [f"{s.__name__}.{n}" for (s, n) in handlers
               if n != "setvar" and (s, n) not in (HANDLERS if ours(s) else INTERNAL)]
    assert not missing, f"add crafted cases for: {missing}"
    stale = [f"{s.__name__}.{n}" for (s, n) in [*HANDLERS, *INTERNAL] if (s, n) not in handlers]
    assert not stale, f"cases for handlers that no longer exist: {stale}"
    assert not set(http_routes()) ^ set(HTTP_CASES), "every HTTP route needs cases in HTTP_CASES"


@pytest.mark.parametrize("key", [*HANDLERS, *INTERNAL], ids=lambda k: f"{k[0].__name__}.{k[1]}")
def test_crafted_calls_are_answered_and_store_nothing(key, shop_url, guarded):
    state, name = key
    cases = (HANDLERS if ours(state) else INTERNAL)[key]
    handler = registered()[key]
    full = handler_name(state, name)

    async def run() -> int:
        tab = await open_tab(shop_url, cases.page)
        for setup_state, setup_name, payload in cases.setup:
            await tab.call(handler_name(setup_state, setup_name), payload)
        before = tab.calls
        await expect_answers(tab, generated(handler, cases.ok), full, f"{state.__name__}.{name}")
        await expect_answers(tab, cases.crafted, full, f"{state.__name__}.{name}")
        crafted = tab.calls - before
        assert (await tab.call(HYDRATE, {})).updates, "the socket no longer answers"
        await tab.close()
        return crafted

    print(f"{state.__name__}.{name}: {run_async(run())} crafted calls")


SHOP_STATES = [ShopState, CartState, CheckoutState, HomeState, ListingState, ProductState, OrderStatusState, TermsState]


def test_malformed_events_setvar_and_unknown_handlers_are_refused(shop_url, guarded):
    """Events no page sends: not a mapping, no or an unknown handler, `setvar` on any state (the
    shop's and Reflex's own, including backend vars), bad routing data, socket messages with other
    arguments. Each is refused without touching the state."""
    setvar_targets = {cls: ["country", "cart_json", "step", "order_reference", "is_hydrated",
                            "_checkout_key", "_bound_browser", "router"] for cls in SHOP_STATES}
    internal_setvars = [s for (s, n) in registered() if n == "setvar" and not ours(s)]

    async def run() -> None:
        tab = await open_tab(shop_url, CHECKOUT)
        await tab.call(handler_name(CheckoutState, "load"))
        valid = tab.event(handler_name(ShopState, "set_country"), {"code": "CH"})
        envelopes = [
            "not an event", ["a", "list"], None, 7, {"payload": {}},
            {"name": 5}, {"name": ""}, {"name": "x" * 100_000},
            {"name": f"{ShopState.get_full_name()}.{PROBE_EMAIL}"},
            {"name": "reflex___state____state.storefront___state___nope____nope_state.load"},
            {"name": f"{ShopState.get_full_name()}._market"}, {"name": f"{ShopState.get_full_name()}.__init__"},
            {"name": f"{CheckoutState.get_full_name()}.refresh"},  # inherited: registered on CartState only
            {**valid, "router_data": []}, {**valid, "router_data": {"pathname": 5}},
            {**valid, "router_data": {"query": {"a": {"b": PROBE_EMAIL}}}},
            {**valid, "router_data": {"asPath": HUGE}},
        ]
        for data in envelopes:
            outcome = await tab.send(data)
            assert tab.connected and not outcome.changes() and set(outcome.toasts) <= {"invalid_request"}, data
        for cls, names in setvar_targets.items():
            for var_name in names:
                for value in ["6", 6, PROBE_EMAIL, {"a": 1}]:
                    outcome = await tab.call(f"{cls.get_full_name()}.setvar", {"var_name": var_name, "value": value})
                    assert outcome.toasts == ["invalid_request"] and not outcome.changes(), (cls, var_name)
        for cls in internal_setvars:
            outcome = await tab.call(f"{cls.get_full_name()}.setvar", {"var_name": "is_hydrated", "value": False})
            assert outcome.toasts == ["invalid_request"] and not outcome.changes(), cls
        # socket.io messages with other arguments than the namespace's handlers take
        for args, socket_event in [((valid, PROBE_EMAIL), "event"), ((), "event"), ((PROBE_EMAIL,), "ping"),
                                   ((None, PROBE_EMAIL), "client_error"), ((PROBE_EMAIL,), "no_such_message")]:
            outcome = await tab.send(*args, socket_event=socket_event)
            assert tab.connected and not outcome.changes(), socket_event
        outcome = await tab.send({"error_type": "x", "message": f"{PROBE_EMAIL}\nforged second line"},
                                 socket_event="client_error")
        assert tab.connected and not outcome.changes()
        assert (await tab.call(handler_name(CheckoutState, "go_to"), {"step": 1})).toasts == []
        await tab.close()

    run_async(run())


def test_a_refused_add_to_cart_never_reports_success(shop_url, guarded):
    """The product page's quantity is checked by the cart's rules; a refusal is the only message."""
    add = handler_name(ProductState, "add_to_cart")
    set_quantity = handler_name(ProductState, "set_quantity")

    async def run() -> None:
        tab = await open_tab(shop_url, PRODUCT_PAGE)
        await tab.call(handler_name(ProductState, "load"))
        for value, code in [(None, "invalid_quantity"), (2.5, "invalid_quantity"), (0, "quantity_below_one"),
                            (-2, "quantity_below_one"), (WATCH["max_per_order"] + 1, "over_order_limit")]:
            await tab.call(set_quantity, {"value": value})
            outcome = await tab.call(add)
            assert outcome.value(ProductState, "notice_code") == code, (value, outcome.toasts)
            assert outcome.toasts == []
            assert outcome.value(CartState, "error_code") == code
            assert not outcome.changes(ShopState), "the cart must not change"
        await tab.call(set_quantity, {"value": 1})
        outcome = await tab.call(add)
        assert outcome.value(ProductState, "notice_code") == "added_to_cart"
        assert outcome.value(CartState, "error_code") == "" and outcome.value(ShopState, "cart_count") == 1
        await tab.close()

    run_async(run())


def test_a_cart_refusal_does_not_outlive_the_next_change_or_page(shop_url, guarded):
    set_quantity = handler_name(CartState, "set_quantity")
    navigate = handler_name(OnLoadInternalState, "on_load_internal")

    async def run() -> None:
        tab = await open_tab(shop_url, "/cart")
        assert (await tab.call(set_quantity, {"reference": REF, "quantity": 1})).value(CartState, "error_code") == ""
        refused_ = await tab.call(set_quantity, {"reference": REF, "quantity": 10**6})
        assert refused_.value(CartState, "error_code") == "over_order_limit" and refused_.value(CartState, "error")
        # a successful change clears it
        assert (await tab.call(set_quantity, {"reference": REF, "quantity": 2})).value(CartState, "error") == ""
        await tab.call(set_quantity, {"reference": REF, "quantity": None})
        assert tab.view[CartState.get_full_name()]["error_code"] == "invalid_quantity"
        # so does loading a page (here the cart page itself, as a browser reload or link does)
        outcome = await tab.call(navigate, path="/cart")
        assert outcome.value(CartState, "error_code") == "" and outcome.value(CartState, "error") == ""
        await tab.close()

    run_async(run())


def test_checkout_steps_out_of_order_change_nothing(shop_url, guarded):
    """With a watch in the cart, every later step's handler called early leaves the shopper where they
    are and says why; the details confirmation at step 1 once moved them to step 2."""
    call = lambda tab, handler, payload=None: tab.call(handler_name(CheckoutState, handler), payload)  # noqa: E731
    later_steps = [("confirm_details", None), ("accept_terms", None), ("place_order", None),
                   ("submit_info", {"form_data": FULL_FORM}), ("go_to", {"step": 4})]

    async def run() -> None:
        tab = await open_tab(shop_url, CHECKOUT)
        await tab.call(handler_name(CartState, "set_quantity"), {"reference": REF, "quantity": 1})
        assert (await call(tab, "load")).value(CheckoutState, "step") == 1
        for handler, payload in later_steps:
            outcome = await call(tab, handler, payload)
            assert outcome.value(CheckoutState, "step") == 1, handler
        assert (await call(tab, "confirm_details")).value(CheckoutState, "message_code") == "step_not_ready"
        assert (await call(tab, "continue_from_cart")).value(CheckoutState, "step") == 2
        for handler, payload in [("confirm_details", None), ("accept_terms", None), ("place_order", None),
                                 ("set_details_confirmed", {"value": True}), ("go_to", {"step": 5})]:
            outcome = await call(tab, handler, payload)
            assert outcome.value(CheckoutState, "step") == 2, handler
            assert not outcome.value(CheckoutState, "details_confirmed"), handler
        outcome = await call(tab, "submit_info", {"form_data": {"email": "not an address"}})
        assert outcome.value(CheckoutState, "step") == 2
        assert outcome.value(CheckoutState, "message_code") == "fields_invalid"
        await tab.close()

    run_async(run())


def test_another_browser_with_a_copied_tab_token_reaches_nothing(shop_url, guarded, database):
    """A browser that copies another tab's token (everything in its storage) but not the server-issued
    cookie gets none of that tab's checkout, and its payment calls reach no order."""
    call = lambda tab, handler, payload=None: tab.call(handler_name(CheckoutState, handler), payload)  # noqa: E731

    async def run() -> None:
        owner = await open_tab(shop_url, CHECKOUT)
        await owner.call(handler_name(CartState, "set_quantity"), {"reference": REF, "quantity": 1})
        await call(owner, "load")
        await call(owner, "continue_from_cart")
        await call(owner, "submit_info", {"form_data": FULL_FORM})
        assert owner.view[CheckoutState.get_full_name()]["form"]["email"] == PROBE_EMAIL
        await owner.close()  # the copy is used on another device
        stranger = await Tab(shop_url, headers(shop_url), token=owner.token, path=CHECKOUT).open(CHECKOUT)
        outcome = await call(stranger, "load")
        assert PROBE_EMAIL not in json.dumps(stranger.view), "the other browser's email reached this one"
        assert outcome.value(CheckoutState, "step") == 1
        for handler, payload in [("pay", {"result": '{"token": "tok_visa"}'}), ("authenticated", {"_result": "{}"}),
                                 ("cancel_order", None), ("place_order", None)]:
            await call(stranger, handler, payload)
        await stranger.close()

    run_async(run())


# -- HTTP routes -----------------------------------------------------------------------------------


def http(shop_url: str, method: str, path: str, body: bytes | None = None,
         extra: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(shop_url + path, data=body, method=method,
                                     headers={"User-Agent": f"RawProbe/{MARK}", "X-Probe": MARK,
                                              "Cookie": f"probe_cookie={MARK}", **(extra or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError as error:
        if isinstance(error.reason, (BrokenPipeError, ConnectionResetError)):
            return CLOSED_EARLY, b""  # the server answered and closed before the client finished sending
        raise


CLOSED_EARLY = 0  # no status read: the server refused the body and closed the connection while it was being sent
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FOREIGN = {"Origin": "https://evil.example"}
OWN = {"Sec-Fetch-Site": "same-origin"}
FORGED_SIGNATURE = {"Stripe-Signature": "t=1,v1=" + "0" * 64, "Content-Type": "application/json"}
HTTP_CASES: dict[tuple[str, str], list[tuple[str, str, bytes | None, dict | None, Callable[[int], bool]]]] = {
    ("GET", "/api/health"): [
        ("GET", "/api/health", None, None, lambda s: s == 200),
        ("GET", "/api/health?" + "a=" * 2000 + PROBE_EMAIL, None, None, lambda s: s == 200),
        ("POST", "/api/health", b"{}", None, lambda s: s == 405),
    ],
    # Uploaded product photographs: only names the catalogue makes, never a path out of the media folder.
    ("GET", "/api/media/products/{name}"): [
        ("GET", "/api/media/products/vx-1001-0123456789abcdef-960.webp", None, None, lambda s: s == 404),
        ("GET", "/api/media/products/..%2F..%2Fsecret.key", None, None, lambda s: s == 404),
        ("GET", "/api/media/products/" + "a" * 5000 + ".webp", None, None, lambda s: s == 404),
        ("GET", "/api/media/products/%2e%2e", None, None, lambda s: s == 404),
        ("POST", "/api/media/products/x-960.webp", b"x", None, lambda s: s == 405),
    ],
    # Issued PDFs of an order (GTC-3.8): only with the order page's signed view link; every miss is the same 404.
    ("GET", "/api/orders/{reference}/{number}"): [
        ("GET", "/api/orders/VX-NOPE/OC-000001", None, None, lambda s: s == 404),
        ("GET", "/api/orders/VX-NOPE/OC-000001?t=0123456789abcdef0123456789abcdef", None, None, lambda s: s == 404),
        ("GET", "/api/orders/VX-NOPE/..%2F..%2Fsecret.key?t=" + "a" * 5000, None, None, lambda s: s == 404),
        ("GET", "/api/orders/" + "V" * 5000 + "/OC-1?t=" + PROBE_EMAIL, None, None, lambda s: s == 404),
        ("GET", "/api/orders/VX-NOPE/OC-000001%27%20OR%201=1--?t=x", None, None, lambda s: s == 404),
        ("POST", "/api/orders/VX-NOPE/OC-000001", b"x", None, lambda s: s == 405),
    ],
    ("POST", "/api/stripe/webhook"): [
        ("POST", "/api/stripe/webhook", b"", None, lambda s: s == 400),
        ("POST", "/api/stripe/webhook", b"not json " + PROBE_EMAIL.encode(), None, lambda s: s == 400),
        ("POST", "/api/stripe/webhook", json.dumps({"type": "payment_intent.succeeded",
                                                     "data": {"object": {"id": "pi_x"}}}).encode(),
         FORGED_SIGNATURE, lambda s: s == 400),
        ("POST", "/api/stripe/webhook", b"{" * (600 * 1024), None, lambda s: s in (413, CLOSED_EARLY)),
        ("GET", "/api/stripe/webhook", None, None, lambda s: s in (404, 405)),
    ],
    # The staff session routes: another site's page is refused; the shop's own page (as a browser marks
    # it) gets a redirect to the sign-in page with a code, followed here to that page.
    ("POST", "/api/admin/session"): [
        ("POST", "/api/admin/session", f"email={PROBE_EMAIL}&password=x".encode(), FORM, lambda s: s == 403),
        ("POST", "/api/admin/session", f"email={PROBE_EMAIL}&password=x".encode(), {**FORM, **FOREIGN},
         lambda s: s == 403),
        ("POST", "/api/admin/session", f"email={PROBE_EMAIL}&password={MARK}".encode(), {**FORM, **OWN},
         lambda s: s == 200),
        ("POST", "/api/admin/session", b"email=" + b"x" * 9000, {**FORM, **OWN}, lambda s: s == 200),
        ("POST", "/api/admin/session", b"\xff\xfe=\x00", {**FORM, **OWN}, lambda s: s == 200),
        ("GET", "/api/admin/session", None, None, lambda s: s in (404, 405)),
    ],
    ("POST", "/api/admin/enrol"): [
        ("POST", "/api/admin/enrol", b"otp=123456", {**FORM, **FOREIGN}, lambda s: s == 403),
        ("POST", "/api/admin/enrol", b"otp=123456", {**FORM, **OWN, "Cookie": f"vx_staff_enrol={MARK}"},
         lambda s: s == 200),
    ],
    # The order export: another site is refused; without a session, back to sign in (followed here to that page).
    ("GET", "/api/admin/orders.csv"): [
        ("GET", f"/api/admin/orders.csv?v=x&t={MARK}", None, FOREIGN, lambda s: s == 403),
        ("GET", f"/api/admin/orders.csv?v=x&t={MARK}", None, {**OWN, "Cookie": f"vx_staff={MARK}"},
         lambda s: s == 200),
        ("GET", "/api/admin/orders.csv?v=" + "x" * 5000 + f"&t={MARK}", None, OWN, lambda s: s == 200),
        ("POST", "/api/admin/orders.csv", b"v=x", {**FORM, **OWN}, lambda s: s in (404, 405)),
    ],
    ("POST", "/api/admin/sign-out"): [
        ("POST", "/api/admin/sign-out", b"everywhere=1", {**FORM, **FOREIGN}, lambda s: s == 403),
        ("POST", "/api/admin/sign-out", b"everywhere=1", {**FORM, **OWN, "Cookie": f"vx_staff={MARK}"},
         lambda s: s == 200),
    ],
}


@pytest.mark.parametrize("route", list(HTTP_CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_crafted_http_requests_are_answered_without_detail(route, shop_url, guarded):
    for method, path, body, extra, expected in HTTP_CASES[route]:
        status, answer = http(shop_url, method, path, body, extra)
        assert expected(status), (method, path[:80], status)
        assert MARK.encode() not in answer and b"Traceback" not in answer
    print(f"{route[0]} {route[1]}: {len(HTTP_CASES[route])} crafted requests")
