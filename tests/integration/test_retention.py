"""Least data kept (PAY-6, issue 10 § 7): the daily retention job and a client's erasure request, on data
planted with old dates. Each test checks exactly what is erased and what is kept, that a second run changes
nothing, and what the audit log says. Runs on SQLite and, with `bash scripts/with-postgres.sh`, on PostgreSQL.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import (Order, OrderEvent, OutboxEmail, PaymentAuthorization, RetentionRun,
                                        StaffAuditEntry, StaffSession)
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Role
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.services import admin_orders, jobs, payment, retention
from storefront.services.documents import order_document
from storefront.services.order_admin import ActionRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import aware, buyer, events_of, free_port, order_row, staff_member
from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET

pytestmark = pytest.mark.usefixtures("database")

NOW = datetime.now(timezone.utc).replace(microsecond=0)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def no_earlier_run(database, stripe_gateway, monkeypatch):
    """The job runs once a day by its own record; each test starts as if it never ran. Its calls to Stripe go
    to the payment sandbox of the test session."""
    monkeypatch.setattr(payment, "gateway", lambda: stripe_gateway)
    with Session(get_engine()) as s:
        s.exec(delete(RetentionRun))
        s.commit()


@pytest.fixture
def plant(make_product, place):
    """An order placed `placed` ago by `email`, moved to `status` at `ended` ago, with `captured` charged.
    Afterwards the open ones are closed, so no later test's job (payment window, outbox) acts on them."""
    planted: list[str] = []

    def make(status: str, *, placed: timedelta = 40 * DAY, ended: timedelta | None = None, captured: int = 0,
             verdict: str = "clear", email: str | None = None) -> str:
        reference = place({make_product(): 1}, buyer(email=email), at=NOW - placed).reference
        with Session(get_engine()) as s:
            order = s.exec(select(Order).where(Order.reference == reference)).one()
            order.status, order.updated_at = status, NOW - (ended if ended is not None else placed)
            order.screening = {**order.screening, "verdict": verdict}
            s.add(order)
            if captured:
                s.add(PaymentAuthorization(order_id=order.id, idempotency_key=secrets.token_hex(8), status="captured",
                                           amount_minor=captured, currency=order.currency, captured_minor=captured))
            s.add(OutboxEmail(dedup_key=secrets.token_hex(8), order_id=order.id, kind="order_confirmation",
                              recipient=order.email, subject=f"Your order {reference}", text_body="Dear Anna Keller",
                              html_body="<p>Dear Anna Keller</p>", status="sent", sent_at=NOW - placed))
            s.commit()
        planted.append(reference)
        return reference

    yield make
    with Session(get_engine()) as s:
        s.exec(update(Order).where(Order.reference.in_(planted), Order.status != "shipped")
               .values(status="cancelled"))
        s.commit()


def personal(reference: str) -> dict:
    o = order_row(reference)
    return {"email": o.email, "phone": o.phone, "full_name": o.full_name, "birth_date": o.birth_date,
            "shipping": o.shipping_address, "billing": o.billing_address, "ip": o.accepted_ip,
            "agent": o.accepted_user_agent, "browser": o.browser_hash, "erasure": o.erasure}


def emails_of(reference: str) -> list[OutboxEmail]:
    with Session(get_engine()) as s:
        return list(s.exec(select(OutboxEmail).where(OutboxEmail.order_id == order_row(reference).id)).all())


def history(reference: str) -> list[tuple]:
    return [(e.id, e.type, e.data) for e in events_of(reference)]


def audit_rows(action: str, since_id: int = 0) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.action == action,
                                                         StaffAuditEntry.id > since_id)
                           .order_by(StaffAuditEntry.id)).all())


def last_audit_id() -> int:
    with Session(get_engine()) as s:
        row = s.exec(select(StaffAuditEntry).order_by(StaffAuditEntry.id.desc()).limit(1)).first()
        return row.id if row else 0


def assert_fully_erased(reference: str) -> None:
    o = order_row(reference)
    assert o.erasure == "full" and o.full_name == "erased" and o.email == f"erased+{o.id}@invalid"
    assert (o.phone, o.accepted_ip, o.accepted_user_agent, o.browser_hash) == ("", "", "", None)
    assert o.birth_date == retention.ERASED_BIRTH_DATE
    for address in (o.shipping_address, o.billing_address):
        assert address == {"name": "", "street": "", "city": "", "postal_code": "", "area": "", "country": o.country}
    # the verdict of the screening stays (it names no client), and so do the amounts and the history
    assert o.screening["verdict"] in ("clear", "possible", "match") and o.total_minor > 0
    for mail in emails_of(reference):
        assert (mail.recipient, mail.subject, mail.text_body, mail.html_body) == ("erased", "erased", "", "")


