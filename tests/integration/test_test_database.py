"""A test run leaves the database its URL names exactly as it was (issue 7, section 8).

The URL a developer exports (REFLEX_DB_URL) may name data that matters; the setup used to migrate
and seed it, and on PostgreSQL dropped its `public` schema. Each case below puts a marker table in
such a database, runs a real test session against it in a subprocess, and checks the marker is the
only thing there afterwards and that the run's own database is gone.
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import throwaway_db

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "tests/integration/test_catalogue_services.py::test_seed_is_idempotent_and_catalogue_is_large_enough"


def _run_tests_against(url: str) -> str:
    """A real test session (migrations, seed, one test) with `url` as the developer's database; its output."""
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_DB_URL", "STOREFRONT_DATABASE_URL")}
    env["REFLEX_DB_URL"] = url
    result = subprocess.run([sys.executable, "-m", "pytest", SAMPLE, "-p", "no:cacheprovider"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def _database_used(output: str) -> str:
    found = re.search(r"^test database: (\S+)", output, re.M)
    assert found, "the run names the database it created in its header"
    return found[1]


def test_a_sqlite_database_named_by_the_url_is_left_alone(tmp_path):
    mine = tmp_path / "mine.db"
    with sqlite3.connect(mine) as conn:
        conn.execute("CREATE TABLE user_marker (note TEXT)")
        conn.execute("INSERT INTO user_marker VALUES ('keep me')")

    output = _run_tests_against(f"sqlite:///{mine}")

    with sqlite3.connect(mine) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == [("user_marker",)]
        assert conn.execute("SELECT note FROM user_marker").fetchall() == [("keep me",)]
    assert _database_used(output) != str(mine)


def test_a_postgresql_database_named_by_the_url_is_left_alone_and_the_runs_own_is_dropped(given_database_url):
    if not throwaway_db.is_postgres(given_database_url):
        pytest.skip("needs a PostgreSQL server: bash scripts/with-postgres.sh <pytest command>")
    server = make_url(given_database_url)
    name = f"storefront_user_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    mine = create_engine(server.set(database=name), poolclass=NullPool)
    try:
        with mine.begin() as conn:
            conn.execute(text("CREATE TABLE user_marker (note text)"))
            conn.execute(text("INSERT INTO user_marker VALUES ('keep me')"))

        output = _run_tests_against(server.set(database=name).render_as_string(hide_password=False))

        assert inspect(mine).get_table_names() == ["user_marker"]
        with mine.connect() as conn:
            assert conn.execute(text("SELECT note FROM user_marker")).scalars().all() == ["keep me"]
        used = _database_used(output)
        assert used.startswith(throwaway_db.PREFIX) and not throwaway_db.exists(used, given_database_url)
    finally:
        mine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
