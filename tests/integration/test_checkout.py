"""Concluding the contract (GTC-3.4 step 5) against the real database: every rule re-checked, stock reserved.

Each test orders its own test watch, so stock counts are exact and nothing leaks between tests.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order, OrderLine, TermsVersion
from storefront.domain.markets import country
from storefront.domain.order_status import OrderStatus
from storefront.services import payment
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.domain.errors import ErrorCode
from storefront.services.checkout import CheckoutError, quote_for
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import PRICES, aware, buyer, events_of, new_key, order_row, stock_of

pytestmark = pytest.mark.usefixtures("database")


def _orders_with_key(key: str) -> list[Order]:
    with Session(get_engine()) as s:
        return s.exec(select(Order).where(Order.checkout_key == key)).all()


def _orders_for(reference: str) -> list[Order]:
    with Session(get_engine()) as s:
        ids = s.exec(select(OrderLine.order_id).where(OrderLine.reference == reference)).all()
        return s.exec(select(Order).where(Order.id.in_(ids))).all() if ids else []


def _born(years_ago: int, plus_days: int = 0) -> date:
    """A birth date `years_ago` years before the merchant's local today (the date the age is judged on)."""
    today = merchant_calendar().local(datetime.now(timezone.utc)).date()
    try:
        birthday = today.replace(year=today.year - years_ago)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years_ago, day=28)
    return birthday + timedelta(days=plus_days)


# -- happy path -------------------------------------------------------------------------------


@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("GTC-2.3")
@pytest.mark.clause("GTC-2.4")
@pytest.mark.clause("GTC-4.2")
def test_place_order_snapshots_the_quote_terms_and_declarations_and_reserves_stock(make_product, place):
    watch = make_product(stock=5, max_per_order=3)
    at = datetime.now(timezone.utc).replace(microsecond=0)
    expected = quote_for(UnitOfWork(), {watch: 2}, country("CH"))
    terms = terms_service.current(UnitOfWork(), at)

    placed = place({watch: 2}, at=at, ip="198.51.100.23", user_agent="Mozilla/5.0 (iPhone) Safari/605.1")

    assert placed.created and placed.status == OrderStatus.PENDING_PAYMENT
    assert placed.reference.startswith("VX-")
    order = order_row(placed.reference)
    assert order.status == OrderStatus.PENDING_PAYMENT.value
    # The price snapshot is the quote shown at step 3, worked out again here from the price list:
    subtotal = 2 * PRICES["CHF"]
    vat = (subtotal + 4_500) * 81 // 1000 + ((subtotal + 4_500) * 81 % 1000 >= 500)
    assert (order.subtotal_minor, order.shipping_minor, order.vat_minor) == (subtotal, 4_500, vat)
    assert (order.subtotal_minor, order.shipping_minor, order.vat_minor, order.total_minor) == (
        expected.subtotal.minor, expected.shipping.minor, expected.vat.amount.minor, expected.total.minor)
    assert order.total_minor == subtotal + 4_500 + vat
    assert order.vat_rate == "0.081" and order.currency == "CHF" and order.country == "CH"
    assert order.ship_by == expected.ship_by
    with Session(get_engine()) as s:
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    assert [(l.reference, l.quantity, l.unit_price_minor) for l in lines] == [(watch, 2, PRICES["CHF"])]
    # GTC-2.3: which version, with its content hash, when and from where.
    assert order.terms_version_id == terms.id
    assert order.terms_content_hash == hashlib.sha256(terms.body.encode()).hexdigest() == terms.content_hash
    assert aware(order.terms_accepted_at) == at
    assert order.accepted_ip == "198.51.100.23"
    assert order.accepted_user_agent == "Mozilla/5.0 (iPhone) Safari/605.1"
    # GTC-2.4
    assert order.personal_use_declared is True
    assert order.screening["verdict"] == "clear"
    assert aware(order.payment_deadline) == at + timedelta(minutes=30)
    assert stock_of(watch) == 3
    accepted = next(e for e in events_of(placed.reference) if e.type == "terms_accepted")
    # PAY-6: the append-only history names the version, never where from (the row above, which erasure reaches)
    assert accepted.data == {"terms_version": terms.version, "terms_version_id": terms.id,
                             "content_hash": terms.content_hash}
    assert [e.type for e in events_of(placed.reference)] == ["order_placed", "terms_accepted"]


@pytest.mark.clause("GTC-4.1")
@pytest.mark.clause("GTC-2.2")
def test_order_to_the_emirates_on_the_21st_birthday_in_dirhams_without_vat(make_product, place):
    watch = make_product()

    placed = place({watch: 1}, buyer("AE", birth=_born(21)))

    order = order_row(placed.reference)
    assert order.currency == "AED" and order.vat_rate is None and order.vat_minor == 0
    assert order.total_minor == PRICES["AED"] + 55_000


