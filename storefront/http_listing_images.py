"""The listing's first HTML draws the photographs of its first cards (storefront/first_html_images.py).

`/watches` shows its cards once the state has them; its largest paint, the first card's photograph, came
2 s after the first paint on a phone. The built page's card placeholders are given the photographs the listing
will show in the shop's default market (the one a first visit most likely gets), for the collection the address
names. A shopper elsewhere may see another first card replace one of them when the state arrives, at the same
size. Without a build the request goes on to Reflex unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from reflex import constants
from reflex.utils.prerequisites import get_web_dir
from starlette.concurrency import run_in_threadpool

from storefront import routes
from storefront.first_html_images import send_html, with_images
from storefront.services import catalogue
from storefront.services.markets import deliverable
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

_PLACEHOLDER = re.compile(r'<span([^>]*\bclass="[^"]*\bcard-image-placeholder\b[^"]*"[^>]*)>')
_PATHS = (routes.WATCHES, routes.WATCHES + "/")
_cache: dict[str, tuple[float, str]] = {}


def listing_html(static_dir: Path | None = None) -> str | None:
    page = (static_dir or get_web_dir() / constants.Dirs.STATIC) / routes.WATCHES.strip("/") / "index.html"
    try:
        mtime = page.stat().st_mtime
    except OSError:
        return None
    if str(page) not in _cache or _cache[str(page)][0] != mtime:
        _cache[str(page)] = (mtime, page.read_text(encoding="utf-8"))
    return _cache[str(page)][1]


def card_images(collection: str, count: int) -> list[str]:
    market = deliverable(get_settings().default_country, shown=True)
    return catalogue.first_card_images(UnitOfWork(), market, collection, count) if market else []


def listing_images(app):
    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or scope["path"] not in _PATHS:
            return await app(scope, receive, send)
        html = listing_html()
        if html is None:
            return await app(scope, receive, send)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        collection = (query.get("collection") or [""])[0][:100]
        images = await run_in_threadpool(card_images, collection, len(_PLACEHOLDER.findall(html)))
        await send_html(scope, send, with_images(html, _PLACEHOLDER, images).encode("utf-8"))

    return wrapped
