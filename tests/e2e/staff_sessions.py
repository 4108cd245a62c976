"""Staff sessions for browser and raw-socket tests: signed in over HTTP as the sign-in form does.

The demo accounts come from the demo seed (one per role). A TOTP code is accepted once (no replay), so
each account signs in at most once per test session here and the cookie is shared by the tests.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyotp

from storefront.services.staff_cookies import SESSION_COOKIE

DEMO = json.loads((Path(__file__).resolve().parents[2] / "storefront" / "seed" / "staff_demo.json").read_text())
ACCOUNTS = {a["role"]: a for a in DEMO["accounts"]}
_cookies: dict[tuple[str, str], str] = {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(base: str, path: str, fields: dict[str, str], *, origin: str | None, cookie: str = "") -> tuple[int, dict]:
    """POST a form without following the redirect: (status, headers)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "StaffTest/1.0"}
    if origin is not None:
        headers["Origin"] = origin
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode(fields).encode(), headers=headers,
                                     method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers.items()) | {"set-cookie": response.headers.get_all("Set-Cookie") or []}
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()) | {"set-cookie": error.headers.get_all("Set-Cookie") or []}


def otp_for(role: str) -> str:
    secret = ACCOUNTS[role].get("totp_secret")
    if not secret:
        return ""
    totp = pyotp.TOTP(secret)
    if totp.interval - time.time() % totp.interval < 3:  # about to roll over: take the next code
        time.sleep(3)
    return totp.now()


def session_cookie(base: str, role: str) -> str:
    """The staff cookie's value for the demo account of `role`."""
    if (base, role) not in _cookies:
        account = ACCOUNTS[role]
        status, headers = post_form(base, "/api/admin/session", {
            "email": account["email"], "password": account["password"], "otp": otp_for(role)}, origin=base)
        assert status == 303, status
        value = next((c.split(";", 1)[0].split("=", 1)[1] for c in headers["set-cookie"]
                      if c.startswith(SESSION_COOKIE + "=")), "")
        assert value, f"no session for {role}: {headers.get('location')}"
        _cookies[(base, role)] = value
    return _cookies[(base, role)]


def forget(base: str, role: str) -> None:
    _cookies.pop((base, role), None)


def forget_all(base: str) -> None:
    """After a test moved the shop's clock: the sessions it saw may have ended by the shop's calendar."""
    for key in [key for key in _cookies if key[0] == base]:
        del _cookies[key]
