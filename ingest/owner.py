"""Who runs a folder batch, and whether that process is still there.

A ``dms ingest`` killed with SIGKILL (OOM killer, a reboot, ``kill -9``) cannot mark its
batch: the row stays "running". Each folder batch therefore records its host and pid and
refreshes a heartbeat while it works; a later run or listing decides from those whether
the owner is gone. The decision (``owner_gone``) is pure: the clock and the process check
are passed in.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: A running batch refreshes its heartbeat this often (from the thread that writes rows).
HEARTBEAT_EVERY = timedelta(seconds=60)
#: Silent for this long, a batch counts as abandoned even where its pid cannot be checked
#: (another host) or may have been reused; generous, as walking a huge tree takes a while.
STALE_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int


def this_process() -> Owner:
    return Owner(socket.gethostname()[:255], os.getpid())


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (signal 0 checks, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def owner_gone(host: str, pid: int | None, last_sign_of_life: datetime, *, now: datetime,
               here: Owner, alive: Callable[[int], bool],
               stale_after: timedelta = STALE_AFTER) -> bool:
    """True when the process that owns a running batch no longer exists.

    ``last_sign_of_life`` is the heartbeat, or the start for batches that never beat.
    On this host a missing pid settles it at once; elsewhere only silence can.
    """
    if now - last_sign_of_life > stale_after:
        return True
    if host == here.host and pid is not None and pid != here.pid:
        return not alive(pid)
    return False
