"""The provider side of the back office, through the gateway against the sandbox (Stripe SDK, Stripe's API).

Capture exactly what shipped (once; the rest of the hold released), new holds off-session on the saved
card, refunds of captured money, cancelling holds; each with an idempotency key that makes a retry move
money once. The sandbox behaviours these rely on are adaptations of localstripe
(`localstripe_server._adapt_localstripe`), so they are checked here as Stripe documents them.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer

import pytest
import stripe

from storefront.adapters import localstripe_server, sandbox
from storefront.adapters.stripe_gateway import (
    Authorization,
    Capture,
    CardDeclined,
    PaymentGatewayError,
    Refund,
    StripeGateway,
)
from storefront.domain.money import Money
from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET
from tests.integration.test_stripe_gateway import _Inbox

VISA_OK = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"  # saves fine, every charge declined (code card_declined)
SETUP_SKIPS_3DS = "4000002500003155"  # 3-D Secure on-session; off-session fine once set up
ALWAYS_3DS = "4000002760003184"  # 3-D Secure on every payment, off-session included
VISA_CUSTOMER = timedelta(days=7)
VISA_MERCHANT = timedelta(days=4, hours=18)


def _hold(gateway, card, minor: int = 1_000_000, currency: str = "CHF", key: str = "") -> Authorization:
    auth = gateway.authorize(Money(minor, currency), card.customer_id, card.card_id, key or f"hold-{time.time_ns()}")
    assert auth.status == "held"
    return auth


def _charge(client: stripe.StripeClient, intent_id: str):
    return client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}).latest_charge


def _intents_of(client: stripe.StripeClient, customer_id: str) -> list:
    # every page: the session's sandbox holds more than one page of intents
    pages = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [i for i in pages if i.customer == customer_id]


def _near(moment: datetime | None, expected: datetime, slack: timedelta = timedelta(seconds=10)) -> bool:
    return moment is not None and abs(moment - expected) < slack


# -- capture: exactly what shipped, once ----------------------------------------------------------


def test_capture_of_the_whole_hold_releases_nothing(stripe_gateway, saved_card):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 845_000, "EUR")

    capture = stripe_gateway.capture(auth.intent_id, amount_minor=845_000, idempotency_key="cap-whole")

    assert capture == Capture(auth.intent_id, 845_000, "EUR", 0)
    after = stripe_gateway.retrieve(auth.intent_id)
    assert (after.status, after.captured_minor, after.refunded_minor) == ("captured", 845_000, 0)


def test_partial_capture_releases_the_rest_reported_as_amount_refunded_not_as_a_refund(
        stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 1_000_000, "CHF")

    capture = stripe_gateway.capture(auth.intent_id, amount_minor=600_000, idempotency_key="cap-part")

    assert capture == Capture(auth.intent_id, 600_000, "CHF", released_minor=400_000)
    charge = _charge(stripe_test_client, auth.intent_id)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (1_000_000, 600_000, 400_000)
    assert charge.captured is True and list(charge.refunds.data) == []  # Stripe books no refund for a release
    intent = stripe_test_client.v1.payment_intents.retrieve(auth.intent_id)
    assert (intent.status, intent.amount_received, intent.amount_capturable) == ("succeeded", 600_000, 0)
    after = stripe_gateway.retrieve(auth.intent_id)
    assert (after.status, after.captured_minor, after.refunded_minor) == ("captured", 600_000, 0)


def test_capture_retried_with_its_key_captures_once(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 500_000, "USD")

    first = stripe_gateway.capture(auth.intent_id, amount_minor=300_000, idempotency_key="cap-retry")
    again = stripe_gateway.capture(auth.intent_id, amount_minor=300_000, idempotency_key="cap-retry")

    assert first == again == Capture(auth.intent_id, 300_000, "USD", 200_000)
    assert _charge(stripe_test_client, auth.intent_id).amount_captured == 300_000


def test_an_intent_is_captured_once(stripe_gateway, saved_card):
    """Standard Stripe: the first capture ends the hold. The same capture under another key is recognised;
    any other is refused, so a second shipment needs a new hold."""
    card = saved_card()
    auth = _hold(stripe_gateway, card, 500_000, "USD")
    stripe_gateway.capture(auth.intent_id, amount_minor=200_000, idempotency_key="cap-once-1")

    same = stripe_gateway.capture(auth.intent_id, amount_minor=200_000, idempotency_key="cap-once-2")
    with pytest.raises(PaymentGatewayError) as refused:
        stripe_gateway.capture(auth.intent_id, amount_minor=100_000, idempotency_key="cap-once-3")

    assert same == Capture(auth.intent_id, 200_000, "USD", 300_000)
    assert refused.value.code == "payment_intent_unexpected_state" and not refused.value.retryable
    assert stripe_gateway.retrieve(auth.intent_id).captured_minor == 200_000


def test_capture_above_the_hold_is_refused(stripe_gateway, saved_card):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 100_000, "EUR")

    with pytest.raises(PaymentGatewayError) as refused:
        stripe_gateway.capture(auth.intent_id, amount_minor=100_001, idempotency_key="cap-too-much")

    assert refused.value.code == "amount_too_large"
    assert stripe_gateway.retrieve(auth.intent_id).status == "held"


@pytest.mark.parametrize("amount", [0, -1])
def test_capture_refund_and_off_session_hold_need_a_positive_amount(stripe_gateway, amount):
    with pytest.raises(ValueError):
        stripe_gateway.capture("pi_x", amount_minor=amount, idempotency_key="k")
    with pytest.raises(ValueError):
        stripe_gateway.refund("pi_x", amount_minor=amount, idempotency_key="k")
    with pytest.raises(ValueError):
        stripe_gateway.authorize_off_session(customer_id="cus_x", payment_method_id="card_x", amount_minor=amount,
                                             currency="CHF", idempotency_key="k", metadata={})


def test_a_cancelled_hold_cannot_be_captured(stripe_gateway, saved_card):
    card = saved_card()
    auth = _hold(stripe_gateway, card)
    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-then-capture")

    with pytest.raises(PaymentGatewayError) as refused:
        stripe_gateway.capture(auth.intent_id, amount_minor=1_000, idempotency_key="cap-cancelled")

    assert refused.value.code == "payment_intent_unexpected_state"


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_with_a_key_twice_and_again_with_another_key_is_harmless(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card)

    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-k1")
    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-k1")  # replayed answer
    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-k2")  # refused by Stripe, found done

    assert stripe_gateway.retrieve(auth.intent_id).status == "canceled"
    charge = _charge(stripe_test_client, auth.intent_id)
    assert (charge.captured, charge.amount_refunded) == (False, charge.amount)  # the whole hold released


def test_cancelling_a_captured_intent_is_refused(stripe_gateway, saved_card):
    card = saved_card()
    auth = _hold(stripe_gateway, card)
    stripe_gateway.capture(auth.intent_id, amount_minor=1_000, idempotency_key="cap-before-cancel")

    with pytest.raises(PaymentGatewayError) as refused:
        stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-captured")

    assert refused.value.code == "payment_intent_unexpected_state"


# -- refunds: of captured money, never more ---------------------------------------------------------


def test_several_partial_refunds_never_more_than_captured(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 1_000_000, "CHF")
    stripe_gateway.capture(auth.intent_id, amount_minor=700_000, idempotency_key="cap-for-refunds")

    first = stripe_gateway.refund(auth.intent_id, amount_minor=200_000, idempotency_key="ref-1")
    second = stripe_gateway.refund(auth.intent_id, amount_minor=300_000, idempotency_key="ref-2", reason="duplicate")
    with pytest.raises(PaymentGatewayError) as too_much:
        stripe_gateway.refund(auth.intent_id, amount_minor=200_001, idempotency_key="ref-3")
    rest = stripe_gateway.refund(auth.intent_id, amount_minor=200_000, idempotency_key="ref-4")
    with pytest.raises(PaymentGatewayError) as nothing_left:
        stripe_gateway.refund(auth.intent_id, amount_minor=1, idempotency_key="ref-5")

    assert isinstance(first, Refund) and first.refund_id.startswith("re_")
    assert (first.intent_id, first.amount_minor, first.currency, first.status) == (auth.intent_id, 200_000, "CHF",
                                                                                   "succeeded")
    assert second.amount_minor == 300_000 and rest.amount_minor == 200_000
    assert too_much.value.code == "amount_too_large"
    assert nothing_left.value.code == "charge_already_refunded"
    after = stripe_gateway.retrieve(auth.intent_id)
    assert (after.captured_minor, after.refunded_minor) == (700_000, 700_000)
    refunds = stripe_test_client.v1.refunds.list(params={"payment_intent": auth.intent_id}).data
    assert sorted(r.amount for r in refunds) == [200_000, 200_000, 300_000]
    assert {r.reason for r in refunds} == {"requested_by_customer", "duplicate"}
    assert {r.payment_intent for r in refunds} == {auth.intent_id}


def test_refund_retried_with_its_key_refunds_once(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card, 400_000, "EUR")
    stripe_gateway.capture(auth.intent_id, amount_minor=400_000, idempotency_key="cap-ref-retry")

    first = stripe_gateway.refund(auth.intent_id, amount_minor=150_000, idempotency_key="ref-retry")
    again = stripe_gateway.refund(auth.intent_id, amount_minor=150_000, idempotency_key="ref-retry")

    assert first == again
    assert [r.amount for r in stripe_test_client.v1.refunds.list(params={"payment_intent": auth.intent_id}).data] \
        == [150_000]
    assert stripe_gateway.retrieve(auth.intent_id).refunded_minor == 150_000


def test_an_uncaptured_hold_is_not_refunded(stripe_gateway, saved_card):
    card = saved_card()
    auth = _hold(stripe_gateway, card)

    with pytest.raises(PaymentGatewayError):
        stripe_gateway.refund(auth.intent_id, amount_minor=1_000, idempotency_key="ref-uncaptured")

    assert stripe_gateway.retrieve(auth.intent_id).status == "held"


# -- holds off-session on the saved card -------------------------------------------------------------


def test_checkout_hold_saves_the_card_for_off_session_and_has_the_customer_window(
        stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    before = datetime.now(UTC)

    auth = _hold(stripe_gateway, card)

    raw = stripe_test_client.v1.payment_intents.retrieve(auth.intent_id, params={"expand": ["latest_charge"]})
    assert raw.setup_future_usage == "off_session"
    assert raw.latest_charge.payment_method_details.card.brand == "visa"
    assert _near(auth.capture_before, before + VISA_CUSTOMER)


def test_off_session_hold_on_the_saved_card(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()
    _hold(stripe_gateway, card)  # the checkout's hold
    before = datetime.now(UTC)

    renewal = stripe_gateway.authorize_off_session(
        customer_id=card.customer_id, payment_method_id=card.card_id, amount_minor=420_000, currency="chf",
        idempotency_key="renew-1", metadata={"order": "W-42", "purpose": "renewal"})

    assert renewal.status == "held" and renewal.amount == Money(420_000, "CHF")
    assert renewal.client_secret is None and renewal.decline_code is None
    assert _near(renewal.capture_before, before + VISA_MERCHANT)  # merchant-initiated: shorter for Visa
    raw = stripe_test_client.v1.payment_intents.retrieve(renewal.intent_id)
    assert (raw.capture_method, raw.customer, raw.payment_method) == ("manual", card.customer_id, card.card_id)
    assert raw.metadata.to_dict() == {"order": "W-42", "purpose": "renewal"}


def test_off_session_hold_retried_with_its_key_holds_once(stripe_gateway, saved_card, stripe_test_client):
    card = saved_card()

    kwargs = dict(customer_id=card.customer_id, payment_method_id=card.card_id, amount_minor=99_000, currency="EUR",
                  idempotency_key="renew-twice", metadata={"order": "W-7"})
    first = stripe_gateway.authorize_off_session(**kwargs)
    again = stripe_gateway.authorize_off_session(**kwargs)

    assert first.intent_id == again.intent_id
    assert [i.id for i in _intents_of(stripe_test_client, card.customer_id)] == [first.intent_id]


def test_off_session_decline_raises_with_the_issuers_reason(stripe_gateway, saved_card, localstripe):
    card = saved_card()
    _hold(stripe_gateway, card)
    localstripe.decline_card(card.card_id, "insufficient_funds")  # the card was good at checkout, not any more

    with pytest.raises(CardDeclined) as declined:
        stripe_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                             amount_minor=250_000, currency="USD", idempotency_key="renew-broke",
                                             metadata={})

    assert declined.value.decline_code == "insufficient_funds" and not declined.value.retryable


def test_off_session_decline_of_a_card_declined_at_every_charge(stripe_gateway, saved_card):
    card = saved_card(DECLINED_AT_CHARGE)

    with pytest.raises(CardDeclined) as declined:
        stripe_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                             amount_minor=250_000, currency="USD", idempotency_key="renew-0341",
                                             metadata={})

    assert declined.value.decline_code == "card_declined"


def test_off_session_card_needing_authentication_asks_for_the_client(stripe_gateway, saved_card, stripe_test_client):
    """Without a set-up (no earlier authenticated payment saved for later), 4000002500003155 cannot pay off-session."""
    card = saved_card(SETUP_SKIPS_3DS)

    auth = stripe_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                                amount_minor=300_000, currency="EUR", idempotency_key="renew-3ds",
                                                metadata={})

    assert (auth.status, auth.decline_code) == ("requires_action", "authentication_required")
    assert auth.intent_id and auth.client_secret and auth.client_secret.startswith(f"{auth.intent_id}_secret_")
    raw = stripe_test_client.v1.payment_intents.retrieve(auth.intent_id)
    assert raw.status == "requires_payment_method"  # as Stripe leaves it: the client must come back
    assert raw.last_payment_error.code == "authentication_required"


def test_off_session_hold_after_an_authenticated_checkout_needs_no_authentication(
        stripe_gateway, saved_card, browser_3ds):
    card = saved_card(SETUP_SKIPS_3DS)
    checkout = stripe_gateway.authorize(Money(300_000, "EUR"), card.customer_id, card.card_id, "hold-3ds-setup")
    browser_3ds(checkout.client_secret, True)  # the client authenticates once, at checkout

    renewal = stripe_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                                   amount_minor=300_000, currency="EUR",
                                                   idempotency_key="renew-after-setup", metadata={})

    assert renewal.status == "held"


def test_card_that_always_needs_authentication_cannot_be_held_off_session(stripe_gateway, saved_card, browser_3ds):
    card = saved_card(ALWAYS_3DS)
    checkout = stripe_gateway.authorize(Money(300_000, "EUR"), card.customer_id, card.card_id, "hold-always-3ds")
    browser_3ds(checkout.client_secret, True)

    renewal = stripe_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                                   amount_minor=300_000, currency="EUR",
                                                   idempotency_key="renew-always-3ds", metadata={})

    assert (renewal.status, renewal.decline_code) == ("requires_action", "authentication_required")


# -- a hold that lapses ---------------------------------------------------------------------------


def test_an_expired_hold_reads_expired_and_cannot_be_captured(stripe_gateway, saved_card, localstripe,
                                                              stripe_test_client):
    card = saved_card()
    auth = _hold(stripe_gateway, card)

    localstripe.expire_hold(auth.intent_id)

    assert stripe_gateway.retrieve(auth.intent_id).status == "expired"
    assert stripe_test_client.v1.payment_intents.retrieve(auth.intent_id).cancellation_reason == "automatic"
    with pytest.raises(PaymentGatewayError):
        stripe_gateway.capture(auth.intent_id, amount_minor=1_000, idempotency_key="cap-expired")
    stripe_gateway.cancel(auth.intent_id, idempotency_key="cancel-expired")  # nothing left to release: no error
    with pytest.raises(localstripe_server.LocalStripeError):
        localstripe.expire_hold(auth.intent_id)  # only a held intent can lapse


def test_an_expired_hold_is_told_by_signed_events(stripe_gateway, saved_card, localstripe):
    inbox = ThreadingHTTPServer(("127.0.0.1", 0), _Inbox)
    inbox.received = []  # type: ignore[attr-defined]
    threading.Thread(target=inbox.serve_forever, daemon=True).start()
    localstripe.register_webhook(f"http://127.0.0.1:{inbox.server_port}/", SANDBOX_WEBHOOK_SECRET, name="expiry-inbox",
                                 events=["charge.expired", "payment_intent.canceled"])
    try:
        auth = _hold(stripe_gateway, saved_card())
        localstripe.expire_hold(auth.intent_id)
        deadline, seen = time.monotonic() + 10, set()
        while time.monotonic() < deadline and len(seen) < 2:
            seen = set()
            for body, header in list(inbox.received):  # type: ignore[attr-defined]
                event = stripe_gateway.verify_webhook(body, header)
                obj = event.data.object
                if auth.intent_id in (obj.id, getattr(obj, "payment_intent", None)):
                    seen.add(event.type)
            time.sleep(0.1)
    finally:
        localstripe.register_webhook("http://127.0.0.1:9/", SANDBOX_WEBHOOK_SECRET, name="expiry-inbox", events=[])
        inbox.shutdown()

    assert seen == {"charge.expired", "payment_intent.canceled"}


# -- the sandbox as Stripe ---------------------------------------------------------------------------


def test_same_idempotency_key_with_other_parameters_is_refused(stripe_test_client, saved_card):
    card = saved_card()
    params = {"amount": 1000, "currency": "eur", "customer": card.customer_id, "payment_method": card.card_id,
              "capture_method": "manual", "confirm": True}

    first = stripe_test_client.v1.payment_intents.create(params=params, options={"idempotency_key": "raw-key"})
    replay = stripe_test_client.v1.payment_intents.create(params=params, options={"idempotency_key": "raw-key"})
    with pytest.raises(stripe.IdempotencyError):
        stripe_test_client.v1.payment_intents.create(params={**params, "amount": 2000},
                                                     options={"idempotency_key": "raw-key"})

    assert replay.id == first.id
    assert replay.last_response.headers.get("Idempotent-Replayed") == "true"
    assert [i.id for i in _intents_of(stripe_test_client, card.customer_id)] == [first.id]


def test_a_refused_request_is_not_remembered_under_its_key(stripe_gateway, saved_card):
    """Stripe keeps only the results of requests that ran: a refused capture may be tried again with its key."""
    card = saved_card()
    auth = _hold(stripe_gateway, card, 100_000, "EUR")
    with pytest.raises(PaymentGatewayError):
        stripe_gateway.capture(auth.intent_id, amount_minor=100_001, idempotency_key="cap-refused-then-ok")

    with pytest.raises(PaymentGatewayError):  # same key, same parameters: refused again, not replayed from a cache
        stripe_gateway.capture(auth.intent_id, amount_minor=100_001, idempotency_key="cap-refused-then-ok")


def test_sandbox_refuses_unknown_setup_future_usage(stripe_test_client, saved_card):
    card = saved_card()

    with pytest.raises(stripe.InvalidRequestError):
        stripe_test_client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "eur", "customer": card.customer_id, "payment_method": card.card_id,
            "setup_future_usage": "forever"})


@pytest.mark.parametrize(
    ("brand", "initiator", "window"),
    [
        ("visa", "customer", timedelta(days=7)),
        ("visa", "merchant", timedelta(days=4, hours=18)),
        ("mastercard", "customer", timedelta(days=7)),
        ("mastercard", "merchant", timedelta(days=7)),
        ("amex", "merchant", timedelta(days=7)),
        ("discover", "merchant", timedelta(days=7)),
        ("unionpay", "merchant", timedelta(days=7)),
    ],
)
def test_hold_windows_follow_the_rules_table(brand, initiator, window):
    assert localstripe_server.hold_window_seconds(brand, initiator) == window.total_seconds()


def test_capture_and_refund_results_hold_no_card_number_or_security_code():
    for cls in (Capture, Refund):
        names = {f.name for f in dataclasses.fields(cls)}
        assert not names & {"number", "card_number", "pan", "cvc", "cvv", "last4"}


def test_a_sandbox_is_reused_only_when_it_runs_these_adaptations(localstripe):
    """A sandbox left running by an older start would refuse setup_future_usage at checkout: not reused."""
    assert localstripe_server.is_adapted(localstripe.url)
    assert localstripe_server.ensure_running(localstripe.port).url == localstripe.url
    assert not localstripe_server.is_adapted("http://127.0.0.1:9")


@pytest.fixture(scope="module")
def capable_gateway(localstripe):
    """An account with multicapture and extended authorization turned on in the shop's settings."""
    return StripeGateway(sandbox.SECRET_KEY, "whsec_test", api_base=localstripe.url, sandbox=True,
                         multicapture=True, extended_authorization=True)


