"""Shopper journeys in Debian Chromium against the production build, on desktop and phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import inactive, limited

pytestmark = pytest.mark.e2e


def open_page(page, path):
    page.goto(page.base + path)
    expect(page.locator("#country-select option")).not_to_have_count(0)


def first_price(page):
    loc = page.locator(".product-card .price").first
    expect(loc).to_be_visible()
    return loc.inner_text()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


@pytest.mark.clause("CARD-2")
@pytest.mark.clause("GTC-4.1")
@pytest.mark.clause("CARD-5")
def test_country_changes_currency_and_format_everywhere_and_is_remembered(page):
    open_page(page, "/")
    expect(page.locator(".product-card .price").first).to_contain_text("CHF")  # browser says de-CH
    expect(page.locator(".pricing-notice").first).to_contain_text("VAT is added at checkout")
    page.select_option("#country-select", "JP")
    expect(page.locator(".product-card .price").first).to_contain_text("\u00a5")  # half-width yen of the English page
    assert not re.search(r"[.,]\d\d$", first_price(page))  # no decimals for yen
    page.select_option("#country-select", "DE")
    expect(page.locator(".product-card .price").first).to_contain_text("€")
    assert re.search(r",\d\d\s€$", first_price(page))  # English for Germany (en_DE) groups digits the German way
    page.reload()
    expect(page.locator(".product-card .price").first).to_contain_text("€")
    expect(page.locator("#country-select")).to_have_value("DE")


@pytest.mark.clause("GTC-3.3")
@pytest.mark.clause("CARD-5")
def test_add_within_limit_and_refuse_over_limit(page):
    watch = limited()
    open_page(page, f"/watch/{watch['slug']}")
    expect(page.locator("h1")).to_have_text(watch["name"])
    expect(page.locator("#limit-note")).to_contain_text(str(watch["max_per_order"]))
    page.fill("#quantity", str(watch["max_per_order"] + 1))
    page.click("#add-to-cart")
    expect(page.get_by_text(f"limited to {watch['max_per_order']} per order").last).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text("0")
    page.fill("#quantity", str(watch["max_per_order"]))
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text(str(watch["max_per_order"]))
    page.fill("#quantity", "1")
    page.click("#add-to-cart")
    expect(page.get_by_text(f"limited to {watch['max_per_order']} per order").last).to_be_visible()
    expect(page.locator("#cart-count")).to_have_text(str(watch["max_per_order"]))


def test_the_quantity_typed_survives_the_page_loading_again(page):
    """A change of country runs the page's loaders again, as a late second page-load event does: the watch
    on screen is not reset under the shopper's thumb."""
    watch = limited()
    open_page(page, f"/watch/{watch['slug']}")
    expect(page.locator("h1")).to_have_text(watch["name"])
    page.fill("#quantity", "2")
    expect(page.locator("#price")).to_contain_text("CHF")
    page.select_option("#country-select", "DE")
    expect(page.locator("#price")).to_contain_text("€")
    expect(page.locator("#quantity")).to_have_value("2")
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text("2")


@pytest.mark.clause("CARD-5")
def test_cart_survives_reload_and_browser_restart(page, browser, viewport):
    watch = limited()
    open_page(page, f"/watch/{watch['slug']}")
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text("1")
    open_page(page, "/cart")
    expect(page.locator(".cart-line")).to_have_count(1)
    expect(page.locator(".cart-line")).to_contain_text(watch["name"])
    page.reload()
    expect(page.locator(".cart-line")).to_have_count(1)
    state = page.context.storage_state()
    restarted = browser.new_context(storage_state=state, locale="de-CH",
                                    viewport=page.viewport_size)
    try:
        again = restarted.new_page()
        again.goto(page.base + "/cart")
        expect(again.locator(".cart-line")).to_have_count(1)
        expect(again.locator("#subtotal")).to_contain_text("CHF")
        again.locator(".cart-line button[aria-label^='Remove']").click()
        expect(again.locator("#cart-empty")).to_be_visible()
        expect(again.locator("#cart-count")).to_have_text("0")
    finally:
        restarted.close()


@pytest.mark.clause("GTC-3.1")
def test_inactive_watch_is_not_listed_and_its_page_says_so(page):
    hidden = inactive()
    open_page(page, "/watches")
    expect(page.locator(".product-card").first).to_be_visible()
    expect(page.locator(f"[data-reference='{hidden['reference']}']")).to_have_count(0)
    open_page(page, f"/watch/{hidden['slug']}")
    expect(page.locator("#product-unavailable")).to_have_text("This watch is no longer available")
    open_page(page, "/watch/no-such-watch")  # an address that never named a watch
    expect(page.locator("#product-unavailable")).to_have_text("This watch is not available")


@pytest.mark.clause("GTC-4.1")
def test_listing_sorts_by_price_and_filters(page):
    open_page(page, "/watches")
    expect(page.locator(".product-card").first).to_be_visible()
    total = page.locator(".product-card").count()
    page.select_option("#sort", "price_desc")
    page.wait_for_timeout(300)
    prices = page.locator(".product-card .price").all_inner_texts()
    values = [int(re.sub(r"\D", "", p)) for p in prices]
    assert values == sorted(values, reverse=True)
    page.select_option("#filter-collection", index=1)
    expect(page.locator(".product-card")).not_to_have_count(total)


@pytest.mark.clause("CARD-5")
@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_phone_pages_do_not_scroll_sideways(page):
    for path in ["/", "/watches", f"/watch/{limited()['slug']}", "/cart", "/terms", "/checkout"]:
        open_page(page, path)
        page.wait_for_timeout(200)
        assert no_horizontal_scroll(page), path


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_visitor_from_sanctioned_country_can_browse_but_is_told(browser, shop_url, viewport):
    ctx = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 800})
    try:
        pg = ctx.new_page()
        pg.goto(shop_url + "/")
        expect(pg.locator("#origin-notice")).to_contain_text("We cannot deliver to Iran")
        expect(pg.locator(".product-card").first).to_be_visible()
        options = pg.locator("#country-select option").all_inner_texts()
        assert options and not any("Iran" in o or "Cuba" in o or "Syria" in o or "Korea" in o for o in options)
    finally:
        ctx.close()
