"""SMTP delivery for the outbox worker: build one MIME message, hand it to a relay, or raise.

Failures propagate on purpose: the worker owns retries and backoff, and an exception is the only
signal that the row must stay in the outbox. The Message-ID is derived from the outbox id, so a
message re-sent after a timeout (delivered, but the reply was lost) carries the same id and mail
systems and people can recognise the duplicate.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any

from storefront.adapters import clock
from storefront.adapters.email_render import RenderedEmail

LOOPBACK = "127.0.0.1"
_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
IMPLICIT_TLS_PORT = 465


def message_id_for(outbox_id: str | int, from_: str) -> str:
    """A stable `<outbox-…@domain>` id; an id already in angle brackets is kept as given."""
    text = str(outbox_id).strip()
    if text.startswith("<") and text.endswith(">"):
        return text
    if not text or any(ch in text for ch in "<>@ \t\r\n"):
        raise ValueError(f"Not usable as a Message-ID local part: {outbox_id!r}")
    addresses = getaddresses([from_])
    domain = addresses[0][1].rpartition("@")[2] if addresses and "@" in addresses[0][1] else "localhost"
    return f"<outbox-{text}@{domain}>"


def build_message(
    rendered: RenderedEmail,
    to: str | Address,
    from_: str | Address,
    message_id: str | int,
    *,
    reply_to: str | None = None,
    date: datetime | None = None,
    attachments: tuple[tuple[str, bytes], ...] = (),
) -> EmailMessage:
    """multipart/alternative with the text part first, so clients that prefer plain text get it; with
    attachments (file name, PDF bytes), that alternative inside a multipart/mixed, the PDFs after it."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = from_
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = format_datetime(date or clock.now())
    msg["Message-ID"] = message_id_for(message_id, str(from_))
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    for filename, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return msg


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = True
    timeout: float = 30.0
    implicit_tls: bool = False

    def __post_init__(self) -> None:
        # A relay password sent in clear over the internet is a leaked password; only loopback
        # (the development capture server, a local relay) may skip encryption.
        encrypted = self.starttls or self.implicit_tls
        if self.user and not encrypted and self.host not in _LOOPBACK_HOSTS:
            raise ValueError("SMTP login without STARTTLS or implicit TLS is only allowed on loopback.")

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, msg: EmailMessage) -> None:
        """Raises smtplib.SMTPException or OSError on any failure, including a partly refused recipient list."""
        with self._connect() as smtp:
            smtp.ehlo()
            if self.starttls and not self.implicit_tls:
                # No silent downgrade: a relay that does not offer STARTTLS makes this raise.
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            refused = smtp.send_message(msg)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    async def send_async(self, msg: EmailMessage) -> None:
        """smtplib blocks; from an event loop (Reflex background task) it runs in a worker thread."""
        await asyncio.to_thread(self.send, msg)


def mailer_from_settings(settings: Any) -> SmtpMailer:
    """Without an SMTP host, mail goes to the local capture server (plain, unauthenticated loopback)."""
    if settings.uses_mail_capture:
        return SmtpMailer(host=LOOPBACK, port=settings.mail_capture_port, starttls=False)
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls and settings.smtp_port != IMPLICIT_TLS_PORT,
        implicit_tls=settings.smtp_port == IMPLICIT_TLS_PORT,
    )
