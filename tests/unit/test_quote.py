"""Order totals as the checkout computes them (GTC-4.1) and the promised ship-by date (GTC-5.1).

Expected figures are worked out by hand in the tests, not by calling the code under test again:
VAT once on (goods + shipping), rounded half up to the currency's minor unit; shipping from the
zone table (CHF 45.00 in Switzerland, EUR 85.00 in the EU, 150.00 / JPY 22,000 world-wide).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from storefront.domain.business_days import BusinessCalendar
from storefront.domain.markets import country, display_locale, page_language
from storefront.domain.money import Money
from storefront.domain.quote import QuoteLine, quote
from storefront.domain.shipping import default_table

GENEVA = BusinessCalendar("Europe/Zurich", "CH", "GE")
AT = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)  # Monday morning in Geneva
DUTIES = "Import duties, VAT and other local charges are not included and are payable by you on delivery."


def _quote(code: str, *lines: tuple[int, int], at: datetime = AT):
    c = country(code)
    return quote([QuoteLine(f"VX-T{i}", f"Test watch {i}", qty, Money(minor, c.currency)) for i, (minor, qty) in enumerate(lines)],
                 c, default_table(), GENEVA, at)


@pytest.mark.clause("GTC-4.1")
def test_switzerland_adds_vat_8_1_percent_on_goods_and_shipping():
    q = _quote("CH", (1_234_565, 1), (250_000, 2))  # CHF 12,345.65 + 2 x CHF 2,500.00

    assert q.subtotal == Money(1_734_565, "CHF")
    assert q.shipping == Money(4_500, "CHF")
    # 17,390.65 x 8.1 % = 1,408.64265 -> 1,408.64
    assert q.vat.rate == Decimal("0.081") and q.vat.amount == Money(140_864, "CHF")
    assert q.vat.label == "VAT 8.1%"
    assert q.total == Money(1_734_565 + 4_500 + 140_864, "CHF")
    assert q.duties_notice is None


@pytest.mark.clause("GTC-4.1")
def test_switzerland_vat_rounds_half_up_not_to_even():
    q = _quote("CH", (996_000, 1))  # taxable 10,005.00: 8.1 % = 810.405 exactly -> 810.41 (banker's would give 810.40)

    assert q.vat.amount == Money(81_041, "CHF")
    assert q.total == Money(996_000 + 4_500 + 81_041, "CHF")


@pytest.mark.clause("GTC-4.1")
def test_vat_is_computed_once_on_the_order_not_per_line():
    # Each line alone: 0.15 x 8.1 % = 0.01215 -> 0.01, three lines would sum to 0.03;
    # on the order: (0.45 + 45.00) x 8.1 % = 3.68145 -> 3.68.
    q = _quote("CH", (15, 1), (15, 1), (15, 1))

    assert q.vat.amount == Money(368, "CHF")
    assert q.total == Money(45 + 4_500 + 368, "CHF")


@pytest.mark.clause("GTC-4.1")
def test_germany_adds_19_percent_vat_with_eu_shipping_half_up():
    q = _quote("DE", (991_550, 1))  # taxable 10,000.50 EUR: 19 % = 1,900.095 -> 1,900.10

    assert q.shipping == Money(8_500, "EUR")
    assert q.vat.rate == Decimal("0.19") and q.vat.label == "VAT 19%"
    assert q.vat.amount == Money(190_010, "EUR")
    assert q.total == Money(991_550 + 8_500 + 190_010, "EUR")
    assert q.duties_notice is None


@pytest.mark.clause("GTC-4.1")
def test_vat_rate_is_the_one_in_force_on_the_merchants_local_order_date():
    # 31 Dec 2023 23:30 UTC is already 1 Jan 2024 in Geneva: the new 8.1 % applies, not 7.7 %.
    new_year = _quote("CH", (1_000_000, 1), at=datetime(2023, 12, 31, 23, 30, tzinfo=timezone.utc))
    old_year = _quote("CH", (1_000_000, 1), at=datetime(2023, 12, 31, 22, 30, tzinfo=timezone.utc))

    assert new_year.vat.rate == Decimal("0.081") and new_year.vat.amount == Money(81_365, "CHF")  # 10,045.00 x 8.1 %
    assert old_year.vat.rate == Decimal("0.077") and old_year.vat.amount == Money(77_347, "CHF")  # 10,045.00 x 7.7 % = 773.465


@pytest.mark.clause("GTC-4.1")
@pytest.mark.parametrize("code, name", [("US", "United States"), ("FR", "France"), ("GB", "United Kingdom")])
def test_other_countries_pay_no_vat_and_are_told_duties_are_theirs(code, name):
    c = country(code)
    q = _quote(code, (1_850_000, 1))

    assert q.vat is None
    assert q.total == q.subtotal + q.shipping
    assert q.duties_notice == f"No VAT is added for delivery to {name}. {DUTIES}"
    assert q.total.currency == c.currency


@pytest.mark.clause("GTC-4.1")
def test_us_world_shipping_in_dollars():
    q = _quote("US", (1_850_000, 2))

    assert q.subtotal == Money(3_700_000, "USD") and q.shipping == Money(15_000, "USD")
    assert q.total == Money(3_715_000, "USD")
    assert q.total.format(display_locale(page_language(), "US")) == "$37,150.00"


@pytest.mark.clause("GTC-4.1")
def test_japan_yen_has_no_decimals_and_no_vat():
    q = _quote("JP", (2_380_000, 1))  # JPY 2,380,000: minor unit == yen

    assert q.shipping == Money(22_000, "JPY")
    assert q.vat is None and "Japan" in q.duties_notice
    assert q.total == Money(2_402_000, "JPY")
    assert q.total.to_decimal() == Decimal(2_402_000)
    assert q.total.format(display_locale(page_language(), "JP")) == "\u00a52,402,000"  # half-width yen, no decimals


@pytest.mark.clause("GTC-4.1")
def test_lines_in_another_currency_than_the_destination_are_refused():
    with pytest.raises(ValueError):
        quote([QuoteLine("VX-T1", "Test", 1, Money(100_000, "CHF"))], country("DE"), default_table(), GENEVA, AT)


@pytest.mark.clause("GTC-5.1")
def test_ship_by_is_30_business_days_after_the_order():
    # From Monday 3 March 2025: 4 days that week, then five full weeks (25), then Mon 14 April.
    assert _quote("CH", (100_000, 1)).ship_by == date(2025, 4, 14)


@pytest.mark.clause("GTC-5.1")
def test_ship_by_skips_weekends_and_geneva_public_holidays():
    # From Tuesday 1 April 2025: Good Friday (18 Apr) and Easter Monday (21 Apr) are not counted.
    q = _quote("US", (100_000, 1), at=datetime(2025, 4, 1, 10, 0, tzinfo=timezone.utc))
    assert q.ship_by == date(2025, 5, 15)


@pytest.mark.clause("GTC-5.1")
def test_ship_by_counts_from_the_merchants_local_date():
    thursday_evening = _quote("CH", (100_000, 1), at=datetime(2025, 3, 6, 22, 30, tzinfo=timezone.utc))  # 23:30 Thu in Geneva
    after_midnight = _quote("CH", (100_000, 1), at=datetime(2025, 3, 6, 23, 30, tzinfo=timezone.utc))  # 00:30 Fri in Geneva

    assert thursday_evening.ship_by == date(2025, 4, 17)
    assert after_midnight.ship_by == date(2025, 4, 22)  # Good Friday and Easter Monday in between
