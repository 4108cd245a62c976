"""Telephone orders in Chromium (issue 10 § 5, PAY-2): client service enters an order on the management page
(a card number typed into the address is refused beside the field, nothing saved), the client receives the link
by email (the real SMTP capture), opens it in a browser of their own, lands on the check of details, accepts the
terms, confirms and pays with a sandbox card; the order then awaits approval and records that it came by
telephone and who entered it. A role without the permission is refused and audited.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.checkout_flow import fill_card, through_terms
from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import mail_with, staff_page
from tests.e2e.shop_db import rows

pytestmark = [pytest.mark.e2e, pytest.mark.clause("PAY-2")]
WATCH = "VX-2002"


def fill_client(page, street: str) -> None:
    page.select_option("#tel-line-0-watch", WATCH)
    page.fill("#tel-line-0-quantity", "1")
    page.fill("#tel-full_name", "Clara Weber")
    page.fill("#tel-email", "clara.weber@example.com")
    page.fill("#tel-phone", "+41 22 555 01 48")
    page.fill("#tel-birth_date", "1979-06-21")
    page.fill("#tel-ship_name", "Clara Weber")
    page.fill("#tel-ship_street", street)
    page.fill("#tel-ship_postal_code", "1204")
    page.fill("#tel-ship_city", "Genève")
    page.select_option("#tel-ship_country", "CH")
    page.check("#tel-personal-use")


@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("CARD-6")
def test_client_service_enters_an_order_and_the_client_confirms_and_pays_through_the_emailed_link(
        browser, shop_url, db, mail_dir):
    orders_before = rows(db, "SELECT COUNT(*) FROM shop_order")[0][0]
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + "/admin/telephone-order")
        expect(page.get_by_role("link", name="Telephone order", exact=True)).to_be_visible()
        expect(page.locator("#tel-line-0-watch option[value='VX-2002']")).to_have_count(1)

        fill_client(page, "Rue du Rhône 1, card 4242 4242 4242 4242")  # card details never enter the shop
        page.click("#enter-telephone-order")
        expect(page.locator("#error-ship_street")).to_contain_text("card number")
        expect(page.locator("#telephone-order-notice")).to_have_attribute("data-code", "card_number_in_text")
        assert rows(db, "SELECT COUNT(*) FROM shop_order")[0][0] == orders_before

        page.fill("#tel-ship_street", "Rue du Rhône 1")
        page.click("#enter-telephone-order")
        notice = page.locator("#telephone-order-notice")
        expect(notice).to_have_attribute("data-code", "done")
        expect(page.locator("#error-ship_street")).to_have_count(0)
        reference = notice.get_attribute("data-reference")
    finally:
        ctx.close()
    assert re.fullmatch(r"VX-[A-Z0-9]{10}", reference or "")
    [(status, channel, entered_by_role)] = rows(
        db, "SELECT o.status, o.channel, s.role FROM shop_order o JOIN staff_user s ON s.id = o.entered_by "
            "WHERE o.reference = :r", r=reference)
    assert (status, channel, entered_by_role) == ("awaiting_client", "telephone", "customer_service")

    message = mail_with(mail_dir, f"Your order {reference}: please check and confirm")
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+phone_order=\S+", body).group(0)

    client = shopper_context(browser)  # a fresh browser: the client's own
    page = client.new_page()
    page.base = shop_url
    try:
        page.goto(link.replace(link.split("/checkout")[0], shop_url))
        expect(page.locator("#phone-order-note")).to_be_visible()
        expect(page.locator("#steps [aria-current='step']")).to_contain_text("Details")  # step 3
        expect(page.get_by_text("Clara Weber").first).to_be_visible()
        through_terms(page)
        page.click("#confirm-order")
        expect(page.locator("#order-reference")).to_have_text(reference)
        fill_card(page, "4242424242424242")
        page.click("#pay")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
    finally:
        client.close()
    [(status, channel, terms_version, entered_by_role)] = rows(
        db, "SELECT o.status, o.channel, o.terms_version_id, s.role FROM shop_order o "
            "JOIN staff_user s ON s.id = o.entered_by WHERE o.reference = :r", r=reference)
    assert (status, channel, entered_by_role) == ("awaiting_approval", "telephone", "customer_service")
    assert terms_version is not None  # accepted by the client, in the checkout
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:  # the order page says who entered it
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#entered-by")).to_contain_text("staff:")
    finally:
        ctx.close()
    assert ("telephone_orders.create", "done") in rows(
        db, "SELECT action, outcome FROM staff_audit WHERE subject = :s", s=f"order:{reference}")


def test_a_forged_link_opens_nothing(browser, shop_url):
    ctx = shopper_context(browser)
    page = ctx.new_page()
    try:
        page.goto(shop_url + "/checkout?phone_order=VX-AAAAAAAAAA&t=forged")
        expect(page.locator("#checkout-message")).to_have_attribute("data-code", "phone_order_link_invalid")
        expect(page.locator("#phone-order-note")).to_have_count(0)
    finally:
        ctx.close()


@pytest.mark.parametrize("role", ["fulfilment", "viewer"])
def test_a_role_without_the_permission_is_refused_and_audited(browser, shop_url, db, role):
    refused = ("SELECT COUNT(*) FROM staff_audit WHERE action = 'telephone_orders.create' AND outcome = 'refused' "
               "AND role = :role")
    before = rows(db, refused, role=role)[0][0]
    ctx, page = staff_page(browser, shop_url, role)
    try:
        page.goto(shop_url + "/admin")
        expect(page.locator("#staff-identity")).to_contain_text(role)
        expect(page.get_by_role("link", name="Telephone order", exact=True)).to_have_count(0)  # not in the menu
        page.goto(shop_url + "/admin/telephone-order")
        expect(page.locator("[data-sonner-toast]")).to_contain_text("Your role does not allow this action.")
        expect(page.locator("#tel-line-0-watch option")).to_have_count(1)  # no catalogue shown
    finally:
        ctx.close()
    assert rows(db, refused, role=role)[0][0] == before + 1


@pytest.mark.clause("PAY-5")
def test_where_the_account_allows_moto_client_service_takes_the_card_on_the_phone(browser, shop_url, db, mail_dir):
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + "/admin/telephone-order")
        fill_client(page, "Rue du Rhône 3")
        page.click("#enter-telephone-order")
        notice = page.locator("#telephone-order-notice")
        expect(notice).to_have_attribute("data-code", "done")
        reference = notice.get_attribute("data-reference")
        expect(page.locator("#moto-panel")).to_be_visible()
        expect(page.locator("#moto-pay")).to_be_disabled()  # not before the client accepted the terms
        page.click("#tel-terms-by-phone")
        fill_card(page, "4242424242424242")
        page.click("#moto-pay")
        expect(notice).to_have_attribute("data-code", "done", timeout=30000)
        expect(notice).to_contain_text("authorised")
        expect(page.locator("#moto-panel")).to_have_count(0)
    finally:
        ctx.close()
    [(status, via, recorded_by, accepted_as)] = rows(
        db, "SELECT o.status, e.data, s.full_name, o.accepted_user_agent FROM shop_order o "
            "JOIN order_event e ON e.order_id = o.id "
            "JOIN staff_user s ON s.id = o.entered_by WHERE o.reference = :r AND e.type = 'terms_accepted'",
        r=reference)
    assert status == "awaiting_approval"
    assert '"via": "telephone"' in str(via).replace("'", '"') and recorded_by not in str(via)  # ids only
    assert accepted_as == f"telephone ({recorded_by})"
    message = mail_with(mail_dir, f"Your order {reference}: the terms you accepted")
    assert f"On the telephone with {recorded_by}" in message.get_body(preferencelist=("plain",)).get_content()
