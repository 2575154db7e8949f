"""A migrated database (SQLite and PostgreSQL) with audit entries, and raw-SQL tampering
that goes around the append-only triggers as an attacker with the owner's rights would."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dms.db import audit
from dms.db.migrate import upgrade
from dms.db.session import make_engine, make_session_factory, session_scope

TRIGGERS = {"sqlite": ("DROP TRIGGER audit_events_no_update",
                       "DROP TRIGGER audit_events_no_delete"),
            "postgresql": ("DROP TRIGGER audit_events_append_only ON audit_events",)}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def append(factory: sessionmaker[Session], n: int, *, actor: str = "alice") -> None:
    for i in range(n):
        with session_scope(factory) as s:
            audit.record(s, actor=actor, action="document_view", entity="document",
                         entity_id=i + 1, customer_no=f"33010000{i:02d}",
                         remote_addr="10.0.0.7", data={"page": i, "q": "合同"})


def tamper(engine: Engine, *statements: str) -> None:
    """Drop the triggers (the owner / superuser can), then run ``statements``."""
    with engine.begin() as conn:
        for ddl in TRIGGERS[engine.dialect.name]:
            conn.execute(text(ddl))
        for stmt in statements:
            conn.execute(text(stmt))
