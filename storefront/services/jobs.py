"""Background work shared by the app's lifespan task and `python -m storefront jobs run` (cron).

Every job claims rows with conditional updates, so several app workers may run it at once.
"""

from __future__ import annotations

import asyncio
import logging

from storefront.adapters.mailer import mailer_from_settings
from storefront.services.hold_renewal import renew_due
from storefront.services.outbox import deliver_due
from storefront.services.payment import expire_unpaid
from storefront.services.unavailable_items import unavailable_deadlines_due
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 2.0


def run_once() -> dict[str, int]:
    uow = UnitOfWork()
    cancelled = expire_unpaid(uow)
    renewed = renew_due(uow)  # before sending, so a refused renewal's email leaves in the same round
    unavailable = unavailable_deadlines_due(uow)  # GTC-3.2 reminders and drops at the deadline
    sent, failed = deliver_due(uow, mailer_from_settings(get_settings()))
    return {"cancelled_unpaid": len(cancelled), "holds_renewed": len(renewed), "emails_sent": sent,
            "email_failures": failed, "unavailable_handled": len(unavailable)}


async def run_forever() -> None:
    while True:
        try:
            await asyncio.to_thread(run_once)
        except Exception:  # noqa: BLE001 - a failing round must not stop the worker; it is retried
            log.exception("background jobs round failed")
        await asyncio.sleep(INTERVAL_SECONDS)
