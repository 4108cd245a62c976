"""Card authorization holds (PAY-3, PAY-4, PAY-5, GTC-3.5) with exactly-once effects.

Each attempt is claimed first in our own database (a row with a unique idempotency key derived from
the order), so a double click, a reconnect or a resent event finds the claim and does not hold the
card twice; the gateway is called outside any transaction; the outcome, the order's new status, its
events and the confirmation email are then written in one transaction. Every gateway call that moves
money also carries an idempotency key derived from the same record, which Stripe (and the sandbox)
answer with the first result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters import sandbox
from storefront.adapters.email_render import render_order_confirmation
from storefront.adapters.stripe_gateway import (
    STRIPE_JS_URL,
    Authorization,
    CardDeclined,
    PaymentGatewayError,
    SavedCard,
    StripeGateway,
)
from storefront.adapters.tables import Order, PaymentAuthorization
from storefront.domain.cards import brand_refusal
from storefront.domain.errors import ErrorCode, message
from storefront.domain.money import Money
from storefront.domain.order_status import OrderStatus, PaymentStatus, transition
from storefront.domain.policy import policy
from storefront.domain.screening import Verdict
from storefront.services import abuse_limits, cancellations, order_events, outbox
from storefront.services.documents import issue_order_record, order_document
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

STALE_CLAIM = timedelta(minutes=2)
NO_ANSWER_CODE = "no_answer"


@dataclass(frozen=True)
class PaymentOutcome:
    status: str  # held | requires_action | declined | in_progress | cancelled | error | not_payable
    code: ErrorCode | None = None
    client_secret: str = ""
    params: dict = field(default_factory=dict)

    @property
    def message(self) -> str:
        return message(self.code, **self.params) if self.code else ""


def gateway() -> StripeGateway:
    return StripeGateway.from_settings(get_settings())


def browser_config() -> tuple[str, str]:
    """Where the page loads Stripe.js from and its publishable key (the local sandbox without keys)."""
    s = get_settings()
    if s.uses_local_stripe:
        return sandbox.js_url(s.localstripe_port), sandbox.PUBLISHABLE_KEY
    return STRIPE_JS_URL, s.stripe_publishable_key


def _now() -> datetime:
    return clock.now()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment


def _order(session: Session, reference: str, browser: str | None = None) -> Order | None:
    """The order, and for a web order only when asked by the browser that placed it (None: staff, jobs)."""
    order = session.exec(select(Order).where(Order.reference == reference)).first()
    if order is not None and browser is not None and order.browser_hash != browser:
        return None
    return order


def _outcome_of(order: Order) -> PaymentOutcome:
    if order.status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.COMPLIANCE_REVIEW, OrderStatus.APPROVED,
                        OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED):
        return PaymentOutcome("held")
    if order.status == OrderStatus.CANCELLED:
        return PaymentOutcome("cancelled", ErrorCode.PAYMENT_WINDOW_CLOSED)
    return PaymentOutcome("not_payable", ErrorCode.ORDER_NOT_PAYABLE)


@dataclass(frozen=True)
class _Claim:
    refused: PaymentOutcome | None = None
    claim_id: int | None = None
    abandoned: tuple[str, ...] = ()  # intents of abandoned 3-D Secure attempts, to cancel at the provider
    retry: bool = False  # the provider did not answer last time: ask again with the same key and card


IN_PROGRESS = PaymentOutcome("in_progress", ErrorCode.PAYMENT_IN_PROGRESS)
NOT_FOUND = PaymentOutcome("not_payable", ErrorCode.ORDER_NOT_FOUND)


def _claim(uow: UnitOfWork, reference: str, browser: str | None, at: datetime) -> _Claim:
    """Reserve the next attempt for this order, or say why no attempt may start."""
    with uow:
        s = uow.session
        order = _order(s, reference, browser)
        if order is None:
            return _Claim(NOT_FOUND)
        if order.status != OrderStatus.PENDING_PAYMENT:
            return _Claim(_outcome_of(order))
        if _aware(order.payment_deadline) and at > _aware(order.payment_deadline):
            cancellations.cancel_unpaid(s, order.id, at, "payment_not_authorized")
            uow.commit()
            return _Claim(PaymentOutcome("cancelled", ErrorCode.PAYMENT_WINDOW_CLOSED))
        attempts = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id)
                          .order_by(PaymentAuthorization.id)).all()
        unanswered = next((a for a in reversed(attempts) if a.status == PaymentStatus.PENDING
                           and a.decline_code == NO_ANSWER_CODE and a.card_id), None)
        if unanswered is not None:
            # The hold may exist at the provider: the same idempotency key returns it instead of a second one.
            taken = s.exec(update(PaymentAuthorization)
                           .where(PaymentAuthorization.id == unanswered.id,
                                  PaymentAuthorization.decline_code == NO_ANSWER_CODE)
                           .values(decline_code=None, updated_at=at)).rowcount
            uow.commit()
            return _Claim(claim_id=unanswered.id, retry=True) if taken == 1 else _Claim(IN_PROGRESS)
        if any(a.status == PaymentStatus.PENDING and at - _aware(a.updated_at) < STALE_CLAIM for a in attempts):
            return _Claim(IN_PROGRESS)
        if _declined(attempts) >= abuse_limits.limits().attempts_per_order:
            cancellations.cancel_unpaid(s, order.id, at, "payment_attempts_exhausted")
            uow.commit()
            return _Claim(PaymentOutcome("cancelled", ErrorCode.PAYMENT_ATTEMPTS_EXHAUSTED))
        abandoned = tuple(a.intent_id for a in attempts if a.status == PaymentStatus.REQUIRES_ACTION and a.intent_id)
        for stale in (a for a in attempts if a.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)):
            stale.status, stale.updated_at = PaymentStatus.DECLINED.value, at
            stale.decline_code = stale.decline_code or "abandoned"
        claim = PaymentAuthorization(order_id=order.id, idempotency_key=f"{order.reference}:auth:{len(attempts) + 1}",
                                     status=PaymentStatus.PENDING.value, amount_minor=order.total_minor,
                                     currency=order.currency, created_at=at, updated_at=at)
        s.add(claim)
        try:
            uow.commit()
        except IntegrityError:
            return _Claim(IN_PROGRESS)
        return _Claim(claim_id=claim.id, abandoned=abandoned)


def _declined(attempts) -> int:
    """Card attempts that ended in a refusal (a provider that did not answer is not the card's fault)."""
    return sum(1 for a in attempts if a.status == PaymentStatus.DECLINED and a.decline_code != "gateway_error")


def authorize(uow: UnitOfWork, reference: str, token: str, *, browser: str | None, ip: str = "",
              at: datetime | None = None, gw: StripeGateway | None = None, moto: bool = False) -> PaymentOutcome:
    """Hold the order total on the card behind a Stripe.js token (card data never reaches us).

    `browser` is the fingerprint of the asking browser: a web order is paid only from the browser
    that placed it (None for staff and jobs, which are authorized elsewhere). `moto`: staff enter the card
    for a client on the telephone (services/telephone_orders.py), flagged so at the provider.
    """
    at = at or _now()
    refused = card_attempt_refused(token, ip)
    if refused:
        return refused
    claimed = _claim(uow, reference, browser, at)
    if claimed.refused:
        return claimed.refused
    claim_id = claimed.claim_id
    gw = gw or gateway()
    for intent_id in claimed.abandoned:
        try:
            gw.cancel(intent_id, idempotency_key=f"{intent_id}:abandoned")
        except PaymentGatewayError:
            pass  # an unconfirmed intent lapses by itself; the new attempt must not wait for this
    with uow.reading() as s:
        claim = s.get(PaymentAuthorization, claim_id)
        order = s.get(Order, claim.order_id)
    try:
        if claimed.retry:
            saved = SavedCard(order.payment_customer_id, claim.card_id, claim.brand, claim.last4, 0, 0)
        else:
            saved = save_accepted_card(gw, token, order.email, order.full_name, f"{claim.idempotency_key}:card")
    except BrandRefused as refused:
        return _finish(uow, claim_id, None, at, brand=refused.brand, last4=refused.last4,
                       refusal=(ErrorCode.CARD_BRAND_REFUSED, "brand_not_accepted"), message=refused.message)
    except CardDeclined as exc:
        return _finish(uow, claim_id, None, at, refusal=(ErrorCode.ISSUER_DECLINED, exc.decline_code or "card_declined"))
    except PaymentGatewayError:
        _finish(uow, claim_id, None, at, refusal=(ErrorCode.PAYMENT_SERVICE_DOWN, "gateway_error"))
        return PaymentOutcome("error", ErrorCode.PAYMENT_SERVICE_DOWN)  # nothing can be held yet
    try:
        auth = gw.authorize(Money(order.total_minor, order.currency), saved.customer_id, saved.card_id,
                            idempotency_key=claim.idempotency_key, description=f"Order {order.reference}",
                            metadata={"order": order.reference}, moto=moto)
    except CardDeclined as exc:
        return _finish(uow, claim_id, None, at, refusal=(ErrorCode.ISSUER_DECLINED, exc.decline_code or "card_declined"))
    except PaymentGatewayError:
        _await_retry(uow, claim_id, saved, at)
        return PaymentOutcome("error", ErrorCode.PAYMENT_NO_ANSWER)
    return _finish(uow, claim_id, auth, at, customer_id=saved.customer_id, card_id=saved.card_id,
                   brand=saved.brand, last4=saved.last4, gw=gw)


def card_attempt_refused(token: object, ip: str) -> PaymentOutcome | None:
    """Before any card attempt (checkout or re-authorisation): a Stripe.js token id, and not too many
    attempts from this address."""
    if not isinstance(token, str) or not token.startswith("tok_") or len(token) > 100:
        return PaymentOutcome("declined", ErrorCode.CARD_UNREADABLE)
    if not abuse_limits.payment_attempt_allowed(ip):
        return PaymentOutcome("declined", ErrorCode.TOO_MANY_PAYMENT_ATTEMPTS)
    return None


class BrandRefused(Exception):
    """PAY-1: a card of a brand the shop does not accept."""

    def __init__(self, brand: str, last4: str, message: str) -> None:
        super().__init__(message)
        self.brand, self.last4, self.message = brand, last4, message


def save_accepted_card(gw: StripeGateway, token: str, email: str, name: str, idempotency_key: str) -> SavedCard:
    """Save the card behind a browser token for later holds, only if its brand is accepted (PAY-1): checked
    before anything is stored, and again on what the provider stored. Raises BrandRefused or CardDeclined."""
    card = gw.card_of_token(token)
    refusal = brand_refusal(card.brand)
    if refusal:
        raise BrandRefused(card.brand, card.last4, refusal)
    saved = gw.save_card(token, email, name, idempotency_key=idempotency_key)
    refusal = brand_refusal(saved.brand)
    if refusal:
        raise BrandRefused(saved.brand, saved.last4, refusal)
    return saved


def _await_retry(uow: UnitOfWork, claim_id: int, saved: SavedCard, at: datetime) -> None:
    """The provider may or may not have placed the hold: keep the attempt open with its key and card."""
    with uow:
        claim = uow.session.get(PaymentAuthorization, claim_id, with_for_update=True)
        order = uow.session.get(Order, claim.order_id, with_for_update=True)
        if claim.status == PaymentStatus.PENDING:
            claim.decline_code, claim.card_id, claim.updated_at = NO_ANSWER_CODE, saved.card_id, at
            claim.brand, claim.last4 = saved.brand, saved.last4
            order.payment_customer_id = saved.customer_id
            uow.session.add(order_events.payment_declined(order.id, at, NO_ANSWER_CODE, order_events.SYSTEM,
                                                          will_retry_with_key=claim.idempotency_key))
            uow.commit()


def complete_authentication(uow: UnitOfWork, reference: str, *, browser: str | None, at: datetime | None = None,
                            gw: StripeGateway | None = None) -> PaymentOutcome:
    """After 3-D Secure in the browser: ask the provider what became of the intent (never trust the page)."""
    at = at or _now()
    with uow.reading() as s:
        order = _order(s, reference, browser)
        if order is None:
            return NOT_FOUND
        pending = s.exec(select(PaymentAuthorization).where(
            PaymentAuthorization.order_id == order.id,
            PaymentAuthorization.status == PaymentStatus.REQUIRES_ACTION).order_by(PaymentAuthorization.id.desc())).first()
        if pending is None:
            return _outcome_of(order) if order.status != OrderStatus.PENDING_PAYMENT \
                else PaymentOutcome("declined", ErrorCode.ISSUER_DECLINED)
    gw = gw or gateway()
    try:
        auth = gw.retrieve(pending.intent_id)
    except PaymentGatewayError:
        return PaymentOutcome("error", ErrorCode.PAYMENT_SERVICE_DOWN)
    return _finish(uow, pending.id, auth, at, gw=gw)


def apply_intent_status(uow: UnitOfWork, intent_id: str, *, expired: bool = False, at: datetime | None = None,
                        gw: StripeGateway | None = None) -> None:
    """A provider event says an intent changed: ask the provider what it is now and follow that.

    The event body is never believed: it only says where to look. Each call moves our record only as far as
    the provider's present state allows, along the allowed transitions, so a replayed event, or an old one
    arriving late (a "held" after the cancellation), changes nothing. `expired` is the event's word that a
    hold the provider reports cancelled ended by lapsing, for a provider that does not say why (the sandbox).
    """
    at = at or _now()
    with uow.reading() as s:
        row = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.intent_id == intent_id)).first()
    if row is None:
        return
    gw = gw or gateway()
    auth = gw.retrieve(intent_id)  # PaymentGatewayError propagates: the event must be delivered again
    if row.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION) and auth.status not in (
            "pending", "requires_action"):
        # A capture implies the hold was placed first: record the hold, then what followed it.
        _finish(uow, row.id, replace(auth, status="held") if auth.status == "captured" else auth, at, gw=gw)
    with uow:
        r = uow.session.get(PaymentAuthorization, row.id, with_for_update=True)
        before = PaymentStatus(r.status)
        now = before
        if now == PaymentStatus.HELD and auth.status in ("canceled", "expired"):
            lapsed = expired or auth.status == "expired"
            now = transition(now, PaymentStatus.EXPIRED if lapsed else PaymentStatus.RELEASED)
            uow.session.add(order_events.payment_expired(r.order_id, at, intent_id) if lapsed
                            else order_events.payment_released(r.order_id, at, intent_id))
        if now == PaymentStatus.HELD and auth.status == "captured":
            whole = auth.captured_minor >= r.amount_minor
            now = transition(now, PaymentStatus.CAPTURED if whole else PaymentStatus.PARTIALLY_CAPTURED)
            r.captured_minor = auth.captured_minor
            uow.session.add(order_events.payment_captured(r.order_id, at, intent_id, auth.captured_minor, r.currency))
        if now in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_CAPTURED, PaymentStatus.REFUNDED) \
                and auth.refunded_minor > r.refunded_minor:
            now = transition(now, PaymentStatus.REFUNDED)
            uow.session.add(order_events.payment_refunded(r.order_id, at, intent_id,
                                                          auth.refunded_minor - r.refunded_minor, r.currency))
            r.refunded_minor = auth.refunded_minor
        if now != before:
            r.status, r.updated_at = now.value, at
            uow.commit()


