"""Renewing card holds before they lapse (PAY-5): the card stays held for what is still to be charged.

A hold lives a few days (rules/payments.toml `[hold_windows]`; a renewal is merchant-initiated, so it
gets the network's shorter window). An open order can wait longer than that for approval or shipment,
so a hold whose `capture_before` falls within `[holds] renew_before_hours` is replaced by a new one
placed off-session on the saved card, for the hold's amount less what was captured from it.

Order of effects, per old hold (its payment intent `old`)
    1. Claim the attempt: a PaymentAuthorization row with the unique key `<old>:renew` (status pending).
       A second worker, or a second run of the job, finds the row and does nothing; a claim whose
       provider did not answer is taken again and asked again under the same key, which the provider
       answers with the first result. The same key is the provider's idempotency key.
    2. The new hold at the provider, outside any transaction.
    3. Held: the row becomes the new hold (capture_before from the provider) with a `payment_reauthorized`
       event; only then is the old hold released (`<old>:release`), so the order is never without one.
    4. Refused for lack of funds or a limit (`[holds] retry_after_release`): the old hold may be what
       uses up the headroom, so it is released first and the new hold tried once more (`<old>:renew:retry`).
    5. Refused otherwise, refused again, or the bank wants the client (3-D Secure): in one transaction,
       the attempt is recorded, a `payment_reauthorization_failed` event lists the order in the admin's
       "Failed hold renewals" queue, and the client is emailed a link to authorise the card again.
       The order is kept; nothing is charged until shipment.

A hold the provider reports lapsed (webhook `charge.expired`, or `payment_intent.canceled` with reason
automatic) is renewed at once the same way (`after_intent_change`); the job also picks up any lapsed hold
of an open order not yet renewed. Approval and shipment only ever count live holds
(`order_admin.live_holds`: held, and before their `capture_before`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_notice
from storefront.adapters.stripe_gateway import Authorization, CardDeclined, PaymentGatewayError, StripeGateway
from storefront.adapters.tables import Order, PaymentAuthorization
from storefront.domain.money import Money
from storefront.domain.order_status import HOLD_NEEDED, PaymentStatus
from storefront.domain.policy import policy
from storefront.rules import load
from storefront.services import holds, links, order_events, outbox
from storefront.services.documents import order_document
from storefront.services.order_admin import live_holds
from storefront.services.payment import gateway
from storefront.services.unit_of_work import UnitOfWork

STALE_CLAIM = timedelta(minutes=2)
NO_ANSWER = "no_answer"
REASON = "hold_renewal"
EMAIL_KIND = "payment_reauthorization_needed"


@dataclass(frozen=True)
class Rules:
    renew_before: timedelta
    retry_after_release: frozenset[str]


@lru_cache
def rules() -> Rules:
    holds = load("payments")["holds"]
    return Rules(timedelta(hours=float(holds["renew_before_hours"])), frozenset(holds["retry_after_release"]))


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def renew_key(old_intent: str) -> str:
    return f"{old_intent}:renew"


def retry_key(old_intent: str) -> str:
    return f"{old_intent}:renew:retry"


@dataclass(frozen=True)
class _Old:
    """The hold being replaced, as read."""

    authorization_id: int
    intent_id: str
    order_id: int
    reference: str
    customer_id: str | None
    card_id: str | None
    brand: str
    last4: str
    amount_minor: int  # still to be charged from it: its amount less what was captured
    currency: str


def _old(s: Session, hold: PaymentAuthorization, order: Order, at: datetime) -> _Old:
    """The hold as read, renewed for what is still to be charged (units cancelled since are left out), or
    for nothing when another live hold covers that already (the client authorised the card again)."""
    needed = holds.still_to_hold(s, order)
    covered = any(h.id != hold.id and h.amount_minor - h.captured_minor >= needed
                  for h in live_holds(s, order.id, at))
    amount = 0 if covered else min(hold.amount_minor - hold.captured_minor, needed)
    return _Old(hold.id, hold.intent_id, order.id, order.reference, order.payment_customer_id, hold.card_id,
                hold.brand, hold.last4, amount, hold.currency)


def _attempts(s: Session, intent_id: str) -> dict[str, PaymentAuthorization]:
    keys = (renew_key(intent_id), retry_key(intent_id))
    rows = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.idempotency_key.in_(keys))).all()
    return {r.idempotency_key: r for r in rows}


def _open_claim(row: PaymentAuthorization | None, at: datetime) -> bool:
    """A claim that may be (re)tried: none yet, or one whose provider did not answer, or abandoned."""
    if row is None:
        return True
    return row.status == PaymentStatus.PENDING and (row.decline_code == NO_ANSWER
                                                   or at - _aware(row.updated_at) >= STALE_CLAIM)


def _stage(s: Session, old: _Old, at: datetime) -> str | None:
    """What is left to do for this old hold: "renew", "retry", or None (done, or another worker on it)."""
    rows = _attempts(s, old.intent_id)
    first, second = rows.get(renew_key(old.intent_id)), rows.get(retry_key(old.intent_id))
    if _open_claim(first, at):
        return "renew"
    if first.status == PaymentStatus.DECLINED and first.decline_code in rules().retry_after_release \
            and _open_claim(second, at):
        return "retry"
    return None


def _claim(uow: UnitOfWork, old: _Old, key: str, at: datetime) -> bool:
    """Reserve the attempt under `key`; False when another worker holds it or it is finished."""
    with uow:
        s = uow.session
        row = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.idempotency_key == key)).first()
        if row is None:
            s.add(PaymentAuthorization(order_id=old.order_id, idempotency_key=key, status=PaymentStatus.PENDING.value,
                                       amount_minor=old.amount_minor, currency=old.currency, card_id=old.card_id,
                                       brand=old.brand, last4=old.last4, created_at=at, updated_at=at))
            try:
                uow.commit()
            except IntegrityError:
                return False
            return True
        if not _open_claim(row, at):
            return False
        taken = s.exec(update(PaymentAuthorization).where(PaymentAuthorization.id == row.id,
                                                          PaymentAuthorization.status == PaymentStatus.PENDING,
                                                          PaymentAuthorization.updated_at == row.updated_at)
                       .values(decline_code=None, updated_at=at)).rowcount
        uow.commit()
        return taken == 1


@dataclass(frozen=True)
class _Answer:
    auth: Authorization | None
    code: str  # "held", a decline code, "authentication_required", or NO_ANSWER


def _ask(gw: StripeGateway, old: _Old, key: str, purpose: str = "hold renewal") -> _Answer:
    if not old.customer_id or not old.card_id:
        return _Answer(None, "no_saved_card")
    try:
        auth = gw.authorize_off_session(customer_id=old.customer_id, payment_method_id=old.card_id,
                                        amount_minor=old.amount_minor, currency=old.currency, idempotency_key=key,
                                        metadata={"order": old.reference, "purpose": purpose,
                                                  "replaces": old.intent_id})
    except CardDeclined as exc:
        return _Answer(None, exc.decline_code or "card_declined")
    except PaymentGatewayError:
        return _Answer(None, NO_ANSWER)
    return _Answer(auth, "held" if auth.status == "held" else (auth.decline_code or auth.status))


def _record(uow: UnitOfWork, old: _Old, key: str, answer: _Answer, at: datetime, *, last: bool,
            reason: str = REASON) -> None:
    """Write the attempt's outcome; when it is the last attempt and failed, list the order and email the client."""
    with uow:
        s = uow.session
        row = s.exec(select(PaymentAuthorization).where(PaymentAuthorization.idempotency_key == key)).one()
        if row.status != PaymentStatus.PENDING:
            return
        row.updated_at = at
        if answer.code == NO_ANSWER:  # the hold may exist at the provider: the next run asks with the same key
            row.decline_code = NO_ANSWER
            uow.commit()
            return
        auth = answer.auth
        if auth is not None and auth.intent_id:
            row.intent_id = auth.intent_id
        if answer.code == "held":
            row.status, row.decline_code = PaymentStatus.HELD.value, None
            row.capture_before = auth.capture_before or at + timedelta(days=policy().hold_lifetime_days)
            s.add(order_events.payment_reauthorized(old.order_id, at, intent_id=auth.intent_id,
                                                    amount_minor=old.amount_minor, currency=old.currency,
                                                    reason=reason))
            uow.commit()
            return
        row.status = (PaymentStatus.REQUIRES_ACTION if auth is not None and auth.status == "requires_action"
                      else PaymentStatus.DECLINED).value
        row.decline_code = answer.code[:80]
        if last:
            order = s.get(Order, old.order_id)
            s.add(order_events.payment_reauthorization_failed(old.order_id, at, amount_minor=old.amount_minor,
                                                              currency=old.currency, code=answer.code[:80],
                                                              intent_id=old.intent_id, reason=REASON))
            _notify(s, order, old, at)
        uow.commit()


