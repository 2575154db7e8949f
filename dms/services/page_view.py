"""The image of a page the document viewer shows, once the OCR work files are gone.

Page images are work files of OCR (``settings.keep_page_artifacts``): once a document's
searchable PDF is assembled they are deleted, and that PDF holds the same scan bytes.
The viewer's image is then taken from it on first view -- a JPEG as stored, any other
codec as PNG -- and kept under ``view/`` (deleted with the document), so the store only
holds a second copy of the pages people actually look at.
"""
from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from dms.errors import NotFoundError
from dms.services.container import Services
from dms.services.searchable_pdf import fetch_searchable_pdf
from dms.storage import page_image_mime
from ocr_worker.pdf_image import browser_image, page_scan_image

_SHOWN_AS_IS = (".jpg", ".jpeg", ".png")
_VIEW_SUFFIXES = (".jpg", ".png")


def view_keys(sha256: str, page_no: int) -> list[str]:
    """Every key a cached view image of the page may have (for deletion)."""
    return [f"view/{sha256[:2]}/{sha256}/{page_no:04d}{s}" for s in _VIEW_SUFFIXES]


def page_view_key(services: Services, *, sha256: str, page_no: int, image_key: str,
                  searchable_pdf_key: str | None, original_key: str) -> tuple[str, str]:
    """(store key, media type) of an image of the page a browser shows."""
    store = services.store
    if PurePosixPath(image_key).suffix.lower() in _SHOWN_AS_IS and store.exists(image_key):
        return image_key, page_image_mime(image_key)
    for key in view_keys(sha256, page_no):
        if store.exists(key):
            return key, page_image_mime(key)
    with tempfile.TemporaryDirectory(prefix="dms-view-") as tmp:
        if store.exists(image_key):  # kept work file in a format browsers do not show
            local = Path(tmp) / f"page{PurePosixPath(image_key).suffix}"
            store.download(image_key, local)
            data, suffix = browser_image(local)
        elif searchable_pdf_key:
            local = fetch_searchable_pdf(services, searchable_pdf_key=searchable_pdf_key,
                                         original_key=original_key, work_dir=Path(tmp))
            data, suffix = page_scan_image(local, page_no)
        else:
            raise NotFoundError(f"page {page_no} has no image yet")
    key = f"view/{sha256[:2]}/{sha256}/{page_no:04d}{suffix}"
    store.put_bytes(key, data, page_image_mime(key))
    return key, page_image_mime(key)