def _finish(uow: UnitOfWork, claim_id: int, auth: Authorization | None, at: datetime, *,
            customer_id: str | None = None, card_id: str | None = None, brand: str = "", last4: str = "",
            refusal: tuple[ErrorCode, str] | None = None, message: str = "",
            gw: StripeGateway | None = None) -> PaymentOutcome:
    """Record what the provider answered, in one transaction with the order's new status and its email."""
    with uow:
        s = uow.session
        claim = s.get(PaymentAuthorization, claim_id, with_for_update=True)
        order = s.get(Order, claim.order_id, with_for_update=True)
        if claim.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            return _outcome_of(order) if claim.status == PaymentStatus.HELD \
                else PaymentOutcome("declined", ErrorCode.ISSUER_DECLINED)
        claim.updated_at = at
        claim.card_id = card_id or claim.card_id
        claim.brand, claim.last4 = brand or claim.brand, last4 or claim.last4
        if customer_id:
            order.payment_customer_id = customer_id
        if auth is not None and auth.intent_id:
            claim.intent_id = auth.intent_id
        if refusal or auth is None or auth.status not in ("held", "requires_action"):
            code, reason = refusal or (ErrorCode.ISSUER_DECLINED, (auth.decline_code if auth else None) or "card_declined")
            claim.status, claim.decline_code = PaymentStatus.DECLINED.value, reason[:80]
            s.add(order_events.payment_declined(order.id, at, reason, brand=claim.brand, last4=claim.last4))
            s.flush()
            attempts = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.order_id == order.id)).all()
            if _declined(attempts) >= abuse_limits.limits().attempts_per_order and \
                    cancellations.cancel_unpaid(s, order.id, at, "payment_attempts_exhausted"):
                uow.commit()
                return PaymentOutcome("cancelled", ErrorCode.PAYMENT_ATTEMPTS_EXHAUSTED)
            uow.commit()
            return PaymentOutcome("declined", code, params={"message": message})
        if auth.status == "requires_action":
            claim.status = PaymentStatus.REQUIRES_ACTION.value
            s.add(order_events.payment_requires_action(order.id, at, auth.intent_id))
            uow.commit()
            return PaymentOutcome("requires_action", client_secret=auth.client_secret or "")
        claim.status = transition(PaymentStatus(claim.status), PaymentStatus.HELD).value
        claim.capture_before = auth.capture_before or at + timedelta(days=policy().hold_lifetime_days)
        if order.status != OrderStatus.PENDING_PAYMENT:
            # The order stopped waiting for payment while the issuer answered (the payment window
            # closed and it was cancelled): record the hold, then release it; nothing stays held.
            s.add(order_events.payment_authorized(order.id, at, intent_id=auth.intent_id,
                                                  amount_minor=claim.amount_minor, currency=claim.currency,
                                                  order_status=order.status))
            uow.commit()
            _release_late_hold(uow, claim.id, auth.intent_id, gw or gateway(), at)
            return _outcome_of(order)
        possible_match = order.screening.get("verdict") == Verdict.POSSIBLE.value
        target = OrderStatus.COMPLIANCE_REVIEW if possible_match else OrderStatus.AWAITING_APPROVAL
        order.status = transition(OrderStatus(order.status), target).value
        order.updated_at = at
        s.add(order_events.payment_authorized(order.id, at, intent_id=auth.intent_id, amount_minor=claim.amount_minor,
                                              currency=claim.currency, capture_before=claim.capture_before.isoformat(),
                                              brand=claim.brand, last4=claim.last4))
        s.flush()
        record = issue_order_record(s, order, at)  # the order record PDF (GTC-3.8), issued once at placement
        if outbox.enqueue(s, f"order-confirmation:{order.id}", "order_confirmation", order.email,
                          render_order_confirmation(order_document(s, order)), order_id=order.id, at=at,
                          document_id=record.id):
            s.add(order_events.email_queued(order.id, at, "order_confirmation"))
        uow.commit()
        return PaymentOutcome("held")


