"""Scale mode, end to end: PostgreSQL + Redis + S3 (SeaweedFS) + the embedded index, two
separate ``dms worker`` processes and ``dms beat``, fed by ``dms ingest`` of a folder.

The same folder goes through the embedded mode (SQLite, the SQLite broker, the local
object store, one worker) first; the scale run must give the same documents, pages, text
and search hits, read every page exactly once (the completed reads are counted from the
workers' logs: one "page N step seconds" line per read), and finish after one of its two
workers is killed with SIGKILL in the middle of a page: beat's stalled-work sweep
re-queues the page, whose dead claim the other worker takes over.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dms.db.models import Document, Page
from dms.testing.postgres import ThrowawayPostgres, ThrowawayRedis
from dms.testing.seaweed import SeaweedS3
from search import SearchQuery
from tests.worker.conftest import FINISHED, WorkerSystem, save_pdf, small_page

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]

# customer folder -> pages of its one document
FOLDER = {"3301000001_张三": 3, "3301000002_李四": 2, "3301000003_王五": 3}
PAGES = sum(FOLDER.values())
READ = re.compile(r"page (\d+) step seconds")

Snapshot = list[tuple[str, str, int, str, str]]


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


def scanner_folder(root: Path) -> Path:
    n = 0
    for customer, pages in FOLDER.items():
        (root / customer).mkdir(parents=True)
        save_pdf([small_page(n + i) for i in range(1, pages + 1)], root / customer / "scan.pdf")
        n += pages
    return root


def _parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _ingest(system: WorkerSystem, folder: Path) -> None:
    out = system.dms("ingest", str(folder), "--json")
    assert out.returncode == 0, out.stderr


def _all_finished(system: WorkerSystem) -> bool:
    with system.services.sessions() as s:
        docs = s.scalars(select(Document)).all()
        return len(docs) == len(FOLDER) and all(d.ocr_status in FINISHED for d in docs)


def snapshot(system: WorkerSystem) -> Snapshot:
    """(customer folder, status, page no, page status, text) of every page."""
    with system.services.sessions() as s:
        rows = s.execute(select(Document.customer_id, Document.ocr_status, Page.page_no,
                                Page.ocr_status, Page.text, Document.id)
                         .join(Page, Page.document_id == Document.id)
                         .order_by(Document.id, Page.page_no)).all()
        names = {d.id: d.customer.customer_no for d in s.scalars(select(Document))}
    return sorted((names[r[5]], r[1], r[2], r[3], r[4]) for r in rows)


def search_hits(system: WorkerSystem, text: str) -> list[tuple[str, int]]:
    index = system.services.index
    index.refresh()
    result = index.search(SearchQuery(text=text, size=100))
    with system.services.sessions() as s:
        names = {d.id: d.customer.customer_no for d in s.scalars(select(Document))}
    return sorted((names[h.document_id], h.page_no) for h in result.hits)


def completed_reads(system: WorkerSystem) -> Counter[int]:
    return Counter(int(m) for m in READ.findall(system.log()))


def start_beat(system: WorkerSystem) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "dms", "beat"], env=system.env,
                            stdout=subprocess.DEVNULL, stderr=open(system.root / "beat.log", "ab"),
                            start_new_session=True)
    system.workers.append(proc)
    return proc


def test_scale_mode_matches_the_embedded_mode_and_survives_a_killed_worker(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path, postgres: ThrowawayPostgres,
        redis_server: ThrowawayRedis, seaweed: SeaweedS3) -> None:
    folder = scanner_folder(tmp_path / "scans")

    embedded = worker_system()
    embedded.start_worker(concurrency=1)
    embedded.wait_ready(1)
    _ingest(embedded, folder)
    embedded.wait(lambda: _all_finished(embedded), 600, "the embedded run")
    expected = snapshot(embedded)
    assert len(expected) == PAGES and {r[1] for r in expected} == {"done"}
    # The index is written after the finalize commits: wait for it, not only the status.
    embedded.wait(lambda: len(search_hits(embedded, "供用电合同")) == PAGES, 60, "the index")
    expected_hits = search_hits(embedded, "供用电合同")
    embedded.stop_workers()

    redis_url = redis_server.url.rsplit("/", 1)[0] + "/6"
    scale = worker_system(
        DMS_DATABASE_URL=postgres.create_database(f"scale{uuid.uuid4().hex[:8]}"),
        DMS_BROKER_URL=redis_url,
        DMS_OBJECT_STORE="s3", DMS_S3_ENDPOINT_URL=seaweed.endpoint_url,
        DMS_S3_BUCKET=f"scale-{uuid.uuid4().hex[:12]}",
        DMS_S3_ACCESS_KEY=seaweed.access_key, DMS_S3_SECRET_KEY=seaweed.secret_key,
        DMS_OCR_STALLED_SWEEP_EVERY_S="5", DMS_OCR_STALLED_AFTER_S="10")
    assert scale.app.conf.broker_url.startswith("redis://")
    assert scale.services.engine.dialect.name == "postgresql"
    assert type(scale.services.store).__name__ == "S3ObjectStore"
    scale.app.connection_for_write().default_channel.client.flushdb()

    doomed, survivor = (scale.start_worker(concurrency=1) for _ in range(2))
    start_beat(scale)
    scale.wait_ready(2)
    _ingest(scale, folder)

    # Kill the first worker while it is in the middle of a page it has just claimed.
    killed: list[int] = []

    def doomed_is_reading() -> bool:
        with scale.services.sessions() as s:
            for page in s.scalars(select(Page).where(Page.ocr_status == "running")):
                started = page.ocr_started_at
                fresh = started is not None and datetime.now(UTC) - (
                    started if started.tzinfo else started.replace(tzinfo=UTC)) < timedelta(
                    seconds=1)
                pid = int(page.worker.rsplit(":", 1)[1])
                if fresh and os.path.exists(f"/proc/{pid}") and _parent_pid(pid) == doomed.pid:
                    os.killpg(doomed.pid, signal.SIGKILL)
                    killed.append(page.id)
                    return True
        return False

    scale.wait(doomed_is_reading, 300, "the first worker to read a page")
    doomed.wait(10)
    assert doomed.returncode == -signal.SIGKILL

    scale.wait(lambda: _all_finished(scale), 600, "the other worker to finish the run")
    assert survivor.poll() is None
    assert snapshot(scale) == expected
    scale.wait(lambda: len(search_hits(scale, "供用电合同")) == PAGES, 60, "the index")
    assert search_hits(scale, "供用电合同") == expected_hits

    with scale.services.sessions() as s:
        pages = {p.id: p for p in s.scalars(select(Page))}
    reads = completed_reads(scale)
    assert reads == Counter({pid: 1 for pid in pages}), "a page was read twice or never"
    assert pages[killed[0]].attempts == 2  # the killed read, then the survivor's
    assert all(p.attempts == 1 for pid, p in pages.items() if pid != killed[0])
    readers = {_parent_pid(int(p.worker.rsplit(":", 1)[1])) for p in pages.values()
               if os.path.exists(f"/proc/{p.worker.rsplit(':', 1)[1]}")}
    assert readers <= {survivor.pid}
