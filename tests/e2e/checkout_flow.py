"""Drive the six checkout steps in the browser, as a shopper would."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.catalogue_data import product

ADDRESSES = {
    "CH": dict(phone="022 555 01 48", street="Rue du Rhône 1", city="Genève", postal_code="1204", area=""),
    "DE": dict(phone="030 901820", street="Unter den Linden 1", city="Berlin", postal_code="10117", area=""),
    "US": dict(phone="212 555 0123", street="725 Fifth Avenue", city="New York", postal_code="10022", area="NY"),
    "JP": dict(phone="03-3562-1111", street="Ginza 4-6-16", city="Chuo-ku", postal_code="104-0061", area="東京都"),
    "UA": dict(phone="044 123 4567", street="Kyivska 1", city="Simferopol", postal_code="95000",
               area="Автономна Республіка Крим"),
}


def add_to_cart(page, slug: str, quantity: int = 1) -> None:
    page.goto(page.base + f"/watch/{slug}")
    expect(page.locator("#add-to-cart")).to_be_enabled()
    before = int(page.locator("#cart-count").inner_text() or 0)
    page.fill("#quantity", str(quantity))
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text(str(before + quantity))


def start_checkout(page) -> None:
    page.goto(page.base + "/checkout")
    expect(page.locator("#next")).to_be_enabled()
    page.click("#next")
    expect(page.locator("#email")).to_be_visible()


def fill_info(page, country: str, name: str = "Anna Keller", birth: str = "1980-02-03") -> None:
    a = ADDRESSES[country]
    page.select_option("#ship_country", country)
    if a["area"]:
        expect(page.locator("#ship_area")).to_be_visible()
        page.select_option("#ship_area", a["area"])
    page.fill("#email", "anna.keller@example.com")
    page.fill("#phone", a["phone"])
    page.fill("#full_name", name)
    page.fill("#birth_date", birth)
    page.fill("#ship_name", name)
    page.fill("#ship_street", a["street"])
    page.fill("#ship_postal_code", a["postal_code"])
    page.fill("#ship_city", a["city"])
    page.click("#next")


def through_terms(page) -> None:
    expect(page.locator("#details_confirmed")).to_be_visible()
    page.click("#details_confirmed")
    page.click("#next")
    expect(page.locator("#terms_accepted")).to_be_visible()
    page.click("#terms_accepted")
    page.click("#personal_use")
    page.click("#next")
    expect(page.locator("#confirm-order")).to_be_visible()


def fill_card(page, card: str, exp_year: str = "30") -> None:
    """Type a test card into the sandbox's card fields (its expiry year takes two digits)."""
    frame = page.locator("#card-element")
    expect(frame.locator("input[placeholder=number]")).to_be_visible()
    frame.locator("input[placeholder=number]").fill(card)
    frame.locator("input[placeholder=exp_month]").fill("12")
    frame.locator("input[placeholder=exp_year]").fill(exp_year)
    frame.locator("input[placeholder=cvc]").fill("123")
    frame.locator("input[placeholder=postal_code]").fill("12345")


def pay(page, card: str) -> None:
    page.click("#confirm-order")
    expect(page.locator("#order-reference")).to_be_visible()
    fill_card(page, card)
    page.click("#pay")


def purchase(page, reference: str, country: str = "CH", card: str = "4242424242424242") -> None:
    """A whole purchase of one watch, from its page to the card; the caller checks the outcome."""
    add_to_cart(page, product(reference=reference)["slug"])
    start_checkout(page)
    fill_info(page, country)
    through_terms(page)
    pay(page, card)