def _release_late_hold(uow: UnitOfWork, claim_id: int, intent_id: str, gw: StripeGateway, at: datetime) -> None:
    try:
        gw.cancel(intent_id, idempotency_key=f"{intent_id}:release")
    except PaymentGatewayError:
        return  # stays recorded as held on the order for staff to release; it lapses by itself otherwise
    with uow:
        r = uow.session.get(PaymentAuthorization, claim_id, with_for_update=True)
        if r.status != PaymentStatus.HELD:
            return
        r.status, r.updated_at = transition(PaymentStatus(r.status), PaymentStatus.RELEASED).value, at
        uow.session.add(order_events.payment_released(r.order_id, at, intent_id, reason="order_not_payable"))
        uow.commit()


def expire_unpaid(uow: UnitOfWork, at: datetime | None = None) -> list[str]:
    """Cancel orders whose payment window closed without a hold; release their stock and tell the client."""
    at = at or _now()
    cancelled = []
    with uow.reading() as s:
        due = s.exec(select(Order.id, Order.reference).where(Order.status == OrderStatus.PENDING_PAYMENT,
                                                             Order.payment_deadline < at)).all()
    for order_id, reference in due:
        with uow:
            if cancellations.cancel_unpaid(uow.session, order_id, at, "payment_not_authorized"):
                uow.commit()
                cancelled.append(reference)
    return cancelled


def attempts_count(uow: UnitOfWork, reference: str) -> int:
    with uow.reading() as s:
        order = _order(s, reference)
        return s.exec(select(func.count()).select_from(PaymentAuthorization)
                      .where(PaymentAuthorization.order_id == order.id)).one() if order else 0
