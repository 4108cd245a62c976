"""The customer's view of an order (OrderDocument), built from the snapshot stored on the order.

Everything comes from the order row, never from the current catalogue or price list, so the
email, the status page and later the invoice show what was contracted (GTC-4.2). Dates and amounts
use `order.locale`, the display locale the client ordered in, so every later email reads like the pages did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters.pdf_render import render_pdf
from storefront.adapters.tables import (DocumentCounter, IssuedDocument, Order, OrderLine, Shipment, ShipmentLine,
                                        TermsVersion)
from storefront.domain.documents import (CREDIT_NOTE, INVOICE, NOT_AN_INVOICE, ORDER_CONFIRMATION, SERIES, TITLES,
                                         LineView, OrderDocument, PdfDocument, PdfLine, RateLine, document_number,
                                         file_name, split_gross)
from storefront.domain.markets import country as country_of
from storefront.domain.money import Money, exponent
from storefront.domain.order_info import Address
from storefront.domain.order_status import OrderStatus, customer_label
from storefront.domain.quote import DUTIES_NOTICE
from storefront.domain.tax import vat_label
from storefront.services import links
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

DOWNLOAD_PREFIX = "/api/orders/"  # + <reference>/<document number>?t=<view token> (storefront/api.py)


def order_document(session: Session, order: Order) -> OrderDocument:
    s = get_settings()
    money = lambda minor: Money(minor, order.currency).format(order.locale)  # noqa: E731
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    terms = session.get(TermsVersion, order.terms_version_id) if order.terms_version_id else None
    has_vat = order.vat_rate is not None
    return OrderDocument(
        reference=order.reference,
        placed_at=format_datetime(order.placed_at, "medium", tzinfo=s.merchant_timezone, locale=order.locale),
        customer_name=order.full_name,
        email=order.email,
        shipping_address_lines=Address(**order.shipping_address).lines(),
        billing_address_lines=Address(**order.billing_address).lines(),
        lines=tuple(LineView(l.name, l.reference, l.quantity, money(l.unit_price_minor), money(l.unit_price_minor * l.quantity))
                    for l in lines),
        subtotal=money(order.subtotal_minor),
        shipping=money(order.shipping_minor),
        vat_label=vat_label(Decimal(order.vat_rate)) if has_vat else None,
        vat_amount=money(order.vat_minor) if has_vat else None,
        duties_notice=None if has_vat else DUTIES_NOTICE.format(country=country_of(order.country).name),
        total=money(order.total_minor),
        currency=order.currency,
        terms_version=terms.version if terms else "",  # none yet: a telephone order the client has not confirmed
        terms_date=format_date(terms.published_at, "long", locale=order.locale) if terms else "",
        ship_by=format_date(order.ship_by, "full", locale=order.locale),
        status_url=links.order_url(order.reference),
        status_label=customer_label(OrderStatus(order.status)),
        merchant_name=s.merchant_name,
        merchant_address_lines=(s.merchant_street, f"{s.merchant_postcode} {s.merchant_city}", "Switzerland"),
        merchant_email=s.merchant_email,
        merchant_vat_id=s.merchant_vat_id,
    )


# --- Issued PDF documents (GTC-3.8) --------------------------------------------------------------------------
#
# Each document is issued once per thing it documents (`source_key`), numbered in its series by the counter
# row, rendered to PDF and stored as issued, all in the caller's transaction: if that transaction rolls
# back, so do the number and the document, so a series never has a gap. Emails attach the stored bytes
# (outbox_email.document_id); the status page serves them. Nothing re-renders an issued document.

@dataclass(frozen=True)
class DocumentLink:
    """One document on the order status page."""
    title: str
    document_number: str
    issued_on: str
    url: str


def next_number(s: Session, series: str) -> int:
    """The next number of `series`, taken in the caller's transaction (row-locked until it ends)."""
    taken = s.exec(update(DocumentCounter).where(DocumentCounter.series == series)
                   .values(last_number=DocumentCounter.last_number + 1)
                   .returning(DocumentCounter.last_number)).scalar_one_or_none()
    if taken is not None:
        return int(taken)
    try:  # a series added after the migration seeded the counters: create its row, once
        with s.begin_nested():
            s.add(DocumentCounter(series=series, last_number=0))
    except IntegrityError:
        pass  # created by a simultaneous issue; the update below waits for it
    return next_number(s, series)


def _money(order: Order):
    return lambda minor: Money(minor, order.currency).format(order.locale)  # noqa: E731


def _local_date(order: Order, moment: datetime) -> str:
    tz = ZoneInfo(get_settings().merchant_timezone)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return format_date(aware.astimezone(tz).date(), "long", locale=order.locale)


def _vat_id(order: Order) -> str:
    s = get_settings()
    return s.merchant_vat_id_de if order.country == "DE" else s.merchant_vat_id


