"""The "Find my order" page (CARD-3): the order reference and the email address open the order's status page.

One answer for every mismatch. An unknown reference, a wrong email, an erased order and malformed input
all get the same refusal code, and take the same path: the order is looked up by reference, the email
compared in constant time against the order's (or against a stand-in when there is no order), a token
signed either way. Nothing returns early, so neither the answer nor its timing says whether a reference
exists. Attempts are counted per connection and per reference before anything is looked up
(rules/limits.toml `[find_order]`), found or not.

On success the caller receives the order page's path with a fresh *view* token (links.Purpose.VIEW):
it lets the holder look, never act. Acting (choose, cancel, pay, authorise again) needs the purpose's own
link, which is only ever emailed. Why the page opens at once instead of emailing the link: docs/design.md.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from storefront.adapters.tables import Order
from storefront.domain.errors import ErrorCode
from storefront.services import abuse_limits, links
from storefront.services.unit_of_work import UnitOfWork

MAX_REFERENCE = 32  # the column's length
MAX_EMAIL = 320
_STAND_IN = "\x00no-order\x00"  # compared when no order matches: never equal to a typed address


@dataclass(frozen=True)
class Found:
    path: str = ""  # the status page with a view token; empty when refused
    code: ErrorCode | None = None


def normalise_reference(value: object) -> str:
    """What the client typed, as references are written: upper case, no spaces; "" when it cannot be one."""
    if not isinstance(value, str) or len(value) > 4 * MAX_REFERENCE:
        return ""
    cleaned = "".join(value.split()).upper()
    return cleaned if 0 < len(cleaned) <= MAX_REFERENCE else ""


def _normalise_email(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_EMAIL:
        return ""
    return value.strip().lower()


def find(uow: UnitOfWork, reference: object, email: object, *, ip: str = "", at: datetime | None = None) -> Found:
    ref, typed = normalise_reference(reference), _normalise_email(email)
    if not abuse_limits.find_order_allowed(ip, ref):
        return Found(code=ErrorCode.FIND_ORDER_TOO_MANY)
    with uow.reading() as s:
        row = s.exec(select(Order.reference, Order.email, Order.erased_at).where(Order.reference == ref)).first()
    known = (row[1] or "").strip().lower() if row is not None and row[2] is None else _STAND_IN
    same = hmac.compare_digest(known.encode(), (typed or "\x01").encode())
    path = links.order_path(ref or "-", at)  # signed whether or not it is given out: the same work either way
    return Found(path=path) if same and row is not None and typed else Found(code=ErrorCode.FIND_ORDER_NO_MATCH)
