"""An order confirmation exactly as the customer reads it (GTC-3.7), independent of any medium; and the PDF
documents issued to the client (GTC-3.8: order record, invoice per shipment, credit note per refund).

Every amount and date is already formatted (Babel, the customer's locale) by the caller, so the
email, a PDF record and the order status page can share one document and cannot disagree on a
figure or round differently. Nothing here does I/O; templates only place these strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class LineView:
    name: str
    reference: str
    quantity: int
    unit_price: str
    line_total: str

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool) or self.quantity < 1:
            raise ValueError(f"A confirmed line needs a positive integer quantity, got {self.quantity!r}")


@dataclass(frozen=True)
class OrderDocument:
    reference: str
    placed_at: str
    customer_name: str
    email: str
    shipping_address_lines: tuple[str, ...]
    billing_address_lines: tuple[str, ...]
    lines: tuple[LineView, ...]
    subtotal: str
    shipping: str
    vat_label: str | None
    vat_amount: str | None
    duties_notice: str | None
    total: str
    currency: str
    terms_version: str
    terms_date: str
    ship_by: str
    status_url: str
    status_label: str
    merchant_name: str
    merchant_address_lines: tuple[str, ...]
    merchant_email: str
    merchant_vat_id: str

    def __post_init__(self) -> None:
        # The confirmation carries the contractual price information (GTC-3.7; the tax invoices come per
        # shipment, see PdfDocument below): one that silently omits the tax position (GTC-4.1: VAT added,
        # or the client told duties are theirs) must not be sent.
        if not self.lines:
            raise ValueError("An order confirmation needs at least one line.")
        if (self.vat_label is None) != (self.vat_amount is None):
            raise ValueError("vat_label and vat_amount come together or not at all.")
        if (self.vat_label is None) == (self.duties_notice is None):
            raise ValueError("An order confirmation shows either a VAT line or the duties notice, exactly one.")
        for name in ("shipping_address_lines", "billing_address_lines", "merchant_address_lines", "lines"):
            if not isinstance(getattr(self, name), tuple):
                # Lists would make the frozen document mutable through the back door.
                raise TypeError(f"{name} must be a tuple")

    @property
    def has_vat(self) -> bool:
        return self.vat_label is not None


# --- Issued PDF documents (GTC-3.8) ------------------------------------------------------------------------
#
# Three kinds, each numbered in its own gap-free series (services/documents.py holds the counters):
# - the order confirmation (order record) issued at placement: the contractual information of GTC-3.7,
#   titled so that nobody takes it for a tax invoice; it states that the invoice follows with each shipment;
# - a tax invoice per shipment, for exactly what that shipment charged (the supply is invoiced when it is
#   made, so no sale carries two tax invoices for the same supply);
# - a credit note per refund, for exactly what came back.

ORDER_CONFIRMATION = "order_confirmation"
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
SERIES = {ORDER_CONFIRMATION: "OC", INVOICE: "INV", CREDIT_NOTE: "CN"}
TITLES = {ORDER_CONFIRMATION: "Order confirmation", INVOICE: "Invoice", CREDIT_NOTE: "Credit note"}
NOT_AN_INVOICE = ("This order confirmation is not a tax invoice. The invoice for each shipment is issued on the day "
                  "it ships and sent with the shipping email.")
# An order with VAT (CH, DE: rules/tax.toml) gets invoices whose contents their law sets (MWSTG art. 26,
# § 14 UStG): the merchant's VAT number there, the delivery date and the tax by rate (PdfDocument checks them).


def document_number(kind: str, number: int) -> str:
    """'INV-000042': the series' prefix and the sequential number, never reused."""
    if kind not in SERIES:
        raise ValueError(f"Unknown document kind {kind!r}")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"A document number is a positive integer, got {number!r}")
    return f"{SERIES[kind]}-{number:06d}"


def file_name(kind: str, doc_number: str, reference: str) -> str:
    return f"{kind.replace('_', '-')}-{doc_number}-{reference}.pdf"


def split_gross(gross_minor: int, rate: Decimal | None, exponent: int) -> tuple[int, int]:
    """(net, tax) of an amount that includes VAT at `rate`, net rounded half up to the currency's minor unit."""
    if rate is None or gross_minor == 0:
        return gross_minor, 0
    scale = Decimal(10) ** exponent
    gross = Decimal(gross_minor) / scale
    net = int((gross / (1 + rate) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return net, gross_minor - net


@dataclass(frozen=True)
class RateLine:
    """One VAT rate's row of an invoice: the rate, the net amount taxed at it and the tax."""
    label: str
    net: str
    tax: str


@dataclass(frozen=True)
class PdfLine:
    description: str
    reference: str
    quantity: int
    unit_price: str
    amount: str


@dataclass(frozen=True)
class PdfDocument:
    """One issued document as printed; every string already formatted (Babel, the order's locale)."""
    kind: str
    document_number: str
    issued_on: str
    reference: str
    order_date: str
    merchant_name: str
    merchant_address_lines: tuple[str, ...]
    merchant_vat_id: str | None
    merchant_email: str
    customer_name: str
    billing_address_lines: tuple[str, ...]
    delivery_address_lines: tuple[str, ...]
    lines: tuple[PdfLine, ...]
    charges: tuple[tuple[str, str], ...]  # (label, amount) after the lines: subtotal, shipping
    rates: tuple[RateLine, ...]
    total_label: str
    total: str
    currency: str
    delivery_date: str | None = None  # invoices: the handover to the carrier (GTC-5.5)
    notices: tuple[str, ...] = ()  # the duties notice, "not a tax invoice", what a credit note corrects
    terms: str | None = None  # order confirmation: the accepted terms version and its date

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    def __post_init__(self) -> None:
        if self.kind not in SERIES:
            raise ValueError(f"Unknown document kind {self.kind!r}")
        if not self.lines:
            raise ValueError("A document needs at least one line.")
        for name in ("merchant_address_lines", "billing_address_lines", "delivery_address_lines", "lines",
                     "charges", "rates", "notices"):
            if not isinstance(getattr(self, name), tuple):
                raise TypeError(f"{name} must be a tuple")
        if not self.rates and not self.notices:
            raise ValueError("A document shows the VAT by rate or the duties notice.")
        if self.kind == INVOICE and self.rates and (not self.merchant_vat_id or not self.delivery_date):
            # MWSTG art. 26 / § 14 UStG: no VAT invoice without the supplier's VAT number and the supply date.
            raise ValueError("A VAT invoice needs the merchant's VAT number and the delivery date.")
        if self.kind == ORDER_CONFIRMATION and NOT_AN_INVOICE not in self.notices:
            raise ValueError("An order confirmation says it is not a tax invoice.")
