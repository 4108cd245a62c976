import pytest

from storefront.domain.markets import countries, country, country_from_accept_language, currencies


@pytest.mark.clause("CARD-2")
def test_seeded_markets_cover_the_required_countries():
    by_code = {c.code: c.currency for c in countries()}
    assert by_code["CH"] == "CHF" and by_code["DE"] == "EUR"
    assert sum(1 for code, cur in by_code.items() if cur == "EUR" and code != "DE") >= 4
    for code, cur in {"GB": "GBP", "US": "USD", "JP": "JPY", "CN": "CNY", "HK": "HKD", "SG": "SGD", "AE": "AED"}.items():
        assert by_code[code] == cur
    assert set(currencies()) == {"CHF", "EUR", "GBP", "USD", "JPY", "CNY", "HKD", "SGD", "AED"}


@pytest.mark.clause("GTC-4.1")
def test_country_detection_from_browser_language():
    assert country_from_accept_language("de-CH,de;q=0.9,en;q=0.8") == "CH"
    assert country_from_accept_language("ja") == "JP"
    assert country_from_accept_language("en;q=0.5,fr-FR;q=0.9") == "FR"
    assert country_from_accept_language("fa-IR,fa;q=0.9") == "IR"  # sanctioned: detected so it can be told
    assert country_from_accept_language("") is None
    assert country_from_accept_language("xx") is None


@pytest.mark.clause("GTC-4.1")
def test_country_lookup_is_case_insensitive_and_strict():
    assert country("ch").currency == "CHF"
    assert country("ZZ") is None and country("") is None
