"""Prints a PdfDocument (domain/documents.py) as an A4 PDF with fpdf2; no database, no decisions.

Fonts are embedded (subset by fpdf2 to the glyphs used), so any customer name prints as typed:
DejaVu Sans for Latin with diacritics, Greek and Cyrillic, and a JIS X 0208 subset of IPAex Gothic
as fallback for Japanese (storefront/fonts/, licences beside them, rebuilt by scripts/subset_fonts.py).
The creation date is the issue date, so the same document prints to the same bytes.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import SubsetMap

from storefront.domain.documents import PdfDocument

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
FONTS = {
    ("sans", ""): "DejaVuSans-subset.ttf",
    ("sans", "B"): "DejaVuSans-Bold-subset.ttf",
    ("jp", ""): "StorefrontJPGothic.ttf",
}
_NEXT = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


@functools.cache
def _parsed_latin_fonts() -> dict:
    """DejaVu Sans (Latin, Greek, Cyrillic) as fpdf2 loads it, parsed once per process. Parsing the fonts took
    180 ms of CPU per document (the Japanese font alone 126 ms), most of an order's CPU at checkout; a copy of
    the parsed fonts costs a few milliseconds. Each document gets its own copy: printing subsets a font in place."""
    template = FPDF()
    for (family, style), name in FONTS.items():
        if family == "sans":
            template.add_font(family, style, str(FONTS_DIR / name))
    return template.fonts


def _own_copy(font: Any) -> Any:
    """A parsed font for one document. What printing changes is its own: the glyphs used (`subset`,
    `missing_glyphs`) and the fontTools font, which printing subsets in place (opened lazily from the file's
    bytes: only what is printed is read). What it only reads is shared: widths, glyph ids, the cmap
    (fpdf2's own deepcopy shares the same, and copies the rest at ten times the cost)."""
    own = copy.copy(font)
    own.missing_glyphs = []
    own.ttfont = ttLib.TTFont(io.BytesIO(_font_bytes(font.ttffile)), recalcTimestamp=False, lazy=True)
    own.subset = SubsetMap(own)
    return own


@functools.cache
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _texts(item)
    elif dataclasses.is_dataclass(value):
        for item in dataclasses.fields(value):
            yield from _texts(getattr(value, item.name))


def _needs_fallback(doc: PdfDocument, covered: dict) -> bool:
    """Whether any character of the document is missing from DejaVu Sans (a Japanese name, say)."""
    return any(ord(char) not in covered for text in _texts(doc) for char in text if not char.isspace())


class _Pdf(FPDF):
    def __init__(self, doc: PdfDocument) -> None:
        super().__init__(format="A4")
        self.doc = doc
        self.fonts.update({key: _own_copy(font) for key, font in _parsed_latin_fonts().items()})  # as add_font
        if _needs_fallback(doc, self.fonts["sans"].cmap):  # parsed when needed only
            self.add_font("jp", "", str(FONTS_DIR / FONTS[("jp", "")]))
            self.set_fallback_fonts(["jp"], exact_match=False)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("sans", "", 7)
        self.cell(0, 4, f"{self.doc.merchant_name} · {self.doc.merchant_email} · {self.doc.title} "
                        f"{self.doc.document_number} · {self.page_no()}/{{nb}}", align="C")


def render_pdf(doc: PdfDocument, created: datetime) -> bytes:
    pdf = _Pdf(doc)
    pdf.set_title(f"{doc.title} {doc.document_number}")
    pdf.set_author(doc.merchant_name)
    pdf.set_creator(doc.merchant_name)
    pdf.set_creation_date(created)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font("sans", "B", 11)
    pdf.cell(width / 2, 5, doc.merchant_name)
    pdf.set_font("sans", "B", 16)
    pdf.cell(width / 2, 5, doc.title, align="R", **_NEXT)
    pdf.set_font("sans", "", 9)
    for line in doc.merchant_address_lines:
        pdf.cell(0, 4.5, line, **_NEXT)
    if doc.merchant_vat_id:
        pdf.cell(0, 4.5, f"VAT number: {doc.merchant_vat_id}", **_NEXT)
    pdf.ln(4)

    facts = [(f"{doc.title} number", doc.document_number), ("Date", doc.issued_on),
             ("Order reference", doc.reference), ("Order date", doc.order_date)]
    if doc.delivery_date:
        facts.append(("Delivery date", doc.delivery_date))
    for label, value in facts:
        pdf.set_font("sans", "B", 9)
        pdf.cell(50, 4.5, label)
        pdf.set_font("sans", "", 9)
        pdf.cell(0, 4.5, value, **_NEXT)
    pdf.ln(3)

    top = pdf.get_y()
    for x, heading, name, lines in ((pdf.l_margin, "Customer", doc.customer_name, doc.billing_address_lines),
                                    (pdf.l_margin + width / 2, "Delivery address", None, doc.delivery_address_lines)):
        pdf.set_xy(x, top)
        pdf.set_font("sans", "B", 9)
        pdf.cell(width / 2, 4.5, heading)
        pdf.set_font("sans", "", 9)
        for line in ((name,) if name else ()) + lines:
            pdf.set_xy(x, pdf.get_y() + 4.5)
            pdf.cell(width / 2 - 2, 4.5, line)
    pdf.set_xy(pdf.l_margin, pdf.get_y() + 9)

    columns = (("Description", 0.46, "L"), ("Qty", 0.08, "R"), ("Unit price", 0.23, "R"), ("Amount", 0.23, "R"))
    pdf.set_font("sans", "B", 9)
    for heading, share, align in columns:
        pdf.cell(width * share, 6, heading, border="B", align=align)
    pdf.ln(6)
    pdf.set_font("sans", "", 9)
    for line in doc.lines:
        values = (f"{line.description} ({line.reference})" if line.reference else line.description,
                  str(line.quantity), line.unit_price, line.amount)
        for value, (_, share, align) in zip(values, columns):
            pdf.cell(width * share, 6, value, align=align)
        pdf.ln(6)
    pdf.ln(2)

    label_width, amount_width = width * 0.54, width * 0.23
    def row(label: str, amount: str, bold: bool = False) -> None:  # noqa: E306
        pdf.set_font("sans", "B" if bold else "", 9)
        pdf.set_x(pdf.l_margin + width - label_width - amount_width)
        pdf.cell(label_width, 5.5, label, align="R")
        pdf.cell(amount_width, 5.5, amount, align="R", **_NEXT)

    for label, amount in doc.charges:
        row(label, amount)
    if doc.rates:
        pdf.ln(1)
        for rate in doc.rates:
            row(f"{rate.label} on {rate.net}", rate.tax)
    row(f"{doc.total_label} ({doc.currency})", doc.total, bold=True)
    pdf.ln(5)

    pdf.set_font("sans", "", 9)
    for notice in doc.notices:
        pdf.multi_cell(0, 4.5, notice, **_NEXT)
        pdf.ln(1)
    if doc.terms:
        pdf.multi_cell(0, 4.5, doc.terms, **_NEXT)
    pdf.alias_nb_pages()
    return bytes(pdf.output())