def _rate(order: Order) -> Decimal | None:
    return Decimal(order.vat_rate) if order.vat_rate is not None else None


def _duties(order: Order) -> tuple[str, ...]:
    return () if order.vat_rate is not None else (DUTIES_NOTICE.format(country=country_of(order.country).name),)


def _rates(order: Order, net_minor: int, tax_minor: int) -> tuple[RateLine, ...]:
    rate = _rate(order)
    if rate is None:
        return ()
    money = _money(order)
    return (RateLine(vat_label(rate), money(net_minor), money(tax_minor)),)


def _base(order: Order, kind: str, number: str, at: datetime, lines: tuple[PdfLine, ...],
          charges: tuple[tuple[str, str], ...], rates: tuple[RateLine, ...], total_minor: int,
          notices: tuple[str, ...], *, total_label: str = "Total", delivery_date: str | None = None,
          terms: str | None = None) -> PdfDocument:
    s = get_settings()
    return PdfDocument(
        kind=kind, document_number=number, issued_on=_local_date(order, at), reference=order.reference,
        order_date=_local_date(order, order.placed_at), merchant_name=s.merchant_name,
        merchant_address_lines=(s.merchant_street, f"{s.merchant_postcode} {s.merchant_city}", "Switzerland"),
        merchant_vat_id=_vat_id(order), merchant_email=s.merchant_email, customer_name=order.full_name,
        billing_address_lines=Address(**order.billing_address).lines(),
        delivery_address_lines=Address(**order.shipping_address).lines(), lines=lines, charges=charges, rates=rates,
        total_label=total_label, total=_money(order)(total_minor), currency=order.currency,
        delivery_date=delivery_date, notices=notices, terms=terms)


def _issue(s: Session, order: Order, kind: str, source_key: str, at: datetime, amount_minor: int,
           build, shipment_id: int | None = None) -> IssuedDocument:
    existing = s.exec(select(IssuedDocument).where(IssuedDocument.source_key == source_key)).first()
    if existing is not None:
        return existing
    number = next_number(s, SERIES[kind])
    doc_number = document_number(kind, number)
    pdf = render_pdf(build(doc_number), created=at)
    row = IssuedDocument(order_id=order.id, kind=kind, series=SERIES[kind], number=number,
                         document_number=doc_number, source_key=source_key, shipment_id=shipment_id, issued_at=at,
                         filename=file_name(kind, doc_number, order.reference), amount_minor=amount_minor,
                         currency=order.currency, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest())
    s.add(row)
    s.flush()
    return row


def _order_lines(s: Session, order: Order) -> list[OrderLine]:
    return list(s.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all())


def issue_order_record(s: Session, order: Order, at: datetime) -> IssuedDocument:
    """The order confirmation PDF (GTC-3.7 contents), issued once when the order is placed."""
    money = _money(order)
    terms = s.get(TermsVersion, order.terms_version_id) if order.terms_version_id else None
    lines = tuple(PdfLine(l.name, l.reference, l.quantity, money(l.unit_price_minor),
                          money(l.unit_price_minor * l.quantity)) for l in _order_lines(s, order))
    charges = (("Subtotal", money(order.subtotal_minor)), ("Shipping", money(order.shipping_minor)))
    notices = _duties(order) + (
        f"Ships by {format_date(order.ship_by, 'long', locale=order.locale)}.", NOT_AN_INVOICE)
    terms_text = (f"Terms of sale accepted: version {terms.version} of "
                  f"{format_date(terms.published_at, 'long', locale=order.locale)}." if terms else None)
    return _issue(s, order, ORDER_CONFIRMATION, f"order:{order.id}", at, order.total_minor,
                  lambda n: _base(order, ORDER_CONFIRMATION, n, at, lines, charges,
                                  _rates(order, order.subtotal_minor + order.shipping_minor, order.vat_minor),
                                  order.total_minor, notices, terms=terms_text))


def issue_invoice(s: Session, order: Order, shipment: Shipment, at: datetime) -> IssuedDocument:
    """The tax invoice of one shipment: what it contained and exactly what it charged (`captured_minor`)."""
    money = _money(order)
    by_id = {l.id: l for l in _order_lines(s, order)}
    shipped = s.exec(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id)
                     .order_by(ShipmentLine.id)).all()
    lines = tuple(PdfLine(by_id[x.order_line_id].name, by_id[x.order_line_id].reference, x.quantity,
                          money(by_id[x.order_line_id].unit_price_minor),
                          money(by_id[x.order_line_id].unit_price_minor * x.quantity)) for x in shipped)
    goods = sum(by_id[x.order_line_id].unit_price_minor * x.quantity for x in shipped)
    fee = order.shipping_minor if shipment.number == 1 else 0
    net = goods + fee if order.vat_rate is not None else shipment.captured_minor
    charges = (("Subtotal", money(goods)),) + ((("Shipping", money(fee)),) if fee else ())
    notices = _duties(order) + (
        f"Shipment {shipment.number} of order {order.reference}: handed to {shipment.carrier}, "
        f"tracking number {shipment.tracking_number}. Paid by card.",)
    return _issue(s, order, INVOICE, f"shipment:{shipment.id}", at, shipment.captured_minor,
                  lambda n: _base(order, INVOICE, n, at, lines, charges,
                                  _rates(order, net, shipment.captured_minor - net), shipment.captured_minor,
                                  notices, delivery_date=_local_date(order, shipment.handed_over_at)),
                  shipment_id=shipment.id)


