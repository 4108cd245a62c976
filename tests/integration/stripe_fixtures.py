"""Payment sandbox for integration tests: one localstripe per test session, on a free loopback port.

The sandbox is started in memory only (no state file), so runs never see each other's data and
never touch the dev server's store.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import stripe

from storefront.adapters import localstripe_server, sandbox
from storefront.adapters.localstripe_server import LocalStripe
from storefront.adapters.stripe_gateway import SavedCard, StripeGateway

__all__ = [
    "SANDBOX_WEBHOOK_SECRET",
    "browser_3ds",
    "card_token",
    "localstripe",
    "saved_card",
    "stripe_gateway",
    "stripe_test_client",
]

SANDBOX_WEBHOOK_SECRET = "whsec_test_sandbox"


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    handle = localstripe_server.start(localstripe_server.free_port())
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def stripe_gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(sandbox.SECRET_KEY, SANDBOX_WEBHOOK_SECRET, api_base=localstripe.url, sandbox=True)


@pytest.fixture(scope="session")
def stripe_test_client(localstripe: LocalStripe) -> stripe.StripeClient:
    """Direct API access for what only the browser or an inspector does (tokens, raw objects)."""
    return stripe.StripeClient(sandbox.SECRET_KEY, base_addresses={"api": localstripe.url}, max_network_retries=0)


@pytest.fixture(scope="session")
def card_token(stripe_test_client: stripe.StripeClient) -> Callable[[str], str]:
    """Stand-in for Stripe.js `createToken`: in production only the browser ever sees a card number."""

    def make(number: str = "4242424242424242") -> str:
        params = {"card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
        return stripe_test_client.v1.tokens.create(params=params).id

    return make


@pytest.fixture
def saved_card(stripe_gateway: StripeGateway, card_token: Callable[[str], str], request) -> Callable[..., SavedCard]:
    def save(number: str = "4242424242424242") -> SavedCard:
        return stripe_gateway.save_card(card_token(number), "client@example.com", "Ada Client", f"save-{request.node.name}-{number}")

    return save


@pytest.fixture(scope="session")
def browser_3ds(localstripe: LocalStripe) -> Callable[[str, bool], None]:
    """What the sandbox's `confirmCardPayment` does when the client clicks Complete / Fail authentication."""

    def authenticate(client_secret: str, success: bool = True) -> None:
        intent_id = client_secret.split("_secret_")[0]
        request = urllib.request.Request(
            f"{localstripe.url}/v1/payment_intents/{intent_id}/_authenticate?success={'true' if success else 'false'}",
            data=json.dumps({"key": sandbox.PUBLISHABLE_KEY, "client_secret": client_secret}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    return authenticate
