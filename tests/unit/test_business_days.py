from datetime import date, datetime, timedelta, timezone

import pytest

from storefront.domain.business_days import BusinessCalendar

GENEVA = BusinessCalendar("Europe/Zurich", "CH", "GE")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.clause("GTC-5.1")
def test_geneva_public_holidays_are_not_business_days():
    for holiday in [date(2026, 9, 10),   # Jeûne genevois (Thursday)
                    date(2026, 12, 31),  # Restauration de la République
                    date(2026, 12, 25), date(2026, 4, 6), date(2026, 4, 3), date(2026, 1, 1)]:
        assert not GENEVA.is_business_day(holiday), holiday
        assert GENEVA.holiday_name(holiday)
    assert GENEVA.is_business_day(date(2026, 9, 9))
    assert GENEVA.is_business_day(date(2026, 12, 28))


@pytest.mark.clause("GTC-5.1")
def test_weekends_are_not_business_days():
    assert not GENEVA.is_business_day(date(2026, 9, 12))  # Saturday
    assert not GENEVA.is_business_day(date(2026, 9, 13))  # Sunday
    assert GENEVA.is_business_day(date(2026, 9, 14))  # Monday


@pytest.mark.clause("GTC-5.1")
def test_counting_starts_the_business_day_after_and_skips_holidays_and_weekends():
    wednesday = utc(2026, 9, 9, 10, 0)
    assert GENEVA.add_business_days(wednesday, 0) == date(2026, 9, 9)
    assert GENEVA.add_business_days(wednesday, 1) == date(2026, 9, 11)  # Thursday is Jeûne genevois
    assert GENEVA.add_business_days(wednesday, 2) == date(2026, 9, 14)  # over the weekend


@pytest.mark.clause("GTC-5.1")
def test_the_local_date_of_the_order_counts_not_the_utc_date():
    friday_night_utc = utc(2026, 3, 13, 23, 30)  # 00:30 on Saturday in Zurich (CET)
    assert GENEVA.local(friday_night_utc).date() == date(2026, 3, 14)
    assert GENEVA.add_business_days(friday_night_utc, 0) == date(2026, 3, 14)
    thursday_late = utc(2026, 7, 2, 22, 30)  # 00:30 Friday in summer time (CEST)
    thursday_evening = utc(2026, 7, 2, 21, 30)  # 23:30 Thursday
    assert GENEVA.add_business_days(thursday_late, 1) == date(2026, 7, 6)
    assert GENEVA.add_business_days(thursday_evening, 1) == date(2026, 7, 3)


@pytest.mark.clause("GTC-5.1")
def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        GENEVA.add_business_days(datetime(2026, 3, 13, 12, 0), 1)
    with pytest.raises(ValueError):
        GENEVA.add_business_days(utc(2026, 3, 13, 12, 0), -1)


@pytest.mark.clause("GTC-5.1")
def test_ship_by_date_is_thirty_business_days_over_the_year_end():
    ordered = utc(2026, 12, 1, 10, 0)  # Tuesday
    ship_by = GENEVA.ship_by_date(ordered)
    # Christmas, Restauration genevoise (31 Dec) and New Year fall inside the window
    assert ship_by == date(2027, 1, 15)
    assert GENEVA.business_days_between(date(2026, 12, 1), ship_by) == 30


def test_business_days_between_is_the_inverse_of_adding_them():
    start = utc(2026, 9, 1, 9, 0)
    for n in [0, 1, 5, 20, 51]:
        end = GENEVA.add_business_days(start, n)
        assert GENEVA.business_days_between(date(2026, 9, 1), end) == n
        assert GENEVA.business_days_between(end, date(2026, 9, 1)) == -n
    assert GENEVA.business_days_between(date(2026, 9, 11), date(2026, 9, 13)) == 0  # weekend only


@pytest.mark.clause("GTC-5.2")
def test_shipping_hours_in_local_time_on_business_days_only():
    monday = date(2026, 9, 14)  # CEST, UTC+2
    at = lambda d, h, m: utc(d.year, d.month, d.day, h, m)  # noqa: E731
    assert not GENEVA.is_shipping_time(at(monday, 5, 59))  # 07:59 local
    assert GENEVA.is_shipping_time(at(monday, 6, 0))  # 08:00 local
    assert GENEVA.is_shipping_time(at(monday, 14, 59))  # 16:59 local
    assert not GENEVA.is_shipping_time(at(monday, 15, 0))  # 17:00 local: closed
    assert not GENEVA.is_shipping_time(at(date(2026, 9, 10), 8, 0))  # Jeûne genevois
    assert not GENEVA.is_shipping_time(at(monday - timedelta(days=2), 8, 0))  # Saturday
    winter_monday = utc(2026, 12, 14, 7, 0)  # 08:00 CET, UTC+1
    assert GENEVA.is_shipping_time(winter_monday)
    assert not GENEVA.is_shipping_time(winter_monday - timedelta(minutes=1))
