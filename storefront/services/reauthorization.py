"""The client authorising the card again (PAY-5), when the bank refused a hold we placed without them.

A renewal (hold_renewal) or the hold for the rest of a partly shipped order (shipping_admin) is placed
off-session; when the bank refuses it, or wants the client there (3-D Secure), the client is emailed a
`reauthorize` link to the order page. There the client enters a card (the same one or another) and we
hold what is still to be charged (`holds.still_to_hold`), on-session, so the bank may ask for 3-D Secure.

The link is purpose-bound (links.Purpose.REAUTHORIZE) and honoured only while the order is open and not
already covered: a shipped or cancelled order, or one whose live hold already covers what remains, has
nothing to authorise. The order is found by the link alone: the client may open it on another device
than the one that ordered.

Order of effects, as in payment.py: claim an attempt row (unique key `<reference>:reauth:<n>`), ask the
provider outside any transaction with that key, then record the outcome in one transaction. A held
outcome records a `payment_reauthorized` event (the order leaves the "failed renewals" queue) and makes
the new card the one later renewals use; only then are the order's older holds released, so the order
always keeps one. Declined attempts count towards the same per-order limit as at checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.stripe_gateway import Authorization, CardDeclined, PaymentGatewayError, StripeGateway
from storefront.adapters.tables import Order, PaymentAuthorization
from storefront.domain.errors import ErrorCode
from storefront.domain.money import Money
from storefront.domain.order_status import HOLD_NEEDED, PaymentStatus
from storefront.domain.policy import policy
from storefront.services import abuse_limits, hold_renewal, holds, links, order_events
from storefront.services.order_admin import live_holds
from storefront.services.payment import BrandRefused, PaymentOutcome, card_attempt_refused, gateway, save_accepted_card
from storefront.services.unit_of_work import UnitOfWork

REASON = "client_reauthorization"
STALE_CLAIM = timedelta(minutes=2)
LINK_INVALID = PaymentOutcome("not_payable", ErrorCode.REAUTHORIZE_LINK_INVALID)
NOTHING_TO_DO = PaymentOutcome("held", ErrorCode.REAUTHORIZE_NOT_NEEDED)


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _linked_order(s: Session, reference: object, token: object, at: datetime) -> Order | None:
    if not isinstance(reference, str) or not isinstance(token, str) or len(reference) > 32 or len(token) > 400:
        return None
    if not links.valid(reference, token, links.Purpose.REAUTHORIZE, at):
        return None
    order = s.exec(select(Order).where(Order.reference == reference)).first()
    return order if order is not None and order.status in HOLD_NEEDED else None


def link_valid(uow: UnitOfWork, reference: object, token: object, at: datetime | None = None) -> bool:
    """A `reauthorize` link works until the order ships or is cancelled (and within its long signature life)."""
    with uow.reading() as s:
        return _linked_order(s, reference, token, _now(at)) is not None


def _needed(s: Session, order: Order, at: datetime) -> int:
    """What to hold now: what is still to be charged, unless one live hold, not due for renewal, covers it."""
    due = holds.still_to_hold(s, order)
    lasting = at + hold_renewal.rules().renew_before  # a hold due for renewal is the problem, not the cover
    covered = any(h.amount_minor - h.captured_minor >= due and h.capture_before is not None
                  and _aware(h.capture_before) > lasting for h in live_holds(s, order.id, at))
    return 0 if covered else due


@dataclass(frozen=True)
class Request:
    """What the order page shows above the card form."""

    amount: str
    last4: str  # the card the bank refused, for the client's bearings ("" if unknown)


def request(uow: UnitOfWork, reference: object, token: object, at: datetime | None = None) -> Request | None:
    """The authorisation the link asks for, or None (invalid link, order closed, or nothing left to hold)."""
    at = _now(at)
    with uow.reading() as s:
        order = _linked_order(s, reference, token, at)
        if order is None:
            return None
        amount = _needed(s, order, at)
        if amount <= 0:
            return None
        last = s.exec(select(PaymentAuthorization.last4).where(PaymentAuthorization.order_id == order.id,
                                                               PaymentAuthorization.last4 != "")
                      .order_by(PaymentAuthorization.id.desc())).first()
        return Request(Money(amount, order.currency).format(order.locale), last or "")


@dataclass(frozen=True)
class _Claim:
    refused: PaymentOutcome | None = None
    claim_id: int | None = None


def _claim(uow: UnitOfWork, reference: str, token: str, at: datetime) -> _Claim:
    with uow:
        s = uow.session
        order = _linked_order(s, reference, token, at)
        if order is None:
            return _Claim(LINK_INVALID)
        amount = _needed(s, order, at)
        if amount <= 0:
            return _Claim(NOTHING_TO_DO)
        prefix = f"{order.reference}:reauth:"
        attempts = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id,
                                                             PaymentAuthorization.idempotency_key.startswith(prefix, autoescape=True))
                          .order_by(PaymentAuthorization.id)).all()
        if any(a.status == PaymentStatus.PENDING and at - _aware(a.updated_at) < STALE_CLAIM for a in attempts):
            return _Claim(PaymentOutcome("in_progress", ErrorCode.PAYMENT_IN_PROGRESS))
        declined = sum(1 for a in attempts if a.status == PaymentStatus.DECLINED and a.decline_code != "gateway_error")
        if declined >= abuse_limits.limits().attempts_per_order:
            return _Claim(PaymentOutcome("declined", ErrorCode.REAUTHORIZE_ATTEMPTS_EXHAUSTED))
        for stale in (a for a in attempts if a.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)):
            stale.status, stale.decline_code, stale.updated_at = PaymentStatus.DECLINED.value, "abandoned", at
        claim = PaymentAuthorization(order_id=order.id, idempotency_key=f"{prefix}{len(attempts) + 1}",
                                     status=PaymentStatus.PENDING.value, amount_minor=amount,
                                     currency=order.currency, created_at=at, updated_at=at)
        s.add(claim)
        try:
            uow.commit()
        except IntegrityError:
            return _Claim(PaymentOutcome("in_progress", ErrorCode.PAYMENT_IN_PROGRESS))
        return _Claim(claim_id=claim.id)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def authorize(uow: UnitOfWork, reference: str, link_token: str, card_token: str, *, ip: str = "",
              at: datetime | None = None, gw: StripeGateway | None = None) -> PaymentOutcome:
    """Hold what is still to be charged on the card behind a Stripe.js token (card data never reaches us)."""
    at = _now(at)
    refused = card_attempt_refused(card_token, ip)
    if refused:
        return refused
    claimed = _claim(uow, reference, link_token, at)
    if claimed.refused:
        return claimed.refused
    gw = gw or gateway()
    with uow.reading() as s:
        claim = s.get(PaymentAuthorization, claimed.claim_id)
        order = s.get(Order, claim.order_id)
    try:
        saved = save_accepted_card(gw, card_token, order.email, order.full_name, f"{claim.idempotency_key}:card")
        auth = gw.authorize(Money(claim.amount_minor, claim.currency), saved.customer_id, saved.card_id,
                            idempotency_key=claim.idempotency_key, description=f"Order {order.reference}",
                            metadata={"order": order.reference, "purpose": "client reauthorization"})
    except BrandRefused as refused:
        return _finish(uow, claim.id, None, at, code=(ErrorCode.CARD_BRAND_REFUSED, "brand_not_accepted"),
                       last4=refused.last4, brand=refused.brand, message=refused.message)
    except CardDeclined as exc:
        return _finish(uow, claim.id, None, at, code=(ErrorCode.ISSUER_DECLINED, exc.decline_code or "card_declined"))
    except PaymentGatewayError:
        _finish(uow, claim.id, None, at, code=(ErrorCode.PAYMENT_SERVICE_DOWN, "gateway_error"))
        return PaymentOutcome("error", ErrorCode.PAYMENT_SERVICE_DOWN)
    with uow:
        row = uow.session.get(PaymentAuthorization, claim.id)
        row.card_id, row.brand, row.last4 = saved.card_id, saved.brand, saved.last4
        uow.session.get(Order, order.id).payment_customer_id = saved.customer_id
        uow.commit()
    return _finish(uow, claim.id, auth, at, gw=gw)


def complete(uow: UnitOfWork, reference: str, link_token: str, *, at: datetime | None = None,
             gw: StripeGateway | None = None) -> PaymentOutcome:
    """After 3-D Secure in the browser: ask the provider what became of the intent (never trust the page)."""
    at = _now(at)
    with uow.reading() as s:
        order = _linked_order(s, reference, link_token, at)
        if order is None:
            return LINK_INVALID
        pending = s.exec(select(PaymentAuthorization).where(
            PaymentAuthorization.order_id == order.id,
            PaymentAuthorization.idempotency_key.startswith(f"{order.reference}:reauth:", autoescape=True),
            PaymentAuthorization.status == PaymentStatus.REQUIRES_ACTION)
            .order_by(PaymentAuthorization.id.desc())).first()
    if pending is None or not pending.intent_id:
        return PaymentOutcome("declined", ErrorCode.ISSUER_DECLINED)
    gw = gw or gateway()
    try:
        auth = gw.retrieve(pending.intent_id)
    except PaymentGatewayError:
        return PaymentOutcome("error", ErrorCode.PAYMENT_SERVICE_DOWN)
    return _finish(uow, pending.id, auth, at, gw=gw)


def _finish(uow: UnitOfWork, claim_id: int, auth: Authorization | None, at: datetime, *,
            code: tuple[ErrorCode, str] | None = None, brand: str = "", last4: str = "", message: str = "",
            gw: StripeGateway | None = None) -> PaymentOutcome:
    """Record the provider's answer; once held, release the order's older holds (after the commit)."""
    superseded: list[tuple[int, str]] = []
    with uow:
        s = uow.session
        row = s.get(PaymentAuthorization, claim_id, with_for_update=True)
        if row.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            return PaymentOutcome("held") if row.status == PaymentStatus.HELD \
                else PaymentOutcome("declined", ErrorCode.ISSUER_DECLINED)
        row.updated_at = at
        if brand or last4:
            row.brand, row.last4 = brand[:20], last4[:4]
        if auth is not None and auth.intent_id:
            row.intent_id = auth.intent_id
        if auth is not None and auth.held:
            row.status, row.decline_code = PaymentStatus.HELD.value, None
            row.capture_before = auth.capture_before or at + timedelta(days=policy().hold_lifetime_days)
            s.add(order_events.payment_reauthorized(row.order_id, at, intent_id=auth.intent_id,
                                                    amount_minor=row.amount_minor, currency=row.currency,
                                                    reason=REASON))
            superseded = [(h.id, h.intent_id) for h in s.exec(select(PaymentAuthorization).where(
                PaymentAuthorization.order_id == row.order_id, PaymentAuthorization.status == PaymentStatus.HELD,
                PaymentAuthorization.id != row.id)).all() if h.intent_id]
            outcome = PaymentOutcome("held")
        elif auth is not None and auth.status == "requires_action" and auth.client_secret:
            row.status = PaymentStatus.REQUIRES_ACTION.value
            outcome = PaymentOutcome("requires_action", client_secret=auth.client_secret)
        else:
            row.status = PaymentStatus.DECLINED.value
            reason = code or (ErrorCode.ISSUER_DECLINED, (auth.decline_code if auth else None) or "card_declined")
            row.decline_code = reason[1][:80]
            outcome = PaymentOutcome("declined", reason[0], params={"message": message} if message else {})
        order_id = row.order_id
        uow.commit()
    for authorization_id, intent_id in superseded:
        holds.release(uow, order_id, authorization_id, intent_id, at, gw or gateway(), reason="client_reauthorized")
    return outcome
