"""Faults on real components (issue 17): the worker fixtures of ``tests/worker`` plus a
process that holds the embedded index's writer lock (the index unavailable to writers)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs for the object store; skipped (with the reason) where this process
    may not mount (the development machines and CI run the tests as root)."""
    mnt = tmp_path / "objects"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the full-disk fault needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk`` (a ballast file); delete it to free the space."""
    ballast = disk / "ballast"
    with open(ballast, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return ballast
