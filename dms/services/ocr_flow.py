"""The database side of OCR: split a document into pages, record page results,
finish the document. Celery tasks (``dms.worker.tasks``) are thin wrappers;
the OCR itself is the leaf library ``ocr_worker``.

Every function is idempotent: a redelivered task finds the work done (or being done by
a live worker) and returns, so ``acks_late`` redelivery never OCRs a page twice. A page
is *claimed* with a compare-and-set UPDATE that records the claiming process
(``host:pid``); a claim is taken over only when it is orphaned: its process is gone
(checked on the same host) or it is older than the task's hard time limit (any host).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dms.db import audit
from dms.db.models import Business, Document, Page
from dms.db.session import after_commit, session_scope
from dms.errors import OcrError, StorageError
from dms.services.container import Services
from dms.services.classification import classify_after_ocr
from dms.services.dispatch import Dispatcher
from dms.services.indexing import reindex_document_after_commit
from dms.services.lifecycle import mark_digitised
from dms.services.page_words import encode_words
from dms.services.searchable_pdf import searchable_key
from dms.settings import Settings
from dms.storage import page_image_mime
from ocr_worker.engines import choose_engine
from ocr_worker.pdf_assembly import assemble_searchable_pdf
from ocr_worker.pdf_slim import slim as slim_pdf
from ocr_worker.pipeline import make_context, process_page
from ocr_worker.rasterise import (
    pdf_page_sizes,
    pdf_text_layer,
    render_pdf_page,
    sniff,
    split_pages,
)

log = logging.getLogger(__name__)

TERMINAL = ("done", "failed")
DOC_FINISHED = ("done", "partial", "failed")


def page_time_limits(settings: Settings) -> tuple[int, int]:
    """(soft, hard) seconds a page task may run: a backstop behind the page's own budget
    (``ocr_page_timeout_s``, shared by its tools), so that a slow page fails with the
    tool's clear reason first; the margin covers download, upload and the database."""
    soft = settings.ocr_page_timeout_s * 2 + 30
    return soft, soft + 60


def document_time_limits(settings: Settings) -> tuple[int, int]:
    """(soft, hard) seconds for splitting a document: a backstop behind the rasterise
    budget, which grows with the page count (one page's time per page)."""
    soft = settings.ocr_page_timeout_s * settings.ocr_max_pages + 60
    return soft, soft + 60


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _work_dir(services: Services, name: str) -> Path:
    d = services.settings.work_dir / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def _touch_document(session: Session, doc_id: int, *, unless: tuple[str, ...] = ()) -> bool:
    """Write-lock the document row for the rest of the transaction (a row lock on
    PostgreSQL, the write lock on SQLite) so concurrent page completions and finalizers
    of one document run one after another and each sees the others' commits."""
    stmt = update(Document).where(Document.id == doc_id)
    if unless:
        stmt = stmt.where(Document.ocr_status.not_in(unless))
    res = session.execute(stmt.values(updated_at=datetime.now(UTC))
                          .execution_options(synchronize_session=False))
    return bool(res.rowcount)  # type: ignore[attr-defined]


# --- documents -> pages ---------------------------------------------------------------