def _notify(s: Session, order: Order, old: _Old, at: datetime) -> None:
    amount = Money(old.amount_minor, old.currency).format(order.locale)
    paragraphs = (
        f"Your card is authorised, not charged, for your order until it ships. The authorisation lapses after a few "
        f"days, so we asked your bank to renew it for {amount}; your bank did not accept the renewal.",
        "Your order is kept and nothing has been charged. Your card is charged only when your watches ship, and only "
        "for what ships.",
        f"Please authorise your card again here: {links.reauthorize_url(order.reference, at)}",
        "This link works until your order ships or is cancelled. If you prefer, reply to this email and our client "
        "service will help you.",
    )
    email = render_order_notice(order_document(s, order), f"Your order {order.reference}: please authorise your "
                                                          f"card again", paragraphs)
    if outbox.enqueue(s, f"reauthorize:{old.intent_id}", EMAIL_KIND, order.email, email, order_id=order.id, at=at):
        s.add(order_events.email_queued(order.id, at, EMAIL_KIND))


def _still_held(uow: UnitOfWork, old: _Old) -> bool:
    with uow.reading() as s:
        return s.get(PaymentAuthorization, old.authorization_id).status == PaymentStatus.HELD


def _renew(uow: UnitOfWork, old: _Old, at: datetime, gw: StripeGateway) -> bool:
    """Steps 1 to 5 of the module docstring for one old hold; True when something was done."""
    with uow.reading() as s:
        stage = _stage(s, old, at)
    acted = False
    if stage == "renew":
        if not _claim(uow, old, renew_key(old.intent_id), at):
            return False
        answer = _ask(gw, old, renew_key(old.intent_id))
        retry = answer.auth is None and answer.code in rules().retry_after_release
        _record(uow, old, renew_key(old.intent_id), answer, at, last=not retry)
        if answer.code == "held":
            if _still_held(uow, old):
                holds.release(uow, old.order_id, old.authorization_id, old.intent_id, at, gw, reason="renewed")
            return True
        if not retry:
            return answer.code != NO_ANSWER
        acted, stage = True, "retry"
    if stage != "retry":
        return acted
    if _still_held(uow, old):  # the old hold may be what exhausts the card's funds or limit
        holds.release(uow, old.order_id, old.authorization_id, old.intent_id, at, gw, reason="renewal_retry")
    if not _claim(uow, old, retry_key(old.intent_id), at):
        return acted
    answer = _ask(gw, old, retry_key(old.intent_id))
    _record(uow, old, retry_key(old.intent_id), answer, at, last=True)
    return acted or answer.code != NO_ANSWER


