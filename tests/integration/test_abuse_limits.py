"""Hoarding and card testing are stopped by the limits of rules/limits.toml (ASVS 2.4), and a
checkout belongs to the browser that placed it (ASVS 8.2.2), through the real database and sandbox.

A limited client is refused with a code and nothing is stored: no order, no stock taken, no email.
"""

from __future__ import annotations

import dataclasses

import pytest

from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus
from storefront.services import checkout, payment
from storefront.services.abuse_limits import limits
from storefront.services.checkout import CheckoutError
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, new_browser, order_row, outbox_of, payments_of, stock_of

pytestmark = pytest.mark.usefixtures("database")

VISA_OK = "4242424242424242"
DECLINED = "4000000000000341"


def _refused_without_trace(place, watch, code, **kwargs):
    before = stock_of(watch)
    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, **kwargs)
    assert caught.value.code is code
    assert stock_of(watch) == before
    return caught.value


def test_one_browser_holds_only_a_few_unpaid_orders(make_product, place):
    watch = make_product(stock=20)
    browser = new_browser()
    for _ in range(limits().open_per_browser):
        place({watch: 1}, buyer(), browser=browser)

    _refused_without_trace(place, watch, ErrorCode.TOO_MANY_OPEN_ORDERS, browser=browser)
    place({watch: 1}, buyer(), browser=new_browser())  # another shopper is not affected


def test_one_email_holds_only_a_few_unpaid_orders_whatever_its_case(make_product, place):
    watch = make_product(stock=20)
    for i in range(limits().open_per_email):
        place({watch: 1}, buyer(email="Hoarder@Example.com" if i % 2 else "hoarder@example.com"))

    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, buyer(email="HOARDER@example.com"))
    assert caught.value.code is ErrorCode.TOO_MANY_OPEN_ORDERS


def test_one_address_holds_many_but_not_unlimited_unpaid_orders(make_product, place, monkeypatch):
    from storefront.services import abuse_limits

    figures = limits()
    monkeypatch.setattr(abuse_limits, "limits", lambda: dataclasses.replace(figures,
                                                                           confirmations_per_ip="1000 per minute"))
    watch = make_product(stock=100, max_per_order=1)
    ip = "198.51.100.200"
    for _ in range(figures.open_per_ip):
        placed = place({watch: 1}, buyer(), ip=ip)
        assert order_row(placed.reference).accepted_ip == ip  # the client's address, as the state resolved it
    before = stock_of(watch)
    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, buyer(), ip=ip)
    assert caught.value.code is ErrorCode.TOO_MANY_OPEN_ORDERS and stock_of(watch) == before


def test_confirmations_per_minute_per_address_are_limited(make_product, place):
    watch = make_product(stock=100, max_per_order=1)
    ip = "198.51.100.201"
    allowed = int(limits().confirmations_per_ip.split()[0])
    for _ in range(allowed):
        place({watch: 1}, buyer(), ip=ip)

    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, buyer(), ip=ip)
    assert caught.value.code is ErrorCode.TOO_MANY_CONFIRMATIONS
    place({watch: 1}, buyer(), ip="198.51.100.202")  # other addresses go on


@pytest.mark.clause("GTC-3.5")
def test_after_the_last_allowed_card_attempt_the_order_is_cancelled_and_its_stock_released(
        make_product, place, card_token, stripe_gateway):
    watch = make_product(stock=3)
    placed = place({watch: 1}, buyer())
    assert stock_of(watch) == 2
    outcomes = [payment.authorize(UnitOfWork(), placed.reference, card_token(DECLINED), browser=None, ip="203.0.113.50",
                                  gw=stripe_gateway) for _ in range(limits().attempts_per_order)]

    assert [o.code for o in outcomes[:-1]] == [ErrorCode.ISSUER_DECLINED] * (limits().attempts_per_order - 1)
    assert outcomes[-1].status == "cancelled" and outcomes[-1].code is ErrorCode.PAYMENT_ATTEMPTS_EXHAUSTED
    assert order_row(placed.reference).status == OrderStatus.CANCELLED
    assert stock_of(watch) == 3
    assert [e.data["reason"] for e in events_of(placed.reference) if e.type == "cancelled"] == ["payment_attempts_exhausted"]
    assert [m.kind for m in outbox_of(placed.reference)] == ["order_cancelled"]
    again = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), browser=None, gw=stripe_gateway)
    assert again.status == "cancelled" and len(payments_of(placed.reference)) == limits().attempts_per_order


