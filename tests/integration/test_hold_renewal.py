"""Renewing lapsing card holds (PAY-5) through the service, the real database and the payment sandbox.

The sandbox dates each hold from the real clock, so "a hold 23 hours before its deadline" is made by
moving the recorded deadline to 23 hours from now (as if the hold was placed six days ago) and running
the job at now: moving only the job's clock days ahead would make every other test's hold in the shared
database due as well.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import Session

from storefront.adapters.db import get_engine
from storefront.adapters.tables import PaymentAuthorization
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, hold_renewal, order_admin, payment, reauthorization, webhooks
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, order_row, outbox_of, payments_of, staff_member

pytestmark = pytest.mark.usefixtures("database")

MERCHANT_VISA_WINDOW = timedelta(days=4.75)  # rules/payments.toml [hold_windows.visa] merchant_days


@pytest.fixture
def held_order(make_product, place, card_token, stripe_gateway):
    def make(approve: bool = False) -> str:
        placed = place({make_product(stock=5): 1})
        outcome = payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"),
                                    gw=stripe_gateway, browser=None)
        assert outcome.status == "held"
        if approve:
            order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE))
        return placed.reference

    return make


def lapsing_in(reference: str, hours: float) -> tuple[PaymentAuthorization, datetime]:
    """Move the order's hold deadline to `hours` from now; returns the hold and now."""
    now = datetime.now(timezone.utc)
    [hold] = payments_of(reference)
    with Session(get_engine()) as s:
        s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == hold.id)
               .values(capture_before=now + timedelta(hours=hours)))
        s.commit()
    return payments_of(reference)[0], now


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def failed_renewals(at: datetime) -> admin_orders.Queue:
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork(), at)}["failed_renewals"]


@pytest.mark.clause("PAY-5")
def test_a_hold_a_day_from_lapsing_is_renewed_for_what_is_still_to_be_charged_then_the_old_one_released(
        held_order, stripe_gateway, stripe_test_client):
    reference = held_order()
    old, now = lapsing_in(reference, 23)

    acted = hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)

    assert reference in acted
    order = order_row(reference)
    first, new = payments_of(reference)
    assert first.id == old.id and first.status == PaymentStatus.RELEASED.value
    assert stripe_test_client.v1.payment_intents.retrieve(old.intent_id).status == "canceled"
    assert new.status == PaymentStatus.HELD.value and new.idempotency_key == f"{old.intent_id}:renew"
    assert new.amount_minor == order.total_minor - 0 == old.amount_minor - old.captured_minor
    assert (new.card_id, new.currency) == (old.card_id, order.currency)
    raw = stripe_test_client.v1.payment_intents.retrieve(new.intent_id)
    assert (raw.status, raw.amount, raw.customer) == ("requires_capture", order.total_minor, order.payment_customer_id)
    # a renewal is merchant-initiated: the provider's deadline for it is the network's shorter window
    assert abs(aware(new.capture_before) - (now + MERCHANT_VISA_WINDOW)) < timedelta(minutes=1)
    types = [e.type for e in events_of(reference)]
    assert types[-2:] == ["payment_reauthorized", "payment_released"]
    renewed = [e for e in events_of(reference) if e.type == "payment_reauthorized"][0]
    assert renewed.data["intent_id"] == new.intent_id and renewed.data["amount_minor"] == order.total_minor
    released = [e for e in events_of(reference) if e.type == "payment_released"][0]
    assert released.data == {"intent_id": old.intent_id, "reason": "renewed"}
    assert order.status == OrderStatus.AWAITING_APPROVAL.value


def test_a_hold_thirty_hours_from_lapsing_is_left_alone(held_order, stripe_gateway):
    reference = held_order()
    _, now = lapsing_in(reference, 30)

    acted = hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)

    assert reference not in acted
    assert [p.status for p in payments_of(reference)] == [PaymentStatus.HELD.value]
    assert "payment_reauthorized" not in [e.type for e in events_of(reference)]


def test_running_the_job_twice_renews_once(held_order, stripe_gateway):
    reference = held_order(approve=True)
    _, now = lapsing_in(reference, 23)

    first = hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)
    again = hold_renewal.renew_due(UnitOfWork(), at=now + timedelta(minutes=5), gw=stripe_gateway)

    assert reference in first and reference not in again
    assert [p.status for p in payments_of(reference)] == [PaymentStatus.RELEASED.value, PaymentStatus.HELD.value]
    assert [e.type for e in events_of(reference)].count("payment_reauthorized") == 1
    # a worker that crashed before recording asks again under the same key and gets the same hold back
    released, held = payments_of(reference)
    again_at_provider = stripe_gateway.authorize_off_session(
        customer_id=order_row(reference).payment_customer_id, payment_method_id=held.card_id,
        amount_minor=held.amount_minor, currency=held.currency, idempotency_key=f"{released.intent_id}:renew",
        metadata={"order": reference, "purpose": "hold renewal", "replaces": released.intent_id})
    assert again_at_provider.intent_id == held.intent_id


@pytest.mark.clause("PAY-5")
def test_after_renewal_approval_past_the_old_deadline_counts_only_the_new_hold(held_order, stripe_gateway):
    reference = held_order()
    old, now = lapsing_in(reference, 23)
    hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)
    past_the_old_deadline = aware(old.capture_before) + timedelta(minutes=1)

    order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE), at=past_the_old_deadline)

    assert order_row(reference).status == OrderStatus.APPROVED.value
    approved = [e for e in events_of(reference) if e.type == "approved"][0]
    assert approved.data["held_minor"] == order_row(reference).total_minor


