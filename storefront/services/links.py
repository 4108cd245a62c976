"""Signed links to one order, each for one purpose with its own lifetime (rules/links.toml).

The purpose is the signature's salt, so a link issued to view an order never verifies as a link to pay
for it, and each purpose expires on its own clock: the status link in an email keeps showing the
order for years while the link back to payment lapses with the payment window. Links are issued when
they are sent, never stored: nothing in the database grants access to an order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from storefront.adapters import clock
from storefront import routes
from storefront.adapters import signing
from storefront.domain.policy import policy
from storefront.rules import load
from storefront.settings import get_settings


class Purpose(StrEnum):
    VIEW = "view"  # the order status page
    PAY = "pay"  # back to the payment step of an unpaid order
    REAUTHORIZE = "reauthorize"  # authorise the card again after a refused hold renewal (while the order is open)
    UNAVAILABLE_CHOICE = "unavailable_choice"  # new date or refund for an unavailable item (GTC-3.2)
    DELAY_CHOICE = "delay_choice"  # a new delivery date or cancellation after a long delay (GTC-5.4)
    TELEPHONE_ORDER = "telephone_order"  # the client checks, accepts and confirms an order taken by phone (PAY-2)


class LinkCheck(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # genuine, but older than its purpose allows: the holder may be told so
    INVALID = "invalid"  # forged, tampered with, or for another order or purpose: say nothing more


@lru_cache
def lifetimes() -> dict[str, timedelta]:
    lifetimes = {}
    for purpose, spec in load("links").items():
        if spec.get("payment_window"):
            lifetimes[purpose] = timedelta(minutes=policy().payment_retry_minutes)
        else:
            lifetimes[purpose] = timedelta(**{unit: spec[unit] for unit in ("days", "hours", "minutes") if unit in spec})
    return lifetimes


def _now() -> datetime:
    return clock.now()


def _salt(purpose: Purpose) -> str:
    return f"storefront.order-link.{Purpose(purpose).value}"


def issue(reference: str, purpose: Purpose, at: datetime | None = None) -> str:
    """The token that grants `purpose` on the order `reference` from `at` for the purpose's lifetime."""
    return signing.sign(reference, secret=get_settings().secret_key, salt=_salt(purpose), at=at or _now())


def check(reference: str, token: str, purpose: Purpose, at: datetime | None = None) -> LinkCheck:
    try:
        ok = signing.check(reference, token, secret=get_settings().secret_key, salt=_salt(purpose),
                           max_age=lifetimes()[Purpose(purpose).value], at=at or _now())
    except signing.Expired:
        return LinkCheck.EXPIRED
    return LinkCheck.VALID if ok else LinkCheck.INVALID


def valid(reference: str, token: str, purpose: Purpose, at: datetime | None = None) -> bool:
    return check(reference, token, purpose, at) is LinkCheck.VALID


def order_path(reference: str, at: datetime | None = None) -> str:
    """The order status page with a fresh view token, relative to the shop (for redirects)."""
    return f"{routes.ORDER.replace('[reference]', reference)}?t={issue(reference, Purpose.VIEW, at)}"


def order_url(reference: str, at: datetime | None = None) -> str:
    """The order status page as sent in emails."""
    return get_settings().public_url.rstrip("/") + order_path(reference, at)


def telephone_order_url(reference: str, at: datetime | None = None) -> str:
    """The checkout opened at the check of details of an order staff entered by telephone."""
    return (f"{get_settings().public_url.rstrip('/')}{routes.CHECKOUT}?phone_order={reference}"
            f"&t={issue(reference, Purpose.TELEPHONE_ORDER, at)}")


def reauthorize_url(reference: str, at: datetime | None = None) -> str:
    """The order status page carrying a `reauthorize` token (services/reauthorization.py honours it only
    while the order is open)."""
    return f"{order_url(reference, at)}&reauthorize={issue(reference, Purpose.REAUTHORIZE, at)}"
