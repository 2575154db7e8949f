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
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode alters a SQLite table by copying it and dropping the old one; with
        # foreign keys enforced that DROP fails as soon as other rows refer to it (a
        # populated database). Off for the migration (it cannot change inside a
        # transaction), then checked once at the end.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # end SQLAlchemy's autobegun transaction: alembic owns the next
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


run_migrations_online()
