"""The client authorising the card again through the emailed link (PAY-5), against the payment sandbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlmodel import Session

from storefront.adapters.db import get_engine
from storefront.adapters.tables import PaymentAuthorization
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import PaymentStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, hold_renewal, links, order_admin, payment, reauthorization
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, new_ip, order_row, outbox_of, payments_of, staff_member

pytestmark = pytest.mark.usefixtures("database")

ALWAYS_3DS = "4000002760003184"  # 3-D Secure on every payment, off-session included
DECLINED = "4000000000000002"


@pytest.fixture
def refused_renewal(make_product, place, card_token, stripe_gateway, localstripe):
    """An approved order whose hold renewal the bank refused: (reference, the link token from the email)."""

    def make(count: int = 1) -> tuple[str, str]:
        placed = place({make_product(stock=5): count})
        assert payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"),
                                 gw=stripe_gateway, browser=None).status == "held"
        order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE))
        [hold] = payments_of(placed.reference)
        now = datetime.now(timezone.utc)
        with Session(get_engine()) as s:
            s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == hold.id)
                   .values(capture_before=now + timedelta(hours=23)))
            s.commit()
        localstripe.decline_card(hold.card_id, "do_not_honor")
        assert placed.reference in hold_renewal.renew_due(UnitOfWork(), at=now, gw=stripe_gateway)
        [email] = [m for m in outbox_of(placed.reference) if m.kind == "payment_reauthorization_needed"]
        return placed.reference, re.search(r"reauthorize=([A-Za-z0-9_\-.]+)", email.text_body).group(1)

    return make


def failed_renewals() -> int:
    """How many orders the admin home lists as failed renewals (the queue's list shows only the oldest)."""
    return {q.key: q for q in admin_orders.work_queues(UnitOfWork())}["failed_renewals"].count


@pytest.mark.clause("PAY-5")
def test_the_client_authorises_a_new_card_through_the_link_and_the_old_hold_is_released(
        refused_renewal, card_token, stripe_gateway, stripe_test_client):
    reference, token = refused_renewal(count=2)
    old = payments_of(reference)[0]
    listed = failed_renewals()
    asked = reauthorization.request(UnitOfWork(), reference, token)
    assert asked is not None and asked.last4 == "4242"
    assert asked.amount == payment_amount(reference)

    outcome = reauthorization.authorize(UnitOfWork(), reference, token, card_token("5555555555554444"), ip=new_ip(),
                                        gw=stripe_gateway)

    assert outcome.status == "held"
    new = payments_of(reference)[-1]
    assert (new.status, new.amount_minor, new.last4) == (PaymentStatus.HELD.value, order_row(reference).total_minor,
                                                          "4444")
    assert new.capture_before is not None
    assert payments_of(reference)[0].status == PaymentStatus.RELEASED.value
    assert stripe_test_client.v1.payment_intents.retrieve(old.intent_id).status == "canceled"
    intent = stripe_test_client.v1.payment_intents.retrieve(new.intent_id)
    assert (intent.status, intent.amount) == ("requires_capture", order_row(reference).total_minor)
    assert "payment_reauthorized" in [e.type for e in events_of(reference)]
    assert failed_renewals() == listed - 1
    assert order_row(reference).payment_customer_id  # later renewals use the card just authorised
    assert reauthorization.request(UnitOfWork(), reference, token) is None  # nothing left to authorise
    again = reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(), gw=stripe_gateway)
    assert again.code == ErrorCode.REAUTHORIZE_NOT_NEEDED
    assert payments_of(reference)[-1].id == new.id  # no new attempt row


def payment_amount(reference: str) -> str:
    order = order_row(reference)
    return Money(order.total_minor, order.currency).format(order.locale)


@pytest.mark.clause("PAY-5")
def test_a_card_needing_3d_secure_is_held_only_after_the_client_authenticates(
        refused_renewal, card_token, stripe_gateway, browser_3ds):
    reference, token = refused_renewal()
    listed = failed_renewals()

    outcome = reauthorization.authorize(UnitOfWork(), reference, token, card_token(ALWAYS_3DS), ip=new_ip(),
                                        gw=stripe_gateway)
    assert outcome.status == "requires_action" and outcome.client_secret
    assert payments_of(reference)[-1].status == PaymentStatus.REQUIRES_ACTION.value
    assert failed_renewals() == listed  # not yet: the bank has not accepted

    browser_3ds(outcome.client_secret, True)
    done = reauthorization.complete(UnitOfWork(), reference, token, gw=stripe_gateway)

    assert done.status == "held"
    assert payments_of(reference)[-1].status == PaymentStatus.HELD.value
    assert failed_renewals() == listed - 1


