"""A checkout belongs to the browser the shop identified (ASVS 8.2.2), and a reload never loses an order.

Browser B gets a copy of everything browser A keeps that a second device could obtain (localStorage,
sessionStorage including Reflex's client token, every cookie page scripts can read) — everything but
the HttpOnly identity cookie — and must see, pay, change and cancel none of A's checkout.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_card, fill_info, start_checkout, through_terms
from tests.e2e.conftest import shopper_context

pytestmark = pytest.mark.e2e

WATCH = "VX-2002"
COOKIE = "vx_sid"


def _to_payment(page) -> str:
    add_to_cart(page, product(reference=WATCH)["slug"])
    start_checkout(page)
    fill_info(page, "CH", name="Beatrix Oberholzer")
    through_terms(page)
    page.click("#confirm-order")
    expect(page.locator("#order-reference")).to_be_visible()
    return page.locator("#order-reference").inner_text()


def _copy_of(page) -> dict:
    """What a thief with the storage of A's tab (not A's HttpOnly cookie) would have."""
    state = page.context.storage_state()
    return {
        "cookies": [c for c in state["cookies"] if not c["httpOnly"]],
        "local": page.evaluate("JSON.stringify(Object.assign({}, localStorage))"),
        "session": page.evaluate("JSON.stringify(Object.assign({}, sessionStorage))"),
        "http_only": [c for c in state["cookies"] if c["httpOnly"]],
    }


def _plant(context, copy: dict) -> None:
    context.add_cookies(copy["cookies"])
    context.add_init_script(
        "(() => { if (sessionStorage.getItem('__planted')) return;"
        f" const l = {copy['local']}, s = {copy['session']};"
        " for (const k in l) localStorage.setItem(k, l[k]); for (const k in s) sessionStorage.setItem(k, s[k]);"
        " sessionStorage.setItem('__planted', '1'); })()")


@pytest.mark.clause("CARD-3")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_a_copy_of_the_storage_grants_nothing_of_the_checkout(browser, shop_url, page):
    page.base = shop_url
    reference = _to_payment(page)
    copy = _copy_of(page)
    assert [c["name"] for c in copy["http_only"]] == [COOKIE]  # the identity is out of reach of page scripts
    assert reference not in copy["session"] + copy["local"]  # the draft names no order ...
    assert "Oberholzer" not in copy["session"] + copy["local"]  # ... and is sealed, not readable
    page.close()  # A's tab goes away, so B's copy of its Reflex token is the only one in use

    thief = shopper_context(browser)
    try:
        _plant(thief, copy)
        stolen = thief.new_page()
        stolen.goto(shop_url + "/checkout")
        expect(stolen.locator("#steps")).to_be_visible()
        stolen.wait_for_timeout(1500)  # let every state update arrive before reading the page
        html = stolen.content()
        for secret in (reference, "Oberholzer", "anna.keller@example.com", "Rue du Rhône 1"):
            assert secret not in html
        expect(stolen.locator("#order-reference")).to_have_count(0)
        expect(stolen.locator("#pay")).to_have_count(0)
        expect(stolen.locator("#cancel-order")).to_have_count(0)
        assert stolen.context.cookies() and all(
            c["value"] != v["value"] for c in stolen.context.cookies() if c["name"] == COOKIE
            for v in copy["http_only"])
    finally:
        thief.close()

    owner = page.context.new_page()  # A comes back in a new tab: its order is still there, unpaid
    owner.goto(shop_url + "/checkout")
    expect(owner.locator("#order-reference")).to_have_text(reference)
    expect(owner.locator("#pay")).to_be_visible()


def test_a_browser_cannot_choose_its_own_identity(browser, shop_url):
    chosen = "my-own-checkout-key-0123456789abcdefghijklmnopqrstuvwxyz.forged"
    ctx = shopper_context(browser)
    try:
        ctx.add_cookies([{"name": COOKIE, "value": chosen, "url": shop_url}])
        page = ctx.new_page()
        page.goto(shop_url + "/checkout")
        expect(page.locator("#steps")).to_be_visible()
        issued = [c for c in ctx.cookies() if c["name"] == COOKIE]
        assert issued and issued[0]["value"] != chosen and issued[0]["httpOnly"]
    finally:
        ctx.close()


@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_reload_during_payment_shows_the_order_and_lets_the_shopper_pay(page):
    reference = _to_payment(page)
    page.reload()
    expect(page.locator("#order-reference")).to_have_text(reference)
    expect(page.locator("#amount-to-pay")).not_to_be_empty()
    fill_card(page, "4242424242424242")
    page.click("#pay")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
    assert f"/order/{reference}?" in page.url


@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_paying_after_the_window_says_so_and_gives_the_watches_back_to_the_cart(page, shop_env):
    reference = _to_payment(page)
    db = shop_env["REFLEX_DB_URL"].removeprefix("sqlite:///")
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(db) as conn:  # the payment window closes while the shopper hesitates
        conn.execute("UPDATE shop_order SET payment_deadline = ? WHERE reference = ?", (past, reference))
    fill_card(page, "4242424242424242")
    page.click("#pay")
    expect(page.locator("#checkout-message")).to_have_attribute("data-code", "payment_window_closed")
    expect(page.locator("#checkout-message")).to_contain_text("time to pay")
    expect(page.locator("#order-reference")).to_have_count(0)
    expect(page.locator("#cart-count")).to_have_text("1")  # the watch is back in the cart, ready to order again


@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_the_shopper_may_withdraw_an_unpaid_order(page):
    _to_payment(page)
    page.click("#cancel-order")
    expect(page.locator("#order-reference")).to_have_count(0)
    expect(page.locator("#cart-count")).to_have_text("1")
    expect(page.locator("#next")).to_be_enabled()
