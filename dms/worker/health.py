"""Liveness of the background processes, for container health checks.

* a worker: it answers a ``ping`` over the broker, addressed to this host's node (in a
  container the host name is the container's, so each replica checks itself);
* beat: it rewrites its schedule file (``DMS_DATA_DIR/celerybeat-schedule``) at least
  every few minutes while it runs (Celery syncs it every 3 minutes, and wakes at least
  every ``beat_max_loop_interval`` = 5 minutes).
"""
from __future__ import annotations

import socket
import time
from pathlib import Path

from celery import Celery

BEAT_SCHEDULE = "celerybeat-schedule"
# 3-minute sync + 5-minute longest sleep, with room to spare.
BEAT_STALE_AFTER_S = 900.0


def worker_node() -> str:
    return f"celery@{socket.gethostname()}"


def worker_answers(app: Celery, timeout: float = 5.0) -> bool:
    node = worker_node()
    replies = app.control.ping(destination=[node], timeout=timeout)
    return any(node in reply for reply in replies)


def beat_schedule_path(data_dir: Path) -> Path:
    return data_dir / BEAT_SCHEDULE


def beat_alive(data_dir: Path, *, now: float | None = None,
               stale_after_s: float = BEAT_STALE_AFTER_S) -> bool:
    """Has beat written its schedule (any of the files dbm makes of it) recently?"""
    files = list(data_dir.glob(BEAT_SCHEDULE + "*"))
    if not files:
        return False
    newest = max(f.stat().st_mtime for f in files)
    return (now if now is not None else time.time()) - newest < stale_after_s
