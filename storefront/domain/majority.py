"""Only adults of their own country may buy (GTC-2.2).

The age of majority is data on the Country (18 by default, 21 in some markets), never a literal
here. A minor is not simply refused: they are told a parent or guardian can order for them.
"""

from __future__ import annotations

from datetime import date

from storefront.domain.markets import Country
from storefront.domain.policy import policy


def age_on(birth: date, today: date) -> int:
    """Completed years. Someone born on 29 February comes of age on 1 March in common years,
    the reading most civil codes take (the birthday has not yet passed on 28 February)."""
    before_birthday = (today.month, today.day) < (birth.month, birth.day)
    return today.year - birth.year - before_birthday


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a common year
        return today.replace(year=today.year - years, day=28)


def check_majority(birth: date, country: Country, today: date) -> str | None:
    """None when the buyer may order, else the message to show them."""
    oldest = policy().oldest_plausible_age
    if birth > today:
        return "Your date of birth cannot be in the future."
    if birth < _years_before(today, oldest):
        return f"Please check your date of birth: it is more than {oldest} years ago."
    if age_on(birth, today) < country.majority_age:
        return (f"You must be at least {country.majority_age} to order. "
                "A parent or guardian must place the order on your behalf.")
    return None
