"""The order confirmation email, rendered from an OrderDocument and delivered over real SMTP.

Assertions are made on what an SMTP server received, parsed back with the standard library, so
encoding (RFC 2047 headers, quoted-printable/base64 bodies, non-breaking spaces from Babel) is
part of what is tested, not only the template output.
"""

from __future__ import annotations

import email
import re
import smtplib
import socket
from datetime import date, datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import formataddr
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_date, format_datetime

from storefront.adapters.email_render import RenderedEmail, render_order_confirmation
from storefront.adapters.mail_capture import INDEX_NAME, start_capture, stop_capture
from storefront.adapters.mailer import SmtpMailer, build_message, mailer_from_settings
from storefront.domain.documents import LineView, OrderDocument
from storefront.domain.money import Money
from storefront.settings import Settings

DUTIES = "Import duties, VAT and other local charges are not included and are payable by you on delivery."
FROM = "Vireux Genève <orders@vireux.example>"
MERCHANT = dict(
    merchant_name="Vireux Genève SA",
    merchant_address_lines=("Rue du Rhône 48", "1204 Genève", "Switzerland"),
    merchant_email="clients@vireux.example",
    merchant_vat_id="CHE-123.456.789 MWST",
)
PLACED = datetime(2025, 1, 31, 14, 5, tzinfo=timezone.utc)


# ---------------------------------------------------------------- SMTP peers


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectingHandler:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_server():
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), server_hostname="localhost")
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture
def inbox(smtp_server):
    """A mailer pointed at the in-memory server, and that server's received envelopes (emptied per test)."""
    controller, handler = smtp_server
    handler.envelopes.clear()
    mailer = SmtpMailer(host="127.0.0.1", port=controller.port, starttls=False, timeout=10)
    return mailer, handler.envelopes


# ---------------------------------------------------------------- documents


def _lines(items: list[tuple[str, str, int, Money]], locale: str) -> tuple[LineView, ...]:
    return tuple(
        LineView(name, ref, qty, unit.format(locale), (unit * qty).format(locale)) for name, ref, qty, unit in items
    )


