"""The database side of OCR: split a document into pages, record page results,
finish the document. Celery tasks (``ocr_worker.tasks``) are thin wrappers.

Every function is idempotent: a redelivered task finds the work done and
returns, so ``acks_late`` redelivery never OCRs a page twice.
"""
from __future__ import annotations

import json
import logging
import shutil
from functools import partial
from datetime import datetime, timedelta, UTC
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import Business, Document, Page
from dms.db.session import after_commit, session_scope
from dms.domain.lifecycle import State
from dms.errors import BadDocumentError, OcrError
from dms.services.container import Services
from dms.services.dispatch import Dispatcher
from dms.services.indexing import index_document

log = logging.getLogger(__name__)

TERMINAL = ("done", "failed")


def _work_dir(services: Services, name: str) -> Path:
    d = services.settings.work_dir / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def prepare_document(services: Services, document_id: int, dispatcher: Dispatcher) -> int:
    """Rasterise the original into page images in the store and queue each page."""
    from ocr_worker.rasterise import pdf_text_layer, rasterise

    s = services.settings
    with session_scope(services.sessions) as session:
        doc = session.get(Document, document_id)
        if doc is None:
            log.warning("document %s vanished before OCR", document_id)
            return 0
        if doc.pages:  # already split: (re)queue the pages that are not finished
            pending = [p.id for p in doc.pages if p.ocr_status not in TERMINAL]
            for pid in pending:
                after_commit(session, partial(dispatcher.ocr_page, pid))
            if not pending and doc.ocr_status not in ("done", "partial", "failed"):
                after_commit(session, partial(dispatcher.finalize_document, document_id))
            return len(pending)
        work = _work_dir(services, f"doc-{document_id}")
        try:
            src = work / f"original{Path(doc.source_name).suffix.lower()}"
            services.store.download(doc.original_key, src)
            try:
                images = rasterise(src, work / "pages", dpi=s.ocr_dpi, max_pages=s.ocr_max_pages,
                                   max_pixels=s.ocr_max_pixels, timeout=s.ocr_page_timeout_s)
            except BadDocumentError as exc:
                doc.ocr_status, doc.ocr_error = "failed", str(exc)
                audit.record(session, actor="system", action="ocr_failed", entity="document",
                             entity_id=doc.id, reason=str(exc))
                return 0
            existing = pdf_text_layer(src) if src.suffix == ".pdf" else []
            for n, img in enumerate(images, 1):
                key = f"pages/{doc.sha256[:2]}/{doc.sha256}/{n:04d}.png"
                services.store.put_file(key, img, "image/png")
                doc.pages.append(Page(page_no=n, image_key=key,
                                      existing_text=existing[n - 1] if n <= len(existing) else ""))
            doc.page_count = len(images)
            doc.ocr_status = "ocr"
            session.flush()
            for p in doc.pages:
                after_commit(session, partial(dispatcher.ocr_page, p.id))
            return len(images)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def ocr_page(services: Services, page_id: int, dispatcher: Dispatcher, *,
             final_attempt: bool = False) -> None:
    """OCR one page. Raises OcrError for the task layer to retry, unless this is
    the final attempt, in which case the page is marked failed with its reason."""
    from ocr_worker.pipeline import make_context, process_page

    s = services.settings
    with session_scope(services.sessions) as session:
        page = session.get(Page, page_id)
        if page is None or page.ocr_status == "done":
            return  # redelivered or deleted: nothing to do
        page.attempts += 1
        page.ocr_status = "running"
        page.ocr_started_at = datetime.now(UTC)
        image_key, doc_id, page_no, sha = (page.image_key, page.document_id, page.page_no,
                                           page.document.sha256)
        existing_text = page.existing_text
    work = _work_dir(services, f"page-{page_id}")
    try:
        img = work / "page.png"
        services.store.download(image_key, img)
        ctx = make_context(img, s, page_no=page_no, work_dir=work / "steps")
        try:
            result = process_page(img, ctx, s, existing_text=existing_text or None)
        except OcrError as exc:
            _page_failed(services, page_id, str(exc), final=final_attempt or not exc.retryable,
                         dispatcher=dispatcher)
            if exc.retryable and not final_attempt:
                raise
            return
        base = f"ocr/{sha[:2]}/{sha}/{page_no:04d}"
        words_key, pdf_key = f"{base}.words.json", f"{base}.pdf"
        services.store.put_bytes(words_key, json.dumps(
            [w.to_dict() for w in result.words], ensure_ascii=False).encode(), "application/json")
        services.store.put_file(pdf_key, result.page_pdf, "application/pdf")
        with session_scope(services.sessions) as session:
            page = session.get(Page, page_id)
            if page is None:
                return
            page.text, page.confidence = result.text, result.mean_confidence
            page.rotation, page.skew = result.rotation, result.skew
            page.needs_review, page.engine = result.needs_review, result.engine
            page.words_key, page.page_pdf_key = words_key, pdf_key
            page.ocr_status, page.ocr_error = "done", ""
            page.ocr_finished_at = datetime.now(UTC)
            _finalize_if_complete(session, doc_id, dispatcher)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _page_failed(services: Services, page_id: int, reason: str, *, final: bool,
                 dispatcher: Dispatcher) -> None:
    with session_scope(services.sessions) as session:
        page = session.get(Page, page_id)
        if page is None:
            return
        page.ocr_error = reason
        page.ocr_status = "failed" if final else "retrying"
        if final:
            audit.record(session, actor="system", action="page_ocr_failed", entity="page",
                         entity_id=page_id, reason=reason)
            _finalize_if_complete(session, page.document_id, dispatcher)


