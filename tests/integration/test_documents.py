"""The client's documents (GTC-3.8) and the shipping email (GTC-5.2): the order record at placement, a tax invoice
per shipment, a credit note per refund, each a PDF read back here with pypdf; numbering gap-free per series.

Runs on SQLite and, with `bash scripts/with-postgres.sh`, on PostgreSQL.
"""

from __future__ import annotations

import email
import io
import re
import threading
from datetime import datetime, timezone
from email import policy as email_policy

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import DocumentCounter, IssuedDocument, Shipment
from storefront.domain.documents import SERIES
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus
from storefront.domain.staff import Role
from storefront.services import documents, links, outbox, refunds
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, order_row, outbox_of, staff_member
from tests.integration.test_shipping_admin import ODD, ship

pytestmark = pytest.mark.usefixtures("database")

NAMES = {"CH": "Zoë Müller-Lüdenscheidt", "DE": "Ярослава Ковальчук", "JP": "山田 太郎",
         "US": "Αικατερίνη Παπαδοπούλου"}


def docs_of(reference: str) -> list[IssuedDocument]:
    with Session(get_engine()) as s:
        return list(s.exec(select(IssuedDocument).where(IssuedDocument.order_id == order_row(reference).id)
                           .order_by(IssuedDocument.id)).all())


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def fmt(minor: int, reference: str) -> str:
    order = order_row(reference)
    return Money(minor, order.currency).format(order.locale)


@pytest.fixture
def approved(make_product, place, card_token, stripe_gateway):
    """An order held at checkout and approved by staff, the client named in their country's script."""
    from storefront.services import order_admin, payment

    def make(cart: dict[str, int], country: str = "CH", name: str | None = None) -> str:
        placed = place(cart, buyer(country, name=name or NAMES[country]))
        assert payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"), gw=stripe_gateway,
                                 browser=None).status == "held"
        order_admin.approve(UnitOfWork(), placed.reference, staff=staff_member(Role.FINANCE))
        return placed.reference

    return make


@pytest.mark.clause("GTC-3.8")
@pytest.mark.parametrize("country", ["CH", "JP"])
def test_the_order_record_is_issued_at_placement_with_the_contract_and_attached_to_the_confirmation(
        make_product, place, card_token, stripe_gateway, country):
    from storefront.services import payment

    a = make_product(prices=ODD)
    placed = place({a: 2}, buyer(country, name=NAMES[country]))
    assert docs_of(placed.reference) == []  # nothing before the order is placed (payment held)
    assert payment.authorize(UnitOfWork(), placed.reference, card_token("4242424242424242"), gw=stripe_gateway,
                             browser=None).status == "held"
    order = order_row(placed.reference)

    [record] = docs_of(placed.reference)
    assert record.kind == "order_confirmation" and record.document_number == f"OC-{record.number:06d}"
    text = text_of(record.pdf)
    assert "Order confirmation" in text and "not a tax invoice" in text and "Invoice number" not in text
    s = get_settings()
    assert s.merchant_name in text and s.merchant_street in text and record.document_number in text
    assert NAMES[country] in text and order.reference in text
    assert f"Test Watch {a[4:]}" in text and fmt(ODD[order.currency], placed.reference) in text
    assert fmt(order.shipping_minor, placed.reference) in text and fmt(order.total_minor, placed.reference) in text
    assert re.search(r"Terms of sale accepted: version \S+ of", text)
    if country == "CH":
        assert "VAT 8.1%" in text and fmt(order.vat_minor, placed.reference) in text
        assert "Import duties" not in text
    else:
        assert not re.search(r"VAT \d", text) and "Import duties, VAT and other local charges" in text
    [confirmation] = [m for m in outbox_of(placed.reference) if m.kind == "order_confirmation"]
    assert confirmation.document_id == record.id
    assert "invoice" not in confirmation.text_body.lower()


