"""Background work shared by the app's lifespan task and `python -m storefront jobs run` (cron).

Every job claims rows with conditional updates, so several app workers may run it at once. Each job
runs on its own: one that fails does not stop the others, and its outcome is kept for the admin home
(`job_run`). A round runs every two seconds, so an uneventful run is written at most once a minute;
a failure or a run that acted on something is written at once. Jobs take the clock as `at`, so tests
can move time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.mailer import mailer_from_settings
from storefront.adapters.tables import JobRun
from storefront.services.delays import delays_due
from storefront.services.hold_renewal import renew_due
from storefront.services.outbox import deliver_due
from storefront.services.payment import expire_unpaid
from storefront.services.retention import run_daily as retention_due
from storefront.services.telephone_orders import expire_unconfirmed
from storefront.services.unavailable_items import unavailable_deadlines_due
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 2.0
QUIET_RECORD_EVERY = timedelta(minutes=1)


def _emails(uow: UnitOfWork, at: datetime) -> int:
    sent, _failed = deliver_due(uow, mailer_from_settings(get_settings()), now=at)
    return sent


# In this order: a refused renewal's email and the unavailable-piece notices leave in the same round.
JOBS: dict[str, Callable[[UnitOfWork, datetime], int]] = {
    "payment_window": lambda uow, at: len(expire_unpaid(uow, at)),
    "telephone_orders": lambda uow, at: len(expire_unconfirmed(uow, at)),
    "hold_renewal": lambda uow, at: len(renew_due(uow, at=at)),
    "unavailable_items": lambda uow, at: len(unavailable_deadlines_due(uow, at=at)),
    # GTC-5.4: the delay notice, the 51-day offer, reminders; each acts once per order and day, so every round
    # may run it (its claims are conditional), and its emails leave in the same round
    "delivery_delays": lambda uow, at: len(delays_due(uow, at=at)),
    "email_outbox": _emails,
    # once a day (it keeps its own last run): erases what the retention policy says is due (PAY-6)
    "retention": lambda uow, at: retention_due(uow, at),
}


@dataclass(frozen=True)
class JobStatus:
    name: str
    finished_at: str
    outcome: str
    handled: int
    error: str


def _record(uow: UnitOfWork, name: str, at: datetime, outcome: str, handled: int, error: str) -> None:
    try:
        _write_record(uow, name, at, outcome, handled, error)
    except IntegrityError:
        # Several workers run the same round: another one wrote this job's first row between our read and
        # our insert. That row exists now, so the second try updates it.
        _write_record(uow, name, at, outcome, handled, error)


def _write_record(uow: UnitOfWork, name: str, at: datetime, outcome: str, handled: int, error: str) -> None:
    with uow:
        s = uow.session
        row = s.get(JobRun, name)
        if row is not None and outcome == "ok" == row.outcome and not handled:
            finished = row.finished_at if row.finished_at.tzinfo else row.finished_at.replace(tzinfo=timezone.utc)
            if at - finished < QUIET_RECORD_EVERY:
                return
        row = row or JobRun(name=name, finished_at=at, outcome=outcome)
        row.finished_at, row.outcome, row.handled, row.error = at, outcome, handled, error
        s.add(row)
        uow.commit()


def run_once(at: datetime | None = None) -> dict[str, int]:
    uow = UnitOfWork()
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        now = at or clock.now()
        try:
            done[name] = job(uow, now)
            _record(uow, name, now, "ok", done[name], "")
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others; it runs again next round
            log.exception("background job %s failed", name)
            done[name] = 0
            _record(uow, name, now, "failed", 0, type(exc).__name__)
    return done


def last_runs(uow: UnitOfWork) -> list[JobStatus]:
    with uow.reading() as s:
        rows = {r.name: r for r in s.exec(select(JobRun)).all()}
    return [JobStatus(name, rows[name].finished_at.strftime("%Y-%m-%d %H:%M:%S UTC") if name in rows else "never",
                      rows[name].outcome if name in rows else "", rows[name].handled if name in rows else 0,
                      rows[name].error if name in rows else "") for name in JOBS]


async def run_forever() -> None:
    while True:
        try:
            await asyncio.to_thread(run_once)
        except Exception:  # noqa: BLE001 - a failing round must not stop the worker; it is retried
            log.exception("background jobs round failed")
        await asyncio.sleep(INTERVAL_SECONDS)
