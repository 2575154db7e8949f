"""The queue seam: how services ask for background work, without importing Celery."""
from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    def ocr_document(self, document_id: int) -> None: ...

    def ocr_page(self, page_id: int) -> None: ...

    def finalize_document(self, document_id: int) -> None: ...
