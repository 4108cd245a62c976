"""Least data kept (PAY-6): the one service that knows every place a client's personal data lives, and erases it
when the retention policy (domain/retention.py, rules/retention.toml) says so or a client asks.

Where personal data lives, and what happens to it:
- `shop_order`: email, phone, name, date of birth, addresses, the IP address and browser of the acceptance, the
  browser fingerprint. Erased IN PLACE (the row and its id stay, so order lines, shipments, refunds, events and
  audit entries that reference it by id stay untouched): the name becomes "erased", the email
  `erased+<order id>@invalid`, the phone, IP, browser and fingerprint empty, the date of birth the sentinel
  1900-01-01 (the column is NOT NULL), the addresses keep their country only. `erasure`, `erased_at` and
  `retained_until` say what was done.
- `outbox_email`: recipient, subject and contents of each email; emptied with the order, or `email_contents`
  days after sending.
- Stripe: the customer saved for the order's card holds (`payment_customer_id`) carries the client's email, name
  and card. Once an order's contact data is erased it is deleted at Stripe (`forget_payment_customers`, right
  after an erasure request and again by the daily job until Stripe confirms), then the id is dropped.
- `staff_session`: a staff member's IP address and browser; deleted `staff_sessions` days after the session ended.
- `order_event` and `staff_audit` are append-only and hold ids and codes (the terms acceptance's IP address was
  moved out of the history by migration c7e3f4a5b6d7); the screening result on an order holds the verdict, score
  and the *listed* entry, never the client's name; `webhook_event` holds Stripe event ids and types only.
- Nothing of an unfinished checkout is written to the database (see rules/retention.toml, abandoned_checkout).
- `issued_document`: the PDFs given to the client (order record, invoices, credit notes; services/documents.py)
  print the name and the billing and delivery addresses. They are kept whole while a duty keeps the invoice (a
  partial erasure keeps them, as the law wants the invoice as issued) and emptied by the full erasure; the row
  (number, amount) stays, so the numbering still shows no gap.

A closed order (cancelled or shipped) is erased fully when no legal duty remains; while one does (charged:
the invoice; a sanctions match: the screening record), an erasure request removes the contact data at once and
records until when the rest stays; the daily job erases the rest on that day. An open order is never erased: its
data is needed to perform the contract; staff are told which orders remain and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.stripe_gateway import PaymentGatewayError, StripeGateway
from storefront.adapters.tables import IssuedDocument, Order, OutboxEmail, PaymentAuthorization, RetentionRun, StaffSession
from storefront.domain import retention as policy_rules
from storefront.domain.errors import ErrorCode
from storefront.domain.retention import POLICY, Erasure, ErasureReason
from storefront.services import audit, payment
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MARKER = "erased"
ERASED_BIRTH_DATE = date(1900, 1, 1)
ERASE_ACTION = "customers.erase"
SEARCH_ACTION = "customers.view_personal_data"
JOB = "retention"
MAX_EMAIL = 320
MAX_ORDERS = 200  # orders one search shows and one request erases


def erased_email(order_id: int) -> str:
    return f"{MARKER}+{order_id}@invalid"


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


# -- what one order may lose ------------------------------------------------------------------------------


def _charged(s: Session, order_id: int) -> bool:
    total = s.exec(select(func.coalesce(func.sum(PaymentAuthorization.captured_minor), 0))
                   .where(PaymentAuthorization.order_id == order_id)).one()
    return int(total or 0) > 0


def _duties(s: Session, order: Order) -> policy_rules.Duties:
    return policy_rules.duties(_aware(order.placed_at), charged=_charged(s, order.id),
                               screening_verdict=str((order.screening or {}).get("verdict", "")))


def _country_only(address: dict | None, fallback: str) -> dict:
    country = (address or {}).get("country") or fallback
    return {"name": "", "street": "", "city": "", "postal_code": "", "area": "", "country": country}


def _erase_emails(s: Session, order_id: int) -> int:
    """Empties the copies of the order's emails already sent or given up (a pending one is still to be sent)."""
    return s.exec(update(OutboxEmail)
                  .where(OutboxEmail.order_id == order_id, OutboxEmail.status != "pending",
                         OutboxEmail.subject != MARKER)
                  .values(recipient=MARKER, subject=MARKER, text_body="", html_body="",
                          last_error="")).rowcount