def test_payment_attempts_per_address_are_limited_before_anything_is_stored(make_product, place, card_token,
                                                                            stripe_gateway, monkeypatch):
    from storefront.services import abuse_limits

    monkeypatch.setattr(abuse_limits, "limits", lambda: dataclasses.replace(
        limits(), open_per_browser=2, open_per_email=3, open_per_ip=25, confirmations_per_ip="10 per minute",
        payment_attempts_per_ip="2 per hour", attempts_per_order=5))
    watch = make_product(stock=5)
    first, second = place({watch: 1}, buyer()), place({watch: 1}, buyer())
    for reference in (first.reference, second.reference):
        assert payment.authorize(UnitOfWork(), reference, card_token(DECLINED), browser=None, ip="203.0.113.60",
                                 gw=stripe_gateway).code is ErrorCode.ISSUER_DECLINED
    third = place({watch: 1}, buyer())
    limited = payment.authorize(UnitOfWork(), third.reference, card_token(VISA_OK), browser=None, ip="203.0.113.60",
                                gw=stripe_gateway)
    assert limited.code is ErrorCode.TOO_MANY_PAYMENT_ATTEMPTS
    assert payments_of(third.reference) == []


# -- the checkout belongs to the browser that placed it (ASVS 8.2.2) -------------------------------


@pytest.mark.clause("CARD-3")
def test_another_browser_cannot_see_pay_or_withdraw_the_order(make_product, place, card_token, stripe_gateway):
    watch = make_product(stock=3)
    owner, stranger = new_browser(), new_browser()
    placed = place({watch: 1}, buyer(), browser=owner)

    assert checkout.browser_order(UnitOfWork(), stranger) is None
    assert checkout.browser_order(UnitOfWork(), stranger, placed.reference) is None
    paid = payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), browser=stranger, gw=stripe_gateway)
    assert paid.code is ErrorCode.ORDER_NOT_FOUND and payments_of(placed.reference) == []
    authenticated = payment.complete_authentication(UnitOfWork(), placed.reference, browser=stranger, gw=stripe_gateway)
    assert authenticated.code is ErrorCode.ORDER_NOT_FOUND
    assert not checkout.cancel_by_client(UnitOfWork(), placed.reference, stranger)
    assert not checkout.cancel_by_client(UnitOfWork(), placed.reference, "")
    assert order_row(placed.reference).status == OrderStatus.PENDING_PAYMENT

    mine = checkout.browser_order(UnitOfWork(), owner)
    assert mine is not None and mine.reference == placed.reference and mine.items == {watch: 1}
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(VISA_OK), browser=owner,
                             gw=stripe_gateway).status == "held"


def test_the_owner_may_withdraw_an_unpaid_order_and_the_stock_returns(make_product, place):
    watch = make_product(stock=3)
    owner = new_browser()
    placed = place({watch: 2}, buyer(), browser=owner)
    assert stock_of(watch) == 1

    assert checkout.cancel_by_client(UnitOfWork(), placed.reference, owner)
    assert order_row(placed.reference).status == OrderStatus.CANCELLED and stock_of(watch) == 3
    assert not checkout.cancel_by_client(UnitOfWork(), placed.reference, owner)  # once
    assert outbox_of(placed.reference) == []  # the shopper withdrew it themselves: no email to anyone


def test_a_web_order_needs_a_browser_identity(make_product, place):
    watch = make_product()
    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, buyer(), browser="")
    assert caught.value.code is ErrorCode.COOKIES_REQUIRED


def test_a_deployment_may_tune_the_limits_without_a_code_change(monkeypatch):
    from storefront import settings
    from storefront.services import abuse_limits

    monkeypatch.setenv("STOREFRONT_LIMITS_OVERRIDES", '{"rates": {"order_confirmations_per_ip": "30 per minute"}}')
    settings.get_settings.cache_clear()
    abuse_limits.limits.cache_clear()
    try:
        tuned = abuse_limits.limits()
        assert tuned.confirmations_per_ip == "30 per minute"
        assert tuned.open_per_browser == 2  # the rest stays as rules/limits.toml says
    finally:
        monkeypatch.delenv("STOREFRONT_LIMITS_OVERRIDES")
        settings.get_settings.cache_clear()
        abuse_limits.limits.cache_clear()
