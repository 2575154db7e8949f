"""Redelivered tasks, a worker killed mid-page, a corrupt file, reprocess: real workers."""
from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.worker.conftest import WorkerSystem, multi_page_pdf

pytestmark = pytest.mark.slow


def test_a_redelivered_page_task_is_not_read_twice(
        worker_system: Callable[..., WorkerSystem], one_page_png: Path) -> None:
    system = worker_system()
    system.start_worker(concurrency=2)
    doc_id = system.add_document(one_page_png)
    system.wait(lambda: bool(system.pages(doc_id)), 120, "the document to be split")
    page_id = system.pages(doc_id)[0].id
    # Two more deliveries while the first is queued or running: two processes race for it.
    early = [system.app.send_task("dms.ocr_page", args=[page_id]).id for _ in range(2)]
    doc = system.wait_finished(doc_id)
    assert doc.ocr_status == "done"
    system.wait(lambda: all(system.succeeded(t) for t in early), 60, "the duplicates")
    first = system.pages(doc_id)[0]
    assert first.ocr_status == "done" and first.attempts == 1 and "合同" in first.text
    assert first.worker and first.ocr_finished_at is not None

    # Redelivery after the fact: the page, the document split and the finalize step.
    late = [system.app.send_task("dms.ocr_page", args=[page_id]).id,
            system.app.send_task("dms.ocr_document", args=[doc_id]).id,
            system.app.send_task("dms.finalize_document", args=[doc_id]).id]
    system.wait(lambda: all(system.succeeded(t) for t in late), 60, "the late redeliveries")
    again = system.pages(doc_id)[0]
    assert (again.attempts, again.ocr_started_at, again.ocr_finished_at) == (
        1, first.ocr_started_at, first.ocr_finished_at)
    assert len(system.pages(doc_id)) == 1
    assert len(system.audit("ocr_finished", doc_id)) == 1


def test_a_corrupt_document_fails_with_its_reason(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    system = worker_system()
    system.start_worker(concurrency=1)
    broken_pdf = tmp_path / "合同.pdf"
    broken_pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage, no xref\n")
    truncated_png = tmp_path / "申请书.png"
    truncated_png.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    pdf_id, png_id = system.add_document(broken_pdf), system.add_document(truncated_png)
    for doc_id in (pdf_id, png_id):
        doc = system.wait_finished(doc_id, timeout=120)
        assert doc.ocr_status == "failed" and doc.pages == []
        assert doc.ocr_error and doc.ocr_error == system.audit("ocr_failed", doc_id)[0].reason
        # The original is never touched: it is still there to look at.
        assert system.services.store.exists(doc.original_key)
    assert "PDF" in system.document(pdf_id).ocr_error


def test_a_worker_killed_mid_page_then_resume_finishes_the_document_once(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    system = worker_system()
    victim = system.start_worker(concurrency=1)
    doc_id = system.add_document(multi_page_pdf(tmp_path, 3))
    system.wait(lambda: any(p.ocr_status == "running" for p in system.pages(doc_id)), 120,
                "a page to be read")
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    system.workers.remove(victim)
    killed = [p for p in system.pages(doc_id) if p.ocr_status == "running"]
    assert len(killed) == 1 and killed[0].attempts == 1

    out = system.dms("ocr", "--resume")
    assert "re-queued 1 documents" in out.stdout
    system.start_worker(concurrency=1)
    doc = system.wait_finished(doc_id)

    assert doc.ocr_status == "done"
    pages = system.pages(doc_id)
    assert [p.ocr_status for p in pages] == ["done"] * 3
    # The killed page was read once more, by another process; no page was read twice
    # after it was done, and the document was finished (and moved on) exactly once.
    again = next(p for p in pages if p.id == killed[0].id)
    assert again.attempts == 2 and again.worker != killed[0].worker
    assert sum(p.attempts for p in pages) == 4
    assert len(system.audit("ocr_finished", doc_id)) == 1
    business_no = f"YK{doc.sha256[:10]}"
    assert len(system.audit("transition", business_no)) == 1


def test_reprocess_reads_the_document_again(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    system = worker_system()
    system.start_worker(concurrency=2)
    doc_id = system.add_document(multi_page_pdf(tmp_path, 2))
    system.wait_finished(doc_id)
    before = {p.page_no: p for p in system.pages(doc_id)}

    out = system.dms("ocr", "--reprocess", "--document", str(doc_id))
    assert "queued 1 documents" in out.stdout
    system.wait(lambda: len(system.audit("ocr_finished", doc_id)) == 2, 240,
                "the second OCR run")
    doc = system.document(doc_id)
    assert doc.ocr_status == "done" and doc.page_count == 2
    after = system.pages(doc_id)
    assert [p.page_no for p in after] == [1, 2]
    assert all(p.ocr_status == "done" and p.attempts == 1 for p in after)
    for p in after:
        started, finished_before = p.ocr_started_at, before[p.page_no].ocr_finished_at
        assert started is not None and finished_before is not None and started > finished_before
    assert [p.text for p in after] == [before[1].text, before[2].text]
    assert len(system.audit("ocr_reprocess", doc_id)) == 1
