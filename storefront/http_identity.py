"""Issues the browser identity cookie (see services/browser.py) on HTTP responses that lack a valid one.

It has to arrive over HTTP: the websocket that carries every event is opened by page scripts,
which must not be able to read or choose the id, so the cookie is HttpOnly and set only here.
"""

from __future__ import annotations

from storefront.services import browser
from storefront.settings import get_settings


def _request_cookie(scope) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie"), "")


def browser_cookie(app):
    secure = "; Secure" if get_settings().public_url.startswith("https://") else ""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or browser.fingerprint(_request_cookie(scope)):
            return await app(scope, receive, send)
        header = (f"{browser.COOKIE}={browser.issue()}; Path=/; Max-Age={browser.COOKIE_MAX_AGE_SECONDS}; "
                  f"HttpOnly; SameSite=Lax{secure}").encode("latin-1")

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header)]
            await send(message)

        return await app(scope, receive, send_with_cookie)

    return wrapped
