"""The life of an order and of each card hold on it, as explicit state machines (GTC-3.5, GTC-3.6, PAY-5).

The contract is concluded at checkout step 5, but the order is not final until the full amount is
held on the card and the merchant has confirmed availability (GTC-3.6). The hold is only charged
when goods ship, and only for what shipped (PAY-5). Transitions are data so the admin page, the
webhook and the jobs all obey the same table; anything not listed is refused.
"""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    # entered by staff on the phone (PAY-2); stock reserved; the client has not yet checked, accepted and confirmed
    AWAITING_CLIENT = "awaiting_client"
    PENDING_PAYMENT = "pending_payment"  # contract concluded at step 5; no hold on the card yet
    COMPLIANCE_REVIEW = "compliance_review"  # hold in place; a possible sanctions match awaits staff
    AWAITING_APPROVAL = "awaiting_approval"  # hold in place; not final
    APPROVED = "approved"  # final: payment verified and stock confirmed
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    """One authorization (hold) on the card; an order may have several over its life."""

    PENDING = "pending"  # attempt claimed by one request, gateway call in flight
    REQUIRES_ACTION = "requires_action"  # the issuer asks for 3-D Secure
    HELD = "held"
    DECLINED = "declined"
    RELEASED = "released"  # cancelled by us, nothing charged
    EXPIRED = "expired"  # the hold lapsed before capture
    PARTIALLY_CAPTURED = "partially_captured"  # part charged at shipment, the rest released
    CAPTURED = "captured"
    REFUNDED = "refunded"


Status = OrderStatus | PaymentStatus


class OrderEvent(StrEnum):
    """Types of the append-only order history."""

    ORDER_PLACED = "order_placed"
    TERMS_ACCEPTED = "terms_accepted"
    SCREENING_CLEARED = "screening_cleared"
    COMPLIANCE_HOLD = "compliance_hold"
    COMPLIANCE_CLEARED = "compliance_cleared"
    PAYMENT_REQUIRES_ACTION = "payment_requires_action"
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_REAUTHORIZED = "payment_reauthorized"
    PAYMENT_REAUTHORIZATION_FAILED = "payment_reauthorization_failed"
    PAYMENT_EXPIRED = "payment_expired"
    PAYMENT_RELEASED = "payment_released"
    PAYMENT_RELEASE_FAILED = "payment_release_failed"
    PAYMENT_CAPTURED = "payment_captured"
    PAYMENT_REFUNDED = "payment_refunded"
    APPROVED = "approved"
    ITEM_UNAVAILABLE = "item_unavailable"
    DELIVERY_DATE_CHANGED = "delivery_date_changed"
    DELAY_NOTICE_SENT = "delay_notice_sent"
    CANCELLATION_OFFERED = "cancellation_offered"
    HANDED_TO_CARRIER = "handed_to_carrier"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    STOCK_RELEASED = "stock_released"
    EMAIL_QUEUED = "email_queued"
    NOTE_ADDED = "note_added"
    CONFIRMED_BY_CLIENT = "confirmed_by_client"


S, P = OrderStatus, PaymentStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # the client confirms through the emailed link (contract concluded), or the link lapses / staff cancel
    S.AWAITING_CLIENT: frozenset({S.PENDING_PAYMENT, S.CANCELLED}),
    S.PENDING_PAYMENT: frozenset({S.AWAITING_APPROVAL, S.COMPLIANCE_REVIEW, S.CANCELLED}),
    # Cleared: to approval, or back to where a re-screening found it (REVIEW_RETURNS). Declined: cancelled; when
    # part had shipped before, back to partially shipped and on to shipped with the rest cancelled
    S.COMPLIANCE_REVIEW: frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.PARTIALLY_SHIPPED, S.CANCELLED}),
    # back to pending_payment when a lapsed hold cannot be renewed and the client must pay again;
    # to compliance review when a new sanctions list or destination matches it (PAY-7)
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.PENDING_PAYMENT, S.COMPLIANCE_REVIEW, S.CANCELLED}),
    # cancelled after approval: an item proves unavailable, or a long delay and the client declines (GTC-3.2, 5.4)
    S.APPROVED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.COMPLIANCE_REVIEW, S.CANCELLED}),
    # another partial shipment keeps the status; cancelling the rest ends it as shipped, what shipped stays sold
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.COMPLIANCE_REVIEW}),
    S.SHIPPED: frozenset(),
    S.CANCELLED: frozenset(),
}

PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.REQUIRES_ACTION, P.HELD, P.DECLINED}),
    P.REQUIRES_ACTION: frozenset({P.HELD, P.DECLINED, P.EXPIRED}),
    P.HELD: frozenset({P.CAPTURED, P.PARTIALLY_CAPTURED, P.RELEASED, P.EXPIRED}),
    P.PARTIALLY_CAPTURED: frozenset({P.REFUNDED}),
    P.CAPTURED: frozenset({P.REFUNDED}),
    P.REFUNDED: frozenset({P.REFUNDED}),  # a further partial refund of what was captured
    P.DECLINED: frozenset(),
    P.RELEASED: frozenset(),
    P.EXPIRED: frozenset(),
}

FINAL = frozenset({S.APPROVED, S.PARTIALLY_SHIPPED, S.SHIPPED})
# A re-screening match stops an open order wherever it stands (nothing approves or ships while compliance
# looks); clearing it returns the order to the status it was found in, never further.
REVIEW_RETURNS = frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.PARTIALLY_SHIPPED})
# Paid for (held) and not yet wholly shipped or cancelled: the card must stay held for what remains (PAY-5).
HOLD_NEEDED = frozenset({S.AWAITING_APPROVAL, S.COMPLIANCE_REVIEW, S.APPROVED, S.PARTIALLY_SHIPPED})

CUSTOMER_LABELS: dict[OrderStatus, str] = {
    S.AWAITING_CLIENT: "Awaiting your confirmation — entered for you by telephone; please check it, accept the "
                       "terms and confirm it through the link in our email",
    S.PENDING_PAYMENT: "Awaiting payment — your order is placed; your card has not been authorised yet",
    S.COMPLIANCE_REVIEW: "Being reviewed — we are completing our routine checks; "
                         "nothing is charged to your card while we do",
    S.AWAITING_APPROVAL: "Awaiting approval — your card is authorised, not charged; "
                         "the order becomes final once we confirm it",
    S.APPROVED: "Confirmed — your order is final; your card is charged only when it ships",
    S.PARTIALLY_SHIPPED: "Partly shipped — part of your order is on its way; "
                         "you are charged only for what has shipped",
    S.SHIPPED: "Shipped — your order is on its way",
    S.CANCELLED: "Cancelled — any authorisation on your card has been released, and anything paid refunded",
}
del S, P


class InvalidTransition(ValueError):
    pass


def _as_status(value: Status | str) -> Status:
    if isinstance(value, (OrderStatus, PaymentStatus)):
        return value
    for kind in (OrderStatus, PaymentStatus):
        try:
            return kind(value)
        except ValueError:
            continue
    raise ValueError(f"Unknown order or payment status {value!r}")


def can_transition(a: Status | str, b: Status | str) -> bool:
    """Works for orders and for card holds alike; plain strings (from the database) are accepted."""
    a, b = _as_status(a), _as_status(b)
    table = ORDER_TRANSITIONS if isinstance(a, OrderStatus) else PAYMENT_TRANSITIONS
    return type(a) is type(b) and b in table[a]


def transition(a: Status | str, b: Status | str) -> Status:
    """`b`, if the move from `a` is allowed; InvalidTransition otherwise."""
    if not can_transition(a, b):
        raise InvalidTransition(f"An order or payment cannot go from {a} to {b}.")
    return _as_status(b)


def is_final(status: OrderStatus | str) -> bool:
    return _as_status(status) in FINAL


def customer_label(status: OrderStatus | str) -> str:
    return CUSTOMER_LABELS[OrderStatus(status)]
