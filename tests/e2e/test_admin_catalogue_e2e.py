"""The catalogue on the management page in Chromium (issue 10 section 1; GTC-3.1, 3.3, 4.2).

The admin creates a watch (refused next to each field first), prices it in every market (yen with decimals
refused), uploads a photograph, adds stock and offers it: a shopper sees it at once, photograph included,
without a rebuild. A price changed while a shopper is on the confirmation step is shown to the shopper, who
confirms again and is held for the new amount only. A withdrawn watch leaves the shop; a cart holding it says
so. Fulfilment adjusts stock but sees no price or product form; a role with neither permission changes
nothing (every handler's refusal for every role: tests/e2e/test_admin_permissions_e2e.py).
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime, timezone

import pytest
import sqlalchemy
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.checkout_flow import add_to_cart, fill_info, start_checkout, through_terms
from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import staff_page
from tests.e2e.shop_db import rows

pytestmark = pytest.mark.e2e

PRICES = {"CHF": "14500.00", "EUR": "15200.00", "USD": "16900.00", "GBP": "13100.00", "JPY": "2450000",
          "CNY": "118000.00", "HKD": "129000.00", "SGD": "22300.00", "AED": "60500.00"}


def a_watch(db, stock: int = 5) -> tuple[str, str]:
    """A watch on offer in every market, made directly in the shop's database; (reference, slug)."""
    reference = f"VX-E{secrets.token_hex(3).upper()}"
    slug = reference.lower()
    with db.begin() as conn:
        collection = conn.execute(sqlalchemy.text("SELECT id FROM collection ORDER BY position LIMIT 1")).scalar_one()
        conn.execute(sqlalchemy.text(
            "INSERT INTO product (reference, slug, name, collection_id, case_material, diameter_mm, movement, "
            "water_resistance_m, description, images, stock, max_per_order, active, featured, updated_at) VALUES "
            "(:r, :s, :n, :c, 'Steel', 40.0, 'Automatic', 50, '', '[]', :stock, 2, :t, :f, :at)"),
            dict(r=reference, s=slug, n=f"Probe {reference[4:]}", c=collection, stock=stock, t=True, f=False,
                 at=datetime.now(timezone.utc).replace(tzinfo=None)))
        product_id = conn.execute(sqlalchemy.text("SELECT id FROM product WHERE reference = :r"),
                                  {"r": reference}).scalar_one()
        for currency, minor in {"CHF": 1_000_000, "EUR": 1_050_000, "USD": 1_150_000, "GBP": 900_000,
                                "JPY": 1_700_000, "CNY": 8_000_000, "HKD": 9_000_000, "SGD": 1_500_000,
                                "AED": 4_200_000}.items():
            conn.execute(sqlalchemy.text("INSERT INTO product_price (product_id, currency, amount_minor, updated_at) "
                                         "VALUES (:p, :c, :m, :at)"),
                         dict(p=product_id, c=currency, m=minor, at=datetime.now(timezone.utc).replace(tzinfo=None)))
    return reference, slug


