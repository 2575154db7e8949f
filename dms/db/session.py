"""Engines and sessions; side effects run after commit from one place."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from dms.domain.localtime import minute_with_offset
from dms.errors import ConfigError

log = logging.getLogger(__name__)

Effect = Callable[[], None]


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        db_file = make_url(url).database
        if db_file and db_file != ":memory:":
            Path(db_file).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets the web process read while workers write; busy_timeout waits
            # for a writer instead of failing at once.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # SQLite has no time zones: reports format local times with this.
            dbapi_conn.create_function("dms_minute_with_offset", 2, minute_with_offset,
                                       deterministic=True)

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}",
                      hint="use sqlite:///path or postgresql+psycopg2://user:pw@host/db")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    _install_effect_runner(factory)
    return factory


def after_commit(session: Session, effect: Effect) -> None:
    """Run ``effect`` once the session's transaction has committed.

    The only way side effects (queueing OCR, updating the search index) are
    triggered: nothing is dispatched for data that was rolled back, and a task
    never races a row that is not yet visible to the worker.
    """
    session.info.setdefault("effects", []).append(effect)


def effect_name(effect: Effect) -> str:
    """A loggable name of an effect, without the values it closes over."""
    func = getattr(effect, "func", effect)  # functools.partial
    name = getattr(func, "__qualname__", type(func).__name__)
    return f"{getattr(func, '__module__', '?')}.{name}"


def _install_effect_runner(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "before_commit")
    def _derive(session: Session) -> None:
        # Derived tables commit with the rows they derive from (the gap table, issue 9).
        from dms.services.gap_table import refresh_dirty

        refresh_dirty(session)

    @event.listens_for(factory, "after_commit")
    def _run(session: Session) -> None:
        effects: list[Effect] = session.info.pop("effects", [])
        for effect in effects:
            try:
                effect()
            except Exception:  # an effect failing must not undo the committed data
                # Name the effect, never repr() it: a partial's repr shows its arguments,
                # and those can hold the settings with every secret (issue 16).
                log.exception("after-commit effect failed: %s", effect_name(effect))

    @event.listens_for(factory, "after_rollback")
    def _drop(session: Session) -> None:
        session.info.pop("effects", None)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
