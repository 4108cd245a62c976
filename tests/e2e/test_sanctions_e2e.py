"""Sanctioned regions in the address form (PAY-7), in Chromium against the production build."""

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, start_checkout

pytestmark = pytest.mark.e2e


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_a_ukrainian_address_asks_for_the_region_and_crimea_is_refused_by_town_name(page):
    add_to_cart(page, product(reference="VX-2004")["slug"])
    start_checkout(page)
    page.select_option("#ship_country", "UA")
    expect(page.locator("#ship_area")).to_be_visible()  # Ukraine's post needs no region; the shop asks for it
    page.fill("#email", "olena.koval@example.com")
    page.fill("#phone", "044 123 4567")
    page.fill("#full_name", "Olena Koval")
    page.fill("#birth_date", "1980-02-03")
    page.fill("#ship_name", "Olena Koval")
    page.fill("#ship_street", "Khreshchatyk 1")
    page.fill("#ship_postal_code", "01001")
    page.fill("#ship_city", "Сімферополь")
    page.click("#next")
    expect(page.locator("#ship_area-error")).to_contain_text("Please choose your region from the list")

    page.select_option("#ship_area", "місто Київ")  # the region and postcode say Kyiv; the town is in Crimea
    page.click("#next")
    expect(page.locator("#ship_city-error")).to_contain_text("We cannot deliver to Crimea")
    expect(page.locator("#details_confirmed")).to_have_count(0)

    page.fill("#ship_city", "Kyiv")
    page.click("#next")
    expect(page.locator("#details_confirmed")).to_be_visible()
