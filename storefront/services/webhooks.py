"""Stripe webhook events, each applied once: the event id is stored in the same transaction."""

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


def record(event_id: str, event_type: str) -> bool:
    """True the first time an event id is seen."""
    try:
        with UnitOfWork() as uow:
            if uow.session.get(WebhookEvent, event_id) is not None:
                return False
            uow.session.add(WebhookEvent(id=event_id[:120], type=event_type[:80]))
            uow.commit()
            return True
    except IntegrityError:
        return False


def apply(event) -> str:
    """Apply a verified event; returns what was done (for the response and the log)."""
    if not record(event["id"], event["type"]):
        return "duplicate"
    obj = event["data"]["object"]
    if event["type"] in INTENT_EVENTS:
        apply_intent_status(obj["id"], INTENT_EVENTS[event["type"]])
        return "applied"
    if event["type"] == "charge.expired" and obj.get("payment_intent"):
        apply_intent_status(obj["payment_intent"], "expired")
        return "applied"
    return "ignored"
