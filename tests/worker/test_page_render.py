"""A PDF page that poppler must render (born-digital text, vector, several images) is
rendered by its own page task, not serially in the split task (issue 18): the split
stores the scanner images only, and the document is read all the same."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from dms.services.fsck import run_fsck
from dms.services.ocr_flow import RENDERED_SUFFIX, prepare_document
from tests.worker.conftest import WorkerSystem, save_pdf, small_page

pytestmark = pytest.mark.slow


def text_page_pdf(path: Path) -> Path:
    """A small born-digital page: text in a CID font, nothing a scanner made."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=(300, 90))
    c.setFont("STSong-Light", 16)
    c.drawString(20, 55, "供用电合同 第二页")
    c.drawString(20, 25, "户名 李四 户号 3301000002")
    c.showPage()
    c.save()
    return path


def test_text_pages_are_rendered_by_their_page_tasks(
        worker_system: Callable[..., WorkerSystem], tmp_path: Path) -> None:
    system = worker_system()
    scan = save_pdf([small_page(1)], tmp_path / "scan.pdf")
    src = tmp_path / "mixed.pdf"
    with pikepdf.open(scan) as a, pikepdf.open(text_page_pdf(tmp_path / "text.pdf")) as b:
        a.pages.append(b.pages[0])
        a.save(src)
    doc_id = system.add_document(src)  # queued; no worker runs yet
    # The split, as the split task runs it: the scan stored, the text page left to render.
    assert prepare_document(system.services, doc_id, system.dispatcher) == 2
    store = system.services.store
    first, second = system.pages(doc_id)
    assert store.exists(first.image_key)
    assert second.image_key.endswith(RENDERED_SUFFIX) and not store.exists(second.image_key)
    assert second.dpi == system.settings.ocr_dpi
    assert "户号" in second.existing_text  # the text layer is still read at the split
    # fsck does not miss an image the page task has yet to render.
    assert [p.kind for p in run_fsck(system.services, quick=True).problems
            if p.kind == "page_image_missing"] == []

    system.start_worker(concurrency=1)
    doc = system.wait_finished(doc_id)
    assert doc.ocr_status == "done", doc.ocr_error
    first, second = system.pages(doc_id)
    assert "合同" in first.text
    assert "合同" in second.text and "3301000002" in second.text.replace(" ", "")
    # Read once each, and the rendered image was a work file like any page image.
    assert [p.attempts for p in (first, second)] == [1, 1]
    assert list(store.iter_keys("pages/")) == []