def _due(s: Session, at: datetime) -> list[tuple[PaymentAuthorization, Order]]:
    """Holds of open orders to replace: held and lapsing within the renewal window, or already lapsed."""
    lapsing = (PaymentAuthorization.status == PaymentStatus.HELD) & PaymentAuthorization.capture_before.is_not(None) \
        & (PaymentAuthorization.capture_before <= at + rules().renew_before)
    expired = PaymentAuthorization.status == PaymentStatus.EXPIRED
    rows = s.exec(select(PaymentAuthorization, Order).join(Order, Order.id == PaymentAuthorization.order_id)
                  .where(Order.status.in_([o.value for o in HOLD_NEEDED]), PaymentAuthorization.intent_id.is_not(None),
                         lapsing | expired)
                  .order_by(PaymentAuthorization.capture_before, PaymentAuthorization.id)).all()
    return [(hold, order) for hold, order in rows if hold.amount_minor - hold.captured_minor > 0]


def renew_due(uow: UnitOfWork, *, at: datetime | None = None, gw: StripeGateway | None = None) -> list[str]:
    """The job: renew every hold of an open order that lapses within the renewal window (or has lapsed).

    Returns the references of the orders acted on (renewed, or listed as failed with the client emailed).
    """
    at = _now(at)
    with uow.reading() as s:
        due = [_old(s, hold, order, at) for hold, order in _due(s, at)]
        due = [old for old in due if old.amount_minor > 0 and _stage(s, old, at) is not None]
    if not due:
        return []
    gw = gw or gateway()
    acted: list[str] = []
    for old in due:
        if _renew(uow, old, at, gw) and old.reference not in acted:
            acted.append(old.reference)
    return acted


