"""The searchable PDF of a document, as users download it.

What the store holds under ``documents.searchable_pdf_key`` is either the whole PDF or,
for scans (key ending ``.slim.pdf``), the PDF without the scan images the original
already holds (``ocr_worker/pdf_slim.py``): those are put back from the original here,
on request, so the archive keeps each scan's bytes once.
"""
from __future__ import annotations

from pathlib import Path

from dms.services.container import Services
from ocr_worker.pdf_slim import restore

SLIM_SUFFIX = ".slim.pdf"


def searchable_key(sha256: str, *, slim: bool) -> str:
    return f"searchable/{sha256[:2]}/{sha256}{SLIM_SUFFIX if slim else '.pdf'}"


def fetch_searchable_pdf(services: Services, *, searchable_pdf_key: str, original_key: str,
                         work_dir: Path) -> Path:
    """The full searchable PDF in ``work_dir`` (restored from the original if slim)."""
    local = work_dir / "searchable-stored.pdf"
    services.store.download(searchable_pdf_key, local)
    if not searchable_pdf_key.endswith(SLIM_SUFFIX):
        return local
    original = work_dir / "original"
    services.store.download(original_key, original)
    return restore(local, original, work_dir / "searchable.pdf")