@pytest.mark.clause("PAY-6")
def test_the_daily_job_erases_unpaid_cancelled_orders_after_30_days_and_keeps_what_a_duty_keeps(plant):
    due = plant("cancelled", ended=31 * DAY)
    recent = plant("cancelled", ended=29 * DAY)
    invoiced = plant("shipped", ended=31 * DAY, captured=500_000)
    screened = plant("cancelled", ended=31 * DAY, verdict="possible")
    still_open = plant("pending_payment")
    kept = {ref: personal(ref) for ref in (recent, invoiced, screened, still_open)}
    before = history(due)

    assert "retention" in jobs.JOBS
    changed = retention.run_daily(UnitOfWork(), at=NOW)

    assert_fully_erased(due)
    assert history(due) == before  # the append-only history is untouched and holds no personal data
    assert {ref: personal(ref) for ref in kept} == kept
    assert changed >= 1  # the order (its email copies are emptied with it)
    run = retention.last_run(UnitOfWork())
    assert run is not None and run.orders_erased >= 1


@pytest.mark.clause("PAY-6")
def test_the_job_runs_once_a_day_and_a_second_run_changes_nothing(plant):
    due = plant("cancelled", ended=31 * DAY)
    assert retention.run_daily(UnitOfWork(), at=NOW) >= 1
    first = personal(due)

    assert retention.run_daily(UnitOfWork(), at=NOW + timedelta(hours=23)) == 0  # not due yet: not even run
    with Session(get_engine()) as s:
        assert len(s.exec(select(RetentionRun)).all()) == 1
        s.exec(delete(RetentionRun))  # as if another worker had not seen the first run: it runs again
        s.commit()
    assert retention.run_daily(UnitOfWork(), at=NOW) == 0  # nothing left to erase
    assert personal(due) == first
    with Session(get_engine()) as s:
        [again] = s.exec(select(RetentionRun)).all()
    assert again.counts == {"orders_erased": 0, "emails_emptied": 0, "staff_sessions_deleted": 0}


@pytest.mark.clause("PAY-6")
def test_invoice_and_screening_records_go_when_their_statutory_periods_end(plant):
    invoiced = plant("shipped", captured=500_000)
    screened = plant("cancelled", verdict="possible")
    placed_year = aware(order_row(invoiced).placed_at).year

    # the day before the screening record's 5 years end (31 CFR 501.601): both kept
    retention.run_daily(UnitOfWork(), at=datetime(placed_year + 6, 1, 1, tzinfo=timezone.utc) - DAY)
    assert personal(screened)["erasure"] == "" and personal(invoiced)["erasure"] == ""
    # 5 years after the end of the order's year: the screening record goes, the invoice stays (10 years)
    retention.run_daily(UnitOfWork(), at=datetime(placed_year + 6, 1, 1, 1, tzinfo=timezone.utc))
    assert_fully_erased(screened)
    assert personal(invoiced)["full_name"] == "Anna Keller"
    # 10 years after the end of its year (OR art. 958f): the invoice's personal data goes too
    retention.run_daily(UnitOfWork(), at=datetime(placed_year + 11, 1, 1, 1, tzinfo=timezone.utc))
    assert_fully_erased(invoiced)


