from dataclasses import replace
from datetime import date

import pytest

from storefront.domain.majority import age_on, check_majority
from storefront.domain.markets import country

TODAY = date(2026, 6, 15)


@pytest.mark.clause("GTC-2.2")
def test_age_counts_completed_years():
    assert age_on(date(2008, 6, 15), TODAY) == 18
    assert age_on(date(2008, 6, 16), TODAY) == 17
    assert age_on(date(1990, 1, 1), TODAY) == 36


@pytest.mark.clause("GTC-2.2")
def test_leap_day_birthdays_come_of_age_on_1_march_in_common_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_on(born, date(2028, 2, 29)) == 20


@pytest.mark.clause("GTC-2.2")
def test_adult_passes_and_minor_is_told_a_parent_must_order():
    ch = country("CH")
    assert check_majority(date(2008, 6, 15), ch, TODAY) is None
    message = check_majority(date(2008, 6, 16), ch, TODAY)
    assert message == ("You must be at least 18 to order. "
                       "A parent or guardian must place the order on your behalf.")


@pytest.mark.clause("GTC-2.2")
def test_majority_age_comes_from_the_country_data():
    ae = country("AE")
    assert ae.majority_age == 21
    assert check_majority(date(2006, 1, 1), ae, TODAY).startswith("You must be at least 21")
    assert check_majority(date(2005, 6, 15), ae, TODAY) is None
    assert check_majority(date(2008, 1, 1), replace(country("CH"), majority_age=19), TODAY).startswith(
        "You must be at least 19")


@pytest.mark.clause("GTC-2.2")
def test_impossible_birth_dates_are_refused_with_a_clear_message():
    ch = country("CH")
    assert "future" in check_majority(date(2026, 6, 16), ch, TODAY)
    assert "120 years" in check_majority(date(1906, 6, 14), ch, TODAY)
    assert check_majority(date(1906, 6, 15), ch, TODAY) is None  # exactly 120 is still plausible
    assert check_majority(date(1906, 2, 28), ch, date(2026, 2, 28)) is None
