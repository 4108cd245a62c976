"""The merchant's working calendar: weekdays minus the public holidays of its canton (GTC-5.1, GTC-5.2).

Dates are judged in the merchant's time zone, not UTC: an order placed at 23:30 UTC on a Friday
is placed on Saturday in Geneva, and the 30-business-day promise starts from that local date.
Counting starts on the first business day AFTER the start's local date, so an order placed late
on a working day is not credited with a day of work that did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays

from storefront.domain.policy import policy

SATURDAY = 5


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str  # IANA name, e.g. "Europe/Zurich"
    country: str  # ISO 3166-1, e.g. "CH"
    subdivision: str | None = None  # canton or state, e.g. "GE"
    _holidays: holidays.HolidayBase = field(init=False, repr=False, compare=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_holidays", holidays.country_holidays(self.country, subdiv=self.subdivision))
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("An aware datetime is needed (store UTC); a naive one has no place in time.")
        return moment.astimezone(self._zone)

    def holiday_name(self, d: date) -> str | None:
        return self._holidays.get(d)

    def is_business_day(self, d: date) -> bool:
        return d.weekday() < SATURDAY and d not in self._holidays

    def add_business_days(self, start: datetime, n: int) -> date:
        """The n-th business day after the local date of `start` (n = 0 gives that local date)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = self.local(start).date()
        while n:
            day += timedelta(days=1)
            if self.is_business_day(day):
                n -= 1
        return day

    def business_days_between(self, a: date, b: date) -> int:
        """Business days d with a < d <= b; negative when b is before a. Inverse of add_business_days."""
        if b < a:
            return -self.business_days_between(b, a)
        return sum(1 for k in range(1, (b - a).days + 1) if self.is_business_day(a + timedelta(days=k)))

    def is_shipping_time(self, moment: datetime) -> bool:
        local = self.local(moment)
        rules = policy()
        return self.is_business_day(local.date()) and rules.shipping_start <= local.time() < rules.shipping_end

    def next_shipping_slot(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` when a parcel may be handed over (GTC-5.2), in local time."""
        local, rules = self.local(moment), policy()
        day = local.date()
        if self.is_business_day(day) and local.time() < rules.shipping_end:
            if local.time() >= rules.shipping_start:
                return local
            return datetime.combine(day, rules.shipping_start, tzinfo=self._zone)
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return datetime.combine(day, rules.shipping_start, tzinfo=self._zone)

    def ship_by_date(self, ordered_at: datetime) -> date:
        return self.add_business_days(ordered_at, policy().ship_within_business_days)
