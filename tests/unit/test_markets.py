from datetime import date

import pytest
from babel import Locale
from babel.dates import format_date

from storefront.domain.markets import (
    countries,
    country,
    country_from_accept_language,
    currencies,
    display_locale,
    page_language,
)


@pytest.mark.clause("CARD-2")
def test_seeded_markets_cover_the_required_countries():
    by_code = {c.code: c.currency for c in countries()}
    assert by_code["CH"] == "CHF" and by_code["DE"] == "EUR"
    assert sum(1 for code, cur in by_code.items() if cur == "EUR" and code != "DE") >= 4
    for code, cur in {"GB": "GBP", "US": "USD", "JP": "JPY", "CN": "CNY", "HK": "HKD", "SG": "SGD", "AE": "AED"}.items():
        assert by_code[code] == cur
    assert set(currencies()) == {"CHF", "EUR", "GBP", "USD", "JPY", "CNY", "HKD", "SGD", "AED"}


@pytest.mark.clause("CARD-2")
def test_country_detection_from_browser_language():
    assert country_from_accept_language("de-CH,de;q=0.9,en;q=0.8") == "CH"
    assert country_from_accept_language("ja") == "JP"
    assert country_from_accept_language("en;q=0.5,fr-FR;q=0.9") == "FR"
    assert country_from_accept_language("fa-IR,fa;q=0.9") == "IR"  # sanctioned: detected so it can be told
    assert country_from_accept_language("") is None
    assert country_from_accept_language("xx") is None


def test_country_lookup_is_case_insensitive_and_strict():
    assert country("ch").currency == "CHF"
    assert country("ZZ") is None and country("") is None


@pytest.mark.clause("CARD-2")
def test_every_market_is_formatted_in_the_page_language_not_its_own():
    for market in countries():
        shown = Locale.parse(display_locale(page_language(), market.code))
        assert shown.language == page_language(), market.code
        assert format_date(date(2027, 1, 6), "full", locale=shown).startswith("Wednesday, "), market.code


@pytest.mark.clause("CARD-2")
def test_display_locale_takes_the_country_conventions_only_where_cldr_has_them():
    assert display_locale("en", "CH") == "en_CH"
    assert display_locale("en", "de") == "en_DE"
    assert display_locale("en", "JP") == "en"  # CLDR has no English for Japan: the language alone
    assert display_locale("en", "UA") == "en"
    assert display_locale("de", "CH") == "de_CH"  # a German page for Switzerland (roadmap step 6)
    assert display_locale("en", "") == "en" and display_locale("en", "../x") == "en"
