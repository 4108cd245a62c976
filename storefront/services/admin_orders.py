"""Read models of the management page: the order list, one order in full, and the work queues.

The list pages by keyset (placed_at, id), so the hundredth page costs what the first does: one query
for the rows, whatever the depth. Rows carry no personal data; the detail does, and only for a role
allowed to see it (the caller audits that view).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import (Integer, String, and_, bindparam, case, cast, exists, func, literal, literal_column, null,
                        or_, true, union_all)
from sqlalchemy.orm import aliased
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.tables import (
    Order,
    OrderEvent,
    OrderLine,
    OutboxEmail,
    PaymentAuthorization,
    OrderDelay,
    RefundRecord,
    TermsVersion,
)
from storefront.domain.money import Money
from storefront.domain.order_status import OrderEvent as EventType
from storefront.domain.order_status import OrderStatus, PaymentStatus
from storefront.domain.refunds import RefundStatus
from storefront.rules import load
from storefront.services.delays import OPEN as DELAY_OPEN
from storefront.services.unit_of_work import UnitOfWork

PAGE_SIZE = 50
SORTS = {"newest": False, "oldest": True}  # whitelisted: the only orders a page can ask for


def _rules() -> dict:
    return load("admin")["queues"]


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    country: str = ""
    reference: str = ""
    email: str = ""
    placed_from: date | None = None
    placed_to: date | None = None
    sort: str = "newest"


@dataclass(frozen=True)
class OrderRow:
    reference: str
    placed_at: str
    status: str
    country: str
    total: str
    channel: str


@dataclass(frozen=True)
class OrderPage:
    rows: list[OrderRow]
    next_cursor: str  # "" on the last page


def _cursor(order: Order) -> str:
    raw = json.dumps([order.placed_at.isoformat(), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _after(cursor: str) -> tuple[datetime, int] | None:
    """A cursor the browser sent back; anything malformed starts from the first page."""
    try:
        placed, order_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(placed), int(order_id)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).format("en")


def order_page(uow: UnitOfWork, filters: OrderFilters, cursor: str = "", limit: int = PAGE_SIZE) -> OrderPage:
    ascending = SORTS.get(filters.sort, False)
    q = select(Order)
    if filters.status in OrderStatus.__members__.values():
        q = q.where(Order.status == filters.status)
    if filters.country:
        q = q.where(Order.country == filters.country.upper()[:2])
    if filters.reference:
        q = q.where(Order.reference == filters.reference.strip().upper()[:32])
    if filters.email:
        q = q.where(Order.email == filters.email.strip().lower()[:320])
    if filters.placed_from:
        q = q.where(Order.placed_at >= datetime.combine(filters.placed_from, time.min, tzinfo=timezone.utc))
    if filters.placed_to:
        q = q.where(Order.placed_at < datetime.combine(filters.placed_to + timedelta(days=1), time.min,
                                                       tzinfo=timezone.utc))
    after = _after(cursor) if cursor else None
    if after is not None:
        placed, order_id = after
        if ascending:
            # the redundant bound lets the (placed_at, id) index start at the cursor instead of the first row
            q = q.where(Order.placed_at >= placed,
                        or_(Order.placed_at > placed, and_(Order.placed_at == placed, Order.id > order_id)))
        else:
            q = q.where(Order.placed_at <= placed,
                        or_(Order.placed_at < placed, and_(Order.placed_at == placed, Order.id < order_id)))
    keys = (Order.placed_at.asc(), Order.id.asc()) if ascending else (Order.placed_at.desc(), Order.id.desc())
    with uow.reading() as s:
        found = s.exec(q.order_by(*keys).limit(limit + 1)).all()
    rows = [OrderRow(o.reference, o.placed_at.strftime("%Y-%m-%d %H:%M"), o.status, o.country,
                     _money(o.total_minor, o.currency), o.channel) for o in found[:limit]]
    return OrderPage(rows, _cursor(found[limit - 1]) if len(found) > limit else "")


@dataclass(frozen=True)
class LineView:
    reference: str
    name: str
    quantity: int
    shipped: int
    cancelled: int
    unit_price: str
    state: str
    remaining: int  # still to ship: ordered, less shipped and cancelled


@dataclass(frozen=True)
class HoldView:
    intent_id: str
    status: str
    amount: str
    captured: str
    refunded: str
    capture_before: str


@dataclass(frozen=True)
class EventView:
    at: str
    type: str
    actor: str
    data: str


@dataclass(frozen=True)
class EmailView:
    kind: str
    status: str
    created_at: str
    sent_at: str


@dataclass(frozen=True)
class RefundView:
    refund_id: int
    number: int
    amount: str
    reason: str
    status: str
    requested_by: str
    approved_by: str


@dataclass(frozen=True)
class OrderDetail:
    reference: str
    status: str
    placed_at: str
    channel: str
    country: str
    total: str
    subtotal: str
    shipping: str
    vat: str
    ship_by: str
    terms_version: str
    screening: str
    lines: list[LineView] = field(default_factory=list)
    holds: list[HoldView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    emails: list[EmailView] = field(default_factory=list)
    refunds: list[RefundView] = field(default_factory=list)
    currency: str = ""
    # personal data: filled only for a role allowed to see it
    customer: dict[str, str] = field(default_factory=dict)
    order_id: int = 0
    # the member of staff who entered a telephone order (PAY-2), as the audit names staff; "" for a web order
    entered_by: str = ""
    # a delivery delay customer service follows (GTC-5.4): its status ("" when none) and the dates in play
    delay: str = ""
    delay_counted_from: str = ""
    delay_proposed: str = ""
    delay_offer_date: str = ""


def _line_state(line: OrderLine) -> str:
    if line.quantity_cancelled >= line.quantity:
        return "cancelled"
    if line.quantity_shipped >= line.quantity - line.quantity_cancelled:
        return "shipped"
    return "partly shipped" if line.quantity_shipped else "pending"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def order_detail(uow: UnitOfWork, reference: object, *, with_personal_data: bool) -> OrderDetail | None:
    if not isinstance(reference, str) or not reference:
        return None
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference[:32])).first()
        if order is None:
            return None
        money = lambda minor: _money(minor, order.currency)  # noqa: E731
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        holds = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id)
                       .order_by(PaymentAuthorization.id)).all()
        events = s.exec(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).all()
        emails = s.exec(select(OutboxEmail).where(OutboxEmail.order_id == order.id).order_by(OutboxEmail.id)).all()
        terms = s.get(TermsVersion, order.terms_version_id) if order.terms_version_id else None
        refunds = s.exec(select(RefundRecord).where(RefundRecord.order_id == order.id).order_by(RefundRecord.id)).all()
        delay = s.exec(select(OrderDelay).where(OrderDelay.order_id == order.id, OrderDelay.status.in_(DELAY_OPEN))
                       ).first()
    customer = {}
    if with_personal_data:
        ship = order.shipping_address or {}
        customer = {"name": order.full_name, "email": order.email, "phone": order.phone,
                    # an erased date of birth is a sentinel (services/retention.py): show the marker instead
                    "birth_date": "erased" if order.erasure == "full" else order.birth_date.isoformat(),
                    "shipping_address": ", ".join(str(v) for v in ship.values() if v),
                    "billing_address": ", ".join(str(v) for v in (order.billing_address or {}).values() if v)}
    verdict = (order.screening or {}).get("verdict", "")
    return OrderDetail(
        reference=order.reference, status=order.status, placed_at=_when(order.placed_at), channel=order.channel,
        country=order.country, total=money(order.total_minor), subtotal=money(order.subtotal_minor),
        shipping=money(order.shipping_minor), vat=money(order.vat_minor) if order.vat_rate else "not applicable",
        ship_by=order.ship_by.isoformat(), terms_version=terms.version if terms else "", screening=str(verdict),
        lines=[LineView(li.reference, li.name, li.quantity, li.quantity_shipped, li.quantity_cancelled,
                        money(li.unit_price_minor), _line_state(li),
                        li.quantity - li.quantity_shipped - li.quantity_cancelled) for li in lines],
        holds=[HoldView(h.intent_id or "", h.status, money(h.amount_minor), money(h.captured_minor),
                        money(h.refunded_minor), _when(h.capture_before)) for h in holds],
        events=[EventView(_when(e.at), e.type, e.actor, json.dumps(e.data, sort_keys=True)[:300]) for e in events],
        emails=[EmailView(m.kind, m.status, _when(m.created_at), _when(m.sent_at)) for m in emails],
        refunds=[RefundView(r.id or 0, r.number, money(r.amount_minor), r.reason_code, r.status,
                            f"staff:{r.requested_by}" if r.requested_by else "system",
                            f"staff:{r.approved_by}" if r.approved_by else "") for r in refunds],
        currency=order.currency, customer=customer, order_id=order.id or 0,
        entered_by=f"staff:{order.entered_by}" if order.entered_by else "",
        delay=delay.status if delay else "", delay_counted_from=delay.counted_from.isoformat() if delay else "",
        delay_proposed=delay.proposed_date.isoformat() if delay and delay.proposed_date else "",
        delay_offer_date=delay.offer_date.isoformat() if delay and delay.offer_date else "",
    )


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    count: int
    references: list[str]


# The open orders, in the order of the predicate of the partial index ix_shop_order_open_placed_at_id (migration
# d2e3f4a5b6c7).
OPEN_STATUSES = (OrderStatus.AWAITING_APPROVAL, OrderStatus.APPROVED, OrderStatus.PARTIALLY_SHIPPED,
                 OrderStatus.COMPLIANCE_REVIEW)
QUEUES = (("awaiting_approval", "Awaiting approval"), ("compliance_review", "Compliance review"),
          ("holds_expiring", "Holds expiring within 48 h"), ("failed_renewals", "Failed hold renewals"),
          ("past_ship_by", "Past their ship-by date"), ("failed_emails", "Emails that failed"),
          ("refunds_to_approve", "Refunds awaiting a second approval"),
          ("delays", "Delayed 20 business days past ship-by (GTC-5.4)"),
          ("delay_calls", "Delay offer unanswered: call the client"))


def _inline(value: str):
    """A constant written into the SQL, not bound: only a literal lets PostgreSQL (in a prepared, generic plan
    too) and SQLite prove that a partial index's predicate holds."""
    return literal(getattr(value, "value", value), String, literal_execute=True)


