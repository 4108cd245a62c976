"""The first HTML of a product page: the prerendered product shell instead of an empty SPA fallback.

Every watch is served by the one dynamic route `/watch/[slug]` (read from the database at each load, so
staff changes show at once). React Router prerenders static routes only, so a dynamic route's first HTML
would be the SPA fallback, without the page's markup: nothing painted until the scripts ran. The product
page is therefore also registered at a static path (`routes.WATCH_SHELL`), which the build prerenders
with its placeholders (the image box at its final size, the text lines). For a request of a product page
this middleware sends that HTML with the shell route's id and module replaced by the dynamic route's,
so the browser hydrates the very route its URL matches. Without a build (or if the build's names are not
found) the request goes on to Reflex unchanged.

The watch's first photograph, the page's largest paint, is put into that HTML as well: preloaded from the head
and drawn in the placeholder's box, so a phone shows it with the first paint instead of after the scripts and the
state's answer (issue 8). When the watch arrives, its image replaces the box at the same size: nothing moves.
"""

from __future__ import annotations

import re
from pathlib import Path

from reflex import constants
from reflex.utils.prerequisites import get_web_dir
from starlette.concurrency import run_in_threadpool

from storefront import routes
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


_IMAGE_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9_-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*\.(?:svg|webp|png|jpe?g|avif)")
IMAGE_PLACEHOLDER = 'id="product-image-placeholder"'

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
    """The shell with the watch's first photograph preloaded and drawn in the image placeholder's box. A path
    that is not a plain image path (it comes from the catalogue) leaves the shell as it is."""
    html = body.decode("utf-8")
    if not image or not _IMAGE_PATH.fullmatch(image) or IMAGE_PLACEHOLDER not in html or "</head>" not in html:
        return body
    # The inline style's !important outranks the skeleton's own (Radix hides a skeleton's background).
    drawn = (f'{IMAGE_PLACEHOLDER} style="background:url({image}) center/contain no-repeat !important;'
             'animation:none !important"')
    html = html.replace("</head>", f'<link rel="preload" as="image" href="{image}" fetchpriority="high"/></head>', 1)
    return html.replace(IMAGE_PLACEHOLDER, drawn, 1).encode("utf-8")


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
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-cache")]})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})

    return wrapped
