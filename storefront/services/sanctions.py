"""Replace the SDN list held in the database with a freshly published one (or the bundled sample)."""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import select

from storefront.adapters.tables import SdnEntry as SdnRow
from storefront.domain.screening import SdnEntry
from storefront.services.unit_of_work import UnitOfWork


def replace_list(entries: list[SdnEntry]) -> int:
    if not entries:
        raise ValueError("Refusing to load an empty sanctions list.")
    with UnitOfWork() as uow:
        uow.session.exec(delete(SdnRow))
        for e in entries:
            uow.session.add(SdnRow(uid=e.uid, name=e.name, aliases=list(e.aliases), programs=e.programs, kind=e.kind))
        uow.commit()
    return len(entries)


def entry_count() -> int:
    with UnitOfWork() as uow:
        return uow.session.exec(select(func.count()).select_from(SdnRow)).one()
