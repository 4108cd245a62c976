"""The email outbox as staff see it (issue 10 § 4): list, read (audited), retry of a failed message with the
real SMTP test server stopped then started, and a resent confirmation."""

from __future__ import annotations

import email
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.mailer import SmtpMailer
from storefront.adapters.tables import OutboxEmail, StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Role
from storefront.services import outbox, outbox_admin, payment
from storefront.services.order_admin import ActionRefused
from storefront.services.outbox_admin import EmailFilters
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import events_of, free_port, order_row, outbox_of, staff_member

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def confirmed(make_product, place, card_token, stripe_gateway):
    """An order whose card is held: its confirmation email is in the outbox. Returns the reference."""
    def make() -> str:
        placed = place({make_product(): 1})
        assert payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway,
                                 browser=None).status == "held"
        return placed.reference
    return make


def audit_of(action: str, subject: str) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.action == action, StaffAuditEntry.subject == subject)).all())


def set_failed(email_id: int) -> None:
    with Session(get_engine()) as s:
        s.exec(update(OutboxEmail).where(OutboxEmail.id == email_id)
               .values(status="failed", attempts=outbox.MAX_ATTEMPTS, last_error="SMTPServerDisconnected: gone"))
        s.commit()


def test_the_list_shows_each_email_with_its_order_status_and_attempts_and_filters(confirmed):
    reference = confirmed()
    [queued] = outbox_of(reference)

    rows, _ = outbox_admin.email_page(UnitOfWork(), EmailFilters(reference=reference))

    [row] = rows
    assert (row.id, row.reference, row.kind, row.status, row.attempts) == (
        queued.id, reference, "order_confirmation", "pending", 0)
    assert row.recipient == order_row(reference).email
    assert outbox_admin.email_page(UnitOfWork(), EmailFilters(reference=reference, status="failed"))[0] == []
    assert "order_confirmation" in outbox_admin.kinds(UnitOfWork())


def test_pages_are_keyset_newest_first_and_the_last_page_says_so(confirmed):
    for _ in range(3):
        confirmed()
    first, older_than = outbox_admin.email_page(UnitOfWork(), EmailFilters(kind="order_confirmation"))
    assert [r.id for r in first] == sorted((r.id for r in first), reverse=True)
    if older_than:
        second, _ = outbox_admin.email_page(UnitOfWork(), EmailFilters(kind="order_confirmation"), older_than)
        assert all(r.id < older_than for r in second)
    lone, last = outbox_admin.email_page(UnitOfWork(), EmailFilters(reference=confirmed()))
    assert len(lone) == 1 and last == 0


def test_reading_an_email_shows_what_the_client_got_and_is_audited_as_a_view_of_personal_data(confirmed):
    reference = confirmed()
    [queued] = outbox_of(reference)
    clerk = staff_member(Role.CUSTOMER_SERVICE)

    shown = outbox_admin.read(UnitOfWork(), queued.id, staff=clerk, ip="198.51.100.9")

    assert shown.subject == queued.subject and reference in shown.text_body and shown.reference == reference
    [entry] = audit_of("emails.read", f"email:{queued.id}")
    assert (entry.staff_id, entry.ip, entry.order_id) == (clerk.staff_id, "198.51.100.9", order_row(reference).id)
    assert order_row(reference).email not in str(entry.before or "") + str(entry.after or "") + entry.detail
    for bad in (0, -1, "1", None, True, 2**31, 10**12):
        for action in (outbox_admin.read, outbox_admin.retry):
            with pytest.raises(ActionRefused) as refused:
                action(UnitOfWork(), bad, staff=clerk)
            assert refused.value.refusal.code == ErrorCode.EMAIL_NOT_FOUND


