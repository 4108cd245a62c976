"""The confirmation email, from the hold to a real SMTP server (aiosmtpd on loopback), exactly once (GTC-3.7).

The email is written to the outbox in the transaction that records the card hold; the worker
(`outbox.deliver_due`) sends it afterwards and retries with back-off while the mail server is down.
What the SMTP server received is parsed back with the standard library and read as the client would.
"""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta, timezone
from email import policy

import pytest
from babel.dates import format_date

from storefront.services.unit_of_work import UnitOfWork
from storefront.adapters.mailer import SmtpMailer, message_id_for
from storefront.domain.money import Money
from storefront.services import links, outbox, payment
from storefront.settings import get_settings
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import PRICES, aware, buyer, free_port, order_row, outbox_of

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def inbox(collecting_smtp):
    """The SMTP server's mailbox, starting empty, with every email queued by earlier tests already sent."""
    mailer, envelopes = collecting_smtp
    while outbox.deliver_due(UnitOfWork(), mailer, now=datetime.now(timezone.utc) + timedelta(days=1))[0]:
        pass
    envelopes.clear()
    return mailer, envelopes


def _held_order(make_product, place, card_token, stripe_gateway, info, quantity=1):
    watch = make_product()
    placed = place({watch: quantity}, info)
    assert payment.authorize(UnitOfWork(), placed.reference, card_token(), gw=stripe_gateway, browser=None).status == "held"
    return watch, order_row(placed.reference)


def _received(envelopes, reference):
    messages = [email.message_from_bytes(e.content, policy=policy.default) for e in envelopes]
    return [m for m in messages if reference in m["Subject"]]


def _parts(msg):
    return msg.get_body(preferencelist=("plain",)).get_content(), msg.get_body(preferencelist=("html",)).get_content()


@pytest.mark.clause("GTC-3.7")
@pytest.mark.clause("GTC-4.1")
@pytest.mark.clause("GTC-5.1")
@pytest.mark.clause("CARD-4")
def test_confirmation_with_vat_reaches_the_client_with_the_contractual_information(make_product, place, card_token,
                                                                                  stripe_gateway, inbox):
    mailer, envelopes = inbox
    watch, order = _held_order(make_product, place, card_token, stripe_gateway,
                               buyer("CH", email="zoe.mueller@example.ch", name="Zoë Müller"), quantity=2)

    sent, failed = outbox.deliver_due(UnitOfWork(), mailer)

    assert (sent, failed) == (1, 0)
    [msg] = _received(envelopes, order.reference)
    assert envelopes[0].rcpt_tos == ["zoe.mueller@example.ch"]
    assert msg["To"] == "zoe.mueller@example.ch"
    assert msg["Subject"] == f"Your order {order.reference} with {get_settings().merchant_name}: awaiting approval"
    text, html = _parts(msg)
    chf = lambda minor: Money(minor, "CHF").format("en_CH")  # noqa: E731 - English text, Swiss amounts
    subtotal = 2 * PRICES["CHF"]
    for item in (
        order.reference, "Zoë Müller",
        f"Test Watch {watch[4:]}", f"Reference: {watch}", "Quantity: 2",  # product details
        f"Unit price: {chf(PRICES['CHF'])}", f"Line total: {chf(subtotal)}",
        f"Subtotal: {chf(subtotal)}", f"Shipping: {chf(4_500)}",
        f"VAT 8.1%: {chf(order.vat_minor)}", f"Total (CHF): {chf(order.total_minor)}",
        f"We will ship by {format_date(order.ship_by, 'full', locale='en_CH')}.",  # weekday in English
        "2026-01",  # terms version accepted
    ):
        assert item in text, item
    status_link = re.search(rf"{re.escape(get_settings().public_url)}/order/{order.reference}\?t=(\S+)", text)
    assert status_link and links.valid(order.reference, status_link[1], links.Purpose.VIEW)
    assert order.total_minor == subtotal + 4_500 + order.vat_minor
    assert "Import duties" not in text
    for item in (order.reference, chf(order.total_minor), status_link[0], "VAT 8.1%"):
        assert item in html, item


