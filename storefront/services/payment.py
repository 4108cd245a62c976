"""Card authorization holds (PAY-3, PAY-4, PAY-5, GTC-3.5) with exactly-once effects.

Each attempt is claimed first in our own database (a row with a unique idempotency key derived from
the order), so a double click, a reconnect or a resent event finds the claim and does not hold the
card twice; the gateway is called outside any transaction; the outcome, the order's new status, its
events and the confirmation email are then written in one transaction. The sandbox ignores Stripe
idempotency keys, so our records are what enforce this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.email_render import render_order_confirmation, render_order_notice
from storefront.adapters.localstripe_server import SANDBOX_PUBLISHABLE_KEY, stripe_js_url
from storefront.adapters.stripe_gateway import (
    Authorization,
    CardDeclined,
    PaymentGatewayError,
    SavedCard,
    StripeGateway,
)
from storefront.adapters.tables import Order, OrderEvent, OrderLine, PaymentAuthorization, Product
from storefront.domain.cards import brand_refusal
from storefront.domain.money import Money
from storefront.domain.order_status import OrderEvent as E
from storefront.domain.order_status import OrderStatus, PaymentStatus, transition
from storefront.domain.policy import policy
from storefront.domain.screening import Verdict
from storefront.services import outbox
from storefront.services.documents import order_document
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

ISSUER_REFUSED = ("Your card issuer declined the payment. Please contact your card issuer, "
                  "or try again with another card.")
SERVICE_DOWN = "The payment service could not be reached. Nothing was charged; please try again in a moment."
STALE_CLAIM = timedelta(minutes=2)
NO_ANSWER_CODE = "no_answer"


@dataclass(frozen=True)
class PaymentOutcome:
    status: str  # held | requires_action | declined | in_progress | cancelled | error | not_payable
    message: str = ""
    client_secret: str = ""


def gateway() -> StripeGateway:
    return StripeGateway.from_settings(get_settings())


def browser_config() -> tuple[str, str]:
    """Where the page loads Stripe.js from and its publishable key (the local sandbox without keys)."""
    s = get_settings()
    return stripe_js_url(s), s.stripe_publishable_key or SANDBOX_PUBLISHABLE_KEY


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment


def _order(session: Session, reference: str) -> Order | None:
    return session.exec(select(Order).where(Order.reference == reference)).first()


def _outcome_of(order: Order) -> PaymentOutcome:
    if order.status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.COMPLIANCE_REVIEW, OrderStatus.APPROVED,
                        OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED):
        return PaymentOutcome("held")
    if order.status == OrderStatus.CANCELLED:
        return PaymentOutcome("cancelled", "This order was cancelled because no payment was authorised in time.")
    return PaymentOutcome("not_payable")


@dataclass(frozen=True)
class _Claim:
    refused: PaymentOutcome | None = None
    claim_id: int | None = None
    abandoned: tuple[str, ...] = ()  # intents of abandoned 3-D Secure attempts, to cancel at the provider
    retry: bool = False  # the provider did not answer last time: ask again with the same key and card


IN_PROGRESS = PaymentOutcome("in_progress", "Your payment is being processed.")
NO_ANSWER = ("The payment service did not answer in time. Please press the button again to retry: "
             "your card will not be held twice.")


def _claim(reference: str, at: datetime) -> _Claim:
    """Reserve the next attempt for this order, or say why no attempt may start."""
    with UnitOfWork() as uow:
        s = uow.session
        order = _order(s, reference)
        if order is None:
            return _Claim(PaymentOutcome("not_payable", "Order not found."))
        if order.status != OrderStatus.PENDING_PAYMENT:
            return _Claim(_outcome_of(order))
        if _aware(order.payment_deadline) and at > _aware(order.payment_deadline):
            uow.session.close()
            expire_unpaid(at)
            return _Claim(PaymentOutcome("cancelled", "The time to pay for this order has run out, so it was cancelled "
                                                      "and the watches released. You have been informed by email."))
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


def authorize(reference: str, token: str, at: datetime | None = None, gw: StripeGateway | None = None) -> PaymentOutcome:
    """Hold the order total on the card behind a Stripe.js token (card data never reaches us)."""
    at = at or _now()
    if not isinstance(token, str) or not token.startswith("tok_") or len(token) > 100:
        return PaymentOutcome("declined", "Your card details could not be read. Please check them and try again.")
    claimed = _claim(reference, at)
    if claimed.refused:
        return claimed.refused
    claim_id = claimed.claim_id
    gw = gw or gateway()
    for intent_id in claimed.abandoned:
        try:
            gw.cancel(intent_id)
        except PaymentGatewayError:
            pass  # an unconfirmed intent lapses by itself; the new attempt must not wait for this
    with Session(get_engine()) as s:
        claim = s.get(PaymentAuthorization, claim_id)
        order = s.get(Order, claim.order_id)
    try:
        if claimed.retry:
            saved = SavedCard(order.payment_customer_id, claim.card_id, claim.brand, claim.last4, 0, 0)
        else:
            card = gw.card_of_token(token)
            refusal = brand_refusal(card.brand)
            if refusal:
                return _finish(claim_id, None, at, brand=card.brand, last4=card.last4,
                               refusal=(refusal, "brand_not_accepted"))
            saved = gw.save_card(token, order.email, order.full_name, idempotency_key=f"{claim.idempotency_key}:card")
            refusal = brand_refusal(saved.brand)  # checked again on what the provider stored
            if refusal:
                return _finish(claim_id, None, at, brand=saved.brand, last4=saved.last4,
                               refusal=(refusal, "brand_not_accepted"))
    except CardDeclined as exc:
        return _finish(claim_id, None, at, refusal=(ISSUER_REFUSED, exc.decline_code or "card_declined"))
    except PaymentGatewayError:
        _finish(claim_id, None, at, refusal=(SERVICE_DOWN, "gateway_error"))  # nothing can be held yet
        return PaymentOutcome("error", SERVICE_DOWN)
    try:
        auth = gw.authorize(Money(order.total_minor, order.currency), saved.customer_id, saved.card_id,
                            idempotency_key=claim.idempotency_key, description=f"Order {order.reference}",
                            metadata={"order": order.reference})
    except CardDeclined as exc:
        return _finish(claim_id, None, at, refusal=(ISSUER_REFUSED, exc.decline_code or "card_declined"))
    except PaymentGatewayError:
        _await_retry(claim_id, saved, at)
        return PaymentOutcome("error", NO_ANSWER)
    return _finish(claim_id, auth, at, customer_id=saved.customer_id, card_id=saved.card_id,
                   brand=saved.brand, last4=saved.last4, gw=gw)


def _await_retry(claim_id: int, saved: SavedCard, at: datetime) -> None:
    """The provider may or may not have placed the hold: keep the attempt open with its key and card."""
    with UnitOfWork() as uow:
        claim = uow.session.get(PaymentAuthorization, claim_id, with_for_update=True)
        order = uow.session.get(Order, claim.order_id, with_for_update=True)
        if claim.status == PaymentStatus.PENDING:
            claim.decline_code, claim.card_id, claim.updated_at = NO_ANSWER_CODE, saved.card_id, at
            claim.brand, claim.last4 = saved.brand, saved.last4
            order.payment_customer_id = saved.customer_id
            uow.session.add(OrderEvent(order_id=order.id, at=at, type=E.PAYMENT_DECLINED.value,
                                       data={"code": NO_ANSWER_CODE, "will_retry_with_key": claim.idempotency_key}))
            uow.commit()


def complete_authentication(reference: str, at: datetime | None = None, gw: StripeGateway | None = None) -> PaymentOutcome:
    """After 3-D Secure in the browser: ask the provider what became of the intent (never trust the page)."""
    at = at or _now()
    with Session(get_engine()) as s:
        order = _order(s, reference)
        if order is None:
            return PaymentOutcome("not_payable", "Order not found.")
        pending = s.exec(select(PaymentAuthorization).where(
            PaymentAuthorization.order_id == order.id,
            PaymentAuthorization.status == PaymentStatus.REQUIRES_ACTION).order_by(PaymentAuthorization.id.desc())).first()
        if pending is None:
            return _outcome_of(order) if order.status != OrderStatus.PENDING_PAYMENT else PaymentOutcome("declined", ISSUER_REFUSED)
    gw = gw or gateway()
    try:
        auth = gw.retrieve(pending.intent_id)
    except PaymentGatewayError:
        return PaymentOutcome("error", SERVICE_DOWN)
    return _finish(pending.id, auth, at, gw=gw)


def apply_intent_status(intent_id: str, status: str, at: datetime | None = None) -> None:
    """A provider event about an intent (webhook): move our record if it is still waiting."""
    at = at or _now()
    with Session(get_engine()) as s:
        row = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.intent_id == intent_id)).first()
    if row is None:
        return
    if status in ("held", "declined") and row.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        auth = gateway().retrieve(intent_id)  # PaymentGatewayError propagates: the event must be delivered again
        _finish(row.id, auth, at)
    elif status in ("released", "expired") and row.status == PaymentStatus.HELD:
        with UnitOfWork() as uow:
            r = uow.session.get(PaymentAuthorization, row.id, with_for_update=True)
            if r.status != PaymentStatus.HELD:
                return
            r.status, r.updated_at = transition(PaymentStatus(r.status), PaymentStatus(status)).value, at
            uow.session.add(OrderEvent(order_id=r.order_id, at=at, type=(E.PAYMENT_EXPIRED if status == "expired"
                                                                         else E.PAYMENT_RELEASED).value,
                                       data={"intent_id": intent_id}))
            uow.commit()


def _finish(claim_id: int, auth: Authorization | None, at: datetime, *, customer_id: str | None = None,
            card_id: str | None = None, brand: str = "", last4: str = "",
            refusal: tuple[str, str] | None = None, gw: StripeGateway | None = None) -> PaymentOutcome:
    with UnitOfWork() as uow:
        s = uow.session
        claim = s.get(PaymentAuthorization, claim_id, with_for_update=True)
        order = s.get(Order, claim.order_id, with_for_update=True)
        if claim.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            return _outcome_of(order) if claim.status == PaymentStatus.HELD else PaymentOutcome("declined", ISSUER_REFUSED)
        claim.updated_at = at
        claim.card_id = card_id or claim.card_id
        claim.brand, claim.last4 = brand or claim.brand, last4 or claim.last4
        if customer_id:
            order.payment_customer_id = customer_id
        if auth is not None and auth.intent_id:
            claim.intent_id = auth.intent_id
        if refusal or auth is None or auth.status not in ("held", "requires_action"):
            message, code = refusal or (ISSUER_REFUSED, (auth.decline_code if auth else None) or "card_declined")
            claim.status, claim.decline_code = PaymentStatus.DECLINED.value, code[:80]
            s.add(OrderEvent(order_id=order.id, at=at, type=E.PAYMENT_DECLINED.value, actor="client",
                             data={"code": code, "brand": claim.brand, "last4": claim.last4}))
            uow.commit()
            return PaymentOutcome("declined", message)
        if auth.status == "requires_action":
            claim.status = PaymentStatus.REQUIRES_ACTION.value
            s.add(OrderEvent(order_id=order.id, at=at, type=E.PAYMENT_REQUIRES_ACTION.value,
                             data={"intent_id": auth.intent_id}))
            uow.commit()
            return PaymentOutcome("requires_action", "Your card issuer asks you to confirm this payment.",
                                  auth.client_secret or "")
        claim.status = transition(PaymentStatus(claim.status), PaymentStatus.HELD).value
        claim.capture_before = auth.capture_before or at + timedelta(days=policy().hold_lifetime_days)
        if order.status != OrderStatus.PENDING_PAYMENT:
            # The order stopped waiting for payment while the issuer answered (the payment window
            # closed and it was cancelled): record the hold, then release it; nothing stays held.
            s.add(OrderEvent(order_id=order.id, at=at, type=E.PAYMENT_AUTHORIZED.value,
                             data={"intent_id": auth.intent_id, "amount_minor": claim.amount_minor,
                                   "currency": claim.currency, "order_status": order.status}))
            uow.commit()
            _release_late_hold(claim.id, auth.intent_id, gw or gateway(), at)
            return _outcome_of(order)
        possible_match = order.screening.get("verdict") == Verdict.POSSIBLE.value
        target = OrderStatus.COMPLIANCE_REVIEW if possible_match else OrderStatus.AWAITING_APPROVAL
        order.status = transition(OrderStatus(order.status), target).value
        order.updated_at = at
        s.add(OrderEvent(order_id=order.id, at=at, type=E.PAYMENT_AUTHORIZED.value,
                         data={"intent_id": auth.intent_id, "amount_minor": claim.amount_minor,
                               "currency": claim.currency, "capture_before": claim.capture_before.isoformat(),
                               "brand": claim.brand, "last4": claim.last4}))
        s.flush()
        if outbox.enqueue(s, f"order-confirmation:{order.id}", "order_confirmation", order.email,
                          render_order_confirmation(order_document(s, order)), order_id=order.id, at=at):
            s.add(OrderEvent(order_id=order.id, at=at, type=E.EMAIL_QUEUED.value, data={"kind": "order_confirmation"}))
        uow.commit()
        return PaymentOutcome("held")


def _release_late_hold(claim_id: int, intent_id: str, gw: StripeGateway, at: datetime) -> None:
    try:
        gw.cancel(intent_id, idempotency_key=f"{intent_id}:release")
    except PaymentGatewayError:
        return  # stays recorded as held on the order for staff to release; it lapses by itself otherwise
    with UnitOfWork() as uow:
        r = uow.session.get(PaymentAuthorization, claim_id, with_for_update=True)
        if r.status != PaymentStatus.HELD:
            return
        r.status, r.updated_at = transition(PaymentStatus(r.status), PaymentStatus.RELEASED).value, at
        uow.session.add(OrderEvent(order_id=r.order_id, at=at, type=E.PAYMENT_RELEASED.value,
                                   data={"intent_id": intent_id, "reason": "order_not_payable"}))
        uow.commit()


def expire_unpaid(at: datetime | None = None) -> list[str]:
    """Cancel orders whose payment window closed without a hold; release their stock and tell the client."""
    at = at or _now()
    cancelled = []
    with Session(get_engine()) as s:
        due = s.exec(select(Order.id).where(Order.status == OrderStatus.PENDING_PAYMENT, Order.payment_deadline < at)).all()
    for order_id in due:
        with UnitOfWork() as uow:
            s = uow.session
            moved = s.exec(update(Order).where(Order.id == order_id, Order.status == OrderStatus.PENDING_PAYMENT)
                           .values(status=OrderStatus.CANCELLED.value, updated_at=at)).rowcount
            if moved != 1:
                continue
            order = s.get(Order, order_id)
            s.refresh(order)
            lines = s.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
            for line in lines:
                s.exec(update(Product).where(Product.id == line.product_id)
                       .values(stock=Product.stock + line.quantity - line.quantity_shipped))
            s.add(OrderEvent(order_id=order_id, at=at, type=E.CANCELLED.value,
                             data={"reason": "payment_not_authorized"}))
            s.add(OrderEvent(order_id=order_id, at=at, type=E.STOCK_RELEASED.value,
                             data={l.reference: l.quantity for l in lines}))
            notice = render_order_notice(order_document(s, order), f"Your order {order.reference} has been cancelled", (
                "We could not obtain an authorisation on your card for this order within the time allowed, "
                "so the order has been cancelled and the watches released. Nothing has been charged.",
                "If you would still like these pieces, you are welcome to order again or to contact us.",
            ))
            outbox.enqueue(s, f"order-cancelled:{order_id}", "order_cancelled", order.email, notice, order_id=order_id, at=at)
            uow.commit()
            cancelled.append(order.reference)
    return cancelled


def attempts_count(reference: str) -> int:
    with Session(get_engine()) as s:
        order = _order(s, reference)
        return s.exec(select(func.count()).select_from(PaymentAuthorization)
                      .where(PaymentAuthorization.order_id == order.id)).one() if order else 0
