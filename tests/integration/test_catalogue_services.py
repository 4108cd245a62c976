"""Catalogue, prices and cart against the real database layer (SQLite, or PostgreSQL via REFLEX_DB_URL)."""

import json

import pytest
from sqlmodel import Session, select

from storefront.services.unit_of_work import UnitOfWork
from storefront.adapters.tables import Product, ProductPrice
from storefront.domain.errors import ErrorCode
from storefront.domain.markets import country
from storefront.services import cart as cart_service
from storefront.services import catalogue
from storefront.services.markets import country_options, deliverable, sanctioned_countries
from storefront.services.seed import seed_all

pytestmark = pytest.mark.usefixtures("database")


def _products(engine, **where):
    with Session(engine) as s:
        rows = s.exec(select(Product)).all()
        return [p for p in rows if all(getattr(p, k) == v for k, v in where.items())]


@pytest.mark.clause("GTC-3.1")
def test_seed_is_idempotent_and_catalogue_is_large_enough(database):
    assert seed_all() == {"collections": 0, "products": 0, "prices": 0, "destinations": 0, "terms": 0, "staff": 0}
    listed = catalogue.list_products(UnitOfWork(), country("CH"))
    assert len(listed) >= 12
    assert len({c.collection for c in listed}) >= 3


@pytest.mark.clause("GTC-3.1")
def test_inactive_products_are_neither_listed_nor_shown_nor_addable(database):
    inactive = _products(database, active=False)
    assert inactive, "the demo catalogue keeps one inactive watch to prove this rule"
    hidden = inactive[0]
    assert hidden.reference not in {c.reference for c in catalogue.list_products(UnitOfWork(), country("CH"))}
    assert catalogue.product_detail(UnitOfWork(), hidden.slug, country("CH")) is None
    assert catalogue.lead_image(UnitOfWork(), hidden.slug) is None  # its photograph is not put in any page
    cart, refusal = cart_service.set_quantity(UnitOfWork(), {}, hidden.reference, 1, add=True)
    assert cart == {} and refusal.code is ErrorCode.PRODUCT_UNAVAILABLE
    # A crafted cart in localStorage holding it is cleaned on the next read.
    view = cart_service.view(UnitOfWork(), {hidden.reference: 1}, country("CH"))
    assert view.lines == [] and view.cart == {}


@pytest.mark.clause("GTC-4.1")
@pytest.mark.clause("CARD-2")
def test_each_market_uses_its_own_price_list(database):
    product = _products(database, active=True)[0]
    with Session(database) as s:
        prices = {p.currency: p.amount_minor for p in s.exec(select(ProductPrice).where(ProductPrice.product_id == product.id))}
    assert {"CHF", "EUR", "GBP", "USD", "JPY", "CNY", "HKD", "SGD", "AED"} <= set(prices)
    ch = catalogue.product_detail(UnitOfWork(), product.slug, country("CH"))
    jp = catalogue.product_detail(UnitOfWork(), product.slug, country("JP"))
    de = catalogue.product_detail(UnitOfWork(), product.slug, country("DE"))
    assert ch.price.startswith("CHF")
    assert jp.price == f"¥{prices['JPY']:,}"  # half-width yen of the English page; no decimals
    assert de.price.endswith("\u00a0€")


@pytest.mark.clause("GTC-4.1")
def test_sort_by_price_and_filters(database):
    ch = country("CH")
    asc = [c.price_minor for c in catalogue.list_products(UnitOfWork(), ch, sort="price_asc")]
    assert asc == sorted(asc)
    desc = [c.price_minor for c in catalogue.list_products(UnitOfWork(), ch, sort="price_desc")]
    assert desc == sorted(desc, reverse=True)
    first = catalogue.collections(UnitOfWork())[0]
    only = catalogue.list_products(UnitOfWork(), ch, collection=first.slug)
    assert only and all(c.collection_slug == first.slug for c in only)
    material = catalogue.materials(UnitOfWork())[0]
    assert all(c.case_material == material for c in catalogue.list_products(UnitOfWork(), ch, material=material))


@pytest.mark.clause("GTC-3.3")
def test_cart_refuses_over_limit_and_over_stock_and_stores_nothing(database):
    limited = next(p for p in _products(database, active=True) if p.stock > p.max_per_order)
    cart, refusal = cart_service.set_quantity(UnitOfWork(), {}, limited.reference, limited.max_per_order, add=True)
    assert refusal is None and cart == {limited.reference: limited.max_per_order}
    again, refusal = cart_service.set_quantity(UnitOfWork(), cart, limited.reference, 1, add=True)
    assert again == cart and refusal.code is ErrorCode.OVER_ORDER_LIMIT and refusal.params["limit"] == limited.max_per_order
    scarce = next(p for p in _products(database, active=True) if 0 < p.stock < p.max_per_order)
    cart, refusal = cart_service.set_quantity(UnitOfWork(), {}, scarce.reference, scarce.stock + 1)
    assert cart == {} and refusal.code is ErrorCode.OVER_STOCK and refusal.params["stock"] == scarce.stock


@pytest.mark.clause("GTC-3.2")
def test_out_of_stock_cannot_be_added_and_is_dropped_from_a_stored_cart(database):
    gone = next(p for p in _products(database, active=True) if p.stock == 0)
    cart, refusal = cart_service.set_quantity(UnitOfWork(), {}, gone.reference, 1, add=True)
    assert cart == {} and refusal.code is ErrorCode.OUT_OF_STOCK
    view = cart_service.view(UnitOfWork(), {gone.reference: 1}, country("CH"))
    assert view.cart == {} and any("out of stock" in n for n in view.notices)


@pytest.mark.clause("GTC-3.3")
def test_garbage_from_the_browser_is_ignored(database):
    assert cart_service.parse("not json") == {}
    assert cart_service.parse(json.dumps({"VX-1": -2, "VX-2": "3", "VX-3": 1.5, "VX-4": True})) == {}
    assert cart_service.parse(json.dumps([1, 2])) == {}


@pytest.mark.clause("PAY-7")
def test_sanctioned_countries_are_not_offered(database):
    blocked = sanctioned_countries()
    assert {"CU", "IR", "KP", "SY"} <= set(blocked)
    offered = {o.code for o in country_options()}
    assert not offered & set(blocked)
    assert deliverable("IR") is None and deliverable("CH") is not None


def test_a_product_page_first_html_carries_the_photograph_the_page_shows(database):
    shown = _products(database, active=True)[0]
    detail = catalogue.product_detail(UnitOfWork(), shown.slug, country("CH"))
    assert catalogue.lead_image(UnitOfWork(), shown.slug) == detail.images[0]
    assert catalogue.lead_image(UnitOfWork(), "no-such-watch") is None
    assert catalogue.lead_image(UnitOfWork(), ["not", "a", "slug"]) is None


def test_the_listing_first_html_carries_the_photographs_of_its_first_cards(database):
    chf = country("CH")
    cards = catalogue.list_products(UnitOfWork(), chf)
    assert catalogue.first_card_images(UnitOfWork(), chf, "", 4) == [c.image for c in cards[:4]]
    one = cards[0].collection_slug
    assert catalogue.first_card_images(UnitOfWork(), chf, one, 2) == \
        [c.image for c in catalogue.list_products(UnitOfWork(), chf, one)[:2]]
    assert catalogue.first_card_images(UnitOfWork(), chf, "no-such-collection", 4) == []
    assert catalogue.first_card_images(UnitOfWork(), chf, ["crafted"], 4) == [c.image for c in cards[:4]]
