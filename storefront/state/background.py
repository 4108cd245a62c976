"""The long part of a background event: a service called with no state lock held, its result applied under it.

A payment call or an emailed-offer answer can take seconds; holding the tab's state lock through it froze the
tab and, under load, expired the lock (docs/design.md, background events). Each such event marks the tab busy
under the lock, then hands the call and how to apply its result to `call_then_settle`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable


async def call_then_settle(state, call: Callable[[], Any], settle: Callable[[Any], Any]) -> Any:
    """Runs `call` in a worker thread with no lock held, then `settle(result)` under the tab's lock, with None
    if the call raised (the exception goes on once settle has run). `settle` lifts the tab's busy flag in any case
    and applies the result only if the tab still asks for it; what it returns (the page's next step) is returned."""
    result = None
    try:
        result = await asyncio.to_thread(call)
    finally:
        async with state:
            follow = settle(result)
    return follow
