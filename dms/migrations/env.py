"""Alembic environment: the URL comes from the Settings object, not from alembic.ini."""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dms.db import audit  # noqa: F401  (registers append-only guard)
from dms.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    from dms.db.session import make_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:  # the `alembic` command with the repository's alembic.ini: DMS_* settings
        from dms.settings import load_settings

        url = load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
