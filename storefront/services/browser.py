"""Which browser is speaking: an identity the server issues and verifies, never one the client names.

The shop sets a random id, signed with its secret, in an HttpOnly cookie on the first HTTP response.
The browser sends it back with the websocket handshake, so every event carries it; page scripts
cannot read it, and storage copied to another browser does not contain it. What the database and
the Reflex state keep is only a one-way fingerprint of the id, so a leaked row or state grants
nothing.

The checkout draft the tab keeps in sessionStorage is sealed (encrypted and authenticated) under a
key derived from the same id: another browser holding a copy can neither read nor replay it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
from http.cookies import CookieError, SimpleCookie

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, Signer

from storefront.settings import get_settings

COOKIE = "vx_sid"
COOKIE_MAX_AGE_SECONDS = 400 * 24 * 3600  # the longest lifetime browsers honour
_SALT = "browser-id"
_MAX_DRAFT = 20_000


def _signer() -> Signer:
    return Signer(get_settings().secret_key, salt=_SALT, digest_method=hashlib.sha256)


def issue() -> str:
    """A new cookie value: 32 random bytes and their signature."""
    return _signer().sign(secrets.token_urlsafe(32)).decode("ascii")


def verified_id(cookie_value: str | None) -> str | None:
    """The id inside a cookie value the server issued; None for anything forged or malformed."""
    if not isinstance(cookie_value, str) or not 40 <= len(cookie_value) <= 200:
        return None
    try:
        return _signer().unsign(cookie_value).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None


def cookie_value(cookie_header: str | None) -> str | None:
    """Our cookie's value from a Cookie header, or None."""
    if not isinstance(cookie_header, str) or not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header[:8192])
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


def fingerprint(cookie_header: str | None) -> str:
    """The one-way fingerprint of the verified browser id in a Cookie header; "" when there is none."""
    if not isinstance(cookie_header, str):
        return ""
    return _fingerprint(get_settings().secret_key, cookie_header)


@functools.lru_cache(maxsize=4096)
def _fingerprint(secret_key: str, cookie_header: str) -> str:
    """Every event of a tab carries the same Cookie header: parsed and verified once, not per event (the
    secret is part of the key, so a changed secret never answers from the cache)."""
    browser_id = verified_id(cookie_value(cookie_header))
    if browser_id is None:
        return ""
    return hashlib.sha256(f"browser:{browser_id}".encode()).hexdigest()


def _fernet(browser: str) -> Fernet:
    key = hashlib.sha256(f"{get_settings().secret_key}|draft|{browser}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(data: dict, browser: str) -> str:
    """The draft as a token only this browser's events can open."""
    return _fernet(browser).encrypt(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")


def unseal(token: str | None, browser: str) -> dict:
    """The draft sealed for this browser; {} for anything else (another browser's copy, tampering, junk)."""
    if not browser or not isinstance(token, str) or not token or len(token) > _MAX_DRAFT:
        return {}
    try:
        data = json.loads(_fernet(browser).decrypt(token.encode("ascii")))
    except (InvalidToken, ValueError, UnicodeEncodeError):
        return {}
    return data if isinstance(data, dict) else {}
