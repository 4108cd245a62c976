"""GTC-5.4 thresholds over the merchant's calendar (Geneva): the notice on the 20th business day past the date
shown, the offer once the delay exceeds 51 (calendar) days, and the date staff may propose."""

from datetime import date, datetime, timezone

import pytest

from storefront.domain import delays
from storefront.domain.business_days import BusinessCalendar

GENEVA = BusinessCalendar("Europe/Zurich", "CH", "GE")


@pytest.mark.clause("GTC-5.4")
def test_the_notice_waits_for_twenty_business_days_not_counting_christmas_and_the_restoration():
    ship_by = date(2026, 12, 1)  # Tuesday; 25 and 31 December are Geneva holidays, then 1 January
    assert not delays.notice_due(GENEVA, ship_by, date(2026, 12, 29))  # 19 business days: 20 without the holidays
    assert delays.notice_due(GENEVA, ship_by, date(2026, 12, 30))  # the 20th business day
    assert delays.notice_due(GENEVA, ship_by, date(2027, 1, 4))


@pytest.mark.clause("GTC-5.4")
def test_the_notice_skips_the_jeune_genevois_and_weekends():
    ship_by = date(2026, 8, 28)  # Friday
    assert not delays.notice_due(GENEVA, ship_by, date(2026, 9, 25))  # Jeûne genevois (10 Sept) not counted
    assert not delays.notice_due(GENEVA, ship_by, date(2026, 9, 27))  # a Sunday adds nothing
    assert delays.notice_due(GENEVA, ship_by, date(2026, 9, 28))


@pytest.mark.clause("GTC-5.4")
def test_the_offer_comes_once_the_delay_exceeds_51_calendar_days_holidays_included():
    ship_by = date(2026, 12, 1)
    assert not delays.offer_due(ship_by, date(2027, 1, 21))  # 51 days late: not beyond
    assert delays.offer_due(ship_by, date(2027, 1, 22))  # 52 days
    assert not delays.offer_due(ship_by, ship_by)


def test_staff_may_propose_only_a_business_day_after_today():
    today = date(2026, 12, 22)
    assert delays.proposal_valid(GENEVA, date(2026, 12, 23), today)
    assert not delays.proposal_valid(GENEVA, today, today)
    assert not delays.proposal_valid(GENEVA, date(2026, 12, 25), today)  # Christmas
    assert not delays.proposal_valid(GENEVA, date(2026, 12, 26), today)  # Saturday
    assert not delays.proposal_valid(GENEVA, datetime(2026, 12, 23, tzinfo=timezone.utc), today)
    assert not delays.proposal_valid(GENEVA, "2026-12-23", today)


def test_the_next_expected_date_is_thirty_business_days_from_the_offer():
    at = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    assert delays.next_expected(GENEVA, at) == GENEVA.add_business_days(at, 30)
    assert GENEVA.is_business_day(delays.next_expected(GENEVA, at))
