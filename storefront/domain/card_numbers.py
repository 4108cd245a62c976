"""Card numbers never enter the shop through staff free text (PAY-2, PAY-6).

The payment provider's form is the only place a card number is typed. A staff member taking an order
on the phone could still write one into a note, an address line or a name "to be helpful", and it
would then sit in the database, the audit trail, emails and backups. So every staff free-text field
refuses a digit sequence that looks like a card number: 13 to 19 digits, written in one piece or in
groups separated by single spaces or dashes (as cards are printed and read out), that passes the
Luhn check (ISO/IEC 7812) every card number carries.

Which windows are examined: a run of digit groups is split only at group boundaries, so
"4242 4242 4242 4242 123" (a card followed by its security code) is caught through its first four
groups, while a long account number written in groups is tried as a whole and as each aligned
window. An ungrouped run longer than 19 digits is not a card number and is let through.
Pure functions; the services call `refusal_for(fields)` before anything is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from storefront.domain.errors import ErrorCode, Refusal

MIN_DIGITS, MAX_DIGITS = 13, 19
# Digit groups joined by one space, dash or non-breaking space; a run ends at anything else.
_RUN = re.compile(r"\d+(?:[ \-\u00a0\u202f]\d+)*")
_GROUP = re.compile(r"\d+")


def luhn_ok(digits: str) -> bool:
    """True when the string of digits passes the Luhn (mod 10) check."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _candidates(run: str):
    groups = _GROUP.findall(run)
    for start in range(len(groups)):
        digits = ""
        for end in range(start, len(groups)):
            digits += groups[end]
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS:
                yield digits


def contains_card_number(text: object) -> bool:
    """Does the text hold a 13–19 digit sequence (spaces or dashes allowed between groups) passing Luhn?"""
    if not isinstance(text, str):
        return False
    # `\d` matches every Unicode decimal digit: full-width "４２４２…" is read as the digits it shows.
    plain = "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
    return any(luhn_ok(candidate) for run in _RUN.findall(plain) for candidate in _candidates(run))


def refusal_for(fields: Mapping[str, object]) -> Refusal | None:
    """The first field (in the order given) that holds a card number, as a refusal naming that field."""
    for name, value in fields.items():
        if contains_card_number(value):
            return Refusal(ErrorCode.CARD_NUMBER_IN_TEXT, {}, name)
    return None


def field_errors(fields: Mapping[str, object]) -> dict[str, str]:
    """Every field that holds a card number, with the message to show next to it."""
    return {name: Refusal(ErrorCode.CARD_NUMBER_IN_TEXT).message
            for name, value in fields.items() if contains_card_number(value)}
