"""What a stranger's browser can and cannot see (PAY-6, CARD-3)."""

import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.clause("PAY-6")
def test_security_headers_on_pages_and_api(shop_url):
    for path in ["/", "/api/health"]:
        with urllib.request.urlopen(shop_url + path) as resp:
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert resp.headers["Referrer-Policy"] == "same-origin"  # order links carry a token
            assert resp.headers["X-Frame-Options"] == "DENY"


@pytest.mark.clause("PAY-6")
def test_no_secret_reaches_the_browser_bundle(shop_url, shop_env):
    built = ROOT / ".web" / "build" / "client"
    text = "".join(p.read_text(errors="ignore") for p in built.rglob("*.js"))
    assert text, "production bundle not found"
    assert "sk_test" not in text and "whsec_" not in text
    secret = (ROOT / "var" / "secret.key").read_text().strip() if (ROOT / "var" / "secret.key").exists() else ""
    assert not secret or secret not in text


@pytest.mark.clause("CARD-3")
@pytest.mark.clause("PAY-6")
@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_order_page_needs_its_signed_link(page, browser):
    add_to_cart(page, product(reference="VX-2002")["slug"])
    start_checkout(page)
    fill_info(page, "CH")
    through_terms(page)
    pay(page, "4242424242424242")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
    reference = page.locator("#order-heading").inner_text().split()[-1]
    link = page.url.replace("&placed=1", "")
    stranger = browser.new_context()
    try:
        other = stranger.new_page()
        other.goto(link)
        expect(other.locator("#order-status")).to_contain_text("Awaiting approval")
        other.goto(page.base + f"/order/{reference}?t=0123456789abcdef0123456789abcdef")
        expect(other.get_by_text("Order not found")).to_be_visible()
        other.goto(page.base + f"/order/{reference}")
        expect(other.get_by_text("Order not found")).to_be_visible()
    finally:
        stranger.close()


@pytest.mark.clause("GTC-3.4")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_back_and_forward_keep_what_was_typed(page):
    add_to_cart(page, product(reference="VX-2002")["slug"])
    start_checkout(page)
    fill_info(page, "DE")
    expect(page.locator("#details_confirmed")).to_be_visible()
    page.click("#back")
    expect(page.locator("#ship_street")).to_have_value("Unter den Linden 1")
    expect(page.locator("#email")).to_have_value("anna.keller@example.com")
    page.locator("#steps .step").nth(0).click()
    expect(page.locator("#next")).to_be_visible()
    page.click("#next")
    expect(page.locator("#full_name")).to_have_value("Anna Keller")
    page.reload()
    expect(page.locator("#full_name")).to_have_value("Anna Keller")
    expect(page.locator("#ship_country")).to_have_value("DE")