def after_intent_change(uow: UnitOfWork, intent_id: str, *, at: datetime | None = None,
                        gw: StripeGateway | None = None) -> bool:
    """After a provider event: a hold of an open order that lapsed is renewed at once (True if acted on)."""
    at = _now(at)
    with uow.reading() as s:
        row = s.exec(select(PaymentAuthorization, Order).join(Order, Order.id == PaymentAuthorization.order_id)
                     .where(PaymentAuthorization.intent_id == intent_id)).first()
        if row is None:
            return False
        hold, order = row
        if hold.status != PaymentStatus.EXPIRED or order.status not in HOLD_NEEDED \
                or hold.amount_minor - hold.captured_minor <= 0:
            return False
        old = _old(s, hold, order, at)
        if old.amount_minor <= 0 or _stage(s, old, at) is None:
            return False
    return _renew(uow, old, at, gw or gateway())


SMALLER = "units_cancelled"


def smaller_key(old_intent: str) -> str:
    return f"{old_intent}:smaller"


def replace_with_smaller(uow: UnitOfWork, order_id: int, *, at: datetime | None = None,
                         gw: StripeGateway | None = None) -> bool:
    """After units were cancelled (GTC-3.2), a live hold larger than what is still to be charged is replaced
    by a hold for that amount, then released: a hold cannot be partly released, and the client should not
    keep a piece that will never ship blocked on the card. True when the smaller hold replaced the old one.

    The new hold comes first, as for a renewal. If the bank refuses it, or does not answer, the old hold
    stays: it still covers everything left, the later captures take only what ships, and the rest is
    released at the last one (a hold the silent provider did place lapses unused).
    """
    at = _now(at)
    with uow.reading() as s:
        order = s.get(Order, order_id)
        if order is None or order.status not in HOLD_NEEDED:
            return False
        needed = holds.still_to_hold(s, order)
        live = [h for h in live_holds(s, order.id, at) if h.intent_id]
        if needed <= 0 or not live or any(h.amount_minor - h.captured_minor == needed for h in live):
            return False
        hold = max(live, key=lambda h: h.amount_minor - h.captured_minor)
        if hold.amount_minor - hold.captured_minor < needed:
            return False  # too small already: the renewal and the client's new authorisation deal with that
        old = _Old(hold.id, hold.intent_id, order.id, order.reference, order.payment_customer_id, hold.card_id,
                   hold.brand, hold.last4, needed, hold.currency)
    gw = gw or gateway()
    key = smaller_key(old.intent_id)
    if not _claim(uow, old, key, at):
        return False
    answer = _ask(gw, old, key, purpose="smaller hold after cancelled units")
    _record(uow, old, key, answer, at, last=False, reason=SMALLER)
    if answer.code != "held":
        return False
    holds.release(uow, old.order_id, old.authorization_id, old.intent_id, at, gw, reason=SMALLER)
    return True
