"""The numbers of the terms of sale (delays, shipping hours, hold lifetime), read from one file.

Modules take them from here rather than repeating 30 or 17:00 in code, so a change to the terms
is one edit in rules/policy.toml.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from functools import lru_cache

from storefront.rules import load


@dataclass(frozen=True)
class Policy:
    ship_within_business_days: int  # GTC-5.1
    delay_notice_business_days: int  # GTC-5.4
    cancellation_offer_days: int  # GTC-5.4
    shipping_start: time  # GTC-5.2, inclusive
    shipping_end: time  # GTC-5.2, exclusive
    hold_lifetime_days: int  # PAY-5
    payment_retry_minutes: int  # GTC-3.5
    oldest_plausible_age: int  # GTC-2.2, guards against mistyped birth dates


@lru_cache
def policy() -> Policy:
    data = load("policy")
    return Policy(**{name: data[name] for name in Policy.__dataclass_fields__})