@pytest.mark.clause("GTC-2.1")
def test_the_same_terms_apply_whatever_the_delivery_country(make_product, place):
    """One version of the terms governs every order placed at the same moment, in any market."""
    watch = make_product()
    orders = [order_row(place({watch: 1}, buyer(country)).reference) for country in ("CH", "US", "JP", "DE")]

    assert len({o.terms_version_id for o in orders}) == 1
    assert len({o.terms_content_hash for o in orders}) == 1
    assert {o.country for o in orders} == {"CH", "US", "JP", "DE"}


# -- refusals: nothing is created, no stock is taken ------------------------------------------


def _refused(place, cart, watch, info=None, **overrides) -> CheckoutError:
    key = new_key()
    before = stock_of(watch)
    with pytest.raises(CheckoutError) as caught:
        place(cart, info, checkout_key=key, **overrides)
    assert _orders_with_key(key) == []
    assert stock_of(watch) == before
    return caught.value


@pytest.mark.clause("GTC-1.3")
def test_no_order_without_accepting_the_terms(make_product, place):
    watch = make_product()

    error = _refused(place, {watch: 1}, watch, terms_accepted=False)

    assert error.code is ErrorCode.TERMS_NOT_ACCEPTED


@pytest.mark.clause("GTC-3.4")
def test_no_order_without_confirming_the_details(make_product, place):
    watch = make_product()

    assert _refused(place, {watch: 1}, watch, details_confirmed=False).code is ErrorCode.DETAILS_NOT_CONFIRMED


@pytest.fixture
def newer_terms(database):
    """A new version published after the client read the terms (dated far ahead, so no other test sees it;
    it stays: a published version cannot be deleted, migration e3f4a5b6c7d8)."""
    published = datetime(2099, 1, 1, tzinfo=timezone.utc)
    with UnitOfWork() as uow:
        row = TermsVersion(version="2099-T", title="Terms (test)", body="# Terms\nNew.", content_hash="0" * 64,
                           published_at=published)
        uow.session.add(row)
        uow.commit()
    return row, published


@pytest.mark.clause("GTC-2.3")
@pytest.mark.clause("GTC-1.4")
def test_order_under_outdated_terms_version_is_refused(make_product, place, newer_terms):
    watch = make_product()
    new, published = newer_terms
    shown = terms_service.current(UnitOfWork())  # the version on screen when the client ticked the box
    assert shown.id != new.id

    error = _refused(place, {watch: 1}, watch, at=published + timedelta(hours=1), terms_version_id=shown.id)

    assert error.code is ErrorCode.TERMS_CHANGED


@pytest.mark.clause("GTC-2.3")
def test_order_with_an_unknown_terms_version_is_refused(make_product, place):
    watch = make_product()

    assert _refused(place, {watch: 1}, watch, terms_version_id=987_654).code is ErrorCode.TERMS_CHANGED


@pytest.mark.clause("GTC-2.4")
def test_no_order_without_the_personal_use_declaration(make_product, place):
    watch = make_product()

    error = _refused(place, {watch: 1}, watch, personal_use=False)

    assert error.code is ErrorCode.PERSONAL_USE_NOT_DECLARED


@pytest.mark.clause("GTC-2.2")
@pytest.mark.parametrize("code, birth, age", [
    ("CH", lambda: _born(18, plus_days=1), 18), ("US", lambda: _born(17), 18),
    ("AE", lambda: _born(21, plus_days=1), 21), ("AE", lambda: _born(19), 21),
], ids=["CH-18-tomorrow", "US-17", "AE-21-tomorrow", "AE-19-adult-elsewhere"])
def test_minor_of_the_delivery_country_is_refused_and_told_to_ask_a_parent(make_product, place, code, birth, age):
    watch = make_product()

    error = _refused(place, {watch: 1}, watch, buyer(code, birth=birth()))

    assert error.field == "birth_date" and error.code is ErrorCode.UNDER_AGE
    assert error.message == (f"You must be at least {age} to order. "
                             "A parent or guardian must place the order on your behalf.")


@pytest.mark.clause("GTC-3.1")
def test_inactive_watch_in_a_crafted_cart_is_refused(make_product, place):
    active = make_product()
    retired = make_product(active=False)

    error = _refused(place, {active: 1, retired: 1}, retired)

    assert error.code is ErrorCode.PRODUCT_NOT_OFFERED
    assert stock_of(active) == 5


@pytest.mark.clause("GTC-3.1")
@pytest.mark.parametrize("cart", [{"VX-NOPE-1": 1}, {}], ids=["unknown-reference", "empty-cart"])
def test_unknown_or_empty_cart_is_refused(make_product, place, cart):
    watch = make_product()

    assert _refused(place, cart, watch).code in (ErrorCode.CART_CHANGED, ErrorCode.CART_EMPTY)


@pytest.mark.clause("GTC-3.3")
@pytest.mark.parametrize("quantity, code", [
    (3, ErrorCode.OVER_ORDER_LIMIT), (0, ErrorCode.QUANTITY_BELOW_ONE),
    (-1, ErrorCode.QUANTITY_BELOW_ONE), ("2", ErrorCode.QUANTITY_BELOW_ONE),
])
def test_quantity_over_the_limit_or_not_a_positive_integer_is_refused(make_product, place, quantity, code):
    watch = make_product(stock=10, max_per_order=2)

    assert _refused(place, {watch: quantity}, watch).code is code


