"""Which card brands the shop takes (PAY-1, GTC-4.5), checked before any money moves.

Stripe spells brands differently depending on the object ("amex" on a payment method,
"American Express" on a legacy card source), so every spelling is first reduced to one key.
The same keys are what the browser's card field reports, so the page can refuse a card early,
but the server check is the one that counts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from storefront.rules import load

UNKNOWN = "unknown"


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", (text or "").casefold())


@lru_cache
def _brands() -> dict[str, dict]:
    return load("payments")["brands"]


@lru_cache
def _spellings() -> dict[str, str]:
    table = {}
    for key, spec in _brands().items():
        for spelling in (key, spec["name"], *spec.get("aliases", ())):
            table[_squash(spelling)] = key
    return table


def canonical_brand(brand: str) -> str:
    """Any Stripe spelling ('MasterCard', 'American Express', 'amex') to its key; else 'unknown'."""
    return _spellings().get(_squash(brand), UNKNOWN)


def accepted_brand_keys() -> tuple[str, ...]:
    return tuple(key for key, spec in _brands().items() if spec["accepted"])


def display_name(brand: str) -> str:
    key = canonical_brand(brand)
    return _brands()[key]["name"] if key != UNKNOWN else "Unknown card"


def accepted_brands_text() -> str:
    names = [_brands()[key]["name"] for key in accepted_brand_keys()]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def brand_message() -> str:
    return f"We accept {accepted_brands_text()}. Please use one of these cards."


def brand_refusal(brand: str) -> str | None:
    """None when the card may be used, else the message the client sees."""
    if canonical_brand(brand) in accepted_brand_keys():
        return None
    return brand_message()


def accepted_spellings() -> tuple[str, ...]:
    """Squashed spellings (lower case, no spaces/hyphens) of accepted brands, for the check in the browser."""
    accepted = set(accepted_brand_keys())
    return tuple(sorted(spelling for spelling, key in _spellings().items() if key in accepted))
