"""The staff audit log: who did or tried what, to which order, from where, and what changed.

An entry is written in the same transaction as the action it describes (`record`), so an action
and its entry are both kept or both lost; a refused or failed attempt has no transaction of its own,
so `record_now` gives it one. The table is append-only in the database itself (migration
d1a2b3c4e5f6). Entries carry ids and codes, never personal data, so the log may outlive the orders'
retention and be shown to an auditor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.tables import StaffAuditEntry
from storefront.domain.staff import Outcome
from storefront.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from storefront.services.staff import StaffIdentity


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    staff_id: int | None
    role: str
    action: str
    outcome: str
    order_id: int | None
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str
    detail: str


def _entry(staff: StaffIdentity | None, action: str, outcome: str, order_id: int | None, subject: str,
           before: dict | None, after: dict | None, ip: str, detail: str, at: datetime | None) -> StaffAuditEntry:
    if "@" in subject or "@" in detail:  # an email address: the log keeps ids and codes only
        raise ValueError("audit subject and detail hold ids and codes, not personal data")
    return StaffAuditEntry(
        at=at or clock.now(), staff_id=staff.staff_id if staff else None,
        role=str(staff.role) if staff else "", action=action, outcome=Outcome(outcome).value, order_id=order_id,
        subject=subject[:80], before=before, after=after, ip=ip[:64], detail=detail[:60])


def record(uow_or_session: UnitOfWork | Session, *, staff: StaffIdentity | None, action: str, outcome: str,
           order_id: int | None = None, subject: str = "", before: dict | None = None, after: dict | None = None,
           ip: str = "", detail: str = "", at: datetime | None = None) -> None:
    """Add an entry to the transaction under way: it commits (or rolls back) with the action."""
    session = uow_or_session.session if isinstance(uow_or_session, UnitOfWork) else uow_or_session
    session.add(_entry(staff, action, outcome, order_id, subject, before, after, ip, detail, at))


def record_now(uow: UnitOfWork, *, staff: StaffIdentity | None, action: str, outcome: str,
               order_id: int | None = None, subject: str = "", before: dict | None = None,
               after: dict | None = None, ip: str = "", detail: str = "", at: datetime | None = None) -> None:
    """An entry in a transaction of its own: for attempts that were refused, so nothing else is written."""
    with uow:
        uow.session.add(_entry(staff, action, outcome, order_id, subject, before, after, ip, detail, at))
        uow.commit()


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def entries(uow: UnitOfWork, *, staff_id: int | None = None, action: str | None = None, order_id: int | None = None,
            outcome: str | None = None, since: datetime | None = None, until: datetime | None = None,
            before_id: int | None = None, limit: int = 50) -> list[AuditRow]:
    """Newest first; pass the last row's id as `before_id` for the next page (stable while entries are added)."""
    query = select(StaffAuditEntry).order_by(StaffAuditEntry.id.desc()).limit(max(1, min(limit, 500)))
    for column, value in ((StaffAuditEntry.staff_id, staff_id), (StaffAuditEntry.action, action),
                          (StaffAuditEntry.order_id, order_id), (StaffAuditEntry.outcome, outcome)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(StaffAuditEntry.at >= since)
    if until is not None:
        query = query.where(StaffAuditEntry.at < until)
    if before_id is not None:
        query = query.where(StaffAuditEntry.id < before_id)
    with uow.reading() as s:
        return [AuditRow(id=e.id, at=_aware(e.at), staff_id=e.staff_id, role=e.role, action=e.action,
                         outcome=e.outcome, order_id=e.order_id, subject=e.subject, before=e.before, after=e.after,
                         ip=e.ip, detail=e.detail) for e in s.exec(query).all()]
