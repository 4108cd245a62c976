"""The client tracks an order on a phone (issue 11 §§ 1-2): "Find my order" with reference and email,
then the status page with a shipped line, its tracking link and handover time (CARD-3, GTC-5.5).

The order is bought in a browser, approved and shipped in part by staff through the management pages;
the client then reaches it on a phone with nothing but the reference and the email address.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from storefront.domain.errors import ErrorCode, message
from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms
from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import approved_by_finance, last_working_moment, staff_page
from tests.e2e.test_layout_shift_e2e import MAX_CLS, settled_shift
from tests.e2e.test_phone_layout_e2e import COLLECT_TARGETS, offenders

pytestmark = pytest.mark.e2e

EMAIL = "anna.keller@example.com"  # what tests/e2e/checkout_flow.fill_info types
NO_MATCH = message(ErrorCode.FIND_ORDER_NO_MATCH)


def bought_and_partly_shipped(browser, shop_url) -> tuple[str, str]:
    """Two watches bought and approved; the first parcel (VX-2002 only) handed to DHL. Returns the reference
    and the handover time as typed (merchant's local time)."""
    ctx = shopper_context(browser)
    page = ctx.new_page()
    page.base = shop_url
    try:
        add_to_cart(page, product(reference="VX-2002")["slug"])
        add_to_cart(page, product(reference="VX-2004")["slug"])
        start_checkout(page)
        fill_info(page, "CH")
        through_terms(page)
        pay(page, "4242424242424242")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
        reference = page.locator("#order-heading").inner_text().split()[-1]
    finally:
        ctx.close()
    approved_by_finance(browser, shop_url, reference)
    handover = last_working_moment()
    ctx, page = staff_page(browser, shop_url, "fulfilment")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#ship-form")).to_be_visible()
        page.fill("input[name=qty_VX-2004]", "0")
        page.select_option("#ship-carrier", "DHL Express")
        page.fill("#ship-tracking", "JD014600006281239999")
        page.fill("#ship-handover", handover)
        page.click("#ship")
        expect(page.locator("#order-status")).to_have_text("partially_shipped")
    finally:
        ctx.close()
    return reference, handover


def find(page, reference: str, email: str) -> None:
    page.fill("#find-reference", reference)
    page.fill("#find-email", email)
    page.click("#find-submit")


@pytest.mark.clause("CARD-3")
@pytest.mark.clause("GTC-5.5")
def test_on_a_phone_the_client_finds_the_order_and_sees_the_parcel_its_tracking_and_handover(browser, shop_url):
    reference, handover = bought_and_partly_shipped(browser, shop_url)

    ctx = shopper_context(browser, "phone")
    page = ctx.new_page()
    try:
        page.goto(shop_url + "/find-order")
        expect(page.locator("#find-submit")).to_be_visible()
        assert offenders(page.evaluate(COLLECT_TARGETS)) == []

        # A wrong email and an unknown reference get the very same answer, and no page opens
        find(page, reference, "someone.else@example.com")
        expect(page.locator("#find-error")).to_have_text(NO_MATCH)
        page.reload()
        expect(page.locator("#find-error")).to_have_count(0)
        find(page, "VX-AAAAAAAAAA", EMAIL)
        expect(page.locator("#find-error")).to_have_text(NO_MATCH)
        assert "/order/" not in page.url

        # The right pair, typed as a client might (lower case, spaces): the status page opens
        find(page, " " + reference.lower() + " ", EMAIL.upper())
        expect(page).to_have_url(re.compile(rf"/order/{reference}\?t="))
        expect(page.locator("#order-heading")).to_contain_text(reference)
        expect(page.locator("#order-status")).to_contain_text("Partly shipped")

        shipped = page.locator(".order-line-state[data-state=shipped][data-reference=VX-2002]")
        expect(shipped).to_contain_text("Shipped")
        expect(page.locator(".order-line-state[data-state=awaiting][data-reference=VX-2004]")) \
            .to_contain_text("Awaiting shipment")
        parcel = page.locator(".shipment")
        expect(parcel).to_have_count(1)
        expect(parcel).to_contain_text("DHL Express")
        link = parcel.locator("a.tracking-link")
        expect(link).to_have_text("JD014600006281239999")
        expect(link).to_have_attribute(
            "href", "https://www.dhl.com/ch-en/home/tracking.html?tracking-id=JD014600006281239999")
        expect(parcel.locator(".handover-time")).to_contain_text(handover[-5:])  # the recorded 10:00, Geneva time
        expect(parcel).to_contain_text("at your risk")
        expect(page.locator("#money-charged")).to_be_visible()
        expect(page.locator("#order-terms-link")).to_have_attribute("href", re.compile(r"/terms\?version=\S+"))
        expect(page.locator("#order-contact")).to_be_visible()
        # nothing on the page grants an action: the view link is not a link to choose, cancel or pay
        expect(page.locator("#unavailable-choice, #reauthorize-card")).to_have_count(0)

        targets = page.evaluate(COLLECT_TARGETS)
        assert offenders(targets) == [], offenders(targets)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        view_link = page.url
    finally:
        ctx.close()

    # The status page opened from its link in a fresh browser paints its final layout at once (issue 8 § 2)
    for viewport in ("phone", "desktop"):
        shift = settled_shift(browser, view_link, viewport, False, "#order-lines")
        assert shift["cls"] <= MAX_CLS, f"order page on {viewport}: CLS {shift['cls']:.3f}; {shift['shifts']}"


def test_a_guessed_order_address_shows_nothing(browser, shop_url):
    ctx = shopper_context(browser, "phone")
    page = ctx.new_page()
    try:
        page.goto(shop_url + "/order/VX-AAAAAAAAAA?t=guess")
        expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
        expect(page.locator("a[href='/find-order']").first).to_be_visible()
    finally:
        ctx.close()
