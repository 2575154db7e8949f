"""Several worker processes share one document's pages, on the embedded broker and on Redis."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dms.testing.postgres import ThrowawayRedis
from tests.worker.conftest import WorkerSystem, multi_page_pdf

pytestmark = pytest.mark.slow

PAGES = 6


def _parent_pid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _two_workers_share_one_document(system: WorkerSystem, tmp_path: Path) -> None:
    workers = [system.start_worker(concurrency=1) for _ in range(2)]
    system.wait_ready(2)
    doc_id = system.add_document(multi_page_pdf(tmp_path, PAGES))
    doc = system.wait_finished(doc_id, timeout=300)
    assert doc.ocr_status == "done"
    pages = system.pages(doc_id)
    assert [p.ocr_status for p in pages] == ["done"] * PAGES
    assert all(p.attempts == 1 for p in pages)
    # Which `dms worker` process read each page: the pool child's parent.
    readers = {_parent_pid(int(p.worker.rsplit(":", 1)[1])) for p in pages}
    assert readers == {w.pid for w in workers}, "the pages were not spread over both workers"
    assert "第3页" in "".join(p.text for p in pages).replace(" ", "")
    assert len(system.audit("ocr_finished", doc_id)) == 1


def test_two_workers_share_a_documents_pages_on_the_embedded_broker(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    _two_workers_share_one_document(worker_system(), tmp_path)


def test_two_workers_share_a_documents_pages_on_redis(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path,
        redis_server: ThrowawayRedis) -> None:
    system = worker_system(DMS_BROKER_URL=redis_server.url)
    assert system.app.conf.broker_url.startswith("redis://")
    _two_workers_share_one_document(system, tmp_path)