def _finalize_if_complete(session: Session, doc_id: int, dispatcher: Dispatcher) -> None:
    session.flush()
    open_pages = session.scalar(select(func.count()).select_from(Page).where(
        Page.document_id == doc_id, Page.ocr_status.not_in(TERMINAL)))
    if open_pages == 0:
        after_commit(session, partial(dispatcher.finalize_document, doc_id))


def finalize_document(services: Services, document_id: int) -> None:
    """Assemble the searchable PDF, index the text and move the lifecycle on."""
    from ocr_worker.pdf_assembly import assemble_searchable_pdf

    with session_scope(services.sessions) as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.ocr_status in ("done", "partial"):
            return
        if any(p.ocr_status not in TERMINAL for p in doc.pages):
            return  # a page is still running; its completion finalizes
        done = [p for p in doc.pages if p.ocr_status == "done"]
        work = _work_dir(services, f"final-{document_id}")
        try:
            if done:
                pdfs = []
                for p in done:
                    local = work / f"{p.page_no:04d}.pdf"
                    services.store.download(p.page_pdf_key or "", local)
                    pdfs.append(local)
                out = assemble_searchable_pdf(pdfs, work / "searchable.pdf")
                key = f"searchable/{doc.sha256[:2]}/{doc.sha256}.pdf"
                services.store.put_file(key, out, "application/pdf")
                doc.searchable_pdf_key = key
        finally:
            shutil.rmtree(work, ignore_errors=True)
        failed = [p for p in doc.pages if p.ocr_status == "failed"]
        doc.ocr_status = "done" if not failed else ("partial" if done else "failed")
        doc.ocr_error = "; ".join(f"第{p.page_no}页: {p.ocr_error}" for p in failed)
        if doc.business is not None:
            _mark_digitised(session, doc.business)
        audit.record(session, actor="system", action="ocr_finished", entity="document",
                     entity_id=doc.id, data={"status": doc.ocr_status, "pages": len(doc.pages)})
        after_commit(session, partial(_index_after_commit, services, document_id))


def _mark_digitised(session: Session, business: Business) -> None:
    # An electronic copy now exists: pending_add → pending_send (gate "digitised").
    if business.archive_state == State.PENDING_ADD:
        business.archive_state = State.PENDING_SEND
        business.state_since = datetime.now(UTC)
        audit.record(session, actor="system", action="transition", entity="business",
                     entity_id=business.business_no, from_state=State.PENDING_ADD,
                     to_state=State.PENDING_SEND, reason="electronic copy digitised")


def _index_after_commit(services: Services, document_id: int) -> None:
    with session_scope(services.sessions) as session:
        index_document(session, services.index, document_id)


def requeue_stalled(services: Services, dispatcher: Dispatcher, *,
                    older_than: timedelta = timedelta(minutes=10)) -> int:
    """Re-dispatch documents whose work was lost (a worker killed mid-task, a broker
    that dropped an unacked message). Safe to run any time: the tasks are idempotent."""
    cutoff = datetime.now(UTC) - older_than
    with session_scope(services.sessions) as session:
        stalled = session.scalars(select(Document.id).where(
            Document.ocr_status.in_(("queued", "ocr")), Document.updated_at < cutoff)).all()
        session.execute(update(Document).where(Document.id.in_(stalled))
                        .values(updated_at=datetime.now(UTC)))
        for doc_id in stalled:
            after_commit(session, partial(dispatcher.ocr_document, doc_id))
        return len(stalled)


def reprocess(services: Services, dispatcher: Dispatcher, document_ids: list[int]) -> int:
    """Throw away OCR results and read the documents again (after an engine upgrade)."""
    with session_scope(services.sessions) as session:
        for doc_id in document_ids:
            doc = session.get(Document, doc_id)
            if doc is None:
                continue
            for p in list(doc.pages):
                session.delete(p)
            doc.ocr_status, doc.ocr_error, doc.page_count = "queued", "", 0
            audit.record(session, actor="system", action="ocr_reprocess", entity="document",
                         entity_id=doc_id)
            after_commit(session, partial(dispatcher.ocr_document, doc_id))
        return len(document_ids)
