"""A database of the tests' own for every run, so a test run never touches a database it did not create.

Tests migrate schemas, seed the catalogue and place orders. Given a PostgreSQL URL (REFLEX_DB_URL,
or E2E_DB_URL for the served shop), they create `storefront_test_<random>` on that server, work
there and drop it at the end; the database the URL names is only used to connect. Given nothing
or any other URL, they use a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

PREFIX = "storefront_test_"


def is_postgres(url: str | None) -> bool:
    return bool(url) and make_url(url).get_backend_name() == "postgresql"


def _admin(url: URL):
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def own_database(given: str | None, directory: Path) -> str:
    """The URL of a new, empty database for this run: on the server of `given` if that is PostgreSQL."""
    if not is_postgres(given):
        return f"sqlite:///{directory / 'test.db'}"
    url = make_url(given)
    name = PREFIX + secrets.token_hex(6)
    engine = _admin(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        raise RuntimeError(f"The tests create their own database on the server of {url.render_as_string()} "
                           f"and need the CREATEDB right there: {exc}") from exc
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop(own: str, given: str) -> None:
    """Drop a database made by own_database (connected through `given`); anything else is left alone."""
    if not is_postgres(own):
        return
    name = make_url(own).database or ""
    if not name.startswith(PREFIX) or name == make_url(given).database:
        raise ValueError(f"refusing to drop {name!r}: not a database these tests created")
    engine = _admin(make_url(given))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        engine.dispose()


def exists(name: str, given: str) -> bool:
    engine = _admin(make_url(given))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is not None
    finally:
        engine.dispose()
