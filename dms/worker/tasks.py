"""The OCR tasks: split a document, read a page, finalize a document, sweep stalled work.

Thin adapters around ``dms.services.ocr_flow``; retries, acks and limits are the
decorator's (:mod:`dms.worker.task`). The service records a failure on the page (or on
the document when it cannot even be split) on the final attempt instead of losing it.
"""
from __future__ import annotations

from datetime import timedelta

from dms.services import ocr_flow
from dms.worker import preload  # noqa: F401  (the worker's start-up hooks)
from dms.worker.task import TaskContext, dms_task


@dms_task("dms.ocr_document")
def ocr_document(ctx: TaskContext, document_id: int) -> None:
    ocr_flow.prepare_document(ctx.services, document_id, ctx.dispatcher,
                              final_attempt=ctx.final_attempt)


@dms_task("dms.ocr_page")
def ocr_page(ctx: TaskContext, page_id: int) -> None:
    ocr_flow.ocr_page(ctx.services, page_id, ctx.dispatcher, final_attempt=ctx.final_attempt)


@dms_task("dms.finalize_document")
def finalize_document(ctx: TaskContext, document_id: int) -> None:
    ocr_flow.finalize_document(ctx.services, document_id)


@dms_task("dms.requeue_stalled")
def requeue_stalled(ctx: TaskContext) -> int:
    older = timedelta(seconds=ctx.services.settings.ocr_stalled_after_s)
    return ocr_flow.requeue_stalled(ctx.services, ctx.dispatcher, older_than=older,
                                    all_pages=False)
