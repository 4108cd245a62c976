"""POST /api/stripe/webhook through the real Starlette app, with the gateway built from settings.

The settings point the gateway at the test session's localstripe, so an event makes the shop ask
the sandbox what became of the intent (it never trusts the event body). Events are signed as
Stripe signs them: HMAC-SHA256 over f"{t}.{payload}" with the endpoint secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import pytest
from sqlmodel import Session
from starlette.testclient import TestClient

from storefront.adapters.db import get_engine
from storefront.adapters.tables import WebhookEvent
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import payment
from storefront.settings import get_settings
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, free_port, order_row, outbox_of, payments_of

pytestmark = pytest.mark.usefixtures("database")

NEEDS_3DS = "4000002500003155"


@pytest.fixture
def sandbox_settings(localstripe, monkeypatch):
    """Settings as in development without Stripe keys: the gateway is the loopback sandbox on its port."""
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STOREFRONT_STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("STOREFRONT_LOCALSTRIPE_PORT", str(localstripe.port))
    get_settings.cache_clear()
    assert get_settings().uses_local_stripe and get_settings().localstripe_port == localstripe.port
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def client(sandbox_settings):
    from storefront.api import api

    with TestClient(api, raise_server_exceptions=False) as test_client:
        yield test_client


def _event(event_type: str, obj: dict, event_id: str | None = None) -> bytes:
    return json.dumps({
        "id": event_id or f"evt_{secrets.token_hex(8)}", "object": "event", "type": event_type,
        "created": int(time.time()), "livemode": False, "data": {"object": obj},
    }).encode()


def _sign(payload: bytes, secret: str | None = None, t: int | None = None) -> str:
    t = int(time.time()) if t is None else t
    secret = secret or get_settings().stripe_webhook_secret
    return f"t={t},v1={hmac.new(secret.encode(), f'{t}.{payload.decode()}'.encode(), hashlib.sha256).hexdigest()}"


def _post(client, payload: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    headers["Stripe-Signature"] = _sign(payload) if signature is None else signature
    return client.post("/api/stripe/webhook", content=payload, headers=headers)


def _recorded(event_id: str) -> bool:
    with Session(get_engine()) as s:
        return s.get(WebhookEvent, event_id) is not None


def _intent_event(event_type: str, intent_id: str, status: str, event_id: str | None = None) -> bytes:
    return _event(event_type, {"id": intent_id, "object": "payment_intent", "status": status}, event_id)


def _awaiting_3ds(make_product, place, card_token, settings_gateway=None):
    watch = make_product()
    placed = place({watch: 1}, buyer("CH"))
    outcome = payment.authorize(placed.reference, card_token(NEEDS_3DS), gw=settings_gateway or payment.gateway())
    assert outcome.status == "requires_action"
    return placed.reference, payments_of(placed.reference)[0].intent_id, outcome.client_secret


# -- authenticity ------------------------------------------------------------------------------


@pytest.mark.clause("PAY-5")
@pytest.mark.parametrize("forge", [
    pytest.param(lambda p: (p, _sign(p, secret="whsec_someone_else")), id="wrong-secret"),
    pytest.param(lambda p: (p.replace(b"requires_capture", b"succeeded"), _sign(p)), id="tampered-after-signing"),
    pytest.param(lambda p: (p, _sign(p, t=int(time.time()) - 600)), id="replayed-after-ten-minutes"),
    pytest.param(lambda p: (p, ""), id="no-signature"),
    pytest.param(lambda p: (p, "t=1,v1=00"), id="garbage-signature"),
])
def test_event_with_a_bad_signature_is_refused_and_not_recorded(client, forge):
    event_id = f"evt_{secrets.token_hex(8)}"
    payload, signature = forge(_intent_event("payment_intent.amount_capturable_updated", "pi_forged", "requires_capture",
                                             event_id))

    response = _post(client, payload, signature)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid signature"}
    assert not _recorded(event_id)


# -- applied once --------------------------------------------------------------------------------


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("PAY-4")
@pytest.mark.clause("GTC-3.6")
def test_signed_event_moves_the_hold_once_and_a_redelivery_is_a_duplicate(client, make_product, place, card_token,
                                                                          browser_3ds):
    """The client authenticated with the issuer but never came back to the shop: the event completes the order."""
    reference, intent_id, client_secret = _awaiting_3ds(make_product, place, card_token)
    browser_3ds(client_secret, True)
    payload = _intent_event("payment_intent.amount_capturable_updated", intent_id, "requires_capture")

    first = _post(client, payload)

    assert (first.status_code, first.json()) == (200, {"result": "applied"})
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value
    [auth] = payments_of(reference)
    assert auth.status == PaymentStatus.HELD.value
    assert len(outbox_of(reference)) == 1
    history = [e.type for e in events_of(reference)]

    again = _post(client, payload)  # Stripe redelivers the same event

    assert (again.status_code, again.json()) == (200, {"result": "duplicate"})
    assert [e.type for e in events_of(reference)] == history
    # Another event about the same intent (and the client returning) changes nothing either.
    assert _post(client, _intent_event("payment_intent.succeeded", intent_id, "requires_capture")).json() == \
        {"result": "applied"}
    assert payment.complete_authentication(reference).status == "held"
    assert [e.type for e in events_of(reference)] == history
    assert len(outbox_of(reference)) == 1


@pytest.mark.clause("PAY-3")
@pytest.mark.clause("PAY-4")
def test_payment_failed_event_declines_the_attempt(client, make_product, place, card_token, browser_3ds):
    reference, intent_id, client_secret = _awaiting_3ds(make_product, place, card_token)
    browser_3ds(client_secret, False)

    response = _post(client, _intent_event("payment_intent.payment_failed", intent_id, "requires_payment_method"))

    assert response.json() == {"result": "applied"}
    [auth] = payments_of(reference)
    assert auth.status == PaymentStatus.DECLINED.value
    assert order_row(reference).status == OrderStatus.PENDING_PAYMENT.value  # the client may try another card
    assert outbox_of(reference) == []


@pytest.mark.clause("PAY-3")
def test_event_claiming_a_hold_the_provider_does_not_confirm_changes_nothing(client, make_product, place, card_token):
    """The shop asks the provider; an event saying 'held' for an intent still awaiting 3-D Secure is not believed."""
    reference, intent_id, _secret = _awaiting_3ds(make_product, place, card_token)

    response = _post(client, _intent_event("payment_intent.amount_capturable_updated", intent_id, "requires_capture"))

    assert response.json() == {"result": "applied"}
    assert payments_of(reference)[0].status == PaymentStatus.REQUIRES_ACTION.value
    assert order_row(reference).status == OrderStatus.PENDING_PAYMENT.value


@pytest.mark.clause("PAY-5")
def test_cancelled_intent_event_marks_the_hold_released(client, make_product, place, card_token, stripe_gateway):
    watch = make_product()
    placed = place({watch: 1})
    assert payment.authorize(placed.reference, card_token(), gw=stripe_gateway).status == "held"
    intent_id = payments_of(placed.reference)[0].intent_id
    stripe_gateway.cancel(intent_id)

    response = _post(client, _intent_event("payment_intent.canceled", intent_id, "canceled"))

    assert response.json() == {"result": "applied"}
    assert payments_of(placed.reference)[0].status == PaymentStatus.RELEASED.value
    assert events_of(placed.reference)[-1].type == "payment_released"


@pytest.mark.clause("PAY-5")
def test_expired_charge_event_marks_the_hold_expired(client, make_product, place, card_token, stripe_gateway):
    watch = make_product()
    placed = place({watch: 1})
    assert payment.authorize(placed.reference, card_token(), gw=stripe_gateway).status == "held"
    intent_id = payments_of(placed.reference)[0].intent_id
    payload = _event("charge.expired", {"id": f"ch_{secrets.token_hex(6)}", "object": "charge",
                                        "payment_intent": intent_id, "captured": False})

    response = _post(client, payload)

    assert (response.status_code, response.json()) == (200, {"result": "applied"})
    assert payments_of(placed.reference)[0].status == PaymentStatus.EXPIRED.value
    assert events_of(placed.reference)[-1].type == "payment_expired"


@pytest.mark.clause("PAY-5")
def test_unrelated_events_are_acknowledged_and_ignored(client):
    payload = _event("customer.created", {"id": "cus_x", "object": "customer"})

    assert _post(client, payload).json() == {"result": "ignored"}
    assert _post(client, _intent_event("payment_intent.succeeded", "pi_not_ours", "succeeded")).json() == \
        {"result": "applied"}  # an intent the shop does not know is acknowledged, nothing happens


@pytest.mark.clause("PAY-5")
def test_event_arriving_while_the_provider_is_unreachable_is_applied_on_redelivery(client, make_product, place,
                                                                                   card_token, browser_3ds,
                                                                                   stripe_gateway, monkeypatch,
                                                                                   localstripe):
    reference, intent_id, client_secret = _awaiting_3ds(make_product, place, card_token, stripe_gateway)
    browser_3ds(client_secret, True)
    payload = _intent_event("payment_intent.amount_capturable_updated", intent_id, "requires_capture")
    monkeypatch.setenv("STOREFRONT_LOCALSTRIPE_PORT", str(free_port()))  # the provider cannot be reached
    get_settings.cache_clear()

    failed = _post(client, payload)

    assert failed.status_code >= 500  # so that Stripe delivers the event again later
    assert payments_of(reference)[0].status == PaymentStatus.REQUIRES_ACTION.value

    monkeypatch.setenv("STOREFRONT_LOCALSTRIPE_PORT", str(localstripe.port))
    get_settings.cache_clear()
    redelivered = _post(client, payload)

    assert (redelivered.status_code, redelivered.json()) == (200, {"result": "applied"})
    assert payments_of(reference)[0].status == PaymentStatus.HELD.value
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value


@pytest.mark.clause("PAY-5")
def test_event_is_applied_off_the_event_loop(client, monkeypatch):
    """Applying an event calls the database and the provider (blocking, up to 30 s): never on the shared loop."""
    import asyncio

    from storefront.services import webhooks

    seen = []

    def spy(event):
        try:
            asyncio.get_running_loop()
            seen.append("on the event loop")
        except RuntimeError:
            seen.append("worker thread")
        return "ignored"

    monkeypatch.setattr(webhooks, "apply", spy)

    assert _post(client, _event("customer.created", {"id": "cus_y", "object": "customer"})).json() == {"result": "ignored"}
    assert seen == ["worker thread"]
