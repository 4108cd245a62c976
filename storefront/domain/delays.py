"""When a late order is owed a word, and when an offer (GTC-5.4). Pure rules over the merchant's calendar.

Both thresholds count from the ship-by date shown to the client (GTC-5.1), or from the new delivery date the
client agreed, judged on the merchant's local date:

- the notice: once 20 business days (policy `delay_notice_business_days`) have passed since that date, i.e. on
  the 20th business day after it (`BusinessCalendar.business_days_between`: holidays of the canton and weekends
  are not counted);
- the offer of a new date or cancellation: once the delay exceeds 51 calendar days (policy
  `cancellation_offer_days`): on the 52nd day after that date. The clause says days, not business days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from storefront.domain.business_days import BusinessCalendar
from storefront.domain.policy import policy
from storefront.rules import load


@dataclass(frozen=True)
class FollowUp:
    remind_every: timedelta
    task_after: timedelta
    next_expected_business_days: int


@lru_cache
def follow_up() -> FollowUp:
    spec = load("delays")["delays"]
    return FollowUp(timedelta(days=int(spec["remind_every_days"])), timedelta(days=int(spec["task_after_days"])),
                    int(spec["next_expected_business_days"]))


def notice_due(calendar: BusinessCalendar, counted_from: date, today: date) -> bool:
    """The notice is owed from the 20th business day after the date shown (GTC-5.4)."""
    return calendar.business_days_between(counted_from, today) >= policy().delay_notice_business_days


def offer_due(counted_from: date, today: date) -> bool:
    """The delay exceeds 51 days: the client is offered a new date or cancellation (GTC-5.4)."""
    return (today - counted_from).days > policy().cancellation_offer_days


def next_expected(calendar: BusinessCalendar, at: datetime) -> date:
    """The new date offered when staff proposed none: the shipping time of the terms, from the offer."""
    return calendar.add_business_days(at, follow_up().next_expected_business_days)


def proposal_valid(calendar: BusinessCalendar, proposed: object, today: date) -> bool:
    """A date staff may propose: a business day after today."""
    return (isinstance(proposed, date) and not isinstance(proposed, datetime) and proposed > today
            and calendar.is_business_day(proposed))
