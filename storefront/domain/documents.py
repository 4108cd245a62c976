"""An order confirmation exactly as the customer reads it (GTC-3.7), independent of any medium.

Every amount and date is already formatted (Babel, the customer's locale) by the caller, so the
email, a PDF record and the order status page can share one document and cannot disagree on a
figure or round differently. Nothing here does I/O; templates only place these strings.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        # The confirmation is the contractual invoice: a document that silently omits the tax
        # position (GTC-4.1: VAT added, or the client told duties are theirs) must not be sent.
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
