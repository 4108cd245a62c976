"""How long personal data is kept (PAY-6: least data kept), read from rules/retention.toml and checked once.

Pure rules: which duty keeps an order's personal data, until when, and what an erasure leaves. The service that
applies them to the database is services/retention.py; the table is shown on /admin/privacy.

An order's personal data is kept while the contract is being performed (an open order), then:
- nothing charged, screening clear: erased `cancelled_unpaid` days after it ended;
- money charged: the invoice's data (client name, billing address) for the statutory period
  (`commercial_records`, from the end of the order's year);
- a possible or confirmed sanctions match: names, date of birth and addresses for `sanctions_screening`
  years (31 CFR 501.601), whether or not it was paid.
Contact data (email, phone, IP address, browser) serves no legal duty once the order is closed: an erasure
request removes it at once, and the rest when the longest duty ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from storefront.domain.order_status import OrderStatus
from storefront.rules import load

# Statuses of an order being performed: its data is needed to deliver, charge or review it (contract).
# Every status but the two ends, so a status added later is kept rather than erased by default.
OPEN = frozenset(OrderStatus) - {OrderStatus.SHIPPED, OrderStatus.CANCELLED}
PERIOD_KEYS = ("abandoned_checkout", "cancelled_unpaid", "commercial_records", "sanctions_screening",
               "email_contents", "staff_sessions", "audit_log")
SCREENING_CLEAR = "clear"


class ErasureReason(StrEnum):
    """Why staff erase a client's data; the only free text of an erasure is one of these codes."""

    CLIENT_REQUEST = "client_request"  # the client asked (GDPR art. 17, Swiss FADP art. 32 para. 2 c)
    REPRESENTATIVE_REQUEST = "representative_request"  # a lawyer or guardian on the client's behalf
    CONSENT_WITHDRAWN = "consent_withdrawn"  # the client objects to further processing


REASON_LABELS: dict[ErasureReason, str] = {
    ErasureReason.CLIENT_REQUEST: "The client asked for erasure",
    ErasureReason.REPRESENTATIVE_REQUEST: "A representative asked on the client's behalf",
    ErasureReason.CONSENT_WITHDRAWN: "The client objects to further processing",
}


class Erasure(StrEnum):
    """What an order's personal data has been through (shop_order.erasure)."""

    NONE = ""
    PARTIAL = "partial"  # contact data gone; what a legal duty needs stays until `retained_until`
    FULL = "full"  # every personal field replaced by the marker


@dataclass(frozen=True)
class Period:
    key: str
    what: str
    ground: str
    minutes: int = 0
    days: int = 0
    years: int = 0

    @property
    def label(self) -> str:
        if self.years:
            return f"{self.years} years from the end of the order's year"
        if self.days:
            return f"{self.days} days"
        return f"{self.minutes} minutes after the last activity"


@dataclass(frozen=True)
class Policy:
    periods: dict[str, Period]
    run_every: timedelta

    def __getitem__(self, key: str) -> Period:
        return self.periods[key]

    @property
    def abandoned_checkout_seconds(self) -> int:
        return self.periods["abandoned_checkout"].minutes * 60


def parse(data: dict) -> Policy:
    """The policy of one rules file; refuses a missing or unknown period, a period without a positive length
    or without its ground, so a typo stops the shop at start rather than keeping data for ever."""
    raw = data["periods"]
    if set(raw) != set(PERIOD_KEYS):
        raise KeyError(f"rules/retention.toml [periods]: unknown {sorted(set(raw) - set(PERIOD_KEYS))}, "
                       f"missing {sorted(set(PERIOD_KEYS) - set(raw))}")
    periods: dict[str, Period] = {}
    for key in PERIOD_KEYS:
        entry = raw[key]
        lengths = {unit: entry.get(unit, 0) for unit in ("minutes", "days", "years")}
        given = [unit for unit, value in lengths.items() if value]
        if len(given) != 1 or not isinstance(lengths[given[0]], int) or lengths[given[0]] <= 0:
            raise ValueError(f"rules/retention.toml [periods.{key}]: one positive length (minutes, days or years)")
        if not str(entry.get("ground", "")).strip() or not str(entry.get("what", "")).strip():
            raise ValueError(f"rules/retention.toml [periods.{key}]: say what is kept and on what ground")
        periods[key] = Period(key, entry["what"], entry["ground"], **lengths)
    every = data["job"]["every_hours"]
    if not isinstance(every, int) or not 1 <= every <= 24:
        raise ValueError("rules/retention.toml [job] every_hours: from 1 to 24 (the job is daily at least)")
    return Policy(periods, timedelta(hours=every))


POLICY: Policy = parse(load("retention"))


def after_year_end(placed_at: datetime | date, years: int) -> date:
    """The day a period of `years` counted from the end of the order's calendar year is over."""
    return date(placed_at.year + years + 1, 1, 1)


@dataclass(frozen=True)
class Duties:
    """What keeps a closed order's personal data, and until when (None: no duty)."""

    invoice_until: date | None
    screening_until: date | None

    @property
    def until(self) -> date | None:
        dates = [d for d in (self.invoice_until, self.screening_until) if d is not None]
        return max(dates) if dates else None

    def in_force(self, today: date) -> bool:
        return self.until is not None and today < self.until


def duties(placed_at: datetime, *, charged: bool, screening_verdict: str, policy: Policy = POLICY) -> Duties:
    return Duties(
        invoice_until=after_year_end(placed_at, policy["commercial_records"].years) if charged else None,
        screening_until=(after_year_end(placed_at, policy["sanctions_screening"].years)
                         if screening_verdict and screening_verdict != SCREENING_CLEAR else None),
    )


def unpaid_erasable(ended_at: datetime, now: datetime, policy: Policy = POLICY) -> bool:
    """Whether an order that ended with nothing charged and no sanctions duty is due for erasure."""
    return now - ended_at >= timedelta(days=policy["cancelled_unpaid"].days)


def is_open(status: str) -> bool:
    return status in {s.value for s in OPEN}
