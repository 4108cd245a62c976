"""Security headers on every HTTP response, and the origins allowed to call the shop (PAY-6).

The Content-Security-Policy lets pages run only the shop's own code and the payment provider's
Stripe.js: inline scripts of the prerendered pages are allowed by their SHA-256, worked out for each
HTML response from the very bytes sent, so a script injected into a page never runs. What the policy
must still allow, and why, is written in docs/design.md ("Security").
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

# Stripe's published CSP needs for Stripe.js, the card element and 3-D Secure (real keys only).
STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_SOURCES = {
    "script-src": [STRIPE_JS_ORIGIN, "https://*.js.stripe.com"],
    "frame-src": [STRIPE_JS_ORIGIN, "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
    "img-src": ["https://*.stripe.com"],
}
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Sent on every HTTPS response; production mode's reverse proxy sends the same (storefront/reverse_proxy.py).
HSTS = "max-age=31536000; includeSubDomains"


def allowed_origins(public_url: str) -> list[str]:
    """The origins whose pages may call the API and open the event socket: the shop's own public URL
    (on loopback under each of its names, since a developer may open either)."""
    parts = urlsplit(public_url)
    port = f":{parts.port}" if parts.port else ""
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return [f"{parts.scheme}://{host}{port}" for host in LOOPBACK_HOSTS]
    return [f"{parts.scheme}://{parts.netloc}"]


def provider_sources(stripe_js_url: str) -> dict[str, list[str]]:
    """Where the payment provider's script, frames and API calls come from: Stripe, or the local sandbox,
    which serves its Stripe.js stand-in and answers its API calls on one loopback origin."""
    parts = urlsplit(stripe_js_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin == STRIPE_JS_ORIGIN:
        return STRIPE_SOURCES
    return {"script-src": [origin], "connect-src": [origin]}  # its 3-D Secure challenge is no frame


def content_security_policy(provider: dict[str, list[str]], host: str = "", script_hashes: tuple[str, ...] = ()) -> str:
    """The policy for one response. `host` (the request's Host) names the event socket's address;
    `script_hashes` are the inline scripts of the HTML being sent."""
    sockets = [f"ws://{host}", f"wss://{host}"] if host else []
    directives = {
        "default-src": ["'self'"],
        # Reflex runs the scripts the server sends (rx.call_script) and their callbacks through eval().
        "script-src": ["'self'", "'unsafe-eval'", *provider.get("script-src", []),
                       *(f"'sha256-{h}'" for h in script_hashes)],
        # Emotion (Reflex's styling) inserts <style> elements at run time, and Radix sets style attributes.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *provider.get("img-src", [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *sockets, *provider.get("connect-src", [])],
        "frame-src": provider.get("frame-src") or ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(dict.fromkeys(sources))}" for name, sources in directives.items())


class _InlineScripts(HTMLParser):
    """Collects the text of every <script> without a src, as the browser hashes it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script" and not any(name == "src" for name, _ in attrs):
            self._current = []

    def handle_data(self, data):
        if self._current is not None:
            self._current.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._current is not None:
            self.scripts.append("".join(self._current))
            self._current = None


def inline_script_hashes(html: str) -> tuple[str, ...]:
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return tuple(dict.fromkeys(
        base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") for s in parser.scripts))


_PAGE_HASHES: dict[tuple[bytes, bytes], tuple[str, ...]] = {}
_PAGES_KEPT = 256


def page_script_hashes(body: bytes, encoding: bytes) -> tuple[str, ...]:
    """The inline-script hashes of a page as sent. The pages are prerendered: the same few bodies over and over.
    Parsing one (gunzip, then Python's HTMLParser over 100 KB or more) cost milliseconds of CPU per page load,
    so each body's hashes are kept by its digest and a page is parsed once."""
    key = (hashlib.blake2b(body, digest_size=32).digest(), encoding)
    found = _PAGE_HASHES.get(key)
    if found is None:
        if len(_PAGE_HASHES) >= _PAGES_KEPT:
            _PAGE_HASHES.clear()
        found = _PAGE_HASHES[key] = inline_script_hashes(_html_text(body, encoding))
    return found


def _file_script_hashes(path: str, encoding: bytes) -> tuple[str, ...]:
    with open(path, "rb") as page:
        return page_script_hashes(page.read(), encoding)


def _static_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),  # for browsers without CSP frame-ancestors
        # Order links carry their token in the query string: no Referer leaves the site.
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode("ascii")))
    return headers


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes:
    return next((v for k, v in headers if k.lower() == name), b"")


def _html_text(body: bytes, encoding: bytes) -> str:
    """The page as text; Reflex precompresses its pages with gzip only (rxconfig)."""
    if encoding.strip().lower() == b"gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return ""
    return body.decode("utf-8", errors="replace")


def security_headers(app):
    """ASGI middleware: the static headers on every response, the CSP on every response but a 304 (whose
    headers would replace those the browser keeps with the cached page, inline-script hashes included)."""
    from storefront.services.payment import browser_config
    from storefront.settings import get_settings

    extra = _static_headers(get_settings().public_url.startswith("https://"))
    provider = provider_sources(browser_config()[0])

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        held: dict = {}

        def finish(start: dict, hashes: tuple[str, ...]) -> dict:
            headers = list(start.get("headers", []))
            present = {k.lower() for k, _ in headers}
            headers += [h for h in extra if h[0] not in present]
            if start["status"] != 304:
                csp = content_security_policy(provider, host, hashes)
                headers.append((b"content-security-policy", csp.encode("latin-1")))
            return {**start, "headers": headers}

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if _header(headers, b"content-type").startswith(b"text/html") and message["status"] != 304:
                    held["start"], held["body"] = message, []  # the hashes need the whole page first
                    return None
                return await send(finish(message, ()))
            if message["type"] == "http.response.body" and "start" in held:
                held["body"].append(message.get("body", b""))
                if message.get("more_body"):
                    return None
                body = b"".join(held["body"])
                start = held.pop("start")
                await send(finish(start, page_script_hashes(body, _header(start.get("headers", []), b"content-encoding"))))
                return await send({"type": "http.response.body", "body": body})
            if message["type"] == "http.response.pathsend" and "start" in held:
                # The server sends the file itself (Granian): hash the page from the same file.
                start = held.pop("start")
                encoding = _header(start.get("headers", []), b"content-encoding")
                await send(finish(start, await run_in_threadpool(_file_script_hashes, message["path"], encoding)))
            return await send(message)

        return await app(scope, receive, send_with_headers)

    return wrapped
