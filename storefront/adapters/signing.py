"""Timestamped signatures (itsdangerous) for links that grant something to whoever holds them.

A token is the timestamp and HMAC-SHA256 of a value under a salt; the value itself travels beside it
(the order reference is already in the link's path), which keeps links short. The clock is a
parameter so that expiry can be tested without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

SEPARATOR = "."


class _SignerAt(TimestampSigner):
    """A TimestampSigner whose "now" is given, for issuing and checking at a chosen moment."""

    def __init__(self, secret: str, salt: str, at: datetime) -> None:
        super().__init__(secret, salt=salt, sep=SEPARATOR, digest_method=hashlib.sha256)
        self._at = at

    def get_timestamp(self) -> int:
        return int(self._at.timestamp())


def sign(value: str, *, secret: str, salt: str, at: datetime) -> str:
    """The token for `value`: `<timestamp>.<signature>`, both URL-safe base64."""
    signed = _SignerAt(secret, salt, at).sign(value).decode("ascii")
    return signed[len(value) + len(SEPARATOR):]


class Expired(Exception):
    """The token is authentic but older than allowed (or dated in the future)."""


def check(value: str, token: str, *, secret: str, salt: str, max_age: timedelta, at: datetime) -> bool:
    """True for a token issued for exactly this value and salt within `max_age` before `at`.

    Raises `Expired` for a genuine token that is too old, so a caller may say so; returns False for
    anything forged, tampered with or issued for another value or salt.
    """
    if not isinstance(value, str) or not isinstance(token, str) or not value or not token:
        return False
    try:
        _value, signed_at = _SignerAt(secret, salt, at).unsign(
            f"{value}{SEPARATOR}{token}", max_age=int(max_age.total_seconds()), return_timestamp=True)
    except SignatureExpired as exc:  # raised only once the signature itself has verified
        raise Expired from exc
    except BadSignature:
        return False
    # Base64 decoding forgives padding and unused bits: accept only the one spelling we issued.
    return hmac.compare_digest(sign(value, secret=secret, salt=salt, at=signed_at), token)