def issue_credit_note(s: Session, order: Order, request_number: int, amount_minor: int, reason: str,
                      refunded_lines: dict[str, int], at: datetime) -> IssuedDocument:
    """The credit note of one refund request, for exactly what came back (`amount_minor`, VAT included)."""
    money = _money(order)
    by_ref = {l.reference: l for l in _order_lines(s, order)}
    rate = _rate(order)
    net, tax = split_gross(amount_minor, rate, exponent(order.currency))
    refunded_lines = {r: q for r, q in refunded_lines.items() if r in by_ref}
    lines_net = sum(by_ref[r].unit_price_minor * q for r, q in refunded_lines.items())
    lines_gross = lines_net + (Money.from_decimal(Money(lines_net, order.currency).to_decimal() * rate,
                                                  order.currency).minor if rate is not None else 0)
    if refunded_lines and lines_gross <= amount_minor:
        # lines (their VAT as checkout computed it), and any amount refunded beside them split at the order's rate
        extra_net, extra_tax = split_gross(amount_minor - lines_gross, rate, exponent(order.currency))
        net, tax = lines_net + extra_net, lines_gross - lines_net + extra_tax
    else:
        refunded_lines, extra_net = {}, net
    lines = tuple(PdfLine(by_ref[r].name, r, q, money(by_ref[r].unit_price_minor), money(by_ref[r].unit_price_minor * q))
                  for r, q in refunded_lines.items())
    if extra_net or not lines:
        lines += (PdfLine(f"Refund ({reason.replace('_', ' ')})", "", 1, money(extra_net), money(extra_net)),)
    invoices = s.exec(select(IssuedDocument.document_number).where(
        IssuedDocument.order_id == order.id, IssuedDocument.kind == INVOICE).order_by(IssuedDocument.id)).all()
    notices = _duties(order) + (
        f"Refund {request_number} of order {order.reference}, credited to the card used for the order."
        + (f" Corrects invoice {', '.join(invoices)}." if invoices else ""),)
    return _issue(s, order, CREDIT_NOTE, f"refund:{order.id}:{request_number}", at, amount_minor,
                  lambda n: _base(order, CREDIT_NOTE, n, at, lines, (), _rates(order, net, tax), amount_minor,
                                  notices, total_label="Total credited"))


def documents_for_page(uow: UnitOfWork, reference: str, token: str, at: datetime | None = None) -> list[DocumentLink]:
    """The order's documents with their download links, behind the same signed view link as the page."""
    if not isinstance(reference, str) or not isinstance(token, str) or not links.valid(
            reference, token, links.Purpose.VIEW, at):
        return []
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference)).first()
        if order is None:
            return []
        rows = s.exec(select(IssuedDocument.kind, IssuedDocument.document_number, IssuedDocument.issued_at)
                      .where(IssuedDocument.order_id == order.id).order_by(IssuedDocument.id)).all()
        return [DocumentLink(TITLES[kind], number, _local_date(order, issued_at),
                             download_path(reference, number, token)) for kind, number, issued_at in rows]


def download_path(reference: str, doc_number: str, token: str) -> str:
    return f"{DOWNLOAD_PREFIX}{quote(reference, safe='')}/{quote(doc_number, safe='')}?t={quote(token, safe='')}"


def document_for_download(uow: UnitOfWork, reference: object, doc_number: object, token: object,
                          at: datetime | None = None) -> tuple[str, bytes] | None:
    """(file name, PDF) when the view link is genuine and the document belongs to that order; else None."""
    if not all(isinstance(v, str) and 0 < len(v) <= 200 for v in (reference, doc_number, token)):
        return None
    if not links.valid(reference, token, links.Purpose.VIEW, at):
        return None
    with uow.reading() as s:
        row = s.exec(select(IssuedDocument.filename, IssuedDocument.pdf).join(Order, Order.id == IssuedDocument.order_id)
                     .where(Order.reference == reference, IssuedDocument.document_number == doc_number)).first()
        return (row[0], bytes(row[1])) if row is not None and row[1] else None  # empty: erased (retention)

