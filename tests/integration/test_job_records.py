"""The admin home's record of each background job's last run, kept by every worker at once.

Each worker runs the job rounds (storefront/services/jobs.py), so two can record the first run of a job at the
same moment; a round must not fail on that (it did under the fault benchmark with two workers on PostgreSQL).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import delete

from storefront.adapters import clock
from storefront.adapters.tables import JobRun
from storefront.services import jobs
from storefront.services.unit_of_work import UnitOfWork


def _race_with_another_worker(monkeypatch, name: str, at) -> None:
    """The other worker inserts the job's row after this one looked for it and found none."""
    real_get = jobs.UnitOfWork.__enter__

    def enter(self):
        uow = real_get(self)
        session_get = uow.session.get

        def get(model, key, *args, **kwargs):
            found = session_get(model, key, *args, **kwargs)
            if model is JobRun and key == name and found is None:
                with UnitOfWork() as other:
                    other.session.add(JobRun(name=name, finished_at=at, outcome="ok", handled=0))
                    other.commit()
            return found

        uow.session.get = get
        return uow

    monkeypatch.setattr(jobs.UnitOfWork, "__enter__", enter)


def test_two_workers_recording_a_first_run_at_once_both_succeed(database, monkeypatch):
    if database.dialect.name != "postgresql":
        pytest.skip("on SQLite a writing unit of work takes the write lock when it begins (BEGIN IMMEDIATE): two "
                    "workers cannot both insert; run with REFLEX_DB_URL on PostgreSQL (scripts/with-postgres.sh)")
    name = "email_outbox"
    with UnitOfWork() as uow:
        uow.session.exec(delete(JobRun).where(JobRun.name == name))
        uow.commit()
    now = clock.now()
    _race_with_another_worker(monkeypatch, name, now - timedelta(seconds=1))

    jobs._record(UnitOfWork(), name, now, "failed", 0, "SMTPServerDisconnected")

    monkeypatch.undo()
    rows = [r for r in jobs.last_runs(UnitOfWork()) if r.name == name]
    assert [(r.outcome, r.error) for r in rows] == [("failed", "SMTPServerDisconnected")]
