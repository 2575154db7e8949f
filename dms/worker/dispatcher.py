"""The production Dispatcher: sends tasks by name through the configured broker.

Names only, never the task functions: the web and the CLI send work without importing
the tasks (nor the OCR library they reach); the queue comes from ``task_routes``.
"""
from __future__ import annotations

from celery import Celery


class CeleryDispatcher:
    def __init__(self, app: Celery) -> None:
        self.app = app

    def ocr_document(self, document_id: int) -> None:
        self.app.send_task("dms.ocr_document", args=[document_id])

    def ocr_page(self, page_id: int) -> None:
        self.app.send_task("dms.ocr_page", args=[page_id])

    def finalize_document(self, document_id: int) -> None:
        self.app.send_task("dms.finalize_document", args=[document_id])