@pytest.mark.clause("PAY-5")
def test_multicapture_captures_a_hold_several_times_and_the_final_capture_releases_the_rest(
        capable_gateway, saved_card, stripe_test_client):
    card = saved_card()
    auth = _hold(capable_gateway, card, 1_000_000)
    assert auth.multicapture

    first = capable_gateway.capture(auth.intent_id, amount_minor=300_000, idempotency_key=f"{auth.intent_id}:c1",
                                    final=False)
    again = capable_gateway.capture(auth.intent_id, amount_minor=300_000, idempotency_key=f"{auth.intent_id}:c1",
                                    final=False)  # a retry with its key captures once
    assert first.amount_minor == again.amount_minor == 300_000
    intent = stripe_test_client.v1.payment_intents.retrieve(auth.intent_id)
    assert (intent.status, intent.amount_received, intent.amount_capturable) == ("requires_capture", 300_000, 700_000)
    with pytest.raises(PaymentGatewayError) as above:
        capable_gateway.capture(auth.intent_id, amount_minor=700_001, idempotency_key=f"{auth.intent_id}:c2",
                                final=False)
    assert above.value.code == "amount_too_large"

    last = capable_gateway.capture(auth.intent_id, amount_minor=200_000, idempotency_key=f"{auth.intent_id}:c3")

    assert (last.amount_minor, last.released_minor) == (500_000, 500_000)
    charge = _charge(stripe_test_client, auth.intent_id)
    assert (charge.amount_captured, charge.amount_refunded) == (500_000, 500_000)  # released, not refunded
    assert capable_gateway.retrieve(auth.intent_id).refunded_minor == 0


@pytest.mark.clause("PAY-5")
def test_a_hold_without_multicapture_cannot_be_captured_twice(stripe_gateway, saved_card):
    auth = _hold(stripe_gateway, saved_card())
    assert not auth.multicapture

    with pytest.raises(PaymentGatewayError) as refused:
        stripe_gateway.capture(auth.intent_id, amount_minor=100, idempotency_key=f"{auth.intent_id}:c1", final=False)

    assert refused.value.code == "payment_intent_multicapture_not_available"


@pytest.mark.clause("PAY-5")
def test_extended_authorization_gives_the_hold_thirty_days_when_asked(capable_gateway, saved_card):
    before = datetime.now(UTC)
    card = saved_card()
    auth = _hold(capable_gateway, card)
    assert _near(auth.capture_before, before + timedelta(days=30))
    off = capable_gateway.authorize_off_session(customer_id=card.customer_id, payment_method_id=card.card_id,
                                                amount_minor=5_000,
                                                currency="CHF", idempotency_key=f"off-{time.time_ns()}", metadata={})
    assert _near(off.capture_before, before + timedelta(days=30))
