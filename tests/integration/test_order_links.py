"""Signed order links: each grants one purpose for its own lifetime (rules/links.toml).

The clock is moved by issuing and checking tokens at chosen moments; the signatures are real.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storefront.domain.policy import policy
from storefront.services import links
from storefront.services.order_view import order_view
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers

pytestmark = pytest.mark.usefixtures("database")

WINDOW = timedelta(minutes=policy().payment_retry_minutes)


@pytest.fixture
def placed(make_product, place):
    at = datetime.now(timezone.utc).replace(microsecond=0)
    return place({make_product(): 1}, at=at), at


@pytest.mark.clause("CARD-3")
def test_a_view_link_keeps_showing_the_order_long_after_the_payment_window(placed):
    order, at = placed
    token = links.issue(order.reference, links.Purpose.VIEW, at)

    for later in (WINDOW + timedelta(seconds=1), timedelta(days=365), links.lifetimes()["view"]):
        shown = order_view(UnitOfWork(), order.reference, token, at + later)
        assert shown is not None and shown.reference == order.reference, later
    assert order_view(UnitOfWork(), order.reference, token, at + links.lifetimes()["view"] + timedelta(seconds=1)) is None


def test_a_pay_link_lapses_with_the_payment_window(placed):
    order, at = placed
    token = links.issue(order.reference, links.Purpose.PAY, at)

    assert links.check(order.reference, token, links.Purpose.PAY, at + WINDOW) is links.LinkCheck.VALID
    assert links.check(order.reference, token, links.Purpose.PAY, at + WINDOW + timedelta(seconds=1)) \
        is links.LinkCheck.EXPIRED


@pytest.mark.clause("PAY-6")
def test_a_link_grants_only_its_own_purpose(placed):
    order, at = placed
    view = links.issue(order.reference, links.Purpose.VIEW, at)
    pay = links.issue(order.reference, links.Purpose.PAY, at)

    assert links.check(order.reference, view, links.Purpose.PAY, at) is links.LinkCheck.INVALID
    assert links.check(order.reference, pay, links.Purpose.VIEW, at) is links.LinkCheck.INVALID
    assert order_view(UnitOfWork(), order.reference, pay, at) is None


def _tampered(token: str) -> list[str]:
    stamp, signature = token.split(".")
    flip = lambda s, i: s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]  # noqa: E731
    return [flip(token, len(token) - 1), flip(token, 0), f"{stamp}.{signature[:-2]}", signature, stamp,
            f"{stamp}.{stamp}.{signature}", token.upper(), token + "=", "", " " + token]


@pytest.mark.clause("PAY-6")
def test_a_tampered_or_borrowed_token_is_refused(placed, place, make_product):
    order, at = placed
    other = place({make_product(): 1}, at=at)
    token = links.issue(order.reference, links.Purpose.VIEW, at)

    for wrong in _tampered(token):
        assert links.check(order.reference, wrong, links.Purpose.VIEW, at) is links.LinkCheck.INVALID, wrong
        assert order_view(UnitOfWork(), order.reference, wrong, at) is None, wrong
    # Another order's genuine link, the token signed for a longer or shorter reference, and non-strings.
    assert order_view(UnitOfWork(), order.reference, links.issue(other.reference, links.Purpose.VIEW, at), at) is None
    assert order_view(UnitOfWork(), order.reference + "X", token, at) is None
    assert order_view(UnitOfWork(), order.reference[:-1], token, at) is None
    for junk in (None, 123, ["x"], {"t": token}):
        assert order_view(UnitOfWork(), order.reference, junk, at) is None  # type: ignore[arg-type]
        assert order_view(UnitOfWork(), junk, token, at) is None  # type: ignore[arg-type]


@pytest.mark.clause("PAY-6")
def test_a_token_dated_in_the_future_is_refused(placed):
    order, at = placed
    token = links.issue(order.reference, links.Purpose.VIEW, at + timedelta(minutes=5))

    assert order_view(UnitOfWork(), order.reference, token, at) is None


def test_every_purpose_the_code_uses_has_a_lifetime_and_pay_follows_the_payment_window():
    assert set(links.lifetimes()) == {p.value for p in links.Purpose}
    assert links.lifetimes()["pay"] == WINDOW
    assert links.lifetimes()["view"] > WINDOW
