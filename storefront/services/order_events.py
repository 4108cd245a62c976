"""The one place order history entries are built (in the manner of Saleor's `order/events.py`).

Each function names a fact and fixes what it records, so the timeline the client sees, the audit
the merchant reads and the jobs that react to events all agree on the shape of each entry. Entries
are only ever added, in the same transaction as the change they describe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storefront.adapters.tables import OrderEvent
from storefront.domain.order_status import OrderEvent as E

CLIENT = "client"
SYSTEM = "system"


def _event(order_id: int, event_type: E, at: datetime, actor: str = SYSTEM, /, **data: Any) -> OrderEvent:
    return OrderEvent(order_id=order_id, type=event_type.value, at=at, actor=actor, data=data)


def order_placed(order_id: int, at: datetime, *, total_minor: int, currency: str, channel: str,
                 entered_by: int | None = None) -> OrderEvent:
    """Placed by the client online, or entered by a member of staff (`entered_by`) for a client on the phone."""
    if entered_by is None:
        return _event(order_id, E.ORDER_PLACED, at, CLIENT, total_minor=total_minor, currency=currency,
                      channel=channel)
    return _event(order_id, E.ORDER_PLACED, at, f"staff:{entered_by}", total_minor=total_minor, currency=currency,
                  channel=channel, entered_by=entered_by)


def confirmed_by_client(order_id: int, at: datetime, *, channel: str) -> OrderEvent:
    """The client checked, accepted and confirmed an order staff entered for them: the contract is concluded."""
    return _event(order_id, E.CONFIRMED_BY_CLIENT, at, CLIENT, channel=channel)


def terms_accepted(order_id: int, at: datetime, *, version: str, version_id: int, content_hash: str) -> OrderEvent:
    """Which terms the client accepted. Where from (IP address, browser) is personal data: it stays on the order
    row, where an erasure reaches it, never in this append-only history (PAY-6, migration c7e3f4a5b6d7)."""
    return _event(order_id, E.TERMS_ACCEPTED, at, CLIENT, terms_version=version, terms_version_id=version_id,
                  content_hash=content_hash)


def terms_accepted_by_phone(order_id: int, at: datetime, *, version: str, version_id: int, content_hash: str,
                            staff_id: int) -> OrderEvent:
    """The client accepted the terms on the telephone, to the member of staff the actor names by id (PAY-2, MOTO);
    the name stands on the order row (`accepted_user_agent`), never in this append-only history; the terms were
    emailed to the client in the same transaction."""
    return _event(order_id, E.TERMS_ACCEPTED, at, f"staff:{staff_id}", terms_version=version,
                  terms_version_id=version_id, content_hash=content_hash, via="telephone")


def compliance_hold(order_id: int, at: datetime, screening: dict[str, Any]) -> OrderEvent:
    return _event(order_id, E.COMPLIANCE_HOLD, at, **screening)


def payment_requires_action(order_id: int, at: datetime, intent_id: str | None) -> OrderEvent:
    return _event(order_id, E.PAYMENT_REQUIRES_ACTION, at, intent_id=intent_id)


def payment_authorized(order_id: int, at: datetime, *, intent_id: str | None, amount_minor: int, currency: str,
                       **details: Any) -> OrderEvent:
    return _event(order_id, E.PAYMENT_AUTHORIZED, at, intent_id=intent_id, amount_minor=amount_minor,
                  currency=currency, **details)


def payment_declined(order_id: int, at: datetime, code: str, actor: str = CLIENT, **details: Any) -> OrderEvent:
    return _event(order_id, E.PAYMENT_DECLINED, at, actor, code=code, **details)


def payment_released(order_id: int, at: datetime, intent_id: str | None, **details: Any) -> OrderEvent:
    return _event(order_id, E.PAYMENT_RELEASED, at, intent_id=intent_id, **details)


def payment_expired(order_id: int, at: datetime, intent_id: str | None) -> OrderEvent:
    return _event(order_id, E.PAYMENT_EXPIRED, at, intent_id=intent_id)


def payment_captured(order_id: int, at: datetime, intent_id: str, amount_minor: int, currency: str) -> OrderEvent:
    return _event(order_id, E.PAYMENT_CAPTURED, at, intent_id=intent_id, amount_minor=amount_minor, currency=currency)


def payment_refunded(order_id: int, at: datetime, intent_id: str, amount_minor: int, currency: str) -> OrderEvent:
    return _event(order_id, E.PAYMENT_REFUNDED, at, intent_id=intent_id, amount_minor=amount_minor, currency=currency)


def cancelled(order_id: int, at: datetime, reason: str, actor: str = SYSTEM, *, detail: str | None = None) -> OrderEvent:
    """`detail`: a code refining the reason (why compliance declined)."""
    return _event(order_id, E.CANCELLED, at, actor, reason=reason, **({"detail": detail} if detail else {}))


def stock_released(order_id: int, at: datetime, quantities: dict[str, int]) -> OrderEvent:
    return OrderEvent(order_id=order_id, type=E.STOCK_RELEASED.value, at=at, actor=SYSTEM, data=dict(quantities))


def email_queued(order_id: int, at: datetime, kind: str) -> OrderEvent:
    return _event(order_id, E.EMAIL_QUEUED, at, kind=kind)


def approved(order_id: int, at: datetime, actor: str, *, held_minor: int) -> OrderEvent:
    return _event(order_id, E.APPROVED, at, actor, held_minor=held_minor)


def payment_release_failed(order_id: int, at: datetime, intent_id: str | None, error: str) -> OrderEvent:
    """The provider could not be told to release a hold; it lapses by itself at `capture_before`."""
    return _event(order_id, E.PAYMENT_RELEASE_FAILED, at, intent_id=intent_id, error=error[:200])


def item_unavailable(order_id: int, at: datetime, actor: str, *, record: int, line: str, quantity: int,
                     outcome: str, **details: Any) -> OrderEvent:
    """GTC-3.2: units found unavailable (outcome awaiting_choice), then what became of them."""
    return _event(order_id, E.ITEM_UNAVAILABLE, at, actor, record=record, line=line, quantity=quantity,
                  outcome=outcome, **details)


def delivery_date_changed(order_id: int, at: datetime, actor: str, *, record: int, ship_by_before: str,
                          ship_by: str) -> OrderEvent:
    return _event(order_id, E.DELIVERY_DATE_CHANGED, at, actor, record=record, ship_by_before=ship_by_before,
                  ship_by=ship_by)


def handed_to_carrier(order_id: int, at: datetime, actor: str, *, shipment: int, handed_over_at: datetime,
                      carrier: str, tracking_number: str, lines: dict[str, int]) -> OrderEvent:
    """GTC-5.5: the risk passes to the client at `handed_over_at`, the time entered, not the time recorded."""
    return _event(order_id, E.HANDED_TO_CARRIER, at, actor, shipment=shipment,
                  handed_over_at=handed_over_at.isoformat(), carrier=carrier, tracking_number=tracking_number,
                  lines=dict(lines))


def shipped(order_id: int, at: datetime, actor: str, *, shipment: int, partially: bool) -> OrderEvent:
    return _event(order_id, E.PARTIALLY_SHIPPED if partially else E.SHIPPED, at, actor, shipment=shipment)


def payment_reauthorized(order_id: int, at: datetime, *, intent_id: str | None, amount_minor: int, currency: str,
                         reason: str) -> OrderEvent:
    return _event(order_id, E.PAYMENT_REAUTHORIZED, at, intent_id=intent_id, amount_minor=amount_minor,
                  currency=currency, reason=reason)


def payment_reauthorization_failed(order_id: int, at: datetime, *, amount_minor: int, currency: str, code: str,
                                   intent_id: str | None = None, reason: str = "") -> OrderEvent:
    """A new hold could not be placed without the client: the order is listed in the failed-renewal queue."""
    return _event(order_id, E.PAYMENT_REAUTHORIZATION_FAILED, at, intent_id=intent_id, amount_minor=amount_minor,
                  currency=currency, code=code, reason=reason)


def compliance_cleared(order_id: int, at: datetime, actor: str, *, reason: str) -> OrderEvent:
    return _event(order_id, E.COMPLIANCE_CLEARED, at, actor, reason=reason)


def delay_notice_sent(order_id: int, at: datetime, *, delay: int, ship_by: str) -> OrderEvent:
    """GTC-5.4: the order is 20 business days past the date shown; the client is told once."""
    return _event(order_id, E.DELAY_NOTICE_SENT, at, SYSTEM, delay=delay, ship_by=ship_by)


def cancellation_offered(order_id: int, at: datetime, actor: str, *, delay: int, stage: str,
                         **details: Any) -> OrderEvent:
    """GTC-5.4, a delay beyond 51 days: `stage` new_date_or_cancel (offered), cancel (the client declined the
    date: the cancellation is offered), confirmed (the client confirmed the cancellation)."""
    return _event(order_id, E.CANCELLATION_OFFERED, at, actor, delay=delay, stage=stage, **details)
