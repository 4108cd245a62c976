"""Why compliance may clear a possible sanctions match (PAY-7): codes, so the record says what was
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
