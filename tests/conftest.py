"""Shared test setup: every run works in a database it creates and drops (tests/throwaway_db.py).

REFLEX_DB_URL (or STOREFRONT_DATABASE_URL) only says which PostgreSQL server to create it on; the
database it names is never migrated, written or dropped. The switch happens here, before the
application reads its settings.
"""

import os
import sys
import tempfile
from pathlib import Path

from tests import throwaway_db

_TMP = Path(tempfile.mkdtemp(prefix="storefront-tests-"))
GIVEN_DB_URL = os.environ.get("REFLEX_DB_URL") or os.environ.get("STOREFRONT_DATABASE_URL") or ""
OWN_DB_URL = throwaway_db.own_database(GIVEN_DB_URL, _TMP)
os.environ["REFLEX_DB_URL"] = OWN_DB_URL
os.environ.pop("STOREFRONT_DATABASE_URL", None)
os.environ.setdefault("STOREFRONT_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import pytest  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def pytest_report_header(config):
    own = make_url(OWN_DB_URL)
    return f"test database: {own.database} ({own.get_backend_name()}, created for this run)"


def pytest_sessionfinish(session, exitstatus):
    db = sys.modules.get("storefront.adapters.db")
    if db is not None:
        db.get_engine().dispose()
    throwaway_db.drop(OWN_DB_URL, GIVEN_DB_URL)


@pytest.fixture(scope="session")
def given_database_url() -> str:
    """The URL the developer gave (empty if none): a server to create databases on, never one to write."""
    return GIVEN_DB_URL


@pytest.fixture(scope="session")
def database():
    """Schema from the Alembic migrations (as in production) and the demo seed; returns the engine."""
    from storefront.__main__ import migrate
    from storefront.adapters.db import get_engine
    from storefront.services.seed import seed_all

    engine = get_engine()
    assert make_url(str(engine.url)).database == make_url(OWN_DB_URL).database, "tests write only their own database"
    migrate(None)
    seed_all()
    return engine
