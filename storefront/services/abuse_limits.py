"""Limits that stop hoarding and card testing (rules/limits.toml), checked before anything is stored.

Open unpaid orders are counted in the database, where they are (each holds stock until paid or
lapsed); request rates are counted by the rate limiter (memory, or Redis with several workers).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import func
from sqlmodel import Session, select

from storefront.adapters import rate_limiter
from storefront.adapters.tables import Order
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus
from storefront.rules import load
from storefront.settings import get_settings


@dataclass(frozen=True)
class Limits:
    open_per_browser: int
    open_per_email: int
    open_per_ip: int
    confirmations_per_ip: str
    payment_attempts_per_ip: str
    attempts_per_order: int
    find_order_per_ip: str
    find_order_per_reference: str


@lru_cache
def limits() -> Limits:
    """The figures of rules/limits.toml, with the deployment's overrides (settings) laid over them."""
    data = {section: dict(values) for section, values in load("limits").items()}
    for section, values in get_settings().limits_overrides.items():
        data.setdefault(section, {}).update(values)
    open_, rates = data["open_unpaid_orders"], data["rates"]
    return Limits(open_["per_browser"], open_["per_email"], open_["per_ip"], rates["order_confirmations_per_ip"],
                  rates["payment_attempts_per_ip"], data["payment"]["attempts_per_order"],
                  data["find_order"]["per_ip"], data["find_order"]["per_reference"])


def _open_unpaid(session: Session, *where) -> int:
    return session.exec(select(func.count()).select_from(Order)
                        .where(Order.status == OrderStatus.PENDING_PAYMENT, *where)).one()


def open_orders_refusal(session: Session, browser: str, email: str, ip: str) -> ErrorCode | None:
    """Whether one more unpaid order would exceed what a browser, an email or an address may hold."""
    lim = limits()
    if (browser and _open_unpaid(session, Order.browser_hash == browser) >= lim.open_per_browser) or \
            _open_unpaid(session, func.lower(Order.email) == email.strip().lower()) >= lim.open_per_email or \
            (ip and _open_unpaid(session, Order.accepted_ip == ip) >= lim.open_per_ip):
        return ErrorCode.TOO_MANY_OPEN_ORDERS
    return None


def confirmation_allowed(ip: str) -> bool:
    return rate_limiter.hit(limits().confirmations_per_ip, "confirm", ip or "-")


def payment_attempt_allowed(ip: str) -> bool:
    return rate_limiter.hit(limits().payment_attempts_per_ip, "pay", ip or "-")


def find_order_allowed(ip: str, reference: str) -> bool:
    """One "find my order" attempt, counted per connection and per reference typed (existing or not).
    Both counts are taken, so a script cannot spread its tries over one window to dodge the other."""
    lim = limits()
    by_ip = rate_limiter.hit(lim.find_order_per_ip, "find-ip", ip or "-")
    by_reference = rate_limiter.hit(lim.find_order_per_reference, "find-ref", reference or "-")
    return by_ip and by_reference
