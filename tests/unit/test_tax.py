from datetime import date
from decimal import Decimal

import pytest

from storefront.domain.money import Money
from storefront.domain.tax import compute_vat, percent_text, vat_periods, vat_rate


@pytest.mark.clause("GTC-4.1")
def test_rates_follow_the_order_date():
    assert vat_rate("CH", date(2026, 3, 1)) == Decimal("0.081")
    assert vat_rate("CH", date(2024, 1, 1)) == Decimal("0.081")
    assert vat_rate("CH", date(2023, 12, 31)) == Decimal("0.077")
    assert vat_rate("CH", date(2017, 12, 31)) is None
    assert vat_rate("DE", date(2020, 6, 30)) == Decimal("0.19")
    assert vat_rate("DE", date(2020, 7, 1)) == Decimal("0.16")
    assert vat_rate("DE", date(2020, 12, 31)) == Decimal("0.16")
    assert vat_rate("de", date(2021, 1, 1)) == Decimal("0.19")


@pytest.mark.clause("GTC-4.1")
def test_no_vat_outside_switzerland_and_germany():
    for code in ["AT", "FR", "GB", "US", "JP", "AE", "", "ZZ"]:
        assert vat_rate(code, date(2026, 3, 1)) is None
        assert compute_vat(code, Money(1_000_000, "EUR"), date(2026, 3, 1)) is None


@pytest.mark.clause("GTC-4.1")
def test_vat_is_computed_once_on_goods_plus_shipping_and_rounded_half_up():
    goods, shipping = Money(1_250_000, "CHF"), Money(4500, "CHF")  # CHF 12,500.00 + 45.00
    line = compute_vat("CH", goods + shipping, date(2026, 3, 1))
    assert line.amount == Money(101_615, "CHF")  # 12,545.00 x 8.1 % = 1,016.145 -> 1,016.15 (half up)
    assert line.rate == Decimal("0.081") and line.label == "VAT 8.1%"
    assert compute_vat("DE", Money(5, "EUR"), date(2026, 3, 1)).amount == Money(1, "EUR")  # 0.0095 -> 0.01


@pytest.mark.clause("GTC-4.1")
def test_rounding_respects_the_currency_exponent_and_label_has_no_trailing_zeros():
    line = compute_vat("DE", Money(1_234_567, "JPY"), date(2026, 3, 1))
    assert line.amount == Money(234_568, "JPY")  # 234,567.73 -> 234,568
    assert line.label == "VAT 19%"
    assert percent_text(Decimal("0.2")) == "20"


@pytest.mark.clause("GTC-4.1")
def test_periods_of_a_country_do_not_overlap():
    by_country: dict[str, list] = {}
    for period in vat_periods():
        by_country.setdefault(period.country, []).append(period)
    assert set(by_country) == {"CH", "DE"}
    for periods in by_country.values():
        periods.sort(key=lambda p: p.valid_from)
        for earlier, later in zip(periods, periods[1:]):
            assert earlier.valid_to is not None and earlier.valid_to < later.valid_from
        assert periods[-1].valid_to is None  # a current rate exists
