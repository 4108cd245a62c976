"""Route registry: every page registers here through the `page` template, and the app adds them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    path: str
    title: str
    component: Callable
    on_load: list = field(default_factory=list)


ROUTES: list[Route] = []
# Events that fill a page's data for the current country; re-run when the country changes.
PAGE_LOADERS: dict[str, list] = {}

HOME = "/"
WATCHES = "/watches"
WATCH = "/watch/[slug]"
CART = "/cart"
CHECKOUT = "/checkout"
TERMS = "/terms"
ORDER = "/order/[reference]"


def watch_url(slug) -> str:
    return "/watch/" + slug


def loaders_for(path: str) -> list:
    path = "/" + (path or "").strip("/")
    return PAGE_LOADERS.get("/" if path in ("/", "/index") else path, [])
