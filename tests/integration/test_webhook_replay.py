"""A day of payment events delivered in any order, then replayed twice, shuffled (issue 12 § 4).

Stripe delivers at least once and in no particular order, and retries for days. A day at the shop: a client who
authenticated with the issuer and never came back, a hold cancelled at the provider, a hold captured in part and
refunded in part from the dashboard, an authentication that failed, a plain hold. Each change is told by the
events Stripe sends for it, signed as Stripe signs them. Delivered shuffled, they leave the orders as the
provider reports them; delivered twice more, shuffled again, they change nothing: no second hold, capture,
refund, order event or email.
"""

from __future__ import annotations

import random

import pytest

from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.services import payment
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, order_row, outbox_of, payments_of
from tests.integration.test_webhook import (_awaiting_3ds, _charge_event, _held, _intent_event, _post,  # noqa: F401
                                            client, sandbox_settings)

pytestmark = pytest.mark.usefixtures("database")


def snapshot(references: list[str]) -> dict[str, tuple]:
    """What the shop records of each order: its status, its holds, its history and its emails."""
    return {r: (order_row(r).status,
                sorted((p.status, p.amount_minor, p.captured_minor, p.refunded_minor) for p in payments_of(r)),
                sorted(e.type for e in events_of(r)), sorted(m.kind for m in outbox_of(r)))
            for r in references}


@pytest.mark.clause("PAY-5")
def test_a_days_events_in_any_order_and_replayed_twice_shuffled_leave_each_order_as_the_provider_reports(
        client, make_product, place, card_token, browser_3ds, stripe_gateway, stripe_test_client):
    day: list[bytes] = []

    came_back_never, intent, secret = _awaiting_3ds(make_product, place, card_token)
    browser_3ds(secret, True)
    day += [_intent_event("payment_intent.amount_capturable_updated", intent, "requires_capture"),
            _intent_event("payment_intent.succeeded", intent, "requires_capture")]

    cancelled, intent = _held(make_product, place, card_token, stripe_gateway)
    stripe_gateway.cancel(intent)
    day += [_intent_event("payment_intent.amount_capturable_updated", intent, "requires_capture"),
            _intent_event("payment_intent.canceled", intent, "canceled")]

    captured, intent = _held(make_product, place, card_token, stripe_gateway)
    total = payments_of(captured)[0].amount_minor
    charged, returned = total * 3 // 4, total // 10
    stripe_test_client.v1.payment_intents.capture(intent, params={"amount_to_capture": charged})
    stripe_test_client.v1.refunds.create(params={"payment_intent": intent, "amount": returned})
    day += [_intent_event("payment_intent.amount_capturable_updated", intent, "requires_capture"),
            _charge_event("charge.captured", intent, captured=True, amount_captured=charged),
            _intent_event("payment_intent.succeeded", intent, "succeeded"),
            _charge_event("charge.refunded", intent, captured=True, amount_refunded=returned)]

    failed, intent, secret = _awaiting_3ds(make_product, place, card_token)
    browser_3ds(secret, False)
    day += [_intent_event("payment_intent.payment_failed", intent, "requires_payment_method")]

    held, intent = _held(make_product, place, card_token, stripe_gateway)
    day += [_intent_event("payment_intent.amount_capturable_updated", intent, "requires_capture")]

    references = [came_back_never, cancelled, captured, failed, held]
    shuffle = random.Random(20261127).shuffle

    first = list(day)
    shuffle(first)
    assert {_post(client, event).json()["result"] for event in first} == {"applied"}

    def holds(reference: str) -> list[tuple[str, int, int]]:
        return [(p.status, p.captured_minor, p.refunded_minor) for p in payments_of(reference)]

    amount = payments_of(came_back_never)[0].amount_minor
    assert order_row(came_back_never).status == OrderStatus.AWAITING_APPROVAL.value
    assert holds(came_back_never) == [(PaymentStatus.HELD.value, 0, 0)]
    assert [m.kind for m in outbox_of(came_back_never)] == ["order_confirmation"] and amount > 0
    assert holds(cancelled) == [(PaymentStatus.RELEASED.value, 0, 0)]
    assert holds(captured) == [(PaymentStatus.REFUNDED.value, charged, returned)]
    assert holds(failed) == [(PaymentStatus.DECLINED.value, 0, 0)]
    assert order_row(failed).status == OrderStatus.PENDING_PAYMENT.value and outbox_of(failed) == []
    assert holds(held) == [(PaymentStatus.HELD.value, 0, 0)]
    settled = snapshot(references)

    for _ in range(2):  # Stripe retries: the same events again, in another order
        again = list(day)
        shuffle(again)
        assert {_post(client, event).json()["result"] for event in again} == {"duplicate"}
    # and the same changes told by new events (a resend from the dashboard gets a new id)
    fresh = [event.replace(b'"id": "evt_', b'"id": "evt_re') for event in day]
    shuffle(fresh)
    assert {_post(client, event).json()["result"] for event in fresh} == {"applied"}

    assert snapshot(references) == settled
    assert payment.complete_authentication(UnitOfWork(), came_back_never, browser=None).status == "held"
    assert snapshot(references) == settled
