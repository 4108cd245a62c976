"""Stripe webhook events, each applied once: the event id is stored first, and forgotten again if applying fails."""

from __future__ import annotations

from sqlalchemy import delete
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


def forget(event_id: str) -> None:
    with UnitOfWork() as uow:
        uow.session.exec(delete(WebhookEvent).where(WebhookEvent.id == event_id[:120]))
        uow.commit()


def apply(event) -> str:
    """Apply a verified event; returns what was done (for the response and the log).

    If applying fails (the provider cannot be asked), the event is forgotten again and the error
    raised, so the endpoint answers with an error and the provider's redelivery is applied.
    """
    if not record(event["id"], event["type"]):
        return "duplicate"
    try:
        obj = event["data"]["object"]
        if event["type"] in INTENT_EVENTS:
            apply_intent_status(obj["id"], INTENT_EVENTS[event["type"]])
            return "applied"
        # Stripe objects are not dicts (no .get): test membership, then index.
        if event["type"] == "charge.expired" and "payment_intent" in obj and obj["payment_intent"]:
            apply_intent_status(obj["payment_intent"], "expired")
            return "applied"
        return "ignored"
    except Exception:
        forget(event["id"])
        raise