@pytest.mark.clause("PAY-6")
def test_email_copies_and_staff_sessions_go_after_their_90_days(plant):
    reference = plant("approved", placed=100 * DAY)  # an open order: its data stays, its sent email's copy goes
    member = staff_member(Role.FULFILMENT)
    with Session(get_engine()) as s:
        old = StaffSession(staff_id=member.staff_id, token_hash=secrets.token_hex(32), ip="203.0.113.9",
                           created_at=NOW - 100 * DAY, last_seen_at=NOW - 100 * DAY, expires_at=NOW - 91 * DAY)
        recent = StaffSession(staff_id=member.staff_id, token_hash=secrets.token_hex(32), ip="203.0.113.10",
                              created_at=NOW - 80 * DAY, last_seen_at=NOW - 80 * DAY, expires_at=NOW - 79 * DAY)
        pending = OutboxEmail(dedup_key=secrets.token_hex(8), order_id=order_row(reference).id, kind="reminder",
                              recipient="client@example.com", subject="Soon", text_body="t", html_body="h",
                              next_attempt_at=NOW - 100 * DAY)
        s.add_all([old, recent, pending])
        s.commit()
        old_id, recent_id, pending_id = old.id, recent.id, pending.id

    try:
        retention.run_daily(UnitOfWork(), at=NOW)
        [sent, waiting] = sorted(emails_of(reference), key=lambda m: m.id)
    finally:  # the planted pending email must not be sent by a later test's outbox run
        with Session(get_engine()) as s:
            s.exec(delete(OutboxEmail).where(OutboxEmail.id == pending_id))
            s.commit()
    assert (sent.recipient, sent.subject, sent.text_body, sent.html_body) == ("erased", "erased", "", "")
    assert waiting.id == pending_id and waiting.recipient == "client@example.com"  # still to be sent
    assert personal(reference)["full_name"] == "Anna Keller"
    with Session(get_engine()) as s:
        assert s.get(StaffSession, old_id) is None and s.get(StaffSession, recent_id) is not None


@pytest.mark.clause("PAY-6")
def test_an_erasure_request_erases_closed_orders_keeps_the_invoice_and_leaves_open_ones(plant):
    email = f"Client-{secrets.token_hex(3)}@Example.com"
    unpaid = plant("cancelled", ended=2 * DAY, email=email)
    invoiced = plant("shipped", ended=2 * DAY, captured=500_000, email=email)
    running = plant("awaiting_approval", email=email)
    other = plant("cancelled", ended=2 * DAY)
    others = personal(other)
    open_before = personal(running)
    compliance = staff_member(Role.COMPLIANCE)
    mark = last_audit_id()

    found = retention.find_orders(UnitOfWork(), email.lower(), staff=compliance, ip="192.0.2.4", at=NOW)
    assert [(f.reference, f.erasure) for f in found] == [(unpaid, ""), (invoiced, ""), (running, "")]
    [viewed] = audit_rows("customers.view_personal_data", mark)
    assert viewed.subject == "privacy_search" and viewed.after == {
        "orders": [order_row(r).id for r in (unpaid, invoiced, running)]}

    result = retention.erase_client(UnitOfWork(), f"  {email}  ", "client_request", staff=compliance,
                                    ip="192.0.2.4", at=NOW)

    placed_year = aware(order_row(invoiced).placed_at).year
    until = date(placed_year + 11, 1, 1)
    assert result.erased == [unpaid] and result.partly == [(invoiced, until.isoformat())]
    assert result.open == [(running, "awaiting_approval")]
    assert_fully_erased(unpaid)
    with Session(get_engine()) as s:  # the client's order page and emails render the marker, never a crash
        shown = order_document(s, order_row(unpaid))
    assert shown.customer_name == "erased" and shown.email.endswith("@invalid")
    assert "Anna" not in " ".join(shown.shipping_address_lines + shown.billing_address_lines)
    detail = admin_orders.order_detail(UnitOfWork(), unpaid, with_personal_data=True)
    assert (detail.customer["name"], detail.customer["birth_date"], detail.customer["phone"]) == ("erased", "erased", "")
    kept = order_row(invoiced)  # the invoice needs the name and billing address; contact data goes now
    assert (kept.erasure, kept.retained_until, kept.full_name) == ("partial", until, "Anna Keller")
    assert kept.billing_address["street"] and kept.email == f"erased+{kept.id}@invalid"
    assert (kept.phone, kept.accepted_ip, kept.accepted_user_agent, kept.browser_hash) == ("", "", "", None)
    assert all(m.text_body == "" for m in emails_of(invoiced))
    assert personal(running) == open_before and personal(other) == others
    entries = audit_rows("customers.erase", mark)
    assert [(e.order_id, e.detail, e.after["erasure"]) for e in entries] == [
        (order_row(unpaid).id, "client_request", "full"), (kept.id, "client_request", "partial")]
    assert all(e.staff_id == compliance.staff_id and e.outcome == "done" for e in entries)
    for entry in audit_rows("customers.erase", mark) + audit_rows("customers.view_personal_data", mark):
        assert "@" not in f"{entry.subject}{entry.detail}{entry.before}{entry.after}"  # never the address

    # idempotent: a second request changes nothing, and is audited as such
    mark = last_audit_id()
    again = retention.erase_client(UnitOfWork(), email, "client_request", staff=compliance, at=NOW + DAY)
    assert (again.erased, again.partly, again.open) == ([], [], [(running, "awaiting_approval")])
    assert personal(invoiced)["erasure"] == "partial" and personal(running) == open_before
    [noted] = audit_rows("customers.erase", mark)
    assert (noted.order_id, noted.detail, noted.subject) == (None, "nothing_to_erase", "privacy_request")

    # the rest of the invoiced order goes when the statutory period ends
    retention.run_daily(UnitOfWork(), at=datetime(until.year, until.month, until.day, 1, tzinfo=timezone.utc))
    assert_fully_erased(invoiced)


