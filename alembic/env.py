"""Alembic runs against the engine the app uses, so SQLite and PostgreSQL share one migration path."""

from alembic import context
from sqlmodel import SQLModel

import storefront.adapters.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from storefront.adapters.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection") or get_engine()
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
