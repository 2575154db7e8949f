"""Celery tasks: thin adapters around ``dms.services.ocr_flow``.

Tasks take IDs, are idempotent, ack late, and translate errors in one place:
an ``OcrError`` that can be retried is retried with exponential backoff; the
last attempt records the failure (on the page, or on the document when it cannot
even be split into pages) instead of losing the document.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task, current_app, shared_task

from dms.errors import OcrError, StorageError
from dms.services import indexing, ocr_flow
from ocr_worker.celery_app import services_for

log = logging.getLogger(__name__)


class CeleryDispatcher:
    """The production Dispatcher: sends tasks by name through the configured broker."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def ocr_document(self, document_id: int) -> None:
        self.app.send_task("dms.ocr_document", args=[document_id])

    def ocr_page(self, page_id: int) -> None:
        self.app.send_task("dms.ocr_page", args=[page_id])

    def finalize_document(self, document_id: int) -> None:
        self.app.send_task("dms.finalize_document", args=[document_id])

    def reindex_documents(self, document_ids: list[int]) -> None:
        self.app.send_task("dms.reindex_documents", args=[list(document_ids)])


def _ctx(task: Task) -> tuple[Any, CeleryDispatcher]:
    app = task.app if task.app is not None else current_app
    return services_for(app), CeleryDispatcher(app)


# An object store that is down or full (S3 stopped, disk full) is not the document's
# fault: its own, longer retry budget (5 s doubling to 5 min: about 35 min), after which
# the beat's requeue of stalled work takes over. Nothing is marked failed for it.
STORAGE_RETRIES = 12


def _retry_storage(task: Task, exc: StorageError, what: str) -> Exception:
    log.warning("%s: object store unavailable: %s (attempt %s)", what, exc,
                task.request.retries + 1)
    return task.retry(exc=exc, countdown=_backoff(task.request.retries),
                      max_retries=STORAGE_RETRIES)


@shared_task(bind=True, name="dms.ocr_document", acks_late=True)
def ocr_document(self: Task, document_id: int) -> None:
    services, dispatcher = _ctx(self)
    max_retries = services.settings.ocr_max_retries
    try:
        ocr_flow.prepare_document(services, document_id, dispatcher,
                                  final_attempt=self.request.retries >= max_retries)
    except StorageError as exc:
        raise _retry_storage(self, exc, f"document {document_id}") from exc
    except OcrError as exc:
        log.warning("document %s: %s (attempt %s)", document_id, exc, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries),
                         max_retries=max_retries) from exc


@shared_task(bind=True, name="dms.ocr_page", acks_late=True)
def ocr_page(self: Task, page_id: int) -> None:
    services, dispatcher = _ctx(self)
    max_retries = services.settings.ocr_max_retries
    try:
        ocr_flow.ocr_page(services, page_id, dispatcher,
                          final_attempt=self.request.retries >= max_retries)
    except StorageError as exc:
        raise _retry_storage(self, exc, f"page {page_id}") from exc
    except OcrError as exc:
        log.warning("page %s: %s (attempt %s)", page_id, exc, self.request.retries + 1)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries),
                         max_retries=max_retries) from exc


@shared_task(bind=True, name="dms.finalize_document", max_retries=5, acks_late=True)
def finalize_document(self: Task, document_id: int) -> None:
    services, _ = _ctx(self)
    try:
        ocr_flow.finalize_document(services, document_id)
    except StorageError as exc:
        raise _retry_storage(self, exc, f"finishing document {document_id}") from exc
    except OcrError as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, name="dms.reindex_documents", acks_late=True, max_retries=None)
def reindex_documents(self: Task, document_ids: list[int]) -> None:
    """Index updates that failed after their commit (the index locked, down or full):
    retried with backoff, without limit, until the index takes them; each retry rebuilds
    the entries from the rows as they are then, so a late retry never writes stale data."""
    services, _ = _ctx(self)
    failed = indexing.reindex_documents(services, document_ids)
    if failed:
        log.warning("index still unavailable for documents %s (attempt %s)", failed,
                    self.request.retries + 1)
        raise self.retry(args=[failed], countdown=_backoff(
            self.request.retries, services.settings.index_retry_max_s))


@shared_task(bind=True, name="dms.requeue_stalled", acks_late=True)
def requeue_stalled(self: Task) -> int:
    services, dispatcher = _ctx(self)
    return ocr_flow.requeue_stalled(services, dispatcher)


def _backoff(retries: int, longest: int = 300) -> int:
    return int(min(longest, 5 * 2 ** retries))
