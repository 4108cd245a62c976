"""The client's documents in Chromium (GTC-3.8, GTC-5.2): the order record downloaded from the order page and
received with the confirmation email, the shipment's invoice with the shipping email, through the real SMTP capture."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.checkout_flow import purchase
from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import approved_by_finance, last_working_moment, mail_with, staff_page

pytestmark = pytest.mark.e2e


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def attachment(message) -> tuple[str, bytes]:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    return part.get_filename(), part.get_content()


@pytest.mark.clause("GTC-3.8")
@pytest.mark.clause("GTC-5.2")
def test_the_order_record_downloads_from_the_order_page_and_the_invoice_comes_with_the_shipping_email(
        browser, shop_url, mail_dir):
    ctx = shopper_context(browser, "phone")
    page = ctx.new_page()
    page.base = shop_url
    try:
        purchase(page, "VX-2002")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
        reference = page.locator("#order-heading").inner_text().split()[-1]
        link = page.locator("#order-documents a.document-link")
        expect(link).to_have_count(1)
        expect(link).to_contain_text("Order confirmation OC-")
        number = link.inner_text().split()[2]
        href = link.get_attribute("href")
        assert href.startswith(f"/api/orders/{reference}/{number}?t=")
        response = page.request.get(shop_url + href)
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        record = pdf_text(response.body())
        assert "Order confirmation" in record and number in record and reference in record
        assert "not a tax invoice" in record and "VAT 8.1%" in record
        forged = page.request.get(shop_url + href[:-2] + ("AA" if not href.endswith("AA") else "BB"))
        assert forged.status == 404
    finally:
        ctx.close()

    name, data = attachment(mail_with(mail_dir, f"Your order {reference} with"))
    assert number in name and number in pdf_text(data)

    approved_by_finance(browser, shop_url, reference)
    ctx, staff = staff_page(browser, shop_url, "fulfilment")
    try:
        staff.goto(shop_url + f"/admin/orders/{reference}")
        expect(staff.locator("#ship-form")).to_be_visible()
        staff.select_option("#ship-carrier", "DHL Express")
        staff.fill("#ship-tracking", "JD014600006281239999")
        staff.fill("#ship-handover", last_working_moment())
        staff.click("#ship")
        expect(staff.locator("#order-status")).to_have_text("shipped")
    finally:
        ctx.close()

    shipped = mail_with(mail_dir, f"Your order {reference} has shipped")
    body = shipped.get_body(preferencelist=("plain",)).get_content()
    assert "JD014600006281239999" in body and "This parcel completes your order." in body
    name, data = attachment(shipped)
    invoice = pdf_text(data)
    assert name.startswith("invoice-INV-") and "Invoice" in invoice and reference in invoice
    assert "Delivery date" in invoice and "CHE-123.456.789 MWST" in invoice
