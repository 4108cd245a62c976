"""The first HTML of a product page: the prerendered product shell instead of an empty SPA fallback.

Every watch is served by the one dynamic route `/watch/[slug]` (read from the database at each load, so
staff changes show at once). React Router prerenders static routes only, so a dynamic route's first HTML
would be the SPA fallback, without the page's markup: nothing painted until the scripts ran. The product
page is therefore also registered at a static path (`routes.WATCH_SHELL`), which the build prerenders
with its placeholders (the image box at its final size, the text lines). For a request of a product page
this middleware sends that HTML with the shell route's id and module replaced by the dynamic route's,
so the browser hydrates the very route its URL matches. Without a build (or if the build's names are not
found) the request goes on to Reflex unchanged.

The watch's first photograph, the page's largest paint, is put into that HTML as well (first_html_images).
"""

from __future__ import annotations

import re
from pathlib import Path

from reflex import constants
from reflex.utils.prerequisites import get_web_dir
from starlette.concurrency import run_in_threadpool

from storefront import routes
from storefront.first_html_images import send_html, with_images
from storefront.services import catalogue
from storefront.services.unit_of_work import UnitOfWork

_SEGMENT = re.compile(r"/watch/[^/.]+/?")
_MANIFEST = re.compile(r'"(/assets/manifest-[^"]+\.js)"')  # in the boot script or its module list (page_boot)


def _route_id(route: str) -> str:
    """React Router's id of a Reflex route, as Reflex names its route files: /watch/[slug] ->
    routes/[watch].$[slug]._index."""
    parts = [("$" + p) if p.startswith("[") else f"[{p}]" for p in route.strip("/").split("/")]
    return "routes/" + ".".join(parts) + "._index"


def _module_of(manifest: str, route_id: str) -> str | None:
    found = re.search(re.escape(f'"{route_id}":{{') + r'[^{}]*?"module":"([^"]+)"', manifest)
    return found.group(1) if found else None


_IMAGE_PLACEHOLDER = re.compile(r'<span([^>]*\bid="product-image-placeholder"[^>]*)>')

_cache: dict[str, tuple[float, bytes | None]] = {}


def shell_html(static_dir: Path | None = None) -> bytes | None:
    """The shell's HTML, hydrating as the dynamic product route; None when there is no usable build."""
    static_dir = static_dir or get_web_dir() / constants.Dirs.STATIC
    shell = static_dir / (routes.WATCH_SHELL.strip("/") + ".html")
    try:
        mtime = shell.stat().st_mtime
    except OSError:
        return None
    key = str(shell)
    if key in _cache and _cache[key][0] == mtime:
        return _cache[key][1]
    html = shell.read_text(encoding="utf-8")
    body = None
    manifest_url = _MANIFEST.search(html)
    if manifest_url:
        manifest = (static_dir / manifest_url.group(1).lstrip("/")).read_text(encoding="utf-8")
        shell_id, page_id = _route_id(routes.WATCH_SHELL), _route_id(routes.WATCH)
        shell_module, page_module = _module_of(manifest, shell_id), _module_of(manifest, page_id)
        if shell_module and page_module and f'"{shell_id}"' in html and shell_module in html:
            body = html.replace(shell_module, page_module).replace(f'"{shell_id}"', f'"{page_id}"').encode("utf-8")
    _cache[key] = (mtime, body)
    return body


def with_lead_image(body: bytes, image: str | None) -> bytes:
    """The shell with the watch's first photograph in its image box (first_html_images)."""
    return with_images(body.decode("utf-8"), _IMAGE_PLACEHOLDER, [image] if image else []).encode("utf-8")


def _slug(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def product_shell(app):
    async def wrapped(scope, receive, send):
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not _SEGMENT.fullmatch(scope["path"])
                or scope["path"].rstrip("/") == routes.WATCH_SHELL):
            return await app(scope, receive, send)
        body = shell_html()
        if body is None:
            return await app(scope, receive, send)
        body = with_lead_image(body, await run_in_threadpool(catalogue.lead_image, UnitOfWork(), _slug(scope["path"])))
        await send_html(scope, send, body)

    return wrapped
