"""Sanctioned destinations against the real database (PAY-7): the delivery and the billing address are
screened alike, by country, region, postcode and town, at step 2 and again when the order is placed.

The list is the seeded `sanctioned_destination` table, so these tests also prove the seed carries the
place names and that a change staff make to the table is what counts.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order, SanctionedDestination
from storefront.domain.errors import ErrorCode
from storefront.domain.order_info import Address, OrderInfo
from storefront.services import checkout
from storefront.services.checkout import CheckoutError
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import new_key, stock_of

pytestmark = pytest.mark.usefixtures("database")

ZURICH = Address("Anna Keller", "Bahnhofstrasse 12", "Zürich", "8001", "", "CH")
KYIV = Address("Olena Koval", "Khreshchatyk 1", "KYIV", "01001", "місто Київ", "UA")


def client(shipping: Address = ZURICH, billing: Address | None = None) -> OrderInfo:
    return OrderInfo(f"client-{secrets.token_hex(4)}@example.com", "+41446681800", "Anna Keller", date(1985, 4, 12),
                     shipping, billing or shipping)


def refusal_of(info: OrderInfo) -> CheckoutError:
    with pytest.raises(CheckoutError) as caught:
        checkout.check_buyer(info)
    return caught.value


def _orders_with_key(key: str) -> list[Order]:
    with Session(get_engine()) as s:
        return s.exec(select(Order).where(Order.checkout_key == key)).all()


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("billing, place", [
    (Address("Kim Chol", "Sungri Street 1", "Pyongyang", "", "", "KP"), "North Korea"),
    (Address("Ali Rezaei", "Valiasr Street 1", "Tehran", "1511111111", "", "IR"), "Iran"),
], ids=["North-Korea", "Iran"])
def test_a_billing_address_in_an_embargoed_country_is_refused_at_its_country_field(billing, place):
    error = refusal_of(client(billing=billing))

    assert (error.code, error.field) == (ErrorCode.BILLING_SANCTIONED, "bill_country")
    assert place in error.message


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("billing, field", [
    (replace(KYIV, area="Автономна Республіка Крим", postal_code="95000", city="СІМФЕРОПОЛЬ"), "bill_area"),
    (replace(KYIV, city="Сімферополь"), "bill_city"),
    (replace(KYIV, city="Симферополь"), "bill_city"),
    (replace(KYIV, postal_code="95000"), "bill_postal_code"),
    (Address("Anna Keller", "ul. Lenina 1", "Simferopol", "295000", "Москва", "RU"), "bill_postal_code"),
], ids=["by-region", "Ukrainian-spelling", "Russian-spelling", "by-postcode", "written-as-Russia"])
def test_a_billing_address_in_crimea_is_refused_however_it_is_written(billing, field):
    error = refusal_of(client(billing=billing))

    assert (error.code, error.field, error.refusal.params) == (ErrorCode.BILLING_SANCTIONED, field, {"place": "Crimea"})


@pytest.mark.clause("PAY-7")
def test_delivery_to_crimea_by_town_name_is_refused_at_the_city_field():
    error = refusal_of(client(shipping=replace(KYIV, city="Сімферополь")))

    assert (error.code, error.field) == (ErrorCode.DESTINATION_SANCTIONED, "ship_city")


@pytest.mark.clause("PAY-7")
def test_an_address_in_ukraine_without_a_known_region_is_sent_back_to_the_region_field():
    assert refusal_of(client(shipping=replace(KYIV, area=""))).code is ErrorCode.REGION_NOT_LISTED
    error = refusal_of(client(billing=replace(KYIV, area="UA-99")))
    assert (error.code, error.field) == (ErrorCode.REGION_NOT_LISTED, "bill_area")


@pytest.mark.clause("PAY-7")
def test_elsewhere_in_ukraine_delivery_and_billing_pass():
    checkout.check_buyer(client(shipping=KYIV))
    checkout.check_buyer(client(billing=replace(KYIV, area="Запорізька область", postal_code="69000",
                                                city="Zaporizhzhia")))
    checkout.check_buyer(client(billing=replace(KYIV, area="Херсонська область", postal_code="73000", city="Kherson")))


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("billing", [
    Address("Kim Chol", "Sungri Street 1", "Pyongyang", "", "", "KP"),
    replace(KYIV, city="Луганськ"),
], ids=["North-Korea", "Luhansk-by-town"])
def test_placing_the_order_refuses_a_sanctioned_billing_address_and_creates_nothing(make_product, place, billing):
    """The browser may skip step 2: the confirmation screens the billing address again."""
    watch = make_product()
    key = new_key()

    with pytest.raises(CheckoutError) as caught:
        place({watch: 1}, client(billing=billing), checkout_key=key)

    assert caught.value.code is ErrorCode.BILLING_SANCTIONED
    assert _orders_with_key(key) == [] and stock_of(watch) == 5


@pytest.mark.clause("PAY-7")
def test_place_names_staff_add_to_the_table_are_what_counts():
    town = f"Testgrad{secrets.token_hex(3)}"
    billing = replace(KYIV, city=town)
    checkout.check_buyer(client(billing=billing))
    with UnitOfWork() as uow:
        row = uow.session.exec(select(SanctionedDestination).where(
            SanctionedDestination.country == "UA", SanctionedDestination.region == "UA-09")).one()
        row.places = [*row.places, town]
        uow.session.add(row)
        uow.commit()

    assert refusal_of(client(billing=billing)).field == "bill_city"
