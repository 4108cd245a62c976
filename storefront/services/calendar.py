"""The merchant's business-day calendar, built from settings (time zone and canton)."""

from functools import lru_cache

from storefront.domain.business_days import BusinessCalendar
from storefront.settings import get_settings


@lru_cache
def merchant_calendar() -> BusinessCalendar:
    s = get_settings()
    return BusinessCalendar(s.merchant_timezone, s.merchant_country, s.merchant_holiday_subdivision)