def test_a_failed_email_is_retried_and_reaches_the_client_once_the_mail_server_is_back(confirmed):
    reference = confirmed()
    [queued] = outbox_of(reference)
    port = free_port()
    down = SmtpMailer(host="127.0.0.1", port=port, starttls=False, timeout=2)  # the mail server is stopped
    now = datetime.now(timezone.utc)
    for attempt in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_due(UnitOfWork(), down, now=now + timedelta(days=attempt + 1), limit=1000)
    failed = next(m for m in outbox_of(reference) if m.id == queued.id)
    assert (failed.status, failed.attempts) == ("failed", outbox.MAX_ATTEMPTS) and failed.last_error
    rows, _ = outbox_admin.email_page(UnitOfWork(), EmailFilters(reference=reference, status="failed"))
    assert [r.id for r in rows] == [queued.id]
    clerk = staff_member(Role.CUSTOMER_SERVICE)

    outbox_admin.retry(UnitOfWork(), queued.id, staff=clerk)

    assert next(m for m in outbox_of(reference) if m.id == queued.id).status == "pending"
    received = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            received.append(envelope)
            return "250 OK"

    server = Controller(Collect(), hostname="127.0.0.1", port=port, server_hostname="localhost")
    server.start()  # the mail server is back
    try:
        up = SmtpMailer(host="127.0.0.1", port=port, starttls=False, timeout=10)
        outbox.deliver_due(UnitOfWork(), up, now=datetime.now(timezone.utc), limit=1000)
    finally:
        server.stop()
    mine = [e for e in received if reference in email.message_from_bytes(e.content, policy=policy.default)["Subject"]]
    assert len(mine) == 1
    assert next(m for m in outbox_of(reference) if m.id == queued.id).status == "sent"
    [entry] = audit_of("emails.retry", f"email:{queued.id}")
    assert entry.before["status"] == "failed" and entry.after == {"status": "pending"}
    with pytest.raises(ActionRefused) as refused:  # sent: nothing to retry
        outbox_admin.retry(UnitOfWork(), queued.id, staff=clerk)
    assert refused.value.refusal.code == ErrorCode.EMAIL_NOT_FAILED


def test_only_a_failed_email_can_be_retried(confirmed):
    reference = confirmed()
    [queued] = outbox_of(reference)
    with pytest.raises(ActionRefused) as refused:
        outbox_admin.retry(UnitOfWork(), queued.id, staff=staff_member(Role.CUSTOMER_SERVICE))
    assert refused.value.refusal.code == ErrorCode.EMAIL_NOT_FAILED
    set_failed(queued.id)
    outbox_admin.retry(UnitOfWork(), queued.id, staff=staff_member(Role.CUSTOMER_SERVICE))
    assert outbox_of(reference)[0].status == "pending"


def test_a_resent_confirmation_is_a_new_message_logged_in_the_history_and_the_audit(confirmed, place, make_product):
    reference = confirmed()
    [original] = outbox_of(reference)
    clerk = staff_member(Role.CUSTOMER_SERVICE)

    first = outbox_admin.resend_confirmation(UnitOfWork(), reference, staff=clerk)
    second = outbox_admin.resend_confirmation(UnitOfWork(), reference, staff=clerk)

    messages = outbox_of(reference)
    assert [m.id for m in messages] == [original.id, first, second]
    assert {m.kind for m in messages} == {"order_confirmation"} and messages[1].subject == original.subject
    assert messages[0].status == "pending" and messages[1].dedup_key != messages[2].dedup_key
    assert [e.type for e in events_of(reference)].count("email_queued") == 3
    assert len(audit_of("emails.resend_confirmation", f"order:{reference}")) == 2
    unpaid = place({make_product(): 1}).reference  # nothing confirmed yet
    for bad, code in ((unpaid, ErrorCode.CONFIRMATION_NOT_SENT), ("VX-NOPE", ErrorCode.ORDER_NOT_FOUND),
                      (None, ErrorCode.ORDER_NOT_FOUND), ("x" * 5000, ErrorCode.ORDER_NOT_FOUND)):
        with pytest.raises(ActionRefused) as refused:
            outbox_admin.resend_confirmation(UnitOfWork(), bad, staff=clerk)
        assert refused.value.refusal.code == code
    assert outbox_of(unpaid) == []
