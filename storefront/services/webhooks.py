"""Stripe webhook events, each applied once: the event id is stored when it has been applied.

An event is a signal to look, never a statement to believe: the payment service asks the provider what
became of the intent and follows that, so a replayed, reordered or stale event leaves the order in the
state the provider reports.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storefront.adapters.tables import WebhookEvent
from storefront.services.hold_renewal import after_intent_change
from storefront.services.payment import apply_intent_status
from storefront.services.unit_of_work import UnitOfWork

# The events that may mean a hold changed, and the field of their object that names the payment intent.
# Any other type is acknowledged and ignored.
INTENT_FIELD = {
    "payment_intent.amount_capturable_updated": "id",  # held
    "payment_intent.payment_failed": "id",  # declined
    "payment_intent.canceled": "id",  # released
    "payment_intent.succeeded": "id",  # captured
    "charge.expired": "payment_intent",  # the hold lapsed
    "charge.captured": "payment_intent",
    "charge.refunded": "payment_intent",
}
LAPSED = "charge.expired"


def _seen(uow: UnitOfWork, event_id: str) -> bool:
    with uow.reading() as session:
        return session.get(WebhookEvent, event_id[:120]) is not None


def _record(uow: UnitOfWork, event_id: str, event_type: str) -> bool:
    """True the first time an event id is stored."""
    try:
        with uow:
            if uow.session.get(WebhookEvent, event_id[:120]) is not None:
                return False
            uow.session.add(WebhookEvent(id=event_id[:120], type=event_type[:80]))
            uow.commit()
            return True
    except IntegrityError:
        return False


def _intent_id(event) -> str | None:
    field = INTENT_FIELD.get(event["type"])
    obj = event["data"]["object"]
    # Stripe objects are not dicts (no .get): test membership, then index.
    value = obj[field] if field is not None and field in obj else None
    return value if isinstance(value, str) and value else None


def apply(event, uow: UnitOfWork) -> str:
    """Apply a verified event; returns what was done (for the response and the log).

    The event is applied first and its id stored afterwards: applying is idempotent (row locks, allowed
    transitions, the provider's present state), so a crash in between costs at most a harmless second
    application on redelivery, never a lost event. An error propagates, nothing is stored, and the
    endpoint's error answer makes the provider deliver the event again.
    """
    if _seen(uow, event["id"]):
        return "duplicate"
    intent_id = _intent_id(event)
    if intent_id is None:
        result = "ignored"
    else:
        apply_intent_status(uow, intent_id, expired=event["type"] == LAPSED)
        after_intent_change(uow, intent_id)  # a lapsed hold of an open order is renewed at once (PAY-5)
        result = "applied"
    return result if _record(uow, event["id"], event["type"]) else "duplicate"
