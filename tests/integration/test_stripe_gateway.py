"""The Stripe gateway against the localstripe sandbox (same API and SDK as real Stripe).

What localstripe cannot show (card brands other than Visa, what real Stripe reports about captures,
refunds and lapsed holds) is proven on Stripe objects built locally with `construct_from`. Capture,
refund and off-session holds through the gateway are in `test_stripe_back_office.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from storefront.adapters import localstripe_server, sandbox
from storefront.adapters.stripe_gateway import (
    Authorization,
    CardDeclined,
    CardDetails,
    InvalidWebhook,
    SavedCard,
    StripeGateway,
    card_brand_of,
)
from storefront.domain.cards import brand_refusal
from storefront.domain.money import Money
from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET

VISA_OK = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"
DECLINED_WHEN_SAVED = "4000000000000002"
NEEDS_3DS = "4000002500003155"


def _charge(client: stripe.StripeClient, intent_id: str):
    return client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}).latest_charge


# -- holds (PAY-5) -----------------------------------------------------------------------------


@pytest.mark.clause("PAY-5")
@pytest.mark.parametrize(
    "amount",
    [Money(1_845_050, "CHF"), Money(2_380_000, "JPY"), Money(99, "EUR")],
    ids=["CHF-18450.50", "JPY-2380000-zero-decimal", "EUR-0.99"],
)
def test_hold_is_manual_capture_for_the_exact_amount(stripe_gateway, saved_card, stripe_test_client, amount):
    card = saved_card()

    auth = stripe_gateway.authorize(amount, card.customer_id, card.card_id, f"hold-{amount}", "Order W-1", {"order": "W-1"})

    assert auth.status == "held" and auth.held
    assert auth.amount == amount
    assert auth.client_secret is None and auth.decline_code is None
    assert auth.capture_before is not None  # Stripe's deadline for the hold, from the charge
    raw = stripe_test_client.v1.payment_intents.retrieve(auth.intent_id, params={"expand": ["latest_charge"]})
    assert raw.capture_method == "manual"
    assert raw.amount == amount.minor and raw.currency == amount.currency.lower()
    assert raw.latest_charge.captured is False  # held, not charged
    assert raw.metadata["order"] == "W-1"
    assert raw.metadata["description"] == "Order W-1"  # sandbox refuses `description`
    assert raw.setup_future_usage == "off_session"  # the card is kept for the shipments and renewals


@pytest.mark.clause("PAY-5")
def test_capture_before_is_read_from_the_charge_when_stripe_reports_it(stripe_gateway):
    deadline = 1_900_000_000
    intent = stripe.PaymentIntent.construct_from(
        {
            "id": "pi_local",
            "object": "payment_intent",
            "status": "requires_capture",
            "amount": 500_00,
            "currency": "usd",
            "client_secret": "pi_local_secret_x",
            "latest_charge": {
                "id": "ch_local",
                "object": "charge",
                "payment_method_details": {"type": "card", "card": {"brand": "visa", "capture_before": deadline}},
            },
        },
        "sk_test_local",
    )

    auth = stripe_gateway._authorization(intent)

    assert auth.status == "held"
    assert auth.amount == Money(50000, "USD")
    assert auth.capture_before is not None and auth.capture_before.timestamp() == deadline
    assert auth.capture_before.utcoffset().total_seconds() == 0


def test_retrieve_reports_what_was_captured_and_refunded_at_the_provider(stripe_gateway, saved_card, stripe_test_client):
    """The sandbox books the released rest of a partial capture as a refund; only real refunds count as refunded."""
    card = saved_card()
    auth = stripe_gateway.authorize(Money(1_000_000, "CHF"), card.customer_id, card.card_id, "hold-then-capture")
    assert (auth.captured_minor, auth.refunded_minor) == (0, 0)

    stripe_test_client.v1.payment_intents.capture(auth.intent_id, params={"amount_to_capture": 600_000})
    captured = stripe_gateway.retrieve(auth.intent_id)
    stripe_test_client.v1.refunds.create(params={"payment_intent": auth.intent_id, "amount": 100_000})
    refunded = stripe_gateway.retrieve(auth.intent_id)

    assert (captured.status, captured.captured_minor, captured.refunded_minor) == ("captured", 600_000, 0)
    assert (refunded.status, refunded.captured_minor, refunded.refunded_minor) == ("captured", 600_000, 100_000)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # 60 000 of 100 000 captured, 40 000 released (Stripe counts it as refunded), then 10 000 refunded
        ({"status": "succeeded", "amount_received": 60_000,
          "latest_charge": {"id": "ch_1", "object": "charge", "amount": 100_000, "amount_captured": 60_000,
                            "amount_refunded": 50_000}},
         ("captured", 60_000, 10_000)),
        ({"status": "succeeded", "amount_received": 60_000, "latest_charge": "ch_1"}, ("captured", 60_000, 0)),
        ({"status": "requires_capture", "amount_received": 0}, ("held", 0, 0)),
        ({"status": "canceled", "cancellation_reason": "automatic"}, ("expired", 0, 0)),
        ({"status": "canceled", "cancellation_reason": "expired"}, ("expired", 0, 0)),
        ({"status": "canceled", "cancellation_reason": "requested_by_customer"}, ("canceled", 0, 0)),
        ({"status": "canceled", "cancellation_reason": None}, ("canceled", 0, 0)),
    ],
    ids=["captured-then-refunded", "captured-charge-not-expanded", "held", "lapsed-automatic", "lapsed-expired", "cancelled-on-request", "cancelled"],
)
def test_what_real_stripe_reports_about_an_intent_is_read(fields, expected):
    """Real Stripe says what was received and refunded, and why it cancelled an intent (a lapsed hold)."""
    real = StripeGateway("sk_test_constructed_only", "whsec_unused")
    intent = stripe.PaymentIntent.construct_from(
        {"id": "pi_real", "object": "payment_intent", "amount": 100_000, "currency": "usd", "client_secret": "s",
         **fields}, "sk_test_constructed_only")

    auth = real._authorization(intent)

    assert (auth.status, auth.captured_minor, auth.refunded_minor) == expected


@pytest.mark.clause("GTC-3.5")
def test_cancel_releases_the_hold(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = stripe_gateway.authorize(Money(250_000, "EUR"), card.customer_id, card.card_id, "hold-cancel")

    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-1")

    assert stripe_gateway.retrieve(auth.intent_id).status == "canceled"
    assert _charge(stripe_test_client, auth.intent_id).captured is False
    stripe_gateway.cancel(auth.intent_id)  # a retry is harmless
    assert stripe_gateway.retrieve(auth.intent_id).status == "canceled"


# -- declines (PAY-3) --------------------------------------------------------------------------


@pytest.mark.clause("PAY-3")
def test_card_declined_at_authorization_is_reported_not_raised(stripe_gateway, saved_card):
    card = saved_card(DECLINED_AT_CHARGE)  # this card saves fine and fails when charged

    auth = stripe_gateway.authorize(Money(120_000, "USD"), card.customer_id, card.card_id, "hold-declined")

    assert auth.status == "declined" and not auth.held
    assert auth.decline_code == "card_declined"
    assert auth.decline_message
    assert auth.amount == Money(120_000, "USD")
    assert auth.client_secret is None


@pytest.mark.clause("PAY-3")
def test_card_declined_when_saved_raises_card_declined(stripe_gateway, card_token):
    with pytest.raises(CardDeclined) as caught:
        stripe_gateway.save_card(card_token(DECLINED_WHEN_SAVED), "client@example.com", "Ada Client", "save-declined")

    assert caught.value.decline_code == "card_declined"
    assert caught.value.message
    assert not caught.value.retryable


# -- 3-D Secure (PAY-4) ------------------------------------------------------------------------


@pytest.mark.clause("PAY-4")
def test_3ds_card_asks_for_action_then_is_held_after_authentication(stripe_gateway, saved_card, browser_3ds):
    card = saved_card(NEEDS_3DS)

    auth = stripe_gateway.authorize(Money(780_000, "EUR"), card.customer_id, card.card_id, "hold-3ds")

    assert auth.status == "requires_action"
    assert auth.client_secret and auth.client_secret.startswith(f"{auth.intent_id}_secret_")
    browser_3ds(auth.client_secret, True)
    confirmed = stripe_gateway.retrieve(auth.intent_id)
    assert confirmed.status == "held" and confirmed.amount == Money(780_000, "EUR")
    assert confirmed.client_secret is None  # no reason to hand the secret out again


@pytest.mark.clause("PAY-4")
def test_3ds_failed_authentication_is_a_decline(stripe_gateway, saved_card, browser_3ds):
    card = saved_card(NEEDS_3DS)
    auth = stripe_gateway.authorize(Money(780_000, "EUR"), card.customer_id, card.card_id, "hold-3ds-fail")

    browser_3ds(auth.client_secret, False)

    after = stripe_gateway.retrieve(auth.intent_id)
    assert after.status == "declined"
    assert after.decline_code == "payment_intent_authentication_failure"


# -- cards and brands (PAY-1, PAY-2) -----------------------------------------------------------


@pytest.mark.clause("PAY-1")
def test_saved_card_and_token_report_brand_and_last4(stripe_gateway, saved_card, card_token):
    card = saved_card()
    details = stripe_gateway.card_of_token(card_token("4000056655665556"))

    assert isinstance(card, SavedCard)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2030)
    assert card.customer_id.startswith("cus_") and card.card_id.startswith("card_")
    assert details == CardDetails("visa", "5556", 12, 2030)  # the sandbox calls every card Visa


@pytest.mark.clause("PAY-2")
def test_gateway_results_hold_no_card_number_or_security_code(saved_card):
    card = saved_card()
    for cls in (SavedCard, CardDetails, Authorization):
        names = {f.name for f in dataclasses.fields(cls)}
        assert not names & {"number", "card_number", "pan", "cvc", "cvv"}
    assert VISA_OK not in repr(card) and "123" not in repr(card).replace("2030", "")


@pytest.mark.clause("PAY-1")
@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"object": "card", "id": "card_1", "brand": "JCB"}, "jcb"),
        ({"object": "card", "id": "card_2", "brand": "Diners Club"}, "diners"),
        ({"object": "card", "id": "card_3", "brand": "American Express"}, "amex"),
        ({"object": "card", "id": "card_4", "brand": "MasterCard"}, "mastercard"),
        ({"object": "card", "id": "card_5", "brand": "UnionPay"}, "unionpay"),
        ({"object": "card", "id": "card_6", "brand": "Discover"}, "discover"),
        ({"object": "card", "id": "card_7", "brand": "Visa"}, "visa"),
        ({"object": "card", "id": "card_8", "brand": "Unknown"}, "unknown"),
        ({"object": "card", "id": "card_9", "brand": "Some New Scheme"}, "unknown"),
        ({"object": "payment_method", "id": "pm_1", "card": {"brand": "jcb"}}, "jcb"),
        ({"object": "payment_method", "id": "pm_2", "card": {"brand": "amex"}}, "amex"),
        ({"object": "charge", "id": "ch_1", "payment_method_details": {"card": {"brand": "diners"}}}, "diners"),
    ],
    ids=lambda v: v if isinstance(v, str) else v["id"],
)
def test_brand_is_read_from_sources_payment_methods_and_charges(obj, expected):
    """localstripe calls every card Visa, so other brands are proven on locally built Stripe objects."""
    cls = {"card": stripe.Card, "payment_method": stripe.PaymentMethod, "charge": stripe.Charge}[obj["object"]]

    assert card_brand_of(obj) == expected  # plain dict, as in a webhook payload
    assert card_brand_of(cls.construct_from(obj, "sk_test_local")) == expected
    refused = brand_refusal(card_brand_of(obj)) is not None
    assert refused == (expected in {"jcb", "diners", "unknown"})


@pytest.mark.clause("PAY-1")
def test_brand_is_read_through_an_expanded_payment_intent():
    via_pm = stripe.PaymentIntent.construct_from(
        {"id": "pi_1", "object": "payment_intent", "payment_method": {"id": "pm_9", "object": "payment_method", "card": {"brand": "jcb"}}},
        "sk_test_local",
    )
    via_charge = stripe.PaymentIntent.construct_from(
        {
            "id": "pi_2",
            "object": "payment_intent",
            "payment_method": "card_9",
            "latest_charge": {"id": "ch_9", "object": "charge", "payment_method_details": {"card": {"brand": "unionpay"}}},
        },
        "sk_test_local",
    )
    not_expanded = stripe.PaymentIntent.construct_from(
        {"id": "pi_3", "object": "payment_intent", "payment_method": "pm_9", "latest_charge": "ch_9"}, "sk_test_local"
    )

    assert card_brand_of(via_pm) == "jcb"
    assert card_brand_of(via_charge) == "unionpay"
    with pytest.raises(ValueError, match="pi_3"):
        card_brand_of(not_expanded)


# -- webhooks ----------------------------------------------------------------------------------


def _event_payload(event_type: str = "payment_intent.succeeded") -> bytes:
    body = {
        "id": "evt_local_1",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": "pi_local", "object": "payment_intent", "amount": 1000, "currency": "chf"}},
    }
    return json.dumps(body).encode()


def _signed(payload: bytes, secret: str = SANDBOX_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=timestamp)


def test_webhook_with_valid_signature_is_accepted(stripe_gateway):
    """Only authentic Stripe events may move a hold or a charge forward."""
    payload = _event_payload()

    event = stripe_gateway.verify_webhook(payload, _signed(payload))

    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == "pi_local"


def test_webhook_signed_by_hand_matches_stripes_scheme(stripe_gateway):
    payload = _event_payload()
    t = int(time.time())
    digest = hmac.new(SANDBOX_WEBHOOK_SECRET.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()

    assert stripe_gateway.verify_webhook(payload, f"t={t},v1={digest}").id == "evt_local_1"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p: (p.replace(b"1000", b"9000"), _signed(p)), id="tampered-payload"),
        pytest.param(lambda p: (p, _signed(p, secret="whsec_someone_else")), id="wrong-secret"),
        pytest.param(lambda p: (p, _signed(p, timestamp=int(time.time()) - 301)), id="older-than-300s"),
        pytest.param(lambda p: (p, ""), id="no-header"),
        pytest.param(lambda p: (p, "t=abc,v1=def"), id="garbled-header"),
        pytest.param(lambda p: (b"not json", _signed(b"not json")), id="signed-but-not-json"),
    ],
)
def test_webhook_forgeries_are_rejected(stripe_gateway, forge):
    payload, header = forge(_event_payload())

    with pytest.raises(InvalidWebhook):
        stripe_gateway.verify_webhook(payload, header)


def test_webhook_without_configured_secret_is_rejected(localstripe):
    gateway = StripeGateway("sk_test_local", "", api_base=localstripe.url, sandbox=True)
    payload = _event_payload()

    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(payload, _signed(payload))


class _Inbox(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]]

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((body, self.headers.get("Stripe-Signature", "")))  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_sandbox_posts_signed_events_the_gateway_accepts(localstripe, stripe_gateway, saved_card, stripe_test_client):
    """Which events localstripe sends for our flow: customer and card saved, capture, decline; none for hold or cancel."""
    inbox = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    inbox.received = []  # type: ignore[attr-defined]
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    localstripe.register_webhook(f"http://127.0.0.1:{inbox.server_port}/stripe/webhook", SANDBOX_WEBHOOK_SECRET, name="test-inbox")
    try:
        card = saved_card()
        held = stripe_gateway.authorize(Money(300_000, "CHF"), card.customer_id, card.card_id, "wh-hold")
        stripe_test_client.v1.payment_intents.capture(held.intent_id, params={"amount_to_capture": 200_000})
        canceled = stripe_gateway.authorize(Money(100_000, "CHF"), card.customer_id, card.card_id, "wh-cancel")
        stripe_gateway.cancel(canceled.intent_id)
        bad = saved_card(DECLINED_AT_CHARGE)
        stripe_gateway.authorize(Money(100_000, "CHF"), bad.customer_id, bad.card_id, "wh-decline")

        ours = {card.customer_id, bad.customer_id}
        deadline = time.monotonic() + 10
        seen: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            seen = []
            for body, header in list(inbox.received):  # type: ignore[attr-defined]
                event = stripe_gateway.verify_webhook(body, header)
                obj = event.data.object
                owner = obj.id if event.type.startswith("customer.") and obj.object == "customer" else obj.customer
                if owner in ours:
                    seen.append((event.type, obj.id))
            if len(seen) >= 6:
                break
            time.sleep(0.1)
    finally:
        localstripe.register_webhook("http://127.0.0.1:9/", SANDBOX_WEBHOOK_SECRET, name="test-inbox", events=[])
        inbox.shutdown()

    types = sorted(t for t, _ in seen)
    assert types == sorted(
        ["customer.created", "customer.source.created"] * 2 + ["payment_intent.succeeded", "payment_intent.payment_failed"]
    )
    assert ("payment_intent.succeeded", held.intent_id) in seen
    assert not any(obj_id == canceled.intent_id for _, obj_id in seen)


# -- the sandbox itself ------------------------------------------------------------------------


def test_sandbox_serves_its_stripe_js_stand_in_where_the_shop_points_the_browser(localstripe):
    with urllib.request.urlopen(sandbox.js_url(localstripe.port), timeout=5) as response:
        assert b"LOCALSTRIPE_BASE_API" in response.read()
    assert localstripe_server.is_sandbox_listening(sandbox.url(localstripe.port))


def test_ensure_running_reuses_a_listening_sandbox(localstripe):
    again = localstripe_server.ensure_running(localstripe.port)

    assert again.url == localstripe.url and not again.owned
    again.stop()  # not ours to stop
    assert localstripe_server.is_sandbox_listening(localstripe.url)


def test_ensure_running_refuses_a_port_held_by_something_else():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        with pytest.raises(localstripe_server.LocalStripeError, match="not localstripe"):
            localstripe_server.ensure_running(squatter.getsockname()[1], timeout=2)


def test_sandbox_state_file_survives_a_restart_and_is_private(tmp_path):
    state = tmp_path / "localstripe.pickle"
    port = localstripe_server.free_port()
    with localstripe_server.ensure_running(port, state_file=state) as first:
        assert first.owned
        client = stripe.StripeClient("sk_test_local", base_addresses={"api": first.url}, max_network_retries=0)
        customer = client.v1.customers.create(params={"email": "keep@example.com"})
    assert state.exists()
    with localstripe_server.start(port, state_file=state) as second:
        client = stripe.StripeClient("sk_test_local", base_addresses={"api": second.url}, max_network_retries=0)
        assert client.v1.customers.retrieve(customer.id).email == "keep@example.com"
    with localstripe_server.start(port) as empty:
        client = stripe.StripeClient("sk_test_local", base_addresses={"api": empty.url}, max_network_retries=0)
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.customers.retrieve(customer.id)


def test_sandbox_listens_on_loopback_only(localstripe):
    """The stock localstripe binds [::] (every interface) and has no authentication; ours must not."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        pytest.skip("needs Linux /proc/net/tcp")
    listening = []
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].rsplit(":", 1)
            if int(port, 16) == localstripe.port and fields[3] == "0A":  # 0A = LISTEN
                listening.append(address)

    assert listening == ["0100007F"]  # 127.0.0.1, and nothing on IPv6
