"""What the shop must know about the local payment sandbox (localstripe 1.15) to talk to it.

Addresses, keys and the ways it differs from real Stripe live here, beside the sandbox, so the
gateway stays the gateway and the launcher (`localstripe_server`, which spawns processes) is
imported only by the command that starts the sandbox, never by a shop configured with real keys.
"""

from __future__ import annotations

from typing import Any

LOOPBACK = "127.0.0.1"
# localstripe serves its Stripe.js stand-in here; the script derives the API base from its own src.
JS_PATH = "/js.stripe.com/v3/"
# Any `sk_…` key longer than five characters passes localstripe's auth check.
SECRET_KEY = "sk_test_local"
PUBLISHABLE_KEY = "pk_test_local"
# localstripe ignores Idempotency-Key, so an automatic retry of a request could hold a card twice.
NETWORK_RETRIES = 0


def url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def js_url(port: int) -> str:
    return url(port) + JS_PATH


def describe(metadata: dict[str, str], description: str) -> None:
    """localstripe refuses `description` on payment intents ("Unexpected description"): keep it in metadata."""
    metadata.setdefault("description", description)


def _field(obj: Any, key: str) -> Any:
    try:
        return obj[key] if obj is not None and key in obj else None
    except TypeError:
        return None


def _refunds(charge: Any) -> list[Any]:
    # localstripe embeds the charge's refunds (first 10), enough for one order's few refunds.
    return list(_field(_field(charge, "refunds"), "data") or [])


def captured_minor(intent: Any) -> int:
    """What the card was charged. localstripe has no `amount_received`, and books the released rest of a
    partial capture as a refund that names no payment intent (refunds asked for by intent always do)."""
    charge = _field(intent, "latest_charge")
    if charge is None or isinstance(charge, str) or not _field(charge, "captured"):
        return 0
    released = sum(int(r["amount"]) for r in _refunds(charge) if not _field(r, "payment_intent"))
    return int(charge["amount"]) - released


def refunded_minor(intent: Any) -> int:
    """What was given back of the captured amount; `amount_refunded` there also counts the released rest."""
    charge = _field(intent, "latest_charge")
    if charge is None or isinstance(charge, str):
        return 0
    return sum(int(r["amount"]) for r in _refunds(charge) if _field(r, "payment_intent"))
