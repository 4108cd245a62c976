"""Shared test setup: a throwaway database unless REFLEX_DB_URL points at one (e.g. PostgreSQL)."""

import os
import tempfile

_TMP = tempfile.mkdtemp(prefix="storefront-tests-")
os.environ.setdefault("REFLEX_DB_URL", f"sqlite:///{_TMP}/test.db")
os.environ.setdefault("STOREFRONT_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def database():
    """Schema from the Alembic migrations (as in production) and the demo seed; returns the engine."""
    from sqlmodel import SQLModel

    from storefront.__main__ import migrate
    from storefront.adapters.db import get_engine
    from storefront.services.seed import seed_all

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    SQLModel.metadata  # tables are created by migrations only
    migrate(None)
    seed_all()
    return engine