def _erase_contact(order: Order) -> None:
    order.email, order.phone = erased_email(order.id), ""
    order.accepted_ip, order.accepted_user_agent, order.browser_hash = "", "", None


def _erase_fully(s: Session, order: Order, at: datetime) -> None:
    _erase_contact(order)
    order.full_name, order.birth_date = MARKER, ERASED_BIRTH_DATE
    order.shipping_address = _country_only(order.shipping_address, order.country)
    order.billing_address = _country_only(order.billing_address, order.country)
    order.erasure, order.erased_at, order.retained_until = Erasure.FULL.value, at, None
    _erase_emails(s, order.id)
    # The issued PDFs print the name and addresses: kept whole while a legal duty keeps the invoice (a partial
    # erasure), emptied with the rest; the row (number, amount) stays so the series still shows no gap.
    s.exec(update(IssuedDocument).where(IssuedDocument.order_id == order.id).values(pdf=b"", sha256=""))
    s.add(order)


def _erase_partly(s: Session, order: Order, until: date, at: datetime) -> None:
    _erase_contact(order)
    order.erasure, order.erased_at, order.retained_until = Erasure.PARTIAL.value, at, until
    _erase_emails(s, order.id)
    s.add(order)


# -- staff: a client's erasure request ---------------------------------------------------------------------


@dataclass(frozen=True)
class FoundOrder:
    reference: str
    status: str
    placed_at: str
    erasure: str  # "", "partial", "full"
    outcome: str  # what an erasure request does to it now, in words


@dataclass(frozen=True)
class ErasureResult:
    erased: list[str] = field(default_factory=list)
    partly: list[tuple[str, str]] = field(default_factory=list)  # (reference, kept until)
    open: list[tuple[str, str]] = field(default_factory=list)  # (reference, status)
    already: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.erased or self.partly)