@pytest.mark.clause("PAY-5")
def test_failed_authentication_holds_nothing_and_the_client_may_try_again(
        refused_renewal, card_token, stripe_gateway, browser_3ds):
    reference, token = refused_renewal()
    listed = failed_renewals()
    outcome = reauthorization.authorize(UnitOfWork(), reference, token, card_token(ALWAYS_3DS), ip=new_ip(),
                                        gw=stripe_gateway)
    browser_3ds(outcome.client_secret, False)

    done = reauthorization.complete(UnitOfWork(), reference, token, gw=stripe_gateway)

    assert done.status == "declined"
    assert failed_renewals() == listed
    assert reauthorization.request(UnitOfWork(), reference, token) is not None
    assert reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(),
                                     gw=stripe_gateway).status == "held"


@pytest.mark.clause("PAY-5")
def test_declined_cards_count_and_after_the_limit_the_client_is_sent_to_client_service(
        refused_renewal, card_token, stripe_gateway):
    from storefront.services import abuse_limits

    reference, token = refused_renewal()
    listed = failed_renewals()
    for _ in range(abuse_limits.limits().attempts_per_order):
        declined = reauthorization.authorize(UnitOfWork(), reference, token, card_token(DECLINED), ip=new_ip(),
                                             gw=stripe_gateway)
        assert (declined.status, declined.code) == ("declined", ErrorCode.ISSUER_DECLINED)

    last = reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(), gw=stripe_gateway)

    assert last.code == ErrorCode.REAUTHORIZE_ATTEMPTS_EXHAUSTED
    assert order_row(reference).status == "approved"  # the order is kept for client service
    assert failed_renewals() == listed


@pytest.mark.clause("PAY-5")
def test_a_forged_foreign_or_other_purpose_link_authorises_nothing(refused_renewal, card_token, stripe_gateway):
    reference, token = refused_renewal()
    other, other_token = refused_renewal()
    before = len(payments_of(reference))
    for bad in ("forged.token", links.issue(reference, links.Purpose.VIEW), other_token, "", None, 7, "x" * 5000):
        outcome = reauthorization.authorize(UnitOfWork(), reference, bad, card_token(), ip=new_ip(), gw=stripe_gateway)
        assert outcome.code == ErrorCode.REAUTHORIZE_LINK_INVALID
        assert reauthorization.request(UnitOfWork(), reference, bad) is None
    assert len(payments_of(reference)) == before
    for bad_card in ("pm_123", "", None, "tok_" + "x" * 200):
        assert reauthorization.authorize(UnitOfWork(), reference, token, bad_card, ip=new_ip(),
                                         gw=stripe_gateway).code == ErrorCode.CARD_UNREADABLE
    assert len(payments_of(reference)) == before


@pytest.mark.clause("PAY-5")
def test_the_link_is_worthless_once_the_order_is_cancelled(refused_renewal, card_token, stripe_gateway):
    reference, token = refused_renewal()
    order_admin.cancel(UnitOfWork(), reference, "payment_failed", staff=staff_member(Role.ADMIN), gw=stripe_gateway)

    outcome = reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(), gw=stripe_gateway)

    assert outcome.code == ErrorCode.REAUTHORIZE_LINK_INVALID
    assert all(p.status != PaymentStatus.HELD.value for p in payments_of(reference))


@pytest.mark.clause("PAY-5")
def test_after_the_client_authorised_the_job_does_not_renew_the_old_lapsed_hold(
        refused_renewal, card_token, stripe_gateway):
    reference, token = refused_renewal()
    assert reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(),
                                     gw=stripe_gateway).status == "held"
    rows = len(payments_of(reference))

    assert reference not in hold_renewal.renew_due(UnitOfWork(), at=datetime.now(timezone.utc) + timedelta(hours=1),
                                                   gw=stripe_gateway)
    assert len(payments_of(reference)) == rows


@pytest.mark.clause("PAY-1")
def test_a_card_of_a_refused_brand_is_not_saved_nor_held(refused_renewal, card_token, stripe_gateway):
    from tests.integration.test_payment import _BrandGateway

    reference, token = refused_renewal()
    gw = _BrandGateway(stripe_gateway, "jcb")

    outcome = reauthorization.authorize(UnitOfWork(), reference, token, card_token(), ip=new_ip(), gw=gw)

    assert (outcome.status, outcome.code) == ("declined", ErrorCode.CARD_BRAND_REFUSED)
    assert "We accept" in outcome.message
    assert (gw.saved, gw.authorized) == (0, 0)
    assert payments_of(reference)[-1].decline_code == "brand_not_accepted"
