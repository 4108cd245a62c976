"""The email outbox on the management page (issue 10 § 4): every message, its content, retry, resend.

The list shows recipients, so it is for roles with `emails.view`; opening a message shows what the
client was told (names, addresses, amounts) and is audited as a view of personal data. A retry puts a
failed message back in the queue as it was (same row, same Message-ID: the client can never receive two
versions of it); a resent order confirmation is a new message, rendered from the order as it stands, under
its own key, audited and written to the order's history. Nothing here deletes or rewrites a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_confirmation
from storefront.adapters.tables import IssuedDocument, Order, OutboxEmail
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus
from storefront.services import audit, order_events, outbox
from storefront.services.documents import order_document
from storefront.services.order_admin import ActionRefused
from storefront.services.row_ids import is_row_id
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

PAGE_SIZE = 50
STATUSES = ("pending", "sent", "failed")
CONFIRMATION = "order_confirmation"
# An order's confirmation exists once the card is held; before that there is nothing to confirm again.
CONFIRMED = frozenset(OrderStatus) - {OrderStatus.PENDING_PAYMENT, OrderStatus.AWAITING_CLIENT}


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


@dataclass(frozen=True)
class EmailFilters:
    status: str = ""
    kind: str = ""
    reference: str = ""


@dataclass(frozen=True)
class EmailRow:
    id: int
    created_at: str
    recipient: str
    kind: str
    reference: str
    status: str
    attempts: int
    last_error: str


def email_page(uow: UnitOfWork, filters: EmailFilters, before_id: int | None = None) -> tuple[list[EmailRow], int]:
    """A page of messages, newest first, and the id the next page starts below (0 on the last page)."""
    query = (select(OutboxEmail.id, OutboxEmail.created_at, OutboxEmail.recipient, OutboxEmail.kind, Order.reference,
                    OutboxEmail.status, OutboxEmail.attempts, OutboxEmail.last_error)
             .outerjoin(Order, Order.id == OutboxEmail.order_id))
    if filters.status in STATUSES:
        query = query.where(OutboxEmail.status == filters.status)
    if filters.kind:
        query = query.where(OutboxEmail.kind == filters.kind[:40])
    if filters.reference:
        query = query.where(Order.reference == filters.reference[:32])
    if before_id is not None:
        query = query.where(OutboxEmail.id < before_id)
    with uow.reading() as s:
        found = s.exec(query.order_by(OutboxEmail.id.desc()).limit(PAGE_SIZE + 1)).all()
    rows = [EmailRow(r[0], _stamp(r[1]), r[2], r[3], r[4] or "", r[5], r[6], r[7][:200]) for r in found[:PAGE_SIZE]]
    return rows, (rows[-1].id if len(found) > PAGE_SIZE else 0)


def kinds(uow: UnitOfWork) -> list[str]:
    """The templates that have been used, for the filter."""
    with uow.reading() as s:
        return sorted(s.exec(select(OutboxEmail.kind).distinct()).all())


@dataclass(frozen=True)
class EmailView:
    id: int
    recipient: str
    subject: str
    kind: str
    reference: str
    status: str
    attempts: int
    last_error: str
    created_at: str
    sent_at: str
    text_body: str


def read(uow: UnitOfWork, email_id: object, *, staff: StaffIdentity, ip: str = "",
         at: datetime | None = None) -> EmailView:
    """One message as sent (or to be sent); audited, since it shows the client's personal data."""
    if not is_row_id(email_id):
        raise ActionRefused(ErrorCode.EMAIL_NOT_FOUND)
    with uow:
        s = uow.session
        row = s.get(OutboxEmail, email_id)
        if row is None:
            raise ActionRefused(ErrorCode.EMAIL_NOT_FOUND)
        reference = s.get(Order, row.order_id).reference if row.order_id else ""
        view = EmailView(row.id, row.recipient, row.subject, row.kind, reference, row.status, row.attempts,
                         row.last_error, _stamp(row.created_at), _stamp(row.sent_at), row.text_body)
        audit.record(s, staff=staff, action="emails.read", outcome="done", order_id=row.order_id,
                     subject=f"email:{row.id}", ip=ip, at=_now(at))
        uow.commit()
    return view


def retry(uow: UnitOfWork, email_id: object, *, staff: StaffIdentity, ip: str = "", at: datetime | None = None) -> None:
    """A failed message goes back in the queue for one more attempt now (the worker sends it)."""
    at = _now(at)
    if not is_row_id(email_id):
        raise ActionRefused(ErrorCode.EMAIL_NOT_FOUND)
    with uow:
        s = uow.session
        row = s.get(OutboxEmail, email_id)
        if row is None:
            raise ActionRefused(ErrorCode.EMAIL_NOT_FOUND)
        moved = s.exec(update(OutboxEmail).where(OutboxEmail.id == email_id, OutboxEmail.status == "failed")
                       .values(status="pending", next_attempt_at=at, locked_until=None)).rowcount
        if moved != 1:
            raise ActionRefused(ErrorCode.EMAIL_NOT_FAILED, status=row.status)
        audit.record(s, staff=staff, action="emails.retry", outcome="done", order_id=row.order_id,
                     subject=f"email:{email_id}", before={"status": "failed", "attempts": row.attempts},
                     after={"status": "pending"}, ip=ip, at=at)
        uow.commit()


def resend_confirmation(uow: UnitOfWork, reference: object, *, staff: StaffIdentity, ip: str = "",
                        at: datetime | None = None) -> int:
    """A new confirmation email for the order, as it stands now; returns the new message's id."""
    at = _now(at)
    if not isinstance(reference, str) or not reference or len(reference) > 32:
        raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
    with uow:
        s = uow.session
        order = s.exec(select(Order).where(Order.reference == reference)).first()
        if order is None:
            raise ActionRefused(ErrorCode.ORDER_NOT_FOUND)
        if order.status not in CONFIRMED:
            raise ActionRefused(ErrorCode.CONFIRMATION_NOT_SENT)
        sent = s.exec(select(func.count(OutboxEmail.id)).where(OutboxEmail.order_id == order.id,
                                                              OutboxEmail.kind == CONFIRMATION)).one()
        key = f"order-confirmation:{order.id}:resend:{sent}"
        record = s.exec(select(IssuedDocument.id).where(IssuedDocument.source_key == f"order:{order.id}")).first()
        if not outbox.enqueue(s, key, CONFIRMATION, order.email, render_order_confirmation(order_document(s, order)),
                              order_id=order.id, at=at, document_id=record):
            raise ActionRefused(ErrorCode.ORDER_CHANGED)  # a simultaneous click queued this very resend
        s.add(order_events.email_queued(order.id, at, CONFIRMATION))
        try:
            s.flush()
        except IntegrityError as exc:
            raise ActionRefused(ErrorCode.ORDER_CHANGED) from exc
        new_id = s.exec(select(OutboxEmail.id).where(OutboxEmail.dedup_key == key)).one()
        audit.record(s, staff=staff, action="emails.resend_confirmation", outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", after={"email": new_id}, ip=ip, at=at)
        uow.commit()
    return new_id