@pytest.mark.clause("PAY-6")
def test_a_request_without_a_valid_address_or_reason_changes_nothing(plant):
    email = f"client-{secrets.token_hex(3)}@example.com"
    reference = plant("cancelled", ended=2 * DAY, email=email)
    before = personal(reference)
    compliance = staff_member(Role.COMPLIANCE)
    for bad in ("", "not-an-address", "x" * 400 + "@example.com", None, 42, ["a@b.c"]):
        with pytest.raises(ActionRefused) as refused:
            retention.erase_client(UnitOfWork(), bad, "client_request", staff=compliance)
        assert refused.value.refusal.code is ErrorCode.ERASURE_EMAIL_INVALID
    for reason in ("", "because", None, 3):
        with pytest.raises(ActionRefused) as refused:
            retention.erase_client(UnitOfWork(), email, reason, staff=compliance)
        assert refused.value.refusal.code is ErrorCode.ERASURE_REASON_REQUIRED
    assert personal(reference) == before


@pytest.mark.clause("PAY-6")
def test_an_unknown_address_is_an_idempotent_no_op_that_is_still_audited(database):
    compliance = staff_member(Role.COMPLIANCE)
    mark = last_audit_id()
    result = retention.erase_client(UnitOfWork(), "nobody-ever@example.com", "client_request", staff=compliance)
    assert not result.changed and not result.open
    [noted] = audit_rows("customers.erase", mark)
    assert noted.detail == "nothing_to_erase" and noted.after["orders"] == []


@pytest.mark.clause("PAY-6")
def test_new_terms_acceptances_carry_no_ip_address_in_the_append_only_history(plant):
    reference = plant("cancelled")
    accepted = next(e for e in events_of(reference) if e.type == "terms_accepted")
    assert "ip" not in accepted.data and "user_agent" not in accepted.data
    assert order_row(reference).accepted_ip  # on the order row, where erasure reaches it
    with Session(get_engine()) as s:
        carrying = [e.id for e in s.exec(select(OrderEvent).where(OrderEvent.type == "terms_accepted")).all()
                    if "ip" in (e.data or {}) or "user_agent" in (e.data or {})]
    assert carrying == []


@pytest.mark.clause("PAY-6")
def test_the_card_saved_at_stripe_goes_with_the_clients_data_and_a_failed_call_is_retried_by_the_job(
        make_product, place, card_token, stripe_gateway, stripe_test_client):
    import stripe

    email = f"client-{secrets.token_hex(3)}@example.com"
    reference = place({make_product(): 1}, buyer(email=email)).reference
    assert payment.authorize(UnitOfWork(), reference, card_token(), gw=stripe_gateway, browser=None).status == "held"
    customer_id = order_row(reference).payment_customer_id
    assert stripe_test_client.v1.customers.retrieve(customer_id).email == email  # Stripe holds the address
    with Session(get_engine()) as s:  # as if the client had then cancelled: the hold released, nothing charged
        order = s.exec(select(Order).where(Order.reference == reference)).one()
        order.status = "cancelled"
        s.add(order)
        s.commit()

    unreachable = StripeGateway("sk_test_x", SANDBOX_WEBHOOK_SECRET, api_base=f"http://127.0.0.1:{free_port()}",
                                sandbox=True)
    result = retention.erase_client(UnitOfWork(), email, "client_request", staff=staff_member(Role.COMPLIANCE),
                                    gw=unreachable)
    assert result.erased == [reference]  # the erasure stands; the call to Stripe failed and is owed
    assert order_row(reference).payment_customer_id == customer_id

    retention.run_daily(UnitOfWork(), at=NOW, gw=stripe_gateway)

    assert order_row(reference).payment_customer_id is None
    with pytest.raises(stripe.InvalidRequestError):
        stripe_test_client.v1.customers.retrieve(customer_id)
    assert retention.last_run(UnitOfWork()).payment_customers_deleted >= 1
    stripe_gateway.delete_customer(customer_id)  # deleting again is not an error