@lru_cache(maxsize=4)
def _queues_statement(shown: int):
    """The one statement of the work queues (built once: building it costs more than running a small query).

    Rows of (queue number, reference, placed_at, id, count): a row with a count and no reference, or up to
    `shown` rows with a reference, the oldest orders first, each carrying the count (a window) or none.

    The open orders (tens of thousands at a million orders, all recent) are counted in one pass over the
    partial index that holds only them, with the columns the conditions read; each list walks that index (or
    the (status, placed_at, id) one) oldest first and stops at the tenth match. The holds expiring soon are read
    from the partial index of the live holds and hashed. A queue of a few rows (failed renewals, failed emails,
    refunds awaiting a second approval) is gathered through its child rows' index, counted by a window and
    sorted. Nowhere a bare `ORDER BY placed_at LIMIT` over a condition neither index serves: the planner could
    walk the placed_at index from the oldest order of all, through a million rows, to reach the recent ones.
    """
    expiring = bindparam("expiring", type_=PaymentAuthorization.capture_before.type)
    today = bindparam("today", type_=Order.ship_by.type)
    is_open = Order.status.in_([_inline(status) for status in OPEN_STATUSES])
    held_expiring = select(PaymentAuthorization.order_id).where(
        PaymentAuthorization.status == _inline(PaymentStatus.HELD), PaymentAuthorization.capture_before.is_not(None),
        PaymentAuthorization.capture_before < expiring)
    awaiting = Order.status == _inline(OrderStatus.AWAITING_APPROVAL)
    in_review = Order.status == _inline(OrderStatus.COMPLIANCE_REVIEW)
    past_ship_by = and_(Order.status.in_([_inline(OrderStatus.APPROVED), _inline(OrderStatus.PARTIALLY_SHIPPED)]),
                        Order.ship_by < today)
    counted = (select(func.count().filter(awaiting).label("awaiting"), func.count().filter(in_review).label("review"),
                      func.count().filter(past_ship_by).label("past_ship_by"))
               .where(is_open).cte("open_counts").prefix_with("MATERIALIZED"))
    # an open order whose last renewal failed: it has a failure and no successful renewal after its last one
    # (events are append-only, their ids in time order); only open orders with a failure are looked at
    failed, renewed = _inline(EventType.PAYMENT_REAUTHORIZATION_FAILED), _inline(EventType.PAYMENT_REAUTHORIZED)
    failure, last, renewal = aliased(OrderEvent), aliased(OrderEvent), aliased(OrderEvent)
    last_failure = (select(func.max(last.id)).where(last.order_id == Order.id, last.type == failed)
                    .correlate_except(last).scalar_subquery())
    failed_renewal = and_(is_open, Order.id.in_(select(failure.order_id).where(failure.type == failed)),
                          ~exists().where(renewal.order_id == Order.id, renewal.type == renewed,
                                          renewal.id > last_failure))
    failed_email = Order.id.in_(select(OutboxEmail.order_id).where(OutboxEmail.status == _inline("failed")))
    second_approval = Order.id.in_(select(RefundRecord.order_id).where(
        RefundRecord.status == _inline(RefundStatus.REQUESTED), RefundRecord.requested_by.is_not(None)))
    # a delay customer service follows (GTC-5.4), read from the partial index ix_order_delay_open; "calls": the
    # client has not answered the offer for long, a task to call them
    delay_open = OrderDelay.status.in_([_inline(status) for status in DELAY_OPEN])
    delayed = and_(is_open, Order.id.in_(select(OrderDelay.order_id).where(delay_open)))
    delay_call = and_(is_open, Order.id.in_(select(OrderDelay.order_id).where(delay_open,
                                                                              OrderDelay.task_at.is_not(None))))

    # the failed renewals gathered first (MATERIALIZED): inline, PostgreSQL scans the open orders with parallel
    # workers, whose start costs more than the scan and varies with the load of the machine
    renewals = (select(Order.reference, Order.placed_at, Order.id).where(failed_renewal)
                .cte("failed_renewals").prefix_with("MATERIALIZED")).c
    orders = Order.__table__.c

    def row(n: int, total, rows=None) -> tuple:
        # the queue by a literal and the NULLs typed: PostgreSQL can type neither a bound parameter nor a bare NULL
        # in a UNION (it matches the members' column types pair by pair)
        if rows is None:
            listed = (cast(null(), Order.reference.type), cast(null(), Order.placed_at.type), cast(null(), Integer))
        else:
            listed = (rows.reference, rows.placed_at, rows.id)
        total = cast(null(), Integer) if total is None else total
        return tuple(column.label(name) for column, name in
                     zip((literal_column(str(n)), *listed, total), ("queue", "reference", "placed_at", "id", "total")))

    def counted_in(n: int, rows, cond):
        return select(*row(n, func.count())).select_from(rows.id.table).where(cond)

    def oldest(n: int, rows, cond, total=None):  # a UNION member with its own ORDER BY and LIMIT: a subquery
        return select(select(*row(n, total, rows)).where(cond).order_by(rows.placed_at, rows.id).limit(shown)
                      .subquery())

    parts = [select(*row(0, counted.c.awaiting)), select(*row(1, counted.c.review)),
             select(*row(4, counted.c.past_ship_by)), counted_in(2, orders, and_(is_open, Order.id.in_(held_expiring)))]
    if shown > 0:
        parts += [
            oldest(0, orders, awaiting), oldest(1, orders, in_review),
            # a CASE, not a semi-join: the open orders' index is walked oldest first, each probed in the hash
            oldest(2, orders, and_(is_open, case((Order.id.in_(held_expiring), 1), else_=0) == 1)),
            oldest(4, orders, and_(is_open, past_ship_by)),
            # a few rows each: the window needs every match (no index walk could stop early), they are sorted
            oldest(3, renewals, true(), func.count().over()),
            oldest(5, orders, failed_email, func.count().over()),
            oldest(6, orders, second_approval, func.count().over()),
            oldest(7, orders, delayed, func.count().over()),
            oldest(8, orders, delay_call, func.count().over()),
        ]
    else:
        parts += [counted_in(3, renewals, true()), counted_in(5, orders, failed_email),
                  counted_in(6, orders, second_approval), counted_in(7, orders, delayed),
                  counted_in(8, orders, delay_call)]
    return union_all(*parts)


def work_queues(uow: UnitOfWork, at: datetime | None = None) -> list[Queue]:
    """The admin home: each queue a count and its oldest orders first, in one statement."""
    at = at or clock.now()
    rules = _rules()
    shown = int(rules["listed_per_queue"])
    expiring = at + timedelta(hours=int(rules["hold_expiry_warning_hours"]))
    totals: dict[int, int] = {}
    listed: dict[int, list[tuple]] = {n: [] for n in range(len(QUEUES))}
    with uow.reading() as s:
        found = s.exec(_queues_statement(shown), params={"expiring": expiring, "today": at.date()}).all()
    for number, reference, placed_at, order_id, total in found:
        if total is not None:
            totals[int(number)] = int(total)
        if reference is not None:
            listed[int(number)].append((placed_at, order_id, reference))
    return [Queue(key, label, totals.get(n, 0), [reference for _at, _id, reference in sorted(listed[n])])
            for n, (key, label) in enumerate(QUEUES)]


def order_id_of(uow: UnitOfWork, reference: str) -> int | None:
    with uow.reading() as s:
        return s.exec(select(Order.id).where(Order.reference == reference[:32])).first()