@pytest.mark.clause("GTC-3.8")
@pytest.mark.clause("GTC-5.2")
@pytest.mark.parametrize("country", ["CH", "DE", "US"])
def test_each_shipment_gets_its_own_invoice_for_what_it_charged_and_an_email_with_it(
        approved, make_product, stripe_gateway, country):
    a, b = make_product(prices=ODD), make_product()
    reference = approved({a: 2, b: 1}, country)
    order = order_row(reference)

    ship(reference, {a: 1}, stripe_gateway, tracking="PART-ONE-1")
    ship(reference, {a: 1, b: 1}, stripe_gateway, tracking="PART-TWO-2")
    assert order_row(reference).status == OrderStatus.SHIPPED.value

    with Session(get_engine()) as s:
        shipments = s.exec(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.number)).all()
    record, first, second = docs_of(reference)
    assert (record.kind, first.kind, second.kind) == ("order_confirmation", "invoice", "invoice")
    assert second.number > first.number and (first.shipment_id, second.shipment_id) == tuple(x.id for x in shipments)
    # one sale, no supply invoiced twice: the invoices add up to exactly what the card was charged
    assert [first.amount_minor, second.amount_minor] == [x.captured_minor for x in shipments]
    assert first.amount_minor + second.amount_minor == order.total_minor

    one, two = text_of(first.pdf), text_of(second.pdf)
    for text, doc, shipment in ((one, first, shipments[0]), (two, second, shipments[1])):
        assert "Invoice" in text and doc.document_number in text and NAMES[country] in text
        assert fmt(shipment.captured_minor, reference) in text and "Delivery date" in text
        assert "Unter den Linden 1" in text if country == "DE" else True
    assert "Shipping" in one and "Shipping" not in two.replace("Shipment", "")  # the fee is invoiced once
    assert f"Test Watch {b[4:]}" not in one and f"Test Watch {b[4:]}" in two
    if country in ("CH", "DE"):
        vat_id = get_settings().merchant_vat_id if country == "CH" else get_settings().merchant_vat_id_de
        rate = "VAT 8.1%" if country == "CH" else "VAT 19%"
        net_one = ODD[order.currency] + order.shipping_minor
        assert vat_id in one and vat_id in two and rate in one and rate in two
        assert f"{rate} on {fmt(net_one, reference)} {fmt(first.amount_minor - net_one, reference)}" in one
        net_two = ODD[order.currency] + (order.subtotal_minor - 2 * ODD[order.currency])
        assert f"{rate} on {fmt(net_two, reference)} {fmt(second.amount_minor - net_two, reference)}" in two
    else:
        assert "Import duties, VAT and other local charges" in one and "VAT 8.1%" not in one

    mails = [m for m in outbox_of(reference) if m.kind == "order_shipped"]
    assert [m.document_id for m in mails] == [first.id, second.id]
    assert "Still to ship: 1 x" in mails[0].text_body and "PART-ONE-1" in mails[0].text_body
    assert "This parcel completes your order." in mails[1].text_body
    assert first.document_number in mails[0].text_body and "/order/" in mails[0].text_body


@pytest.mark.clause("GTC-3.8")
def test_a_refund_gets_a_credit_note_for_exactly_what_came_back_attached_to_its_email(
        approved, make_product, stripe_gateway):
    a, b = make_product(prices=ODD), make_product()
    reference = approved({a: 1, b: 1}, "CH")
    ship(reference, {a: 1, b: 1}, stripe_gateway)

    asked = refunds.refund(UnitOfWork(), reference, lines={b: 1}, reason="item_returned",
                           staff=staff_member(Role.FINANCE), gw=stripe_gateway)
    assert asked.status == "awaiting_approval"  # a large refund: nothing is issued before it is made
    assert [d.kind for d in docs_of(reference)] == ["order_confirmation", "invoice"]
    outcome = refunds.approve_refund(UnitOfWork(), asked.refund_id, staff=staff_member(Role.FINANCE),
                                     gw=stripe_gateway)
    assert outcome.status == "succeeded"

    *_, invoice, credit = docs_of(reference)
    assert credit.kind == "credit_note" and credit.document_number == f"CN-{credit.number:06d}"
    assert credit.amount_minor == outcome.amount_minor
    text = text_of(credit.pdf)
    assert "Credit note" in text and fmt(outcome.amount_minor, reference) in text and invoice.document_number in text
    assert f"Test Watch {b[4:]}" in text and "VAT 8.1%" in text
    [mail] = [m for m in outbox_of(reference) if m.kind == "refund"]
    assert mail.document_id == credit.id and credit.document_number in mail.text_body


