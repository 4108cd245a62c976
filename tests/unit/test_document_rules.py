"""Issued documents as pure rules (GTC-3.8): numbers per series, VAT split by rate, what each kind must carry,
and every script a customer's name may be written in printed into the PDF and read back."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from pypdf import PdfReader

from storefront.adapters.pdf_render import render_pdf
from storefront.domain.documents import (CREDIT_NOTE, INVOICE, NOT_AN_INVOICE, ORDER_CONFIRMATION, PdfDocument, PdfLine,
                                         RateLine, document_number, file_name, split_gross)

def doc(**changes) -> PdfDocument:
    fields = dict(kind=INVOICE, document_number="INV-000007", issued_on="26 November 2026", reference="VX-7K2M9Q",
                  order_date="2 November 2026", merchant_name="Vireux Genève SA",
                  merchant_address_lines=("Rue du Rhône 48", "1204 Genève", "Switzerland"),
                  merchant_vat_id="CHE-123.456.789 MWST", merchant_email="clients@vireux.example",
                  customer_name="Anna Keller", billing_address_lines=("Bahnhofstrasse 12", "8001 Zürich"),
                  delivery_address_lines=("Bahnhofstrasse 12", "8001 Zürich"),
                  lines=(PdfLine("Calibre Perpétuel", "VX-CP-01", 2, "CHF 12,345.67", "CHF 24,691.34"),),
                  charges=(("Subtotal", "CHF 24,691.34"),), rates=(RateLine("VAT 8.1%", "CHF 24,691.34", "CHF 2,000.00"),),
                  total_label="Total", total="CHF 26,691.34", currency="CHF", delivery_date="26 November 2026")
    fields.update(changes)
    return PdfDocument(**fields)


def text(document: PdfDocument) -> str:
    pdf = render_pdf(document, datetime(2026, 11, 26, 10, tzinfo=timezone.utc))
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.clause("GTC-3.8")
def test_each_series_numbers_with_its_own_prefix_and_refuses_non_positive_numbers():
    assert [document_number(k, 42) for k in (ORDER_CONFIRMATION, INVOICE, CREDIT_NOTE)] == [
        "OC-000042", "INV-000042", "CN-000042"]
    assert document_number(INVOICE, 1234567) == "INV-1234567"
    for bad in (0, -1, True, "3"):
        with pytest.raises(ValueError):
            document_number(INVOICE, bad)
    with pytest.raises(ValueError):
        document_number("receipt", 1)
    assert file_name(CREDIT_NOTE, "CN-000003", "VX-1") == "credit-note-CN-000003-VX-1.pdf"


@pytest.mark.parametrize(("gross", "rate", "exponent", "net", "tax"), [
    (10810, Decimal("0.081"), 2, 10000, 810),
    (11900, Decimal("0.19"), 2, 10000, 1900),
    (1, Decimal("0.081"), 2, 1, 0),
    (108100, Decimal("0.081"), 0, 100000, 8100),  # JPY: whole yen
    (5000, None, 2, 5000, 0),
])
@pytest.mark.clause("GTC-3.8")
def test_a_gross_amount_splits_into_net_and_tax_that_add_up_exactly(gross, rate, exponent, net, tax):
    assert split_gross(gross, rate, exponent) == (net, tax)
    assert sum(split_gross(gross, rate, exponent)) == gross


@pytest.mark.clause("GTC-3.8")
def test_a_vat_invoice_needs_the_merchants_vat_number_and_the_delivery_date():
    with pytest.raises(ValueError):
        doc(merchant_vat_id=None)
    with pytest.raises(ValueError):
        doc(delivery_date=None)
    with pytest.raises(ValueError):  # neither the tax by rate nor the duties notice
        doc(rates=(), notices=())
    doc(rates=(), notices=("Import duties, VAT and other local charges are payable by you.",), merchant_vat_id=None)


@pytest.mark.clause("GTC-3.8")
def test_an_order_confirmation_says_it_is_not_a_tax_invoice():
    with pytest.raises(ValueError):
        doc(kind=ORDER_CONFIRMATION, document_number="OC-000001", delivery_date=None)
    printed = text(doc(kind=ORDER_CONFIRMATION, document_number="OC-000001", delivery_date=None,
                       notices=(NOT_AN_INVOICE,)))
    assert printed.startswith("Vireux Genève SA Order confirmation") and "not a tax invoice" in printed
    assert "Invoice number" not in printed and "Order confirmation number OC-000001" in printed


@pytest.mark.clause("GTC-3.8")
def test_an_invoice_prints_what_mwstg_art_26_and_14_ustg_require():
    printed = text(doc())
    for item in ("Vireux Genève SA", "Rue du Rhône 48", "VAT number: CHE-123.456.789 MWST",  # supplier
                 "Anna Keller", "Bahnhofstrasse 12",  # recipient
                 "Invoice number INV-000007", "Date 26 November 2026", "Delivery date 26 November 2026",
                 "Calibre Perpétuel (VX-CP-01) 2 CHF 12,345.67 CHF 24,691.34",  # description and quantity
                 "VAT 8.1% on CHF 24,691.34 CHF 2,000.00", "Total (CHF) CHF 26,691.34"):  # by rate, and total
        assert item in printed


@pytest.mark.clause("GTC-3.8")
@pytest.mark.parametrize("name", ["Zoë Müller-Lüdenscheidt", "Łukasz Wójcik-Żółć", "Ярослава Ковальчук",
                                  "Αικατερίνη Παπαδοπούλου", "山田 太郎", "渡邊 さくら", "Nguyễn Thị Minh Khai"])
def test_any_customer_name_is_printed_as_typed(name):
    printed = text(doc(customer_name=name, delivery_address_lines=(name, "1-1 Marunouchi", "東京都千代田区")))
    assert name in printed and "東京都千代田区" in printed
