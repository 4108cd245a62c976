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

HOME = "/"
WATCHES = "/watches"
WATCH = "/watch/[slug]"
CART = "/cart"
CHECKOUT = "/checkout"
TERMS = "/terms"
ORDER = "/order/[reference]"


def watch_url(slug) -> str:
    return "/watch/" + slug
