"""The search index unavailable to writers while OCR finishes and while a document is
deleted: the database commits, nothing is lost, and once the index is back it catches up by
itself (the queue retries the failed updates with backoff), without `dms reindex`."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dms.db.models import Document
from tests.faults.conftest import IndexLock
from tests.worker.conftest import WorkerSystem

pytestmark = pytest.mark.slow

# One second's wait for the writer lock instead of thirty, retries at most 2 s apart.
FAST = {"DMS_OCR_ENGINE": "tesseract", "DMS_SEARCH_LOCK_TIMEOUT_S": "1",
        "DMS_INDEX_RETRY_MAX_S": "2"}


def _indexed_pages(system: WorkerSystem) -> int:
    system.services.index.refresh()
    return system.services.index.count()


def test_index_unavailable_then_back_catches_up_by_itself(
        worker_system: Callable[..., WorkerSystem], one_page_png: Path) -> None:
    system = worker_system(**FAST)
    index_dir = system.settings.search_index_path
    assert index_dir is not None
    system.start_worker(concurrency=1)
    system.wait_ready(1)

    with IndexLock(index_dir):
        doc_id = system.add_document(one_page_png)
        doc = system.wait_finished(doc_id)
        assert doc.ocr_status == "done"  # the OCR result is committed despite the index
        assert all(p.text.strip() for p in system.pages(doc_id))
        system.wait(lambda: "not indexed" in system.log(), 60, "the failed index update")
        assert _indexed_pages(system) == 0

    # Back: the retried task indexes the page, nobody runs `dms reindex`.
    system.wait(lambda: _indexed_pages(system) == 1, 90, "the index to catch up")
    assert "succeeded" in system.log()

    # A write from another process (the CLI) while the index is locked again: the delete
    # commits at once; the index entry goes when the index comes back.
    with IndexLock(index_dir):
        out = system.dms("documents", "delete", str(doc_id), "--yes", **FAST)
        assert f"document {doc_id} deleted" in out.stdout
        with system.services.sessions() as s:
            assert s.get(Document, doc_id) is None
        assert _indexed_pages(system) == 1
    system.wait(lambda: _indexed_pages(system) == 0, 90, "the deletion to reach the index")