@pytest.mark.clause("GTC-3.7")
@pytest.mark.clause("GTC-4.1")
def test_confirmation_abroad_tells_the_client_duties_are_theirs(make_product, place, card_token, stripe_gateway, inbox):
    mailer, envelopes = inbox
    _watch, order = _held_order(make_product, place, card_token, stripe_gateway, buyer("US"))

    assert outbox.deliver_due(UnitOfWork(), mailer) == (1, 0)

    [msg] = _received(envelopes, order.reference)
    text, html = _parts(msg)
    usd = lambda minor: Money(minor, "USD").format("en_US")  # noqa: E731
    assert f"Shipping: {usd(15_000)}" in text
    assert f"Total (USD): {usd(PRICES['USD'] + 15_000)}" in text
    assert "No VAT is added for delivery to United States." in text
    assert "Import duties, VAT and other local charges are not included and are payable by you on delivery." in text
    assert "VAT " not in text.split("Total (USD)")[0].split("YOUR ORDER")[1]  # no VAT line in the invoice
    assert "payable by you on delivery" in html


@pytest.mark.clause("GTC-3.7")
def test_mail_server_down_keeps_the_email_and_retries_later_exactly_once(make_product, place, card_token,
                                                                        stripe_gateway, inbox):
    mailer, envelopes = inbox
    _watch, order = _held_order(make_product, place, card_token, stripe_gateway, buyer("DE"))
    [row] = outbox_of(order.reference)
    down = SmtpMailer(host="127.0.0.1", port=free_port(), starttls=False, timeout=2)  # nothing listens there
    now = datetime.now(timezone.utc)

    assert outbox.deliver_due(UnitOfWork(), down, now=now) == (0, 1)

    [row] = outbox_of(order.reference)
    assert row.status == "pending" and row.attempts == 1 and row.sent_at is None
    assert row.last_error.startswith("ConnectionRefusedError")
    assert aware(row.next_attempt_at) == now + timedelta(seconds=15)
    assert row.locked_until is None
    # Not retried before its back-off has passed, even with the server back.
    assert outbox.deliver_due(UnitOfWork(), mailer, now=now + timedelta(seconds=5)) == (0, 0)
    assert outbox.deliver_due(UnitOfWork(), down, now=now + timedelta(seconds=16)) == (0, 1)
    [row] = outbox_of(order.reference)
    assert row.attempts == 2 and aware(row.next_attempt_at) == now + timedelta(seconds=16 + 30)  # doubling back-off
    assert envelopes == []

    assert outbox.deliver_due(UnitOfWork(), mailer, now=now + timedelta(seconds=47)) == (1, 0)

    [msg] = _received(envelopes, order.reference)
    assert msg["Message-ID"] == message_id_for(row.id, get_settings().mail_from)
    [row] = outbox_of(order.reference)
    assert row.status == "sent" and row.attempts == 3 and row.sent_at is not None
    # A later round sends nothing again.
    assert outbox.deliver_due(UnitOfWork(), mailer, now=now + timedelta(hours=2)) == (0, 0)
    assert len(_received(envelopes, order.reference)) == 1


@pytest.mark.clause("GTC-3.7")
def test_a_second_round_sends_nothing(make_product, place, card_token, stripe_gateway, inbox):
    mailer, envelopes = inbox
    _watch, order = _held_order(make_product, place, card_token, stripe_gateway, buyer("CH"))

    assert outbox.deliver_due(UnitOfWork(), mailer) == (1, 0)
    assert outbox.deliver_due(UnitOfWork(), mailer) == (0, 0)
    assert outbox.deliver_due(UnitOfWork(), mailer, now=datetime.now(timezone.utc) + timedelta(days=1)) == (0, 0)

    assert len(_received(envelopes, order.reference)) == 1
    assert outbox_of(order.reference)[0].status == "sent"


@pytest.mark.clause("GTC-3.7")
def test_an_email_claimed_by_another_worker_is_not_sent_twice(make_product, place, card_token, stripe_gateway, inbox):
    """Two workers (app lifespan task and cron) running at once: the lease lets only one send."""
    mailer, envelopes = inbox
    _watch, order = _held_order(make_product, place, card_token, stripe_gateway, buyer("CH"))
    [row] = outbox_of(order.reference)
    now = datetime.now(timezone.utc)
    assert outbox._claim(UnitOfWork(), row.id, now) is not None  # another worker holds the lease

    assert outbox.deliver_due(UnitOfWork(), mailer, now=now) == (0, 0)
    assert outbox.deliver_due(UnitOfWork(), mailer, now=now + outbox.LEASE + timedelta(seconds=1)) == (1, 0)  # lease expired

    assert len(_received(envelopes, order.reference)) == 1