def photograph() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 1200), (150, 110, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def open_in_admin(page, shop_url: str, reference: str) -> None:
    page.goto(shop_url + "/admin/catalogue")
    page.locator(f".product-row[data-reference='{reference}'] .open-product").click()
    expect(page.locator("#stock-card")).to_be_visible()


@pytest.mark.clause("GTC-3.1")
@pytest.mark.clause("CARD-6")
def test_the_admin_creates_prices_photographs_stocks_and_offers_a_watch_that_shows_on_the_shop_at_once(
        browser, shop_url, db):
    reference = f"VX-N{secrets.token_hex(3).upper()}"
    products_before = rows(db, "SELECT COUNT(*) FROM product")[0][0]
    ctx, page = staff_page(browser, shop_url, "admin")
    try:
        page.goto(shop_url + "/admin/catalogue")
        expect(page.get_by_role("link", name="Catalogue", exact=True)).to_be_visible()
        expect(page.locator(".product-row").first).to_be_visible()

        # bad input: a message next to each field, nothing saved
        page.fill("#product-reference", "bad ref")
        page.fill("#product-diameter_mm", "forty")
        page.click("#save-product")
        expect(page.locator("#error-reference")).to_contain_text("capital letters")
        expect(page.locator("#error-name")).to_be_visible()
        expect(page.locator("#error-collection")).to_be_visible()
        expect(page.locator("#error-diameter_mm")).to_be_visible()
        expect(page.locator("#catalogue-notice")).to_have_attribute("data-code", "fields_invalid")
        assert rows(db, "SELECT COUNT(*) FROM product")[0][0] == products_before

        page.fill("#product-reference", reference)
        page.fill("#product-name", "Méridienne Lune")
        page.select_option("#product-collection", "meridienne")
        page.fill("#product-case_material", "Rose gold")
        page.fill("#product-diameter_mm", "38.5")
        page.fill("#product-movement", "Manual winding, moon phase")
        page.fill("#product-water_resistance_m", "30")
        page.fill("#product-description", "A moon phase in aventurine.")
        page.fill("#product-max_per_order", "2")
        page.click("#save-product")
        expect(page.locator("#catalogue-notice")).to_have_attribute("data-code", "done")
        expect(page.locator("#product-state")).to_have_text("Withdrawn")

        # not offered before it has a price in every market
        page.click("#offer-product")
        expect(page.locator("#catalogue-notice")).to_have_attribute("data-code", "product_not_priced")

        for currency, amount in PRICES.items():
            page.fill(f"#price-{currency}", amount)
        page.fill("#price-JPY", "2450000.50")
        page.click("#save-prices")
        expect(page.locator("#error-price-JPY")).to_contain_text("JPY has 0 decimal places")
        assert rows(db, "SELECT COUNT(*) FROM product_price pp JOIN product p ON p.id = pp.product_id "
                        "WHERE p.reference = :r", r=reference)[0][0] == 0  # none saved, not even CHF
        page.fill("#price-JPY", PRICES["JPY"])
        page.click("#save-prices")
        expect(page.locator("#catalogue-notice")).to_have_attribute("data-code", "done")

        page.locator("#product-image input[type=file]").set_input_files(
            files=[{"name": "lune.png", "mimeType": "image/png", "buffer": photograph()}])
        expect(page.locator("#image-selected")).to_contain_text("lune.png")
        page.click("#upload-image")
        expect(page.locator(".product-image")).to_have_count(1)

        page.fill("#stock-delta", "3")
        page.select_option("#stock-reason", "received")
        page.click("#adjust-stock")
        expect(page.locator("#product-stock")).to_have_text("3")
        expect(page.locator(".movement-row").first).to_contain_text("received")

        page.click("#offer-product")
        expect(page.locator("#product-state")).to_have_text("Offered on the shop")
    finally:
        ctx.close()

    [(slug, images)] = rows(db, "SELECT slug, images FROM product WHERE reference = :r", r=reference)
    actions = {a for (a,) in rows(db, "SELECT action FROM staff_audit WHERE subject = "
                                      "(SELECT 'product:' || id FROM product WHERE reference = :r)", r=reference)}
    assert {"catalogue.create_product", "catalogue.set_price", "catalogue.add_image", "stock.adjust",
            "catalogue.activate"} <= actions

    shopper = shopper_context(browser)
    try:
        page = shopper.new_page()
        page.goto(shop_url + f"/watch/{slug}")
        expect(page.get_by_role("heading", name="Méridienne Lune")).to_be_visible()
        expect(page.get_by_text("CHF 14")).to_be_visible()
        image = page.locator("img[src*='/api/media/products/']").first
        expect(image).to_be_visible()
        assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 960
        page.goto(shop_url + "/watches")
        expect(page.locator(f"a[href='/watch/{slug}']").first).to_be_visible()
    finally:
        shopper.close()


@pytest.mark.clause("GTC-4.2")
def test_a_shopper_on_the_confirmation_step_sees_a_new_price_and_confirms_only_the_amount_shown(browser, shop_url, db):
    reference, slug = a_watch(db)
    shopper = shopper_context(browser)
    shopper_page = shopper.new_page()
    shopper_page.base = shop_url
    ctx, admin = staff_page(browser, shop_url, "admin")
    try:
        add_to_cart(shopper_page, slug)
        start_checkout(shopper_page)
        fill_info(shopper_page, "CH")
        through_terms(shopper_page)
        shown = shopper_page.locator("#sum-total").inner_text()

        open_in_admin(admin, shop_url, reference)
        admin.fill("#price-CHF", "12000")
        admin.click("#save-prices")
        expect(admin.locator("#catalogue-notice")).to_have_attribute("data-code", "done")

        shopper_page.click("#confirm-order")
        expect(shopper_page.locator("#checkout-message")).to_have_attribute("data-code", "price_changed")
        expect(shopper_page.locator("#sum-total")).not_to_have_text(shown)
        expect(shopper_page.locator(".summary-line").first).to_contain_text("12")
        assert rows(db, "SELECT COUNT(*) FROM order_line WHERE reference = :r", r=reference)[0][0] == 0

        shopper_page.click("#confirm-order")
        expect(shopper_page.locator("#order-reference")).to_be_visible()
    finally:
        ctx.close()
        shopper.close()
    [(unit, subtotal)] = rows(db, "SELECT l.unit_price_minor, o.subtotal_minor FROM order_line l "
                                  "JOIN shop_order o ON o.id = l.order_id WHERE l.reference = :r", r=reference)
    assert (unit, subtotal) == (1_200_000, 1_200_000)


@pytest.mark.clause("GTC-3.1")
def test_a_withdrawn_watch_leaves_the_shop_and_a_cart_holding_it_says_so(browser, shop_url, db):
    reference, slug = a_watch(db)
    shopper = shopper_context(browser)
    shopper_page = shopper.new_page()
    shopper_page.base = shop_url
    ctx, admin = staff_page(browser, shop_url, "admin")
    try:
        add_to_cart(shopper_page, slug)
        open_in_admin(admin, shop_url, reference)
        admin.click("#withdraw-product")
        expect(admin.locator("#product-state")).to_have_text("Withdrawn")

        shopper_page.goto(shop_url + "/cart")
        expect(shopper_page.get_by_text(f"Probe {reference[4:]} is no longer offered")).to_be_visible()
        expect(shopper_page.locator(f".cart-line[data-reference='{reference}']")).to_have_count(0)
        shopper_page.goto(shop_url + f"/watch/{slug}")
        expect(shopper_page.locator("#product-unavailable")).to_have_text("This watch is no longer available")
        shopper_page.goto(shop_url + "/watches")
        expect(shopper_page.locator(".product-card").first).to_be_visible()
        expect(shopper_page.locator(f"a[href='/watch/{slug}']")).to_have_count(0)
    finally:
        ctx.close()
        shopper.close()
    assert rows(db, "SELECT active FROM product WHERE reference = :r", r=reference)[0][0] in (False, 0)


@pytest.mark.clause("CARD-6")
def test_fulfilment_adjusts_stock_only_and_client_service_changes_nothing(browser, shop_url, db):
    reference, _slug = a_watch(db, stock=2)
    ctx, page = staff_page(browser, shop_url, "fulfilment")
    try:
        open_in_admin(page, shop_url, reference)
        expect(page.locator("#product-form")).to_have_count(0)
        expect(page.locator("#prices-form")).to_have_count(0)
        expect(page.locator("#save-fees")).to_have_count(0)
        page.fill("#stock-delta", "-5")
        page.select_option("#stock-reason", "damaged")
        page.click("#adjust-stock")
        expect(page.locator("#error-delta")).to_contain_text("Only 2 in stock")
        page.fill("#stock-delta", "-1")
        page.select_option("#stock-reason", "workshop")
        page.fill("#stock-note", "crown to check")
        page.click("#adjust-stock")
        expect(page.locator("#product-stock")).to_have_text("1")
        expect(page.locator(".movement-row").first).to_contain_text("crown to check")
    finally:
        ctx.close()
    [(delta, reason, role)] = rows(db, "SELECT m.delta, m.reason, s.role FROM stock_movement m JOIN staff_user s "
                                       "ON s.id = m.staff_id JOIN product p ON p.id = m.product_id "
                                       "WHERE p.reference = :r", r=reference)
    assert (delta, reason, role) == (-1, "workshop", "fulfilment")

    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        open_in_admin(page, shop_url, reference)
        for form in ("#product-form", "#prices-form", "#stock-form", "#images-card", "#save-fees"):
            expect(page.locator(form)).to_have_count(0)
    finally:
        ctx.close()
