"""Which countries the shop offers for delivery, given the sanctioned destinations held in the database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import SanctionedDestination
from storefront.domain.markets import Country, countries, country


@dataclass(frozen=True)
class CountryOption:
    code: str
    label: str


def sanctioned_countries(*, shown: bool = False) -> dict[str, str]:
    """Whole countries under sanctions (code -> name); regions are checked on the address.

    `shown`: for what a page shows (the country list, prices, the currency), a copy at most `SHOWN_SECONDS` old,
    read again at once in this process when staff change the destinations (`forget_shown`). The shop's pages
    asked for it several times per event, a tenth of the shop's database work under load. What decides (placing
    an order, screening an address) always reads the table."""
    if shown:
        at, blocked = _shown
        if blocked is not None and time.monotonic() - at < SHOWN_SECONDS:
            return blocked
    with Session(get_engine()) as session:
        rows = session.exec(select(SanctionedDestination).where(SanctionedDestination.region == None)).all()  # noqa: E711
        blocked = {r.country: r.name for r in rows}
    _shown[:] = [time.monotonic(), blocked]
    return blocked


SHOWN_SECONDS = 1.0
_shown: list = [0.0, None]


def forget_shown() -> None:
    """The destinations changed: pages of this process show the new list from their next event."""
    _shown[:] = [0.0, None]


def delivery_countries(*, shown: bool = False) -> list[Country]:
    blocked = sanctioned_countries(shown=shown)
    return [c for c in countries() if c.code not in blocked]


def country_options(*, shown: bool = False) -> list[CountryOption]:
    return [CountryOption(c.code, f"{c.name} ({c.currency})") for c in delivery_countries(shown=shown)]


def known_country(code: str) -> str | None:
    """The ISO 3166 alpha-2 code if `code` names a country at all (billing may be anywhere), else None."""
    if not isinstance(code, str) or len(code) != 2:
        return None
    code = code.upper()
    return code if code in _territories() else None


@lru_cache
def _territories() -> frozenset[str]:
    return frozenset(k for k in Locale("en").territories if len(k) == 2 and k.isalpha())


def deliverable(code: str, *, shown: bool = False) -> Country | None:
    found = country(code)
    if found is None or found.code in sanctioned_countries(shown=shown):
        return None
    return found