def test_without_renewal_approval_past_the_deadline_is_refused(held_order):
    """The counterpart: an order never relies on a lapsed hold."""
    reference = held_order()
    old, _ = lapsing_in(reference, 23)

    with pytest.raises(order_admin.ActionRefused) as refused:
        order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE),
                            at=aware(old.capture_before) + timedelta(minutes=1))

    assert refused.value.refusal.code == ErrorCode.HOLD_DOES_NOT_COVER


@pytest.mark.clause("PAY-5")
def test_a_card_without_funds_is_retried_once_after_releasing_the_old_hold_then_queued_and_the_client_emailed(
        held_order, stripe_gateway, stripe_test_client, localstripe):
    reference = held_order(approve=True)
    old, now = lapsing_in(reference, 23)
    localstripe.decline_card(old.card_id, "insufficient_funds")  # good at checkout, not any more
    listed_before = failed_renewals(now).count

    acted = hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)

    assert reference in acted
    released, first, retry = payments_of(reference)
    assert released.status == PaymentStatus.RELEASED.value  # the old hold may be what used the funds up
    assert stripe_test_client.v1.payment_intents.retrieve(old.intent_id).status == "canceled"
    assert (first.idempotency_key, first.status, first.decline_code) == (
        f"{old.intent_id}:renew", "declined", "insufficient_funds")
    assert (retry.idempotency_key, retry.status, retry.decline_code) == (
        f"{old.intent_id}:renew:retry", "declined", "insufficient_funds")
    [failed] = [e for e in events_of(reference) if e.type == "payment_reauthorization_failed"]
    assert failed.data["intent_id"] == old.intent_id and failed.data["code"] == "insufficient_funds"
    queue = failed_renewals(now)  # the admin home's queue: a count, and its oldest ten orders
    assert queue.count == listed_before + 1
    assert reference in queue.references or len(queue.references) == 10
    assert order_row(reference).status == OrderStatus.APPROVED.value  # the order is kept
    [email] = [m for m in outbox_of(reference) if m.kind == "payment_reauthorization_needed"]
    assert "nothing has been charged" in email.text_body and "until your order ships or is cancelled" in email.text_body
    token = re.search(r"reauthorize=([A-Za-z0-9_\-.]+)", email.text_body).group(1)
    assert get_settings().public_url.rstrip("/") + f"/order/{reference}?t=" in email.text_body
    assert reauthorization.link_valid(UnitOfWork(), reference, token, now + timedelta(days=60))

    assert reference not in hold_renewal.renew_due(UnitOfWork(), at=now + timedelta(hours=1), gw=stripe_gateway)
    assert len([m for m in outbox_of(reference) if m.kind == "payment_reauthorization_needed"]) == 1

    order_admin.cancel(UnitOfWork(), reference, "payment_failed", staff=staff_member(Role.ADMIN), gw=stripe_gateway)
    assert not reauthorization.link_valid(UnitOfWork(), reference, token, now + timedelta(days=60))


def test_any_other_refusal_keeps_the_old_hold_and_asks_the_client(held_order, stripe_gateway, localstripe):
    reference = held_order()
    old, now = lapsing_in(reference, 23)
    localstripe.decline_card(old.card_id, "do_not_honor")

    hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)

    kept, attempt = payments_of(reference)
    assert kept.status == PaymentStatus.HELD.value  # still live until its deadline: nothing to gain by dropping it
    assert (attempt.status, attempt.decline_code) == ("declined", "do_not_honor")
    assert [e.type for e in events_of(reference)].count("payment_reauthorization_failed") == 1
    assert [m.kind for m in outbox_of(reference)].count("payment_reauthorization_needed") == 1


def test_a_forged_or_other_purpose_link_does_not_reauthorize(held_order):
    from storefront.services import links

    reference = held_order()
    view = links.issue(reference, links.Purpose.VIEW)

    assert not reauthorization.link_valid(UnitOfWork(), reference, view)
    assert not reauthorization.link_valid(UnitOfWork(), reference, "forged.token")
    assert reauthorization.link_valid(UnitOfWork(), reference, links.issue(reference, links.Purpose.REAUTHORIZE))


@pytest.fixture
def sandbox_settings(localstripe, monkeypatch):
    """The gateway built from settings (as the webhook endpoint builds it) is the test sandbox."""
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STOREFRONT_STRIPE_SECRET_KEY", raising=False)
    monkeypatch.setenv("STOREFRONT_LOCALSTRIPE_PORT", str(localstripe.port))
    get_settings.cache_clear()
    yield get_settings()
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.clause("PAY-5")
def test_a_hold_reported_expired_on_an_approved_order_is_renewed_at_once(held_order, localstripe, sandbox_settings,
                                                                         stripe_test_client):
    reference = held_order(approve=True)
    [old] = payments_of(reference)
    localstripe.expire_hold(old.intent_id)

    for event_type, obj in (("charge.expired", {"object": "charge", "payment_intent": old.intent_id}),
                            ("payment_intent.canceled", {"object": "payment_intent", "id": old.intent_id})):
        webhooks.apply({"id": f"evt_{secrets.token_hex(8)}", "type": event_type, "data": {"object": obj}}, UnitOfWork())

    expired, new = payments_of(reference)
    assert expired.status == PaymentStatus.EXPIRED.value
    assert new.status == PaymentStatus.HELD.value and new.amount_minor == order_row(reference).total_minor
    assert stripe_test_client.v1.payment_intents.retrieve(new.intent_id).status == "requires_capture"
    types = [e.type for e in events_of(reference)]
    assert types.count("payment_expired") == 1 and types.count("payment_reauthorized") == 1
    assert types.index("payment_expired") < types.index("payment_reauthorized")
    assert order_row(reference).status == OrderStatus.APPROVED.value
    live = order_admin.live_holds(Session(get_engine()), order_row(reference).id, datetime.now(timezone.utc))
    assert [h.intent_id for h in live] == [new.intent_id]
