"""Run a coroutine to completion from synchronous test code, whatever loop the thread already has.

Playwright's sync API keeps an event loop running in the test thread for the whole e2e session, and
asyncio.run() refuses to start inside a running loop; a worker thread has none.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_async(coro):
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
