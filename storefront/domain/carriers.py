"""Carriers a parcel may be handed to, and the shape of a tracking number (rules/carriers.toml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from storefront.rules import load

_TRACKING = re.compile(r"[A-Z0-9-]+")


@dataclass(frozen=True)
class Carrier:
    name: str
    tracking_url: str  # with a {tracking} placeholder

    def link(self, tracking_number: str) -> str:
        return self.tracking_url.replace("{tracking}", quote(tracking_number, safe="-"))


@lru_cache
def carriers() -> tuple[Carrier, ...]:
    return tuple(Carrier(row["name"], row["tracking_url"]) for row in load("carriers")["carriers"])


def carrier_named(name: object) -> Carrier | None:
    return next((c for c in carriers() if isinstance(name, str) and c.name == name), None)


def tracking_ok(number: object) -> bool:
    """Non-empty, upper-case letters, digits and hyphens only, within the length the rules allow."""
    limit = int(load("carriers")["tracking_max_length"])
    return isinstance(number, str) and 0 < len(number) <= limit and _TRACKING.fullmatch(number) is not None


def future_tolerance_minutes() -> int:
    return int(load("carriers")["handover_future_tolerance_minutes"])
