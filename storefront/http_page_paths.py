"""A page answers at its own path: `/cart` is the cart itself, not a redirect to `/cart/`.

The built pages are folders (`cart/index.html`) and the static file server redirects a folder's path without its
trailing slash, which every link of the shop, every email link and every typed address uses: one more round trip
before a phone shows anything (Lighthouse: 0.3 s on its slow 4G). This serves the page in place.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reflex import constants
from reflex.utils.prerequisites import get_web_dir


@cache
def built_pages(static_dir: Path | None = None) -> frozenset[str]:
    """The paths of the built pages kept as folders, e.g. "/cart". Read once per process: the pages are built
    before the server starts."""
    static_dir = static_dir or get_web_dir() / constants.Dirs.STATIC
    return frozenset("/" + str(index.parent.relative_to(static_dir)) for index in static_dir.rglob("*/index.html"))


def page_paths(app):
    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and scope["path"] in built_pages():
            path = scope["path"] + "/"
            scope = {**scope, "path": path, "raw_path": path.encode("ascii")}
        return await app(scope, receive, send)

    return wrapped
