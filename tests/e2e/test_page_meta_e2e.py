"""Every page tells search engines and link previews what it is: a language, a title and a meta description
(Lighthouse's SEO audits; the texts live in storefront/routes.py DESCRIPTIONS)."""

from __future__ import annotations

import pytest

from storefront import routes
from storefront.settings import get_settings
from tests.e2e.catalogue_data import product
from tests.e2e.conftest import shopper_context

WATCH = product(active=True)


@pytest.mark.parametrize("path, pattern", [
    ("/", routes.HOME), ("/watches", routes.WATCHES), (routes.watch_url(WATCH["slug"]), routes.WATCH),
    ("/cart", routes.CART), ("/checkout", routes.CHECKOUT), ("/terms", routes.TERMS),
    ("/order/NO-SUCH-ORDER", routes.ORDER),
])
def test_every_page_has_a_language_a_title_and_its_meta_description(browser, shop_url, path, pattern):
    ctx = shopper_context(browser)
    try:
        page = ctx.new_page()
        page.goto(shop_url + path)
        page.wait_for_selector("footer")  # hydrated: a dynamic route's head is set by then
        assert page.get_attribute("html", "lang") == "en"
        brand = get_settings().merchant_brand
        assert page.title().endswith("· " + brand)
        description = page.locator('meta[name="description"]')
        assert description.count() == 1
        assert description.get_attribute("content") == routes.description_for(pattern, brand)
    finally:
        ctx.close()