@pytest.mark.clause("GTC-3.8")
def test_numbers_are_gap_free_when_issued_at_the_same_instant_and_when_a_transaction_rolls_back(database):
    series = SERIES["credit_note"]
    with Session(get_engine()) as s:
        start = s.get(DocumentCounter, series).last_number
    taken: list[int] = []
    barrier = threading.Barrier(6)

    def take() -> None:
        barrier.wait()
        with UnitOfWork() as uow:
            taken.append(documents.next_number(uow.session, series))
            uow.commit()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken) == list(range(start + 1, start + 7))

    with UnitOfWork() as uow:  # an issue whose transaction fails gives its number back
        documents.next_number(uow.session, series)  # left without commit: rolled back
    with UnitOfWork() as uow:
        assert documents.next_number(uow.session, series) == start + 7
        uow.commit()


@pytest.mark.clause("GTC-3.8")
def test_documents_are_listed_and_served_only_behind_the_order_page_link(make_product, place, card_token,
                                                                        stripe_gateway):
    from storefront.services import payment

    placed = [place({make_product(): 1}, buyer("CH")) for _ in range(2)]
    for p in placed:
        payment.authorize(UnitOfWork(), p.reference, card_token("4242424242424242"), gw=stripe_gateway, browser=None)
    mine, other = (p.reference for p in placed)
    token = links.issue(mine, links.Purpose.VIEW)
    [listed] = documents.documents_for_page(UnitOfWork(), mine, token)
    [record] = docs_of(mine)
    assert listed.document_number == record.document_number and listed.title == "Order confirmation"
    assert listed.url.startswith(f"/api/orders/{mine}/{record.document_number}?t=")
    name, pdf = documents.document_for_download(UnitOfWork(), mine, record.document_number, token)
    assert pdf == record.pdf and name.endswith(".pdf") and mine in name

    other_record = docs_of(other)[0].document_number
    assert documents.document_for_download(UnitOfWork(), mine, other_record, token) is None  # another order's
    assert documents.document_for_download(UnitOfWork(), other, other_record, token) is None  # token of another
    assert documents.document_for_download(UnitOfWork(), mine, record.document_number, token + "x") is None
    pay = links.issue(mine, links.Purpose.PAY)
    assert documents.document_for_download(UnitOfWork(), mine, record.document_number, pay) is None
    assert documents.documents_for_page(UnitOfWork(), mine, "forged") == []