def _document(*, reference, locale, currency, items, shipping_minor, vat_rate_permille, duties, address, **extra):
    money_items = [(n, r, q, Money(minor, currency)) for n, r, q, minor in items]
    subtotal = Money(sum(u.minor * q for _, _, q, u in money_items), currency)
    shipping = Money(shipping_minor, currency)
    vat = Money((subtotal + shipping).minor * vat_rate_permille // 1000, currency) if vat_rate_permille else None
    grand = subtotal + shipping + (vat or Money.zero(currency))
    fields = dict(
        reference=reference,
        placed_at=format_datetime(PLACED, "medium", tzinfo="Europe/Zurich", locale=locale),
        customer_name=address[0],
        email=extra.pop("email", "client@example.com"),
        shipping_address_lines=address,
        billing_address_lines=address,
        lines=_lines(money_items, locale),
        subtotal=subtotal.format(locale),
        shipping=shipping.format(locale),
        vat_label=f"VAT {vat_rate_permille / 10:g}%" if vat else None,
        vat_amount=vat.format(locale) if vat else None,
        duties_notice=duties,
        total=grand.format(locale),
        currency=currency,
        terms_version="2025-01",
        terms_date=format_date(date(2025, 1, 6), "long", locale=locale),
        ship_by=format_date(date(2025, 3, 14), "long", locale=locale),
        status_url=f"https://shop.vireux.example/orders/{reference}?token=9fQ-x7&lang=en",
        status_label="Awaiting approval",
        **MERCHANT,
    )
    fields.update(extra)
    return OrderDocument(**fields)


def chf_with_vat() -> OrderDocument:
    return _document(
        reference="VX-2025-000417",
        locale="en_CH",
        currency="CHF",
        items=[
            ("Calibre 7 Tourbillon Régulateur", "VX-7001-PT", 1, 9_850_000),
            ("Heritage Chronographe 41 mm", "VX-4120-RG", 2, 1_875_000),
        ],
        shipping_minor=4_500,
        vat_rate_permille=81,
        duties=None,
        address=("Zoë Müller", "Bahnhofstrasse 12", "8001 Zürich", "Switzerland"),
        email="zoe.mueller@example.ch",
    )


def usd_with_duties() -> OrderDocument:
    return _document(
        reference="VX-2025-000418",
        locale="en_US",
        currency="USD",
        items=[("Dame Lune Phase de Lune", "VX-3306-WG", 1, 2_450_000)],
        shipping_minor=9_500,
        vat_rate_permille=0,
        duties=DUTIES,
        address=("James O'Connor", "455 Park Avenue", "New York NY 10022", "United States"),
        email="james.oconnor@example.com",
    )


def jpy_with_duties() -> OrderDocument:
    return _document(
        reference="VX-2025-000419",
        locale="en",
        currency="JPY",
        items=[("Calibre 3 Squelette", "VX-3003-TI", 1, 4_280_000), ("Strap, alligator, midnight", "VX-S-118", 3, 48_000)],
        shipping_minor=12_000,
        vat_rate_permille=0,
        duties=DUTIES,
        address=("Haruto Sato", "1-2-3 Ginza, Chuo-ku", "Tokyo 104-0061", "Japan"),
        email="haruto.sato@example.jp",
    )


DOCUMENTS = {"CHF-vat": chf_with_vat, "USD-duties": usd_with_duties, "JPY-duties": jpy_with_duties}


# ---------------------------------------------------------------- reading what was received


def _ws(text: str) -> str:
    """Collapse ASCII whitespace only: U+00A0/U+202F from Babel are part of the expected strings."""
    return re.sub(r"[ \t\r\n]+", " ", text).strip()


class _HtmlReader(HTMLParser):
    """Visible text, link targets and innermost table rows of an HTML email."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self.rows: list[list[str]] = []
        self._rows: list[list[str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "style", "head"):
            self._skip += 1
        elif tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href")
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th") and self._rows:
            self._rows[-1].append("")
        elif tag == "br":
            self._data(" ")

    def handle_endtag(self, tag):
        if tag in ("title", "style", "head"):
            self._skip -= 1
        elif tag == "tr" and self._rows:
            self.rows.append([_ws(cell) for cell in self._rows.pop()])

    def handle_data(self, data):
        if not self._skip:
            self._data(data)

    def _data(self, data):
        self.text.append(data)
        if self._rows and self._rows[-1]:
            self._rows[-1][-1] += data


def _received(envelopes) -> EmailMessage:
    assert len(envelopes) == 1, f"expected one message, got {len(envelopes)}"
    return email.message_from_bytes(envelopes[0].content, policy=policy.default)


def _parts(msg: EmailMessage) -> tuple[str, str, _HtmlReader]:
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    reader = _HtmlReader()
    reader.feed(html)
    reader.close()
    return text, html, reader


def _send(mailer: SmtpMailer, doc: OrderDocument, outbox_id: str = "7f3c2a") -> RenderedEmail:
    rendered = render_order_confirmation(doc)
    mailer.send(build_message(rendered, to=formataddr((doc.customer_name, doc.email)), from_=FROM, message_id=outbox_id))
    return rendered


# ---------------------------------------------------------------- tests


@pytest.mark.clause("GTC-3.7")
@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("GTC-5.1")
@pytest.mark.parametrize("make", DOCUMENTS.values(), ids=DOCUMENTS.keys())
def test_received_confirmation_carries_every_contractual_item(inbox, make):
    mailer, envelopes = inbox
    doc = make()
    _send(mailer, doc)
    msg = _received(envelopes)
    assert envelopes[0].rcpt_tos == [doc.email]
    assert doc.reference in msg["Subject"]
    assert msg["To"].addresses[0].display_name == doc.customer_name

    text, _, html = _parts(msg)
    html_text = _ws("".join(html.text))
    flat_text = _ws(text)

    required = [
        doc.reference, doc.subtotal, doc.shipping, doc.total, doc.terms_version, doc.terms_date,
        f"We will ship by {doc.ship_by}", doc.status_url, doc.merchant_name, doc.merchant_vat_id,
    ]
    required += [doc.duties_notice] if doc.duties_notice else [doc.vat_label, doc.vat_amount]
    for item in required:
        assert _ws(item) in flat_text, f"text part lacks {item!r}"
        assert _ws(item) in html_text, f"html part lacks {item!r}"
    assert doc.status_url in html.hrefs

    text_lines = [line.strip() for line in text.splitlines()]
    for line in doc.lines:
        # Text part: the product's own block, field by field.
        start = next(i for i, t in enumerate(text_lines) if t.endswith(line.name))
        assert text_lines[start + 1 : start + 5] == [
            f"Reference: {line.reference}",
            f"Quantity: {line.quantity}",
            f"Unit price: {line.unit_price}",
            f"Line total: {line.line_total}",
        ]
        # HTML part: one table row holding name and reference, quantity, unit price, line total.
        row = next(r for r in html.rows if r and line.name in r[0])
        assert row == [_ws(f"{line.name} Ref. {line.reference}"), str(line.quantity), line.unit_price, line.line_total]


@pytest.mark.clause("GTC-3.7")
@pytest.mark.clause("GTC-4.1")
def test_vat_line_or_duties_notice_never_both(inbox):
    mailer, envelopes = inbox
    chf = chf_with_vat()
    _send(mailer, chf)
    text, _, html = _parts(_received(envelopes))
    assert f"{chf.vat_label}: {chf.vat_amount}" in text
    assert [chf.vat_label, chf.vat_amount] in html.rows
    assert DUTIES not in text and DUTIES not in "".join(html.text)

    envelopes.clear()
    usd = usd_with_duties()
    _send(mailer, usd)
    text, _, html = _parts(_received(envelopes))
    assert DUTIES in _ws(text) and DUTIES in _ws("".join(html.text))
    assert not re.search(r"^VAT \d", text, re.MULTILINE)
    assert not any(row and re.match(r"VAT \d", row[0]) for row in html.rows)


@pytest.mark.clause("GTC-3.7")
def test_jpy_amounts_have_no_decimals(inbox):
    mailer, envelopes = inbox
    doc = jpy_with_duties()
    amounts = [doc.subtotal, doc.shipping, doc.total] + [x for line in doc.lines for x in (line.unit_price, line.line_total)]
    for amount in amounts:
        assert not re.search(r"[.,]\d{1,2}$", amount), amount
    assert doc.total == "\u00a54,436,000"  # half-width yen sign of the English page
    _send(mailer, doc)
    text, _, html = _parts(_received(envelopes))
    for amount in amounts:
        assert amount in text and amount in _ws("".join(html.text))


@pytest.mark.clause("GTC-3.6")
@pytest.mark.clause("PAY-5")
def test_confirmation_says_awaiting_approval_and_card_only_authorised(inbox):
    mailer, envelopes = inbox
    doc = chf_with_vat()
    _send(mailer, doc)
    text, _, html = _parts(_received(envelopes))
    for part in (_ws(text), _ws("".join(html.text))):
        assert f"Status: {doc.status_label}" in part
        assert "awaiting our approval" in part
        assert "authorised on your card, not charged" in part


def test_html_part_escapes_customer_input_text_part_keeps_it(inbox):
    mailer, envelopes = inbox
    name = "Ann <b>Bold</b> & Co's"
    doc = chf_with_vat()
    doc = OrderDocument(**{**doc.__dict__, "customer_name": name, "shipping_address_lines": (name, "Main St 1")})
    _send(mailer, doc)
    text, raw_html, html = _parts(_received(envelopes))
    assert "<b>Bold</b>" not in raw_html
    assert "Ann &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in raw_html
    assert name in "".join(html.text)
    assert f"Thank you for your order, {name}." in text
    # The status link keeps its query string intact once the HTML entity is decoded.
    assert "token=9fQ-x7&amp;lang=en" in raw_html and doc.status_url in html.hrefs


def test_message_id_derives_from_outbox_id_so_retries_match(inbox):
    mailer, envelopes = inbox
    rendered = render_order_confirmation(usd_with_duties())
    first = build_message(rendered, "client@example.com", FROM, "outbox-row-42")
    again = build_message(rendered, "client@example.com", FROM, "outbox-row-42")
    assert first["Message-ID"] == again["Message-ID"] == "<outbox-outbox-row-42@vireux.example>"
    assert build_message(rendered, "client@example.com", FROM, "<given@host>")["Message-ID"] == "<given@host>"
    mailer.send(first)
    assert _received(envelopes)["Message-ID"] == first["Message-ID"]


def test_send_raises_when_the_relay_is_unreachable():
    rendered = render_order_confirmation(chf_with_vat())
    msg = build_message(rendered, "client@example.com", FROM, 1)
    with pytest.raises(OSError):
        SmtpMailer(host="127.0.0.1", port=_free_port(), starttls=False, timeout=5).send(msg)


def test_starttls_is_never_silently_skipped(inbox):
    mailer, envelopes = inbox
    msg = build_message(render_order_confirmation(chf_with_vat()), "client@example.com", FROM, 2)
    with pytest.raises(smtplib.SMTPNotSupportedError):
        SmtpMailer(host=mailer.host, port=mailer.port, starttls=True, timeout=5).send(msg)
    assert envelopes == []


def test_mailer_from_settings():
    capture = mailer_from_settings(Settings(smtp_host="", mail_capture_port=2526))
    assert (capture.host, capture.port, capture.starttls, capture.user) == ("127.0.0.1", 2526, False, "")
    relay = mailer_from_settings(
        Settings(smtp_host="smtp.example.net", smtp_port=587, smtp_user="shop", smtp_password="pw", smtp_starttls=True)
    )
    assert (relay.host, relay.port, relay.starttls, relay.implicit_tls, relay.user) == ("smtp.example.net", 587, True, False, "shop")
    assert "pw" not in repr(relay)
    with pytest.raises(ValueError):
        SmtpMailer(host="smtp.example.net", port=25, user="shop", password="pw", starttls=False)


def test_mail_capture_files_each_message_as_eml(tmp_path: Path):
    port = _free_port()
    directory = tmp_path / "mail"
    controller = start_capture(port, directory)
    assert controller is not None
    try:
        assert start_capture(port, directory) is None  # already running: leave it be
        doc = chf_with_vat()
        rendered = render_order_confirmation(doc)
        mailer = mailer_from_settings(Settings(smtp_host="", mail_capture_port=port))
        mailer.send(build_message(rendered, formataddr((doc.customer_name, doc.email)), FROM, "cap-1"))
    finally:
        stop_capture(controller)

    files = list(directory.glob("*.eml"))
    assert len(files) == 1
    saved = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert saved["Subject"] == rendered.subject
    assert saved["Message-ID"] == "<outbox-cap-1@vireux.example>"
    assert saved["X-Envelope-To"] == doc.email
    assert saved.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == rendered.text
    index = (directory / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert len(index) == 1
    assert files[0].name in index[0] and f"subject={rendered.subject}" in index[0]
    assert not list(directory.glob(".incoming-*"))


def test_order_document_requires_exactly_one_tax_statement():
    doc = chf_with_vat()
    with pytest.raises(ValueError):
        OrderDocument(**{**doc.__dict__, "duties_notice": DUTIES})
    with pytest.raises(ValueError):
        OrderDocument(**{**doc.__dict__, "vat_label": None, "vat_amount": None})
    with pytest.raises(ValueError):
        OrderDocument(**{**doc.__dict__, "vat_amount": None})
