import pytest

from storefront.domain.markets import countries
from storefront.domain.money import Money
from storefront.domain.shipping import NoShippingRate, ShippingRow, ShippingTable, default_table, shipping_fee


@pytest.mark.clause("GTC-4.1")
def test_default_fees_per_zone_and_currency():
    table = default_table()
    assert shipping_fee(table, "CH", "CHF") == Money(4500, "CHF")
    assert shipping_fee(table, "EU", "EUR") == Money(8500, "EUR")
    assert shipping_fee(table, "WORLD", "USD") == Money(15000, "USD")
    assert shipping_fee(table, "WORLD", "JPY") == Money(22000, "JPY")
    assert shipping_fee(table, "WORLD", "CNY") == Money(110000, "CNY")
    assert shipping_fee(table, "WORLD", "CHF") == Money(14000, "CHF")


@pytest.mark.clause("GTC-4.1")
def test_every_market_country_can_be_quoted_in_its_currency():
    table = default_table()
    for c in countries():
        assert shipping_fee(table, c.shipping_zone, c.currency).minor > 0, c.code
        assert table.carrier(c.shipping_zone)


@pytest.mark.clause("GTC-4.1")
def test_missing_row_is_an_error_not_free_shipping():
    with pytest.raises(NoShippingRate, match="zone 'CH' in USD"):
        shipping_fee(default_table(), "CH", "USD")
    with pytest.raises(NoShippingRate):
        default_table().carrier("MOON")


@pytest.mark.clause("GTC-4.2")
def test_a_table_from_other_rows_replaces_the_defaults():
    table = ShippingTable((ShippingRow("CH", "CHF", 5000, "Test courier"),))
    assert shipping_fee(table, "CH", "CHF") == Money(5000, "CHF")
    assert table.carrier("CH") == "Test courier"
