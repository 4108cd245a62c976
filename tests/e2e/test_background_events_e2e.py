"""Placing an order and paying never hold the tab's state lock while the services work (issue 12, section 2).

Reflex runs a tab's ordinary events one after another, each holding the tab's state lock: a payment provider
that takes ten seconds to answer would freeze the tab for ten seconds (and, with Redis, warn of a lock held too
long). These tests drive a real tab over the websocket (tests/e2e/raw_client.py) against the served shop, and
keep the sandbox's card hold waiting at its door (`localstripe_server.hold_authorizations`) for as long as they
need: by the order of events, never by a delay.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import urllib.request

import pytest

from storefront.adapters import sandbox
from storefront.adapters.localstripe_server import authorizations_waiting, hold_authorizations
from storefront.state.cart import CartState
from storefront.state.checkout import PAY, CheckoutState
from tests.async_runner import run_async
from tests.e2e.catalogue_data import limited
from tests.e2e.checkout_flow import ADDRESSES
from tests.e2e.raw_client import ANSWER_TIMEOUT, Tab, handler_name, identity_cookie
from tests.e2e.shop_db import rows

pytestmark = pytest.mark.e2e

CHECKOUT = "/checkout"
NAME = "Lena Vogt"
FORM = {"email": "lena.vogt@example.com", "phone": ADDRESSES["CH"]["phone"], "full_name": NAME,
        "birth_date": "1981-04-05", "ship_name": NAME, "ship_street": ADDRESSES["CH"]["street"],
        "ship_city": ADDRESSES["CH"]["city"], "ship_postal_code": ADDRESSES["CH"]["postal_code"]}


def checkout(handler: str) -> str:
    return handler_name(CheckoutState, handler)


@pytest.fixture
def provider(shop_env):
    """The served shop's payment sandbox; its door is open again after the test, whatever happened."""
    url = sandbox.url(int(shop_env["STOREFRONT_LOCALSTRIPE_PORT"]))
    yield url
    hold_authorizations(url, False)


def card_token(provider: str) -> str:
    """What the sandbox's Stripe.js hands the page for a card: a token, never the number."""
    form = urllib.parse.urlencode({"card[number]": "4242424242424242", "card[exp_month]": "12",
                                   "card[exp_year]": "2030", "card[cvc]": "123",
                                   "key": sandbox.PUBLISHABLE_KEY}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{provider}/v1/tokens", data=form), timeout=30) as response:
        return json.loads(response.read())["id"]


async def tab_at_confirmation(shop_url: str) -> Tab:
    headers = {"User-Agent": "BackgroundEventsTest", "Accept-Language": "en-CH", "Origin": shop_url}
    headers["Cookie"] = identity_cookie(shop_url, headers)
    tab = await Tab(shop_url, headers, path=CHECKOUT).open(CHECKOUT)
    await tab.call(handler_name(CartState, "set_quantity"), {"reference": limited()["reference"], "quantity": 1})
    for handler, payload in [("load", None), ("continue_from_cart", None), ("submit_info", {"form_data": FORM}),
                             ("set_details_confirmed", {"value": True}), ("confirm_details", None),
                             ("set_terms_accepted", {"value": True}), ("set_personal_use", {"value": True}),
                             ("accept_terms", None)]:
        await tab.call(checkout(handler), payload)
    assert tab.value(CheckoutState, "step") == PAY - 1, tab.value(CheckoutState, "message_code")
    return tab


async def wait_at_the_door(provider: str, count: int) -> None:
    """Until `count` card holds wait at the sandbox's door (asked again as often as it takes; a hang guard only)."""
    async with asyncio.timeout(ANSWER_TIMEOUT):
        while await asyncio.to_thread(authorizations_waiting, provider) != count:
            await asyncio.sleep(0.05)


def order_of(db, reference: str) -> tuple[str, list[tuple]]:
    status = rows(db, "SELECT status FROM shop_order WHERE reference = :r", r=reference)[0][0]
    holds = rows(db, "SELECT a.status, a.intent_id, a.decline_code FROM payment_authorization a "
                     "JOIN shop_order o ON o.id = a.order_id WHERE o.reference = :r", r=reference)
    return status, holds


def test_a_second_confirmation_sent_at_once_places_one_order(shop_url, db):
    """A double click on "Confirm order" (or a crafted second event sent before the first is answered):
    one order, and the tab shows it."""

    async def run() -> str:
        tab = await tab_at_confirmation(shop_url)
        orders_before = rows(db, "SELECT COUNT(*) FROM shop_order")[0][0]
        await tab.emit(checkout("place_order"))
        await tab.emit(checkout("place_order"))
        await tab.until(lambda: tab.value(CheckoutState, "order_reference") and not tab.value(CheckoutState, "busy"))
        reference = tab.value(CheckoutState, "order_reference")
        assert tab.value(CheckoutState, "step") == PAY
        assert rows(db, "SELECT COUNT(*) FROM shop_order")[0][0] == orders_before + 1
        await tab.close()
        return reference

    reference = run_async(run())
    assert order_of(db, reference) == ("pending_payment", [])


def test_a_slow_provider_leaves_the_tab_answering_and_holds_the_card_once(shop_url, db, provider):
    """While the card hold waits at the provider, the same tab's other events are answered (they could not be
    if the payment held the tab's lock), a second payment sent meanwhile changes nothing, and once the provider
    answers the shopper is taken to the order page with exactly one hold on the card."""
    token = card_token(provider)

    async def run() -> str:
        tab = await tab_at_confirmation(shop_url)
        await tab.emit(checkout("place_order"))
        await tab.until(lambda: tab.value(CheckoutState, "step") == PAY)
        reference = tab.value(CheckoutState, "order_reference")
        hold_authorizations(provider, True)
        pay = {"result": json.dumps({"token": token})}
        await tab.emit(checkout("pay"), pay)
        await wait_at_the_door(provider, 1)
        assert tab.value(CheckoutState, "busy") is True

        # the payment is at the provider: another event of the same tab is answered now
        outcome = await tab.call(checkout("go_to"), {"step": PAY})
        assert outcome.value(CheckoutState, "step") == PAY
        # ... while the payment is still in flight: the shop still waits for the provider's answer (it did not give
        # up on it, which would end the payment with a message), and the hold still waits at the door
        assert tab.value(CheckoutState, "busy") is True and tab.value(CheckoutState, "pay_code") == ""
        assert authorizations_waiting(provider) == 1
        assert order_of(db, reference) == ("pending_payment", [("pending", None, None)])

        # a second payment while the first is in flight: turned away, nothing shown, nothing sent to the provider
        second = await tab.call(checkout("pay"), pay)
        assert second.changes(CheckoutState) == {}, second.changes(CheckoutState)
        assert authorizations_waiting(provider) == 1
        assert tab.frontend_events.count("_redirect") == 0

        hold_authorizations(provider, False)
        await tab.until(lambda: "_redirect" in tab.frontend_events)
        assert not tab.value(CheckoutState, "busy") and not tab.value(CheckoutState, "order_reference")
        await tab.close()
        return reference

    reference = run_async(run())
    status, holds = order_of(db, reference)
    assert status in ("awaiting_approval", "compliance_review", "approved"), status
    assert len(holds) == 1 and holds[0][0] == "held" and holds[0][1] and holds[0][2] is None, holds
