"""Terms of sale as published versions: the current one for checkout, every earlier one archived (GTC-1.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from babel.dates import format_date
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.tables import TermsVersion
from storefront.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class TermsBlock:
    kind: str  # "heading" or "paragraph"
    text: str


@dataclass(frozen=True)
class TermsView:
    id: int
    version: str
    title: str
    published: str
    content_hash: str
    blocks: list[TermsBlock]


def _blocks(body: str) -> list[TermsBlock]:
    blocks = []
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            blocks.append(TermsBlock("heading", line.lstrip("#").strip()))
        elif line:
            blocks.append(TermsBlock("paragraph", line))
    return blocks


def _view(row: TermsVersion, locale: str) -> TermsView:
    return TermsView(row.id, row.version, row.title, format_date(row.published_at, "long", locale=locale),
                     row.content_hash, _blocks(row.body))


def text_view(row_id: int, version: str, title: str, published: str, content_hash: str, body: str) -> TermsView:
    """Any text laid out as the shop shows its terms: the management page previews drafts and scheduled
    versions with it, so staff read exactly what clients will read."""
    return TermsView(row_id, version, title, published, content_hash, _blocks(body))


def current(uow: UnitOfWork, now: datetime | None = None) -> TermsVersion | None:
    now = now or clock.now()
    with uow.reading() as session:
        rows = session.exec(select(TermsVersion).order_by(TermsVersion.published_at.desc())).all()
        return next((r for r in rows if _aware(r.published_at) <= now), None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def view(uow: UnitOfWork, version: str | None, locale: str, now: datetime | None = None) -> TermsView | None:
    """The requested version if already in force (archived or current), or the current one when none is
    asked for. A version published ahead of its effective date stays unreadable until then: the
    merchant decides when it is published, not whoever guesses its name."""
    now = now or clock.now()
    if version:
        with uow.reading() as session:
            row = session.exec(select(TermsVersion).where(TermsVersion.version == version)).first()
        row = row if row and _aware(row.published_at) <= now else None
    else:
        row = current(uow, now)
    return _view(row, locale) if row else None


def archive(uow: UnitOfWork, locale: str, now: datetime | None = None) -> list[tuple[str, str]]:
    now = now or clock.now()
    with uow.reading() as session:
        rows = session.exec(select(TermsVersion).order_by(TermsVersion.published_at.desc())).all()
        return [(r.version, format_date(r.published_at, "long", locale=locale)) for r in rows if _aware(r.published_at) <= now]