def prepare_document(services: Services, document_id: int, dispatcher: Dispatcher, *,
                     final_attempt: bool = False) -> int:
    """Split the original into pages and queue each. A scanner's page image is taken out
    here and stored; a PDF page that poppler must render is rendered by its own page task
    (:func:`_page_image`), so the pages of a text PDF render on every worker at once.

    A broken file fails the document at once; a retryable error (a rasterise timeout)
    is raised for the task layer to retry, and fails the document on the final attempt.
    """
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
            if not pending and doc.ocr_status not in DOC_FINISHED:
                after_commit(session, partial(dispatcher.finalize_document, document_id))
            return len(pending)
        if doc.ocr_status in DOC_FINISHED:
            return 0  # failed before it had pages (a corrupt file): reprocess starts over
        work = _work_dir(services, f"doc-{document_id}-{os.getpid()}")
        try:
            src = work / f"original{Path(doc.source_name).suffix.lower()}"
            services.store.download(doc.original_key, src)
            try:
                # The budget grows with the document: a page's time for each page.
                n = len(pdf_page_sizes(src)) if sniff(src) == "pdf" else 1
                budget = s.ocr_page_timeout_s * min(max(n, 1), s.ocr_max_pages)
                images = split_pages(src, work / "pages", dpi=s.ocr_dpi,
                                     max_pages=s.ocr_max_pages,
                                     max_pixels=s.ocr_max_pixels, timeout=budget)
                existing = pdf_text_layer(src) if src.suffix == ".pdf" else []
            except OcrError as exc:
                if exc.retryable and not final_attempt:
                    raise
                _document_failed(session, doc, str(exc))
                return 0
            for n, img in enumerate(images, 1):
                suffix = RENDERED_SUFFIX if img is None else img.path.suffix
                key = f"pages/{doc.sha256[:2]}/{doc.sha256}/{n:04d}{suffix}"
                if img is not None:
                    services.store.put_file(key, img.path, page_image_mime(key))
                doc.pages.append(Page(page_no=n, image_key=key,
                                      dpi=s.ocr_dpi if img is None else img.dpi,
                                      existing_text=existing[n - 1] if n <= len(existing) else ""))
            doc.page_count = len(images)
            doc.ocr_status, doc.ocr_error = "ocr", ""
            session.flush()
            for p in doc.pages:
                after_commit(session, partial(dispatcher.ocr_page, p.id))
            return len(images)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _document_failed(session: Session, doc: Document, reason: str) -> None:
    doc.ocr_status, doc.ocr_error = "failed", reason
    audit.record(session, actor="system", action="ocr_failed", entity="document",
                 entity_id=doc.id, reason=reason)


# --- one page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    image_key: str
    document_id: int
    page_no: int
    sha256: str
    existing_text: str
    attempts: int
    doc_type: str | None = None  # for the per-type OCR engine setting
    requested_engine: str = ""  # the engine a `dms ocr --reprocess --engine` run asked for
    dpi: int | None = None  # the page image's resolution, when its source said it
    original_key: str = ""  # the document's original (a PDF page to render comes from it)


def _as_utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _orphaned(page: Page, now: datetime, lease: timedelta) -> bool:
    """Is this 'running' page's claim dead? Older than the hard time limit: the task was
    killed for sure. Same host and the process is gone: killed (SIGKILL, OOM) just now."""
    if page.ocr_started_at is None or now - _as_utc(page.ocr_started_at) > lease:
        return True
    host, _, pid = page.worker.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _pid_alive(int(pid))