def normalized_email(value: object) -> str:
    """The address to look for, or ActionRefused: staff type what the client wrote."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_EMAIL:
        raise ActionRefused(ErrorCode.ERASURE_EMAIL_INVALID)
    try:
        return validate_email(text, check_deliverability=False).normalized.casefold()
    except EmailNotValidError:
        raise ActionRefused(ErrorCode.ERASURE_EMAIL_INVALID) from None


def _orders_of(s: Session, email: str) -> list[Order]:
    return list(s.exec(select(Order).where(func.lower(Order.email) == email).order_by(Order.id)
                       .limit(MAX_ORDERS)).all())


def _plan(s: Session, order: Order, today: date) -> tuple[str, date | None]:
    """("open" | "full" | "partial" | "already", until) for an erasure request on this order today."""
    if policy_rules.is_open(order.status):
        return "open", None
    if order.erasure == Erasure.FULL:
        return "already", None
    duties = _duties(s, order)
    if duties.in_force(today):
        return ("already" if order.erasure == Erasure.PARTIAL else "partial"), duties.until
    return "full", None


def _describe(plan: str, until: date | None, status: str) -> str:
    return {
        "open": f"Kept: the order is {status.replace('_', ' ')} (the contract is being performed)",
        "full": "Erased in full",
        "partial": f"Contact data erased; invoice or screening record kept until {until}",
        "already": "Already erased" + (f"; the rest goes on {until}" if until else ""),
    }[plan]


def _rows(s: Session, orders: list[Order], now: datetime) -> list[FoundOrder]:
    found = []
    for order in orders:
        plan, until = _plan(s, order, now.date())
        if order.erasure == Erasure.PARTIAL and plan == "already":
            until = order.retained_until
        found.append(FoundOrder(order.reference, order.status, _aware(order.placed_at).strftime("%Y-%m-%d"),
                                order.erasure, _describe(plan, until, order.status)))
    return found


def orders_by_reference(uow: UnitOfWork, references: list[str], at: datetime | None = None) -> list[FoundOrder]:
    """Where the orders an erasure request handled stand now (status and erasure only: no personal data)."""
    with uow.reading() as s:
        orders = list(s.exec(select(Order).where(Order.reference.in_(references[:MAX_ORDERS]))
                             .order_by(Order.id)).all())
        return _rows(s, orders, _now(at))


def find_orders(uow: UnitOfWork, email: object, *, staff: StaffIdentity, ip: str = "",
                at: datetime | None = None) -> list[FoundOrder]:
    """The client's orders and what an erasure would do to each; audited as a view of personal data (the
    entry names the orders found, never the address searched)."""
    wanted = normalized_email(email)
    now = _now(at)
    with uow:
        s = uow.session
        orders = _orders_of(s, wanted)
        found = _rows(s, orders, now)
        audit.record(s, staff=staff, action=SEARCH_ACTION, outcome="done", subject="privacy_search",
                     after={"orders": [o.id for o in orders]}, ip=ip, detail=f"found_{len(orders)}", at=now)
        uow.commit()
    return found


def erase_client(uow: UnitOfWork, email: object, reason: object, *, staff: StaffIdentity, ip: str = "",
                 at: datetime | None = None, gw: StripeGateway | None = None) -> ErasureResult:
    """Erase what no legal duty keeps of every order placed with `email`, in one transaction; each order
    changed is audited with the reason code. A second request changes nothing: the address is no longer on the
    orders erased, and the open ones stay as they were; the request is audited all the same."""
    wanted = normalized_email(email)
    try:
        why = ErasureReason(reason)
    except ValueError:
        raise ActionRefused(ErrorCode.ERASURE_REASON_REQUIRED) from None
    now = _now(at)
    result = ErasureResult()
    with uow:
        s = uow.session
        orders = _orders_of(s, wanted)
        for order in orders:
            plan, until = _plan(s, order, now.date())
            if plan == "open":
                result.open.append((order.reference, order.status))
                continue
            if plan == "already":
                result.already.append(order.reference)
                continue
            if plan == "full":
                _erase_fully(s, order, now)
                result.erased.append(order.reference)
            else:
                _erase_partly(s, order, until, now)
                result.partly.append((order.reference, until.isoformat()))
            audit.record(s, staff=staff, action=ERASE_ACTION, outcome="done", order_id=order.id,
                         subject=order.reference, after={"erasure": order.erasure,
                                                         "retained_until": until.isoformat() if until else None},
                         ip=ip, detail=why.value, at=now)
        if not result.changed:
            audit.record(s, staff=staff, action=ERASE_ACTION, outcome="done", subject="privacy_request",
                         after={"orders": [o.id for o in orders], "open": len(result.open),
                                "already": len(result.already)},
                         ip=ip, detail="nothing_to_erase", at=now)
        uow.commit()
    if result.changed:  # the copy at Stripe too; what fails here the daily job deletes later
        forget_payment_customers(uow, gw, references=result.erased + [ref for ref, _ in result.partly])
    return result


def forget_payment_customers(uow: UnitOfWork, gw: StripeGateway | None = None, *,
                             references: list[str] | None = None) -> int:
    """Delete at Stripe the saved customer (email, name, card) of every erased order that still names one, then
    drop the id; outside any transaction, one customer at a time. A failure is logged and left for the next run
    (when Stripe cannot be reached, the rest is not tried now). Returns how many were deleted."""
    with uow.reading() as s:
        query = select(Order.id, Order.payment_customer_id).where(Order.erasure != Erasure.NONE.value,
                                                                  Order.payment_customer_id.is_not(None))
        if references is not None:
            query = query.where(Order.reference.in_(references[:MAX_ORDERS]))
        due = s.exec(query.limit(500)).all()
    if not due:
        return 0
    gw = gw or payment.gateway()
    deleted = 0
    for order_id, customer_id in due:
        try:
            gw.delete_customer(customer_id)
        except PaymentGatewayError as exc:
            log.warning("retention: the payment customer of order %s could not be deleted yet", order_id)
            if exc.retryable:  # Stripe unreachable or overloaded: the rest waits for the next run
                break
            continue
        with uow:
            uow.session.exec(update(Order).where(Order.id == order_id, Order.payment_customer_id == customer_id)
                             .values(payment_customer_id=None))
            uow.commit()
        deleted += 1
    return deleted


# -- the daily job --------------------------------------------------------------------------------------------


def _ended_at(order: Order) -> datetime:
    return _aware(order.updated_at) or _aware(order.placed_at)


def _erase_closed_orders(s: Session, now: datetime) -> int:
    """Closed orders whose every duty has ended: fully erased; returns how many."""
    oldest = now - timedelta(days=POLICY["cancelled_unpaid"].days)
    # a shipped order was charged: none placed since this day can be due yet, so they are not even read
    invoiced_before = datetime(now.year - POLICY["commercial_records"].years, 1, 1, tzinfo=timezone.utc)
    candidates = s.exec(select(Order).where(Order.erasure != Erasure.FULL.value, Order.updated_at <= oldest,
                                            or_(Order.status == "cancelled",
                                                (Order.status == "shipped") & (Order.placed_at < invoiced_before)))
                        ).all()
    erased = 0
    for order in candidates:
        duties = _duties(s, order)
        if duties.in_force(now.date()):
            continue
        if duties.until is None and not policy_rules.unpaid_erasable(_ended_at(order), now):
            continue
        _erase_fully(s, order, now)
        erased += 1
    return erased


def _erase_old_emails(s: Session, now: datetime) -> int:
    limit = now - timedelta(days=POLICY["email_contents"].days)
    return s.exec(update(OutboxEmail)
                  .where(OutboxEmail.status != "pending", OutboxEmail.subject != MARKER,
                         func.coalesce(OutboxEmail.sent_at, OutboxEmail.next_attempt_at) <= limit)
                  .values(recipient=MARKER, subject=MARKER, text_body="", html_body="", last_error="")).rowcount


def _delete_old_sessions(s: Session, now: datetime) -> int:
    limit = now - timedelta(days=POLICY["staff_sessions"].days)
    return s.exec(delete(StaffSession).where(or_(StaffSession.expires_at <= limit,
                                                 StaffSession.revoked_at <= limit))).rowcount


def run_daily(uow: UnitOfWork, at: datetime | None = None, gw: StripeGateway | None = None) -> int:
    """The retention job: at most once per `POLICY.run_every`; erases what the policy says is due, records the
    counts (retention_run) and returns how many rows it changed. Running it twice changes nothing more."""
    now = _now(at)
    with uow.reading() as s:  # every round asks; only a due run takes the write lock
        last = s.exec(select(RetentionRun.at).order_by(RetentionRun.at.desc()).limit(1)).first()
    if last is not None and now - _aware(last) < POLICY.run_every:
        return 0
    with uow:
        s = uow.session
        counts = {"orders_erased": _erase_closed_orders(s, now), "emails_emptied": _erase_old_emails(s, now),
                  "staff_sessions_deleted": _delete_old_sessions(s, now)}
        run = RetentionRun(at=now, counts=counts)
        s.add(run)
        uow.commit()
    customers = forget_payment_customers(uow, gw)
    if customers:
        with uow:
            uow.session.exec(update(RetentionRun).where(RetentionRun.id == run.id)
                             .values(counts={**counts, "payment_customers_deleted": customers}))
            uow.commit()
    return sum(counts.values()) + customers


@dataclass(frozen=True)
class RunView:
    at: str
    orders_erased: int
    emails_emptied: int
    staff_sessions_deleted: int
    payment_customers_deleted: int


def last_run(uow: UnitOfWork) -> RunView | None:
    with uow.reading() as s:
        row = s.exec(select(RetentionRun).order_by(RetentionRun.at.desc()).limit(1)).first()
    if row is None:
        return None
    c = row.counts or {}
    return RunView(_aware(row.at).strftime("%Y-%m-%d %H:%M UTC"), int(c.get("orders_erased", 0)),
                   int(c.get("emails_emptied", 0)), int(c.get("staff_sessions_deleted", 0)),
                   int(c.get("payment_customers_deleted", 0)))
