"""Destinations the shop must not deliver to under US sanctions (PAY-7).

Whole countries are barred by code. Regions of an otherwise open country are barred by their
ISO 3166-2 code when the address carries one, and by postal-code prefix regardless, because a
client can leave the region blank but cannot post a parcel without the postcode. The refusal
names the place and nothing else: it is neutral, not an accusation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from storefront.rules import load


@dataclass(frozen=True)
class SanctionedDestination:
    country: str
    region: str | None
    name: str
    postal_prefixes: tuple[str, ...] = ()


def default_destinations() -> tuple[SanctionedDestination, ...]:
    return tuple(
        SanctionedDestination(row["country"], row.get("region"), row["name"], tuple(row.get("postal_prefixes", ())))
        for row in load("sanctions")["destinations"]
    )


def _region_code(country: str, region: str | None) -> str:
    """'43', 'ua-43' and 'UA-43' all mean UA-43."""
    region = (region or "").strip().upper()
    if region and not region.startswith(f"{country}-"):
        region = f"{country}-{region}"
    return region


def barred_destination(country_code: str, region_code: str | None, postal_code: str | None,
                       destinations: Iterable[SanctionedDestination]) -> SanctionedDestination | None:
    country = (country_code or "").strip().upper()
    region = _region_code(country, region_code)
    digits = re.sub(r"\D", "", postal_code or "")
    for dest in destinations:
        if dest.country.upper() != country:
            continue
        if dest.region is None:
            return dest
        if region and region == dest.region.upper():
            return dest
        if digits and any(digits.startswith(p) for p in dest.postal_prefixes):
            return dest
    return None


def destination_refusal(country_code: str, region_code: str | None, postal_code: str | None,
                        destinations: Iterable[SanctionedDestination]) -> str | None:
    """None when the address may be delivered to, else the neutral message the client sees."""
    barred = barred_destination(country_code, region_code, postal_code, destinations)
    return f"We cannot deliver to {barred.name}." if barred else None
