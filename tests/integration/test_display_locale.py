"""Pages, emails and documents are English for every delivery country (issue 7, section 7).

Before, each country's own locale formatted what the client read: "Freitag, 15. Januar 2027" and
a full-width "￥2,380,000" on English pages. Expected strings are written out by hand; Babel
separates amount and sign with a non-breaking space (U+00A0), so the literals carry it.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlmodel import Session, select

from storefront.services.unit_of_work import UnitOfWork
from storefront.adapters.db import get_engine
from storefront.adapters.email_render import render_order_confirmation
from storefront.adapters.tables import Order
from storefront.domain.markets import country, display_locale, page_language
from storefront.domain.money import Money
from storefront.domain.quote import QuoteLine, quote
from storefront.domain.shipping import default_table
from storefront.services import cart as cart_service
from storefront.services import catalogue
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.services.documents import order_document
from storefront.services.order_view import totals_view
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import PRICES, buyer

AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)  # Tuesday; 30 Geneva business days later is Friday 15 January 2027
FOREIGN = re.compile(r"\b(Freitag|Dienstag|Januar|Dezember)\b|[年月日]|\uffe5")  # German or Japanese dates, full-width yen

EXPECTED = {
    "CH": dict(unit="CHF\u00a012’345.65", ship_by="Friday, 15 January 2027", terms_date="1 January 2026"),
    "DE": dict(unit="9.915,50\u00a0€", ship_by="Friday, 15 January 2027", terms_date="1 January 2026"),
    "JP": dict(unit="\u00a52,380,000", ship_by="Friday, January 15, 2027", terms_date="January 1, 2026"),
}


def _english(*texts: str) -> None:
    for text in texts:
        assert not FOREIGN.search(text), text


@pytest.mark.clause("CARD-2")
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_catalogue_cart_and_checkout_totals_are_english_in_the_market_currency(code, make_product):
    market, expected = country(code), EXPECTED[code]
    reference = make_product()
    detail = catalogue.product_detail(UnitOfWork(), reference.lower(), market)
    cart = cart_service.view(UnitOfWork(), {reference: 1}, market)
    line = QuoteLine(reference, "Test", 1, Money(PRICES[market.currency], market.currency))
    totals = totals_view(quote([line], market, default_table(), merchant_calendar(), AT))

    assert detail.price == cart.lines[0].unit_price == cart.subtotal == totals.lines[0].unit_price == expected["unit"]
    assert totals.ship_by == expected["ship_by"]
    _english(detail.price, detail.diameter, cart.subtotal, totals.subtotal, totals.shipping, totals.vat_amount,
             totals.total, totals.ship_by)


@pytest.mark.clause("CARD-2")
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_order_document_and_confirmation_email_are_english(code, make_product, place):
    expected = EXPECTED[code]
    reference = make_product()
    placed = place({reference: 1}, buyer(code), at=AT)
    with Session(get_engine()) as s:
        order = s.exec(select(Order).where(Order.reference == placed.reference)).one()
        doc = order_document(s, order)
        stored_locale = order.locale

    assert stored_locale == display_locale(page_language(), code)  # the column holds the display locale
    assert doc.lines[0].unit_price == expected["unit"]
    assert doc.ship_by == expected["ship_by"]
    assert doc.terms_date == expected["terms_date"]
    assert "Dec" in doc.placed_at and "2026" in doc.placed_at
    email = render_order_confirmation(doc)
    assert f"We will ship by {expected['ship_by']}." in email.text
    _english(doc.placed_at, doc.subtotal, doc.shipping, doc.total, doc.ship_by, doc.terms_date, email.text, email.html)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_terms_dates_are_english(code, database):
    locale = display_locale(page_language(), code)
    shown = terms_service.view(UnitOfWork(), None, locale)
    assert shown.published == EXPECTED[code]["terms_date"]
    assert (shown.version, shown.published) in terms_service.archive(UnitOfWork(), locale)
