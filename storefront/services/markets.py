"""Which countries the shop offers for delivery, given the sanctioned destinations held in the database."""

from __future__ import annotations

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


def sanctioned_countries() -> dict[str, str]:
    """Whole countries under sanctions (code -> name); regions are checked on the address."""
    with Session(get_engine()) as session:
        rows = session.exec(select(SanctionedDestination).where(SanctionedDestination.region == None)).all()  # noqa: E711
        return {r.country: r.name for r in rows}


def delivery_countries() -> list[Country]:
    blocked = sanctioned_countries()
    return [c for c in countries() if c.code not in blocked]


def country_options() -> list[CountryOption]:
    return [CountryOption(c.code, f"{c.name} ({c.currency})") for c in delivery_countries()]


def known_country(code: str) -> str | None:
    """The ISO 3166 alpha-2 code if `code` names a country at all (billing may be anywhere), else None."""
    if not isinstance(code, str) or len(code) != 2:
        return None
    code = code.upper()
    return code if code in _territories() else None


@lru_cache
def _territories() -> frozenset[str]:
    return frozenset(k for k in Locale("en").territories if len(k) == 2 and k.isalpha())


def deliverable(code: str) -> Country | None:
    found = country(code)
    if found is None or found.code in sanctioned_countries():
        return None
    return found
