"""Faults on real components (issue 17): the worker fixtures of ``tests/worker`` plus a
process that holds the embedded index's writer lock (the index unavailable to writers)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.worker.conftest import one_page_png, worker_system  # noqa: F401 (fixtures)

# Holds tantivy's OS writer lock on the directory until its stdin closes: to every other
# process the index is then unwritable, exactly as behind a long foreign writer or a hung
# disk. (Removing the directory is the other failure; `dms reindex` answers that one.)
_HOLD = """
import sys, tantivy
from search.tantivy_schema import build_schema
index = tantivy.Index(build_schema(), path=sys.argv[1], reuse=True)
writer = index.writer(heap_size=15_000_000, num_threads=1)
print("held", flush=True)
sys.stdin.read()
"""


class IndexLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> IndexLock:
        self.path.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(self.path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "held"
        return self

    def __exit__(self, *_: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()  # the writer is dropped with the process: lock released
        self.proc.wait(30)
