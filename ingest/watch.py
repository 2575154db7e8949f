"""``--watch``: poll ROOT and ingest customer folders once they have stopped changing.

A scanner station copies a folder file by file; ingesting a half-copied file
would store a truncated scan. So a file is only taken when its size and mtime
have been stable for ``settle_seconds``, and a top-level folder only when all
of its new files are stable (its business folders arrive together).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from ingest.batch import LEDGER_NAME, ingest_folder
from ingest.layout import Item, Ledger, check_root, walk
from ingest.report import BatchReport, ProgressCallback


def _group(rel_path: str) -> str:
    head, sep, _ = rel_path.partition("/")
    return head if sep else rel_path


def watch_folder(services: Services, root: Path, *, dispatcher: Dispatcher, workers: int = 8,
                 settle_seconds: float = 10.0, poll_seconds: float = 2.0,
                 progress: ProgressCallback | None = None,
                 on_batch: Callable[[BatchReport], None] | None = None,
                 stop: threading.Event | None = None, max_polls: int | None = None) -> int:
    """Poll until *stop* is set (or *max_polls* polls ran); return the number of batches."""
    root = check_root(Path(root))
    stop = stop or threading.Event()
    ledger = Ledger(services.settings.data_dir / LEDGER_NAME)
    # rel_path -> (size, mtime_ns) already handled in this session: small per-file records.
    done: dict[str, tuple[int, int]] = {}
    # rel_path -> (item, monotonic time since which its stat has been unchanged)
    seen: dict[str, tuple[Item, float]] = {}
    batches = polls = 0
    try:
        while not stop.is_set():
            polls += 1
            ready = _poll(root, seen, done, settle_seconds, ledger)
            if ready:
                report = ingest_folder(services, root, dispatcher=dispatcher, workers=workers,
                                       progress=progress, items=ready)
                batches += 1
                for item in ready:
                    done[item.rel_path] = (item.size, item.mtime_ns)
                    seen.pop(item.rel_path, None)
                if on_batch is not None:
                    on_batch(report)
            if max_polls is not None and polls >= max_polls:
                break
            stop.wait(poll_seconds)
    finally:
        ledger.close()
    return batches


def _poll(root: Path, seen: dict[str, tuple[Item, float]], done: dict[str, tuple[int, int]],
          settle_seconds: float, ledger: Ledger) -> list[Item]:
    now = time.monotonic()
    current: dict[str, tuple[Item, float]] = {}
    for item in walk(root):
        stat = (item.size, item.mtime_ns)
        if done.get(item.rel_path) == stat:
            continue
        prev = seen.get(item.rel_path)
        stable_prev = prev is not None and (prev[0].size, prev[0].mtime_ns) == stat and (
            prev[0].ctime_ns == item.ctime_ns)
        current[item.rel_path] = (item, prev[1] if stable_prev and prev else now)
    # Files unchanged since an earlier session are not news: don't re-report them each start.
    known = ledger.lookup(str(root), [it for it, _ in current.values()])
    for rel in known:
        item = current.pop(rel)[0]
        done[rel] = (item.size, item.mtime_ns)
    seen.clear()
    seen.update(current)
    unsettled = {_group(rel) for rel, (_, since) in current.items()
                 if now - since < settle_seconds}
    return [item for rel, (item, _) in sorted(current.items())
            if _group(rel) not in unsettled]
