"""Why compliance clears or declines a possible sanctions match (PAY-7): codes, so the record says what was
checked without copying anyone's personal data into the history."""

from __future__ import annotations

from enum import StrEnum


class ClearReason(StrEnum):
    DIFFERENT_BIRTH_DATE = "different_birth_date"  # the listed person's date of birth differs
    DIFFERENT_NATIONALITY_OR_ADDRESS = "different_nationality_or_address"
    COMMON_NAME = "common_name"  # a frequent name; no other identifier matches
    IDENTITY_DOCUMENT_CHECKED = "identity_document_checked"  # the client's document was seen


LABELS: dict[ClearReason, str] = {
    ClearReason.DIFFERENT_BIRTH_DATE: "Different date of birth from the listed person",
    ClearReason.DIFFERENT_NATIONALITY_OR_ADDRESS: "Different nationality or address from the listed person",
    ClearReason.COMMON_NAME: "Common name; no other identifier matches",
    ClearReason.IDENTITY_DOCUMENT_CHECKED: "Identity document checked",
}


def clear_reason_from(value: object) -> ClearReason | None:
    try:
        return ClearReason(value) if isinstance(value, str) else None
    except ValueError:
        return None


class DeclineReason(StrEnum):
    CONFIRMED_MATCH = "confirmed_match"  # the client is the listed person or entity
    SANCTIONED_DESTINATION = "sanctioned_destination"  # delivery or billing address in a sanctioned place
    IDENTITY_NOT_ESTABLISHED = "identity_not_established"  # asked for a document, none came


DECLINE_LABELS: dict[DeclineReason, str] = {
    DeclineReason.CONFIRMED_MATCH: "The client is the listed person or entity",
    DeclineReason.SANCTIONED_DESTINATION: "Delivery or billing address in a sanctioned destination",
    DeclineReason.IDENTITY_NOT_ESTABLISHED: "The client's identity could not be established",
}


def decline_reason_from(value: object) -> DeclineReason | None:
    try:
        return DeclineReason(value) if isinstance(value, str) else None
    except ValueError:
        return None
