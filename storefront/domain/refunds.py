"""Refunds of captured money (issue 9 § 4): why, and when a second person must agree.

Reasons are codes, never free text: the client's email, the audit log and the books say the same
thing. Which refunds wait for a second approver is data (`rules/payments.toml` [refunds]).
"""

from __future__ import annotations

from enum import StrEnum

from storefront.rules import load


class RefundReason(StrEnum):
    GOODWILL = "goodwill"
    ITEM_RETURNED = "item_returned"
    PRICE_ADJUSTMENT = "price_adjustment"
    ITEM_UNAVAILABLE = "item_unavailable"
    CLIENT_CANCELLED_AFTER_DELAY = "client_cancelled_after_delay"
    DUPLICATE = "duplicate"


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # recorded; waits for a second approval, or for the provider call about to be made
    PROCESSING = "processing"  # claimed by one caller; the provider is being asked
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the provider refused; nothing moved


# Stripe knows three reasons (requested_by_customer, duplicate, fraudulent); ours map onto them.
PROVIDER_REASONS: dict[RefundReason, str] = {RefundReason.DUPLICATE: "duplicate"}

CLIENT_NOTICES: dict[RefundReason, str] = {
    RefundReason.GOODWILL: "As a gesture of goodwill, we have refunded part of your payment.",
    RefundReason.ITEM_RETURNED: "We have received the piece you returned and refunded it.",
    RefundReason.PRICE_ADJUSTMENT: "We have adjusted the price of your order and refunded the difference.",
    RefundReason.ITEM_UNAVAILABLE: "A piece of your order proved unavailable; we have refunded it.",
    RefundReason.CLIENT_CANCELLED_AFTER_DELAY: "As you chose to cancel after the delivery delay, we have refunded "
                                               "what you had paid.",
    RefundReason.DUPLICATE: "A payment was taken twice; we have refunded the duplicate.",
}


def reason_from(value: object) -> RefundReason | None:
    try:
        return RefundReason(value) if isinstance(value, str) else None
    except ValueError:
        return None


def provider_reason(reason: RefundReason) -> str:
    return PROVIDER_REASONS.get(reason, "requested_by_customer")


def four_eyes_threshold(currency: str) -> int | None:
    """Minor units above which a staff refund waits for a second approver; None for a currency not listed."""
    value = load("payments").get("refunds", {}).get("four_eyes_above", {}).get(currency.upper())
    return int(value) if value is not None else None


def needs_second_approval(amount_minor: int, currency: str, *, discretionary: bool) -> bool:
    """A staff (discretionary) refund above the currency's threshold, or in a currency without one."""
    if not discretionary:
        return False
    threshold = four_eyes_threshold(currency)
    return threshold is None or amount_minor > threshold
