"""A scanner's PDF through real workers: read at its own resolution, the searchable PDF
carries the scan's own bytes, and the work files are gone once the document is done."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from dms.services.page_view import page_view_key
from dms.services.page_words import decode_words
from dms.services.searchable_pdf import fetch_searchable_pdf
from ocr_worker.text_layer import page_images
from tests.worker.conftest import WorkerSystem, small_page

pytestmark = pytest.mark.slow

DPI = 200


def scanner_pdf(tmp_path: Path, n: int) -> Path:
    """``n`` grey pages at 200 dpi, JPEG-compressed: what a scan station writes."""
    pages = [small_page(i).resize((700, 182)).convert("L") for i in range(1, n + 1)]
    path = tmp_path / "scan.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=float(DPI))
    return path


def jpeg_streams(pdf_path: Path) -> list[bytes]:
    with pikepdf.open(pdf_path) as pdf:
        out = []
        for page in pdf.pages:
            (image,) = page_images(page)
            assert image.get("/Filter") in (pikepdf.Name.DCTDecode,
                                            pikepdf.Array([pikepdf.Name.DCTDecode]))
            out.append(image.read_raw_bytes())
        return out


def test_scanner_pdf_is_stored_once_and_work_files_are_deleted(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    system = worker_system()
    src = scanner_pdf(tmp_path, 2)
    system.start_worker(concurrency=1)
    doc_id = system.add_document(src)
    doc = system.wait_finished(doc_id)
    assert doc.ocr_status == "done", doc.ocr_error
    pages = system.pages(doc_id)
    assert [p.dpi for p in pages] == [DPI, DPI]  # the page size's DPI, told to the engine
    assert all("合同" in p.text for p in pages)

    store = system.services.store
    # Stored without the scan images (the original holds them): text, fonts, structure.
    assert doc.searchable_pdf_key and doc.searchable_pdf_key.endswith(".slim.pdf")
    assert store.size(doc.searchable_pdf_key) < 2 * 40_000
    searchable = fetch_searchable_pdf(system.services, searchable_pdf_key=doc.searchable_pdf_key,
                                      original_key=doc.original_key, work_dir=tmp_path)
    assert jpeg_streams(searchable) == jpeg_streams(src)  # the scan's bytes, not a PNG
    # No larger than the original plus its text layer: the images are the same bytes, so
    # what it adds is text, fonts and structure, a few KB a page.
    assert searchable.stat().st_size < src.stat().st_size + 2 * 40_000

    # Work files deleted after assembly; the word boxes kept, compressed.
    assert all(not store.exists(p.image_key) for p in pages)
    assert all(p.page_pdf_key is None for p in pages)
    assert [k for k in store.iter_keys("pages/")] == []
    words = decode_words(store.get_bytes(pages[0].words_key or ""))
    assert pages[0].words_key and pages[0].words_key.endswith(".gz") and words

    # The viewer's image comes from the searchable PDF: the page's JPEG as scanned.
    key, mime = page_view_key(system.services, sha256=doc.sha256, page_no=2,
                              image_key=pages[1].image_key,
                              searchable_pdf_key=doc.searchable_pdf_key,
                              original_key=doc.original_key)
    assert mime == "image/jpeg" and store.get_bytes(key) == jpeg_streams(src)[1]
    assert page_view_key(system.services, sha256=doc.sha256, page_no=2,
                         image_key=pages[1].image_key,
                         searchable_pdf_key=None, original_key="") == (key, mime)  # cached


def test_kept_work_files_on_request(worker_system: Callable[..., WorkerSystem],
                                    tmp_path: Path) -> None:
    system = worker_system(DMS_KEEP_PAGE_ARTIFACTS="1")
    src = tmp_path / "fax.tif"
    bilevel = small_page(1).point(lambda v: 255 if v > 128 else 0, mode="1")
    bilevel.save(src, compression="group4", dpi=(DPI, DPI))
    system.start_worker(concurrency=1)
    doc_id = system.add_document(src)
    doc = system.wait_finished(doc_id)
    assert doc.ocr_status == "done", doc.ocr_error
    (page,) = system.pages(doc_id)
    store = system.services.store
    assert page.image_key.endswith(".tif") and store.exists(page.image_key)
    assert page.page_pdf_key and store.exists(page.page_pdf_key)
    # A G4 page is no image for a browser: shown as PNG, made once.
    key, mime = page_view_key(system.services, sha256=doc.sha256, page_no=1,
                              image_key=page.image_key,
                              searchable_pdf_key=doc.searchable_pdf_key,
                              original_key=doc.original_key)
    assert mime == "image/png"
    local = tmp_path / "view.png"
    store.download(key, local)
    with Image.open(local) as im:
        assert im.size == bilevel.size
