from decimal import Decimal

import pytest

from storefront.domain.money import Money, exponent, total


@pytest.mark.clause("GTC-4.1")
def test_minor_units_follow_currency_exponent():
    assert exponent("CHF") == 2 and exponent("JPY") == 0
    assert Money.from_decimal("12500.50", "CHF") == Money(1250050, "CHF")
    assert Money.from_decimal("2150000", "JPY") == Money(2150000, "JPY")
    assert Money(1250050, "CHF").to_decimal() == Decimal("12500.50")


@pytest.mark.clause("GTC-4.1")
def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(TypeError):
        Money(12.5, "CHF")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(100, "CHF") + Money(100, "EUR")
    with pytest.raises(TypeError):
        Money(100, "CHF") * 1.5  # type: ignore[operator]


@pytest.mark.clause("GTC-4.1")
def test_arithmetic_is_exact():
    assert Money(1999, "EUR") * 3 == Money(5997, "EUR")
    assert total([Money(1, "USD")] * 10, "USD") == Money(10, "USD")
    assert Money.from_decimal("0.005", "CHF") == Money(1, "CHF")  # half up


@pytest.mark.clause("CARD-2")
def test_amounts_keep_their_currency_in_an_english_display_locale():
    assert Money(1250000, "CHF").format("en_CH") == "CHF\u00a012’500.00"  # Swiss grouping
    assert Money(1320000, "EUR").format("en_DE") == "13.200,00\u00a0€"  # non-breaking space before the sign
    yen = Money(2150000, "JPY").format("en")
    assert yen == "\u00a52,150,000" and "\uffe5" not in yen  # half-width yen sign, no decimals
    assert Money(1450000, "USD").format("en_US") == "$14,500.00"
