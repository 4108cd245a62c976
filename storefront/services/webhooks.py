"""Stripe webhook events, each applied once: the event id is stored when it has been applied."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storefront.adapters.tables import WebhookEvent
from storefront.services.payment import apply_intent_status
from storefront.services.unit_of_work import UnitOfWork

INTENT_EVENTS = {
    "payment_intent.amount_capturable_updated": "held",
    "payment_intent.succeeded": "held",
    "payment_intent.payment_failed": "declined",
    "payment_intent.canceled": "released",
}


def seen(event_id: str) -> bool:
    with UnitOfWork() as uow:
        return uow.session.get(WebhookEvent, event_id[:120]) is not None


def record(event_id: str, event_type: str) -> bool:
    """True the first time an event id is stored."""
    try:
        with UnitOfWork() as uow:
            if uow.session.get(WebhookEvent, event_id[:120]) is not None:
                return False
            uow.session.add(WebhookEvent(id=event_id[:120], type=event_type[:80]))
            uow.commit()
            return True
    except IntegrityError:
        return False


def apply(event) -> str:
    """Apply a verified event; returns what was done (for the response and the log).

    The event is applied first and its id stored afterwards: applying is idempotent (row locks and
    status checks in the payment service), so a crash in between costs at most a harmless second
    application on redelivery, never a lost event. An error propagates, nothing is stored, and the
    endpoint's error answer makes the provider deliver the event again.
    """
    if seen(event["id"]):
        return "duplicate"
    obj = event["data"]["object"]
    result = "ignored"
    if event["type"] in INTENT_EVENTS:
        apply_intent_status(obj["id"], INTENT_EVENTS[event["type"]])
        result = "applied"
    # Stripe objects are not dicts (no .get): test membership, then index.
    elif event["type"] == "charge.expired" and "payment_intent" in obj and obj["payment_intent"]:
        apply_intent_status(obj["payment_intent"], "expired")
        result = "applied"
    return result if record(event["id"], event["type"]) else "duplicate"