def _claim_page(services: Services, page_id: int, dispatcher: Dispatcher) -> _Claim | None:
    s = services.settings
    now = datetime.now(UTC)
    with session_scope(services.sessions) as session:
        page = session.get(Page, page_id)
        if page is None or page.ocr_status in TERMINAL:
            return None  # deleted (reprocess) or finished: a redelivery, nothing to do
        if page.ocr_status == "running":
            if not _orphaned(page, now, timedelta(seconds=page_time_limits(s)[1])):
                log.info("page %s is being read by %s; skipping", page_id, page.worker)
                return None
            if page.attempts > s.ocr_max_retries:  # its worker died every time
                reason = f"worker process lost {page.attempts} times while reading this page"
                _mark_failed(session, page, reason, dispatcher)
                return None
        # Compare-and-set on the attempt counter: of two workers, one wins.
        res = session.execute(
            update(Page).where(Page.id == page_id, Page.attempts == page.attempts,
                               Page.ocr_status == page.ocr_status)
            .values(ocr_status="running", attempts=page.attempts + 1, ocr_started_at=now,
                    worker=worker_name())
            .execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return _Claim(page.image_key, page.document_id, page.page_no, page.document.sha256,
                      page.existing_text, page.attempts + 1, page.document.doc_type,
                      page.document.ocr_engine, page.dpi, page.document.original_key)


def ocr_page(services: Services, page_id: int, dispatcher: Dispatcher, *,
             final_attempt: bool = False) -> None:
    """OCR one page. Any failure is recorded on the page; a retryable one is raised as
    OcrError for the task layer to retry, unless this is the final attempt (by the
    task's count or the page's own), in which case the page is marked failed."""
    s = services.settings
    claim = _claim_page(services, page_id, dispatcher)
    if claim is None:
        return
    final_attempt = final_attempt or claim.attempts > s.ocr_max_retries
    work = _work_dir(services, f"page-{page_id}-{os.getpid()}")
    try:
        try:
            img = _page_image(services, claim, work)
            engine = choose_engine(s.ocr_engine, s.ocr_engine_by_doc_type,
                                   doc_type=claim.doc_type,
                                   requested=claim.requested_engine or None)
            ctx = make_context(img, s, page_no=claim.page_no, work_dir=work / "steps",
                               engine=engine)
            if claim.dpi:  # a PDF page's own resolution beats the image file's tag
                ctx.dpi, ctx.dpi_known = claim.dpi, True
            result = process_page(img, ctx, s, existing_text=claim.existing_text or None)
            log.info("page %s step seconds %s", page_id, json.dumps(result.timings))
            base = f"ocr/{claim.sha256[:2]}/{claim.sha256}/{claim.page_no:04d}"
            words_key, pdf_key = f"{base}.words.json.gz", f"{base}.pdf"
            services.store.put_bytes(words_key, encode_words(
                [w.to_dict() for w in result.words]), "application/gzip")
            services.store.put_file(pdf_key, result.page_pdf, "application/pdf")
        except StorageError as exc:
            # The store is down or full, not the page broken: never fail the page for it;
            # it waits as 'retrying' and the task layer retries on the storage budget.
            page_failed(services, page_id, str(exc), final=False, dispatcher=dispatcher)
            raise
        except Exception as exc:  # any crash fails the page (with a reason), not the document
            retryable = exc.retryable if isinstance(exc, OcrError) else True
            reason = _describe(exc, s)
            final = final_attempt or not retryable
            page_failed(services, page_id, reason, final=final, dispatcher=dispatcher)
            if final:
                return
            if isinstance(exc, OcrError):
                raise
            raise OcrError(reason) from exc
        with session_scope(services.sessions) as session:
            page = session.get(Page, page_id)
            if page is None:
                return
            page.text, page.confidence = result.text, result.mean_confidence
            page.rotation, page.skew = result.rotation, result.skew
            page.needs_review, page.engine = result.needs_review, result.engine
            page.review_reason = ",".join(result.notes.get("review_reasons", []))[:300]
            page.words_key, page.page_pdf_key = words_key, pdf_key
            page.ocr_status, page.ocr_error = "done", ""
            page.ocr_finished_at = datetime.now(UTC)
            _finalize_if_complete(session, claim.document_id, dispatcher)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# A PDF page rendered by poppler is stored under this suffix: by its page task, which
# renders it from the original when the split task left it to render (issue 18).
RENDERED_SUFFIX = ".pgm"


def _page_image(services: Services, claim: _Claim, work: Path) -> Path:
    """The page's image in ``work``: from the store, or -- a PDF page the split task left
    to render -- rendered here from the original and then stored under its key (so the
    viewer, fsck and a retry see what they would see had the split task rendered it)."""
    suffix = PurePosixPath(claim.image_key).suffix or ".png"
    store = services.store
    if suffix != RENDERED_SUFFIX or store.exists(claim.image_key):
        img = work / f"page{suffix}"
        store.download(claim.image_key, img)
        return img
    s = services.settings
    original = work / "original.pdf"
    store.download(claim.original_key, original)
    scan = render_pdf_page(original, claim.page_no, work / "render", dpi=claim.dpi or s.ocr_dpi,
                           timeout=float(s.ocr_page_timeout_s))
    store.put_file(claim.image_key, scan.path, page_image_mime(claim.image_key))
    return scan.path


def _describe(exc: Exception, settings: Settings) -> str:
    if isinstance(exc, OcrError):
        return str(exc)
    # Celery's SoftTimeLimitExceeded, matched by name: this module does not import Celery.
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return f"page exceeded the task time limit of {page_time_limits(settings)[0]} s"
    return f"{type(exc).__name__}: {exc}"


def page_failed(services: Services, page_id: int, reason: str, *, final: bool,
                dispatcher: Dispatcher) -> None:
    """Record a failed attempt: 'retrying' with its reason, or 'failed' for good."""
    with session_scope(services.sessions) as session:
        page = session.get(Page, page_id)
        if page is None or page.ocr_status in TERMINAL:
            return
        if final:
            _mark_failed(session, page, reason, dispatcher)
        else:
            page.ocr_status, page.ocr_error = "retrying", reason


def _mark_failed(session: Session, page: Page, reason: str, dispatcher: Dispatcher) -> None:
    page.ocr_status, page.ocr_error = "failed", reason
    page.ocr_finished_at = datetime.now(UTC)
    audit.record(session, actor="system", action="page_ocr_failed", entity="page",
                 entity_id=page.id, reason=reason)
    _finalize_if_complete(session, page.document_id, dispatcher)


def _finalize_if_complete(session: Session, doc_id: int, dispatcher: Dispatcher) -> None:
    session.flush()
    _touch_document(session, doc_id)  # serialise with the other pages of this document
    open_pages = session.scalar(select(func.count()).select_from(Page).where(
        Page.document_id == doc_id, Page.ocr_status.not_in(TERMINAL)))
    if open_pages == 0:
        after_commit(session, partial(dispatcher.finalize_document, doc_id))


# --- pages -> document ------------------------------------------------------------------


def finalize_document(services: Services, document_id: int) -> None:
    """Assemble the searchable PDF, index the text and move the lifecycle on. Once."""
    with session_scope(services.sessions) as session:
        # Lock first: of two finalizers (a redelivery) the second waits, then finds it done.
        if not _touch_document(session, document_id, unless=DOC_FINISHED):
            return
        doc = session.get(Document, document_id)
        if doc is None or not doc.pages or any(p.ocr_status not in TERMINAL for p in doc.pages):
            return  # a page is still running; its completion finalizes
        done = [p for p in doc.pages if p.ocr_status == "done"]
        work = _work_dir(services, f"final-{document_id}-{os.getpid()}")
        try:
            if done:
                pdfs = []
                for p in done:
                    local = work / f"{p.page_no:04d}.pdf"
                    services.store.download(p.page_pdf_key or "", local)
                    pdfs.append(local)
                out = assemble_searchable_pdf(pdfs, work / "searchable.pdf")
                # The scan images the original holds are not stored twice (pdf_slim).
                original = work / "original"
                services.store.download(doc.original_key, original)
                slim = slim_pdf(out, original, work / "slim.pdf",
                                page_numbers=[p.page_no for p in done])
                key = searchable_key(doc.sha256, slim=bool(slim))
                services.store.put_file(key, work / "slim.pdf", "application/pdf")
                doc.searchable_pdf_key = key
                if not services.settings.keep_page_artifacts:
                    _drop_page_artifacts(session, services, done)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        failed = [p for p in doc.pages if p.ocr_status == "failed"]
        doc.ocr_status = "done" if not failed else ("partial" if done else "failed")
        doc.ocr_error = "; ".join(f"第{p.page_no}页: {p.ocr_error}" for p in failed)
        if doc.business is not None and done:
            _mark_digitised(session, doc.business)
        audit.record(session, actor="system", action="ocr_finished", entity="document",
                     entity_id=doc.id, data={"status": doc.ocr_status, "pages": len(doc.pages)})
        classify_after_ocr(session, services, document_id)  # doc_type + facts before indexing
        # merged with the reindex the state change above scheduled: one rebuild per document
        reindex_document_after_commit(session, services, document_id)


def _drop_page_artifacts(session: Session, services: Services, pages: list[Page]) -> None:
    """The page images and one-page PDFs were work files for the searchable PDF, which
    holds the same image bytes (the viewer takes a page's image from it); deleted after
    the commit, so a finalize that fails still finds them on its retry."""
    keys = [k for p in pages for k in (p.image_key, p.page_pdf_key) if k]
    for p in pages:
        p.page_pdf_key = None
    after_commit(session, partial(_delete_keys, services, keys))


def _delete_keys(services: Services, keys: list[str]) -> None:
    for key in keys:
        try:
            services.store.delete(key)
        except StorageError as exc:  # an orphan work file costs bytes, not correctness
            log.warning("could not delete %s: %s", key, exc)


def _mark_digitised(session: Session, business: Business) -> None:
    # An electronic copy now exists: pending_add → pending_send (gate "digitised").
    mark_digitised(session, business, datetime.now(UTC))


# --- operations -------------------------------------------------------------------------


def requeue_stalled(services: Services, dispatcher: Dispatcher, *,
                    older_than: timedelta = timedelta(minutes=10),
                    all_pages: bool = True) -> int:
    """Re-dispatch documents whose work was lost (a worker killed mid-task, a broker
    that dropped an unacked message). Safe to run any time: the tasks are idempotent,
    and a page a live worker is reading is left to it (see ``_orphaned``).

    ``all_pages=False`` (beat's periodic sweep) re-queues, of a document already split,
    only the pages whose claim is orphaned: behind a backlog of a million pages every
    document waits without progress, and re-queueing all its pending pages at every
    sweep would add the whole backlog to the queue again each time."""
    now = datetime.now(UTC)
    lease = timedelta(seconds=page_time_limits(services.settings)[1])
    with session_scope(services.sessions) as session:
        stalled = session.scalars(select(Document.id).where(
            Document.ocr_status.in_(("queued", "ocr")), Document.updated_at <= now - older_than)
        ).all()
        session.execute(update(Document).where(Document.id.in_(stalled))
                        .values(updated_at=now))
        if all_pages:
            for doc_id in stalled:
                after_commit(session, partial(dispatcher.ocr_document, doc_id))
            return len(stalled)
        split = set(session.scalars(select(Page.document_id).where(
            Page.document_id.in_(stalled)).distinct()))
        for doc_id in stalled:
            if doc_id not in split:  # not split yet (or its split was lost): split again
                after_commit(session, partial(dispatcher.ocr_document, doc_id))
        lost = [p.id for p in session.scalars(select(Page).where(
            Page.document_id.in_(split), Page.ocr_status.in_(("running", "retrying"))))
            if _orphaned(p, now, lease)]
        for page_id in lost:
            after_commit(session, partial(dispatcher.ocr_page, page_id))
        return len(stalled) - len(split) + len(lost)


def reprocess(services: Services, dispatcher: Dispatcher, document_ids: list[int], *,
              actor: str = "system", engine: str | None = None) -> int:
    """Throw away OCR results and read the documents again (after an engine upgrade).
    ``engine`` names the OCR engine for this run; None goes back to the settings."""
    if engine:  # an unknown name fails here, before any result is thrown away
        choose_engine(services.settings.ocr_engine, {}, requested=engine)
    n = 0
    with session_scope(services.sessions) as session:
        for doc_id in document_ids:
            doc = session.get(Document, doc_id)
            if doc is None:
                continue
            for p in list(doc.pages):
                session.delete(p)
            doc.ocr_status, doc.ocr_error, doc.page_count = "queued", "", 0
            doc.searchable_pdf_key = None
            doc.ocr_engine = engine or ""
            audit.record(session, actor=actor, action="ocr_reprocess", entity="document",
                         entity_id=doc_id, data={"engine": engine} if engine else None)
            after_commit(session, partial(dispatcher.ocr_document, doc_id))
            n += 1
        return n
