"""Photographs in a page's first HTML: the largest paint of a product page or a listing comes with the first paint.

The pages are prerendered once for everyone, so their image boxes are placeholders until the state names the
watches, after the scripts ran: on a phone the largest paint came 2 s after the first. For the pages whose
largest element is a watch's photograph, a middleware puts the photograph the state will show into the first
HTML: preloaded from the head and drawn as the background of the placeholder's box (an inline `!important`
style, since Radix hides a skeleton's background). The state's `<img>` then replaces the box at the same size.
Only plain image paths are put in (they come from the catalogue); anything else leaves the page as built.
"""

from __future__ import annotations

import gzip
import re

_IMAGE_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9_-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*\.(?:svg|webp|png|jpe?g|avif)")


def _tag_with_image(tag_attributes: str, image: str) -> str:
    return (f'{tag_attributes} style="background:url({image}) center/contain no-repeat !important;'
            'animation:none !important"')


def with_images(html: str, placeholder: re.Pattern, images: list[str]) -> str:
    """`html` with the first placeholders (the matches of `placeholder`, whose group 1 is the tag's attributes)
    drawing `images` in order, and the first image preloaded. Unchanged if an image path is not a plain one."""
    if not images or not all(isinstance(i, str) and _IMAGE_PATH.fullmatch(i) for i in images) \
            or "</head>" not in html:
        return html
    remaining = iter(images)

    def draw(match: re.Match) -> str:
        image = next(remaining, None)
        if image is None or "style=" in match.group(1):
            return match.group(0)
        return match.group(0).replace(match.group(1), _tag_with_image(match.group(1), image), 1)

    drawn = placeholder.sub(draw, html)
    if drawn == html:
        return html
    return drawn.replace("</head>", f'<link rel="preload" as="image" href="{images[0]}" fetchpriority="high"/></head>', 1)


async def send_html(scope, send, body: bytes) -> None:
    """A page answered by the shop itself: gzip when the browser takes it, never cached without a check."""
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"vary", b"Accept-Encoding")]
    accepted = dict(scope.get("headers") or []).get(b"accept-encoding", b"")
    if b"gzip" in accepted.lower():
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})
