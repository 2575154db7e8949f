"""An in-process Dispatcher for tests and benchmarks that remembers what it was asked to
do (the web app needs one; the OCR work itself is not what these runs exercise)."""
from __future__ import annotations


class RecordingDispatcher:
    def __init__(self) -> None:
        self.ocr_documents: list[int] = []
        self.ocr_pages: list[int] = []
        self.finalized: list[int] = []

    def ocr_document(self, document_id: int) -> None:
        self.ocr_documents.append(document_id)

    def ocr_page(self, page_id: int) -> None:
        self.ocr_pages.append(page_id)

    def finalize_document(self, document_id: int) -> None:
        self.finalized.append(document_id)