@pytest.mark.clause("GTC-3.2")
def test_more_than_in_stock_is_refused(make_product, place):
    watch = make_product(stock=1, max_per_order=3)

    assert _refused(place, {watch: 2}, watch).code is ErrorCode.OVER_STOCK


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("code, region, postal, field", [
    ("CU", "", "10400", "ship_country"), ("UA", "UA-43", "95000", "ship_area"), ("UA", "", "95000", "ship_postal_code")],
    ids=["Cuba", "Crimea-by-region", "Crimea-by-postcode"])
def test_sanctioned_destination_is_refused(make_product, place, code, region, postal, field):
    watch = make_product()

    error = _refused(place, {watch: 1}, watch, buyer(code, area=region, postal_code=postal))

    assert error.field == field
    assert error.message.startswith("We cannot deliver to")


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("info", [
    pytest.param(lambda: buyer(name="Milan Drakovic"), id="buyer-on-the-list"),
    pytest.param(lambda: buyer(name="Anna Keller", ship_name="Tariq Al-Farouk"), id="recipient-on-the-list"),
    pytest.param(lambda: buyer(name="DRAKOVIC, Milan"), id="list-spelling"),
])
def test_sdn_match_is_declined_neutrally_and_nothing_is_created(make_product, place, info):
    watch = make_product()

    error = _refused(place, {watch: 1}, watch, info())

    assert error.code is ErrorCode.ORDER_DECLINED
    assert error.field == ""
    assert not any(word in error.message.lower() for word in ("sanction", "sdn", "ofac", "list"))
    assert _orders_for(watch) == []


@pytest.mark.clause("PAY-7")
@pytest.mark.clause("GTC-3.6")
def test_possible_sdn_match_is_held_for_compliance_review_after_the_card_hold(make_product, place, card_token,
                                                                             stripe_gateway):
    watch = make_product()

    placed = place({watch: 1}, buyer(name="Arkady Beltramov"))

    order = order_row(placed.reference)
    assert order.screening["verdict"] == "possible" and order.screening["entry"] == "91007"
    assert "compliance_hold" in [e.type for e in events_of(placed.reference)]
    assert placed.status == OrderStatus.PENDING_PAYMENT  # the client is not told anything at this point

    outcome = payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None)

    assert outcome.status == "held"
    assert order_row(placed.reference).status == OrderStatus.COMPLIANCE_REVIEW.value


@pytest.mark.clause("PAY-7")
def test_clear_name_is_not_flagged(make_product, place):
    watch = make_product()

    placed = place({watch: 1}, buyer(name="Victoria Kessler"))

    assert order_row(placed.reference).screening["verdict"] == "clear"
    assert "compliance_hold" not in [e.type for e in events_of(placed.reference)]


# -- exactly once, and never more than in stock ------------------------------------------------


def _race(n: int, call):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        try:
            return call(i)
        except CheckoutError as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.mark.clause("GTC-3.4")
def test_same_checkout_key_ten_times_at_once_places_one_order(make_product, place):
    """A double click or a replayed event, even for the last piece in stock, returns the one order."""
    watch = make_product(stock=1, max_per_order=1)
    key, info = new_key(), buyer()

    results = _race(10, lambda _i: place({watch: 1}, info, checkout_key=key))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.reference for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(_orders_with_key(key)) == 1 and len(_orders_for(watch)) == 1
    assert stock_of(watch) == 0


@pytest.mark.clause("GTC-3.4")
def test_replaying_a_placed_order_later_returns_it_unchanged(make_product, place):
    watch = make_product(stock=1, max_per_order=1)
    key = new_key()
    first = place({watch: 1}, checkout_key=key)

    again = place({watch: 1}, checkout_key=key, terms_accepted=False)  # a stale replay of the same step

    assert (again.reference, again.created) == (first.reference, False)
    assert stock_of(watch) == 0


@pytest.mark.clause("GTC-3.2")
def test_twenty_buyers_racing_for_the_last_piece_one_wins(make_product, place):
    watch = make_product(stock=1, max_per_order=1)

    results = _race(20, lambda _i: place({watch: 1}, buyer()))

    placed = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, CheckoutError)]
    assert len(placed) == 1 and len(refused) == 19
    assert all(r.code in (ErrorCode.SOLD_OUT_NOW, ErrorCode.OUT_OF_STOCK) for r in refused)
    assert len(_orders_for(watch)) == 1
    assert stock_of(watch) == 0


@pytest.mark.clause("GTC-3.2")
def test_racing_buyers_never_oversell(make_product, place):
    watch = make_product(stock=3, max_per_order=2)

    results = _race(12, lambda i: place({watch: 1 + i % 2}, buyer()))

    placed = [order_row(r.reference) for r in results if not isinstance(r, Exception)]
    with Session(get_engine()) as s:
        sold = sum(s.exec(select(OrderLine.quantity).where(OrderLine.order_id.in_([o.id for o in placed]))).all())
    assert sold + stock_of(watch) == 3
    assert stock_of(watch) >= 0 and sold >= 2
