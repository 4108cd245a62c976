"""The served shop's database, read by browser tests to check what a page did (the `db` fixture is in conftest)."""

from __future__ import annotations

import sqlalchemy


def rows(db, sql: str, **params) -> list[tuple]:
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.text(sql), params)]
