"""Why the merchant may cancel an order (GTC-3.5), as codes, and what the client is told for each.

The list is the terms' list: a failed payment authorisation or wrong information given by the client,
plus the client's own request and a compliance decline. The client's notice never names a sanctions
list (a decline says only that the order cannot be accepted).
"""

from __future__ import annotations

from enum import StrEnum


class CancelReason(StrEnum):
    PAYMENT_FAILED = "payment_failed"
    UNDELIVERABLE_ADDRESS = "undeliverable_address"
    INVALID_EMAIL = "invalid_email"
    NONEXISTENT_PHONE = "nonexistent_phone"
    CLIENT_REQUEST = "client_request"
    COMPLIANCE = "compliance"


STAFF_LABELS: dict[CancelReason, str] = {
    CancelReason.PAYMENT_FAILED: "Payment authorisation failed",
    CancelReason.UNDELIVERABLE_ADDRESS: "Delivery address cannot be served",
    CancelReason.INVALID_EMAIL: "Email address is not valid",
    CancelReason.NONEXISTENT_PHONE: "Telephone number does not exist",
    CancelReason.CLIENT_REQUEST: "The client asked to cancel",
    CancelReason.COMPLIANCE: "Compliance decline",
}

_RELEASED = "Any authorisation on your card has been released and anything charged will be refunded in full."

CLIENT_NOTICES: dict[CancelReason, tuple[str, ...]] = {
    CancelReason.PAYMENT_FAILED: (
        "We could not keep a valid authorisation on your card for this order, so we have had to cancel it.",
        _RELEASED,
    ),
    CancelReason.UNDELIVERABLE_ADDRESS: (
        "We are unable to deliver to the address given for this order, so we have had to cancel it.",
        _RELEASED,
        "You are welcome to order again with another delivery address.",
    ),
    CancelReason.INVALID_EMAIL: (
        "The contact details given for this order could not be confirmed, so we have had to cancel it.",
        _RELEASED,
    ),
    CancelReason.NONEXISTENT_PHONE: (
        "The telephone number given for this order could not be reached, so we have had to cancel it.",
        _RELEASED,
    ),
    CancelReason.CLIENT_REQUEST: (
        "As you asked, your order has been cancelled.",
        _RELEASED,
    ),
    CancelReason.COMPLIANCE: (
        "We are unable to accept this order, so it has been cancelled.",
        _RELEASED,
        "Please contact our client service if you have any questions.",
    ),
}


def reason_from(value: object) -> CancelReason | None:
    """The reason a page or a staff member sent, if it is one of the list."""
    try:
        return CancelReason(value) if isinstance(value, str) else None
    except ValueError:
        return None
