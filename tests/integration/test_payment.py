"""Card holds through the real payment sandbox (localstripe on loopback) and the real database.

Tokens are made the way Stripe.js makes them in the browser (card number in, `tok_…` out), so
the shop's code only ever sees tokens. The only fake is a gateway that reports another card brand,
because the sandbox reports every card as Visa.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from storefront.services.unit_of_work import UnitOfWork
from storefront.adapters.stripe_gateway import CardDetails, PaymentGatewayError, StripeGateway
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import payment
from storefront.domain.errors import ErrorCode
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import (
    PRICES,
    aware,
    buyer,
    events_of,
    order_row,
    outbox_of,
    payments_of,
    stock_of,
)
from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET

pytestmark = pytest.mark.usefixtures("database")

VISA_OK = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"
DECLINED_WHEN_SAVED = "4000000000000002"
NEEDS_3DS = "4000002500003155"
ACCEPTED_BRANDS = "We accept Visa, Mastercard, American Express, Discover and UnionPay. Please use one of these cards."


def _intent(stripe_test_client, intent_id):
    return stripe_test_client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})


# -- the hold (PAY-5, GTC-3.6) ------------------------------------------------------------------


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-3.6")
@pytest.mark.clause("CARD-4")
@pytest.mark.parametrize("code, currency", [("CH", "CHF"), ("JP", "JPY"), ("US", "USD")])
def test_authorize_holds_exactly_the_order_total_with_manual_capture(make_product, place, card_token, stripe_gateway,
                                                                     stripe_test_client, code, currency):
    watch = make_product()
    placed = place({watch: 1}, buyer(code))
    order = order_row(placed.reference)
    at = datetime.now(timezone.utc)

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), at=at, gw=stripe_gateway, browser=None)

    assert outcome == payment.PaymentOutcome("held")
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.HELD.value and auth.intent_id and auth.intent_id.startswith("pi_")
    assert (auth.amount_minor, auth.currency) == (order.total_minor, currency)
    assert (auth.brand, auth.last4) == ("visa", "4242")
    raw = _intent(stripe_test_client, auth.intent_id)
    assert raw.amount == order.total_minor  # minor units: cents, or whole yen
    assert raw.currency == currency.lower()
    assert raw.capture_method == "manual"
    assert raw.status == "requires_capture"
    assert raw.latest_charge.captured is False  # held, not charged
    assert raw.metadata["order"] == placed.reference
    if currency == "JPY":
        assert raw.amount == PRICES["JPY"] + 22_000
    # The order is visibly pending until the merchant approves it (GTC-3.6).
    after = order_row(placed.reference)
    assert after.status == OrderStatus.AWAITING_APPROVAL.value
    assert after.payment_customer_id == raw.customer
    # The provider's own deadline is recorded: 7 days for a Visa hold the client placed (the sandbox
    # reports it from rules/payments.toml, in whole seconds).
    assert abs(aware(auth.capture_before) - (at + timedelta(days=7))) < timedelta(seconds=5)
    # Exactly one confirmation email, queued with the hold (CARD-4).
    [email] = outbox_of(placed.reference)
    assert (email.kind, email.recipient, email.status) == ("order_confirmation", order.email, "pending")
    assert placed.reference in email.subject
    assert [e.type for e in events_of(placed.reference)][-2:] == ["payment_authorized", "email_queued"]


@pytest.mark.clause("GTC-3.4")
def test_paying_again_for_a_held_order_changes_nothing(make_product, place, card_token, stripe_gateway):
    watch = make_product()
    placed = place({watch: 1})
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None).status == "held"

    again = payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None)

    assert again.status == "held"
    assert len(payments_of(placed.reference)) == 1 and len(outbox_of(placed.reference)) == 1


@pytest.mark.clause("PAY-2")
def test_something_that_is_not_a_card_token_is_refused_before_anything(make_product, place, stripe_gateway):
    watch = make_product()
    placed = place({watch: 1})

    outcome = payment.authorize(UnitOfWork(), placed.reference, "4242424242424242", gw=stripe_gateway, browser=None)

    assert outcome.status == "declined"
    assert payments_of(placed.reference) == []


# -- refused by the issuer (PAY-3) -------------------------------------------------------------


@pytest.mark.clause("PAY-3")
@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("number", [DECLINED_AT_CHARGE, DECLINED_WHEN_SAVED], ids=["declined-at-hold", "declined-when-saved"])
def test_declined_card_tells_the_client_to_contact_the_issuer_and_a_retry_can_succeed(
        make_product, place, card_token, stripe_gateway, stripe_test_client, number):
    watch = make_product()
    placed = place({watch: 1})

    declined = payment.authorize(UnitOfWork(), placed.reference, card_token(number), gw=stripe_gateway, browser=None)

    assert declined.status == "declined"
    assert declined.code is ErrorCode.ISSUER_DECLINED and "contact your card issuer" in declined.message
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value
    assert outbox_of(placed.reference) == []
    [first] = payments_of(placed.reference)
    assert first.status == PaymentStatus.DECLINED.value and first.decline_code == "card_declined"
    if first.intent_id:  # declined at the hold: the intent exists, nothing is held on it
        assert _intent(stripe_test_client, first.intent_id).status == "requires_payment_method"
    assert events_of(placed.reference)[-1].type == "payment_declined"

    retried = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=stripe_gateway, browser=None)

    assert retried.status == "held"
    assert [p.status for p in payments_of(placed.reference)] == ["declined", "held"]
    assert order_row(placed.reference).status == OrderStatus.AWAITING_APPROVAL.value
    assert len(outbox_of(placed.reference)) == 1


# -- 3-D Secure (PAY-4) ------------------------------------------------------------------------


@pytest.mark.clause("PAY-4")
def test_3ds_requires_action_then_completed_authentication_holds(make_product, place, card_token, stripe_gateway,
                                                                 browser_3ds, stripe_test_client):
    watch = make_product()
    placed = place({watch: 1}, buyer("DE"))

    first = payment.authorize(UnitOfWork(), placed.reference, card_token(NEEDS_3DS), gw=stripe_gateway, browser=None)

    assert first.status == "requires_action"
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.REQUIRES_ACTION.value
    assert first.client_secret.startswith(f"{auth.intent_id}_secret_")
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value
    assert outbox_of(placed.reference) == []

    browser_3ds(first.client_secret, True)  # what Stripe.js does when the client completes the challenge
    done = payment.complete_authentication(UnitOfWork(), placed.reference, gw=stripe_gateway, browser=None)

    assert done.status == "held"
    assert order_row(placed.reference).status == OrderStatus.AWAITING_APPROVAL.value
    held = [p for p in payments_of(placed.reference) if p.status == PaymentStatus.HELD.value]
    assert len(held) == 1 and held[0].intent_id == auth.intent_id
    raw = _intent(stripe_test_client, auth.intent_id)
    assert raw.status == "requires_capture" and raw.amount == order_row(placed.reference).total_minor
    assert len(outbox_of(placed.reference)) == 1
    # Coming back twice (reload of the return page) changes nothing.
    assert payment.complete_authentication(UnitOfWork(), placed.reference, gw=stripe_gateway, browser=None).status == "held"
    assert len(outbox_of(placed.reference)) == 1


@pytest.mark.clause("PAY-4")
def test_abandoned_3ds_challenge_then_another_card_holds_once(make_product, place, card_token, stripe_gateway):
    """The client closes the challenge (or reloads the page) and pays with another card."""
    watch = make_product()
    placed = place({watch: 1})
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(NEEDS_3DS), gw=stripe_gateway, browser=None).status == "requires_action"

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=stripe_gateway, browser=None)

    assert outcome.status == "held"
    abandoned, held = payments_of(placed.reference)
    assert (abandoned.status, abandoned.decline_code) == (PaymentStatus.DECLINED.value, "abandoned")
    assert held.status == PaymentStatus.HELD.value
    assert stripe_gateway.retrieve(abandoned.intent_id).status == "canceled"  # no stray hold can appear later
    assert len(outbox_of(placed.reference)) == 1
    # Coming back from the abandoned challenge later does not undo or duplicate anything.
    assert payment.complete_authentication(UnitOfWork(), placed.reference, gw=stripe_gateway, browser=None).status == "held"
    assert len(outbox_of(placed.reference)) == 1


@pytest.mark.clause("PAY-4")
@pytest.mark.clause("PAY-3")
def test_failed_3ds_authentication_is_a_decline(make_product, place, card_token, stripe_gateway, browser_3ds):
    watch = make_product()
    placed = place({watch: 1})
    first = payment.authorize(UnitOfWork(), placed.reference, card_token(NEEDS_3DS), gw=stripe_gateway, browser=None)

    browser_3ds(first.client_secret, False)
    outcome = payment.complete_authentication(UnitOfWork(), placed.reference, gw=stripe_gateway, browser=None)

    assert outcome.status == "declined" and outcome.code is ErrorCode.ISSUER_DECLINED
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.DECLINED.value
    assert auth.decline_code == "payment_intent_authentication_failure"
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value
    assert outbox_of(placed.reference) == []


# -- exactly once (GTC-3.4) --------------------------------------------------------------------


@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("PAY-5")
def test_ten_concurrent_authorizations_hold_once_and_send_one_email(make_product, place, card_token, stripe_gateway,
                                                                    stripe_test_client):
    watch = make_product()
    placed = place({watch: 1})
    token = card_token(VISA_OK)
    barrier = threading.Barrier(10)

    def pay(_i):
        barrier.wait()
        return payment.authorize(UnitOfWork(), placed.reference, token, gw=stripe_gateway, browser=None)

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(pay, range(10)))

    assert {o.status for o in outcomes} <= {"held", "in_progress"}
    assert "held" in {o.status for o in outcomes}
    rows = payments_of(placed.reference)
    assert len(rows) == 1
    assert rows[0].status == PaymentStatus.HELD.value and rows[0].intent_id
    assert len(outbox_of(placed.reference)) == 1
    assert [e.type for e in events_of(placed.reference)].count("payment_authorized") == 1
    assert stripe_test_client.v1.payment_intents.retrieve(rows[0].intent_id).status == "requires_capture"
    assert order_row(placed.reference).status == OrderStatus.AWAITING_APPROVAL.value


# -- card brands (PAY-1) -----------------------------------------------------------------------


class _BrandGateway(StripeGateway):
    """The real sandbox gateway, except that the card reports another brand (localstripe says Visa for all)."""

    def __init__(self, base: StripeGateway, brand: str, *, when_saved: bool = False) -> None:
        self.__dict__.update(base.__dict__)
        self.brand, self.when_saved = brand, when_saved
        self.saved = self.authorized = 0

    def card_of_token(self, token):
        card = super().card_of_token(token)
        return card if self.when_saved else CardDetails(self.brand, card.last4, card.exp_month, card.exp_year)

    def save_card(self, *args, **kwargs):
        self.saved += 1
        card = super().save_card(*args, **kwargs)
        return type(card)(**{**card.__dict__, "brand": self.brand}) if self.when_saved else card

    def authorize(self, *args, **kwargs):
        self.authorized += 1
        return super().authorize(*args, **kwargs)


@pytest.mark.clause("PAY-1")
@pytest.mark.parametrize("brand", ["jcb", "diners", "unknown"])
def test_refused_brand_is_declined_before_any_money_moves(make_product, place, card_token, stripe_gateway, brand):
    watch = make_product()
    placed = place({watch: 1})
    gw = _BrandGateway(stripe_gateway, brand)

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=gw, browser=None)

    assert outcome.status == "declined" and outcome.code is ErrorCode.CARD_BRAND_REFUSED and outcome.message == ACCEPTED_BRANDS
    assert (gw.saved, gw.authorized) == (0, 0)  # no customer, no card saved, no intent
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.DECLINED.value and auth.decline_code == "brand_not_accepted"
    assert auth.intent_id is None and auth.brand == brand
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value
    assert outbox_of(placed.reference) == []


@pytest.mark.clause("PAY-1")
def test_brand_is_checked_again_on_the_card_the_provider_stored(make_product, place, card_token, stripe_gateway):
    watch = make_product()
    placed = place({watch: 1})
    gw = _BrandGateway(stripe_gateway, "jcb", when_saved=True)

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=gw, browser=None)

    assert outcome.status == "declined" and outcome.code is ErrorCode.CARD_BRAND_REFUSED and outcome.message == ACCEPTED_BRANDS
    assert gw.authorized == 0
    assert payments_of(placed.reference)[0].intent_id is None


# -- payment window (GTC-3.5) ------------------------------------------------------------------


@pytest.mark.clause("GTC-3.5")
def test_unpaid_order_is_cancelled_when_the_window_closes_and_its_stock_released(make_product, place, card_token,
                                                                                   stripe_gateway):
    watch = make_product(stock=2, max_per_order=2)
    placed_at = datetime.now(timezone.utc) - timedelta(minutes=31)
    placed = place({watch: 2}, at=placed_at)
    assert stock_of(watch) == 0
    assert placed.reference not in payment.expire_unpaid(UnitOfWork(), placed_at + timedelta(minutes=29))  # still within the window
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value

    cancelled = payment.expire_unpaid(UnitOfWork())

    assert placed.reference in cancelled
    order = order_row(placed.reference)
    assert order.status == OrderStatus.CANCELLED.value
    assert stock_of(watch) == 2
    types = [e.type for e in events_of(placed.reference)]
    assert types[-2:] == ["cancelled", "stock_released"]
    [notice] = outbox_of(placed.reference)
    assert notice.kind == "order_cancelled" and notice.recipient == order.email
    assert placed.reference in notice.subject and "Nothing has been charged" in notice.text_body
    # Running the job again, or paying now, changes nothing.
    assert placed.reference not in payment.expire_unpaid(UnitOfWork())
    late = payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None)
    assert late.status == "cancelled"
    assert payments_of(placed.reference) == [] and len(outbox_of(placed.reference)) == 1
    assert stock_of(watch) == 2


@pytest.mark.clause("GTC-3.5")
def test_paying_after_the_window_cancels_instead_of_holding(make_product, place, card_token, stripe_gateway):
    watch = make_product()
    placed_at = datetime.now(timezone.utc) - timedelta(minutes=45)
    placed = place({watch: 1}, at=placed_at)

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None)

    assert outcome.status == "cancelled" and outcome.code is ErrorCode.PAYMENT_WINDOW_CLOSED
    assert order_row(placed.reference).status == OrderStatus.CANCELLED.value
    assert payments_of(placed.reference) == []
    assert stock_of(watch) == 5


class _SlowGateway(StripeGateway):
    """The real sandbox gateway; the payment window closes (the expiry job runs) while the issuer answers."""

    def __init__(self, base: StripeGateway, expire_at: datetime) -> None:
        self.__dict__.update(base.__dict__)
        self.expire_at = expire_at

    def authorize(self, *args, **kwargs):
        result = super().authorize(*args, **kwargs)
        payment.expire_unpaid(UnitOfWork(), self.expire_at)
        return result


@pytest.mark.clause("GTC-3.5")
@pytest.mark.clause("PAY-5")
def test_a_hold_that_lands_after_the_order_was_cancelled_is_released(make_product, place, card_token, stripe_gateway,
                                                                     stripe_test_client):
    watch = make_product()
    placed_at = datetime.now(timezone.utc) - timedelta(minutes=29, seconds=50)
    placed = place({watch: 1}, at=placed_at)
    gw = _SlowGateway(stripe_gateway, placed_at + timedelta(minutes=31))

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=gw, browser=None)

    assert outcome.status == "cancelled"
    assert order_row(placed.reference).status == OrderStatus.CANCELLED.value
    [auth] = payments_of(placed.reference)
    assert auth.intent_id and auth.status == PaymentStatus.RELEASED.value
    assert stripe_test_client.v1.payment_intents.retrieve(auth.intent_id).status == "canceled"  # nothing stays held
    assert [e.kind for e in outbox_of(placed.reference)] == ["order_cancelled"]  # no confirmation of a cancelled order


@pytest.mark.clause("GTC-3.5")
@pytest.mark.clause("PAY-4")
def test_3ds_completed_after_the_order_was_cancelled_releases_the_hold(make_product, place, card_token,
                                                                       stripe_gateway, browser_3ds, stripe_test_client):
    watch = make_product()
    placed_at = datetime.now(timezone.utc) - timedelta(minutes=25)
    placed = place({watch: 1}, at=placed_at)
    first = payment.authorize(UnitOfWork(), placed.reference, card_token(NEEDS_3DS), gw=stripe_gateway, browser=None)
    assert first.status == "requires_action"
    assert placed.reference in payment.expire_unpaid(UnitOfWork(), placed_at + timedelta(minutes=31))  # the client took too long

    browser_3ds(first.client_secret, True)
    outcome = payment.complete_authentication(UnitOfWork(), placed.reference, gw=stripe_gateway, browser=None)

    assert outcome.status == "cancelled"
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.RELEASED.value
    assert stripe_test_client.v1.payment_intents.retrieve(auth.intent_id).status == "canceled"
    assert order_row(placed.reference).status == OrderStatus.CANCELLED.value


class _SilentOnce:
    """The real sandbox gateway, except that the first authorization gets no answer (a network timeout)."""

    def __init__(self, real: StripeGateway) -> None:
        self._real, self.keys, self.cards, self.saved = real, [], [], 0

    def __getattr__(self, name):
        return getattr(self._real, name)

    def save_card(self, *args, **kwargs):
        self.saved += 1
        return self._real.save_card(*args, **kwargs)

    def authorize(self, amount, customer_id, card_id, idempotency_key, **kwargs):
        self.keys.append(idempotency_key)
        self.cards.append(card_id)
        if len(self.keys) == 1:
            raise PaymentGatewayError("timed out", retryable=True)
        return self._real.authorize(amount, customer_id, card_id, idempotency_key, **kwargs)


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-3.4")
def test_no_answer_from_the_provider_is_retried_with_the_same_key_and_card(make_product, place, card_token,
                                                                           stripe_gateway):
    """Had the provider placed the hold, the same idempotency key returns it instead of holding twice."""
    watch = make_product()
    placed = place({watch: 1})
    gw = _SilentOnce(stripe_gateway)

    first = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=gw, browser=None)
    assert first.status == "error" and first.code is ErrorCode.PAYMENT_NO_ANSWER
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT.value

    second = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), gw=gw, browser=None)

    assert second.status == "held"
    assert gw.keys[0] == gw.keys[1] and gw.cards[0] == gw.cards[1]
    assert gw.saved == 1  # the retry did not save the new token as another card
    [auth] = payments_of(placed.reference)
    assert auth.status == PaymentStatus.HELD.value and auth.idempotency_key == gw.keys[0]
    assert len(outbox_of(placed.reference)) == 1
