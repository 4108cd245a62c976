"""The staff cookies: set by the HTTP routes (http_admin.py), read back by every admin event
(state/admin_auth.py) from its socket's handshake."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

SESSION_COOKIE = "vx_staff"
ENROL_COOKIE = "vx_staff_enrol"


def cookie_value(cookie_header: str, name: str) -> str:
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:  # a malformed header carries no session
        return ""
    return jar[name].value if name in jar else ""
