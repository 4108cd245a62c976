"""Email outbox: written in the business transaction, delivered afterwards by a worker with retries.

A message is claimed with a conditional update (a short lease), so several workers never send
the same row; it is marked sent right after the SMTP server accepts it. Each message carries a
Message-ID derived from its row, so the rare resend after a crash between the two is recognisable.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import RenderedEmail
from storefront.adapters.mailer import build_message, message_id_for
from storefront.adapters.tables import IssuedDocument, OutboxEmail
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

LEASE = timedelta(seconds=120)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def enqueue(session: Session, dedup_key: str, kind: str, recipient: str, email: RenderedEmail,
            order_id: int | None = None, at: datetime | None = None, document_id: int | None = None) -> bool:
    """Add the email to the caller's transaction unless one with this key exists (sends nothing twice).

    `document_id` attaches an issued PDF (services/documents.py) by reference: the stored bytes never change,
    so a retry days later attaches exactly what was issued."""
    if session.exec(select(OutboxEmail.id).where(OutboxEmail.dedup_key == dedup_key)).first() is not None:
        return False
    session.add(OutboxEmail(dedup_key=dedup_key, order_id=order_id, kind=kind, recipient=recipient,
                            subject=email.subject, text_body=email.text, html_body=email.html,
                            next_attempt_at=at or clock.now(), document_id=document_id))
    return True


def _claim(uow: UnitOfWork, message_id: int, now: datetime) -> OutboxEmail | None:
    with uow:
        claimed = uow.session.exec(
            update(OutboxEmail)
            .where(OutboxEmail.id == message_id, OutboxEmail.status == "pending",
                   or_(OutboxEmail.locked_until == None, OutboxEmail.locked_until < now))  # noqa: E711
            .values(locked_until=now + LEASE)
        ).rowcount
        uow.commit()
        return uow.session.get(OutboxEmail, message_id) if claimed == 1 else None


def deliver_due(uow: UnitOfWork, mailer, now: datetime | None = None, limit: int = 20) -> tuple[int, int]:
    """Send what is due; returns (sent, failed attempts)."""
    now = now or clock.now()
    with uow.reading() as session:
        due = session.exec(
            select(OutboxEmail.id).where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
            .order_by(OutboxEmail.id).limit(limit)
        ).all()
    sent = failed = 0
    sender = get_settings().mail_from
    for message_id in due:
        row = _claim(uow, message_id, now)
        if row is None:
            continue
        attachments = ()
        if row.document_id is not None:
            with uow.reading() as session:
                issued = session.get(IssuedDocument, row.document_id)
                attachments = ((issued.filename, bytes(issued.pdf)),) if issued is not None and issued.pdf else ()
        msg = build_message(RenderedEmail(row.subject, row.text_body, row.html_body), row.recipient, sender,
                            message_id_for(row.id, sender), attachments=attachments)
        try:
            mailer.send(msg)
        except Exception as exc:  # noqa: BLE001 - any SMTP or network failure is retried later
            failed += 1
            with uow:
                r = uow.session.get(OutboxEmail, message_id)
                r.attempts += 1
                r.last_error = f"{type(exc).__name__}: {exc}"[:1000]
                r.locked_until = None
                r.next_attempt_at = now + backoff(r.attempts)
                if r.attempts >= MAX_ATTEMPTS:
                    r.status = "failed"
                uow.commit()
            continue
        with uow:
            r = uow.session.get(OutboxEmail, message_id)
            r.status, r.sent_at, r.attempts, r.locked_until = "sent", clock.now(), r.attempts + 1, None
            uow.commit()
        sent += 1
    return sent, failed
