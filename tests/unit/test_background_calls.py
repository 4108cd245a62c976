"""A background event's long call runs without the tab's lock; its result is applied under the lock, and the tab's
busy flag is lifted even when the call fails."""

import pytest

from storefront.state.background import call_then_settle
from tests.async_runner import run_async


class Tab:
    """The lock of a Reflex state, as `async with self` takes it in a background event."""

    def __init__(self):
        self.locked, self.busy, self.shown = False, True, None

    async def __aenter__(self):
        self.locked = True

    async def __aexit__(self, *exc):
        self.locked = False


def test_the_call_runs_unlocked_and_its_result_is_applied_locked():
    tab, seen = Tab(), []

    def call():
        seen.append(tab.locked)
        return "held"

    def settle(result):
        seen.append(tab.locked)
        tab.busy, tab.shown = False, result
        return "next step"

    assert run_async(call_then_settle(tab, call, settle)) == "next step"
    assert seen == [False, True] and (tab.busy, tab.shown) == (False, "held")


def test_a_failed_call_still_lifts_busy_and_then_raises():
    tab = Tab()

    def call():
        raise TimeoutError("provider")

    def settle(result):
        tab.busy, tab.shown = False, result

    with pytest.raises(TimeoutError):
        run_async(call_then_settle(tab, call, settle))
    assert (tab.busy, tab.shown, tab.locked) == (False, None, False)
