"""The worker's heartbeat for /healthz: its main process refreshes a row every
``HEARTBEAT_EVERY_S`` seconds while it runs and removes it on a clean shutdown.

A thread of the main process, with its own engine without a pool (NullPool), so no
database connection is ever inherited by a forked pool process.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from dms.db.session import make_engine
from dms.services.health import HEARTBEAT_EVERY_S, beat, forget

log = logging.getLogger(__name__)
_stop = threading.Event()
_state: dict[str, Any] = {}


def _loop(sessions: sessionmaker[Any], name: str, concurrency: int) -> None:
    while True:
        try:
            beat(sessions, name, concurrency)
        except Exception as exc:  # the database may be away for a while: keep trying
            log.warning("worker heartbeat not written: %s", exc)
        if _stop.wait(HEARTBEAT_EVERY_S):
            return


@worker_ready.connect
def _start(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    settings = getattr(app, "dms_settings", None)
    if settings is None:
        return
    name = f"{socket.gethostname()}:{os.getpid()}"
    concurrency = int(getattr(getattr(sender, "pool", None), "num_processes", 0) or
                      app.conf.worker_concurrency or 0)  # type: ignore[union-attr]
    sessions = sessionmaker(bind=make_engine(settings.database_url, poolclass=NullPool))
    _state.update(sessions=sessions, name=name)
    _stop.clear()
    threading.Thread(target=_loop, args=(sessions, name, concurrency), daemon=True,
                     name="dms-heartbeat").start()


@worker_shutdown.connect
def _stop_beating(**_: Any) -> None:
    _stop.set()
    if "name" in _state:
        try:
            forget(_state["sessions"], _state["name"])
        except Exception as exc:
            log.warning("worker heartbeat not removed: %s", exc)
