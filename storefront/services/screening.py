"""Sanctions screening against the lists held in the database: the SDN list (loaded by
`python -m storefront sanctions load`) for names, the sanctioned destinations for addresses.

The prepared list is cached per process and rebuilt when the list changes (the newest imported version, and
the count and max uid for lists loaded before versions were kept), so every worker screens with a fresh import
at its next checkout without a restart.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import SanctionedDestination, SanctionsListVersion, SdnEntry as SdnRow
from storefront.domain import screening
from storefront.domain import destinations as rules
from storefront.domain.destinations import SanctionedDestination as Destination
from storefront.domain.errors import Refusal
from storefront.domain.order_info import Address

_cache: dict = {"key": None, "prepared": None}


def _prepared(session: Session):
    # One statement: this runs at every check of a buyer, several times per checkout.
    key = session.exec(select(func.count(SdnRow.uid), func.max(SdnRow.uid),
                              select(func.max(SanctionsListVersion.id)).scalar_subquery())).one()
    if _cache["key"] != tuple(key):
        rows = session.exec(select(SdnRow)).all()
        entries = [screening.SdnEntry(r.uid, r.name, tuple(r.aliases), r.programs, r.kind) for r in rows]
        _cache["prepared"] = screening.prepare(entries)
        _cache["key"] = tuple(key)
    return _cache["prepared"]


def screen_names(names: list[str]) -> screening.ScreeningResult:
    """The most severe result over all names (buyer, recipient, billing name)."""
    with Session(get_engine()) as session:
        prepared = _prepared(session)
    results = [screening.screen(name, prepared) for name in dict.fromkeys(n for n in names if n)]
    order = {screening.Verdict.MATCH: 2, screening.Verdict.POSSIBLE: 1, screening.Verdict.CLEAR: 0}
    return max(results, key=lambda r: (order[r.verdict], r.score))


def destinations() -> tuple[Destination, ...]:
    """The live list staff keep (seeded from rules/sanctions.toml), in a stable order."""
    with Session(get_engine()) as session:
        rows = session.exec(select(SanctionedDestination).order_by(SanctionedDestination.id)).all()
        return tuple(Destination(d.country, d.region, d.name, tuple(d.postal_prefixes), tuple(d.places or ()),
                                 d.programme or "") for d in rows)


def address_refusal(address: Address, *, prefix: str, billing: bool,
                    listed: tuple[Destination, ...] | None = None) -> Refusal | None:
    """Why a delivery (`billing` False) or billing address is refused, at which form field, or None.
    `listed`: the live list already read for this check (a buyer's two addresses are screened against one read)."""
    return rules.address_refusal(address.country, address.area, address.postal_code, address.city,
                                 destinations() if listed is None else listed, prefix=prefix, billing=billing)
