"""A unit of work: one transaction, and side effects that run only after it commits.

Services receive one (cosmicpython): the caller decides which database they work on, and tests
hand them one bound to their own engine. A unit may be entered again for the next transaction of
the same use case (a payment claims its attempt, calls the provider outside any transaction, then
records the outcome). `reading()` gives a plain session for queries that write nothing, so they
never take SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storefront.adapters.db import get_engine


class UnitOfWork:
    def __init__(self, engine: Engine | None = None) -> None:
        self._engine = engine or get_engine()
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self._engine.execution_options(writer=True), expire_on_commit=False)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # close() rolls back whatever was not committed and detaches the objects without expiring
        # them, so values read in the unit stay readable after it ends.
        self.session.close()
        self._after_commit = []

    def commit(self) -> None:
        self.session.commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session:
            yield session
