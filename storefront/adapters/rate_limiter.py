"""Moving-window rate limits on the well-kept `limits` library: in memory by default, Redis when configured.

With several workers (REFLEX_REDIS_URL set) the counts must be shared, so the same Redis that
holds Reflex's state holds them; a single process keeps them in memory.
"""

from __future__ import annotations

import time
from functools import lru_cache

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from storefront.settings import get_settings

NAMESPACE = "storefront"


@lru_cache
def _limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(get_settings().redis_url or "memory://"))


def hit(rule: str, *key: str) -> bool:
    """Count one use under `rule` (e.g. "10 per minute") for `key`; False, and nothing counted, when over."""
    return _limiter().hit(parse(rule), NAMESPACE, *key)


def reset() -> None:
    """Forget every count (tests start from zero)."""
    _limiter().storage.reset()


def retry_after(rule: str, *key: str) -> int:
    """Whole seconds until `key` may be counted again under `rule` (0 when it may now)."""
    stats = _limiter().get_window_stats(parse(rule), NAMESPACE, *key)
    return 0 if stats.remaining > 0 else max(1, int(stats.reset_time - time.time() + 0.999))
