"""The shop's clock: every service and job reads the time here, so a test can move it forward.

A delivery delay (GTC-5.4) is only seen 20 business days and 51 days after a ship-by date; a browser test
that walks an order through it cannot wait, so the served shop may be given a test clock: the file named by
`STOREFRONT_TEST_CLOCK_FILE` holds a number of seconds added to the real time (written by the test,
re-read when it changes). Time keeps flowing from there. The payment sandbox reads the same file, as Stripe's
test clocks move a sandbox account, so the holds it places lapse on the moved calendar.

Settings refuse to start a shop with a test clock and real Stripe keys or a real mail server
(`settings.Settings`): a moved clock belongs to tests only. Staff one-time codes (pyotp) and the abuse limits
keep the machine's own time: a code is checked against the staff member's phone, not the shop's calendar.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

ENV = "STOREFRONT_TEST_CLOCK_FILE"

_read: tuple[str, int, timedelta] = ("", -1, timedelta(0))  # path, mtime_ns, offset


def offset() -> timedelta:
    """How far the test clock is ahead of the real time (nothing without a test clock)."""
    global _read
    path = os.environ.get(ENV, "")
    if not path:
        return timedelta(0)
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return timedelta(0)
    if (path, mtime) != _read[:2]:
        text = Path(path).read_text().strip()
        _read = (path, mtime, timedelta(seconds=float(text or 0)))
    return _read[2]


def now() -> datetime:
    return datetime.now(timezone.utc) + offset()


def set_offset(path: Path, ahead: timedelta) -> None:
    """Test support: move the clock of every process reading `path` to real time + `ahead` (atomic write)."""
    partial = path.with_suffix(".partial")
    partial.write_text(str(ahead.total_seconds()))
    os.replace(partial, path)