@pytest.mark.clause("GTC-5.2")
def test_the_shipping_email_arrives_once_through_smtp_with_its_invoice_attached(
        approved, make_product, stripe_gateway, collecting_smtp):
    mailer, received = collecting_smtp
    a = make_product()
    reference = approved({a: 2}, "CH", name="Anna Keller")
    ship(reference, {a: 1}, stripe_gateway, tracking="SMTP-PART-1")
    order = order_row(reference)
    now = datetime.now(timezone.utc)
    outbox.deliver_due(UnitOfWork(), mailer, now=now, limit=500)
    outbox.deliver_due(UnitOfWork(), mailer, now=now, limit=500)  # a second run sends nothing again

    mine = [email.message_from_bytes(e.content, policy=email_policy.default) for e in received
            if order.email in e.rcpt_tos]
    shipped = [m for m in mine if "has shipped" in m["Subject"]]
    assert len(shipped) == 1
    [attachment] = list(shipped[0].iter_attachments())
    invoice = [d for d in docs_of(reference) if d.kind == "invoice"][0]
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == invoice.filename
    text = text_of(attachment.get_content())
    assert invoice.document_number in text and "Anna Keller" in text
    body = shipped[0].get_body(preferencelist=("plain",)).get_content()
    assert "SMTP-PART-1" in body and "Still to ship: 1 x" in body
    [confirmation] = [m for m in mine if "awaiting approval" in m["Subject"]]
    [record] = list(confirmation.iter_attachments())
    assert "Order confirmation" in text_of(record.get_content())


@pytest.mark.clause("GTC-3.8")
def test_an_amount_refunded_as_goodwill_gets_its_own_credit_note_with_the_vat_split_out(
        approved, make_product, stripe_gateway):
    a = make_product(prices=ODD)
    reference = approved({a: 1}, "DE")
    ship(reference, {a: 1}, stripe_gateway)
    outcome = refunds.refund(UnitOfWork(), reference, amount_minor=11900, reason="goodwill",
                             staff=staff_member(Role.FINANCE), gw=stripe_gateway)
    assert outcome.status == "succeeded"
    credit = docs_of(reference)[-1]
    text = text_of(credit.pdf)
    assert credit.kind == "credit_note" and credit.amount_minor == 11900
    assert "Refund (goodwill)" in text and get_settings().merchant_vat_id_de in text
    assert f"VAT 19% on {fmt(10000, reference)} {fmt(1900, reference)}" in text  # 119.00 = 100.00 + 19 % VAT
    assert f"Total credited ({order_row(reference).currency}) {fmt(11900, reference)}" in text


@pytest.mark.clause("GTC-3.8")
def test_a_full_erasure_empties_the_stored_pdfs_and_a_partial_one_keeps_them(approved, make_product, stripe_gateway):
    from storefront.services import order_admin, retention

    compliance = staff_member(Role.COMPLIANCE)
    watch = make_product()
    charged = approved({watch: 1}, "CH")  # shipped and charged: the invoice is kept as issued
    ship(charged, {watch: 1}, stripe_gateway)
    cancelled = approved({make_product(): 1}, "CH")  # nothing charged: nothing keeps its documents
    order_admin.cancel(UnitOfWork(), cancelled, "undeliverable_address", staff=staff_member(Role.CUSTOMER_SERVICE),
                       gw=stripe_gateway)

    for reference in (charged, cancelled):
        retention.erase_client(UnitOfWork(), order_row(reference).email, "client_request", staff=compliance,
                               gw=stripe_gateway)

    assert order_row(charged).erasure == "partial" and order_row(cancelled).erasure == "full"
    assert all(NAMES["CH"] in text_of(d.pdf) for d in docs_of(charged))
    [record] = docs_of(cancelled)
    assert record.pdf == b"" and record.document_number.startswith("OC-")  # the number stays: no gap
    token = links.issue(cancelled, links.Purpose.VIEW)
    assert documents.document_for_download(UnitOfWork(), cancelled, record.document_number, token) is None


@pytest.mark.clause("GTC-3.8")
def test_a_confirmation_sent_again_attaches_the_same_order_record_never_a_new_one(approved, make_product):
    from storefront.services import outbox_admin

    reference = approved({make_product(): 1}, "CH")
    [record] = docs_of(reference)
    outbox_admin.resend_confirmation(UnitOfWork(), reference, staff=staff_member(Role.CUSTOMER_SERVICE))
    confirmations = [m for m in outbox_of(reference) if m.kind == "order_confirmation"]
    assert len(confirmations) == 2 and {m.document_id for m in confirmations} == {record.id}
    assert docs_of(reference) == [record]