@pytest.mark.clause("GTC-3.5")
def test_cancellation_notice_is_delivered(make_product, place, inbox):
    mailer, envelopes = inbox
    watch = make_product()
    placed_at = datetime.now(timezone.utc) - timedelta(hours=1)
    placed = place({watch: 1}, buyer("CH"), at=placed_at)
    assert placed.reference in payment.expire_unpaid(UnitOfWork())

    assert outbox.deliver_due(UnitOfWork(), mailer) == (1, 0)

    [msg] = _received(envelopes, placed.reference)
    text, _html = _parts(msg)
    assert msg["Subject"] == f"Your order {placed.reference} has been cancelled"
    assert "Nothing has been charged" in text and placed.reference in text


@pytest.mark.clause("GTC-3.5")
@pytest.mark.clause("GTC-3.7")
def test_background_round_cancels_overdue_orders_and_mails_through_the_configured_server(make_product, place, inbox,
                                                                                        monkeypatch):
    """`jobs.run_once` as the app's worker and cron run it, with the mailer built from settings."""
    from storefront.services import jobs

    mailer, envelopes = inbox
    monkeypatch.delenv("STOREFRONT_SMTP_HOST", raising=False)
    monkeypatch.setenv("STOREFRONT_MAIL_CAPTURE_PORT", str(mailer.port))
    get_settings.cache_clear()
    try:
        watch = make_product(stock=1, max_per_order=1)
        placed = place({watch: 1}, buyer("CH"), at=datetime.now(timezone.utc) - timedelta(minutes=40))

        result = jobs.run_once()

        assert result["payment_window"] >= 1 and result["email_outbox"] >= 1
        assert order_row(placed.reference).status == "cancelled"
        assert len(_received(envelopes, placed.reference)) == 1
        assert jobs.run_once()["email_outbox"] == 0
        assert len(_received(envelopes, placed.reference)) == 1
        statuses = {job.name: job.outcome for job in jobs.last_runs(UnitOfWork())}
        assert statuses == {"payment_window": "ok", "telephone_orders": "ok", "hold_renewal": "ok",
                            "unavailable_items": "ok", "delivery_delays": "ok", "email_outbox": "ok",
                            "retention": "ok"}
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_failing_job_does_not_stop_the_others_and_its_failure_is_kept(database, monkeypatch):
    from storefront.services import jobs

    def broken(uow, at):
        raise RuntimeError("provider unreachable: secret detail")

    monkeypatch.setitem(jobs.JOBS, "hold_renewal", broken)
    result = jobs.run_once()

    assert set(result) == set(jobs.JOBS) and result["hold_renewal"] == 0
    runs = {job.name: job for job in jobs.last_runs(UnitOfWork())}
    assert (runs["hold_renewal"].outcome, runs["hold_renewal"].error) == ("failed", "RuntimeError")
    assert runs["email_outbox"].outcome == "ok"  # ran after the failure
    assert "secret detail" not in runs["hold_renewal"].error  # the class, never the message


def test_two_workers_writing_a_jobs_first_run_at_once_both_succeed(database, monkeypatch):
    """Production mode runs the background round in every worker: on a fresh database two of them find no
    row for a job and both insert one. The second must update the first's row, not report the job failed."""
    from sqlmodel import Session, delete

    from storefront.adapters.tables import JobRun
    from storefront.services import jobs

    with UnitOfWork() as uow:
        uow.session.exec(delete(JobRun))
        uow.commit()
    real_get = Session.get
    at = datetime.now(timezone.utc)
    jobs._write_record(UnitOfWork(), "email_outbox", at, "ok", 0, "")  # the other worker's insert ...

    def read_before_the_other_worker_wrote(session, model, key, **kw):
        if model is JobRun and not raced:
            raced.append(key)
            return None  # ... landed after our read
        return real_get(session, model, key, **kw)

    raced: list[str] = []
    monkeypatch.setattr(Session, "get", read_before_the_other_worker_wrote)
    jobs._record(UnitOfWork(), "email_outbox", at, "ok", 2, "")

    assert raced == ["email_outbox"]
    run = next(job for job in jobs.last_runs(UnitOfWork()) if job.name == "email_outbox")
    assert (run.outcome, run.handled) == ("ok", 2)
