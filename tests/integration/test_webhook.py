"""POST /api/stripe/webhook through the real Starlette app, with the gateway built from settings.

The settings point the gateway at the test session's localstripe, so an event makes the shop ask
the sandbox what became of the intent (it never trusts the event body). Events are signed as
Stripe signs them: HMAC-SHA256 over f"{t}.{payload}" with the endpoint secret. Captures and
refunds, which no service does yet, are made at the provider directly, as staff would in the
Stripe dashboard.
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

from storefront.services.unit_of_work import UnitOfWork
from storefront.adapters.db import get_engine
from storefront.api import MAX_WEBHOOK_BODY_BYTES, api
from storefront.adapters.tables import WebhookEvent
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import payment
from storefront.settings import get_settings
from tests.async_runner import run_async
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


def _charge_event(event_type: str, intent_id: str, event_id: str | None = None, **fields) -> bytes:
    return _event(event_type, {"id": f"ch_{secrets.token_hex(6)}", "object": "charge", "payment_intent": intent_id,
                               **fields}, event_id)


def _held(make_product, place, card_token, stripe_gateway) -> tuple[str, str]:
    placed = place({make_product(): 1})
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None).status == "held"
    return placed.reference, payments_of(placed.reference)[0].intent_id


def _awaiting_3ds(make_product, place, card_token, settings_gateway=None):
    watch = make_product()
    placed = place({watch: 1}, buyer("CH"))
    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(NEEDS_3DS), gw=settings_gateway or payment.gateway(), browser=None)
    assert outcome.status == "requires_action"
    return placed.reference, payments_of(placed.reference)[0].intent_id, outcome.client_secret


# -- authenticity ------------------------------------------------------------------------------


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
    assert payment.complete_authentication(UnitOfWork(), reference, browser=None).status == "held"
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
@pytest.mark.clause("PAY-5")
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
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None).status == "held"
    intent_id = payments_of(placed.reference)[0].intent_id
    stripe_gateway.cancel(intent_id)

    response = _post(client, _intent_event("payment_intent.canceled", intent_id, "canceled"))

    assert response.json() == {"result": "applied"}
    assert payments_of(placed.reference)[0].status == PaymentStatus.RELEASED.value
    assert events_of(placed.reference)[-1].type == "payment_released"


@pytest.mark.clause("PAY-5")
def test_expired_charge_event_marks_the_hold_expired_once_the_provider_no_longer_holds_it(
        client, make_product, place, card_token, stripe_gateway):
    reference, intent_id = _held(make_product, place, card_token, stripe_gateway)
    expired = _charge_event("charge.expired", intent_id, captured=False)

    early = _post(client, expired)  # the provider still holds the card: the event is not believed

    assert early.json() == {"result": "applied"}
    assert payments_of(reference)[0].status == PaymentStatus.HELD.value

    stripe_gateway.cancel(intent_id)  # stands in for the hold lapsing at the provider after about 7 days
    response = _post(client, _charge_event("charge.expired", intent_id, captured=False))

    assert (response.status_code, response.json()) == (200, {"result": "applied"})
    assert payments_of(reference)[0].status == PaymentStatus.EXPIRED.value
    types = [e.type for e in events_of(reference)]  # then renewed at once, the order being open (hold_renewal)
    assert types.count("payment_expired") == 1 and types[types.index("payment_expired") + 1] == "payment_reauthorized"


def test_unrelated_events_are_acknowledged_and_ignored(client):
    payload = _event("customer.created", {"id": "cus_x", "object": "customer"})

    assert _post(client, payload).json() == {"result": "ignored"}
    assert _post(client, _event("charge.dispute.funds_withdrawn", {"id": "du_x", "object": "dispute",
                                                                    "payment_intent": "pi_x"})).json() == \
        {"result": "ignored"}
    assert _post(client, _event("charge.expired", {"id": "ch_x", "object": "charge"})).json() == {"result": "ignored"}
    assert _post(client, _intent_event("payment_intent.succeeded", "pi_not_ours", "succeeded")).json() == \
        {"result": "applied"}  # an intent the shop does not know is acknowledged, nothing happens


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


def test_event_is_applied_off_the_event_loop(client, monkeypatch):
    """Applying an event calls the database and the provider (blocking, up to 30 s): never on the shared loop."""
    import asyncio

    from storefront.services import webhooks

    seen = []

    def spy(event, _uow):
        try:
            asyncio.get_running_loop()
            seen.append("on the event loop")
        except RuntimeError:
            seen.append("worker thread")
        return "ignored"

    monkeypatch.setattr(webhooks, "apply", spy)

    assert _post(client, _event("customer.created", {"id": "cus_y", "object": "customer"})).json() == {"result": "ignored"}
    assert seen == ["worker thread"]


# -- the provider decides, whatever the event says or when it arrives ---------------------------


@pytest.mark.clause("PAY-5")
@pytest.mark.parametrize("claim", [
    pytest.param(lambda i: _intent_event("payment_intent.canceled", i, "canceled"), id="released"),
    pytest.param(lambda i: _charge_event("charge.expired", i, captured=False), id="expired"),
    pytest.param(lambda i: _intent_event("payment_intent.succeeded", i, "succeeded"), id="captured"),
    pytest.param(lambda i: _charge_event("charge.captured", i, captured=True, amount_captured=10**9), id="captured-charge"),
    pytest.param(lambda i: _charge_event("charge.refunded", i, captured=True, refunded=True, amount_refunded=10**9),
                 id="refunded"),
    pytest.param(lambda i: _intent_event("payment_intent.payment_failed", i, "requires_payment_method"), id="declined"),
])
def test_event_about_a_hold_the_provider_still_holds_changes_nothing(client, make_product, place, card_token,
                                                                      stripe_gateway, claim):
    """A signed event is only a reason to look: the hold stays recorded as held while the provider holds it."""
    reference, intent_id = _held(make_product, place, card_token, stripe_gateway)
    history = [e.type for e in events_of(reference)]

    response = _post(client, claim(intent_id))

    assert (response.status_code, response.json()) == (200, {"result": "applied"})
    [auth] = payments_of(reference)
    assert (auth.status, auth.captured_minor, auth.refunded_minor) == (PaymentStatus.HELD.value, 0, 0)
    assert [e.type for e in events_of(reference)] == history
    assert order_row(reference).status == OrderStatus.AWAITING_APPROVAL.value


@pytest.mark.clause("PAY-5")
def test_replayed_and_stale_events_leave_a_released_hold_released(client, make_product, place, card_token,
                                                                   stripe_gateway):
    reference, intent_id = _held(make_product, place, card_token, stripe_gateway)
    stripe_gateway.cancel(intent_id)
    canceled = _intent_event("payment_intent.canceled", intent_id, "canceled")

    results = [_post(client, canceled).json(),  # delivered
               _post(client, canceled).json(),  # redelivered: same event id
               _post(client, _intent_event("payment_intent.canceled", intent_id, "canceled")).json(),  # sent again
               # older events about the hold, arriving late
               _post(client, _intent_event("payment_intent.amount_capturable_updated", intent_id,
                                           "requires_capture")).json(),
               _post(client, _intent_event("payment_intent.succeeded", intent_id, "requires_capture")).json()]

    assert results == [{"result": "applied"}, {"result": "duplicate"}] + [{"result": "applied"}] * 3
    assert payments_of(reference)[0].status == PaymentStatus.RELEASED.value
    assert [e.type for e in events_of(reference)].count("payment_released") == 1


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-3.6")
@pytest.mark.parametrize("order", [("held", "canceled"), ("canceled", "held")], ids=["in-order", "reordered"])
def test_events_of_a_hold_cancelled_before_they_arrive_agree_in_any_order(client, make_product, place, card_token,
                                                                          browser_3ds, stripe_gateway, order):
    """The client authenticated, then the hold was cancelled at the provider, then both events come in: whatever
    their order, the shop sees no hold, so the order still waits for a payment and no confirmation is sent."""
    reference, intent_id, client_secret = _awaiting_3ds(make_product, place, card_token)
    browser_3ds(client_secret, True)
    stripe_gateway.cancel(intent_id)
    events = {"held": _intent_event("payment_intent.amount_capturable_updated", intent_id, "requires_capture"),
              "canceled": _intent_event("payment_intent.canceled", intent_id, "canceled")}

    for name in order:
        assert _post(client, events[name]).json() == {"result": "applied"}

    assert payments_of(reference)[0].status == PaymentStatus.DECLINED.value
    assert order_row(reference).status == OrderStatus.PENDING_PAYMENT.value
    assert outbox_of(reference) == []
    assert "payment_authorized" not in [e.type for e in events_of(reference)]


def test_capture_and_refund_at_the_provider_are_recorded_as_the_provider_reports(client, make_product, place,
                                                                                card_token, stripe_gateway,
                                                                                stripe_test_client):
    """Amounts come from the provider, not from the event body (which here claims far more)."""
    reference, intent_id = _held(make_product, place, card_token, stripe_gateway)
    total = payments_of(reference)[0].amount_minor
    shipped, returned = total * 2 // 3, total // 5
    stripe_test_client.v1.payment_intents.capture(intent_id, params={"amount_to_capture": shipped})

    assert _post(client, _charge_event("charge.captured", intent_id, captured=True, amount_captured=total * 10)).json() \
        == {"result": "applied"}
    assert _post(client, _intent_event("payment_intent.succeeded", intent_id, "succeeded")).json() == \
        {"result": "applied"}  # the same change told again
    [auth] = payments_of(reference)
    assert (auth.status, auth.captured_minor, auth.refunded_minor) == (PaymentStatus.PARTIALLY_CAPTURED.value, shipped, 0)

    stripe_test_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": returned})
    for _ in range(2):
        assert _post(client, _charge_event("charge.refunded", intent_id, captured=True, amount_refunded=total)).json() \
            == {"result": "applied"}

    [auth] = payments_of(reference)
    assert (auth.status, auth.captured_minor, auth.refunded_minor) == (PaymentStatus.REFUNDED.value, shipped, returned)
    captured = [e.data for e in events_of(reference) if e.type == "payment_captured"]
    refunded = [e.data for e in events_of(reference) if e.type == "payment_refunded"]
    assert [d["amount_minor"] for d in captured] == [shipped]
    assert [d["amount_minor"] for d in refunded] == [returned]


# -- size of the body ----------------------------------------------------------------------------


def _deliver_raw(headers: list[tuple[bytes, bytes]], chunk: bytes, chunks: int | None) -> tuple[int, int]:
    """Drive the route as the ASGI server would, handing out `chunks` body chunks (None: without end).

    Returns the answer's status and how many body bytes the route took in.
    """
    taken, status = 0, None
    handed = 0

    async def receive():
        nonlocal taken, handed
        handed += 1
        last = chunks is not None and handed >= chunks
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": not last}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/stripe/webhook", "raw_path": b"/api/stripe/webhook", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"shop.test"), (b"content-type", b"application/json"), *headers],
             "client": ("203.0.113.9", 50000), "server": ("shop.test", 443)}
    run_async(api(scope, receive, send))
    return status, taken


def test_body_larger_than_the_limit_is_refused_by_its_declared_length_before_reading(database):
    status, taken = _deliver_raw([(b"content-length", str(MAX_WEBHOOK_BODY_BYTES + 1).encode())], b"x" * 65536, None)

    assert (status, taken) == (413, 0)


@pytest.mark.parametrize("headers", [
    pytest.param([(b"transfer-encoding", b"chunked")], id="no-length"),
    pytest.param([(b"content-length", b"100")], id="false-length"),
])
def test_body_without_a_true_length_is_read_no_further_than_the_limit(database, headers):
    chunk = b"x" * 65536

    status, taken = _deliver_raw(headers, chunk, None)  # a client that never stops sending

    assert status == 413
    assert taken <= MAX_WEBHOOK_BODY_BYTES + len(chunk)


def test_oversized_event_through_http_is_refused_and_not_recorded(client):
    event_id = f"evt_{secrets.token_hex(8)}"
    payload = json.loads(_event("customer.created", {"id": "cus_big", "object": "customer"}, event_id))
    payload["data"]["object"]["padding"] = "x" * MAX_WEBHOOK_BODY_BYTES
    body = json.dumps(payload).encode()

    response = _post(client, body)

    assert response.status_code == 413
    assert not _recorded(event_id)
    assert _post(client, _event("customer.created", {"id": "cus_small", "object": "customer"})).status_code == 200
