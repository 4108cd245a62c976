"""Turns an OrderDocument into the subject, text and HTML of the confirmation email (GTC-3.7).

Rendering is separate from sending so the outbox can store exactly what was rendered when the
order committed, and a retry later delivers the same words even if the templates changed since.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from storefront.domain.documents import OrderDocument

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@lru_cache
def environment() -> Environment:
    # Autoescape keyed on the file name: customer names and addresses are user input and must
    # never become markup in the HTML part, while the text part must keep "&" and "<" as typed.
    # StrictUndefined makes a misspelt field fail the render instead of leaving a contractual
    # item silently blank in a customer's inbox.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def order_confirmation_subject(doc: OrderDocument) -> str:
    return f"Your order {doc.reference} with {doc.merchant_name}: awaiting approval"


def render_order_confirmation(doc: OrderDocument) -> RenderedEmail:
    env = environment()
    subject = order_confirmation_subject(doc)
    text = env.get_template("order_confirmation.txt.j2").render(doc=doc, subject=subject)
    html = env.get_template("order_confirmation.html.j2").render(doc=doc, subject=subject)
    return RenderedEmail(subject=subject, text=text, html=html)


def render_order_notice(doc: OrderDocument, subject: str, paragraphs: tuple[str, ...]) -> RenderedEmail:
    """A short message about an order (cancellation, delay, ...) that repeats its reference and totals."""
    env = environment()
    text = env.get_template("order_notice.txt.j2").render(doc=doc, subject=subject, paragraphs=paragraphs)
    html = env.get_template("order_notice.html.j2").render(doc=doc, subject=subject, paragraphs=paragraphs)
    return RenderedEmail(subject=subject, text=text, html=html)
